//! From a query message to a response message, against a set of zones: authoritative answers,
//! CNAME and alias chasing within m2sec's own zones, NXDOMAIN / NODATA with the zone's SOA, REFUSED for
//! names m2sec holds no zone for.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::caa::{Property, Value as CaaValue};
use hickory_proto::rr::rdata::{
    A, AAAA, CAA, CNAME, MX, NAPTR, NS, NULL, PTR, SOA, SRV, SSHFP, TLSA, TXT,
};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use m2sec_route53::rdata::{parse, RData as Value};
use m2sec_route53::store::enclosing;
use m2sec_route53::zone::{Answer, RecordSet, Zone};

/// How many CNAMEs or aliases an answer follows at most.
const MAX_CHAIN: usize = 8;

/// The largest reply sent over UDP to a query with EDNS (RFC 6891), whatever larger size it offers.
const EDNS_PAYLOAD: u16 = 1232;

/// [`answer`] for a UDP query: a reply larger than the query allows (512 bytes, or the EDNS payload
/// size it offers, at most [`EDNS_PAYLOAD`]) is sent truncated (TC, no records), so the client asks
/// again over TCP.
pub fn answer_udp(zones: &[Zone], query: &[u8]) -> Option<Vec<u8>> {
    let reply = answer(zones, query)?;
    let limit = Message::from_vec(query)
        .ok()
        .and_then(|m| m.extensions().as_ref().map(|e| e.max_payload()))
        .map_or(512, |p| p.clamp(512, EDNS_PAYLOAD)) as usize;
    if reply.len() <= limit {
        return Some(reply);
    }
    let full = Message::from_vec(&reply).ok()?;
    let mut cut = Message::new();
    cut.set_header(*full.header());
    cut.add_queries(full.queries().to_vec());
    cut.set_truncated(true);
    if let Some(edns) = full.extensions().clone() {
        cut.set_edns(edns);
    }
    cut.to_vec().ok()
}

/// The response to the DNS message `query`, or `None` if it is not a DNS query at all.
pub fn answer(zones: &[Zone], query: &[u8]) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    if request.message_type() != MessageType::Query {
        return None;
    }
    let mut response = Message::new();
    response
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(request.op_code())
        .set_recursion_desired(request.recursion_desired())
        .set_recursion_available(false);
    if request.extensions().is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD).set_version(0);
        response.set_edns(edns);
    }
    let Some(question) = request.queries().first().cloned() else {
        response.set_response_code(ResponseCode::FormErr);
        return response.to_vec().ok();
    };
    response.add_query(question.clone());
    if request.op_code() != OpCode::Query {
        response.set_response_code(ResponseCode::NotImp);
        return response.to_vec().ok();
    }
    let qname = canonical(question.name());
    let qtype = question.query_type();
    let kind = type_name(qtype);
    let Some(zone) = enclosing(zones, &qname) else {
        response.set_response_code(ResponseCode::Refused);
        return response.to_vec().ok();
    };
    response.set_authoritative(true);
    let mut name = qname.clone();
    let mut current = zone;
    for _ in 0..MAX_CHAIN {
        match current.resolve(&name, &kind) {
            Answer::Records(sets) => {
                let sets = if qtype == RecordType::ANY {
                    one_rrset(sets)
                } else {
                    sets
                };
                let mut next = None;
                for set in &sets {
                    if let Some(alias) = &set.alias {
                        // An alias answers with its target's records, under the queried name.
                        next = Some((alias.dns_name.clone(), Some((name.clone(), &set.kind))));
                        continue;
                    }
                    for record in records_of(set) {
                        response.add_answer(record);
                    }
                    // A CNAME found for ANY is the answer itself: RFC 1034 §3.6.2 restarts the query
                    // at the target only when the name has none of the records asked for.
                    if set.kind == "CNAME" && qtype != RecordType::CNAME && qtype != RecordType::ANY
                    {
                        next = set.records.first().map(|t| (t.clone(), None));
                    }
                }
                match next {
                    Some((target, owner)) => {
                        let Some(z) = enclosing(zones, &target) else {
                            break;
                        };
                        if let Some((owner, alias_kind)) = owner {
                            // Resolve the alias target and write its records under `owner` (for
                            // ANY, the records of the alias's own type only).
                            let wanted = if qtype == RecordType::ANY {
                                alias_kind
                            } else {
                                &kind
                            };
                            if let Answer::Records(target_sets) = z.resolve(&target, wanted) {
                                for set in target_sets.iter().filter(|s| s.alias.is_none()) {
                                    let renamed = RecordSet {
                                        name: owner.clone(),
                                        ..set.clone()
                                    };
                                    for record in records_of(&renamed) {
                                        response.add_answer(record);
                                    }
                                }
                            }
                            break;
                        }
                        name = target;
                        current = z;
                    }
                    None => break,
                }
            }
            Answer::NoData => {
                if response.answers().is_empty() {
                    add_soa(&mut response, current);
                }
                break;
            }
            Answer::NxDomain => {
                if response.answers().is_empty() {
                    response.set_response_code(ResponseCode::NXDomain);
                    add_soa(&mut response, current);
                }
                break;
            }
        }
    }
    response.to_vec().ok()
}

