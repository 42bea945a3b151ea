//! The digest signing key: an Ed25519 key pair made at first start, its private half sealed under the
//! root key (like KMS key material), its public half stored beside it so anyone can check digests.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use m2sec_crypto::RootKey;
use m2sec_store::Store;

use crate::{Error, Result};

const SEALED_SETTING: &str = "trail.signing_key";
const PUBLIC_SETTING: &str = "trail.public_key";
const AAD: &[u8] = b"m2sec trail digest signing key v1";

pub struct Signer {
    pair: Ed25519KeyPair,
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
            let rng = aws_lc_rs::rand::SystemRandom::new();
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| Error::Key("generating the trail signing key failed".into()))?;
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                .map_err(|_| Error::Key("the new trail signing key is unusable".into()))?;
            store
                .put_setting(SEALED_SETTING, &B64.encode(root.wrap(pkcs8.as_ref(), AAD)))
                .await?;
            store
                .put_setting(PUBLIC_SETTING, &B64.encode(pair.public_key().as_ref()))
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
        let sealed = B64
            .decode(sealed)
            .map_err(|_| Error::Key("the sealed trail signing key is corrupt".into()))?;
        let pkcs8 = root.unwrap(&sealed, AAD).map_err(|_| {
            Error::Key("the trail signing key does not unseal with this root key".into())
        })?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.expose())
            .map_err(|_| Error::Key("the trail signing key is corrupt".into()))?;
        let signer = Signer { pair };
        let public = public_key(store).await?;
        if public.as_deref() != Some(signer.public_key()) {
            return Err(Error::Key(
                "the stored trail public key does not match the sealed signing key".into(),
            ));
        }
        Ok(signer)
    }

    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    pub fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.pair.sign(message).as_ref())
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
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, &sig)
        .is_ok()
}
