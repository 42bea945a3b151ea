//! Secrets a function reads from SSM at run time (its JWT secret), kept in memory for at most
//! [`MAX_AGE`] so that a rotated value is picked up within a minute, as a Lambda's module-level cache
//! would be if its containers were recycled that often.
//!
//! Entries are per role and parameter: a value read by one role is never handed to another, whose
//! policies may not allow it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use m2sec_proto::AwsError;
use zeroize::Zeroizing;

use crate::role::AsRole;

/// How long a value read from SSM is used before it is read again.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// A role's ARN and a parameter's name.
type Key = (String, String);

struct Entry {
    read: Instant,
    value: Zeroizing<String>,
}

impl Entry {
    fn fresh(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.read) < MAX_AGE
    }
}

#[derive(Default)]
pub struct SecretCache {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl std::fmt::Debug for SecretCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        f.debug_struct("SecretCache")
            .field("entries", &count)
            .finish()
    }
}

impl SecretCache {
    /// The value of parameter `name` for `role_arn` if read less than [`MAX_AGE`] before `now`.
    pub fn cached(&self, role_arn: &str, name: &str, now: Instant) -> Option<Zeroizing<String>> {
        let entries = self.entries.lock().expect("secret cache lock");
        entries
            .get(&(role_arn.to_string(), name.to_string()))
            .filter(|e| e.fresh(now))
            .map(|e| e.value.clone())
    }

    /// Keeps `value` of parameter `name` for `role_arn`, read at `now`.
    pub fn keep(&self, role_arn: &str, name: &str, value: Zeroizing<String>, now: Instant) {
        let mut entries = self.entries.lock().expect("secret cache lock");
        entries.retain(|_, e| e.fresh(now));
        entries.insert(
            (role_arn.to_string(), name.to_string()),
            Entry { read: now, value },
        );
    }

    /// The value of SecureString parameter `name`, from the cache or read as the role.
    pub async fn get(
        &self,
        as_role: &AsRole<'_>,
        name: &str,
    ) -> Result<Zeroizing<String>, AwsError> {
        let role_arn = as_role.role_arn();
        if let Some(value) = self.cached(role_arn, name, Instant::now()) {
            return Ok(value);
        }
        let value = as_role.get_parameter(name).await?;
        self.keep(role_arn, name, value.clone(), Instant::now());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_after_a_minute() {
        let cache = SecretCache::default();
        let t0 = Instant::now();
        cache.keep("role-a", "/jwt", Zeroizing::new("v1".into()), t0);
        assert_eq!(
            cache
                .cached("role-a", "/jwt", t0)
                .as_deref()
                .map(String::as_str),
            Some("v1")
        );
        assert_eq!(
            cache
                .cached("role-a", "/jwt", t0 + Duration::from_secs(59))
                .as_deref()
                .map(String::as_str),
            Some("v1")
        );
        assert!(cache.cached("role-a", "/jwt", t0 + MAX_AGE).is_none());
        assert!(cache.cached("role-b", "/jwt", t0).is_none(), "per role");
        assert!(
            cache.cached("role-a", "/other", t0).is_none(),
            "per parameter"
        );
    }

    #[test]
    fn expired_values_are_dropped() {
        let cache = SecretCache::default();
        let t0 = Instant::now();
        cache.keep("r", "/a", Zeroizing::new("a".into()), t0);
        cache.keep("r", "/b", Zeroizing::new("b".into()), t0 + MAX_AGE);
        assert_eq!(cache.entries.lock().unwrap().len(), 1);
        assert_eq!(format!("{cache:?}"), "SecretCache { entries: 1 }");
    }
}
