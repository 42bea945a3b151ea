//! The data dir and its root key. A data dir gets a root key once, when it is new; one that lost its
//! key file must not be given another. A new key would leave every secret stored under the old one
//! undecryptable (the start would fail later, after writing), and the old key, once found again, would
//! have a rival. So `serve` refuses, changing nothing, and names the missing file.
//!
//! "New" means: no file m2sec writes is in the data dir, and, when the store lives elsewhere
//! (`--store postgres://…` or another SQLite path), that store holds no rows. The key is generated in
//! memory, the store is looked at read-only (no migration is applied before the decision), and only
//! then is the data dir created and the key file written. With the embedded store the key file is
//! written before `m2sec.db` exists, so a crash in between never leaves data without its key.

use std::path::Path;

use anyhow::Context;
use m2sec_crypto::root::{missing, NewRootKey};
use m2sec_crypto::{RootKey, RootKeyOrigin, SecretBytes};
use m2sec_store::SqlStore;

use crate::config::Config;

/// Files m2sec writes into the data dir besides the root key: the embedded store with SQLite's
/// companion files, and the first start's admin credentials.
const DATA_FILES: &[&str] = &[
    "m2sec.db",
    "m2sec.db-wal",
    "m2sec.db-shm",
    "m2sec.db-journal",
    "credentials",
];

/// Which of m2sec's files are in `data_dir` (none if it does not exist).
fn data_files(data_dir: &Path) -> Vec<&'static str> {
    DATA_FILES
        .iter()
        .copied()
        .filter(|name| data_dir.join(name).symlink_metadata().is_ok())
        .collect()
}

/// Opens the data dir's root key, or creates the data dir and a new root key for a new deployment.
pub async fn root_key(
    config: &Config,
    passphrase: Option<&SecretBytes>,
) -> anyhow::Result<(RootKey, RootKeyOrigin)> {
    let dir = &config.data_dir;
    if let Some(opened) = RootKey::open(dir, passphrase).map_err(root_key_error)? {
        make_private(dir)?;
        return Ok(opened);
    }
    let new = new_root_key(config, passphrase).await?;
    make_private(dir)?;
    new.persist(dir).map_err(root_key_error)
}

/// A root key for a data dir that has none, in memory; refused if the data dir or the store holds
/// data. Nothing is written here.
async fn new_root_key(
    config: &Config,
    passphrase: Option<&SecretBytes>,
) -> anyhow::Result<NewRootKey> {
    let dir = &config.data_dir;
    let found = data_files(dir);
    if !found.is_empty() {
        let evidence = found.join(", ");
        return Err(root_key_error(missing(
            dir,
            passphrase.is_some(),
            &evidence,
        )));
    }
    // Before the store is looked at: a passphrase too short is refused first.
    let new = RootKey::generate(passphrase).map_err(root_key_error)?;
    if let Some(url) = &config.store {
        let holds_data = SqlStore::holds_data(url)
            .await
            .map_err(|e| anyhow::anyhow!("store: {e}"))?;
        if holds_data {
            // The URL may carry a password: it is not repeated here.
            let evidence = "the store given by --store / M2SEC_STORE already holds data";
            return Err(root_key_error(missing(dir, passphrase.is_some(), evidence)));
        }
    }
    Ok(new)
}

fn root_key_error(e: m2sec_crypto::CryptoError) -> anyhow::Error {
    anyhow::anyhow!("root key: {e}")
}

/// Creates the data dir if needed, readable by the owner only.
fn make_private(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating data dir {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}
