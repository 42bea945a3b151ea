//! The in-memory view of keys in use: metadata plus unwrapped key versions, and alias targets.
//!
//! The store is the source of truth; this cache is filled on first use and replaced after every write
//! this node makes, so the hot path (Encrypt, Decrypt, GenerateDataKey) rarely touches storage. When
//! several nodes share one database, another node's write (DisableKey, a rotation, an alias move)
//! becomes visible here within `ttl`: an entry older than that is re-read from the store (one row;
//! key versions are unwrapped again only when a new one appeared).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use m2sec_crypto::{KeySpec, PrivateKey, RootKey, SecretBytes, SymmetricKey};
use m2sec_store::{KeyRecord, KeyVersionRecord, Scope, Store};

use crate::error::{KmsError, Result};

/// One version of a key's material, unwrapped and parsed.
pub enum Material {
    /// SYMMETRIC_DEFAULT: AES-256-GCM.
    Symmetric(SymmetricKey),
    /// Asymmetric (RSA, ECC, Ed25519, ML-DSA) and HMAC keys (boxed: parsed keys are large, and
    /// every version sits behind an `Arc` anyway).
    Private(Box<PrivateKey>),
}

impl Material {
    /// Parses material as sealed at rest for a key of `key_spec`.
    pub fn parse(key_spec: &str, bytes: &SecretBytes) -> std::result::Result<Material, String> {
        if key_spec == crate::keys::SYMMETRIC_DEFAULT {
            return SymmetricKey::new(bytes)
                .map(Material::Symmetric)
                .map_err(|e| e.to_string());
        }
        let spec =
            KeySpec::parse(key_spec).ok_or_else(|| format!("unknown key spec {key_spec}"))?;
        PrivateKey::from_material(spec, bytes)
            .map(|k| Material::Private(Box::new(k)))
            .map_err(|e| e.to_string())
    }

    pub fn symmetric(&self) -> Option<&SymmetricKey> {
        match self {
            Material::Symmetric(k) => Some(k),
            Material::Private(_) => None,
        }
    }

    pub fn private(&self) -> Option<&PrivateKey> {
        match self {
            Material::Private(k) => Some(k),
            Material::Symmetric(_) => None,
        }
    }
}

/// A key ready for use.
pub struct LoadedKey {
    pub record: KeyRecord,
    pub arn: String,
    /// Empty while a key waits for imported material (current version 0).
    versions: BTreeMap<u32, Arc<Material>>,
    /// The key policy, parsed on first use.
    policy: std::sync::OnceLock<Option<m2sec_iam::policy::PolicyDocument>>,
}

impl LoadedKey {
    /// The version new ciphertext is made with; None while the key has no material.
    pub fn current(&self) -> Option<(u32, &Material)> {
        let v = self.record.current_version;
        self.versions.get(&v).map(|m| (v, m.as_ref()))
    }

    /// The current material of a key that has some (checked by the key state beforehand).
    pub fn current_material(&self) -> Result<&Material> {
        self.current()
            .map(|(_, m)| m)
            .ok_or_else(|| KmsError::InvalidState(format!("{} is pending import.", self.arn)))
    }

    /// The private key (or HMAC secret) of an asymmetric or HMAC key.
    pub fn private_key(&self) -> Result<&PrivateKey> {
        self.current_material()?.private().ok_or_else(|| {
            KmsError::InvalidKeyUsage(format!(
                "{} is a symmetric encryption key; this operation needs an asymmetric or HMAC key.",
                self.arn
            ))
        })
    }

    pub fn policy(&self) -> Option<&m2sec_iam::policy::PolicyDocument> {
        self.policy
            .get_or_init(|| crate::access::parse_key_policy(&self.record.policy))
            .as_ref()
    }

    pub fn version(&self, version: u32) -> Option<&Material> {
        self.versions.get(&version).map(Arc::as_ref)
    }

    /// The same key with new metadata.
    pub fn with_record(&self, record: KeyRecord) -> LoadedKey {
        LoadedKey {
            record,
            arn: self.arn.clone(),
            versions: self.versions.clone(),
            policy: Default::default(),
        }
    }

    /// The same key with one more version.
    pub fn with_version(&self, record: KeyRecord, version: u32, key: Material) -> LoadedKey {
        let mut versions = self.versions.clone();
        versions.insert(version, Arc::new(key));
        LoadedKey {
            record,
            arn: self.arn.clone(),
            versions,
            policy: Default::default(),
        }
    }
}

pub fn key_arn(scope: &Scope, key_id: &str) -> String {
    m2sec_proto::arn::build(
        "kms",
        &scope.region,
        &scope.account,
        &format!("key/{key_id}"),
    )
}

pub fn alias_arn(scope: &Scope, alias_name: &str) -> String {
    m2sec_proto::arn::build("kms", &scope.region, &scope.account, alias_name)
}

/// The AAD binding wrapped material to its key and version: moving it to another record breaks it.
pub fn material_aad(arn: &str, version: u32) -> Vec<u8> {
    format!("m2sec:kms-key-material:v1|{arn}|{version}").into_bytes()
}

