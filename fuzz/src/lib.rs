//! What the fuzz targets share: turning the fuzzer's bytes into the shapes the parsers take (an HTTP
//! request, NUL-separated fields, a record value), and the fixed models, keys, zones and requests they
//! run against. Each target in `fuzz_targets/` is a few lines calling into the library with these.

#![forbid(unsafe_code)]

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use m2sec_crypto::{KeySpec, PrivateKey, SecretBytes, SymmetricKey};
use m2sec_iam::policy::{Context, Decision, PolicyDocument, Principal, PrincipalKind, Request};
use m2sec_proto::model::ServiceModel;
use m2sec_proto::sigv4::RequestParts;
use m2sec_route53::zone::{Action, Alias, Change, RecordSet, Zone};

/// An HTTP/1.1 request as the server receives it, read from text:
///
/// ```text
/// POST /2013-04-01/hostedzone?x=1 HTTP/1.1
/// Host: route53.amazonaws.com
///
/// <body>
/// ```
///
/// The method and the request target go through `http`'s own parsers, so the parsers under test see
/// only what hyper could hand them. Header lines that are not valid HTTP are left out; lines may end
/// in `\n` or `\r\n`.
pub struct HttpRequest<'a> {
    pub method: Method,
    pub target: PathAndQuery,
    pub headers: HeaderMap,
    pub body: &'a [u8],
}

impl<'a> HttpRequest<'a> {
    pub fn parse(data: &'a [u8]) -> Option<HttpRequest<'a>> {
        let (head, body) = match find(data, b"\n\n")
            .map(|i| (i, 2))
            .or_else(|| find(data, b"\r\n\r\n").map(|i| (i, 4)))
        {
            Some((i, len)) => (&data[..i], &data[i + len..]),
            None => (data, &data[..0]),
        };
        let mut lines = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let mut request_line = lines.next()?.split(|&b| b == b' ');
        let method = Method::from_bytes(request_line.next()?).ok()?;
        let target = PathAndQuery::try_from(request_line.next()?).ok()?;
        let mut headers = HeaderMap::new();
        for line in lines {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let value = line[colon + 1..].trim_ascii();
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(value))
            {
                headers.append(name, value);
            }
        }
        Some(HttpRequest { method, target, headers, body })
    }

    /// What SigV4 verification is given.
    pub fn sigv4_parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: self.method.as_str(),
            path: self.target.path(),
            query: self.target.query(),
            headers: &self.headers,
            body: self.body,
        }
    }
}

/// The secret of the SigV4 fixtures the `sigv4_claim` seeds come from (AWS's documented example key).
pub const SIGV4_SECRET: &[u8] = b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// The server's clock for a request that claims `amz_date`: 30 s later for dates from 1970 to 9999,
/// so the seeds (botocore's, dated 2024, and AWS's test suite, dated 2015) reach the signature check;
/// the fixtures' time (2024-05-01T12:00:30Z) for other dates, which the clock checks then refuse.
pub fn sigv4_clock(amz_date: DateTime<Utc>) -> DateTime<Utc> {
    if (1970..=9999).contains(&amz_date.year()) {
        amz_date + TimeDelta::seconds(30)
    } else {
        DateTime::parse_from_rfc3339("2024-05-01T12:00:30Z").expect("a time").with_timezone(&Utc)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The first `N` NUL-separated fields of `data` (missing ones empty; the last takes the rest).
pub fn fields<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&data[..0]; N];
    let mut rest = data;
    for (i, field) in out.iter_mut().enumerate() {
        match rest.iter().position(|&b| b == 0).filter(|_| i + 1 < N) {
            Some(at) => {
                *field = &rest[..at];
                rest = &rest[at + 1..];
            }
            None => {
                *field = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    out
}

/// `data` split at its first newline: (`Encrypt`, `{"KeyId": …}`).
pub fn first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &data[..0]),
    }
}

/// botocore's KMS model, as the KMS service compiles it (read here to spare the fuzz build the
/// service crate itself).
pub fn kms_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL
        .get_or_init(|| ServiceModel::from_json(include_str!("../../crates/proto/models/kms.json")))
}

