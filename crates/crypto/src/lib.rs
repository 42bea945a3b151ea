//! Everything in m2sec that touches raw key material lives here, behind a narrow interface:
//!
//! - [`root`]: the root key, sealed at rest (a development key file, or a passphrase through Argon2id);
//! - [`RootKey::wrap`] / [`RootKey::unwrap`]: key material and other secrets at rest, bound to their identity by AAD;
//!   [`RootKey::seal`] / [`RootKey::open_sealed`] do the same for a [`SecretBytes`] kept as base64 text;
//! - [`signing`]: the Ed25519 key that signs m2sec's own statements (the trail's digests), sealed at rest;
//! - [`blob`]: the versioned, self-describing ciphertext blob KMS hands out;
//! - [`context`]: the canonical encoding of an encryption context, fed to AES-GCM as AAD;
//! - [`SymmetricKey`]: one KMS key version, ready to encrypt and decrypt blobs;
//! - [`KeySpec`]: the asymmetric and HMAC key specs, with the usages and algorithms AWS allows for each;
//! - [`PrivateKey`]: one asymmetric or HMAC key version (RSA, ECC NIST/secp256k1, Ed25519, ML-DSA, HMAC),
//!   parsed once: Sign/Verify (RAW, DIGEST, EXTERNAL_MU), RSAES-OAEP, HMAC, ECDH, ImportKeyMaterial
//!   checks; [`verify_with_public_key`] / [`encrypt_with_public_key`] do the public-key side outside
//!   the key owner, [`generate_data_key_pair`] serves GenerateDataKeyPair;
//! - [`WrappingKey`]: BYOK, the RSA wrapping key of GetParametersForImport and the four wrapping
//!   algorithms of ImportKeyMaterial ([`wrap_for_import`] is the client side, for tests and tools).
//!
//! Primitives come from aws-lc-rs, except the two it lacks: Ed25519ph (ed25519-dalek) and ML-DSA signing
//! from an external μ (RustCrypto ml-dsa, from the same seed). Plaintext material lives in
//! [`SecretBytes`] (zeroized on drop, `***` in `Debug`); no error message carries secret bytes.

mod asymmetric;
pub mod blob;
pub mod context;
mod der;
mod import;
mod keyspec;
pub mod root;
mod secret;
pub mod signing;
mod symmetric;
mod table_key;

pub use asymmetric::{
    encrypt_with_public_key, generate_data_key_pair, verify_with_public_key, PrivateKey,
};
pub use import::{wrap_for_import, WrappingKey};
pub use keyspec::KeySpec;
pub use root::{NewRootKey, RootKey, RootKeyOrigin};
pub use secret::SecretBytes;
pub use symmetric::SymmetricKey;
pub use table_key::TableKey;

/// Errors from this crate. Messages never contain secret bytes.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The ciphertext is not one of ours, was altered, or the context/key does not match.
    #[error(
        "the ciphertext is invalid, was altered, or does not match the key and encryption context"
    )]
    InvalidCiphertext,
    /// Unsealing the root key failed because the passphrase is wrong (or the sealed file was altered).
    #[error("wrong passphrase: the root key could not be unsealed (nothing was changed)")]
    WrongPassphrase,
    /// The data dir's root key cannot be used as configured.
    #[error("{0}")]
    RootKey(String),
    #[error("root key file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A caller mistake (wrong algorithm for the key, digest of the wrong length, unacceptable key
    /// material ...), with an actionable message.
    #[error("{0}")]
    InvalidInput(String),
    #[error("cryptographic failure in {0}")]
    Primitive(&'static str),
}

/// Fresh random bytes from the system CSPRNG (aws-lc-rs).
pub fn random_bytes(len: usize) -> SecretBytes {
    let mut out = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut out).expect("system random source failed");
    SecretBytes::new(out)
}

/// A fresh random 96-bit AES-GCM nonce.
pub(crate) fn random_nonce() -> [u8; 12] {
    let mut nonce = [0u8; 12];
    aws_lc_rs::rand::fill(&mut nonce).expect("system random source failed");
    nonce
}
