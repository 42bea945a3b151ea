//! ACM: certificates for the account's domains, validated through DNS for real and issued by m2sec's
//! CA. [`validation`] says which CNAME proves control of a domain and whether it is in place;
//! [`certificate`] is a certificate's record and its validation life.

pub mod certificate;
pub mod service;
pub mod validation;
