//! Background work: automatic rotation when a key's next rotation date arrives, and deletion when a
//! key's deletion window ends. One tick scans the store for due keys (an indexed query).

use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::{now_ms, state, Kms};

/// What one tick did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    pub rotated: usize,
    pub deleted: usize,
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

/// Runs [`Kms::run_due_jobs`] every `interval` until the task is dropped.
pub async fn run(kms: Arc<Kms>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match kms.run_due_jobs().await {
            Ok(r) if r != TickReport::default() => tracing::info!(
                rotated = r.rotated,
                deleted = r.deleted,
                "KMS scheduled jobs"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "KMS scheduled jobs failed; will retry"),
        }
    }
}
