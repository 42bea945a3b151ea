//! The group-commit writer. Calls hand their records to one task per node, which appends whatever has
//! queued up in one transaction (so the cost of a commit is shared by every record in it), signs a
//! digest of the chain at intervals, and prunes records past the retention period.
//!
//! Durability: a call that changes something (`readOnly: false`) and succeeded is answered only after
//! its record is committed; reads are answered at once and their records follow within one commit.
//! A crash can lose the records of reads answered in the last moments, never those of changes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use m2sec_store::{NewTrailEvent, Store, TrailDigestRecord, TrailHead};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::chain::{link, DigestBody};
use crate::record::now_ms;
use crate::signer::Signer;
use crate::Health;

/// Records per transaction at most.
const MAX_BATCH: usize = 2048;
/// Records waiting at most; callers wait when the writer falls this far behind.
const QUEUE: usize = 16_384;
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How often the writer commits what has queued when no caller waits for a commit.
const COMMIT_INTERVAL: Duration = Duration::from_millis(20);
/// How often the trail's size is compared with `max_bytes` (more often with a shorter digest interval).
const SIZE_CHECK_EVERY: Duration = Duration::from_secs(30);
/// How many of the newest records the size estimate averages.
const SIZE_SAMPLE: i64 = 1000;

/// A waiter is answered `true` once its record (or everything before its flush) is committed, and
/// `false` at once if the commit fails: the records stay in the writer and are written when the store
/// takes writes again, but nobody is kept waiting for that.
pub(crate) enum Message {
    Event(Box<NewTrailEvent>, Option<oneshot::Sender<bool>>),
    /// Commit everything queued before (and with `sign`, sign a digest), then answer.
    Flush(oneshot::Sender<bool>, bool),
}

#[derive(Debug, Clone)]
pub struct WriterConfig {
    pub digest_interval: Duration,
    /// 0: keep records forever.
    pub retention_days: f64,
    /// Size the records may take (estimated from the newest records' mean size); the oldest are
    /// pruned beyond it, up to a signed digest. 0: no limit.
    pub max_bytes: u64,
    /// Event sources not recorded at all (`kms.amazonaws.com`).
    pub exclude_event_sources: Vec<String>,
    /// Whether data events (DynamoDB's item calls, [`crate::record::is_data_event`]) are recorded;
    /// management events always are.
    pub data_events: bool,
}

pub(crate) fn start(
    store: Arc<dyn Store>,
    signer: Arc<Signer>,
    config: WriterConfig,
    health: Arc<Health>,
) -> (
    mpsc::Sender<Message>,
    Arc<Notify>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let urgent = Arc::new(Notify::new());
    let task = tokio::spawn(run(store, signer, config, rx, urgent.clone(), health));
    (tx, urgent, task)
}

struct State {
    store: Arc<dyn Store>,
    signer: Arc<Signer>,
    config: WriterConfig,
    last_digest: Instant,
    digested_seq: i64,
    last_prune: Option<Instant>,
    last_size_check: Option<Instant>,
    health: Arc<Health>,
}

async fn run(
    store: Arc<dyn Store>,
    signer: Arc<Signer>,
    config: WriterConfig,
    mut rx: mpsc::Receiver<Message>,
    urgent: Arc<Notify>,
    health: Arc<Health>,
) {
    let digested_seq = match store.trail_last_digest().await {
        Ok(d) => d.map_or(0, |d| d.last_seq),
        Err(e) => {
            tracing::warn!(error = %e, "reading the trail's last digest failed");
            0
        }
    };
    let mut state = State {
        store,
        signer,
        config,
        last_digest: Instant::now(),
        digested_seq,
        last_prune: None,
        last_size_check: None,
        health,
    };
    let mut batch: Vec<Message> = Vec::with_capacity(MAX_BATCH);
    let mut open = true;
    while open {
        // Callers do not wake the writer for each record (a thread wake-up per call would cost more
        // than the record): it wakes every COMMIT_INTERVAL, and at once when a caller waits (a change,
        // a flush, a lookup).
        tokio::select! {
            _ = tokio::time::sleep(COMMIT_INTERVAL) => {}
            _ = urgent.notified() => {}
        }
        loop {
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
            let full = batch.len() >= MAX_BATCH;
            state.commit(&mut batch).await;
            if !full {
                break;
            }
        }
        state.maintain().await;
    }
    // Every sender is gone: commit what is left and sign a final digest.
    state.commit(&mut batch).await;
    state.digest(true).await;
}

