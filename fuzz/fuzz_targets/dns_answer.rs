//! The DNS server: a query packet (UDP, hence also TCP's `answer`) → its answer from fixed zones.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = m2sec_dns::answer::answer_udp(m2sec_fuzz::zones(), data);
});
