//! Server-side verification of AWS Signature Version 4 (`AWS4-HMAC-SHA256`).
//!
//! Both forms are accepted: the `Authorization` header and the presigned
//! query string (`X-Amz-Algorithm`, `X-Amz-Credential`, ...). Verification is
//! split in two so the caller can look the secret up in between:
//!
//! 1. [`parse_claim`] extracts what the request *claims* (access key id,
//!    scope, signed headers, signature, timestamp) without touching secrets;
//! 2. [`verify`] checks the clock, the scope date and finally recomputes the
//!    signature with the secret and compares it in constant time.
//!
//! Canonicalisation follows what botocore's `SigV4Auth` / `SigV4QueryAuth`
//! sign for non-S3 services, since that (and the SDKs that behave the same)
//! is what the server must accept. The HTTP layer must make sure a `host`
//! header is present in [`RequestParts::headers`] (for HTTP/2, copy it from
//! the `:authority` pseudo-header): clients always sign it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use aws_lc_rs::{constant_time, digest, hmac};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use http::HeaderMap;
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use zeroize::Zeroizing;

mod sign;
pub use sign::{sign, Credentials};

/// The only algorithm this module verifies.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Longest lifetime AWS allows for a presigned request (seven days).
pub const MAX_PRESIGNED_EXPIRES: u64 = 604_800;
const TERMINATOR: &str = "aws4_request";
const MAX_SKEW_MINUTES: i64 = 15;
const AMZ_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";
const CACHE_LIMIT: usize = 10_000;

/// RFC 3986 unreserved characters are the only ones SigV4 leaves unencoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Path segments are encoded the same way, keeping the separators.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// The parts of an HTTP request the signature covers. `path` and `query` are raw (as received, still percent-encoded).
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// What the request claims: parsed from the Authorization header or the query string, before any secret is looked up.
#[derive(Debug, Clone)]
pub struct Claim {
    pub access_key_id: String,
    /// `yyyymmdd` from the credential scope.
    pub date: String,
    pub region: String,
    pub service: String,
    /// Lowercase, in the order listed by the client.
    pub signed_headers: Vec<String>,
    /// Lowercase hex, as given.
    pub signature: String,
    /// From the `X-Amz-Date` header/parameter, else the `Date` header (RFC 1123).
    pub amz_date: DateTime<Utc>,
    /// `X-Amz-Security-Token` header or query parameter.
    pub security_token: Option<String>,
    /// `Some(expires_seconds)` for the presigned query-string form.
    pub presigned: Option<u64>,
}

/// Why a request failed authentication. [`SigV4Error::aws_code`] and
/// [`SigV4Error::message`] give what AWS would answer.
#[derive(Debug, thiserror::Error)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// Malformed or incomplete authentication data; the text names what is wrong.
    #[error("{0}")]
    Incomplete(String),
    /// The recomputed signature differs from the one given.
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    SignatureMismatch,
    /// `x-amz-content-sha256` does not describe the body that arrived.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHashMismatch,
    /// The request is more than 15 minutes older than the server clock.
    #[error("Signature expired: {amz_date} is now earlier than {limit} ({now} - 15 min.)")]
    Expired {
        amz_date: String,
        limit: String,
        now: String,
    },
    /// The request is more than 15 minutes ahead of the server clock.
    #[error("Signature not yet current: {amz_date} is still later than {limit} ({now} + 15 min.)")]
    NotYetCurrent {
        amz_date: String,
        limit: String,
        now: String,
    },
    /// A presigned request used after `X-Amz-Date + X-Amz-Expires`.
    #[error("Signature expired: {expiry} is now earlier than {now} (X-Amz-Date {amz_date} + X-Amz-Expires {expires} sec.)")]
    PresignedExpired {
        amz_date: String,
        expires: u64,
        expiry: String,
        now: String,
    },
    /// The credential scope's date is not the request timestamp's date.
    #[error("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{request_date}', from '{amz_date}'.")]
    ScopeDateMismatch {
        scope_date: String,
        request_date: String,
        amz_date: String,
    },
}

impl SigV4Error {
    /// AWS error code for the awsJson protocols.
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::Incomplete(_) => "IncompleteSignatureException",
            _ => "InvalidSignatureException",
        }
    }

    /// The message AWS sends alongside [`SigV4Error::aws_code`].
    pub fn message(&self) -> String {
        self.to_string()
    }
}

