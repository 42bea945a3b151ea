//! SigV4 verification against AWS's published examples and botocore-signed
//! requests (see `tests/fixtures/sigv4/`; `gen_botocore.py` regenerates the
//! `botocore-*.json` files).

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use m2sec_proto::sigv4::{
    canonical_request, parse_claim, signature, signing_key, string_to_sign, verify, Claim,
    RequestParts, SigV4Error, SigningKeyCache,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Fixture {
    name: String,
    #[allow(dead_code)]
    description: String,
    source: String,
    credentials: Credentials,
    region: String,
    service: String,
    /// RFC 3339; when the test verifies the request.
    #[serde(deserialize_with = "rfc3339")]
    now: DateTime<Utc>,
    request: Request,
    expected: Expected,
}

fn rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

#[derive(Debug, Deserialize)]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Request {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: String,
}

#[derive(Debug, Deserialize)]
struct Expected {
    canonical_request: Option<String>,
    canonical_request_sha256: Option<String>,
    string_to_sign: Option<String>,
    signing_key: Option<String>,
    signature: String,
}

/// An owned request so tests can tamper with it before borrowing it as [`RequestParts`].
#[derive(Clone)]
struct Owned {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Owned {
    fn from(r: &Request) -> Self {
        let mut headers = HeaderMap::new();
        for (k, v) in &r.headers {
            headers.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Owned {
            method: r.method.clone(),
            path: r.path.clone(),
            query: r.query.clone(),
            headers,
            body: r.body.as_bytes().to_vec(),
        }
    }

    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn check(&self, secret: &str, now: DateTime<Utc>) -> Result<(), SigV4Error> {
        let claim = parse_claim(&self.parts())?;
        verify(
            &self.parts(),
            &claim,
            secret.as_bytes(),
            now,
            &SigningKeyCache::new(),
        )
    }
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigv4")
}

fn load_all() -> Vec<Fixture> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "fixtures missing: {files:?}");
    files
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let de = &mut serde_json::Deserializer::from_str(&text);
            let cases: Vec<Fixture> = serde_path_to_error::deserialize(de)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            cases
        })
        .collect()
}

fn load(name: &str) -> Fixture {
    load_all()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

fn code(r: Result<(), SigV4Error>) -> &'static str {
    r.expect_err("expected failure").aws_code()
}

#[test]
fn published_and_botocore_fixtures_verify_step_by_step() {
    let fixtures = load_all();
    assert!(
        fixtures.len() >= 30,
        "only {} fixture cases",
        fixtures.len()
    );
    for f in &fixtures {
        let ctx = format!("{} ({})", f.name, f.source);
        let req = Owned::from(&f.request);
        let claim = parse_claim(&req.parts()).unwrap_or_else(|e| panic!("{ctx}: parse: {e:?}"));
        assert_eq!(claim.access_key_id, f.credentials.access_key_id, "{ctx}");
        assert_eq!(claim.region, f.region, "{ctx}");
        assert_eq!(claim.service, f.service, "{ctx}");
        assert_eq!(claim.signature, f.expected.signature, "{ctx}");
        if let Some(token) = &f.credentials.session_token {
            assert_eq!(
                claim.security_token.as_deref(),
                Some(token.as_str()),
                "{ctx}"
            );
        }

        let creq = canonical_request(&req.parts(), &claim);
        if let Some(want) = &f.expected.canonical_request {
            assert_eq!(&creq, want, "{ctx}: canonical request");
        }
        if let Some(want) = &f.expected.canonical_request_sha256 {
            assert_eq!(
                &sha256_hex(creq.as_bytes()),
                want,
                "{ctx}: canonical request hash"
            );
        }
        let sts = string_to_sign(&claim, &creq);
        if let Some(want) = &f.expected.string_to_sign {
            assert_eq!(&sts, want, "{ctx}: string to sign");
        }
        let key = signing_key(
            f.credentials.secret_access_key.as_bytes(),
            &claim.date,
            &f.region,
            &f.service,
        );
        if let Some(want) = &f.expected.signing_key {
            assert_eq!(&hex::encode(&key[..]), want, "{ctx}: signing key");
        }
        assert_eq!(
            signature(&key[..], &sts),
            f.expected.signature,
            "{ctx}: signature"
        );
        req.check(&f.credentials.secret_access_key, f.now)
            .unwrap_or_else(|e| panic!("{ctx}: verify: {e:?}"));
    }
}

