//! A hosted zone and what a change batch does to it. A batch is all or nothing: it is applied to a copy,
//! and any refusal leaves the zone as it was, with every reason in Route53's words
//! (`InvalidChangeBatch` carries them as its `messages`).

use serde::{Deserialize, Serialize};

use crate::names::{is_within, normalize, sort_key};
use crate::rdata::RData;

/// One record set: records of one name and type (or an alias in their place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordSet {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<Alias>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
}

/// An alias target: answers come from another name (in m2sec, one of its own zones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alias {
    pub hosted_zone_id: String,
    pub dns_name: String,
    pub evaluate_target_health: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Delete,
    Upsert,
}

impl Action {
    pub fn parse(text: &str) -> Option<Action> {
        match text {
            "CREATE" => Some(Action::Create),
            "DELETE" => Some(Action::Delete),
            "UPSERT" => Some(Action::Upsert),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    pub set: RecordSet,
}

/// A hosted zone with its record sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Zone {
    /// Without the `/hostedzone/` prefix.
    pub id: String,
    /// Canonical, with the trailing dot.
    pub name: String,
    pub caller_reference: String,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub private_zone: bool,
    /// Unix milliseconds.
    pub created_at: i64,
    pub record_sets: Vec<RecordSet>,
}

/// What a DNS query finds in a zone.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Record sets answering it (owner name = the query name), possibly a CNAME to follow.
    Records(Vec<RecordSet>),
    /// The name exists without records of that type.
    NoData,
    /// The name does not exist.
    NxDomain,
}

fn describe(set: &RecordSet) -> String {
    format!("[name='{}', type='{}']", set.name, set.kind)
}

impl Zone {
    /// A new zone with its SOA and NS record sets, as Route53 creates them.
    pub fn new(
        id: &str,
        name: &str,
        caller_reference: &str,
        comment: Option<String>,
        private_zone: bool,
        created_at: i64,
        name_servers: &[String],
    ) -> Zone {
        let primary = name_servers
            .first()
            .cloned()
            .unwrap_or_else(|| "ns1.m2sec.internal.".into());
        Zone {
            id: id.into(),
            name: name.into(),
            caller_reference: caller_reference.into(),
            comment,
            private_zone,
            created_at,
            record_sets: vec![
                RecordSet {
                    name: name.into(),
                    kind: "NS".into(),
                    ttl: Some(172_800),
                    records: name_servers.to_vec(),
                    alias: None,
                    set_identifier: None,
                    weight: None,
                },
                RecordSet {
                    name: name.into(),
                    kind: "SOA".into(),
                    ttl: Some(900),
                    records: vec![format!(
                        "{primary} hostmaster.m2sec.internal. 1 7200 900 1209600 86400"
                    )],
                    alias: None,
                    set_identifier: None,
                    weight: None,
                },
            ],
        }
    }

    /// Record sets in Route53's listing order: by name from the root down, then by type.
    pub fn sorted(&self) -> Vec<&RecordSet> {
        let mut sets: Vec<&RecordSet> = self.record_sets.iter().collect();
        sets.sort_by(|a, b| {
            (sort_key(&a.name), &a.kind, &a.set_identifier).cmp(&(
                sort_key(&b.name),
                &b.kind,
                &b.set_identifier,
            ))
        });
        sets
    }

    fn position(&self, set: &RecordSet) -> Option<usize> {
        self.record_sets.iter().position(|s| {
            s.name == set.name && s.kind == set.kind && s.set_identifier == set.set_identifier
        })
    }

    /// Applies a change batch, all or nothing.
    pub fn apply(&mut self, changes: &[Change]) -> Result<(), Vec<String>> {
        let mut next = self.clone();
        let mut problems = Vec::new();
        for change in changes {
            let set = match next.checked(&change.set) {
                Ok(set) => set,
                Err(why) => {
                    problems.push(why);
                    continue;
                }
            };
            let at = next.position(&set);
            match (change.action, at) {
                (Action::Create, Some(_)) => problems.push(format!(
                    "Tried to create resource record set {} but it already exists",
                    describe(&set)
                )),
                (Action::Create, None) | (Action::Upsert, None) => next.record_sets.push(set),
                (Action::Upsert, Some(i)) => next.record_sets[i] = set,
                (Action::Delete, None) => problems.push(format!(
                    "Tried to delete resource record set {} but it was not found",
                    describe(&set)
                )),
                (Action::Delete, Some(i)) => {
                    if set.name == next.name && (set.kind == "SOA" || set.kind == "NS") {
                        problems.push(format!(
                            "A HostedZone must contain {} record for the zone itself; {} cannot be deleted",
                            if set.kind == "SOA" { "exactly one SOA" } else { "at least one NS" },
                            describe(&set)
                        ));
                    } else if next.record_sets[i] != set {
                        problems.push(format!(
                            "Tried to delete resource record set {} but the values provided do not match the current values",
                            describe(&set)
                        ));
                    } else {
                        next.record_sets.remove(i);
                    }
                }
            }
        }
        // A CNAME is alone at its name.
        for set in next.record_sets.iter().filter(|s| s.kind == "CNAME") {
            if next
                .record_sets
                .iter()
                .any(|o| o.name == set.name && o.kind != "CNAME")
            {
                problems.push(format!(
                    "RRSet of type CNAME with DNS name {} is not permitted as it conflicts with other records with the same DNS name in zone {}",
                    set.name, next.name
                ));
            }
        }
        if problems.is_empty() {
            *self = next;
            Ok(())
        } else {
            problems.dedup();
            Err(problems)
        }
    }

