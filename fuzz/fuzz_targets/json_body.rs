//! awsJson: `Operation\nbody` → the body parsed and checked against the KMS model, as `X-Amz-Target`
//! and the body reach `m2sec_proto::json::prepare`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (operation, body) = m2sec_fuzz::first_line(data);
    let operation = String::from_utf8_lossy(operation);
    let _ = m2sec_proto::json::prepare(m2sec_fuzz::kms_model(), &operation, body);
});