trait ElapsedExt {
    fn is_none_or_elapsed(&self, d: Duration) -> bool;
}

impl ElapsedExt for Option<Instant> {
    fn is_none_or_elapsed(&self, d: Duration) -> bool {
        match self {
            None => true,
            Some(t) => t.elapsed() >= d,
        }
    }
}

impl State {
    /// Appends the batch's records, retrying until the store takes them (nothing is dropped; callers
    /// queue behind), then answers whoever waits.
    async fn commit(&mut self, batch: &mut Vec<Message>) {
        if batch.is_empty() {
            return;
        }
        let mut events = Vec::with_capacity(batch.len());
        let mut acks = Vec::new();
        let mut flushes = Vec::new();
        let mut sign = false;
        for m in batch.drain(..) {
            match m {
                Message::Event(e, ack) => {
                    events.push(*e);
                    acks.extend(ack);
                }
                Message::Flush(done, with_digest) => {
                    flushes.push(done);
                    sign |= with_digest;
                }
            }
        }
        let events = Arc::new(events);
        if !events.is_empty() {
            let mut delay = Duration::from_millis(50);
            // Synced to disk when someone waits for it (a change); reads ride along.
            let sync = !acks.is_empty() || !flushes.is_empty();
            loop {
                match self.store.trail_append(events.clone(), link, sync).await {
                    Ok(_) => break,
                    Err(e) => {
                        if self.health.is_failing() {
                            tracing::error!(error = %e, records = events.len(), "writing the trail failed again; calls are refused until it succeeds");
                        } else {
                            tracing::error!(error = %e, records = events.len(), "writing the trail failed (is the disk full?); calls that would be recorded are refused until it succeeds; retrying");
                        }
                        self.health.set_failing(e.to_string());
                        // Nobody waits for the store to recover: callers answer with an error now,
                        // and their records are written when it does.
                        for ack in acks.drain(..) {
                            let _ = ack.send(false);
                        }
                        for done in flushes.drain(..) {
                            let _ = done.send(false);
                        }
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                }
            }
            if self.health.set_ok() {
                tracing::warn!(
                    records = events.len(),
                    "the trail is written again; calls are accepted"
                );
            }
        }
        for ack in acks {
            let _ = ack.send(true);
        }
        if !flushes.is_empty() {
            if sign {
                self.digest(true).await;
            }
            for done in flushes {
                let _ = done.send(true);
            }
        }
    }

    /// Signs a digest when one is due (or `now`) and the chain moved since the last one.
    async fn digest(&mut self, now: bool) {
        if !now && self.last_digest.elapsed() < self.config.digest_interval {
            return;
        }
        let head: TrailHead = match self.store.trail_head().await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "reading the trail head for a digest failed");
                return;
            }
        };
        self.last_digest = Instant::now();
        if head.seq == 0 || head.seq == self.digested_seq {
            return;
        }
        // The newest digest of any node: digests chain across nodes sharing one store.
        let previous = match self.store.trail_last_digest().await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "reading the last trail digest failed");
                return;
            }
        };
        if previous.as_ref().is_some_and(|d| d.last_seq >= head.seq) {
            self.digested_seq = head.seq;
            return;
        }
        let body = DigestBody {
            digest_version: 1,
            last_seq: head.seq,
            last_hash: head.hash,
            created_at: now_ms(),
            previous_signature: previous.map(|d| d.signature),
        };
        let text = serde_json::to_string(&body).expect("digests serialize");
        let signature = self.signer.sign(text.as_bytes());
        let record = TrailDigestRecord {
            last_seq: body.last_seq,
            created_at: body.created_at,
            body: text,
            signature,
        };
        match self.store.trail_put_digest(&record).await {
            Ok(()) => {
                self.digested_seq = body.last_seq;
            }
            Err(e) => tracing::warn!(error = %e, "writing a trail digest failed; will retry"),
        }
    }

    async fn maintain(&mut self) {
        self.digest(false).await;
        let check_every = SIZE_CHECK_EVERY.min(self.config.digest_interval);
        if self.config.max_bytes > 0 && self.last_size_check.is_none_or_elapsed(check_every) {
            self.last_size_check = Some(Instant::now());
            match prune_to_size(self.store.as_ref(), self.config.max_bytes).await {
                // Pruning stops at a signed digest; sign one now so the next check has an anchor
                // close to where the size limit falls.
                Ok(SizePrune::NeedsAnchor) => self.digest(true).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "pruning the trail to its size limit failed; will retry")
                }
            }
        }
        if self.config.retention_days > 0.0 && self.last_prune.is_none_or_elapsed(PRUNE_EVERY) {
            self.last_prune = Some(Instant::now());
            if let Err(e) = prune(self.store.as_ref(), self.config.retention_days).await {
                tracing::warn!(error = %e, "pruning the trail failed; will retry");
            }
        }
    }
}