fn incomplete(msg: impl Into<String>) -> SigV4Error {
    SigV4Error::Incomplete(msg.into())
}

/// `20150830T123600Z`; written by hand because chrono's strftime parses its format string on every
/// call, and this runs on every request.
fn fmt_amz(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The `yyyymmdd` of a time, as the credential scope carries it.
fn fmt_scope_date(t: DateTime<Utc>) -> String {
    use chrono::Datelike;
    format!("{:04}{:02}{:02}", t.year(), t.month(), t.day())
}

/// Parses the ISO-8601 basic format SigV4 uses (`20150830T123600Z`).
pub fn parse_amz_date(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, AMZ_DATE_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

fn bad_date(s: &str) -> SigV4Error {
    incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{s}'. See http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

/// Splits a raw query string into percent-decoded `(key, value)` pairs.
/// `+` stays a literal plus: SigV4 canonicalises with RFC 3986 rules, not
/// form encoding, and the SDKs put spaces on the wire as `%20`.
fn decoded_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            (dec(k), dec(v))
        })
        .collect()
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Parses what the request claims. Fails with `MissingAuthenticationToken`
/// when there is no SigV4 data at all, `Incomplete` when it is malformed.
pub fn parse_claim(req: &RequestParts) -> Result<Claim, SigV4Error> {
    let params = req.query.map(decoded_query).unwrap_or_default();
    let query_auth = params
        .iter()
        .any(|(k, _)| k == "X-Amz-Algorithm" || k == "X-Amz-Signature");
    match (req.headers.get(http::header::AUTHORIZATION), query_auth) {
        (None, false) => Err(SigV4Error::MissingAuthenticationToken),
        (Some(_), true) => Err(incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        )),
        (Some(value), false) => {
            let raw = value.to_str().map_err(|_| incomplete("Authorization header contains non-ASCII characters"))?;
            parse_header_claim(raw, req)
        }
        (None, true) => parse_query_claim(&params, req),
    }
}

fn parse_header_claim(raw: &str, req: &RequestParts) -> Result<Claim, SigV4Error> {
    let trimmed = raw.trim();
    let (algorithm, rest) = trimmed.split_once([' ', '\t']).unwrap_or((trimmed, ""));
    if algorithm != ALGORITHM && algorithm.starts_with("AWS4-") {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'."
        )));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    if algorithm == ALGORITHM {
        for part in rest.split(',') {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            let slot = match k.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed,
                "Signature" => &mut signature,
                _ => continue,
            };
            // First occurrence wins; a later duplicate cannot override it.
            slot.get_or_insert_with(|| v.trim().to_owned());
        }
    }
    let amz_date = match (
        header_str(req.headers, "x-amz-date"),
        req.headers.get(http::header::DATE),
    ) {
        (Some(s), _) => Some(parse_amz_date(s).ok_or_else(|| bad_date(s))?),
        (None, Some(d)) => {
            let s = d.to_str().unwrap_or_default();
            let t = DateTime::parse_from_rfc2822(s).map_err(|_| bad_date(s))?;
            Some(t.with_timezone(&Utc))
        }
        (None, None) => None,
    };

    let mut missing = Vec::new();
    for (name, present) in [
        ("Credential", credential.is_some()),
        ("Signature", signature.is_some()),
        ("SignedHeaders", signed.is_some()),
    ] {
        if !present {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    if amz_date.is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        );
    }
    let (Some(credential), Some(signed), Some(signature), Some(amz_date), true) =
        (credential, signed, signature, amz_date, missing.is_empty())
    else {
        return Err(incomplete(format!(
            "{} Authorization={raw}",
            missing.join(" ")
        )));
    };

    let security_token = header_str(req.headers, "x-amz-security-token")
        .map(str::to_owned)
        .or_else(|| {
            req.query
                .and_then(|q| find_param(&decoded_query(q), "X-Amz-Security-Token"))
        });
    build_claim(
        &credential,
        &signed,
        signature,
        amz_date,
        security_token,
        None,
    )
}

