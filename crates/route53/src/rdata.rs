//! Record values: what Route53 accepts for each record type (its presentation formats), read into the
//! fields DNS carries. [`parse`] is both the check of ChangeResourceRecordSets (a refusal is the
//! reason Route53 gives, in its `Code (explanation)` form) and what the DNS server encodes answers from.

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::names::normalize;

/// Every record type Route53 accepts in ChangeResourceRecordSets.
pub const TYPES: &[&str] = &[
    "A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV",
    "SSHFP", "SVCB", "TLSA", "TXT",
];

/// A record value read into its fields. Names are canonical (lower case, with the trailing dot);
/// character strings are their bytes, escapes resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    Ns(String),
    Ptr(String),
    Mx {
        preference: u16,
        exchange: String,
    },
    /// TXT: one or more character strings.
    Txt(Vec<Vec<u8>>),
    /// SPF (type 99): TXT's format under its own type.
    Spf(Vec<Vec<u8>>),
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Soa {
        mname: String,
        rname: String,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
    },
    Caa {
        flags: u8,
        tag: String,
        value: Vec<u8>,
    },
    Ds {
        key_tag: u16,
        algorithm: u8,
        digest_type: u8,
        digest: Vec<u8>,
    },
    Naptr {
        order: u16,
        preference: u16,
        flags: Vec<u8>,
        services: Vec<u8>,
        regexp: Vec<u8>,
        replacement: String,
    },
    Sshfp {
        algorithm: u8,
        fingerprint_type: u8,
        fingerprint: Vec<u8>,
    },
    Tlsa {
        usage: u8,
        selector: u8,
        matching_type: u8,
        data: Vec<u8>,
    },
    /// SVCB, or HTTPS when `https`: the parameters in wire form (key, value), sorted by key.
    Svcb {
        https: bool,
        priority: u16,
        target: String,
        params: Vec<(u16, Vec<u8>)>,
    },
}

const NOT_QUOTED: &str = "InvalidCharacterString (Value should be enclosed in quotation marks)";
const TOO_FEW: &str = "RRDATATooFewFields (Value has too few fields)";
const TOO_MANY: &str = "RRDATATooManyFields (Value has too many fields)";

/// One field of a value: its text with quotes and escapes resolved, and whether it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    bytes: Vec<u8>,
    quoted: bool,
}

