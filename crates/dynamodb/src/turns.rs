//! One item's writers on this node take turns, and the next need not wait for the last one's commit.
//!
//! A write reads its item, decides (condition, update expression) and hands the store one write
//! guarded by the version it read; a lost race (another node, a transaction) reads again and decides
//! again. Writers of one item on this node take turns for the read-decide-queue step
//! ([`ItemTurns`]), so they do not race each other.
//!
//! With a store that commits queued writes in their order (SQLite's group commit,
//! [`Store::queue_items`]), the turn ends when the write is queued, not when it is committed: the
//! item as the queued write leaves it is kept here (sealed, as the store would hold it) until that
//! commit, and the item's next writer decides on it and queues its own write, guarded by the queued
//! write's version. Several writes of one item then share a commit instead of each waiting for the
//! previous one's sync. Versions are unique ([`next_version`]), so a write decided on a queued write
//! whose expectation then fails can never find the version it expects: it fails too, and is decided
//! again on what the store holds. (A write whose commit cannot be synced fails every write after it:
//! see the store's `sqlite_writer.rs`.) An answer decided on a queued write that writes nothing itself (a condition that
//! failed on it, a delete of the item it deletes) queues a check instead, guarded by the same version,
//! and answers once that check commits: it then holds for the item as committed, whoever else wrote
//! it meanwhile (a transaction, a time-to-live delete).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use m2sec_store::{Expect, GuardedWrite, ItemRecord, ItemWrite, StoreError};

use crate::error::{DynamoError, Result};
use crate::DynamoDb;

/// How often a write whose item changed under it is tried again before giving up. A change under a
/// write comes from another node or a transaction; tries are spaced by a growing, jittered pause (up
/// to about 3 s in all) as DynamoDB's own writers queue on an item rather than fail.
pub(crate) const RETRIES: usize = 40;

/// Waits before try number `attempt` (from 1) of a write that lost a race.
pub(crate) async fn back_off(attempt: usize) {
    let ceiling = 1u64 << attempt.min(7);
    let jitter = u64::from(m2sec_crypto::random_bytes(1).expose()[0]) % ceiling.max(1);
    tokio::time::sleep(std::time::Duration::from_millis(jitter + 1)).await;
}

/// A version no other write of any item carries: a random start per process, then counted.
pub(crate) fn next_version() -> i64 {
    static NEXT: std::sync::OnceLock<AtomicU64> = std::sync::OnceLock::new();
    let next = NEXT.get_or_init(|| {
        let bytes = m2sec_crypto::random_bytes(8);
        let mut start = [0u8; 8];
        start.copy_from_slice(bytes.expose());
        AtomicU64::new(u64::from_le_bytes(start))
    });
    // Kept positive and non-zero: 0 is a record not yet written (`stored::seal_item`).
    (next.fetch_add(1, Ordering::Relaxed) % (i64::MAX as u64)) as i64 + 1
}

/// What a writer decided, given the item as it is (or as the write queued before it leaves it).
pub(crate) enum Change {
    /// Write this record (its version is set here).
    Put(ItemRecord),
    /// Delete the item (nothing to do if it does not exist).
    Delete,
}

const STRIPES: usize = 256;

/// Per stripe of items: the turn, and the writes queued and not yet committed (by table id and
/// item hash: [`slot`]).
pub(crate) struct ItemTurns {
    turns: Vec<tokio::sync::Mutex<()>>,
    queued: Vec<Mutex<HashMap<Vec<u8>, Queued>>>,
    seq: AtomicU64,
}

/// A write queued to the store and not yet known committed.
struct Queued {
    /// The item as it leaves it (`None`: deleted).
    record: Option<ItemRecord>,
    seq: u64,
}

/// An item's place in [`ItemTurns`]: its table's id, then its hash.
fn slot(table_id: &str, hash: &[u8]) -> Vec<u8> {
    [table_id.as_bytes(), &[0], hash].concat()
}

impl ItemTurns {
    pub(crate) fn new() -> Self {
        ItemTurns {
            turns: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            queued: (0..STRIPES).map(|_| Mutex::new(HashMap::new())).collect(),
            seq: AtomicU64::new(0),
        }
    }

    /// By the hash's last byte (a slot begins with its table's id).
    fn stripe(slot: &[u8]) -> usize {
        slot.last().copied().unwrap_or(0) as usize % STRIPES
    }