fn find_param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn parse_query_claim(params: &[(String, String)], req: &RequestParts) -> Result<Claim, SigV4Error> {
    const REQUIRED: [&str; 6] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
        "X-Amz-Expires",
    ];
    let mut values = Vec::with_capacity(REQUIRED.len());
    let mut missing = Vec::new();
    for name in REQUIRED {
        match find_param(params, name) {
            Some(v) => values.push(v),
            None => missing.push(format!(
                "AWS query-string parameters must include '{name}'."
            )),
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(format!(
            "{} Re-examine the query-string parameters.",
            missing.join(" ")
        )));
    }
    let [algorithm, credential, signature, date, signed, expires]: [String; 6] = values
        .try_into()
        .expect("every required parameter is present");
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'."
        )));
    }
    let amz_date = parse_amz_date(&date).ok_or_else(|| bad_date(&date))?;
    let expires: u64 = expires
        .parse()
        .map_err(|_| incomplete("X-Amz-Expires should be a number"))?;
    check_expires(expires)?;
    let security_token = find_param(params, "X-Amz-Security-Token")
        .or_else(|| header_str(req.headers, "x-amz-security-token").map(str::to_owned));
    build_claim(
        &credential,
        &signed,
        signature,
        amz_date,
        security_token,
        Some(expires),
    )
}

fn check_expires(expires: u64) -> Result<(), SigV4Error> {
    if expires > MAX_PRESIGNED_EXPIRES {
        return Err(incomplete(format!(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than {MAX_PRESIGNED_EXPIRES} seconds"
        )));
    }
    Ok(())
}

fn build_claim(
    credential: &str,
    signed: &str,
    signature: String,
    amz_date: DateTime<Utc>,
    security_token: Option<String>,
    presigned: Option<u64>,
) -> Result<Claim, SigV4Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    if [access_key_id, date, region, service]
        .iter()
        .any(|p| p.is_empty())
    {
        return Err(incomplete(format!(
            "Credential has an empty element: '{credential}'"
        )));
    }
    if terminator != TERMINATOR {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        )));
    }
    let signed_headers: Vec<String> = signed
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(incomplete(format!(
            "SignedHeaders has an empty entry: '{signed}'"
        )));
    }
    // Without `host` a signature could be replayed against another endpoint.
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if signature.is_empty() {
        return Err(incomplete("Signature must not be empty."));
    }
    Ok(Claim {
        access_key_id: access_key_id.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers,
        signature,
        amz_date,
        security_token,
        presigned,
    })
}

/// Checks the claim against `now` and recomputes the signature with `secret`.
///
/// Order matters only for which error is reported: clock first (as AWS does),
/// then the scope date, then the payload hash header, then the signature.
pub fn verify(
    req: &RequestParts,
    claim: &Claim,
    secret: &[u8],
    now: DateTime<Utc>,
    cache: &SigningKeyCache,
) -> Result<(), SigV4Error> {
    check_claim(claim, now)?;
    // A client-supplied payload hash is signed in place of the body, so it
    // must describe the body that actually arrived. `UNSIGNED-PAYLOAD` and
    // the streaming variants are refused: every operation here carries its
    // input in the body, which therefore has to be covered by the signature.
    if let Some(declared) = req.headers.get("x-amz-content-sha256") {
        if !declared
            .as_bytes()
            .eq_ignore_ascii_case(sha256_hex(req.body).as_bytes())
        {
            return Err(SigV4Error::PayloadHashMismatch);
        }
    }
    // Non-UTF-8 header bytes would be replaced lossily in the canonical
    // request; refuse them so two different values can never canonicalise alike.
    for name in &claim.signed_headers {
        if req
            .headers
            .get_all(name.as_str())
            .iter()
            .any(|v| std::str::from_utf8(v.as_bytes()).is_err())
        {
            return Err(SigV4Error::SignatureMismatch);
        }
    }
    let creq = canonical_request(req, claim);
    let sts = string_to_sign(claim, &creq);
    let key = cache.get_or_derive(
        &claim.access_key_id,
        secret,
        &claim.date,
        &claim.region,
        &claim.service,
    );
    let expected = signature(&key[..], &sts);
    constant_time::verify_slices_are_equal(expected.as_bytes(), claim.signature.as_bytes())
        .map_err(|_| SigV4Error::SignatureMismatch)
}

