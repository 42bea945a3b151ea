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

/// The store lease of KMS's scheduled jobs (see [`m2sec_store::lease`]).
pub const LEASE: &str = "kms.jobs";

/// Runs [`Kms::run_due_jobs`] every `interval`, on the node of those sharing the store that holds
/// [`LEASE`], until the task is dropped.
pub async fn run(kms: Arc<Kms>, interval: Duration, node: String) {
    let job = m2sec_store::lease::LeasedJob {
        lease: LEASE,
        what: "KMS's scheduled jobs",
        node,
        interval,
        wake: None,
    };
    m2sec_store::lease::run(kms.store.clone(), job, || {
        let kms = kms.clone();
        async move {
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
    })
    .await
}
