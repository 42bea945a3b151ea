//! How fresh a cached piece of IAM state is. Several caches hold what IAM decides — the Authenticator's
//! access keys, the [`Authorizer`](crate::Authorizer)'s policies — and all of them must forget it the
//! moment an IAM call of this node changes it, before that call is answered: a key made inactive must
//! not sign one more request here. Other nodes sharing the store still see the change only when their
//! entries expire (the cache TTL).
//!
//! One counter does this for every cache: the IAM API advances it after each change, and an entry is
//! used only while the counter still reads what it read *before* the entry was loaded. Taking the stamp
//! before the store read matters: a load that raced with a change and read the old state carries the
//! old generation and is never used.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The count of IAM changes made on this node; shared by the IAM API and every cache of IAM state.
#[derive(Debug, Default)]
pub struct IamGeneration(AtomicU64);

/// When a cache entry was loaded: the generation then, and the moment.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    generation: u64,
    at: Instant,
}

impl IamGeneration {
    /// Call before reading the store for a cache entry; keep the stamp with the entry.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            generation: self.0.load(Ordering::Acquire),
            at: Instant::now(),
        }
    }

    /// Whether an entry stamped `stamp` may still be used: no IAM change on this node since, and
    /// younger than `ttl` (for changes made on other nodes).
    pub fn is_fresh(&self, stamp: &Stamp, ttl: Duration) -> bool {
        stamp.generation == self.0.load(Ordering::Acquire) && stamp.at.elapsed() < ttl
    }

    /// Makes every entry stamped so far stale. Called once the change is in the store.
    pub fn advance(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_stale_after_a_change_or_its_ttl() {
        let generation = IamGeneration::default();
        let ttl = Duration::from_secs(60);
        let before = generation.stamp();
        assert!(generation.is_fresh(&before, ttl));
        generation.advance();
        assert!(
            !generation.is_fresh(&before, ttl),
            "a load begun before the change"
        );
        let after = generation.stamp();
        assert!(generation.is_fresh(&after, ttl));
        assert!(!generation.is_fresh(&after, Duration::ZERO), "expired");
    }
}
