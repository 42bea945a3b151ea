//! The KMS ciphertext blob (Decrypt, ReEncrypt): its header parsed, then opened with the seeds' key.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = m2sec_crypto::blob::parse(data) {
        let _ = m2sec_fuzz::blob_key().decrypt(&parsed, &[0, 0, 0, 0]);
    }
});