#[test]
fn tampering_is_rejected_for_every_fixture() {
    for f in load_all() {
        let ctx = &f.name;
        let secret = &f.credentials.secret_access_key;
        let req = Owned::from(&f.request);

        let mut wrong_secret = secret.clone().into_bytes();
        wrong_secret[0] ^= 1;
        let claim = parse_claim(&req.parts()).unwrap();
        let err = verify(
            &req.parts(),
            &claim,
            &wrong_secret,
            f.now,
            &SigningKeyCache::new(),
        )
        .unwrap_err();
        assert!(
            matches!(err, SigV4Error::SignatureMismatch),
            "{ctx}: {err:?}"
        );
        assert_eq!(err.aws_code(), "InvalidSignatureException");

        if !req.body.is_empty() {
            let mut t = req.clone();
            t.body[0] ^= 1;
            assert_eq!(
                code(t.check(secret, f.now)),
                "InvalidSignatureException",
                "{ctx}: body"
            );
        }

        // Change a signed header other than the date (which would move the claim itself).
        let name = claim
            .signed_headers
            .iter()
            .find(|h| *h != "x-amz-date" && *h != "date")
            .unwrap();
        let mut t = req.clone();
        let old = t
            .headers
            .get(name.as_str())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        t.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            format!("{old}x").parse().unwrap(),
        );
        assert_eq!(
            code(t.check(secret, f.now)),
            "InvalidSignatureException",
            "{ctx}: header {name}"
        );

        let mut t = req.clone();
        t.method = if t.method == "GET" {
            "POST".into()
        } else {
            "GET".into()
        };
        assert_eq!(
            code(t.check(secret, f.now)),
            "InvalidSignatureException",
            "{ctx}: method"
        );
    }
}

#[test]
fn clock_skew_and_presigned_expiry() {
    for f in load_all() {
        let req = Owned::from(&f.request);
        let claim = parse_claim(&req.parts()).unwrap();
        let secret = &f.credentials.secret_access_key;
        let at = claim.amz_date;
        // 15 minutes either way is still fine.
        req.check(secret, at - Duration::minutes(15)).unwrap();
        let early = req.check(secret, at - Duration::minutes(16)).unwrap_err();
        assert!(
            matches!(early, SigV4Error::NotYetCurrent { .. }),
            "{}: {early:?}",
            f.name
        );
        match claim.presigned {
            None => {
                req.check(secret, at + Duration::minutes(15)).unwrap();
                let late = req.check(secret, at + Duration::minutes(16)).unwrap_err();
                assert!(
                    matches!(late, SigV4Error::Expired { .. }),
                    "{}: {late:?}",
                    f.name
                );
                assert_eq!(late.aws_code(), "InvalidSignatureException");
            }
            Some(expires) => {
                let expires = Duration::seconds(expires as i64);
                req.check(secret, at + expires).unwrap();
                let late = req
                    .check(secret, at + expires + Duration::seconds(1))
                    .unwrap_err();
                assert!(
                    matches!(late, SigV4Error::PresignedExpired { .. }),
                    "{}: {late:?}",
                    f.name
                );
                assert_eq!(late.aws_code(), "InvalidSignatureException");
            }
        }
    }
}