/// The KMS key version the `kms_blob` seeds were sealed with (32 bytes of 0x07).
pub fn blob_key() -> &'static SymmetricKey {
    static KEY: OnceLock<SymmetricKey> = OnceLock::new();
    KEY.get_or_init(|| SymmetricKey::new(&SecretBytes::from_slice(&[7; 32])).expect("AES key"))
}

/// An ECC_NIST_P256 key for DeriveSharedSecret with a caller's public key.
pub fn ecdh_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeySpec::EccNistP256).expect("P-256 key"))
}

/// The key spec a byte picks, in the order of the KMS model's enum.
pub fn key_spec(byte: u8) -> KeySpec {
    KeySpec::ALL[usize::from(byte) % KeySpec::ALL.len()]
}

/// ImportCertificate's three members from the fuzzer's bytes. The first byte picks the form: even,
/// the rest is the PEM text a client sends, certificate, private key and chain separated by NUL; odd,
/// it is DER (a 16-bit big-endian length before the certificate and before the key, the chain last),
/// wrapped here in PEM with the private key under the tag the byte picks, so that mutations reach the
/// DER readers directly.
pub fn acm_import_fields(data: &[u8]) -> Option<(Vec<u8>, Vec<u8>, Option<Vec<u8>>)> {
    let (&form, rest) = data.split_first()?;
    let (certificate, key, chain) = if form & 1 == 0 {
        let [certificate, key, chain] = fields(rest);
        (certificate.to_vec(), key.to_vec(), chain.to_vec())
    } else {
        let (certificate, rest) = length_prefixed(rest)?;
        let (key, chain) = length_prefixed(rest)?;
        let tags = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];
        let pem =
            |tag: &str, der: &[u8]| pem::encode(&pem::Pem::new(tag, der.to_vec())).into_bytes();
        let chain = if chain.is_empty() { Vec::new() } else { pem("CERTIFICATE", chain) };
        (
            pem("CERTIFICATE", certificate),
            pem(tags[usize::from(form >> 1) % tags.len()], key),
            chain,
        )
    };
    Some((certificate, key, (!chain.is_empty()).then_some(chain)))
}

/// A field after its 16-bit big-endian length, and what follows it.
fn length_prefixed(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The zones the `dns_answer` target answers from: one of each record type Route53 takes, a CNAME
/// chain into a second zone, an alias, a wildcard and a delegation.
pub fn zones() -> &'static [Zone] {
    static ZONES: OnceLock<Vec<Zone>> = OnceLock::new();
    ZONES.get_or_init(|| {
        let mut main = new_zone("Z1", "fanops.com.");
        let mut other = new_zone("Z2", "example.net.");
        let sets: &[(&str, &str, &[&str])] = &[
            ("api", "A", &["192.0.2.10", "192.0.2.11"]),
            ("api", "AAAA", &["2001:db8::10"]),
            ("_abc.api", "CNAME", &["_def.xyz.acm-validations.aws."]),
            ("link", "CNAME", &["www.example.net."]),
            ("t", "TXT", &["\"v=spf1 -all\" \"two\"", "\"\\052 escaped \\\"q\\\"\""]),
            ("t", "SPF", &["\"v=spf1 -all\""]),
            ("mail", "MX", &["10 mx.fanops.com.", "20 mx2.fanops.com."]),
            ("_https._tcp", "SRV", &["10 5 443 api.fanops.com."]),
            ("caa", "CAA", &["0 issue \"amazon.com\"", "128 iodef \"mailto:a@fanops.com\""]),
            ("sub", "NS", &["ns1.sub.fanops.com."]),
            (
                "sub",
                "DS",
                &["12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE0E3B5C2A4E6D2E8D0F1A2B3C"],
            ),
            ("naptr", "NAPTR", &["100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@fanops.com!\" ."]),
            (
                "ssh",
                "SSHFP",
                &["4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789"],
            ),
            (
                "_443._tcp",
                "TLSA",
                &["3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"],
            ),
            (
                "svc",
                "SVCB",
                &["1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1 ech=AEX+DQ== key65000=x"],
            ),
            ("svc", "HTTPS", &["1 . alpn=\"h2\" ipv6hint=2001:db8::1 mandatory=alpn"]),
            ("*.wild", "A", &["192.0.2.99"]),
            ("ptr", "PTR", &["api.fanops.com."]),
        ];
        let changes: Vec<Change> = sets
            .iter()
            .map(|(name, kind, values)| create(&format!("{name}.fanops.com."), kind, values))
            .collect();
        main.apply(&changes).expect("the fuzz zone is valid");
        let mut alias = create("www.fanops.com.", "A", &[]);
        alias.set.ttl = None;
        alias.set.alias = Some(Alias {
            hosted_zone_id: "Z1".into(),
            dns_name: "api.fanops.com.".into(),
            evaluate_target_health: false,
        });
        main.apply(&[alias]).expect("the fuzz alias is valid");
        other
            .apply(&[
                create("www.example.net.", "CNAME", &["api.fanops.com."]),
                create("loop.example.net.", "CNAME", &["loop2.example.net."]),
                create("loop2.example.net.", "CNAME", &["loop.example.net."]),
            ])
            .expect("the fuzz zone is valid");
        vec![main, other]
    })
}