impl Field {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Splits a value into fields: runs of non-blank characters, or `"…"` strings (`\"`, `\\` and
/// three-digit octal escapes such as `\052`, as Route53 writes them). A quoted part may follow a bare
/// one in the same field (`alpn="h2,h3"`).
fn fields(value: &str) -> Result<Vec<Field>, String> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return Ok(out);
        };
        let mut field = Field {
            bytes: Vec::new(),
            quoted: first == '"',
        };
        let mut inside = false;
        while let Some(&c) = chars.peek() {
            if !inside && (c == ' ' || c == '\t') {
                break;
            }
            chars.next();
            match c {
                '"' => inside = !inside,
                '\\' => {
                    let Some(next) = chars.next() else {
                        return Err("InvalidEscape (Value ends with an escape character)".into());
                    };
                    if next.is_ascii_digit() {
                        let mut digits = String::from(next);
                        for _ in 0..2 {
                            match chars.next() {
                                Some(d) if d.is_ascii_digit() => digits.push(d),
                                _ => {
                                    return Err(
                                        "InvalidEscape (Escape codes have three octal digits)"
                                            .into(),
                                    )
                                }
                            }
                        }
                        let byte = u8::from_str_radix(&digits, 8).map_err(|_| {
                            "InvalidEscape (Escape codes have three octal digits)".to_string()
                        })?;
                        field.bytes.push(byte);
                    } else {
                        let mut buf = [0u8; 4];
                        field
                            .bytes
                            .extend_from_slice(next.encode_utf8(&mut buf).as_bytes());
                    }
                }
                c if c.is_control() => {
                    return Err(
                        "UnsupportedCharacter (Value contains unsupported characters)".into(),
                    )
                }
                c => {
                    let mut buf = [0u8; 4];
                    field
                        .bytes
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        if inside {
            return Err(
                "InvalidCharacterString (Value has an unterminated quotation mark)".to_string(),
            );
        }
        out.push(field);
    }
}

fn exactly(fields: &[Field], n: usize) -> Result<(), String> {
    match fields.len().cmp(&n) {
        std::cmp::Ordering::Less => Err(TOO_FEW.into()),
        std::cmp::Ordering::Greater => Err(TOO_MANY.into()),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

fn number<T: std::str::FromStr>(field: &Field, what: &str) -> Result<T, String> {
    if field.quoted {
        return Err(format!(
            "RRDATAIllegalNumber ({what} must be a number, not a quoted string)"
        ));
    }
    field
        .text()
        .parse::<T>()
        .map_err(|_| format!("RRDATAIllegalNumber ({what} is not a number in its range)"))
}

/// A domain name field, canonical. `.` (the root) is allowed where DNS allows it.
fn domain(field: &Field) -> Result<String, String> {
    let text = field.text();
    if text.contains("..") || text.starts_with('.') && text != "." {
        return Err("DomainLabelEmpty (Domain label is empty)".into());
    }
    normalize(&text).map_err(|e| {
        if e.contains("longer than 63") {
            "DomainLabelTooLong (Domain label is too long)".to_string()
        } else if e.contains("longer than 255") {
            "DomainNameTooLong (Domain name is too long)".to_string()
        } else {
            "UnsupportedCharacter (Value contains unsupported characters)".to_string()
        }
    })
}

fn hex(fields: &[Field], what: &str) -> Result<Vec<u8>, String> {
    let text: String = fields.iter().map(Field::text).collect();
    if text.is_empty() || (text.len() & 1) != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("RRDATAIllegalHex ({what} is not hexadecimal)"));
    }
    Ok((0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("checked hex"))
        .collect())
}

fn character_strings(fields: &[Field]) -> Result<Vec<Vec<u8>>, String> {
    if fields.is_empty() || fields.iter().any(|f| !f.quoted) {
        return Err(NOT_QUOTED.into());
    }
    if fields.iter().any(|f| f.bytes.len() > 255) {
        return Err("CharacterStringTooLong (Value is too long)".into());
    }
    Ok(fields.iter().map(|f| f.bytes.clone()).collect())
}

fn quoted(field: &Field) -> Result<Vec<u8>, String> {
    if !field.quoted {
        return Err(NOT_QUOTED.into());
    }
    if field.bytes.len() > 255 {
        return Err("CharacterStringTooLong (Value is too long)".into());
    }
    Ok(field.bytes.clone())
}

fn digest_length(
    kind: &str,
    what: &str,
    bytes: &[u8],
    expected: Option<usize>,
) -> Result<(), String> {
    match expected {
        Some(n) if bytes.len() != n => Err(format!(
            "{kind}RRDATAIllegalLength ({what} should be {n} bytes, not {})",
            bytes.len()
        )),
        _ => Ok(()),
    }
}

/// Reads `value` as a record of type `kind`, or says why Route53 refuses it.
pub fn parse(kind: &str, value: &str) -> Result<RData, String> {
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    if value.is_empty() {
        return Err("RRDATAEmpty (Value is empty)".into());
    }
    let f = fields(value)?;
    let single_name = |f: &[Field]| -> Result<String, String> {
        if f.len() > 1 {
            return Err("RRDATANotSingleField (Value contains spaces)".into());
        }
        domain(&f[0])
    };
    Ok(match kind {
        "A" => RData::A(
            value
                .parse()
                .map_err(|_| "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)")?,
        ),
        "AAAA" => RData::Aaaa(
            value
                .parse()
                .map_err(|_| "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)")?,
        ),
        "CNAME" => RData::Cname(single_name(&f)?),
        "NS" => RData::Ns(single_name(&f)?),
        "PTR" => RData::Ptr(single_name(&f)?),
        "MX" => {
            exactly(&f, 2)?;
            RData::Mx {
                preference: number(&f[0], "The MX priority")?,
                exchange: domain(&f[1])?,
            }
        }
        "TXT" => RData::Txt(character_strings(&f)?),
        "SPF" => RData::Spf(character_strings(&f)?),
        "SRV" => {
            exactly(&f, 4)?;
            RData::Srv {
                priority: number(&f[0], "The SRV priority")?,
                weight: number(&f[1], "The SRV weight")?,
                port: number(&f[2], "The SRV port")?,
                target: domain(&f[3])?,
            }
        }
        "SOA" => {
            exactly(&f, 7)?;
            RData::Soa {
                mname: domain(&f[0])?,
                rname: domain(&f[1])?,
                serial: number(&f[2], "The SOA serial")?,
                refresh: number(&f[3], "The SOA refresh")?,
                retry: number(&f[4], "The SOA retry")?,
                expire: number(&f[5], "The SOA expire")?,
                minimum: number(&f[6], "The SOA minimum")?,
            }
        }
        "CAA" => {
            exactly(&f, 3)?;
            let tag = f[1].text();
            if f[1].quoted
                || tag.is_empty()
                || tag.len() > 15
                || !tag.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(
                    "CAARRDATAIllegalTag (The CAA tag is 1 to 15 letters and digits, such as issue, issuewild or iodef)"
                        .into(),
                );
            }
            RData::Caa {
                flags: number(&f[0], "The CAA flags")?,
                tag,
                value: quoted(&f[2])?,
            }
        }
        "DS" => {
            if f.len() < 4 {
                return Err(TOO_FEW.into());
            }
            let digest_type: u8 = number(&f[2], "The DS digest type")?;
            let digest = hex(&f[3..], "The DS digest")?;
            let expected = match digest_type {
                1 => Some(20),
                2 => Some(32),
                4 => Some(48),
                _ => None,
            };
            digest_length("DS", "The digest", &digest, expected)?;
            RData::Ds {
                key_tag: number(&f[0], "The DS key tag")?,
                algorithm: number(&f[1], "The DS algorithm")?,
                digest_type,
                digest,
            }
        }
        "NAPTR" => {
            exactly(&f, 6)?;
            let flags = quoted(&f[2])?;
            if !flags.iter().all(u8::is_ascii_alphanumeric) {
                return Err(
                    "NAPTRRDATAIllegalFlags (The NAPTR flags are letters and digits, such as \"U\", \"S\", \"A\" or \"P\")"
                        .into(),
                );
            }
            RData::Naptr {
                order: number(&f[0], "The NAPTR order")?,
                preference: number(&f[1], "The NAPTR preference")?,
                flags,
                services: quoted(&f[3])?,
                regexp: quoted(&f[4])?,
                replacement: domain(&f[5])?,
            }
        }
        "SSHFP" => {
            if f.len() < 3 {
                return Err(TOO_FEW.into());
            }
            let algorithm: u8 = number(&f[0], "The SSHFP algorithm")?;
            if !matches!(algorithm, 1..=4 | 6) {
                return Err(
                    "SSHFPRRDATAIllegalAlgorithm (The SSHFP algorithm is 1 (RSA), 2 (DSA), 3 (ECDSA), 4 (Ed25519) or 6 (Ed448))"
                        .into(),
                );
            }
            let fingerprint_type: u8 = number(&f[1], "The SSHFP fingerprint type")?;
            let expected = match fingerprint_type {
                1 => 20,
                2 => 32,
                _ => {
                    return Err(
                        "SSHFPRRDATAIllegalFingerprintType (The SSHFP fingerprint type is 1 (SHA-1) or 2 (SHA-256))"
                            .into(),
                    )
                }
            };
            let fingerprint = hex(&f[2..], "The SSHFP fingerprint")?;
            digest_length("SSHFP", "The fingerprint", &fingerprint, Some(expected))?;
            RData::Sshfp {
                algorithm,
                fingerprint_type,
                fingerprint,
            }
        }
        "TLSA" => {
            if f.len() < 4 {
                return Err(TOO_FEW.into());
            }
            let usage: u8 = number(&f[0], "The TLSA certificate usage")?;
            let selector: u8 = number(&f[1], "The TLSA selector")?;
            let matching_type: u8 = number(&f[2], "The TLSA matching type")?;
            if usage > 3 {
                return Err("TLSARRDATAIllegalUsage (The TLSA certificate usage is 0 to 3)".into());
            }
            if selector > 1 {
                return Err("TLSARRDATAIllegalSelector (The TLSA selector is 0 or 1)".into());
            }
            let expected = match matching_type {
                0 => None,
                1 => Some(32),
                2 => Some(64),
                _ => {
                    return Err(
                        "TLSARRDATAIllegalMatchingType (The TLSA matching type is 0 to 2)".into(),
                    )
                }
            };
            let data = hex(&f[3..], "The TLSA certificate association data")?;
            digest_length("TLSA", "The certificate association data", &data, expected)?;
            RData::Tlsa {
                usage,
                selector,
                matching_type,
                data,
            }
        }
        "SVCB" | "HTTPS" => {
            if f.len() < 2 {
                return Err(TOO_FEW.into());
            }
            let priority: u16 = number(&f[0], &format!("The {kind} priority"))?;
            let target = domain(&f[1])?;
            if priority == 0 && f.len() > 2 {
                return Err(format!(
                    "{kind}RRDATAIllegalParams (A {kind} record of priority 0 (alias mode) has no parameters)"
                ));
            }
            RData::Svcb {
                https: kind == "HTTPS",
                priority,
                target,
                params: svc_params(kind, &f[2..])?,
            }
        }
        other => {
            return Err(format!(
                "UnsupportedType ({other} records are not supported)"
            ))
        }
    })
}

/// SVCB/HTTPS parameters (RFC 9460) in wire form, sorted by key.
fn svc_params(kind: &str, fields: &[Field]) -> Result<Vec<(u16, Vec<u8>)>, String> {
    let bad = |why: &str| format!("{kind}RRDATAIllegalParams ({why})");
    let mut params: Vec<(u16, Vec<u8>)> = Vec::new();
    for field in fields {
        let text = field.text();
        let (name, value) = match text.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_string())),
            None => (text.to_ascii_lowercase(), None),
        };
        let key = svc_key(&name).ok_or_else(|| bad(&format!("unknown parameter '{name}'")))?;
        let needs = |v: &Option<String>| -> Result<String, String> {
            v.clone()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| bad(&format!("the parameter '{name}' needs a value")))
        };
        let list = |v: &str| -> Vec<String> { v.split(',').map(str::to_string).collect() };
        let wire = match key {
            0 => {
                let mut keys = Vec::new();
                for k in list(&needs(&value)?) {
                    let n = svc_key(&k.to_ascii_lowercase())
                        .filter(|n| *n != 0)
                        .ok_or_else(|| bad(&format!("mandatory lists an unknown key '{k}'")))?;
                    keys.push(n);
                }
                keys.sort_unstable();
                keys.dedup();
                keys.iter().flat_map(|k| k.to_be_bytes()).collect()
            }
            1 => {
                let mut out = Vec::new();
                for id in list(&needs(&value)?) {
                    if id.is_empty() || id.len() > 255 {
                        return Err(bad("an alpn protocol id is 1 to 255 characters"));
                    }
                    out.push(id.len() as u8);
                    out.extend_from_slice(id.as_bytes());
                }
                out
            }
            2 => {
                if value.is_some() {
                    return Err(bad("no-default-alpn takes no value"));
                }
                Vec::new()
            }
            3 => needs(&value)?
                .parse::<u16>()
                .map_err(|_| bad("port is a number from 0 to 65535"))?
                .to_be_bytes()
                .to_vec(),
            4 => {
                let mut out = Vec::new();
                for ip in list(&needs(&value)?) {
                    let ip: Ipv4Addr = ip
                        .parse()
                        .map_err(|_| bad("ipv4hint lists IPv4 addresses"))?;
                    out.extend_from_slice(&ip.octets());
                }
                out
            }
            5 => B64
                .decode(needs(&value)?.as_bytes())
                .map_err(|_| bad("ech is base64"))?,
            6 => {
                let mut out = Vec::new();
                for ip in list(&needs(&value)?) {
                    let ip: Ipv6Addr = ip
                        .parse()
                        .map_err(|_| bad("ipv6hint lists IPv6 addresses"))?;
                    out.extend_from_slice(&ip.octets());
                }
                out
            }
            _ => value.unwrap_or_default().into_bytes(),
        };
        if params.iter().any(|(k, _)| *k == key) {
            return Err(bad(&format!("the parameter '{name}' appears twice")));
        }
        params.push((key, wire));
    }
    params.sort_by_key(|(k, _)| *k);
    // Keys that mandatory names must be present.
    if let Some((_, mandatory)) = params.iter().find(|(k, _)| *k == 0) {
        for pair in mandatory.chunks(2) {
            let k = u16::from_be_bytes([pair[0], pair[1]]);
            if !params.iter().any(|(p, _)| *p == k) {
                return Err(bad("mandatory names a parameter that is not given"));
            }
        }
    }
    Ok(params)
}

