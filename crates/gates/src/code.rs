//! Ticket codes: signed by the tickets' KMS key, checked against it.
//!
//! A code is `M2T1.` + base64url(payload) + `.` + base64url(signature), short enough for a QR
//! code. The payload is compact JSON, [`TicketClaims`] under one-letter names, with no personal
//! data in clear: a fan is named only by [`fan_hash`]. The signature is KMS `Sign` (ECDSA P-256,
//! SHA-256, `RAW`) over the bytes of `M2T1.<payload>`, made with the key `TICKETS_KEY` names
//! (default `alias/can2025-tickets`).
//!
//! The payload names the signing key's ARN (`k`), which it must carry before it is signed: the
//! ARN is resolved first with `DescribeKey` and kept for [`KEY_CACHE_AGE`], and `Sign` is then
//! called with that ARN rather than the alias, so that `k` is the key that signed even if the alias
//! is moved meanwhile.
//!
//! A code is accepted when it parses, its `k` is the current key or one of
//! `TICKETS_PREVIOUS_KEYS` (each resolved the same way; a key that no longer exists is skipped),
//! and its signature verifies under that key's public key. The public key is fetched with KMS
//! `GetPublicKey` as the role and kept for [`KEY_CACHE_AGE`]; the signature is then checked here,
//! as AWS advises for verification at volume, instead of one KMS `Verify` call per scan. What
//! that changes: a key disabled or scheduled for deletion keeps verifying codes in a process that
//! fetched its public key until the cache entry expires (at most a minute), as every offline
//! verifier does with a public key it holds. After an alias is moved to a new key, a
//! process that resolved it within the last minute keeps both signing and accepting with the old
//! one until its cache entry expires; codes of the old key stay valid only while it is listed in
//! `TICKETS_PREVIOUS_KEYS`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_ASN1};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use m2sec_proto::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::role::AsRole;
use crate::{Function, Gates};

/// What every code starts with: the format and its version.
pub(crate) const PREFIX: &str = "M2T1.";
/// The tickets' key when `TICKETS_KEY` is not set.
pub(crate) const DEFAULT_TICKETS_KEY: &str = "alias/can2025-tickets";
/// Longer codes are refused unread (a QR code holds at most 2,953 bytes).
pub(crate) const MAX_CODE_CHARS: usize = 4096;
/// How long a resolved key ARN, or a key's public key, is used before KMS is asked again.
pub(crate) const KEY_CACHE_AGE: Duration = Duration::from_secs(60);
/// An ECDSA P-256 signature in DER is at most 72 bytes; anything much longer is not one.
const MAX_SIGNATURE_BYTES: usize = 256;
const SIGNING_ALGORITHM: &str = "ECDSA_SHA_256";

/// What a ticket code says, as its payload's JSON names it (in this order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicketClaims {
    #[serde(rename = "t")]
    pub ticket_id: String,
    #[serde(rename = "m")]
    pub match_id: String,
    #[serde(rename = "s")]
    pub sector: String,
    /// The gates of the ticket's sector when it was issued.
    #[serde(rename = "g")]
    pub gates: Vec<String>,
    /// Seconds since the epoch.
    #[serde(rename = "f")]
    pub valid_from: i64,
    /// Seconds since the epoch.
    #[serde(rename = "u")]
    pub valid_until: i64,
    /// [`fan_hash`] of the ticket's fan, if it names one.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub fan_hash: Option<String>,
    /// The ARN of the KMS key that signed the code.
    #[serde(rename = "k")]
    pub key_id: String,
}

/// Why a code is not accepted.
// What `check` answers to the scan routes of `verify.rs`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CodeError {
    /// Not a code (format, payload), signed by a key that is not allowed, or a bad signature.
    #[error("invalid ticket code")]
    Invalid,
    /// KMS could not say (unavailable, access denied, the key disabled): the request fails (500).
    #[error("ticket code not checked: {}", .0.code)]
    Unavailable(AwsError),
}

/// base64url, unpadded, of the first 16 bytes of SHA-256(`ticket_id:fan_id`): ties a ticket to a
/// fan id without carrying the id, and differs per ticket so that codes of one fan are not linked.
pub(crate) fn fan_hash(ticket_id: &str, fan_id: &str) -> String {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(ticket_id.as_bytes());
    context.update(b":");
    context.update(fan_id.as_bytes());
    URL_SAFE_NO_PAD.encode(&context.finish().as_ref()[..16])
}

