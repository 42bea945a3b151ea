//! Ticket codes: signed by the tickets' KMS key, checked against it.
//!
//! A code is `M2T1.<payload>.<signature>`, both parts base64url without padding; the payload is the
//! compact JSON of the ticket's claims and the signature KMS's ECDSA P-256 signature of
//! `M2T1.<payload>`, made with the key the payload names in `k`.

use aws_lc_rs::digest;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use m2sec_proto::AwsError;
use serde::Deserialize;
use serde_json::json;

use crate::role::AsRole;
use crate::{Function, Gates};

/// The key that signs new codes when `TICKETS_KEY` is not set.
const DEFAULT_KEY: &str = "alias/can2025-tickets";

/// What a valid code says about its ticket.
// Not every claim is read by every handler that checks codes.
#[allow(dead_code)]
pub(crate) struct TicketClaims {
    pub ticket_id: String,
    pub match_id: String,
    pub sector: String,
    pub gates: Vec<String>,
    pub valid_from: i64,
    pub valid_until: i64,
    pub fan_hash: Option<String>,
    pub key_id: String,
}

/// Why a code was not accepted.
pub(crate) enum CodeError {
    /// Not a code, signed by a key that is not the tickets', or a signature that does not match.
    Invalid,
    /// KMS could not be asked.
    Unavailable(AwsError),
}

/// The payload's JSON.
#[derive(Deserialize)]
struct Payload {
    t: String,
    m: String,
    s: String,
    g: Vec<String>,
    f: i64,
    u: i64,
    #[serde(default)]
    h: Option<String>,
    k: String,
}

/// A fan id as a ticket carries it: the first 16 bytes of SHA-256 of `ticket_id:fan_id`.
pub(crate) fn fan_hash(ticket_id: &str, fan_id: &str) -> String {
    let hash = digest::digest(&digest::SHA256, format!("{ticket_id}:{fan_id}").as_bytes());
    URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16])
}

/// The claims of `code` if the tickets' key (or a previous one) signed it.
pub(crate) async fn check(
    _gates: &Gates,
    as_role: &AsRole<'_>,
    function: &Function,
    code: &str,
) -> Result<TicketClaims, CodeError> {
    let mut parts = code.split('.');
    let (Some("M2T1"), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CodeError::Invalid);
    };
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| CodeError::Invalid)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| CodeError::Invalid)?;
    let claims: Payload = serde_json::from_slice(&json).map_err(|_| CodeError::Invalid)?;
    if !allowed_keys(as_role, function).await?.contains(&claims.k) {
        return Err(CodeError::Invalid);
    }
    let signed = &code[.."M2T1.".len() + payload.len()];
    let input = json!({
        "KeyId": claims.k,
        "Message": STANDARD.encode(signed),
        "MessageType": "RAW",
        "Signature": STANDARD.encode(signature),
        "SigningAlgorithm": "ECDSA_SHA_256",
    });
    match as_role.call("kms", "Verify", input).await {
        Ok(output) if output["SignatureValid"] == true => Ok(TicketClaims {
            ticket_id: claims.t,
            match_id: claims.m,
            sector: claims.s,
            gates: claims.g,
            valid_from: claims.f,
            valid_until: claims.u,
            fan_hash: claims.h,
            key_id: claims.k,
        }),
        Ok(_) => Err(CodeError::Invalid),
        Err(e) if e.code == "KMSInvalidSignatureException" => Err(CodeError::Invalid),
        Err(e) => Err(CodeError::Unavailable(e)),
    }
}

/// The ARNs of `TICKETS_KEY` and of each of `TICKETS_PREVIOUS_KEYS`.
async fn allowed_keys(as_role: &AsRole<'_>, function: &Function) -> Result<Vec<String>, CodeError> {
    let current = function
        .environment
        .get("TICKETS_KEY")
        .map_or(DEFAULT_KEY, String::as_str);
    let previous = function
        .environment
        .get("TICKETS_PREVIOUS_KEYS")
        .map_or("", String::as_str);
    let mut arns = Vec::new();
    for key in std::iter::once(current).chain(previous.split(',').map(str::trim)) {
        if key.is_empty() {
            continue;
        }
        let output = as_role
            .call("kms", "DescribeKey", json!({"KeyId": key}))
            .await
            .map_err(CodeError::Unavailable)?;
        if let Some(arn) = output["KeyMetadata"]["Arn"].as_str() {
            arns.push(arn.to_string());
        }
    }
    Ok(arns)
}
