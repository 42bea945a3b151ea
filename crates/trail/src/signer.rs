//! The digest signing key: an Ed25519 key pair made at first start, its private half sealed under the
//! root key (like KMS key material), its public half stored beside it so anyone can check digests.
//! The key itself is m2sec-crypto's [`Ed25519Signer`]; this module keeps it in the store's settings.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use m2sec_crypto::signing::{self, Ed25519Signer};
use m2sec_crypto::{CryptoError, RootKey};
use m2sec_store::Store;

use crate::{Error, Result};

const SEALED_SETTING: &str = "trail.signing_key";
const PUBLIC_SETTING: &str = "trail.public_key";
const AAD: &[u8] = b"m2sec trail digest signing key v1";

pub struct Signer {
    key: Ed25519Signer,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("public_key", &B64.encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Opens the signing key, creating it the first time. Several nodes starting at once may each
    /// create one; every node then uses whichever was stored last.
    pub async fn open_or_create(store: &dyn Store, root: &RootKey) -> Result<Signer> {
        if store.get_setting(SEALED_SETTING).await?.is_none() {
            // The sealed setting is base64 of the root key's wrap of the PKCS#8, as it always was.
            let (sealed, public) = Ed25519Signer::generate(root, AAD)
                .map_err(|_| Error::Key("generating the trail signing key failed".into()))?;
            store.put_setting(SEALED_SETTING, &sealed).await?;
            store
                .put_setting(PUBLIC_SETTING, &B64.encode(public))
                .await?;
        }
        Self::open(store, root).await
    }

    /// Opens the stored signing key; fails if it is missing, does not unseal, or does not match the
    /// stored public key (which would mean the public key was replaced).
    pub async fn open(store: &dyn Store, root: &RootKey) -> Result<Signer> {
        let sealed = store
            .get_setting(SEALED_SETTING)
            .await?
            .ok_or_else(|| Error::Key("the trail has no signing key yet".into()))?;
        let key = Ed25519Signer::open(root, &sealed, AAD).map_err(|e| {
            Error::Key(
                match e {
                    CryptoError::InvalidCiphertext => {
                        "the trail signing key does not unseal with this root key"
                    }
                    _ if B64.decode(&sealed).is_err() => "the sealed trail signing key is corrupt",
                    _ => "the trail signing key is corrupt",
                }
                .into(),
            )
        })?;
        let signer = Signer { key };
        let public = public_key(store).await?;
        if public.as_deref() != Some(signer.public_key()) {
            return Err(Error::Key(
                "the stored trail public key does not match the sealed signing key".into(),
            ));
        }
        Ok(signer)
    }

    pub fn public_key(&self) -> &[u8] {
        self.key.public_key()
    }

    pub fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.key.sign(message))
    }
}

/// The stored public key, if the trail has one.
pub async fn public_key(store: &dyn Store) -> Result<Option<Vec<u8>>> {
    match store.get_setting(PUBLIC_SETTING).await? {
        None => Ok(None),
        Some(text) => B64
            .decode(text)
            .map(Some)
            .map_err(|_| Error::Key("the stored trail public key is corrupt".into())),
    }
}

/// Whether `signature` (base64) is `public_key`'s signature of `message`.
pub fn verify(public_key: &[u8], message: &[u8], signature: &str) -> bool {
    let Ok(sig) = B64.decode(signature) else {
        return false;
    };
    signing::verify(public_key, message, &sig)
}

#[cfg(test)]
mod tests {
    use super::*;
    use m2sec_store::SqlStore;

    async fn store() -> (tempfile::TempDir, SqlStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::connect(&SqlStore::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        (dir, store)
    }

    fn message(result: Result<Signer>) -> String {
        result.unwrap_err().to_string()
    }

    #[tokio::test]
    async fn the_key_is_made_once_and_reopens_with_its_root_key_only() {
        let (_dir, store) = store().await;
        let root = RootKey::ephemeral();
        let first = Signer::open_or_create(&store, &root).await.unwrap();
        let again = Signer::open_or_create(&store, &root).await.unwrap();
        assert_eq!(first.public_key(), again.public_key());
        let signature = again.sign(b"body");
        assert!(verify(first.public_key(), b"body", &signature));
        assert!(!verify(first.public_key(), b"other", &signature));
        assert!(!verify(first.public_key(), b"body", "not base64!"));

        let other_root = RootKey::ephemeral();
        assert!(message(Signer::open(&store, &other_root).await)
            .contains("does not unseal with this root key"));
        store.put_setting(SEALED_SETTING, "%%%").await.unwrap();
        assert!(message(Signer::open(&store, &root).await)
            .contains("the sealed trail signing key is corrupt"));
    }

    /// Data dirs made before the key moved into m2sec-crypto hold base64 of `wrap` over aws-lc-rs's
    /// PKCS#8 v2; they must open unchanged.
    #[tokio::test]
    async fn a_key_stored_the_earlier_way_opens() {
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
        let (_dir, store) = store().await;
        let root = RootKey::ephemeral();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        store
            .put_setting(SEALED_SETTING, &B64.encode(root.wrap(pkcs8.as_ref(), AAD)))
            .await
            .unwrap();
        store
            .put_setting(PUBLIC_SETTING, &B64.encode(pair.public_key().as_ref()))
            .await
            .unwrap();
        let signer = Signer::open(&store, &root).await.unwrap();
        assert_eq!(signer.public_key(), pair.public_key().as_ref());

        let (sealed, _) = Ed25519Signer::generate(&root, AAD).unwrap();
        store.put_setting(SEALED_SETTING, &sealed).await.unwrap();
        assert!(message(Signer::open(&store, &root).await).contains("does not match"));
    }
}