fn new_zone(id: &str, name: &str) -> Zone {
    Zone::new(id, name, "fuzz", None, false, 0, &["ns1.m2sec.internal.".into()])
}

fn create(name: &str, kind: &str, values: &[&str]) -> Change {
    Change {
        action: Action::Create,
        set: RecordSet {
            name: name.into(),
            kind: kind.into(),
            ttl: Some(60),
            records: values.iter().map(|v| v.to_string()).collect(),
            alias: None,
            set_identifier: None,
            weight: None,
        },
    }
}

/// Stores one record value of type `kind` the way ChangeResourceRecordSets does, then answers a DNS
/// query of type ANY for its name from that zone: what the DNS server makes of a value Route53 took.
/// `None` when the zone refuses the record.
pub fn answer_with_record(kind: &str, value: &str) -> Option<Vec<u8>> {
    let mut zone = new_zone("Z1", "fuzz.example.");
    zone.apply(&[create("r.fuzz.example.", kind, &[value])]).ok()?;
    m2sec_dns::answer::answer_udp(&[zone], &dns_query("r.fuzz.example.", 255))
}

/// A DNS query message (recursion desired, class IN) for `name` and `qtype`.
pub fn dns_query(name: &str, qtype: u16) -> Vec<u8> {
    let mut out = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out
}

/// Asks `policy` about a KMS Decrypt by an assumed-role session, with the condition keys policies
/// most often test (single and multivalued, strings, numbers, dates, booleans, addresses).
pub fn evaluate(policy: &PolicyDocument) -> Decision {
    static FIXED: OnceLock<(Principal, Context)> = OnceLock::new();
    let (principal, context) = FIXED.get_or_init(|| {
        let principal = Principal {
            arn: "arn:aws:sts::123456789012:assumed-role/Deployer/s1".into(),
            account: "123456789012".into(),
            kind: PrincipalKind::AssumedRole {
                role_arn: "arn:aws:iam::123456789012:role/app/Deployer".into(),
            },
        };
        let mut context = Context::new();
        for (key, value) in [
            ("aws:username", "alice"),
            ("aws:userid", "AROAEXAMPLE:s1"),
            ("aws:PrincipalArn", "arn:aws:iam::123456789012:role/app/Deployer"),
            ("aws:PrincipalAccount", "123456789012"),
            ("aws:PrincipalTag/team", "platform"),
            ("aws:SourceIp", "192.0.2.44"),
            ("aws:CurrentTime", "2026-11-28T15:00:00Z"),
            ("aws:EpochTime", "1795878000"),
            ("aws:SecureTransport", "true"),
            ("aws:MultiFactorAuthAge", "300"),
            ("kms:CallerAccount", "123456789012"),
            ("kms:ViaService", "ssm.us-east-1.amazonaws.com"),
            ("kms:EncryptionContext:app", "gates"),
            ("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT"),
        ] {
            context.insert(key, value);
        }
        context.insert_all("kms:EncryptionContextKeys", vec!["app".into(), "stage".into()]);
        context.insert_all("aws:TagKeys", Vec::new());
        (principal, context)
    });
    policy.evaluate(&Request {
        action: "kms:Decrypt",
        resource: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        principal,
        context,
    })
}
