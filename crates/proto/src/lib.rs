//! AWS wire formats shared by every m2sec service: the awsJson 1.0 and 1.1 protocols ([`json`]), the
//! awsQuery protocol ([`query`]), the restXml protocol ([`rest_xml`]), the restJson1 protocol
//! ([`rest_json`]), request validation driven by botocore's service models ([`model`]), SigV4
//! verification ([`sigv4`]), ARNs ([`arn`]), the error scheme ([`AwsError`]) and in-process calls to the
//! services ([`services`]).
//!
//! Nothing here sees key material or storage.

pub mod arn;
mod error;
pub mod json;
pub mod model;
pub mod operations;
pub mod query;
pub mod query_service;
mod rest;
pub mod rest_json;
pub mod rest_xml;
pub mod services;
pub mod sigv4;
mod xml_in;
mod xml_out;

pub use error::{AwsError, ServiceError, INTERNAL_MESSAGE};

/// A random-looking UUID (v4 layout), as AWS request and event ids. They only need to be unique, not
/// secret: each thread draws a 128-bit seed once from aws-lc's generator and then mixes a counter into it
/// (SplitMix64), which costs a few nanoseconds instead of a hardware random draw per id.
pub fn random_uuid() -> String {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<(u64, u64, u64)> = Cell::new({
            let mut seed = [0u8; 16];
            aws_lc_rs::rand::fill(&mut seed).expect("system random source failed");
            (
                u64::from_le_bytes(seed[..8].try_into().expect("8 bytes")),
                u64::from_le_bytes(seed[8..].try_into().expect("8 bytes")),
                0,
            )
        });
    }
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let (a, b, n) = STATE.with(|s| {
        let (a, b, n) = s.get();
        s.set((a, b, n.wrapping_add(1)));
        (a, b, n)
    });
    let high = mix(a.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    let low = mix(b ^ n.wrapping_mul(0xc2b2_ae3d_27d4_eb4f));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_le_bytes());
    bytes[8..].copy_from_slice(&low.to_le_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_v4_uuids() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| super::random_uuid()).collect();
        assert_eq!(ids.len(), 10_000);
        let id = ids.iter().next().unwrap();
        let parsed = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        let other_thread = std::thread::spawn(super::random_uuid).join().unwrap();
        assert!(!ids.contains(&other_thread));
    }
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
