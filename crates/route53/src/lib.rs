//! Route53 hosted zones and their record sets. [`zone`] holds the model and what a change batch does to
//! it (with Route53's own refusals), [`rdata`] each record type's value format; the API on top of it
//! and m2sec's DNS server read the same zones. The API's handlers are grouped by resource area:
//!
//! | file | operations |
//! |------|------------|
//! | `zones.rs` | CreateHostedZone, GetHostedZone, ListHostedZones, ListHostedZonesByName, DeleteHostedZone, GetHostedZoneCount, UpdateHostedZoneComment |
//! | `record_sets.rs` | ChangeResourceRecordSets, ListResourceRecordSets, GetChange |
//!
//! `service.rs` holds the service (the model, shared helpers, authorization, the dispatch table),
//! `shapes.rs` the typed requests and answers, `store.rs` how zones are stored, `names.rs` domain
//! names, `operations.rs` the operation list checked against the model, and `error.rs` the error enum.

pub mod error;
pub mod names;
pub mod operations;
pub mod rdata;
mod record_sets;
pub mod service;
pub mod shapes;
pub mod store;
pub mod zone;
mod zones;

pub use service::{model, Route53, NAME_SERVERS};

/// The service under its earlier path (`m2sec_route53::api::Route53`, `m2sec_route53::api::model`).
pub mod api {
    pub use crate::service::{model, Route53, NAME_SERVERS};
}
