//! A private key as an encrypted PKCS#8 PEM, for ACM's ExportCertificate.

use m2sec_crypto::SecretBytes;
use pkcs8::pkcs5::pbes2;
use pkcs8::{LineEnding, PrivateKeyInfo};

use crate::CaError;

/// PBKDF2 iterations. `openssl pkcs8 -topk8 -v2 aes-256-cbc` uses 2048; more costs an exporter a few
/// tens of milliseconds and an attacker proportionally more.
const PBKDF2_ITERATIONS: u32 = 100_000;

/// Encrypts a PKCS#8 private key under `passphrase` (PBES2: PBKDF2-HMAC-SHA256 with a random 16-byte
/// salt, AES-256-CBC with a random IV) and returns it as PEM `ENCRYPTED PRIVATE KEY`, which
/// `openssl pkcs8 -passin` and every TLS stack read.
pub fn export_encrypted_pkcs8(
    private_key_pkcs8_der: &SecretBytes,
    passphrase: &[u8],
) -> Result<String, CaError> {
    if passphrase.is_empty() {
        return Err(CaError::InvalidRequest(
            "the passphrase must not be empty".into(),
        ));
    }
    let info = PrivateKeyInfo::try_from(private_key_pkcs8_der.expose())
        .map_err(|_| CaError::InvalidInput("the private key is not a PKCS#8 private key".into()))?;
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).expect("system random");
    aws_lc_rs::rand::fill(&mut iv).expect("system random");
    let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
        .map_err(|_| CaError::Crypto("PBES2 parameters".into()))?;
    let encrypted = info
        .encrypt_with_params(params, passphrase)
        .map_err(|_| CaError::Crypto("encrypting the private key failed".into()))?;
    let pem = encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
        .map_err(|_| CaError::Crypto("encoding the encrypted private key failed".into()))?;
    Ok(pem.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pkcs8::EncryptedPrivateKeyInfo;

    #[test]
    fn round_trips_and_refuses_a_wrong_passphrase() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let der = SecretBytes::new(key.serialize_der());
        let pem = export_encrypted_pkcs8(&der, b"correct horse").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        let block = pem::parse(&pem).unwrap();
        let info = EncryptedPrivateKeyInfo::try_from(block.contents()).unwrap();
        let pbes2::Parameters { kdf, encryption } = match &info.encryption_algorithm {
            pkcs8::pkcs5::EncryptionScheme::Pbes2(p) => p,
            other => panic!("not PBES2: {other:?}"),
        };
        assert!(matches!(
            encryption,
            pbes2::EncryptionScheme::Aes256Cbc { .. }
        ));
        match kdf {
            pbes2::Kdf::Pbkdf2(p) => {
                assert_eq!(p.prf, pbes2::Pbkdf2Prf::HmacWithSha256);
                assert_eq!(p.salt.len(), 16);
                assert_eq!(p.iteration_count, PBKDF2_ITERATIONS);
            }
            other => panic!("not PBKDF2: {other:?}"),
        }
        let plain = info.decrypt(b"correct horse").unwrap();
        assert_eq!(plain.as_bytes(), der.expose());
        assert!(info.decrypt(b"wrong").is_err());
    }

    #[test]
    fn refuses_garbage_and_an_empty_passphrase() {
        let err =
            export_encrypted_pkcs8(&SecretBytes::from_slice(b"not a key"), b"pw").unwrap_err();
        assert!(matches!(err, CaError::InvalidInput(_)), "{err:?}");
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let err = export_encrypted_pkcs8(&SecretBytes::new(key.serialize_der()), b"").unwrap_err();
        assert!(matches!(err, CaError::InvalidRequest(_)), "{err:?}");
    }
}
