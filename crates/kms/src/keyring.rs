//! The in-memory view of keys in use: metadata plus unwrapped key versions, and alias targets.
//!
//! The store is the source of truth; this cache is filled on first use and replaced after every write
//! this node makes, so the hot path (Encrypt, Decrypt, GenerateDataKey) touches no storage.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use m2sec_crypto::{RootKey, SymmetricKey};
use m2sec_store::{KeyRecord, KeyVersionRecord, Scope, Store};

use crate::error::{KmsError, Result};

/// A key ready for use.
pub struct LoadedKey {
    pub record: KeyRecord,
    pub arn: String,
    versions: BTreeMap<u32, Arc<SymmetricKey>>,
}

impl LoadedKey {
    /// The version new ciphertext is made with.
    pub fn current(&self) -> (u32, &SymmetricKey) {
        let v = self.record.current_version;
        (v, self.versions.get(&v).expect("current version is loaded"))
    }

    pub fn version(&self, version: u32) -> Option<&SymmetricKey> {
        self.versions.get(&version).map(Arc::as_ref)
    }

    /// The same key with new metadata.
    pub fn with_record(&self, record: KeyRecord) -> LoadedKey {
        LoadedKey {
            record,
            arn: self.arn.clone(),
            versions: self.versions.clone(),
        }
    }

    /// The same key with one more version.
    pub fn with_version(&self, record: KeyRecord, version: u32, key: SymmetricKey) -> LoadedKey {
        let mut versions = self.versions.clone();
        versions.insert(version, Arc::new(key));
        LoadedKey {
            record,
            arn: self.arn.clone(),
            versions,
        }
    }
}

pub fn key_arn(scope: &Scope, key_id: &str) -> String {
    m2sec_proto::arn::build("kms", &scope.region, &scope.account, &format!("key/{key_id}"))
}

pub fn alias_arn(scope: &Scope, alias_name: &str) -> String {
    m2sec_proto::arn::build("kms", &scope.region, &scope.account, alias_name)
}

/// The AAD binding wrapped material to its key and version: moving it to another record breaks it.
pub fn material_aad(arn: &str, version: u32) -> Vec<u8> {
    format!("m2sec:kms-key-material:v1|{arn}|{version}").into_bytes()
}

fn cache_key(scope: &Scope, name: &str) -> String {
    format!("{}/{}/{}", scope.account, scope.region, name)
}

#[derive(Default)]
pub struct Keyring {
    keys: RwLock<HashMap<String, Arc<LoadedKey>>>,
    aliases: RwLock<HashMap<String, String>>,
}

impl Keyring {
    pub async fn key(
        &self,
        store: &dyn Store,
        root: &RootKey,
        scope: &Scope,
        key_id: &str,
    ) -> Result<Option<Arc<LoadedKey>>> {
        let ck = cache_key(scope, key_id);
        if let Some(k) = self.keys.read().expect("keyring lock").get(&ck) {
            return Ok(Some(k.clone()));
        }
        let Some(record) = store.get_key(scope, key_id).await? else {
            return Ok(None);
        };
        let versions = store.key_versions(scope, key_id).await?;
        let loaded = Arc::new(unwrap_all(root, record, &versions)?);
        self.keys.write().expect("keyring lock").insert(ck, loaded.clone());
        Ok(Some(loaded))
    }

    pub fn put(&self, key: LoadedKey) -> Arc<LoadedKey> {
        let key = Arc::new(key);
        let ck = cache_key(&key.record.scope, &key.record.key_id);
        self.keys.write().expect("keyring lock").insert(ck, key.clone());
        key
    }

    pub fn forget_key(&self, scope: &Scope, key_id: &str) {
        self.keys.write().expect("keyring lock").remove(&cache_key(scope, key_id));
        self.aliases
            .write()
            .expect("keyring lock")
            .retain(|k, target| !(k.starts_with(&cache_key(scope, "")) && target == key_id));
    }

    pub async fn alias_target(&self, store: &dyn Store, scope: &Scope, alias_name: &str) -> Result<Option<String>> {
        let ck = cache_key(scope, alias_name);
        if let Some(t) = self.aliases.read().expect("keyring lock").get(&ck) {
            return Ok(Some(t.clone()));
        }
        let Some(alias) = store.get_alias(scope, alias_name).await? else {
            return Ok(None);
        };
        self.aliases
            .write()
            .expect("keyring lock")
            .insert(ck, alias.target_key_id.clone());
        Ok(Some(alias.target_key_id))
    }

    pub fn set_alias(&self, scope: &Scope, alias_name: &str, target: Option<&str>) {
        let ck = cache_key(scope, alias_name);
        let mut aliases = self.aliases.write().expect("keyring lock");
        match target {
            Some(t) => aliases.insert(ck, t.to_string()),
            None => aliases.remove(&ck),
        };
    }
}

fn unwrap_all(root: &RootKey, record: KeyRecord, versions: &[KeyVersionRecord]) -> Result<LoadedKey> {
    let arn = key_arn(&record.scope, &record.key_id);
    let mut map = BTreeMap::new();
    for v in versions {
        let material = root
            .unwrap(&v.wrapped_material, &material_aad(&arn, v.version))
            .map_err(|_| KmsError::Internal(format!("key material of {arn} version {} does not unwrap", v.version)))?;
        let key = SymmetricKey::new(&material).map_err(|e| KmsError::Internal(e.to_string()))?;
        map.insert(v.version, Arc::new(key));
    }
    if !map.contains_key(&record.current_version) {
        return Err(KmsError::Internal(format!("{arn}: current version missing")));
    }
    Ok(LoadedKey {
        record,
        arn,
        versions: map,
    })
}