/// The one RRset answering an ANY query: RFC 8482 §4.1, as BIND's `minimal-any` does, so that ANY
/// gets an attacker no more amplification than a query for one type already does (a name's whole set
/// of records could be many times the query's size). A real RRset rather than §4.2's synthesized HINFO:
/// it is no larger than what a query for its type gets anyway, and stays useful to whoever asks ANY
/// to have a look. The RRset is the one of lowest type code, so the choice does not depend on the
/// order the sets were written in; at a delegated name (NS and DS) that is the NS set.
fn one_rrset(sets: Vec<RecordSet>) -> Vec<RecordSet> {
    let Some(kind) = sets
        .iter()
        .map(|s| s.kind.clone())
        .min_by_key(|k| type_code(k))
    else {
        return sets;
    };
    sets.into_iter().filter(|s| s.kind == kind).collect()
}

/// The type code of a Route53 record type (SPF, type 99, has no name in hickory-proto).
fn type_code(kind: &str) -> u16 {
    match kind {
        "SPF" => 99,
        other => other.parse::<RecordType>().map_or(u16::MAX, u16::from),
    }
}

/// Route53's name of a query type (SPF, type 99, has none in hickory-proto).
fn type_name(qtype: RecordType) -> String {
    match qtype {
        RecordType::Unknown(99) => "SPF".to_string(),
        other => other.to_string(),
    }
}

