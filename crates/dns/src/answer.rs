//! From a query message to a response message, against a set of zones: authoritative answers,
//! CNAME and alias chasing within m2sec's own zones, NXDOMAIN / NODATA with the zone's SOA, REFUSED for
//! names m2sec holds no zone for.

use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use m2sec_route53::store::enclosing;
use m2sec_route53::zone::{Answer, RecordSet, Zone};

/// How many CNAMEs or aliases an answer follows at most.
const MAX_CHAIN: usize = 8;

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
    let Some(zone) = enclosing(zones, &qname) else {
        response.set_response_code(ResponseCode::Refused);
        return response.to_vec().ok();
    };
    response.set_authoritative(true);
    let mut name = qname.clone();
    let mut current = zone;
    for _ in 0..MAX_CHAIN {
        match current.resolve(&name, &qtype.to_string()) {
            Answer::Records(sets) => {
                let mut next = None;
                for set in &sets {
                    if let Some(alias) = &set.alias {
                        // An alias answers with its target's records, under the queried name.
                        next = Some((alias.dns_name.clone(), Some(name.clone())));
                        continue;
                    }
                    for record in records_of(set) {
                        response.add_answer(record);
                    }
                    if set.kind == "CNAME" && qtype != RecordType::CNAME {
                        next = set.records.first().map(|t| (t.clone(), None));
                    }
                }
                match next {
                    Some((target, owner)) => {
                        let Some(z) = enclosing(zones, &target) else {
                            break;
                        };
                        if let Some(owner) = owner {
                            // Resolve the alias target and write its records under `owner`.
                            if let Answer::Records(target_sets) =
                                z.resolve(&target, &qtype.to_string())
                            {
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

fn rdata(kind: &str, value: &str) -> Option<RData> {
    let name = |text: &str| Name::from_ascii(text.trim()).ok();
    Some(match kind {
        "A" => RData::A(A(value.parse::<Ipv4Addr>().ok()?)),
        "AAAA" => RData::AAAA(AAAA(value.parse::<Ipv6Addr>().ok()?)),
        "CNAME" => RData::CNAME(CNAME(name(value)?)),
        "NS" => RData::NS(NS(name(value)?)),
        "PTR" => RData::PTR(PTR(name(value)?)),
        "SRV" => {
            let parts: Vec<&str> = value.split_whitespace().collect();
            let [priority, weight, port, target] = parts[..] else {
                return None;
            };
            RData::SRV(SRV::new(
                priority.parse().ok()?,
                weight.parse().ok()?,
                port.parse().ok()?,
                name(target)?,
            ))
        }
        "MX" => {
            let (priority, host) = value.split_once(char::is_whitespace)?;
            RData::MX(MX::new(priority.parse().ok()?, name(host)?))
        }
        "TXT" | "SPF" => RData::TXT(TXT::new(quoted_strings(value))),
        "SOA" => {
            let parts: Vec<&str> = value.split_whitespace().collect();
            let [mname, rname, serial, refresh, retry, expire, minimum] = parts[..] else {
                return None;
            };
            RData::SOA(SOA::new(
                name(mname)?,
                name(rname)?,
                serial.parse().ok()?,
                refresh.parse().ok()?,
                retry.parse().ok()?,
                expire.parse().ok()?,
                minimum.parse().ok()?,
            ))
        }
        _ => return None,
    })
}

/// `"a b" "c"` → `["a b", "c"]` (Route53 keeps TXT values quoted, with `\"` escapes).
fn quoted_strings(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut inside = false;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (c, inside) {
            ('"', false) => inside = true,
            ('"', true) => {
                out.push(std::mem::take(&mut current));
                inside = false;
            }
            ('\\', true) => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (c, true) => current.push(c),
            _ => {}
        }
    }
    out
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
