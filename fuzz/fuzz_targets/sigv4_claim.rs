//! SigV4: the `Authorization` header or presigned query of an HTTP request → the claim, then the
//! clock and signature checks with the fixtures' secret (see `m2sec_fuzz::sigv4_clock`).
#![no_main]
use m2sec_fuzz::SIGV4_SECRET;
use m2sec_proto::sigv4::{parse_claim, verify, SigningKeyCache};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some(req) = m2sec_fuzz::HttpRequest::parse(data) else { return };
    if let Ok(claim) = parse_claim(&req.sigv4_parts()) {
        let now = m2sec_fuzz::sigv4_clock(claim.amz_date);
        let _ = verify(&req.sigv4_parts(), &claim, SIGV4_SECRET, now, &SigningKeyCache::new());
    }
});
