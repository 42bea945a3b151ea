//! Background work: automatic rotation when a key's next rotation date arrives, deletion when a
//! key's deletion window ends, and the deletion of imported key material at its ValidTo. One tick scans the store for due keys (an indexed query).

use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::{now_ms, state, Kms};

/// What one tick did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    pub rotated: usize,
    pub deleted: usize,
    /// Imported key material deleted at its ValidTo.
    pub expired: usize,
}

impl Kms {
    /// Runs every due rotation and deletion once.
    pub async fn run_due_jobs(&self) -> Result<TickReport> {
        let now = now_ms();
        let mut report = TickReport::default();
        for record in self.store.keys_due(now).await? {
            if record.deletion_date.is_some_and(|d| d <= now) {
                if self
                    .delete_expired_key(&record.scope, &record.key_id)
                    .await?
                {
                    report.deleted += 1;
                }
                continue;
            }
            // Keys with imported material keep its ValidTo in the rotation date (they never rotate).
            if record.origin == "EXTERNAL" {
                if record.next_rotation_at.is_some_and(|t| t <= now)
                    && self
                        .remove_imported_material(&record.scope, &record.key_id)
                        .await?
                {
                    let arn = crate::keyring::key_arn(&record.scope, &record.key_id);
                    self.trail
                        .service_event(&m2sec_trail::ServiceEvent {
                            account: &record.scope.account,
                            region: &record.scope.region,
                            event_source: "kms.amazonaws.com",
                            event_name: "DeleteExpiredKeyMaterial",
                            resources: vec![(crate::KEY_RESOURCE, arn.clone())],
                            details: Some(serde_json::json!({ "keyId": arn })),
                        })
                        .await;
                    report.expired += 1;
                }
                continue;
            }
            // AWS does not rotate a key while it is disabled; it rotates once it is enabled again.
            if record.rotation_enabled
                && record.key_state == state::ENABLED
                && record.next_rotation_at.is_some_and(|t| t <= now)
            {
                if let Some(key) = self
                    .keyring
                    .key(
                        self.store.as_ref(),
                        &self.root,
                        &record.scope,
                        &record.key_id,
                    )
                    .await?
                {
                    self.rotate(&key, "AUTOMATIC").await?;
                    self.trail
                        .service_event(&m2sec_trail::ServiceEvent {
                            account: &record.scope.account,
                            region: &record.scope.region,
                            event_source: "kms.amazonaws.com",
                            event_name: "RotateKey",
                            resources: vec![(crate::KEY_RESOURCE, key.arn.clone())],
                            details: Some(serde_json::json!({
                                "keyId": key.arn,
                                "rotationType": "AUTOMATIC",
                            })),
                        })
                        .await;
                    report.rotated += 1;
                }
            }
        }
        Ok(report)
    }
}

/// Runs [`Kms::run_due_jobs`] every `interval` until the task is dropped. Nodes sharing a store take
/// turns through the store's lease `kms.jobs`: a tick runs only on the node (`node`, its id) that holds
/// it; the holder renews it every tick, and another node takes it over once it has lapsed (three
/// intervals, at least 3 s and at most 5 minutes, without renewal).
pub async fn run(kms: Arc<Kms>, interval: Duration, node: String) {
    const LEASE: &str = "kms.jobs";
    let ttl_ms = (interval.as_millis() as i64)
        .saturating_mul(3)
        .clamp(3_000, 300_000);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut held = false;
    loop {
        ticker.tick().await;
        match kms.store.try_lease(LEASE, &node, now_ms(), ttl_ms).await {
            Ok(true) => {
                if !held {
                    tracing::info!(node = %node, lease = LEASE, "this node runs KMS's scheduled jobs");
                }
                held = true;
            }
            Ok(false) => {
                if held {
                    tracing::info!(node = %node, lease = LEASE, "another node runs KMS's scheduled jobs now");
                }
                held = false;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, node = %node, lease = LEASE, "KMS scheduled jobs skipped: the job lease could not be taken; will retry");
                held = false;
                continue;
            }
        }
        match kms.run_due_jobs().await {
            Ok(r) if r != TickReport::default() => tracing::info!(
                rotated = r.rotated,
                deleted = r.deleted,
                expired = r.expired,
                "KMS scheduled jobs"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "KMS scheduled jobs failed; will retry"),
        }
    }
}