    /// The record set in canonical form, or why Route53 would refuse it in this zone.
    fn checked(&self, set: &RecordSet) -> Result<RecordSet, String> {
        let name = normalize(&set.name).map_err(|e| format!("Invalid request: {e}"))?;
        if !is_within(&name, &self.name) {
            return Err(format!(
                "RRSet with DNS name {name} is not permitted in zone {}",
                self.name
            ));
        }
        let mut out = RecordSet {
            name,
            ..set.clone()
        };
        let label = describe(&out);
        if !crate::rdata::TYPES.contains(&out.kind.as_str()) {
            return Err(format!(
                "Invalid request: the record type of {label} is not one of {}",
                crate::rdata::TYPES.join(", ")
            ));
        }
        match &out.alias {
            Some(alias) => {
                if out.ttl.is_some() || !out.records.is_empty() {
                    return Err(format!(
                        "Invalid request: an alias record set {label} has neither TTL nor ResourceRecords"
                    ));
                }
                let target =
                    normalize(&alias.dns_name).map_err(|e| format!("Invalid alias target: {e}"))?;
                out.alias = Some(Alias {
                    dns_name: target,
                    ..alias.clone()
                });
            }
            None => {
                if out.ttl.is_none() {
                    return Err(format!("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action={label}]"));
                }
                if out.records.is_empty() {
                    return Err(format!(
                        "Invalid request: {label} must have at least one ResourceRecord"
                    ));
                }
                for value in &mut out.records {
                    *value = checked_value(&out.kind, value)
                        .map_err(|e| format!("Invalid Resource Record: FATAL problem: {e} encountered with '{value}'"))?;
                }
            }
        }
        if out.kind == "DS" && out.name == self.name {
            // A DS record belongs to the parent of a delegation, never to the zone's own apex.
            return Err(format!(
                "RRSet of type DS with DNS name {} is not permitted at apex in zone {}",
                out.name, self.name
            ));
        }
        if out.kind == "CNAME" {
            if out.name == self.name {
                return Err(format!(
                    "RRSet of type CNAME with DNS name {} is not permitted at apex in zone {}",
                    out.name, self.name
                ));
            }
            if out.records.len() > 1 {
                return Err(format!(
                    "Invalid request: a CNAME record set {label} has exactly one value"
                ));
            }
        }
        Ok(out)
    }

    /// What a DNS query for `qname` (canonical) and `qtype` finds here, with wildcards.
    pub fn resolve(&self, qname: &str, qtype: &str) -> Answer {
        let at = |name: &str| -> Vec<&RecordSet> {
            self.record_sets.iter().filter(|s| s.name == name).collect()
        };
        let pick = |sets: Vec<&RecordSet>| -> Answer {
            let matching: Vec<RecordSet> = sets
                .iter()
                .filter(|s| s.kind == qtype || qtype == "ANY")
                .map(|s| RecordSet {
                    name: qname.to_string(),
                    ..(*s).clone()
                })
                .collect();
            if !matching.is_empty() {
                return Answer::Records(matching);
            }
            match sets.iter().find(|s| s.kind == "CNAME") {
                Some(cname) => Answer::Records(vec![RecordSet {
                    name: qname.to_string(),
                    ..(*cname).clone()
                }]),
                None => Answer::NoData,
            }
        };
        let exact = at(qname);
        if !exact.is_empty() {
            return pick(exact);
        }
        // A name with records below it exists (an empty non-terminal).
        let below = format!(".{qname}");
        if self.record_sets.iter().any(|s| s.name.ends_with(&below)) {
            return Answer::NoData;
        }
        // The closest wildcard above the name, up to the zone's apex.
        let mut parent = qname;
        while let Some((_, rest)) = parent.split_once('.') {
            if rest.is_empty() || !is_within(rest, &self.name) {
                break;
            }
            let wildcard = at(&format!("*.{rest}"));
            if !wildcard.is_empty() {
                return pick(wildcard);
            }
            parent = rest;
        }
        Answer::NxDomain
    }
}