/// A code for `claims` (whose `key_id` is replaced by the signing key's ARN), signed with the
/// tickets' key; answers the code and that ARN.
pub(crate) async fn sign(
    gates: &Gates,
    as_role: &AsRole<'_>,
    function: &Function,
    claims: &TicketClaims,
) -> Result<(String, String), AwsError> {
    let key = tickets_key(function);
    let key_arn = gates.ticket_keys.arn(as_role, key).await?.ok_or_else(|| {
        AwsError::new("NotFoundException", 400, format!("{key} names no KMS key"))
    })?;
    let claims = TicketClaims {
        key_id: key_arn.clone(),
        ..claims.clone()
    };
    let payload = serde_json::to_vec(&claims).expect("claims serialize");
    let message = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(payload));
    let output = as_role
        .call(
            "kms",
            "Sign",
            json!({
                "KeyId": key_arn,
                "Message": STANDARD.encode(&message),
                "MessageType": "RAW",
                "SigningAlgorithm": SIGNING_ALGORITHM,
            }),
        )
        .await?;
    let signature = output["Signature"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AwsError::new("InternalFailure", 500, "Sign answered no signature"))?;
    if output["KeyId"].as_str() != Some(key_arn.as_str()) {
        return Err(AwsError::new(
            "InternalFailure",
            500,
            "Sign answered for another key than the one asked",
        ));
    }
    let code = format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature));
    Ok((code, key_arn))
}

/// The claims of `code` if it is a code signed by an allowed key.
// The scan routes of `verify.rs` call it.
pub(crate) async fn check(
    gates: &Gates,
    as_role: &AsRole<'_>,
    function: &Function,
    code: &str,
) -> Result<TicketClaims, CodeError> {
    let parsed = parse(code).ok_or(CodeError::Invalid)?;
    if !allowed(gates, as_role, function, &parsed.claims.key_id).await? {
        return Err(CodeError::Invalid);
    }
    let public_key = gates
        .ticket_keys
        .public_key(as_role, &parsed.claims.key_id)
        .await
        .map_err(CodeError::Unavailable)?;
    let Some(public_key) = public_key else {
        tracing::warn!(function = %function.name, key = %parsed.claims.key_id,
            "a tickets key is not an ECC_NIST_P256 signing key; its codes are refused");
        return Err(CodeError::Invalid);
    };
    public_key
        .verify_sig(parsed.message.as_bytes(), &parsed.signature)
        .map_err(|_| CodeError::Invalid)?;
    Ok(parsed.claims)
}

/// A code taken apart: the signed message (`M2T1.<payload>`), what it says, and its signature.
struct Parsed<'c> {
    message: &'c str,
    claims: TicketClaims,
    signature: Vec<u8>,
}

fn parse(code: &str) -> Option<Parsed<'_>> {
    if code.len() > MAX_CODE_CHARS {
        return None;
    }
    let (message, signature) = code.rsplit_once('.')?;
    let payload = message.strip_prefix(PREFIX)?;
    // Strict base64url: no padding, no other alphabet, no stray bits.
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    if signature.is_empty() || signature.len() > MAX_SIGNATURE_BYTES {
        return None;
    }
    Some(Parsed {
        message,
        claims,
        signature,
    })
}

/// The key `TICKETS_KEY` names.
fn tickets_key(function: &Function) -> &str {
    function
        .environment
        .get("TICKETS_KEY")
        .map(String::as_str)
        .filter(|k| !k.trim().is_empty())
        .unwrap_or(DEFAULT_TICKETS_KEY)
}

/// Whether `key_arn` is the tickets' key or one of `TICKETS_PREVIOUS_KEYS`.
async fn allowed(
    gates: &Gates,
    as_role: &AsRole<'_>,
    function: &Function,
    key_arn: &str,
) -> Result<bool, CodeError> {
    let current = tickets_key(function);
    match gates.ticket_keys.arn(as_role, current).await {
        Ok(Some(arn)) if arn == key_arn => return Ok(true),
        Ok(Some(_)) => {}
        // Without the current key nothing can be issued: an operator must hear of it as an error,
        // not as every fan's ticket turning invalid.
        Ok(None) => {
            return Err(CodeError::Unavailable(AwsError::new(
                "NotFoundException",
                400,
                format!("{current} names no KMS key"),
            )))
        }
        Err(e) => return Err(CodeError::Unavailable(e)),
    }
    let previous = function
        .environment
        .get("TICKETS_PREVIOUS_KEYS")
        .map(String::as_str)
        .unwrap_or_default();
    for key in previous.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        match gates.ticket_keys.arn(as_role, key).await {
            Ok(Some(arn)) if arn == key_arn => return Ok(true),
            Ok(Some(_)) => {}
            Ok(None) => {
                tracing::warn!(function = %function.name, key = %key,
                    "a key of TICKETS_PREVIOUS_KEYS does not exist")
            }
            Err(e) => return Err(CodeError::Unavailable(e)),
        }
    }
    Ok(false)
}

