//! Slowing password guessing: recent failed logins are counted per user name and per source address;
//! once either count reaches [`MAX_FAILURES`], logins for it are refused without checking the
//! password until [`WINDOW`] has passed since its last failure.
//!
//! The counts live in memory only (a restart forgets them) and their number is bounded: when the
//! table is full, expired entries go first, then the oldest open ones.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures that close a user name or an address.
pub const MAX_FAILURES: u32 = 5;
/// How long failures are remembered after the last one.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries kept at most (a few hundred bytes each).
const CAPACITY: usize = 10_000;

/// What a count is kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A user name, as sent to a login function.
    User { function: String, username: String },
    /// A client address (`requestContext.identity.sourceIp`).
    Address { function: String, ip: String },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
}

impl Entry {
    fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last) >= WINDOW
    }
}

/// The failure counts.
#[derive(Debug)]
pub struct FailedLogins {
    entries: Mutex<HashMap<Subject, Entry>>,
    capacity: usize,
}

impl Default for FailedLogins {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl FailedLogins {
    pub fn with_capacity(capacity: usize) -> Self {
        FailedLogins {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// If any of `subjects` is closed at `now`: how long until all of them are open again.
    pub fn closed(&self, subjects: &[Subject], now: Instant) -> Option<Duration> {
        let entries = self.entries.lock().expect("failed logins lock");
        subjects
            .iter()
            .filter_map(|s| entries.get(s))
            .filter(|e| e.failures >= MAX_FAILURES && !e.expired(now))
            .map(|e| WINDOW.saturating_sub(now.saturating_duration_since(e.last)))
            .max()
    }

    /// Counts a failure for each of `subjects`; answers whether one of them is now closed.
    pub fn record_failure(&self, subjects: &[Subject], now: Instant) -> bool {
        let mut entries = self.entries.lock().expect("failed logins lock");
        let mut closed = false;
        for subject in subjects {
            if !entries.contains_key(subject) && entries.len() >= self.capacity {
                self.make_room(&mut entries, now);
            }
            let entry = entries.entry(subject.clone()).or_insert(Entry {
                failures: 0,
                last: now,
            });
            if entry.expired(now) {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last = now;
            closed |= entry.failures >= MAX_FAILURES;
        }
        closed
    }

    /// Forgets the failures of `subject` (a user name that just logged in).
    pub fn forget(&self, subject: &Subject) {
        self.entries
            .lock()
            .expect("failed logins lock")
            .remove(subject);
    }

    /// Drops the expired entries, then, if that freed less than an eighth of the table, entries down
    /// to seven eighths: open ones before closed ones, the oldest first, so that a flood of new names
    /// does not reopen a closed one cheaply. One sort per eighth of the table, not per name.
    fn make_room(&self, entries: &mut HashMap<Subject, Entry>, now: Instant) {
        entries.retain(|_, e| !e.expired(now));
        let target = self.capacity - self.capacity.div_ceil(8);
        if entries.len() <= target {
            return;
        }
        let rank = |e: &Entry| (e.failures >= MAX_FAILURES, e.last);
        let mut ranks: Vec<(bool, Instant)> = entries.values().map(rank).collect();
        let excess = entries.len() - target;
        let (_, cutoff, _) = ranks.select_nth_unstable(excess - 1);
        let cutoff = *cutoff;
        let mut to_drop = excess;
        entries.retain(|_, e| {
            if to_drop > 0 && rank(e) <= cutoff {
                to_drop -= 1;
                false
            } else {
                true
            }
        });
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }

    #[cfg(test)]
    fn failures(&self, subject: &Subject) -> u32 {
        self.entries
            .lock()
            .unwrap()
            .get(subject)
            .map_or(0, |e| e.failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Subject {
        Subject::User {
            function: "login".into(),
            username: name.into(),
        }
    }

    fn address(ip: &str) -> Subject {
        Subject::Address {
            function: "login".into(),
            ip: ip.into(),
        }
    }

    #[test]
    fn the_fifth_failure_closes_until_the_window_passes() {
        let limits = FailedLogins::default();
        let start = Instant::now();
        let subjects = [user("steward7"), address("203.0.113.9")];
        for i in 1..MAX_FAILURES {
            assert!(!limits.record_failure(&subjects, start), "failure {i}");
            assert_eq!(limits.closed(&subjects, start), None);
        }
        assert!(limits.record_failure(&subjects, start));
        assert_eq!(limits.closed(&subjects, start), Some(WINDOW));
        assert_eq!(limits.closed(&[user("steward7")], start), Some(WINDOW));
        assert_eq!(
            limits.closed(&[address("203.0.113.9")], start),
            Some(WINDOW)
        );
        assert_eq!(limits.closed(&[user("other")], start), None);

        let later = start + Duration::from_secs(600);
        assert_eq!(
            limits.closed(&subjects, later),
            Some(Duration::from_secs(300))
        );
        assert_eq!(limits.closed(&subjects, start + WINDOW), None);
        // After the window, counting starts again.
        assert!(!limits.record_failure(&subjects, start + WINDOW));
    }

    #[test]
    fn an_address_closes_for_every_user_name() {
        let limits = FailedLogins::default();
        let now = Instant::now();
        for i in 0..MAX_FAILURES {
            limits.record_failure(&[user(&format!("user{i}")), address("198.51.100.1")], now);
        }
        assert!(limits
            .closed(&[user("fresh"), address("198.51.100.1")], now)
            .is_some());
        assert!(limits
            .closed(&[user("fresh"), address("198.51.100.2")], now)
            .is_none());
    }

    #[test]
    fn forgetting_a_user_keeps_its_address_count() {
        let limits = FailedLogins::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            limits.record_failure(&[user("a"), address("192.0.2.1")], now);
        }
        limits.forget(&user("a"));
        assert!(!limits.record_failure(&[user("a")], now));
        assert!(limits.record_failure(&[address("192.0.2.1")], now));
    }

    #[test]
    fn the_table_is_bounded_and_keeps_closed_entries_longest() {
        let limits = FailedLogins::with_capacity(64);
        let start = Instant::now();
        // One closed user early on, then a flood of new names.
        for _ in 0..MAX_FAILURES {
            limits.record_failure(&[user("victim")], start);
        }
        for i in 0..1_000u64 {
            let now = start + Duration::from_millis(i + 1);
            limits.record_failure(&[user(&format!("spray{i}"))], now);
            assert!(limits.len() <= 64);
        }
        let end = start + Duration::from_millis(1_001);
        assert!(limits.closed(&[user("victim")], end).is_some());
        // The oldest open names went first, the newest are still counted.
        assert_eq!(limits.failures(&user("spray0")), 0);
        assert_eq!(limits.failures(&user("spray999")), 1);
    }
}