/// Removes records older than the retention period, up to the newest digest among them: that digest
/// stays, so the first remaining record is still anchored.
pub async fn prune(store: &dyn Store, retention_days: f64) -> crate::Result<u64> {
    let cutoff = now_ms() - (retention_days * 86_400_000.0) as i64;
    let Some(old) = store.trail_last_seq_before(cutoff).await? else {
        return Ok(0);
    };
    let Some(anchor) = store
        .trail_digests()
        .await?
        .iter()
        .rev()
        .find(|d| d.last_seq <= old)
        .map(|d| d.last_seq)
    else {
        return Ok(0);
    };
    let removed = store.trail_prune(anchor).await?;
    if removed > 0 {
        tracing::info!(
            removed,
            through = anchor,
            "pruned trail records past retention"
        );
    }
    Ok(removed)
}

/// What [`prune_to_size`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum SizePrune {
    /// The trail is within its size.
    Within,
    /// Records were removed.
    Pruned(u64),
    /// The trail is over its size, but no signed digest lies early enough to prune up to.
    NeedsAnchor,
}

/// Removes the oldest records while the trail is over `max_bytes`, up to the newest digest among
/// them (it stays, so the first remaining record is still anchored). The size is estimated as the
/// number of records times the mean size of the newest ones: no full scan.
pub async fn prune_to_size(store: &dyn Store, max_bytes: u64) -> crate::Result<SizePrune> {
    let Some(first) = store.trail_first_seq().await? else {
        return Ok(SizePrune::Within);
    };
    let Some(mean) = store.trail_mean_record_bytes(SIZE_SAMPLE).await? else {
        return Ok(SizePrune::Within);
    };
    let head = store.trail_head().await?;
    let keep = (max_bytes as f64 / mean.max(1.0)).floor() as i64;
    let through = head.seq - keep;
    if through < first {
        return Ok(SizePrune::Within);
    }
    let Some(anchor) = store
        .trail_digests()
        .await?
        .iter()
        .rev()
        .find(|d| d.last_seq <= through && d.last_seq >= first)
        .map(|d| d.last_seq)
    else {
        return Ok(SizePrune::NeedsAnchor);
    };
    let removed = store.trail_prune(anchor).await?;
    if removed > 0 {
        tracing::info!(
            removed,
            through = anchor,
            max_bytes,
            "pruned the oldest trail records: the trail was over trail_max_bytes"
        );
    }
    Ok(SizePrune::Pruned(removed))
}
