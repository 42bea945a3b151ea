//! IAM policy documents: parsed for each place a policy attaches (identity, resource, trust), then
//! evaluated against a fixed request.
#![no_main]
use m2sec_iam::policy::{PolicyDocument, PolicyKind};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for kind in [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Trust] {
        if let Ok(policy) = PolicyDocument::parse(text, kind) {
            m2sec_fuzz::evaluate(&policy);
        }
    }
});
