//! DynamoDB expressions: the text parsed as a condition, a filter, a key condition (key schema `pk`,
//! `sk`), an update and a projection, with no placeholders defined.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = m2sec_dynamodb::expression::parse_any(text);
});
