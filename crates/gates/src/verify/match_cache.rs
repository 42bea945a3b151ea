//! Whether a match allows re-entry, as the entries of `verify.rs` need it on every scan: read from
//! the matches table at most every [`MATCH_MAX_AGE`] per role, table and match, so a busy gate reads
//! each match twice a minute rather than once per fan, and a changed rule is used within 30 s.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use m2sec_proto::AwsError;
use serde_json::json;

use crate::role::AsRole;

/// How long a match's re-entry rule is used before it is read again.
pub const MATCH_MAX_AGE: Duration = Duration::from_secs(30);

/// A role's ARN, a matches table, a match id.
type MatchKey = (String, String, String);

/// Whether matches allow re-entry, read at most every [`MATCH_MAX_AGE`] per role, table and match.
#[derive(Default)]
pub struct MatchCache {
    entries: Mutex<HashMap<MatchKey, (Instant, bool)>>,
}

impl std::fmt::Debug for MatchCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        f.debug_struct("MatchCache")
            .field("entries", &count)
            .finish()
    }
}

impl MatchCache {
    /// Whether `match_id` allows re-entry; a match that is not in `table` does not.
    pub(super) async fn reentry(
        &self,
        as_role: &AsRole<'_>,
        table: &str,
        match_id: &str,
    ) -> Result<bool, AwsError> {
        let key = (
            as_role.role_arn().to_string(),
            table.to_string(),
            match_id.to_string(),
        );
        let fresh =
            |read: &Instant, now: Instant| now.saturating_duration_since(*read) < MATCH_MAX_AGE;
        if let Some((read, reentry)) = self.entries.lock().expect("match cache lock").get(&key) {
            if fresh(read, Instant::now()) {
                return Ok(*reentry);
            }
        }
        let item = as_role
            .get_item(table, json!({"matchId": {"S": match_id}}))
            .await?;
        if item.is_none() {
            tracing::warn!(
                match_id,
                table,
                "a ticket's match is not in the matches table"
            );
        }
        let reentry = item
            .and_then(|m| m.get("reentry")?.get("BOOL")?.as_bool())
            .unwrap_or(false);
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("match cache lock");
        entries.retain(|_, (read, _)| fresh(read, now));
        entries.insert(key, (now, reentry));
        Ok(reentry)
    }
}
