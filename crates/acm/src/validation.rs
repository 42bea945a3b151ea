//! DNS validation as ACM does it: for each domain, a CNAME record
//! `_<32 hex>.<domain>.` → `_<32 hex>.<10 letters>.acm-validations.aws.` that the owner adds to the
//! domain's zone. The record depends only on the account and the domain (a wildcard validates with its
//! base domain's record), so every certificate of the account for that domain uses the same one, as in
//! ACM, and a record left in place validates renewals.

use aws_lc_rs::digest::{digest, SHA256};
use m2sec_route53::names::normalize;
use m2sec_route53::store::enclosing;
use m2sec_route53::zone::{Answer, Zone};

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

/// Whether `record` is published in m2sec's own zones (names compared as DNS does, case-insensitively).
pub fn published_in(zones: &[Zone], record: &ValidationRecord) -> bool {
    let Ok(name) = normalize(&record.name) else {
        return false;
    };
    let Some(zone) = enclosing(zones, &name) else {
        return false;
    };
    match zone.resolve(&name, "CNAME") {
        Answer::Records(sets) => sets.iter().any(|s| {
            s.kind == "CNAME"
                && s.records
                    .iter()
                    .any(|v| normalize(v).ok().as_deref() == Some(record.value.as_str()))
        }),
        _ => false,
    }
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
        assert!(published_in(&[zone], &record));
    }
}
