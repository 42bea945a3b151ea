//! One runner for every background job that one node of a cluster runs at a time (KMS's rotations
//! and deletions, ACM's validations and renewals).
//!
//! Nodes sharing a store take turns through a lease row: a tick runs the job only on the node that
//! holds the lease; the holder renews it every tick, and another node takes it over once it has lapsed
//! (three intervals, at least 3 s and at most 5 minutes, without renewal). At shutdown the holder
//! releases it (`Store::release_lease`), so another node takes over at its next tick.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::{now_ms, Store};

/// A job run under a lease.
pub struct LeasedJob {
    /// The lease's name in the store (`kms.jobs`).
    pub lease: &'static str,
    /// What runs, for log lines ("KMS's scheduled jobs").
    pub what: &'static str,
    /// This node's id.
    pub node: String,
    pub interval: Duration,
    /// Runs the job at once when notified, as well as every interval.
    pub wake: Option<Arc<Notify>>,
}

impl LeasedJob {
    fn ttl_ms(&self) -> i64 {
        (self.interval.as_millis() as i64)
            .saturating_mul(3)
            .clamp(3_000, 300_000)
    }
}

/// Runs `tick` every `job.interval` (and whenever `job.wake` is notified) while this node holds the
/// job's lease, until the task is dropped. `tick` reports what it did itself.
pub async fn run<F, Fut>(store: Arc<dyn Store>, job: LeasedJob, mut tick: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let (lease, what, node) = (job.lease, job.what, job.node.as_str());
    let ttl_ms = job.ttl_ms();
    let mut ticker = tokio::time::interval(job.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let never = Arc::new(Notify::new());
    let wake = job.wake.clone().unwrap_or(never);
    let mut held = false;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = wake.notified() => {}
        }
        match store.try_lease(lease, node, now_ms(), ttl_ms).await {
            Ok(true) => {
                if !held {
                    tracing::info!(node = %node, lease, "this node runs {what}");
                }
                held = true;
            }
            Ok(false) => {
                if held {
                    tracing::info!(node = %node, lease, "another node runs {what} now");
                }
                held = false;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, node = %node, lease, "{what} skipped: the job lease could not be taken; will retry");
                held = false;
                continue;
            }
        }
        tick().await;
    }
}