fn canonical(name: &Name) -> String {
    let mut text = name.to_ascii().to_ascii_lowercase();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

fn add_soa(response: &mut Message, zone: &Zone) {
    if let Some(soa) = zone
        .record_sets
        .iter()
        .find(|s| s.kind == "SOA" && s.name == zone.name)
    {
        for record in records_of(soa) {
            response.add_name_server(record);
        }
    }
}

/// The DNS records of a record set (values the wire cannot carry are skipped).
fn records_of(set: &RecordSet) -> Vec<Record> {
    let Ok(owner) = Name::from_ascii(&set.name) else {
        return vec![];
    };
    let ttl = set.ttl.unwrap_or(300).clamp(0, i64::from(u32::MAX)) as u32;
    set.records
        .iter()
        .filter_map(|value| rdata(&set.kind, value))
        .map(|data| Record::from_rdata(owner.clone(), ttl, data))
        .collect()
}

/// The DNS form of one record value ([`m2sec_route53::rdata::parse`] reads it as Route53 accepted it).
/// hickory-proto writes A, AAAA, CNAME, NS, PTR, MX, TXT, SRV, SOA, CAA, NAPTR, SSHFP and TLSA; DS (kept
/// behind its `dnssec` feature), SPF (no type of its own there) and SVCB/HTTPS (whose `ech` and `keyNNNNN`
/// parameters it writes with a stray length byte) are written here, RFC by RFC, and carried as raw RDATA.
fn rdata(kind: &str, value: &str) -> Option<RData> {
    let name = |text: &str| Name::from_ascii(text).ok();
    let raw = |code: RecordType, bytes: Vec<u8>| RData::Unknown {
        code,
        rdata: NULL::with(bytes),
    };
    Some(match parse(kind, value).ok()? {
        Value::A(ip) => RData::A(A(ip)),
        Value::Aaaa(ip) => RData::AAAA(AAAA(ip)),
        Value::Cname(target) => RData::CNAME(CNAME(name(&target)?)),
        Value::Ns(target) => RData::NS(NS(name(&target)?)),
        Value::Ptr(target) => RData::PTR(PTR(name(&target)?)),
        Value::Mx {
            preference,
            exchange,
        } => RData::MX(MX::new(preference, name(&exchange)?)),
        Value::Txt(strings) => {
            RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
        }
        // RFC 7208: SPF's RDATA is TXT's (character strings) under type 99.
        Value::Spf(strings) => raw(RecordType::Unknown(99), character_strings(&strings)),
        Value::Srv {
            priority,
            weight,
            port,
            target,
        } => RData::SRV(SRV::new(priority, weight, port, name(&target)?)),
        Value::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => RData::SOA(SOA::new(
            name(&mname)?,
            name(&rname)?,
            serial,
            i32::try_from(refresh).ok()?,
            i32::try_from(retry).ok()?,
            i32::try_from(expire).ok()?,
            minimum,
        )),
        // The value is written as given (hickory's issuer form would re-spell it); flags other than
        // the issuer-critical bit are kept too, in RFC 8659's raw form.
        Value::Caa { flags, tag, value } if flags & 0x7f == 0 => RData::CAA(CAA {
            issuer_critical: flags & 0x80 != 0,
            tag: Property::from(tag),
            value: CaaValue::Unknown(value),
        }),
        Value::Caa { flags, tag, value } => {
            let mut bytes = vec![flags, u8::try_from(tag.len()).ok()?];
            bytes.extend_from_slice(tag.as_bytes());
            bytes.extend_from_slice(&value);
            raw(RecordType::CAA, bytes)
        }
        // RFC 4034 §5.1.
        Value::Ds {
            key_tag,
            algorithm,
            digest_type,
            digest,
        } => {
            let mut bytes = key_tag.to_be_bytes().to_vec();
            bytes.extend_from_slice(&[algorithm, digest_type]);
            bytes.extend_from_slice(&digest);
            raw(RecordType::DS, bytes)
        }
        Value::Naptr {
            order,
            preference,
            flags,
            services,
            regexp,
            replacement,
        } => RData::NAPTR(NAPTR::new(
            order,
            preference,
            flags.into_boxed_slice(),
            services.into_boxed_slice(),
            regexp.into_boxed_slice(),
            name(&replacement)?,
        )),
        Value::Sshfp {
            algorithm,
            fingerprint_type,
            fingerprint,
        } => RData::SSHFP(SSHFP::new(
            algorithm.into(),
            fingerprint_type.into(),
            fingerprint,
        )),
        Value::Tlsa {
            usage,
            selector,
            matching_type,
            data,
        } => RData::TLSA(TLSA::new(
            usage.into(),
            selector.into(),
            matching_type.into(),
            data,
        )),
        // RFC 9460 §2.2: priority, the target uncompressed, then each parameter as key, length, value.
        Value::Svcb {
            https,
            priority,
            target,
            params,
        } => {
            let mut bytes = priority.to_be_bytes().to_vec();
            bytes.extend_from_slice(&uncompressed(&target)?);
            for (key, value) in params {
                bytes.extend_from_slice(&key.to_be_bytes());
                bytes.extend_from_slice(&u16::try_from(value.len()).ok()?.to_be_bytes());
                bytes.extend_from_slice(&value);
            }
            raw(
                if https {
                    RecordType::HTTPS
                } else {
                    RecordType::SVCB
                },
                bytes,
            )
        }
    })
}

/// RFC 1035 character strings: each one's length, then its bytes.
fn character_strings(strings: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in strings {
        out.push(s.len().min(255) as u8);
        out.extend_from_slice(&s[..s.len().min(255)]);
    }
    out
}

/// A canonical name (`a.b.` or `.`) in wire form without compression.
fn uncompressed(name: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        out.push(u8::try_from(label.len()).ok().filter(|n| *n <= 63)?);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use m2sec_route53::zone::{Action, Alias, Change};

    fn set(name: &str, kind: &str, values: &[&str]) -> RecordSet {
        RecordSet {
            name: name.into(),
            kind: kind.into(),
            ttl: Some(60),
            records: values.iter().map(|v| v.to_string()).collect(),
            alias: None,
            set_identifier: None,
            weight: None,
        }
    }

    fn zones() -> Vec<Zone> {
        let mut z = Zone::new(
            "Z1",
            "fanops.com.",
            "r",
            None,
            false,
            0,
            &["ns1.m2sec.internal.".into()],
        );
        let mut alias = set("www.fanops.com", "A", &[]);
        alias.ttl = None;
        alias.alias = Some(Alias {
            hosted_zone_id: "Z1".into(),
            dns_name: "api.fanops.com".into(),
            evaluate_target_health: false,
        });
        z.apply(&[
            Change {
                action: Action::Create,
                set: set("api.fanops.com", "A", &["192.0.2.10"]),
            },
            Change {
                action: Action::Create,
                set: set(
                    "_abc.api.fanops.com",
                    "CNAME",
                    &["_def.xyz.acm-validations.aws."],
                ),
            },
            Change {
                action: Action::Create,
                set: set("t.fanops.com", "TXT", &["\"v=spf1 -all\" \"two\""]),
            },
            Change {
                action: Action::Create,
                set: set("mail.fanops.com", "MX", &["10 mx.fanops.com"]),
            },
            Change {
                action: Action::Create,
                set: set(
                    "_https._tcp.fanops.com",
                    "SRV",
                    &["10 5 443 api.fanops.com."],
                ),
            },
            Change {
                action: Action::Create,
                set: set("link.fanops.com", "CNAME", &["api.fanops.com"]),
            },
            Change {
                action: Action::Create,
                set: alias,
            },
        ])
        .unwrap();
        vec![z]
    }

    fn ask(name: &str, kind: RecordType) -> Message {
        let mut m = Message::new();
        m.set_id(4242).set_recursion_desired(true);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
        Message::from_vec(&answer(&zones(), &m.to_vec().unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn answers_from_the_zone() {
        let r = ask("API.fanops.com.", RecordType::A);
        assert_eq!(r.id(), 4242);
        assert!(r.authoritative());
        assert_eq!(r.response_code(), ResponseCode::NoError);
        assert_eq!(
            r.answers()[0].data(),
            Some(&RData::A(A("192.0.2.10".parse().unwrap())))
        );

        let r = ask("_abc.api.fanops.com.", RecordType::CNAME);
        assert_eq!(
            r.answers()[0].data(),
            Some(&RData::CNAME(CNAME(
                Name::from_ascii("_def.xyz.acm-validations.aws.").unwrap()
            )))
        );
        let r = ask("t.fanops.com.", RecordType::TXT);
        match r.answers()[0].data() {
            Some(RData::TXT(txt)) => {
                let segments: Vec<&[u8]> = txt.txt_data().iter().map(|s| &s[..]).collect();
                assert_eq!(segments, vec![&b"v=spf1 -all"[..], &b"two"[..]]);
            }
            other => panic!("{other:?}"),
        }
        let r = ask("mail.fanops.com.", RecordType::MX);
        assert!(matches!(r.answers()[0].data(), Some(RData::MX(_))));
        let r = ask("_https._tcp.fanops.com.", RecordType::SRV);
        match r.answers()[0].data() {
            Some(RData::SRV(srv)) => {
                assert_eq!((srv.priority(), srv.weight(), srv.port()), (10, 5, 443))
            }
            other => panic!("{other:?}"),
        }
    }

    fn rarer() -> Vec<Zone> {
        let mut z = Zone::new(
            "Z2",
            "rare.example.",
            "r",
            None,
            false,
            0,
            &["ns1.m2sec.internal.".into()],
        );
        z.apply(&[
            Change {
                action: Action::Create,
                set: set(
                    "rare.example",
                    "CAA",
                    &[
                        "0 issue \"amazon.com\"",
                        "128 tbs \"Unknown\"",
                        "5 iodef \"mailto:x@rare.example\"",
                    ],
                ),
            },
            Change {
                action: Action::Create,
                set: set(
                    "sub.rare.example",
                    "DS",
                    &["60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"],
                ),
            },
            Change {
                action: Action::Create,
                set: set(
                    "sip.rare.example",
                    "NAPTR",
                    &["100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@rare.example!\" ."],
                ),
            },
            Change {
                action: Action::Create,
                set: set("rare.example", "SPF", &["\"v=spf1 -all\""]),
            },
            Change {
                action: Action::Create,
                set: set(
                    "host.rare.example",
                    "SSHFP",
                    &["1 1 09F6A01D2175742B257C6B98B7C72C44C4040683"],
                ),
            },
            Change {
                action: Action::Create,
                set: set(
                    "_443._tcp.rare.example",
                    "TLSA",
                    &["3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"],
                ),
            },
            Change {
                action: Action::Create,
                set: set(
                    "rare.example",
                    "HTTPS",
                    &["1 . alpn=\"h3,h2\" port=443 ech=AAT+DQAA"],
                ),
            },
            Change {
                action: Action::Create,
                set: set("_svc.rare.example", "SVCB", &["0 svc.rare.example."]),
            },
        ])
        .unwrap();
        vec![z]
    }

    fn ask_in(zones: &[Zone], name: &str, kind: RecordType) -> Message {
        let mut m = Message::new();
        m.set_id(7);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
        Message::from_vec(&answer(zones, &m.to_vec().unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn rarer_types_are_answered() {
        let zones = rarer();
        let r = ask_in(&zones, "rare.example.", RecordType::CAA);
        assert_eq!(r.answers().len(), 3);
        match r.answers()[0].data() {
            Some(RData::CAA(caa)) => {
                assert!(!caa.issuer_critical());
                assert!(caa.tag().is_issue());
            }
            other => panic!("{other:?}"),
        }
        match r.answers()[1].data() {
            Some(RData::CAA(caa)) => assert!(caa.issuer_critical()),
            other => panic!("{other:?}"),
        }
        let r = ask_in(&zones, "sub.rare.example.", RecordType::DS);
        assert_eq!(r.answers()[0].record_type(), RecordType::DS);
        match r.answers()[0].data() {
            Some(RData::Unknown { rdata, .. }) => {
                assert_eq!(&rdata.anything()[..4], &[0xec, 0x45, 5, 1]);
                assert_eq!(rdata.anything().len(), 4 + 20);
            }
            other => panic!("{other:?}"),
        }
        let r = ask_in(&zones, "sip.rare.example.", RecordType::NAPTR);
        match r.answers()[0].data() {
            Some(RData::NAPTR(n)) => {
                assert_eq!((n.order(), n.preference()), (100, 10));
                assert_eq!(n.services(), b"E2U+sip");
                assert!(n.replacement().is_root());
            }
            other => panic!("{other:?}"),
        }
        let r = ask_in(&zones, "rare.example.", RecordType::Unknown(99));
        assert_eq!(r.answers().len(), 1);
        match r.answers()[0].data() {
            Some(RData::Unknown { rdata, .. }) => {
                assert_eq!(rdata.anything(), b"\x0bv=spf1 -all")
            }
            other => panic!("{other:?}"),
        }
        let r = ask_in(&zones, "host.rare.example.", RecordType::SSHFP);
        match r.answers()[0].data() {
            Some(RData::SSHFP(f)) => assert_eq!(f.fingerprint().len(), 20),
            other => panic!("{other:?}"),
        }
        let r = ask_in(&zones, "_443._tcp.rare.example.", RecordType::TLSA);
        match r.answers()[0].data() {
            Some(RData::TLSA(t)) => assert_eq!(t.cert_data().len(), 32),
            other => panic!("{other:?}"),
        }
        let r = ask_in(&zones, "rare.example.", RecordType::HTTPS);
        match r.answers()[0].data() {
            Some(RData::HTTPS(h)) => {
                assert_eq!(h.svc_priority(), 1);
                assert!(h.target_name().is_root());
                assert_eq!(h.svc_params().len(), 3);
            }
            other => panic!("{other:?}"),
        }
        let r = ask_in(&zones, "_svc.rare.example.", RecordType::SVCB);
        match r.answers()[0].data() {
            Some(RData::SVCB(h)) => {
                assert_eq!(h.svc_priority(), 0);
                assert_eq!(h.target_name().to_ascii(), "svc.rare.example.");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn large_udp_replies_are_truncated() {
        let mut z = Zone::new(
            "Z3",
            "big.example.",
            "r",
            None,
            false,
            0,
            &["ns1.m2sec.internal.".into()],
        );
        let values: Vec<String> = (0..10)
            .map(|i| format!("\"{i:02}{}\"", "x".repeat(90)))
            .collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        z.apply(&[Change {
            action: Action::Create,
            set: set("t.big.example", "TXT", &values),
        }])
        .unwrap();
        let zones = vec![z];
        let mut m = Message::new();
        m.set_id(9);
        m.add_query(Query::query(
            Name::from_ascii("t.big.example.").unwrap(),
            RecordType::TXT,
        ));
        let query = m.to_vec().unwrap();
        let full = Message::from_vec(&answer(&zones, &query).unwrap()).unwrap();
        assert_eq!(full.answers().len(), 10);
        let udp = Message::from_vec(&answer_udp(&zones, &query).unwrap()).unwrap();
        assert!(udp.truncated());
        assert!(udp.answers().is_empty());
        assert_eq!(udp.id(), 9);
        // With EDNS and room enough, the whole answer fits.
        let mut edns = Edns::new();
        edns.set_max_payload(4096);
        m.set_edns(edns);
        let udp = Message::from_vec(&answer_udp(&zones, &m.to_vec().unwrap()).unwrap()).unwrap();
        assert!(!udp.truncated());
        assert_eq!(udp.answers().len(), 10);
    }

    #[test]
    fn cnames_and_aliases_are_followed_in_own_zones() {
        let r = ask("link.fanops.com.", RecordType::A);
        assert_eq!(r.answers().len(), 2);
        assert_eq!(
            r.answers()[1].data(),
            Some(&RData::A(A("192.0.2.10".parse().unwrap())))
        );
        let r = ask("www.fanops.com.", RecordType::A);
        assert_eq!(r.answers().len(), 1);
        assert_eq!(r.answers()[0].name().to_ascii(), "www.fanops.com.");
    }

    /// The (name, type) of each RRset of the answer section.
    fn rrsets(r: &Message) -> Vec<(String, RecordType)> {
        let mut sets: Vec<(String, RecordType)> = r
            .answers()
            .iter()
            .map(|a| (a.name().to_ascii(), a.record_type()))
            .collect();
        sets.dedup();
        sets
    }

    #[test]
    fn any_is_answered_with_one_rrset() {
        let mut z = zones().remove(0);
        let long = format!("\"{}\"", "v".repeat(250));
        let ds = "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118";
        let changes: Vec<Change> = [
            ("fanops.com", "TXT", long.as_str()),
            ("fanops.com", "MX", "10 mx.fanops.com"),
            ("fanops.com", "AAAA", "2001:db8::1"),
            ("fanops.com", "A", "192.0.2.1"),
            ("sub.fanops.com", "DS", ds),
            ("sub.fanops.com", "NS", "ns1.elsewhere.example."),
        ]
        .iter()
        .map(|(name, kind, value)| Change {
            action: Action::Create,
            set: set(name, kind, &[value]),
        })
        .collect();
        z.apply(&changes).unwrap();
        let zones = vec![z];

        // The apex holds SOA, NS, TXT, MX, AAAA and A: the answer is its A RRset, whatever the order
        // the sets were written in.
        let r = ask_in(&zones, "fanops.com.", RecordType::ANY);
        assert_eq!(r.response_code(), ResponseCode::NoError);
        assert!(r.authoritative());
        assert_eq!(rrsets(&r), [("fanops.com.".into(), RecordType::A)]);
        assert_eq!(r.answers().len(), 1);
        // Over UDP too, and whole (no truncation needed), about the size of an A query's answer.
        let mut m = Message::new();
        m.add_query(Query::query(
            Name::from_ascii("fanops.com.").unwrap(),
            RecordType::ANY,
        ));
        let query = m.to_vec().unwrap();
        let udp = answer_udp(&zones, &query).unwrap();
        let reply = Message::from_vec(&udp).unwrap();
        assert!(!reply.truncated());
        assert_eq!(rrsets(&reply), [("fanops.com.".into(), RecordType::A)]);
        assert!(udp.len() < 3 * query.len(), "{} bytes", udp.len());

        let r = ask_in(&zones, "mail.fanops.com.", RecordType::ANY);
        assert_eq!(rrsets(&r), [("mail.fanops.com.".into(), RecordType::MX)]);
        // A delegated name: its NS RRset.
        let r = ask_in(&zones, "sub.fanops.com.", RecordType::ANY);
        assert_eq!(rrsets(&r), [("sub.fanops.com.".into(), RecordType::NS)]);
        // A CNAME is the answer, not followed.
        let r = ask_in(&zones, "link.fanops.com.", RecordType::ANY);
        assert_eq!(rrsets(&r), [("link.fanops.com.".into(), RecordType::CNAME)]);
        // An alias: its target's records of the alias's type, under the alias's name.
        let r = ask_in(&zones, "www.fanops.com.", RecordType::ANY);
        assert_eq!(rrsets(&r), [("www.fanops.com.".into(), RecordType::A)]);
        assert_eq!(r.answers().len(), 1);
    }

    #[test]
    fn any_for_missing_names_and_foreign_zones() {
        let zones = zones();
        let r = ask_in(&zones, "nope.fanops.com.", RecordType::ANY);
        assert_eq!(r.response_code(), ResponseCode::NXDomain);
        assert!(r.answers().is_empty());
        assert!(matches!(r.name_servers()[0].data(), Some(RData::SOA(_))));
        // `_tcp.fanops.com` has records below it only: NODATA, with the SOA.
        let r = ask_in(&zones, "_tcp.fanops.com.", RecordType::ANY);
        assert_eq!(r.response_code(), ResponseCode::NoError);
        assert!(r.answers().is_empty());
        assert!(matches!(r.name_servers()[0].data(), Some(RData::SOA(_))));
        let r = ask_in(&zones, "example.org.", RecordType::ANY);
        assert_eq!(r.response_code(), ResponseCode::Refused);
    }

    #[test]
    fn missing_names_and_foreign_zones() {
        let r = ask("nope.fanops.com.", RecordType::A);
        assert_eq!(r.response_code(), ResponseCode::NXDomain);
        assert!(matches!(r.name_servers()[0].data(), Some(RData::SOA(_))));
        let r = ask("api.fanops.com.", RecordType::AAAA);
        assert_eq!(r.response_code(), ResponseCode::NoError);
        assert!(r.answers().is_empty());
        let r = ask("example.org.", RecordType::A);
        assert_eq!(r.response_code(), ResponseCode::Refused);
        assert!(answer(&zones(), b"not dns").is_none());
    }
}
