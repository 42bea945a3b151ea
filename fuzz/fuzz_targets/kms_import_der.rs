//! KMS ImportKeyMaterial (a PKCS#8 key, or raw HMAC key, for the key spec the first byte picks), and
//! the caller's DER SubjectPublicKeyInfo of DeriveSharedSecret and of public-key verification.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&spec, der)) = data.split_first() else { return };
    let spec = m2sec_fuzz::key_spec(spec);
    let _ = m2sec_crypto::PrivateKey::import(spec, &m2sec_crypto::SecretBytes::from_slice(der));
    let _ = m2sec_fuzz::ecdh_key().derive_shared_secret(der);
    let algorithm = spec.signing_algorithms().first().copied().unwrap_or("ECDSA_SHA_256");
    let _ = m2sec_crypto::verify_with_public_key(spec, der, algorithm, "RAW", b"message", der);
});