/// The checks that need neither the body nor the secret: the clock, then the scope date. The HTTP
/// layer runs them before it reads a body, so a stale or malformed claim costs no buffering.
pub fn check_claim(claim: &Claim, now: DateTime<Utc>) -> Result<(), SigV4Error> {
    check_time(claim, now)?;
    let request_date = fmt_scope_date(claim.amz_date);
    if claim.date != request_date {
        return Err(SigV4Error::ScopeDateMismatch {
            scope_date: claim.date.clone(),
            request_date,
            amz_date: fmt_amz(claim.amz_date),
        });
    }
    Ok(())
}

fn check_time(claim: &Claim, now: DateTime<Utc>) -> Result<(), SigV4Error> {
    let skew = Duration::minutes(MAX_SKEW_MINUTES);
    // Both forms refuse a timestamp too far in the future.
    if claim.amz_date > now + skew {
        return Err(SigV4Error::NotYetCurrent {
            amz_date: fmt_amz(claim.amz_date),
            limit: fmt_amz(now + skew),
            now: fmt_amz(now),
        });
    }
    match claim.presigned {
        None if claim.amz_date < now - skew => Err(SigV4Error::Expired {
            amz_date: fmt_amz(claim.amz_date),
            limit: fmt_amz(now - skew),
            now: fmt_amz(now),
        }),
        None => Ok(()),
        Some(expires) => {
            check_expires(expires)?;
            // `expires` is at most a week, so the cast cannot overflow.
            let expiry = claim
                .amz_date
                .checked_add_signed(Duration::seconds(expires as i64))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            if now > expiry {
                return Err(SigV4Error::PresignedExpired {
                    amz_date: fmt_amz(claim.amz_date),
                    expires,
                    expiry: fmt_amz(expiry),
                    now: fmt_amz(now),
                });
            }
            Ok(())
        }
    }
}

/// Builds the SigV4 canonical request:
/// method, URI, query, headers, signed header list and payload hash, one per line.
pub fn canonical_request(req: &RequestParts, claim: &Claim) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(req.method);
    out.push('\n');
    // Every awsJson request goes to `/` with no query: skip the general encoders then.
    if req.path == "/" || req.path.is_empty() {
        out.push('/');
    } else {
        out.push_str(&canonical_uri(req.path));
    }
    out.push('\n');
    match req.query {
        None | Some("") => {}
        Some(q) => out.push_str(&canonical_query(q, claim.presigned.is_some())),
    }
    out.push('\n');
    for name in &claim.signed_headers {
        out.push_str(name);
        out.push(':');
        push_canonical_header_value(&mut out, req.headers, name);
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in claim.signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    match req.headers.get("x-amz-content-sha256") {
        Some(v) => out.push_str(&String::from_utf8_lossy(v.as_bytes())),
        None => out.push_str(&sha256_hex(req.body)),
    }
    out
}

/// Canonical URI for non-S3 services. botocore signs
/// `quote(remove_dot_segments(path), safe='/~')` of the path *as sent*, which
/// is already percent-encoded, so `%` itself gets encoded again (`%20` is
/// signed as `%2520`). AWS expects exactly this double encoding outside S3.
/// Encoding the raw bytes directly (rather than decode-then-encode) is what
/// reproduces it, and also handles clients that send unencoded characters.
pub fn canonical_uri(path: &str) -> String {
    let normalized = remove_dot_segments(path);
    percent_encode(normalized.as_bytes(), PATH).to_string()
}

/// RFC 3986 §5.2.4 dot-segment removal plus collapsing of empty segments,
/// matching `botocore.utils.remove_dot_segments`.
fn remove_dot_segments(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let lead = if path.starts_with('/') { "/" } else { "" };
    let trail = if path.ends_with('/') && !out.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{lead}{}{trail}", out.join("/"))
}

