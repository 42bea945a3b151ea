//! ACM: certificates for the account's domains, validated through DNS for real and issued by m2sec's
//! CA. [`validation`] says which CNAME proves control of a domain and whether it is in place;
//! [`certificate`] is a certificate's record and its validation life. Handlers are grouped by
//! resource area:
//!
//! | file | operations |
//! |------|------------|
//! | `certificates.rs` | RequestCertificate, DescribeCertificate, ListCertificates, GetCertificate, DeleteCertificate, ImportCertificate, ExportCertificate, RenewCertificate, RevokeCertificate, UpdateCertificateOptions |
//! | `tags.rs` | AddTagsToCertificate, RemoveTagsFromCertificate, ListTagsForCertificate |
//! | `account.rs` | GetAccountConfiguration, PutAccountConfiguration |
//! | `in_use.rs` | what services that use certificates see (InUseBy, the material the edge serves) |
//! | `jobs.rs` | the background job: issuance once validated, timeouts, managed renewal |
//!
//! `service.rs` holds the service (loading and saving records, the CA, the dispatch table),
//! `records.rs` what is stored, `shapes.rs` the typed requests and answers, `operations.rs` the operation list checked against the model, and
//! `error.rs` the error enum.

mod account;
pub mod certificate;
mod certificates;
pub mod error;
pub mod in_use;
mod jobs;
pub mod operations;
mod records;
pub mod service;
pub mod shapes;
mod tags;
pub mod validation;

pub use jobs::JobReport;
