//! SigV4: the `Authorization` header or presigned query of an HTTP request → the claim, then the
//! clock and signature checks with the fixtures' secret at the fixtures' time (so the seeds verify).
#![no_main]
use m2sec_proto::sigv4::{parse_claim, verify, SigningKeyCache};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some(req) = m2sec_fuzz::HttpRequest::parse(data) else { return };
    if let Ok(claim) = parse_claim(&req.sigv4_parts()) {
        let (secret, now) = m2sec_fuzz::sigv4_fixture_secret_and_time();
        let _ = verify(&req.sigv4_parts(), &claim, secret, now, &SigningKeyCache::new());
    }
});
