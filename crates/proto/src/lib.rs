//! AWS wire formats shared by every m2sec service: the awsJson1.1 protocol ([`json`]), request
//! validation driven by botocore's service models ([`model`]), SigV4 verification ([`sigv4`]),
//! ARNs ([`arn`]) and the error scheme ([`AwsError`]).
//!
//! Nothing here sees key material or storage.

pub mod arn;
mod error;
pub mod json;
pub mod model;
pub mod sigv4;

pub use error::AwsError;

/// Who is calling and where, as established by authentication. Services get this instead of HTTP.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub account: String,
    /// From the SigV4 credential scope.
    pub region: String,
    pub principal_arn: String,
    pub access_key_id: String,
    pub request_id: String,
}