fn svc_key(name: &str) -> Option<u16> {
    Some(match name {
        "mandatory" => 0,
        "alpn" => 1,
        "no-default-alpn" => 2,
        "port" => 3,
        "ipv4hint" => 4,
        "ech" => 5,
        "ipv6hint" => 6,
        other => other
            .strip_prefix("key")
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))?
            .parse()
            .ok()
            .filter(|n| *n != 65535)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_route53s_examples() {
        assert_eq!(
            parse("A", "192.0.2.1").unwrap(),
            RData::A([192, 0, 2, 1].into())
        );
        assert!(matches!(
            parse("AAAA", "2001:db8::1").unwrap(),
            RData::Aaaa(_)
        ));
        assert_eq!(
            parse("CNAME", "Www.Example.com").unwrap(),
            RData::Cname("www.example.com.".into())
        );
        assert_eq!(
            parse("CAA", "0 issue \"amazon.com\"").unwrap(),
            RData::Caa {
                flags: 0,
                tag: "issue".into(),
                value: b"amazon.com".to_vec()
            }
        );
        assert!(parse("CAA", "128 iodef \"mailto:security@example.com\"").is_ok());
        assert!(parse("CAA", "0 issue \";\"").is_ok());
        assert_eq!(
            parse("DS", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118").unwrap(),
            RData::Ds {
                key_tag: 60485,
                algorithm: 5,
                digest_type: 1,
                digest: hex(
                    &fields("2BB183AF5F22588179A53B0A98631FAD1A292118").unwrap(),
                    "d"
                )
                .unwrap()
            }
        );
        match parse(
            "NAPTR",
            "100 100 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
        )
        .unwrap()
        {
            RData::Naptr {
                order,
                flags,
                regexp,
                replacement,
                ..
            } => {
                assert_eq!(order, 100);
                assert_eq!(flags, b"U");
                assert_eq!(regexp, b"!^.*$!sip:info@example.com!");
                assert_eq!(replacement, ".");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse("SPF", "\"v=spf1 ip4:192.0.2.0/24 -all\"").unwrap(),
            RData::Spf(vec![b"v=spf1 ip4:192.0.2.0/24 -all".to_vec()])
        );
        assert!(parse("SSHFP", "1 1 09F6A01D2175742B257C6B98B7C72C44C4040683").is_ok());
        assert!(parse(
            "TLSA",
            "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"
        )
        .is_ok());
        match parse("HTTPS", "1 . alpn=\"h3,h2\" port=443 ipv4hint=192.0.2.1").unwrap() {
            RData::Svcb {
                https,
                priority,
                target,
                params,
            } => {
                assert!(https);
                assert_eq!((priority, target.as_str()), (1, "."));
                assert_eq!(
                    params,
                    vec![
                        (1, b"\x02h3\x02h2".to_vec()),
                        (3, 443u16.to_be_bytes().to_vec()),
                        (4, vec![192, 0, 2, 1]),
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("SVCB", "0 svc.example.com.").is_ok());
        assert!(parse(
            "SOA",
            "ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 86400"
        )
        .is_ok());
        assert_eq!(
            parse("TXT", "\"a \\\"b\\\"\" \"\\052\"").unwrap(),
            RData::Txt(vec![b"a \"b\"".to_vec(), b"*".to_vec()])
        );
    }

    #[test]
    fn malformed_values_get_route53s_reasons() {
        let reason = |kind: &str, value: &str| parse(kind, value).unwrap_err();
        assert!(reason("A", "999.1.1.1").starts_with("ARRDATAIllegalIPv4Address"));
        assert!(reason("AAAA", "1.2.3.4").starts_with("AAAARRDATAIllegalIPv6Address"));
        assert!(reason("TXT", "unquoted").contains("quotation marks"));
        assert!(reason("TXT", &format!("\"{}\"", "x".repeat(256)))
            .starts_with("CharacterStringTooLong"));
        assert!(reason("CNAME", "a b").starts_with("RRDATANotSingleField"));
        assert!(reason("CNAME", "a..b").starts_with("DomainLabelEmpty"));
        assert!(reason("CAA", "0 issue amazon.com").contains("quotation marks"));
        assert!(reason("CAA", "256 issue \"amazon.com\"").starts_with("RRDATAIllegalNumber"));
        assert!(reason("CAA", "0 is-sue \"amazon.com\"").starts_with("CAARRDATAIllegalTag"));
        assert!(reason("CAA", "0 issue").starts_with("RRDATATooFewFields"));
        assert!(reason("DS", "1 5 2 ABCD").starts_with("DSRRDATAIllegalLength"));
        assert!(reason("DS", "1 5 1 XYZ").starts_with("RRDATAIllegalHex"));
        assert!(
            reason("SSHFP", "9 1 09F6A01D2175742B257C6B98B7C72C44C4040683")
                .starts_with("SSHFPRRDATAIllegalAlgorithm")
        );
        assert!(
            reason("SSHFP", "1 2 09F6A01D2175742B257C6B98B7C72C44C4040683")
                .starts_with("SSHFPRRDATAIllegalLength")
        );
        assert!(reason("TLSA", "4 1 1 00").starts_with("TLSARRDATAIllegalUsage"));
        assert!(
            reason("NAPTR", "100 100 \"U\" \"E2U+sip\" \"x\"").starts_with("RRDATATooFewFields")
        );
        assert!(reason("NAPTR", "100 100 \"U!\" \"E2U+sip\" \"x\" .")
            .starts_with("NAPTRRDATAIllegalFlags"));
        assert!(reason("HTTPS", "0 . alpn=h2").starts_with("HTTPSRRDATAIllegalParams"));
        assert!(reason("SVCB", "1 . color=blue").contains("unknown parameter"));
        assert!(reason("SVCB", "1 . port=99999").contains("port"));
        assert!(reason("SVCB", "1 . mandatory=port").contains("not given"));
        assert!(reason("MX", "10").starts_with("RRDATATooFewFields"));
        assert!(reason("SRV", "1 2 3 t.example.com extra").starts_with("RRDATATooManyFields"));
        assert!(reason("TXT", "\"open").contains("unterminated"));
        assert!(reason("TXT", "\"a\tb\"").starts_with("UnsupportedCharacter"));
    }
}
