//! Signing as a client (m2sec's own command line): the same canonical request and key derivation as
//! verification, so a signature made here verifies there.

use chrono::{DateTime, Utc};
use http::HeaderMap;

use super::{
    canonical_request, fmt_amz, fmt_scope_date, signature, signing_key, string_to_sign, Claim,
    RequestParts, ALGORITHM, TERMINATOR,
};

/// Credentials a client signs with.
pub struct Credentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a [u8],
    pub session_token: Option<&'a str>,
}

/// Signs a request: adds `x-amz-date`, the session token
/// if any, and the `Authorization` header over `host`, `x-amz-*` and `content-type`. The same
/// canonical request and key derivation as verification, so a signature made here verifies there.
pub fn sign(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &mut HeaderMap,
    body: &[u8],
    credentials: &Credentials<'_>,
    region: &str,
    service: &str,
    now: DateTime<Utc>,
) {
    let amz = fmt_amz(now);
    headers.insert(
        "x-amz-date",
        http::HeaderValue::from_str(&amz).expect("an ASCII date"),
    );
    if let Some(token) = credentials.session_token {
        if let Ok(v) = http::HeaderValue::from_str(token) {
            headers.insert("x-amz-security-token", v);
        }
    }
    let mut signed: Vec<String> = headers
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k == "host" || k == "content-type" || k.starts_with("x-amz-"))
        .collect();
    signed.sort();
    signed.dedup();
    let claim = Claim {
        access_key_id: credentials.access_key_id.to_string(),
        date: fmt_scope_date(now),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers: signed,
        signature: String::new(),
        amz_date: now,
        security_token: credentials.session_token.map(str::to_string),
        presigned: None,
    };
    let parts = RequestParts {
        method,
        path,
        query,
        headers,
        body,
    };
    let canonical = canonical_request(&parts, &claim);
    let key = signing_key(credentials.secret_access_key, &claim.date, region, service);
    let signature = signature(&key[..], &string_to_sign(&claim, &canonical));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{}/{region}/{service}/{TERMINATOR}, SignedHeaders={}, Signature={signature}",
        credentials.access_key_id,
        claim.date,
        claim.signed_headers.join(";")
    );
    headers.insert(
        "authorization",
        http::HeaderValue::from_str(&authorization).expect("an ASCII header"),
    );
}
