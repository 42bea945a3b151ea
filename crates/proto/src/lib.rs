//! AWS wire formats shared by every m2sec service: the awsJson1.1 protocol ([`json`]), the awsQuery
//! protocol ([`query`]), request validation driven by botocore's service models ([`model`]), SigV4
//! verification ([`sigv4`]), ARNs ([`arn`]) and the error scheme ([`AwsError`]).
//!
//! Nothing here sees key material or storage.

pub mod arn;
mod error;
pub mod json;
pub mod model;
pub mod query;
pub mod query_service;
pub mod sigv4;

pub use error::AwsError;

/// A random UUID (v4), as AWS request and event ids, from aws-lc's user-space generator
/// (`Uuid::new_v4` would make a `getrandom` system call each time).
pub fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("system random source failed");
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Who is calling and where, as established by authentication. Services get this instead of HTTP.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub account: String,
    /// From the SigV4 credential scope.
    pub region: String,
    pub principal_arn: String,
    pub access_key_id: String,
    pub request_id: String,
    pub caller: Caller,
    /// The operation called, as named in the service model (`Encrypt`).
    pub operation: String,
    /// The client's address, for `aws:SourceIp`.
    pub source_ip: Option<String>,
    /// The client's `User-Agent`, for the trail.
    pub user_agent: Option<String>,
    /// The resources the call acted on, for its trail event.
    pub resources: Touched,
}

impl RequestContext {
    /// Notes that the call acts on `arn` (a resource of CloudTrail type `kind`, `AWS::KMS::Key`).
    pub fn touch(&self, kind: &'static str, arn: &str) {
        let mut list = self.resources.0.lock().expect("touched resources lock");
        if !list.iter().any(|r| r.arn == arn) {
            list.push(TouchedResource {
                kind,
                arn: arn.to_string(),
            });
        }
    }

    /// The resources noted with [`RequestContext::touch`], in order.
    pub fn touched(&self) -> Vec<TouchedResource> {
        self.resources
            .0
            .lock()
            .expect("touched resources lock")
            .clone()
    }
}

/// A resource a call acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchedResource {
    /// CloudTrail's resource type (`AWS::KMS::Key`).
    pub kind: &'static str,
    pub arn: String,
}

/// The resources a call acted on (filled in as the service resolves them).
#[derive(Debug, Default)]
pub struct Touched(std::sync::Mutex<Vec<TouchedResource>>);

impl Clone for Touched {
    fn clone(&self) -> Self {
        Touched(std::sync::Mutex::new(
            self.0.lock().expect("touched resources lock").clone(),
        ))
    }
}

/// The kind of principal behind a request, which decides whose policies apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The account root (the first-start admin key): every identity-based permission.
    Root,
    /// An IAM user.
    User { name: String },
    /// A session of an assumed role.
    Role {
        role_arn: String,
        role_name: String,
        session_name: String,
    },
}
