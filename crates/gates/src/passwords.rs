//! Password hashes of the users table: Argon2id in PHC form (`$argon2id$v=19$m=…`) for every hash
//! m2sec writes, and bcrypt (`$2a$`, `$2b$`, `$2y$`, as npm `bcryptjs` makes them) read so that users
//! created by the Node service can still log in, after which their hash is replaced.
//!
//! Both are slow on purpose, and an Argon2id check takes 19 MiB: on an async runtime they run
//! through a [`HashingPool`], off the async workers and a few at a time, so that a flood of logins
//! queues instead of taking the machine's memory.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, Salt, SaltString};
use argon2::Argon2;

/// Runs password hashing on tokio's blocking threads, at most as many at once as there are CPUs.
#[derive(Debug)]
pub struct HashingPool {
    permits: tokio::sync::Semaphore,
}

impl Default for HashingPool {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        HashingPool {
            permits: tokio::sync::Semaphore::new(cpus),
        }
    }
}

impl HashingPool {
    /// `work`'s result, or `None` if it panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let _permit = self.permits.acquire().await.ok()?;
        tokio::task::spawn_blocking(work).await.ok()
    }
}

/// What checking a password against a stored hash tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The password matches an Argon2id hash.
    Valid,
    /// The password matches, but the hash is of an older kind (bcrypt, or Argon2 other than
    /// Argon2id): it should be replaced with [`hash_password`]'s.
    ValidNeedsUpgrade,
    /// The password does not match.
    Invalid,
    /// The stored value is no hash this module reads: nobody can log in with it.
    Unreadable,
}

impl PasswordCheck {
    pub fn is_valid(self) -> bool {
        matches!(
            self,
            PasswordCheck::Valid | PasswordCheck::ValidNeedsUpgrade
        )
    }
}

/// An Argon2id hash of `password` with a fresh salt and the `argon2` crate's default cost (19 MiB,
/// two passes, one lane: OWASP's recommendation), as a PHC string.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    aws_lc_rs::rand::fill(&mut salt).expect("system random source failed");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes are a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("default Argon2id parameters hash any password")
        .to_string()
}

/// Checks `password` against `stored`, an Argon2 PHC string or a bcrypt hash. bcrypt, like
/// bcryptjs, reads only the first 72 bytes of the password.
pub fn verify_password(password: &str, stored: &str) -> PasswordCheck {
    if is_bcrypt(stored) {
        return match bcrypt::verify(password, stored) {
            Ok(true) => PasswordCheck::ValidNeedsUpgrade,
            Ok(false) => PasswordCheck::Invalid,
            Err(_) => PasswordCheck::Unreadable,
        };
    }
    let Ok(hash) = PasswordHash::new(stored) else {
        return PasswordCheck::Unreadable;
    };
    let argon2id = match hash.algorithm.as_str() {
        "argon2id" => true,
        "argon2i" | "argon2d" => false,
        _ => return PasswordCheck::Unreadable,
    };
    match Argon2::default().verify_password(password.as_bytes(), &hash) {
        Ok(()) if argon2id => PasswordCheck::Valid,
        Ok(()) => PasswordCheck::ValidNeedsUpgrade,
        Err(argon2::password_hash::Error::Password) => PasswordCheck::Invalid,
        Err(_) => PasswordCheck::Unreadable,
    }
}

/// Spends the time of checking a password when there is no user to check it against, so that an
/// unknown user cannot be told from a wrong password by the time the answer takes.
pub fn verify_nobody(password: &str) {
    static NOBODY: OnceLock<String> = OnceLock::new();
    let hash = NOBODY.get_or_init(|| hash_password("no user has this password"));
    let _ = verify_password(password, hash);
}

fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[tokio::test]
    async fn the_pool_runs_work_a_few_at_a_time() {
        let pool = std::sync::Arc::new(HashingPool {
            permits: tokio::sync::Semaphore::new(2),
        });
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    pool.run(move || {
                        use std::sync::atomic::Ordering::SeqCst;
                        let now = running.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        running.fetch_sub(1, SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Some(()));
        }
        // Never more than the permits (eight would run at once without them).
        assert!(most.load(std::sync::atomic::Ordering::SeqCst) <= 2);
        assert_eq!(pool.run(|| panic!("hash failed")).await, None::<()>);
    }

    #[test]
    fn argon2id_round_trip() {
        let hash = hash_password("gate-pass-42");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(verify_password("gate-pass-42", &hash), PasswordCheck::Valid);
        assert_eq!(
            verify_password("gate-pass-43", &hash),
            PasswordCheck::Invalid
        );
        assert_ne!(hash, hash_password("gate-pass-42"), "salts differ");
    }

    #[test]
    fn reads_bcryptjs_hashes() {
        let file: Value =
            serde_json::from_str(include_str!("../tests/vectors/npm-bcryptjs.json")).unwrap();
        for vector in file["hashes"].as_array().unwrap() {
            let password = vector["password"].as_str().unwrap();
            let hash = vector["hash"].as_str().unwrap();
            assert_eq!(
                verify_password(password, hash),
                PasswordCheck::ValidNeedsUpgrade,
                "{}",
                vector["made_by"]
            );
            assert_eq!(verify_password("wrong", hash), PasswordCheck::Invalid);
        }
    }

    #[test]
    fn reads_bcrypt_crate_hashes_of_each_prefix() {
        let parts = bcrypt::hash_with_result("gate-pass-42", 4).unwrap();
        for version in [
            bcrypt::Version::TwoA,
            bcrypt::Version::TwoB,
            bcrypt::Version::TwoY,
        ] {
            let hash = parts.format_for_version(version);
            assert_eq!(
                verify_password("gate-pass-42", &hash),
                PasswordCheck::ValidNeedsUpgrade
            );
        }
    }

    #[test]
    fn older_argon2_variants_ask_for_an_upgrade() {
        let argon2i = Argon2::new(
            argon2::Algorithm::Argon2i,
            argon2::Version::V0x13,
            argon2::Params::new(64, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let hash = argon2i.hash_password(b"pw", &salt).unwrap().to_string();
        assert_eq!(
            verify_password("pw", &hash),
            PasswordCheck::ValidNeedsUpgrade
        );
        assert_eq!(verify_password("px", &hash), PasswordCheck::Invalid);
    }

    #[test]
    fn anything_else_is_unreadable() {
        for stored in [
            "",
            "plaintext",
            "$2b$04$short",
            "$scrypt$ln=4,r=8,p=1$c2FsdA$aGFzaA",
        ] {
            assert_eq!(
                verify_password("plaintext", stored),
                PasswordCheck::Unreadable,
                "{stored}"
            );
        }
    }
}
