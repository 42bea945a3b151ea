//! DNS validation as ACM does it: for each domain, a CNAME record
//! `_<32 hex>.<domain>.` → `_<32 hex>.<10 letters>.acm-validations.aws.` that the owner adds to the
//! domain's zone. The record depends only on the account and the domain (a wildcard validates with its
//! base domain's record), so every certificate of the account for that domain uses the same one, as in
//! ACM, and a record left in place validates renewals.
//!
//! A record is looked up as a resolver would, following CNAMEs from one name to the next (a validation
//! CNAME may point at another CNAME, as delegated validation setups do): first in m2sec's own Route53
//! zones ([`published_in`]), then, for names m2sec does not answer itself, in the configured upstream
//! DNS servers ([`resolve`]).

use aws_lc_rs::digest::{digest, SHA256};
use m2sec_dns::upstream::Resolver;
use m2sec_route53::names::normalize;
use m2sec_route53::store::enclosing;
use m2sec_route53::zone::{Answer, Zone};

/// How many CNAMEs a lookup follows at most.
const MAX_CHAIN: usize = 8;

/// What looking a validation record up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The name leads, through CNAMEs, to the expected target.
    Validated,
    /// It does not (no such name, no CNAME, or another target).
    Missing,
    /// It could not be told: no upstream server answered (why).
    Unreachable(String),
}

/// The CNAME that validates `domain` for `account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationRecord {
    /// `_<hash>.<domain>.` (the wildcard's base domain for `*.<domain>`).
    pub name: String,
    /// `_<hash>.<label>.acm-validations.aws.`
    pub value: String,
}

/// The domain a name is validated through: `*.api.fanops.com` → `api.fanops.com`.
pub fn validation_domain(domain: &str) -> &str {
    domain.strip_prefix("*.").unwrap_or(domain)
}

