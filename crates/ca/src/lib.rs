//! The certificate authority behind ACM.
//!
//! - [`Ca`]: a root CA (self-signed, EC P-384, 10 years) and two intermediate CAs signed by it
//!   (`pathlen:0`, 5 years): an EC P-384 one and an RSA-2048 one, created at first use (a CA stored
//!   before the RSA intermediate existed gets it when next opened). Their private keys are stored only
//!   wrapped by the root key; their certificates as PEM. [`Ca::issue`] signs leaf certificates (what
//!   ACM's RequestCertificate produces) with the intermediate of the leaf's key family, as ACM does:
//!   RSA leaves SHA256WITHRSA, EC leaves SHA384WITHECDSA.
//! - [`export_encrypted_pkcs8`]: a leaf's private key as an encrypted PKCS#8 PEM (ACM's ExportCertificate).
//! - [`inspect_import`]: checks a certificate, its private key and chain for ACM's ImportCertificate.
//!
//! Errors ([`CaError`]) are sentences a person can act on and never contain key material; nothing in
//! this crate that holds a private key prints it through `Debug`.

mod authority;
mod export;
mod import;
mod names;

pub use authority::{Ca, IssueRequest, Issued, DEFAULT_VALIDITY_DAYS};
pub use export::export_encrypted_pkcs8;
pub use import::{inspect_import, Imported};
pub use names::KeyAlgorithm;

/// Why a CA operation failed. Messages name the problem, never a key.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The request is invalid (a bad domain name, a zero validity, …); the message says what to fix.
    #[error("{0}")]
    InvalidRequest(String),
    /// A certificate, key or chain given to ImportCertificate or ExportCertificate is unusable.
    #[error("{0}")]
    InvalidInput(String),
    /// The stored CA is unreadable or inconsistent (corrupt settings, or another root key).
    #[error("certificate authority: {0}")]
    Authority(String),
    /// Generating a key or signing failed.
    #[error("certificate authority: {0}")]
    Crypto(String),
    /// The store failed; the operation may be retried.
    #[error(transparent)]
    Store(#[from] m2sec_store::StoreError),
}

pub(crate) use m2sec_store::now_ms;