/// Canonical query string: every key and value decoded then re-encoded with
/// the unreserved set, sorted by key then value. The presigned form leaves
/// out `X-Amz-Signature`, which cannot sign itself.
pub fn canonical_query(query: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            // Decode to bytes (not lossy UTF-8) so arbitrary octets survive.
            let dec = |s: &str| percent_decode_str(s).collect::<Vec<u8>>();
            (
                percent_encode(&dec(k), UNRESERVED).to_string(),
                percent_encode(&dec(v), UNRESERVED).to_string(),
            )
        })
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(query.len() + 16);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// All values of a header, each trimmed with inner whitespace runs collapsed
/// to one space, joined by `,`. A signed header that is absent canonicalises
/// to the empty string (the signature will then simply not match).
fn push_canonical_header_value(out: &mut String, headers: &HeaderMap, name: &str) {
    for (i, value) in headers.get_all(name).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let words = value
            .as_bytes()
            .split(|b| *b == b' ' || *b == b'\t')
            .filter(|w| !w.is_empty());
        for (j, word) in words.enumerate() {
            if j > 0 {
                out.push(' ');
            }
            out.push_str(&String::from_utf8_lossy(word));
        }
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256(canonical request)>`.
pub fn string_to_sign(claim: &Claim, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}/{}/{}/{TERMINATOR}\n{}",
        fmt_amz(claim.amz_date),
        claim.date,
        claim.region,
        claim.service,
        sha256_hex(canonical_request.as_bytes())
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Zeroizing<[u8; 32]> {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(tag.as_ref());
    out
}

/// The SigV4 signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signing_key(secret: &[u8], date: &str, region: &str, service: &str) -> Zeroizing<[u8; 32]> {
    let mut seed = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret);
    let k_date = hmac_sha256(&seed, date.as_bytes());
    let k_region = hmac_sha256(&k_date[..], region.as_bytes());
    let k_service = hmac_sha256(&k_region[..], service.as_bytes());
    hmac_sha256(&k_service[..], TERMINATOR.as_bytes())
}

/// Lowercase hex `HMAC-SHA256(signing_key, string_to_sign)`.
pub fn signature(signing_key: &[u8], string_to_sign: &str) -> String {
    hex::encode(&hmac_sha256(signing_key, string_to_sign.as_bytes())[..])
}

/// `access key id \n date \n region \n service`: one allocation per lookup instead of four.
type ScopeKey = String;

struct CachedKey {
    /// SHA-256 of the secret the key was derived from. The cache is keyed by
    /// access key id, so this guards against handing out a stale key if the
    /// secret behind an id ever changes.
    secret_digest: Zeroizing<[u8; 32]>,
    key: Zeroizing<[u8; 32]>,
}

/// Caches derived signing keys by (access key id, date, region, service), so
/// the four-HMAC derivation runs once per key and day rather than per request.
/// Bounded: the map is emptied when it would exceed 10 000 entries (entries
/// are only useful for a day, so simple clearing beats LRU bookkeeping).
/// Keys are zeroized when dropped.
#[derive(Default)]
pub struct SigningKeyCache {
    entries: Mutex<HashMap<ScopeKey, CachedKey>>,
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("entries", &self.len())
            .finish()
    }
}

impl SigningKeyCache {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ScopeKey, CachedKey>> {
        // A panic elsewhere cannot leave a half-written entry, so a poisoned
        // lock is still safe to use.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns the signing key for this scope, deriving and caching it on a miss.
    pub fn get_or_derive(
        &self,
        access_key_id: &str,
        secret: &[u8],
        date: &str,
        region: &str,
        service: &str,
    ) -> Zeroizing<[u8; 32]> {
        let mut digest_bytes = Zeroizing::new([0u8; 32]);
        digest_bytes.copy_from_slice(digest::digest(&digest::SHA256, secret).as_ref());
        let scope = format!("{access_key_id}\n{date}\n{region}\n{service}");
        if let Some(hit) = self.lock().get(&scope) {
            if constant_time::verify_slices_are_equal(&hit.secret_digest[..], &digest_bytes[..])
                .is_ok()
            {
                return hit.key.clone();
            }
        }
        // Derive outside the lock; a concurrent miss just derives twice.
        let key = signing_key(secret, date, region, service);
        let mut entries = self.lock();
        if entries.len() >= CACHE_LIMIT {
            entries.clear();
        }
        entries.insert(
            scope,
            CachedKey {
                secret_digest: digest_bytes,
                key: key.clone(),
            },
        );
        key
    }

    /// Number of cached keys.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops (and zeroizes) every cached key, e.g. after a secret is rotated or deleted.
    pub fn clear(&self) {
        self.lock().clear();
    }
}