#[test]
fn skew_messages_match_aws() {
    let f = load("iam-list-users");
    let req = Owned::from(&f.request);
    let now: DateTime<Utc> = "2015-08-30T13:01:00Z".parse().unwrap();
    let err = req
        .check(&f.credentials.secret_access_key, now)
        .unwrap_err();
    assert_eq!(
        err.message(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z (20150830T130100Z - 15 min.)"
    );
    let now: DateTime<Utc> = "2015-08-30T12:11:00Z".parse().unwrap();
    let err = req
        .check(&f.credentials.secret_access_key, now)
        .unwrap_err();
    assert_eq!(
        err.message(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T122600Z (20150830T121100Z + 15 min.)"
    );
}

#[test]
fn kms_encrypt_tampering() {
    let f = load("botocore-kms-encrypt");
    let secret = f.credentials.secret_access_key.as_str();
    let req = Owned::from(&f.request);
    req.check(secret, f.now).unwrap();

    let mut t = req.clone();
    t.headers.insert(
        "x-amz-target",
        HeaderValue::from_static("TrentService.Decrypt"),
    );
    assert!(matches!(
        t.check(secret, f.now),
        Err(SigV4Error::SignatureMismatch)
    ));

    let mut t = req.clone();
    let last = t.body.len() - 2;
    t.body[last] = b'X';
    assert!(matches!(
        t.check(secret, f.now),
        Err(SigV4Error::SignatureMismatch)
    ));

    // Unsigned headers may change freely.
    let mut t = req.clone();
    t.headers
        .insert("user-agent", HeaderValue::from_static("something else"));
    t.check(secret, f.now).unwrap();

    let mut t = req.clone();
    t.headers.remove("authorization");
    let err = t.check(secret, f.now).unwrap_err();
    assert_eq!(err.aws_code(), "MissingAuthenticationTokenException");
    assert_eq!(err.message(), "Request is missing Authentication Token");

    let mut t = req.clone();
    t.headers
        .insert("authorization", HeaderValue::from_static("garbage"));
    let err = t.check(secret, f.now).unwrap_err();
    assert_eq!(err.aws_code(), "IncompleteSignatureException");
    assert_eq!(
        err.message(),
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. \
         Authorization header requires 'SignedHeaders' parameter. Authorization=garbage"
    );

    let mut t = req.clone();
    t.headers.remove("x-amz-date");
    let err = t.check(secret, f.now).unwrap_err();
    assert_eq!(err.aws_code(), "IncompleteSignatureException");
    assert!(err
        .message()
        .contains("requires existence of either a 'X-Amz-Date' or a 'Date' header"));

    let auth = req.headers["authorization"].to_str().unwrap().to_owned();
    for (from, to) in [
        ("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA512 "),
        ("/aws4_request", "/aws5_request"),
        ("AKIDEXAMPLE/", "AKIDEXAMPLE/extra/"),
        ("content-type;host;", "content-type;"),
    ] {
        let mut t = req.clone();
        t.headers
            .insert("authorization", auth.replace(from, to).parse().unwrap());
        let err = t.check(secret, f.now).unwrap_err();
        assert_eq!(
            err.aws_code(),
            "IncompleteSignatureException",
            "{to}: {err:?}"
        );
    }

    // A signature in the query string as well as the header is ambiguous.
    let mut t = req.clone();
    t.query = Some("X-Amz-Signature=00".into());
    assert_eq!(code(t.check(secret, f.now)), "IncompleteSignatureException");

    // The scope date must be the request date.
    let mut t = req.clone();
    t.headers.insert(
        "authorization",
        auth.replace("/20240501/", "/20240502/").parse().unwrap(),
    );
    let err = t.check(secret, f.now).unwrap_err();
    assert!(
        matches!(err, SigV4Error::ScopeDateMismatch { .. }),
        "{err:?}"
    );
    assert_eq!(err.aws_code(), "InvalidSignatureException");

    // A different signature of the right shape.
    let mut t = req.clone();
    let sig = &f.expected.signature;
    let flipped = format!(
        "{}{}",
        if sig.starts_with('0') { '1' } else { '0' },
        &sig[1..]
    );
    t.headers.insert(
        "authorization",
        auth.replace(sig.as_str(), &flipped).parse().unwrap(),
    );
    let err = t.check(secret, f.now).unwrap_err();
    assert!(matches!(err, SigV4Error::SignatureMismatch));
    assert!(err
        .message()
        .starts_with("The request signature we calculated does not match"));
}

#[test]
fn content_sha256_header_must_match_body() {
    let f = load("botocore-content-sha256");
    let secret = f.credentials.secret_access_key.as_str();
    let req = Owned::from(&f.request);
    req.check(secret, f.now).unwrap();
    let mut t = req.clone();
    t.body[0] = b'[';
    let err = t.check(secret, f.now).unwrap_err();
    assert!(matches!(err, SigV4Error::PayloadHashMismatch), "{err:?}");
    assert_eq!(err.aws_code(), "InvalidSignatureException");
}

#[test]
fn date_header_form() {
    let f = load("botocore-date-header");
    let req = Owned::from(&f.request);
    let claim = parse_claim(&req.parts()).unwrap();
    assert_eq!(
        claim.amz_date,
        "2024-05-01T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(claim.presigned, None);
}

#[test]
fn presigned_tampering_and_limits() {
    let f = load("botocore-presigned-session-token");
    let secret = f.credentials.secret_access_key.as_str();
    let req = Owned::from(&f.request);
    let claim: Claim = parse_claim(&req.parts()).unwrap();
    assert_eq!(claim.presigned, Some(300));
    assert_eq!(claim.signed_headers, ["host"]);
    let query = req.query.clone().unwrap();

    for (from, to) in [
        ("Action=ListKeys", "Action=ListAliases"),
        ("X-Amz-Expires=300", "X-Amz-Expires=3000"),
        ("X-Amz-Security-Token=FwoG", "X-Amz-Security-Token=FwoH"),
        ("Marker=a%2Fb%20c", "Marker=a%2Fb%20d"),
    ] {
        let mut t = req.clone();
        t.query = Some(query.replace(from, to));
        assert_eq!(
            code(t.check(secret, f.now)),
            "InvalidSignatureException",
            "{to}"
        );
    }
    // Same parameters in another order and with different (equivalent) escaping still verify.
    let mut t = req.clone();
    let mut params: Vec<&str> = query.split('&').collect();
    params.reverse();
    t.query = Some(
        params
            .join("&")
            .replace("%2F", "%2f")
            .replace("ListKeys", "List%4Beys"),
    );
    t.check(secret, f.now).unwrap();

    let mut t = req.clone();
    t.query = Some(query.replace("X-Amz-Expires=300", "X-Amz-Expires=604801"));
    assert_eq!(code(t.check(secret, f.now)), "IncompleteSignatureException");

    let mut t = req.clone();
    t.query = Some(query.replace("X-Amz-Date=", "X-Amz-Datum="));
    let err = t.check(secret, f.now).unwrap_err();
    assert_eq!(err.aws_code(), "IncompleteSignatureException");
    assert!(
        err.message().contains("must include 'X-Amz-Date'"),
        "{}",
        err.message()
    );

    let mut t = req.clone();
    t.query = Some(query.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date"));
    assert_eq!(code(t.check(secret, f.now)), "IncompleteSignatureException");
}

#[test]
fn signing_key_cache_matches_direct_derivation() {
    let cache = SigningKeyCache::new();
    assert!(cache.is_empty());
    let secret = b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    let direct = signing_key(secret, "20150830", "us-east-1", "iam");
    assert_eq!(
        hex::encode(&direct[..]),
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    );
    let first = cache.get_or_derive("AKIDEXAMPLE", secret, "20150830", "us-east-1", "iam");
    let second = cache.get_or_derive("AKIDEXAMPLE", secret, "20150830", "us-east-1", "iam");
    assert_eq!(first[..], direct[..]);
    assert_eq!(second[..], direct[..]);
    assert_eq!(cache.len(), 1);

    // A different secret behind the same access key id is never served a stale key.
    let other = cache.get_or_derive(
        "AKIDEXAMPLE",
        b"another secret",
        "20150830",
        "us-east-1",
        "iam",
    );
    assert_eq!(
        other[..],
        signing_key(b"another secret", "20150830", "us-east-1", "iam")[..]
    );
    assert_ne!(other[..], direct[..]);

    for i in 0..10_050 {
        cache.get_or_derive(&format!("AKID{i}"), secret, "20150830", "us-east-1", "kms");
    }
    assert!(
        cache.len() <= 10_000,
        "cache is bounded, has {}",
        cache.len()
    );
    cache.clear();
    assert!(cache.is_empty());
}

/// A request signed by `sign` (m2sec's command line) verifies, and stops verifying when its body,
/// its path or the secret differ.
#[test]
fn client_signatures_verify() {
    use m2sec_proto::sigv4::{self, Credentials, RequestParts, SigningKeyCache};
    let now = chrono::Utc::now();
    let credentials = Credentials {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token: Some("token"),
    };
    let mut headers = http::HeaderMap::new();
    headers.insert("host", "127.0.0.1:4566".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    let body = br#"{"template":"service: s"}"#;
    sigv4::sign(
        "POST",
        "/_m2sec/deploy",
        None,
        &mut headers,
        body,
        &credentials,
        "eu-west-1",
        "m2sec",
        now,
    );
    let check = |path: &str, body: &[u8], secret: &[u8]| {
        let req = RequestParts {
            method: "POST",
            path,
            query: None,
            headers: &headers,
            body,
        };
        let claim = sigv4::parse_claim(&req).unwrap();
        assert_eq!(claim.security_token.as_deref(), Some("token"));
        sigv4::verify(&req, &claim, secret, now, &SigningKeyCache::default())
    };
    assert!(check("/_m2sec/deploy", body, credentials.secret_access_key).is_ok());
    assert!(check("/_m2sec/deploy", b"{}", credentials.secret_access_key).is_err());
    assert!(check("/_m2sec/other", body, credentials.secret_access_key).is_err());
    assert!(check("/_m2sec/deploy", body, b"another secret").is_err());
}