fn hash(parts: &[&str]) -> [u8; 32] {
    let joined = parts.join("\n");
    digest(&SHA256, joined.as_bytes())
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

/// The validation record of `domain` in `account`.
pub fn record_for(account: &str, domain: &str) -> ValidationRecord {
    let base = validation_domain(&domain.to_ascii_lowercase())
        .trim_end_matches('.')
        .to_string();
    let name_hash = hex::encode(&hash(&["acm-validation-name", account, &base])[..16]);
    let value = hash(&["acm-validation-value", account, &base]);
    let value_hash = hex::encode(&value[..16]);
    let label: String = value[16..26]
        .iter()
        .map(|b| (b'a' + b % 26) as char)
        .collect();
    ValidationRecord {
        name: format!("_{name_hash}.{base}."),
        value: format!("_{value_hash}.{label}.acm-validations.aws."),
    }
}

/// Whether `record` is published in m2sec's own zones (names compared as DNS does, case-insensitively),
/// following CNAMEs while they stay within those zones.
pub fn published_in(zones: &[Zone], record: &ValidationRecord) -> bool {
    let (Ok(mut name), Ok(expected)) = (normalize(&record.name), normalize(&record.value)) else {
        return false;
    };
    for _ in 0..MAX_CHAIN {
        let Some(target) = own_cname(zones, &name) else {
            return false;
        };
        if target == expected {
            return true;
        }
        name = target;
    }
    false
}

/// The CNAME target of `name` in the zone of m2sec that holds it, if any.
fn own_cname(zones: &[Zone], name: &str) -> Option<String> {
    let zone = enclosing(zones, name)?;
    match zone.resolve(name, "CNAME") {
        Answer::Records(sets) => sets
            .iter()
            .filter(|s| s.kind == "CNAME")
            .flat_map(|s| s.records.iter())
            .find_map(|v| normalize(v).ok()),
        _ => None,
    }
}

/// Looks `record` up in m2sec's own zones, then (if it is not found there) through `upstream`,
/// following CNAMEs from the record's name to the expected target.
pub async fn resolve(zones: &[Zone], upstream: &Resolver, record: &ValidationRecord) -> Resolution {
    if published_in(zones, record) {
        return Resolution::Validated;
    }
    if upstream.is_empty() {
        return Resolution::Missing;
    }
    let (Ok(mut name), Ok(expected)) = (normalize(&record.name), normalize(&record.value)) else {
        return Resolution::Missing;
    };
    let mut seen = vec![name.clone()];
    for _ in 0..MAX_CHAIN {
        let chain = match upstream.cname(&name).await {
            Ok(chain) => chain,
            Err(why) => return Resolution::Unreachable(why),
        };
        if chain.contains(&expected) {
            return Resolution::Validated;
        }
        match chain.last() {
            Some(next) if !seen.contains(next) => {
                seen.push(next.clone());
                name = next.clone();
            }
            _ => return Resolution::Missing,
        }
    }
    Resolution::Missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use m2sec_route53::zone::{Action, Change, RecordSet};

    #[test]
    fn records_follow_acms_form_and_are_stable() {
        let r = record_for("111122223333", "API.fanops.com");
        assert!(r.name.starts_with('_') && r.name.ends_with(".api.fanops.com."));
        assert_eq!(r.name.len(), 1 + 32 + ".api.fanops.com.".len());
        assert!(r.value.ends_with(".acm-validations.aws."));
        let label = r.value.split('.').nth(1).unwrap();
        assert_eq!(label.len(), 10);
        assert!(label.bytes().all(|b| b.is_ascii_lowercase()));
        // A wildcard validates with its base domain's record; another account or domain gets another.
        assert_eq!(record_for("111122223333", "*.api.fanops.com"), r);
        assert_eq!(record_for("111122223333", "api.fanops.com."), r);
        assert_ne!(record_for("444455556666", "api.fanops.com"), r);
        assert_ne!(record_for("111122223333", "www.fanops.com").name, r.name);
    }

    #[test]
    fn a_record_counts_once_its_cname_is_in_a_zone() {
        let record = record_for("111122223333", "api.fanops.com");
        let mut zone = Zone::new(
            "Z1",
            "fanops.com.",
            "r",
            None,
            false,
            0,
            &["ns1.m2sec.internal.".into()],
        );
        let zones = vec![zone.clone()];
        assert!(!published_in(&zones, &record));
        let cname = |value: &str| Change {
            action: Action::Upsert,
            set: RecordSet {
                name: record.name.to_ascii_uppercase(),
                kind: "CNAME".into(),
                ttl: Some(300),
                records: vec![value.to_string()],
                alias: None,
                set_identifier: None,
                weight: None,
            },
        };
        zone.apply(&[cname("_wrong.acm-validations.aws")]).unwrap();
        assert!(!published_in(&[zone.clone()], &record));
        zone.apply(&[cname(record.value.trim_end_matches('.'))])
            .unwrap();
        assert!(published_in(&[zone.clone()], &record));

        // A CNAME to another name whose CNAME is the expected target validates too.
        let mut hop = cname("_delegated.fanops.com");
        hop.action = Action::Upsert;
        let mut next = cname(&record.value);
        next.set.name = "_delegated.fanops.com".into();
        zone.apply(&[hop, next]).unwrap();
        assert!(published_in(&[zone], &record));
    }

    #[tokio::test]
    async fn upstream_servers_are_asked_for_names_of_no_own_zone() {
        use m2sec_dns::server::ZoneSource;
        use std::sync::Arc;

        struct Fixed(Arc<Vec<Zone>>);
        impl ZoneSource for Fixed {
            async fn zones(&self) -> Arc<Vec<Zone>> {
                self.0.clone()
            }
        }
        let record = record_for("111122223333", "api.fanops.com");
        let mut remote = Zone::new(
            "Z9",
            "fanops.com.",
            "r",
            None,
            false,
            0,
            &["ns1.m2sec.internal.".into()],
        );
        remote
            .apply(&[
                Change {
                    action: Action::Create,
                    set: RecordSet {
                        name: record.name.clone(),
                        kind: "CNAME".into(),
                        ttl: Some(300),
                        records: vec!["_hop.fanops.com.".into()],
                        alias: None,
                        set_identifier: None,
                        weight: None,
                    },
                },
                Change {
                    action: Action::Create,
                    set: RecordSet {
                        name: "_hop.fanops.com.".into(),
                        kind: "CNAME".into(),
                        ttl: Some(300),
                        records: vec![record.value.clone()],
                        alias: None,
                        set_identifier: None,
                        weight: None,
                    },
                },
            ])
            .unwrap();
        let (addr, task) = m2sec_dns::serve(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(Fixed(Arc::new(vec![remote]))),
            m2sec_dns::Limits::default(),
        )
        .await
        .unwrap();
        let timeout = std::time::Duration::from_millis(500);
        // Without upstream servers: missing. With one: found through the CNAME chain.
        let none = Resolver::new(vec![], timeout);
        assert_eq!(resolve(&[], &none, &record).await, Resolution::Missing);
        let upstream = Resolver::new(vec![addr], timeout);
        assert_eq!(
            resolve(&[], &upstream, &record).await,
            Resolution::Validated
        );
        let other = record_for("111122223333", "www.fanops.com");
        assert_eq!(resolve(&[], &upstream, &other).await, Resolution::Missing);
        // A server that does not answer: said so, not taken for a missing record.
        let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let dead = Resolver::new(vec![silent.local_addr().unwrap()], timeout);
        assert!(matches!(
            resolve(&[], &dead, &record).await,
            Resolution::Unreachable(_)
        ));
        task.abort();
    }
}
