//! Route53 hosted zones and their record sets. [`zone`] holds the model and what a change batch does to
//! it (with Route53's own refusals), [`rdata`] each record type's value format; the API on top of it
//! and m2sec's DNS server read the same zones.

pub mod api;
pub mod error;
pub mod names;
pub mod operations;
pub mod rdata;
pub mod store;
pub mod zone;
