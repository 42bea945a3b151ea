//! ACM's background job: issues pending certificates whose validation records are in place, times
//! out those past the window, and renews issued certificates before they expire (run under the
//! `acm.jobs` lease, see `m2sec_store::lease`).

use std::collections::HashMap;
use std::sync::Arc;

use m2sec_dns::upstream::Resolver;
use m2sec_proto::AwsError;
use m2sec_route53::zone::Zone;
use m2sec_store::{now_ms, Document, StoreError};

use crate::certificate::Certificate;
use crate::records::*;
use crate::service::*;
use crate::validation::Resolution;

/// What one run of the background job did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct JobReport {
    pub issued: usize,
    pub renewed: usize,
    pub renewal_pending: usize,
    /// Certificates whose turn failed (each one logged with its ARN); retried next run.
    pub failed: usize,
}

impl Acm {
    /// The background job: issues pending certificates whose records are in place (in m2sec's zones or,
    /// for other names, at the upstream DNS servers), times out those past the window, and renews issued
    /// certificates within `renew_before_days` of expiry whose records still resolve (keeping the ARN;
    /// a record that no longer resolves leaves the renewal PENDING_VALIDATION, a failed issuance
    /// FAILED, both visible in RenewalSummary and the log). One certificate's failure is logged with its
    /// ARN and does not stop the others.
    pub async fn run_due_jobs(&self) -> Result<JobReport, AwsError> {
        let mut report = JobReport::default();
        let resolver = Resolver::new(
            self.settings.upstream.clone(),
            self.settings.upstream_timeout,
        );
        let mut zones: HashMap<String, Arc<Vec<Zone>>> = HashMap::new();
        for doc in self
            .store
            .documents_of_kind(KIND)
            .await
            .map_err(store_error)?
        {
            let Ok(stored) = serde_json::from_str::<Stored>(&doc.body) else {
                tracing::warn!(certificate = %doc.name, account = %doc.account, region = %doc.region, "unreadable ACM certificate record skipped");
                report.failed += 1;
                continue;
            };
            let arn = stored.certificate.arn.clone();
            let account_zones = match zones.get(&doc.account) {
                Some(z) => z.clone(),
                None => {
                    let z = match m2sec_route53::store::list(self.store.as_ref(), &doc.account)
                        .await
                    {
                        Ok(z) => Arc::new(z),
                        Err(e) => {
                            tracing::warn!(certificate = %arn, error = %e, node = %self.settings.node, "ACM background job: reading the account's zones failed; will retry");
                            report.failed += 1;
                            continue;
                        }
                    };
                    zones.insert(doc.account.clone(), z.clone());
                    z
                }
            };
            if let Err(e) = self
                .job_for(&doc, stored, &account_zones, &resolver, &mut report)
                .await
            {
                report.failed += 1;
                tracing::warn!(certificate = %arn, error = %e, node = %self.settings.node, "ACM background job failed for this certificate; will retry");
            }
        }
        Ok(report)
    }

    /// One certificate's turn of the background job.
    pub(crate) async fn job_for(
        &self,
        doc: &Document,
        stored: Stored,
        zones: &[Zone],
        resolver: &Resolver,
        report: &mut JobReport,
    ) -> Result<(), AwsError> {
        let at: Place<'_> = (&doc.account, &doc.region);
        let renew_before = i64::from(self.settings.renew_before_days) * 86_400_000;
        let due = |c: &Certificate| {
            c.kind == "AMAZON_ISSUED"
                && c.status == "ISSUED"
                && c.not_after.is_some_and(|t| t - now_ms() <= renew_before)
        };
        let pending = stored.certificate.status == "PENDING_VALIDATION";
        if !pending && !due(&stored.certificate) {
            return Ok(());
        }
        // Look the records up before taking the write lock: an upstream server may take its timeout.
        let mut found: HashMap<String, Resolution> = HashMap::new();
        for d in &stored.certificate.domains {
            if (pending && d.status == "SUCCESS") || found.contains_key(&d.record_name) {
                continue;
            }
            let resolution = crate::validation::resolve(zones, resolver, &d.record()).await;
            if let Resolution::Unreachable(why) = &resolution {
                tracing::warn!(certificate = %stored.certificate.arn, domain = %d.domain_name, record = %d.record_name, error = %why, node = %self.settings.node, "ACM validation record could not be looked up");
            }
            found.insert(d.record_name.clone(), resolution);
        }
        let validated = |name: &str| matches!(found.get(name), Some(Resolution::Validated));

        let _guard = self.writes.lock().await;
        // The certificate may have changed, or gone, while the records were looked up.
        let Some(doc) = self
            .store
            .get_document(at.0, at.1, KIND, &doc.name)
            .await
            .map_err(store_error)?
        else {
            return Ok(());
        };
        let mut stored: Stored = serde_json::from_str(&doc.body)
            .map_err(|e| store_error(StoreError::Corrupt(e.to_string())))?;
        let arn = stored.certificate.arn.clone();
        if stored.certificate.status == "PENDING_VALIDATION" {
            let before = stored.certificate.clone();
            let ready = stored
                .certificate
                .check_validation_with(now_ms(), |r| validated(&r.name));
            if ready {
                self.issue(&mut stored).await?;
                report.issued += 1;
                tracing::info!(certificate = %arn, node = %self.settings.node, "issued ACM certificate");
            } else if stored.certificate.status == "VALIDATION_TIMED_OUT" {
                tracing::warn!(certificate = %arn, node = %self.settings.node, "ACM certificate request timed out: its validation records were not found within 72 hours");
            }
            if stored.certificate != before {
                self.save(at, &stored, false).await?;
            }
            return Ok(());
        }
        if !due(&stored.certificate) {
            return Ok(());
        }
        let unreachable = stored
            .certificate
            .domains
            .iter()
            .any(|d| matches!(found.get(&d.record_name), Some(Resolution::Unreachable(_))));
        let resolvable = stored
            .certificate
            .domains
            .iter()
            .all(|d| validated(&d.record_name));
        let was = stored.renewal.as_ref().map(|r| r.status.clone());
        if resolvable {
            match self.issue(&mut stored).await {
                Ok(()) => {
                    stored.renewal = Some(Renewal {
                        status: "SUCCESS".into(),
                        updated_at: now_ms(),
                        reason: None,
                    });
                    report.renewed += 1;
                    tracing::info!(certificate = %arn, serial = stored.certificate.serial.as_deref().unwrap_or(""), node = %self.settings.node, "renewed ACM certificate");
                }
                Err(e) => {
                    stored.renewal = Some(Renewal {
                        status: "FAILED".into(),
                        updated_at: now_ms(),
                        reason: Some("OTHER".into()),
                    });
                    report.failed += 1;
                    tracing::warn!(certificate = %arn, error = %e, node = %self.settings.node, "ACM renewal failed: the new certificate could not be issued; will retry");
                }
            }
        } else {
            if was.as_deref() != Some("PENDING_VALIDATION") {
                if unreachable {
                    tracing::warn!(certificate = %arn, node = %self.settings.node, "ACM renewal waits: a validation record could not be looked up (no upstream DNS server answered)");
                } else {
                    tracing::warn!(certificate = %arn, node = %self.settings.node, "ACM renewal waits: a validation record no longer resolves");
                }
            }
            stored.renewal = Some(Renewal {
                status: "PENDING_VALIDATION".into(),
                updated_at: now_ms(),
                reason: None,
            });
            report.renewal_pending += 1;
        }
        self.save(at, &stored, false).await
    }
}
