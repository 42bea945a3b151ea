//! Route53 record values: `TYPE value` read as ChangeResourceRecordSets reads it, and when Route53
//! takes it, stored in a zone and written into a DNS answer.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (kind, value) = text.split_once(' ').unwrap_or((text, ""));
    if m2sec_route53::rdata::parse(kind, value).is_ok() {
        let _ = m2sec_fuzz::answer_with_record(kind, value);
    }
});
