//! A certificate as m2sec keeps it, and the parts of its life that do not need the CA: DNS validation of
//! each domain, the 72-hour validation window, and the views DescribeCertificate and ListCertificates
//! show.

use m2sec_route53::zone::Zone;
use serde::{Deserialize, Serialize};

use crate::validation::{published_in, record_for, ValidationRecord};

/// How long ACM waits for DNS validation before `VALIDATION_TIMED_OUT`.
pub const VALIDATION_WINDOW_MS: i64 = 72 * 3600 * 1000;

/// One domain of a certificate and the state of its validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainState {
    pub domain_name: String,
    /// `PENDING_VALIDATION`, `SUCCESS` or `FAILED`.
    pub status: String,
    pub record_name: String,
    pub record_value: String,
}

impl DomainState {
    /// The validation record of this domain.
    pub fn record(&self) -> ValidationRecord {
        ValidationRecord {
            name: self.record_name.clone(),
            value: self.record_value.clone(),
        }
    }
}

/// A certificate record (the issued material is kept beside it, the private key sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    pub arn: String,
    pub domain_name: String,
    /// Including the domain name, as ACM lists them.
    pub subject_alternative_names: Vec<String>,
    /// `PENDING_VALIDATION`, `ISSUED`, `VALIDATION_TIMED_OUT`, `REVOKED`, `EXPIRED`, `FAILED`, `INACTIVE`.
    pub status: String,
    /// `AMAZON_ISSUED` or `IMPORTED`.
    pub kind: String,
    /// ACM's name: `RSA_2048`, `EC_prime256v1`, `EC_secp384r1`.
    pub key_algorithm: String,
    pub domains: Vec<DomainState>,
    pub created_at: i64,
    #[serde(default)]
    pub issued_at: Option<i64>,
    #[serde(default)]
    pub not_before: Option<i64>,
    #[serde(default)]
    pub not_after: Option<i64>,
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default)]
    pub idempotency_token: Option<String>,
    #[serde(default)]
    pub transparency_logging: Option<String>,
}

impl Certificate {
    /// A new DNS-validated request: every distinct name, each with its validation record.
    pub fn requested(
        account: &str,
        arn: &str,
        domain_name: &str,
        alternative_names: &[String],
        key_algorithm: &str,
        now_ms: i64,
    ) -> Certificate {
        let mut names = vec![domain_name.to_ascii_lowercase()];
        for n in alternative_names {
            let n = n.to_ascii_lowercase();
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let domains = names
            .iter()
            .map(|n| {
                let ValidationRecord { name, value } = record_for(account, n);
                DomainState {
                    domain_name: n.clone(),
                    status: "PENDING_VALIDATION".into(),
                    record_name: name,
                    record_value: value,
                }
            })
            .collect();
        Certificate {
            arn: arn.into(),
            domain_name: names[0].clone(),
            subject_alternative_names: names,
            status: "PENDING_VALIDATION".into(),
            kind: "AMAZON_ISSUED".into(),
            key_algorithm: key_algorithm.into(),
            domains,
            created_at: now_ms,
            issued_at: None,
            not_before: None,
            not_after: None,
            serial: None,
            idempotency_token: None,
            transparency_logging: None,
        }
    }

    /// Looks each pending domain's record up in `zones`. Returns true when every domain is validated
    /// (the certificate can be issued). Past the window, a pending certificate times out.
    pub fn check_validation(&mut self, zones: &[Zone], now_ms: i64) -> bool {
        self.check_validation_with(now_ms, |record| published_in(zones, record))
    }

    /// [`Certificate::check_validation`] with the lookup given: `found(record)` says whether a
    /// domain's record is in place.
    pub fn check_validation_with(
        &mut self,
        now_ms: i64,
        mut found: impl FnMut(&ValidationRecord) -> bool,
    ) -> bool {
        if self.status != "PENDING_VALIDATION" {
            return false;
        }
        for d in self.domains.iter_mut().filter(|d| d.status != "SUCCESS") {
            if found(&d.record()) {
                d.status = "SUCCESS".into();
            }
        }
        if self.domains.iter().all(|d| d.status == "SUCCESS") {
            return true;
        }
        if now_ms - self.created_at > VALIDATION_WINDOW_MS {
            self.status = "VALIDATION_TIMED_OUT".into();
            for d in self.domains.iter_mut().filter(|d| d.status != "SUCCESS") {
                d.status = "FAILED".into();
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use m2sec_route53::zone::{Action, Change, RecordSet};

    fn cert(now: i64) -> Certificate {
        Certificate::requested(
            "111122223333",
            "arn:aws:acm:eu-west-1:111122223333:certificate/c1",
            "api.fanops.com",
            &["*.api.fanops.com".to_string(), "API.fanops.com".to_string()],
            "RSA_2048",
            now,
        )
    }

    #[test]
    fn a_request_lists_each_name_once_with_its_record() {
        let c = cert(0);
        assert_eq!(
            c.subject_alternative_names,
            vec!["api.fanops.com", "*.api.fanops.com"]
        );
        assert_eq!(c.domains.len(), 2);
        // The wildcard validates with the same record as its base domain.
        assert_eq!(c.domains[0].record_name, c.domains[1].record_name);
        assert_eq!(c.domains[0].record_value, c.domains[1].record_value);
    }

    #[test]
    fn validation_completes_when_the_cname_is_published_and_times_out_otherwise() {
        let mut c = cert(0);
        let mut zone = Zone::new(
            "Z1",
            "fanops.com.",
            "r",
            None,
            false,
            0,
            &["ns1.m2sec.internal.".into()],
        );
        assert!(!c.check_validation(&[zone.clone()], 1000));
        assert_eq!(c.status, "PENDING_VALIDATION");
        zone.apply(&[Change {
            action: Action::Create,
            set: RecordSet {
                name: c.domains[0].record_name.clone(),
                kind: "CNAME".into(),
                ttl: Some(300),
                records: vec![c.domains[0].record_value.clone()],
                alias: None,
                set_identifier: None,
                weight: None,
            },
        }])
        .unwrap();
        assert!(c.check_validation(&[zone], 2000));
        assert!(c.domains.iter().all(|d| d.status == "SUCCESS"));

        let mut late = cert(0);
        assert!(!late.check_validation(&[], VALIDATION_WINDOW_MS + 1));
        assert_eq!(late.status, "VALIDATION_TIMED_OUT");
        assert!(late.domains.iter().all(|d| d.status == "FAILED"));
    }
}
