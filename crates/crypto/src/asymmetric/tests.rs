//! Every spec × signing algorithm × message type, the RSA / HMAC / ECDH operations, import checks
//! and the input errors. Keys are generated once per spec for the whole test binary (RSA-4096 is
//! slow to generate).

use std::sync::OnceLock;

use aws_lc_rs::digest;

use super::*;
use crate::CryptoError;

static KEYS: [OnceLock<PrivateKey>; KeySpec::ALL.len()] =
    [const { OnceLock::new() }; KeySpec::ALL.len()];

pub(crate) fn key(spec: KeySpec) -> &'static PrivateKey {
    let i = KeySpec::ALL.iter().position(|s| *s == spec).unwrap();
    KEYS[i].get_or_init(|| PrivateKey::generate(spec).unwrap())
}

fn is_invalid_input(r: Result<impl std::fmt::Debug, CryptoError>) -> String {
    match r {
        Err(CryptoError::InvalidInput(msg)) => msg,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

fn hash_for(algorithm: &str) -> &'static digest::Algorithm {
    if algorithm.ends_with("256") {
        &digest::SHA256
    } else if algorithm.ends_with("384") {
        &digest::SHA384
    } else {
        &digest::SHA512
    }
}

/// (message type, message) pairs a spec × algorithm accepts, all standing for `message`.
fn inputs(key: &PrivateKey, algorithm: &str, message: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    match algorithm {
        "ED25519_SHA_512" => vec![("RAW", message.to_vec())],
        // KMS hashes the caller's SHA-512 digest once more; the "message" is the digest.
        "ED25519_PH_SHA_512" => vec![(
            "DIGEST",
            digest::digest(&digest::SHA512, message).as_ref().to_vec(),
        )],
        "ML_DSA_SHAKE_256" => {
            let public = key.public_key_der().unwrap();
            let raw = der::parse_spki(&public).unwrap().key;
            vec![
                ("RAW", message.to_vec()),
                ("EXTERNAL_MU", mldsa::external_mu(key.spec(), raw, message)),
            ]
        }
        _ => vec![
            ("RAW", message.to_vec()),
            (
                "DIGEST",
                digest::digest(hash_for(algorithm), message)
                    .as_ref()
                    .to_vec(),
            ),
        ],
    }
}

fn check_spec(spec: KeySpec) {
    let key = key(spec);
    let public = key.public_key_der().unwrap();
    let message = b"m2sec signs this message".as_slice();
    let other_message = b"m2sec signs this messagE".as_slice();
    for algorithm in spec.signing_algorithms() {
        let forms = inputs(key, algorithm, message);
        let other_forms = inputs(key, algorithm, other_message);
        for (mt, m) in &forms {
            let sig = key
                .sign(algorithm, mt, m)
                .unwrap_or_else(|e| panic!("{spec} {algorithm} {mt}: {e}"));
            // Verifies in every form of the same message (KMS: "a message and its hash digest are
            // considered to be the same message"), with the key and with the public key alone.
            for (vmt, vm) in &forms {
                assert!(
                    key.verify(algorithm, vmt, vm, &sig).unwrap(),
                    "{spec} {algorithm} {mt}->{vmt}"
                );
                assert!(
                    verify_with_public_key(spec, &public, algorithm, vmt, vm, &sig).unwrap(),
                    "{spec} {algorithm} {mt}->{vmt} (public key)"
                );
            }
            for (vmt, vm) in &other_forms {
                assert!(
                    !key.verify(algorithm, vmt, vm, &sig).unwrap(),
                    "{spec} {algorithm} other message"
                );
            }
            let mut tampered = sig.clone();
            let last = tampered.len() - 1;
            tampered[last / 2] ^= 0x10;
            assert!(
                !key.verify(algorithm, mt, m, &tampered).unwrap(),
                "{spec} {algorithm} tampered"
            );
            assert!(
                !key.verify(algorithm, mt, m, &sig[..last]).unwrap(),
                "{spec} {algorithm} truncated"
            );
            assert!(
                !key.verify(algorithm, mt, m, &[]).unwrap(),
                "{spec} {algorithm} empty"
            );
            assert!(!verify_with_public_key(spec, &public, algorithm, mt, m, &tampered).unwrap());
            // Another key of the same spec does not verify it.
            let other = PrivateKey::from_material(spec, &other_key_material(spec)).unwrap();
            assert!(
                !other.verify(algorithm, mt, m, &sig).unwrap(),
                "{spec} {algorithm} other key"
            );
        }
    }
    // The sealed material gives the same key back.
    let reopened = PrivateKey::from_material(spec, &key.to_material()).unwrap();
    assert_eq!(reopened.public_key_der(), key.public_key_der());
    for algorithm in spec.signing_algorithms() {
        for (mt, m) in inputs(key, algorithm, message) {
            let sig = reopened.sign(algorithm, mt, &m).unwrap();
            assert!(key.verify(algorithm, mt, &m, &sig).unwrap());
        }
    }
}

/// Material of a second key per spec, generated once.
fn other_key_material(spec: KeySpec) -> SecretBytes {
    static OTHERS: [OnceLock<SecretBytes>; KeySpec::ALL.len()] =
        [const { OnceLock::new() }; KeySpec::ALL.len()];
    let i = KeySpec::ALL.iter().position(|s| *s == spec).unwrap();
    OTHERS[i]
        .get_or_init(|| PrivateKey::generate(spec).unwrap().to_material())
        .clone()
}

#[test]
fn rsa_2048_signatures() {
    check_spec(KeySpec::Rsa2048);
}

#[test]
fn rsa_3072_signatures() {
    check_spec(KeySpec::Rsa3072);
}

#[test]
fn rsa_4096_signatures_and_encryption() {
    // One test for RSA-4096 so its two keys are generated once, in parallel with the others.
    check_spec(KeySpec::Rsa4096);
    check_encryption(KeySpec::Rsa4096);
}

#[test]
fn ecc_signatures() {
    for spec in [
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
        KeySpec::EccSecgP256k1,
    ] {
        check_spec(spec);
    }
}

#[test]
fn ed25519_signatures() {
    check_spec(KeySpec::EccNistEdwards25519);
}

#[test]
fn ml_dsa_signatures() {
    for spec in [KeySpec::MlDsa44, KeySpec::MlDsa65, KeySpec::MlDsa87] {
        check_spec(spec);
    }
}

#[test]
fn ml_dsa_public_key_is_spki_and_the_seed_drives_both_implementations() {
    for (spec, oid, raw_len) in [
        (KeySpec::MlDsa44, oid::ML_DSA_44, 1312),
        (KeySpec::MlDsa65, oid::ML_DSA_65, 1952),
        (KeySpec::MlDsa87, oid::ML_DSA_87, 2592),
    ] {
        let key = key(spec);
        let public = key.public_key_der().unwrap();
        let spki = der::parse_spki(&public).unwrap();
        assert_eq!(spki.algorithm.oid, oid);
        assert!(spki.algorithm.curve.is_none());
        assert_eq!(spki.key.len(), raw_len);
        // The stored PKCS#8 carries the seed.
        let material = key.to_material();
        let pkcs8 = der::parse_pkcs8(material.expose()).unwrap();
        assert!(der::ml_dsa_seed(pkcs8.private_key).is_some());
        // EXTERNAL_MU signatures (ml-dsa) verify as RAW (aws-lc-rs) and the other way round,
        // which they can only if both derived the same key from the seed.
        let message = b"external mu";
        let mu = mldsa::external_mu(spec, spki.key, message);
        let by_mu = key.sign("ML_DSA_SHAKE_256", "EXTERNAL_MU", &mu).unwrap();
        assert!(key
            .verify("ML_DSA_SHAKE_256", "RAW", message, &by_mu)
            .unwrap());
        let by_raw = key.sign("ML_DSA_SHAKE_256", "RAW", message).unwrap();
        assert!(key
            .verify("ML_DSA_SHAKE_256", "EXTERNAL_MU", &mu, &by_raw)
            .unwrap());
    }
}

#[test]
fn signing_input_errors_are_actionable() {
    let rsa = key(KeySpec::Rsa2048);
    let msg = is_invalid_input(rsa.sign("RSASSA_PSS_SHA_256", "DIGEST", &[0u8; 20]));
    assert!(
        msg.contains("32-byte SHA-256 digest") && msg.contains("got 20 bytes"),
        "{msg}"
    );
    let msg = is_invalid_input(rsa.verify(
        "RSASSA_PKCS1_V1_5_SHA_512",
        "DIGEST",
        &[0u8; 32],
        &[0u8; 256],
    ));
    assert!(msg.contains("64-byte SHA-512"), "{msg}");
    let msg = is_invalid_input(rsa.sign("ECDSA_SHA_256", "RAW", b"x"));
    assert!(msg.contains("RSASSA_PSS_SHA_256"), "{msg}");
    is_invalid_input(rsa.sign("RSASSA_PSS_SHA_256", "EXTERNAL_MU", &[0u8; 64]));
    let msg = is_invalid_input(rsa.sign("RSASSA_PSS_SHA_256", "raw", b"x"));
    assert!(msg.contains("RAW, DIGEST or EXTERNAL_MU"), "{msg}");

    let p384 = key(KeySpec::EccNistP384);
    is_invalid_input(p384.sign("ECDSA_SHA_384", "DIGEST", &[0u8; 32]));
    is_invalid_input(p384.sign("ECDSA_SHA_256", "RAW", b"x"));

    let ed = key(KeySpec::EccNistEdwards25519);
    let msg = is_invalid_input(ed.sign("ED25519_SHA_512", "DIGEST", &[0u8; 64]));
    assert!(msg.contains("requires MessageType RAW"), "{msg}");
    let msg = is_invalid_input(ed.sign("ED25519_PH_SHA_512", "RAW", b"x"));
    assert!(msg.contains("requires MessageType DIGEST"), "{msg}");
    is_invalid_input(ed.sign("ED25519_PH_SHA_512", "DIGEST", &[0u8; 32]));

    let ml = key(KeySpec::MlDsa44);
    let msg = is_invalid_input(ml.sign("ML_DSA_SHAKE_256", "DIGEST", &[0u8; 64]));
    assert!(msg.contains("RAW or EXTERNAL_MU"), "{msg}");
    let msg = is_invalid_input(ml.sign("ML_DSA_SHAKE_256", "EXTERNAL_MU", &[0u8; 32]));
    assert!(msg.contains("64-byte"), "{msg}");
    is_invalid_input(ml.verify("ML_DSA_SHAKE_256", "EXTERNAL_MU", &[0u8; 63], &[0u8; 10]));

    let hmac = key(KeySpec::Hmac256);
    is_invalid_input(hmac.sign("HMAC_SHA_256", "RAW", b"x"));
    is_invalid_input(hmac.verify("HMAC_SHA_256", "RAW", b"x", b"y"));
    assert!(hmac.public_key_der().is_none());
}

#[test]
fn verify_with_public_key_refuses_keys_of_another_spec() {
    let p256 = key(KeySpec::EccNistP256).public_key_der().unwrap();
    let sig = key(KeySpec::EccNistP256)
        .sign("ECDSA_SHA_256", "RAW", b"m")
        .unwrap();
    // Same curve, other spec: P-256 vs secp256k1.
    is_invalid_input(verify_with_public_key(
        KeySpec::EccSecgP256k1,
        &p256,
        "ECDSA_SHA_256",
        "RAW",
        b"m",
        &sig,
    ));
    is_invalid_input(verify_with_public_key(
        KeySpec::EccNistP384,
        &p256,
        "ECDSA_SHA_384",
        "RAW",
        b"m",
        &sig,
    ));
    is_invalid_input(verify_with_public_key(
        KeySpec::Rsa2048,
        &p256,
        "RSASSA_PSS_SHA_256",
        "RAW",
        b"m",
        &sig,
    ));
    let rsa2048 = key(KeySpec::Rsa2048).public_key_der().unwrap();
    is_invalid_input(verify_with_public_key(
        KeySpec::Rsa3072,
        &rsa2048,
        "RSASSA_PSS_SHA_256",
        "RAW",
        b"m",
        &sig,
    ));
    is_invalid_input(verify_with_public_key(
        KeySpec::EccNistP256,
        b"\x30\x03garbage",
        "ECDSA_SHA_256",
        "RAW",
        b"m",
        &sig,
    ));
    is_invalid_input(verify_with_public_key(
        KeySpec::Hmac256,
        &p256,
        "ECDSA_SHA_256",
        "RAW",
        b"m",
        &sig,
    ));
    // A raw point is not a SubjectPublicKeyInfo.
    let raw = der::parse_spki(&p256).unwrap().key.to_vec();
    is_invalid_input(verify_with_public_key(
        KeySpec::EccNistP256,
        &raw,
        "ECDSA_SHA_256",
        "RAW",
        b"m",
        &sig,
    ));
    let ml = key(KeySpec::MlDsa44).public_key_der().unwrap();
    is_invalid_input(verify_with_public_key(
        KeySpec::MlDsa65,
        &ml,
        "ML_DSA_SHAKE_256",
        "RAW",
        b"m",
        &sig,
    ));
}

fn check_encryption(spec: KeySpec) {
    let key = key(spec);
    let public = key.public_key_der().unwrap();
    for algorithm in spec.encryption_algorithms() {
        let max = spec.max_plaintext_len(algorithm).unwrap();
        for plaintext in [vec![], b"attack at dawn".to_vec(), vec![0x5a; max]] {
            let ct = key.encrypt(algorithm, &plaintext).unwrap();
            assert_eq!(ct.len(), spec.rsa_bits().unwrap() / 8);
            assert_eq!(key.decrypt(algorithm, &ct).unwrap().expose(), plaintext);
            let ct2 = encrypt_with_public_key(spec, &public, algorithm, &plaintext).unwrap();
            assert_ne!(ct, ct2, "OAEP is randomized");
            assert_eq!(key.decrypt(algorithm, &ct2).unwrap().expose(), plaintext);
        }
        let msg = is_invalid_input(key.encrypt(algorithm, &vec![0; max + 1]));
        assert!(msg.contains(&format!("at most {max} bytes")), "{msg}");
        is_invalid_input(encrypt_with_public_key(
            spec,
            &public,
            algorithm,
            &vec![0; max + 1],
        ));

        let ct = key.encrypt(algorithm, b"secret").unwrap();
        let mut tampered = ct.clone();
        tampered[10] ^= 1;
        assert!(matches!(
            key.decrypt(algorithm, &tampered),
            Err(CryptoError::InvalidCiphertext)
        ));
        assert!(matches!(
            key.decrypt(algorithm, &ct[1..]),
            Err(CryptoError::InvalidCiphertext)
        ));
        assert!(matches!(
            key.decrypt(algorithm, b""),
            Err(CryptoError::InvalidCiphertext)
        ));
        // The other OAEP hash does not decrypt it.
        let other = if *algorithm == "RSAES_OAEP_SHA_1" {
            "RSAES_OAEP_SHA_256"
        } else {
            "RSAES_OAEP_SHA_1"
        };
        assert!(matches!(
            key.decrypt(other, &ct),
            Err(CryptoError::InvalidCiphertext)
        ));
    }
    is_invalid_input(key.encrypt("SYMMETRIC_DEFAULT", b"x"));
    is_invalid_input(key.decrypt("RSAES_PKCS1_V1_5", &[0; 256]));
}

#[test]
fn rsa_encryption() {
    check_encryption(KeySpec::Rsa2048);
    check_encryption(KeySpec::Rsa3072);
    // A fresh key (decrypting half built on first use after from_material).
    let reopened =
        PrivateKey::from_material(KeySpec::Rsa2048, &key(KeySpec::Rsa2048).to_material()).unwrap();
    let ct = key(KeySpec::Rsa2048)
        .encrypt("RSAES_OAEP_SHA_256", b"hello")
        .unwrap();
    assert_eq!(
        reopened
            .decrypt("RSAES_OAEP_SHA_256", &ct)
            .unwrap()
            .expose(),
        b"hello"
    );
    // Not for other specs.
    is_invalid_input(key(KeySpec::EccNistP256).encrypt("RSAES_OAEP_SHA_256", b"x"));
    is_invalid_input(key(KeySpec::EccNistP256).decrypt("RSAES_OAEP_SHA_256", b"x"));
    let p256 = key(KeySpec::EccNistP256).public_key_der().unwrap();
    is_invalid_input(encrypt_with_public_key(
        KeySpec::EccNistP256,
        &p256,
        "RSAES_OAEP_SHA_256",
        b"x",
    ));
    is_invalid_input(encrypt_with_public_key(
        KeySpec::Rsa2048,
        &p256,
        "RSAES_OAEP_SHA_256",
        b"x",
    ));
    let rsa3072 = key(KeySpec::Rsa3072).public_key_der().unwrap();
    is_invalid_input(encrypt_with_public_key(
        KeySpec::Rsa2048,
        &rsa3072,
        "RSAES_OAEP_SHA_256",
        b"x",
    ));
}

#[test]
fn hmac_keys() {
    for (spec, alg, len) in [
        (KeySpec::Hmac224, "HMAC_SHA_224", 28),
        (KeySpec::Hmac256, "HMAC_SHA_256", 32),
        (KeySpec::Hmac384, "HMAC_SHA_384", 48),
        (KeySpec::Hmac512, "HMAC_SHA_512", 64),
    ] {
        let key = key(spec);
        assert_eq!(
            key.to_material().len(),
            len,
            "generated key length = hash length"
        );
        let mac = key.mac(alg, b"message").unwrap();
        assert_eq!(mac.len(), len);
        assert!(key.verify_mac(alg, b"message", &mac).unwrap());
        assert!(!key.verify_mac(alg, b"messagf", &mac).unwrap());
        assert!(!key.verify_mac(alg, b"message", &mac[1..]).unwrap());
        assert!(!key.verify_mac(alg, b"message", b"").unwrap());
        let reopened = PrivateKey::from_material(spec, &key.to_material()).unwrap();
        assert_eq!(reopened.mac(alg, b"message").unwrap(), mac);
        let wrong = if alg == "HMAC_SHA_256" {
            "HMAC_SHA_512"
        } else {
            "HMAC_SHA_256"
        };
        let msg = is_invalid_input(key.mac(wrong, b"m"));
        assert!(msg.contains(alg), "{msg}");
        is_invalid_input(key.verify_mac(wrong, b"m", &mac));
        is_invalid_input(key.encrypt("RSAES_OAEP_SHA_256", b"m"));
        is_invalid_input(key.derive_shared_secret(b"x"));

        // Import: AWS's length ranges.
        let range = spec.hmac_key_lengths().unwrap();
        for n in [*range.start(), *range.end()] {
            let material = SecretBytes::new(vec![7; n]);
            let imported = PrivateKey::import(spec, &material).unwrap();
            assert_eq!(imported.to_material(), material);
            assert_eq!(imported.mac(alg, b"m").unwrap().len(), len);
        }
        for n in [*range.start() - 1, *range.end() + 1, 0] {
            let msg = is_invalid_input(PrivateKey::import(spec, &SecretBytes::new(vec![7; n])));
            assert!(msg.contains(&format!("got {n} bytes")), "{msg}");
        }
    }
    is_invalid_input(key(KeySpec::Rsa2048).mac("HMAC_SHA_256", b"m"));
}

#[test]
fn ecdh_agrees_on_the_same_curve_only() {
    for (spec, len) in [
        (KeySpec::EccNistP256, 32),
        (KeySpec::EccNistP384, 48),
        (KeySpec::EccNistP521, 66),
    ] {
        let a = key(spec);
        let b = PrivateKey::from_material(spec, &other_key_material(spec)).unwrap();
        let ab = a
            .derive_shared_secret(&b.public_key_der().unwrap())
            .unwrap();
        let ba = b
            .derive_shared_secret(&a.public_key_der().unwrap())
            .unwrap();
        assert_eq!(ab, ba);
        assert_eq!(ab.len(), len);
    }
    let p256 = key(KeySpec::EccNistP256);
    let msg = is_invalid_input(
        p256.derive_shared_secret(&key(KeySpec::EccNistP384).public_key_der().unwrap()),
    );
    assert!(msg.contains("ECC_NIST_P384"), "{msg}");
    is_invalid_input(
        p256.derive_shared_secret(&key(KeySpec::EccSecgP256k1).public_key_der().unwrap()),
    );
    is_invalid_input(p256.derive_shared_secret(&key(KeySpec::Rsa2048).public_key_der().unwrap()));
    is_invalid_input(p256.derive_shared_secret(b"not der"));
    // A raw uncompressed point is not a SubjectPublicKeyInfo.
    let spki = key(KeySpec::EccNistP256).public_key_der().unwrap();
    let raw = der::parse_spki(&spki).unwrap().key.to_vec();
    is_invalid_input(p256.derive_shared_secret(&raw));
    // A point off the curve.
    let mut off = spki.clone();
    let last = off.len() - 1;
    off[last] ^= 1;
    is_invalid_input(p256.derive_shared_secret(&off));
    for spec in [
        KeySpec::EccSecgP256k1,
        KeySpec::EccNistEdwards25519,
        KeySpec::MlDsa44,
        KeySpec::Rsa2048,
    ] {
        let msg = is_invalid_input(key(spec).derive_shared_secret(&spki));
        assert!(msg.contains("key agreement"), "{msg}");
    }
}

#[test]
fn import_takes_pkcs8_of_the_right_key_only() {
    for spec in [
        KeySpec::Rsa2048,
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
        KeySpec::EccSecgP256k1,
        KeySpec::EccNistEdwards25519,
        KeySpec::MlDsa44,
        KeySpec::MlDsa65,
        KeySpec::MlDsa87,
    ] {
        let original = key(spec);
        let imported = PrivateKey::import(spec, &original.to_material()).unwrap();
        assert_eq!(
            imported.public_key_der(),
            original.public_key_der(),
            "{spec}"
        );
        assert_eq!(
            imported.to_material(),
            original.to_material(),
            "{spec}: canonical PKCS#8"
        );
    }
    let p256 = key(KeySpec::EccNistP256).to_material();
    let msg = is_invalid_input(PrivateKey::import(KeySpec::EccNistP384, &p256));
    assert!(
        msg.contains("ECC_NIST_P256") && msg.contains("ECC_NIST_P384"),
        "{msg}"
    );
    is_invalid_input(PrivateKey::import(KeySpec::EccSecgP256k1, &p256));
    is_invalid_input(PrivateKey::import(KeySpec::Rsa2048, &p256));
    let rsa = key(KeySpec::Rsa2048).to_material();
    let msg = is_invalid_input(PrivateKey::import(KeySpec::Rsa3072, &rsa));
    assert!(
        msg.contains("2048-bit") && msg.contains("3072-bit"),
        "{msg}"
    );
    is_invalid_input(PrivateKey::import(KeySpec::EccNistEdwards25519, &rsa));
    let ml44 = key(KeySpec::MlDsa44).to_material();
    is_invalid_input(PrivateKey::import(KeySpec::MlDsa65, &ml44));
    let msg = is_invalid_input(PrivateKey::import(
        KeySpec::EccNistP256,
        &SecretBytes::from_slice(b"raw bytes"),
    ));
    assert!(msg.contains("PKCS#8"), "{msg}");
    // Truncated DER.
    let mut cut = p256.expose().to_vec();
    cut.truncate(cut.len() - 3);
    is_invalid_input(PrivateKey::import(
        KeySpec::EccNistP256,
        &SecretBytes::new(cut),
    ));
    // A PKCS#8 whose key does not check out (private scalar altered: public key no longer matches).
    let mut altered = p256.expose().to_vec();
    let pos = altered.len() / 2;
    altered[pos] ^= 0xff;
    assert!(PrivateKey::import(KeySpec::EccNistP256, &SecretBytes::new(altered)).is_err());
}

#[test]
fn data_key_pairs() {
    let (private, public) = generate_data_key_pair(KeySpec::EccNistP256).unwrap();
    let key = PrivateKey::import(KeySpec::EccNistP256, &private).unwrap();
    assert_eq!(key.public_key_der().unwrap(), public);
    for spec in KeySpec::ALL {
        assert_eq!(
            spec.is_data_key_pair_spec(),
            !spec.is_hmac() && !spec.is_ml_dsa()
        );
    }
    is_invalid_input(generate_data_key_pair(KeySpec::Hmac256));
    is_invalid_input(generate_data_key_pair(KeySpec::MlDsa65));
}

#[test]
fn debug_prints_the_spec_only_and_keys_are_shareable() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<PrivateKey>();
    shareable::<crate::WrappingKey>();
    let key = key(KeySpec::EccNistEdwards25519);
    assert_eq!(format!("{key:?}"), "PrivateKey(ECC_NIST_EDWARDS25519)");
    // Exercise the lazily built Ed25519ph key, then check again.
    key.sign("ED25519_PH_SHA_512", "DIGEST", &[1; 64]).unwrap();
    assert_eq!(format!("{key:?}"), "PrivateKey(ECC_NIST_EDWARDS25519)");
}

#[test]
fn corrupted_material_is_refused() {
    for spec in [
        KeySpec::EccNistP256,
        KeySpec::EccNistEdwards25519,
        KeySpec::MlDsa44,
        KeySpec::Rsa2048,
    ] {
        assert!(PrivateKey::from_material(spec, &SecretBytes::from_slice(b"junk")).is_err());
    }
    // Material of another spec.
    let p256 = key(KeySpec::EccNistP256).to_material();
    assert!(PrivateKey::from_material(KeySpec::EccNistP384, &p256).is_err());
    let rsa = key(KeySpec::Rsa2048).to_material();
    assert!(PrivateKey::from_material(KeySpec::Rsa3072, &rsa).is_err());
    assert!(PrivateKey::from_material(KeySpec::Hmac512, &SecretBytes::new(vec![1; 32])).is_err());
}