/// The KeyMaterialId of a symmetric key's version of generated material: derived from the key id and
/// the version, never from the material.
pub fn material_id(key_id: &str, version: u32) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("m2sec:kms-key-material-id:v1|{key_id}|{version}").as_bytes(),
    );
    hex::encode(digest.as_ref())
}

/// Aliases are names within a scope, so their cache key carries it.
fn cache_key(scope: &Scope, name: &str) -> String {
    format!("{}/{}/{}", scope.account, scope.region, name)
}

pub struct Keyring {
    ttl: Duration,
    keys: RwLock<HashMap<String, (Arc<LoadedKey>, Instant)>>,
    aliases: RwLock<HashMap<String, (String, Instant)>>,
}

impl Keyring {
    pub fn new(ttl: Duration) -> Self {
        Keyring {
            ttl,
            keys: RwLock::default(),
            aliases: RwLock::default(),
        }
    }

    pub async fn key(
        &self,
        store: &dyn Store,
        root: &RootKey,
        scope: &Scope,
        key_id: &str,
    ) -> Result<Option<Arc<LoadedKey>>> {
        // Key ids are random UUIDs, unique across accounts and regions, so the cache is keyed by id
        // alone (no allocation on the hot path) and the scope is checked on a hit.
        let cached = self
            .keys
            .read()
            .expect("keyring lock")
            .get(key_id)
            .filter(|(k, _)| &k.record.scope == scope)
            .cloned();
        if let Some((key, fetched)) = &cached {
            if fetched.elapsed() < self.ttl {
                return Ok(Some(key.clone()));
            }
        }
        let Some(record) = store.get_key(scope, key_id).await? else {
            if cached.is_some() {
                self.keys.write().expect("keyring lock").remove(key_id);
            }
            return Ok(None);
        };
        let loaded = match cached {
            // Same versions as before (the common case): keep the unwrapped material.
            Some((key, _))
                if record.current_version > 0
                    && key.versions.contains_key(&record.current_version) =>
            {
                key.with_record(record)
            }
            _ => {
                let versions = store.key_versions(scope, key_id).await?;
                unwrap_all(root, record, &versions)?
            }
        };
        Ok(Some(self.put(loaded)))
    }

    pub fn put(&self, key: LoadedKey) -> Arc<LoadedKey> {
        let key = Arc::new(key);
        self.keys
            .write()
            .expect("keyring lock")
            .insert(key.record.key_id.clone(), (key.clone(), Instant::now()));
        key
    }

    pub fn forget_key(&self, scope: &Scope, key_id: &str) {
        {
            let mut keys = self.keys.write().expect("keyring lock");
            if keys
                .get(key_id)
                .is_some_and(|(k, _)| &k.record.scope == scope)
            {
                keys.remove(key_id);
            }
        }
        self.aliases
            .write()
            .expect("keyring lock")
            .retain(|k, (target, _)| !(k.starts_with(&cache_key(scope, "")) && target == key_id));
    }

    pub async fn alias_target(
        &self,
        store: &dyn Store,
        scope: &Scope,
        alias_name: &str,
    ) -> Result<Option<String>> {
        let ck = cache_key(scope, alias_name);
        if let Some((target, fetched)) = self.aliases.read().expect("keyring lock").get(&ck) {
            if fetched.elapsed() < self.ttl {
                return Ok(Some(target.clone()));
            }
        }
        let target = store
            .get_alias(scope, alias_name)
            .await?
            .map(|a| a.target_key_id);
        self.set_alias(scope, alias_name, target.as_deref());
        Ok(target)
    }

    pub fn set_alias(&self, scope: &Scope, alias_name: &str, target: Option<&str>) {
        let ck = cache_key(scope, alias_name);
        let mut aliases = self.aliases.write().expect("keyring lock");
        match target {
            Some(t) => aliases.insert(ck, (t.to_string(), Instant::now())),
            None => aliases.remove(&ck),
        };
    }
}

fn unwrap_all(
    root: &RootKey,
    record: KeyRecord,
    versions: &[KeyVersionRecord],
) -> Result<LoadedKey> {
    let arn = key_arn(&record.scope, &record.key_id);
    let mut map = BTreeMap::new();
    for v in versions {
        let material = root
            .unwrap(&v.wrapped_material, &material_aad(&arn, v.version))
            .map_err(|_| {
                KmsError::Internal(format!(
                    "key material of {arn} version {} does not unwrap",
                    v.version
                ))
            })?;
        let key = Material::parse(&record.key_spec, &material)
            .map_err(|e| KmsError::Internal(format!("{arn} version {}: {e}", v.version)))?;
        map.insert(v.version, Arc::new(key));
    }
    if record.current_version > 0 && !map.contains_key(&record.current_version) {
        return Err(KmsError::Internal(format!(
            "{arn}: current version missing"
        )));
    }
    Ok(LoadedKey {
        record,
        arn,
        versions: map,
        policy: Default::default(),
    })
}