/// A record value in canonical form, checked by type ([`crate::rdata::parse`]): addresses and names
/// as DNS compares them; other values as given.
fn checked_value(kind: &str, value: &str) -> Result<String, String> {
    Ok(match crate::rdata::parse(kind, value)? {
        RData::A(ip) => ip.to_string(),
        RData::Aaaa(ip) => ip.to_string(),
        RData::Cname(name) | RData::Ns(name) | RData::Ptr(name) => name,
        RData::Mx {
            preference,
            exchange,
        } => format!("{preference} {exchange}"),
        _ => value.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, kind: &str, values: &[&str]) -> RecordSet {
        RecordSet {
            name: name.into(),
            kind: kind.into(),
            ttl: Some(300),
            records: values.iter().map(|v| v.to_string()).collect(),
            alias: None,
            set_identifier: None,
            weight: None,
        }
    }

    fn change(action: Action, set: RecordSet) -> Change {
        Change { action, set }
    }

    fn zone() -> Zone {
        Zone::new(
            "Z1",
            "fanops.com.",
            "ref-1",
            None,
            false,
            0,
            &["ns1.m2sec.internal.".into()],
        )
    }

    #[test]
    fn a_new_zone_has_soa_and_ns() {
        let z = zone();
        let kinds: Vec<&str> = z.sorted().iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(kinds, vec!["NS", "SOA"]);
    }

    #[test]
    fn batches_are_all_or_nothing_with_route53_reasons() {
        let mut z = zone();
        z.apply(&[change(
            Action::Create,
            set("WWW.fanops.com", "A", &["192.0.2.1"]),
        )])
        .unwrap();
        assert_eq!(z.record_sets.last().unwrap().name, "www.fanops.com.");
        let before = z.clone();
        let problems = z
            .apply(&[
                change(Action::Create, set("api.fanops.com", "A", &["192.0.2.2"])),
                change(Action::Create, set("www.fanops.com", "A", &["192.0.2.3"])),
                change(Action::Delete, set("gone.fanops.com", "A", &["192.0.2.4"])),
                change(
                    Action::Create,
                    set("other.example.com", "A", &["192.0.2.5"]),
                ),
                change(Action::Create, set("bad.fanops.com", "A", &["999.1.1.1"])),
                change(Action::Create, set("t.fanops.com", "TXT", &["unquoted"])),
            ])
            .unwrap_err();
        assert_eq!(z, before);
        assert!(problems[0].contains("[name='www.fanops.com.', type='A'] but it already exists"));
        assert!(problems[1].contains("but it was not found"));
        assert!(problems[2].contains("is not permitted in zone fanops.com."));
        assert!(problems[3].contains(
            "Invalid Resource Record: FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '999.1.1.1'"
        ));
        assert!(problems[4].contains("quotation marks"));
    }

    #[test]
    fn every_route53_type_is_accepted_with_its_format() {
        let mut z = zone();
        z.apply(&[
            change(
                Action::Create,
                set(
                    "fanops.com",
                    "CAA",
                    &[
                        "0 issue \"amazon.com\"",
                        "0 iodef \"mailto:sec@fanops.com\"",
                    ],
                ),
            ),
            change(
                Action::Create,
                set(
                    "sub.fanops.com",
                    "DS",
                    &["60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"],
                ),
            ),
            change(
                Action::Create,
                set("sub.fanops.com", "NS", &["ns1.example.net"]),
            ),
            change(
                Action::Create,
                set(
                    "sip.fanops.com",
                    "NAPTR",
                    &["100 100 \"U\" \"E2U+sip\" \"!^.*$!sip:info@fanops.com!\" ."],
                ),
            ),
            change(
                Action::Create,
                set("fanops.com", "SPF", &["\"v=spf1 -all\""]),
            ),
            change(
                Action::Create,
                set(
                    "host.fanops.com",
                    "SSHFP",
                    &["4 2 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"],
                ),
            ),
            change(
                Action::Create,
                set(
                    "_443._tcp.fanops.com",
                    "TLSA",
                    &["3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"],
                ),
            ),
            change(
                Action::Create,
                set("fanops.com", "HTTPS", &["1 . alpn=\"h3,h2\""]),
            ),
            change(
                Action::Create,
                set("_svc.fanops.com", "SVCB", &["1 svc.fanops.com. port=8443"]),
            ),
            change(
                Action::Create,
                set("4.2.0.192.fanops.com", "PTR", &["api.fanops.com"]),
            ),
        ])
        .unwrap();
        // Values are kept as given.
        let caa = z.record_sets.iter().find(|s| s.kind == "CAA").unwrap();
        assert_eq!(caa.records[0], "0 issue \"amazon.com\"");
        let problems = z
            .apply(&[
                change(
                    Action::Create,
                    set(
                        "fanops.com",
                        "DS",
                        &["60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"],
                    ),
                ),
                change(
                    Action::Create,
                    set("x.fanops.com", "CAA", &["0 issue amazon.com"]),
                ),
                change(Action::Create, set("y.fanops.com", "TLSA", &["3 1 1 00"])),
            ])
            .unwrap_err();
        assert!(
            problems[0]
                .contains("RRSet of type DS with DNS name fanops.com. is not permitted at apex"),
            "{problems:?}"
        );
        assert!(problems[1].contains("FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '0 issue amazon.com'"), "{problems:?}");
        assert!(
            problems[2].contains("TLSARRDATAIllegalLength"),
            "{problems:?}"
        );
        let unknown = z
            .apply(&[change(
                Action::Create,
                set("z.fanops.com", "HINFO", &["\"a\" \"b\""]),
            )])
            .unwrap_err();
        assert!(unknown[0].contains("is not one of"), "{unknown:?}");
    }

    #[test]
    fn upsert_delete_and_cname_rules() {
        let mut z = zone();
        z.apply(&[change(
            Action::Upsert,
            set("www.fanops.com", "A", &["192.0.2.1"]),
        )])
        .unwrap();
        z.apply(&[change(
            Action::Upsert,
            set("www.fanops.com", "A", &["192.0.2.9"]),
        )])
        .unwrap();
        assert_eq!(z.record_sets.last().unwrap().records, vec!["192.0.2.9"]);
        let mismatch = z
            .apply(&[change(
                Action::Delete,
                set("www.fanops.com", "A", &["192.0.2.1"]),
            )])
            .unwrap_err();
        assert!(mismatch[0].contains("do not match the current values"));
        z.apply(&[change(
            Action::Delete,
            set("www.fanops.com", "A", &["192.0.2.9"]),
        )])
        .unwrap();
        let apex = z
            .apply(&[change(
                Action::Create,
                set("fanops.com", "CNAME", &["x.example.com"]),
            )])
            .unwrap_err();
        assert!(apex[0].contains("not permitted at apex"));
        z.apply(&[change(
            Action::Create,
            set("api.fanops.com", "A", &["192.0.2.1"]),
        )])
        .unwrap();
        let conflict = z
            .apply(&[change(
                Action::Create,
                set("api.fanops.com", "CNAME", &["x.example.com"]),
            )])
            .unwrap_err();
        assert!(conflict[0].contains("conflicts with other records"));
        let soa = z
            .record_sets
            .iter()
            .find(|s| s.kind == "SOA")
            .unwrap()
            .clone();
        assert!(z.apply(&[change(Action::Delete, soa)]).is_err());
    }

    #[test]
    fn queries_find_records_cnames_and_wildcards() {
        let mut z = zone();
        z.apply(&[
            change(Action::Create, set("api.fanops.com", "A", &["192.0.2.1"])),
            change(Action::Create, set("*.api.fanops.com", "A", &["192.0.2.2"])),
            change(
                Action::Create,
                set(
                    "_abc.api.fanops.com",
                    "CNAME",
                    &["_def.acm-validations.aws"],
                ),
            ),
            change(Action::Create, set("a.b.fanops.com", "TXT", &["\"x\""])),
        ])
        .unwrap();
        match z.resolve("api.fanops.com.", "A") {
            Answer::Records(r) => assert_eq!(r[0].records, vec!["192.0.2.1"]),
            other => panic!("{other:?}"),
        }
        match z.resolve("x.api.fanops.com.", "A") {
            Answer::Records(r) => {
                assert_eq!(r[0].name, "x.api.fanops.com.");
                assert_eq!(r[0].records, vec!["192.0.2.2"]);
            }
            other => panic!("{other:?}"),
        }
        match z.resolve("_abc.api.fanops.com.", "CNAME") {
            Answer::Records(r) => assert_eq!(r[0].records, vec!["_def.acm-validations.aws."]),
            other => panic!("{other:?}"),
        }
        match z.resolve("_abc.api.fanops.com.", "A") {
            Answer::Records(r) => assert_eq!(r[0].kind, "CNAME"),
            other => panic!("{other:?}"),
        }
        assert_eq!(z.resolve("api.fanops.com.", "MX"), Answer::NoData);
        assert_eq!(z.resolve("b.fanops.com.", "A"), Answer::NoData);
        assert_eq!(z.resolve("nothing.fanops.com.", "A"), Answer::NxDomain);
    }
}