    fn queued(&self, slot: &[u8]) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Queued>> {
        self.queued[Self::stripe(slot)]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The item as the last write queued for it leaves it.
    fn last_queued(&self, slot: &[u8]) -> Option<Option<ItemRecord>> {
        self.queued(slot).get(slot).map(|q| q.record.clone())
    }
}

/// Clears a queued write's entry when its writer is done with it, whatever happened (dropped with
/// the request included: the next writer then reads the store, and a write still in the queue at
/// that moment makes its guarded write fail and be decided again).
struct Settle<'a> {
    turns: &'a ItemTurns,
    slot: &'a [u8],
    seq: u64,
    failed: bool,
}

impl Drop for Settle<'_> {
    fn drop(&mut self) {
        let mut queued = self.turns.queued(self.slot);
        // A failed write's followers fail too: the store is what the next writer must read.
        if self.failed || queued.get(self.slot).is_some_and(|q| q.seq == self.seq) {
            queued.remove(self.slot);
        }
    }
}

impl DynamoDb {
    /// Reads item `hash` of table `table_id`, lets `decide` choose a change, and makes it, guarded
    /// by the version read: tried again on what the store then holds if the item changed under it.
    /// `decide` sees the item's stored record (`None`: absent); its error is the request's answer.
    /// A `blind` change (an unconditional put or delete whose answer needs nothing of the item) is
    /// made whatever the item is: the item is not read, and `decide` sees `None`.
    pub(crate) async fn change_item(
        &self,
        table_id: &str,
        hash: &[u8],
        blind: bool,
        mut decide: impl FnMut(Option<&ItemRecord>) -> Result<Change>,
    ) -> Result<()> {
        let turns = &self.item_turns;
        let slot = slot(table_id, hash);
        for attempt in 0..RETRIES {
            if attempt > 0 {
                back_off(attempt).await;
            }
            let turn = turns.turns[ItemTurns::stripe(&slot)].lock().await;
            let (current, on_queued) = match turns.last_queued(&slot) {
                _ if blind => (None, false),
                Some(record) => (record, true),
                None => (self.store.get_item(table_id, hash).await?, false),
            };
            let expect = match &current {
                _ if blind => Expect::Anything,
                Some(c) => Expect::Version(c.version),
                None => Expect::Absent,
            };
            let decided = decide(current.as_ref());
            let (write, after) = match decided {
                Ok(Change::Put(mut record)) => {
                    record.version = next_version();
                    (ItemWrite::Put(record.clone()), Some(record))
                }
                Ok(Change::Delete) if current.is_some() || blind => (
                    ItemWrite::Delete {
                        table_id: table_id.to_string(),
                        item_hash: hash.to_vec(),
                    },
                    None,
                ),
                // Decided on the item as committed, writing nothing.
                Ok(Change::Delete) | Err(_) if !on_queued => return decided.map(|_| ()),
                // Decided on a queued write, writing nothing: answered once a check that the item
                // is as decided on, queued behind that write, commits.
                Ok(Change::Delete) | Err(_) => {
                    let check = GuardedWrite {
                        write: ItemWrite::Check {
                            table_id: table_id.to_string(),
                            item_hash: hash.to_vec(),
                        },
                        expect,
                    };
                    let checked = match self.store.queue_items(vec![check]) {
                        Ok(queued) => {
                            drop(turn);
                            queued.await
                        }
                        Err(check) => self.store.write_items(&check).await,
                    };
                    match checked {
                        Ok(()) => return decided.map(|_| ()),
                        Err(StoreError::Conflict { .. }) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            let guarded = GuardedWrite { write, expect };
            let result = match self.store.queue_items(vec![guarded]) {
                Ok(queued) => {
                    let seq = turns.seq.fetch_add(1, Ordering::Relaxed);
                    turns
                        .queued(&slot)
                        .insert(slot.clone(), Queued { record: after, seq });
                    drop(turn);
                    let mut settle = Settle {
                        turns,
                        slot: &slot,
                        seq,
                        failed: false,
                    };
                    let result = queued.await;
                    settle.failed = result.is_err();
                    result
                }
                // No ordered queue: the turn lasts until the commit.
                Err(guarded) => self.store.write_items(&guarded).await,
            };
            match result {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(contention())
    }
}

pub(crate) fn contention() -> DynamoError {
    DynamoError::TransactionConflict(
        "Transaction is ongoing for the item: the item changed too often while this request was retried".into(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_are_never_repeated() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let v = super::next_version();
            assert!(v > 0);
            assert!(seen.insert(v), "version {v} repeated");
        }
    }
}
