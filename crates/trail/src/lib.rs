//! The trail: one CloudTrail record per API call (and per action m2sec takes on its own), written
//! through a group-commit writer ([`writer`]), hash-chained with signed digests ([`chain`],
//! [`signer`]), queried with CloudTrail's LookupEvents ([`lookup`]) and summed up as an AWS bill
//! ([`usage`]). What enters a record is decided by [`redact`]: never a plaintext, ciphertext, key
//! material or parameter value.

pub mod chain;
pub mod lookup;
pub mod record;
pub mod redact;
pub mod signer;
pub mod usage;
pub mod writer;

use std::sync::Arc;

use m2sec_crypto::RootKey;
use m2sec_store::{NewTrailEvent, Store};
use tokio::sync::{mpsc, oneshot, Notify};

pub use record::{Call, ServiceEvent};
pub use writer::WriterConfig;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store: {0}")]
    Store(#[from] m2sec_store::StoreError),
    #[error("{0}")]
    Key(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// The handle services and the HTTP layer record through. Cloning is cheap; a disabled trail records
/// nothing.
#[derive(Clone, Default)]
pub struct Trail {
    tx: Option<mpsc::Sender<writer::Message>>,
    /// Wakes the writer when a caller waits for a commit.
    urgent: Arc<Notify>,
}

impl std::fmt::Debug for Trail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trail")
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

impl Trail {
    pub fn disabled() -> Self {
        Trail::default()
    }

    /// Opens (or creates) the digest signing key and starts this node's writer.
    pub async fn start(
        store: Arc<dyn Store>,
        root: &RootKey,
        config: WriterConfig,
    ) -> Result<(Trail, tokio::task::JoinHandle<()>)> {
        let signer = Arc::new(signer::Signer::open_or_create(store.as_ref(), root).await?);
        let (tx, urgent, task) = writer::start(store, signer, config);
        Ok((
            Trail {
                tx: Some(tx),
                urgent,
            },
            task,
        ))
    }

    pub fn is_enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues a record; with `durable`, returns once it is committed.
    pub async fn record(&self, event: NewTrailEvent, durable: bool) {
        let Some(tx) = &self.tx else {
            return;
        };
        if durable {
            let (done, committed) = oneshot::channel();
            if tx
                .send(writer::Message::Event(Box::new(event), Some(done)))
                .await
                .is_ok()
            {
                self.urgent.notify_one();
                let _ = committed.await;
            }
        } else {
            let _ = tx.send(writer::Message::Event(Box::new(event), None)).await;
        }
    }

    /// Records a call. A successful change is answered only once its record is committed.
    pub async fn call(&self, call: &Call<'_>) {
        if !self.is_enabled() {
            return;
        }
        let event = record::call_event(call);
        let durable = !event.read_only && call.error.is_none();
        self.record(event, durable).await;
    }

    /// As [`Trail::call`], with `requestParameters` given as JSON text (what
    /// [`redact::request_parameters_text`] returns) in place of `call.request_parameters`.
    pub async fn call_with_text(&self, call: &Call<'_>, request_parameters: Option<&str>) {
        if !self.is_enabled() {
            return;
        }
        let event = record::call_event_with(call, request_parameters.map(record::Params::Text));
        let durable = !event.read_only && call.error.is_none();
        self.record(event, durable).await;
    }

    /// Records one of m2sec's own actions, committed before this returns.
    pub async fn service_event(&self, event: &ServiceEvent<'_>) {
        if !self.is_enabled() {
            return;
        }
        self.record(record::service_event(event), true).await;
    }

    /// Commits everything queued so far and signs a digest of the chain (at shutdown).
    pub async fn flush(&self) {
        self.commit_queued(true).await;
    }

    /// Commits everything queued so far, so that a lookup sees every call answered before it.
    pub async fn commit_pending(&self) {
        self.commit_queued(false).await;
    }

    async fn commit_queued(&self, sign: bool) {
        let Some(tx) = &self.tx else {
            return;
        };
        let (done, flushed) = oneshot::channel();
        if tx.send(writer::Message::Flush(done, sign)).await.is_ok() {
            self.urgent.notify_one();
            let _ = flushed.await;
        }
    }
}