/// Key ids (aliases, ids, ARNs) resolved to key ARNs with `DescribeKey`, and key ARNs to their
/// public keys with `GetPublicKey`, per role, for [`KEY_CACHE_AGE`]; `None` for an id that names
/// no key, or a key that cannot have signed a code.
#[derive(Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<(String, String), Resolved>>,
    public_keys: Mutex<HashMap<(String, String), PublicKey>>,
}

struct Resolved {
    at: Instant,
    arn: Option<String>,
}

struct PublicKey {
    at: Instant,
    key: Option<Arc<ParsedPublicKey>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        f.debug_struct("KeyCache").field("entries", &count).finish()
    }
}

impl KeyCache {
    fn cached(&self, role_arn: &str, key_id: &str, now: Instant) -> Option<Option<String>> {
        let entries = self.entries.lock().expect("key cache lock");
        entries
            .get(&(role_arn.to_string(), key_id.to_string()))
            .filter(|r| now.saturating_duration_since(r.at) < KEY_CACHE_AGE)
            .map(|r| r.arn.clone())
    }

    fn keep(&self, role_arn: &str, key_id: &str, arn: Option<String>, now: Instant) {
        let mut entries = self.entries.lock().expect("key cache lock");
        entries.retain(|_, r| now.saturating_duration_since(r.at) < KEY_CACHE_AGE);
        entries.insert(
            (role_arn.to_string(), key_id.to_string()),
            Resolved { at: now, arn },
        );
    }

    /// The ARN of the key `key_id` names, from the cache or `DescribeKey` as the role.
    pub(crate) async fn arn(
        &self,
        as_role: &AsRole<'_>,
        key_id: &str,
    ) -> Result<Option<String>, AwsError> {
        let role_arn = as_role.role_arn();
        if let Some(arn) = self.cached(role_arn, key_id, Instant::now()) {
            return Ok(arn);
        }
        let arn = match as_role
            .call("kms", "DescribeKey", json!({"KeyId": key_id}))
            .await
        {
            Ok(output) => match output["KeyMetadata"]["Arn"].as_str() {
                Some(arn) => Some(arn.to_string()),
                None => {
                    return Err(AwsError::new(
                        "InternalFailure",
                        500,
                        "DescribeKey answered no ARN",
                    ))
                }
            },
            Err(e) if e.code == "NotFoundException" => None,
            Err(e) => return Err(e),
        };
        self.keep(role_arn, key_id, arn.clone(), Instant::now());
        Ok(arn)
    }

    /// The public key of the key `key_arn`, from the cache or `GetPublicKey` as the role; `None`
    /// when it is not an ECC_NIST_P256 key that signs with ECDSA_SHA_256.
    pub(crate) async fn public_key(
        &self,
        as_role: &AsRole<'_>,
        key_arn: &str,
    ) -> Result<Option<Arc<ParsedPublicKey>>, AwsError> {
        let cache_key = (as_role.role_arn().to_string(), key_arn.to_string());
        let now = Instant::now();
        if let Some(cached) = self
            .public_keys
            .lock()
            .expect("public key cache lock")
            .get(&cache_key)
            .filter(|p| now.saturating_duration_since(p.at) < KEY_CACHE_AGE)
        {
            return Ok(cached.key.clone());
        }
        let output = as_role
            .call("kms", "GetPublicKey", json!({"KeyId": key_arn}))
            .await?;
        let signs_codes = output["KeySpec"] == "ECC_NIST_P256"
            && output["SigningAlgorithms"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == SIGNING_ALGORITHM));
        let key = if signs_codes {
            let der = output["PublicKey"]
                .as_str()
                .and_then(|k| STANDARD.decode(k).ok())
                .ok_or_else(|| {
                    AwsError::new("InternalFailure", 500, "GetPublicKey answered no key")
                })?;
            let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, der).map_err(|_| {
                AwsError::new(
                    "InternalFailure",
                    500,
                    "GetPublicKey answered a key that does not parse",
                )
            })?;
            Some(Arc::new(parsed))
        } else {
            None
        };
        let mut keys = self.public_keys.lock().expect("public key cache lock");
        keys.retain(|_, p| now.saturating_duration_since(p.at) < KEY_CACHE_AGE);
        keys.insert(
            cache_key,
            PublicKey {
                at: now,
                key: key.clone(),
            },
        );
        Ok(key)
    }
}

#[cfg(test)]
mod tests;
