//! Bytes of a key value whose bytewise order is DynamoDB's order of key values, so storage can
//! answer sort-key ranges with byte ranges.
//!
//! Strings and binaries are their own bytes (DynamoDB orders them bytewise), which also makes a
//! `begins_with` prefix a byte prefix. Numbers are encoded as a sign class, the exponent, and the
//! digits, complemented for negatives. Only values of one type are comparable: a table's key
//! attribute has one type, so no type tag is spent.

use super::{AttributeValue, Number};

const NEGATIVE: u8 = 0x00;
const ZERO: u8 = 0x01;
const POSITIVE: u8 = 0x02;
/// Ends a negative number's complemented digits; above every complemented digit, so that of two
/// negatives sharing leading digits the longer (larger magnitude, smaller value) sorts first.
const NEGATIVE_END: u8 = 0xff;

/// The order-preserving encoding of a string, number or binary key value; other types (which
/// cannot be key attributes) encode as their canonical JSON text, which at least keeps the function total.
pub fn sort_key_bytes(value: &AttributeValue) -> Vec<u8> {
    match value {
        AttributeValue::S(s) => s.as_bytes().to_vec(),
        AttributeValue::B(b) => b.clone(),
        AttributeValue::N(n) => number_bytes(n),
        other => other.to_json().to_string().into_bytes(),
    }
}

fn number_bytes(n: &Number) -> Vec<u8> {
    if n.is_zero() {
        return vec![ZERO];
    }
    // The exponent range -130..=125 maps onto 0..=255 exactly.
    let biased = (n.exponent() + 130) as u8;
    let mut out = Vec::with_capacity(n.digits().len() + 3);
    if n.is_negative() {
        out.push(NEGATIVE);
        out.push(u8::MAX - biased);
        out.extend(n.digits().iter().map(|d| 9 - d));
        out.push(NEGATIVE_END);
    } else {
        out.push(POSITIVE);
        out.push(biased);
        out.extend_from_slice(n.digits());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    /// A small deterministic generator; enough to spread values over the whole range.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn random_number(rng: &mut Rng) -> Number {
        let len = 1 + rng.below(38) as usize;
        let mut digits: String = (0..len)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect();
        // Shared prefixes and small exponents make near-ties common.
        if rng.below(3) == 0 {
            digits.truncate(1 + rng.below(3) as usize);
        }
        let exponent = if rng.below(2) == 0 {
            rng.below(11) as i64 - 5
        } else {
            rng.below(180) as i64 - 110
        };
        let sign = if rng.below(2) == 0 { "-" } else { "" };
        Number::parse(&format!("{sign}{digits}e{exponent}")).unwrap()
    }

    #[test]
    fn number_encoding_order_matches_numeric_order() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut values: Vec<Number> = (0..600).map(|_| random_number(&mut rng)).collect();
        for fixed in [
            "0",
            "-0",
            "1e-130",
            "-1e-130",
            "9.9999999999999999999999999999999999999e125",
            "-9.9999999999999999999999999999999999999e125",
            "1",
            "-1",
            "10",
            "-10",
            "0.1",
            "-0.1",
            "11",
            "-11",
            "1.1",
            "-1.1",
        ] {
            values.push(Number::parse(fixed).unwrap());
        }
        for a in &values {
            for b in &values {
                let bytes = number_bytes(a).cmp(&number_bytes(b));
                assert_eq!(bytes, a.cmp(b), "{a} vs {b}");
                assert_eq!(bytes == Ordering::Equal, a == b);
            }
        }
    }

    #[test]
    fn strings_and_binaries_keep_byte_order() {
        let mut rng = Rng(42);
        let alphabet = ["a", "b", "z", "A", "0", "é", "\u{10348}", "", "\u{7f}"];
        let values: Vec<AttributeValue> = (0..300)
            .map(|_| {
                let len = rng.below(5);
                AttributeValue::s(
                    (0..len)
                        .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                        .collect::<String>(),
                )
            })
            .collect();
        for a in &values {
            for b in &values {
                assert_eq!(
                    sort_key_bytes(a).cmp(&sort_key_bytes(b)),
                    a.compare(b).unwrap(),
                    "{a:?} vs {b:?}"
                );
            }
        }
        let binaries: Vec<AttributeValue> = (0..200)
            .map(|_| AttributeValue::B((0..rng.below(4)).map(|_| rng.below(256) as u8).collect()))
            .collect();
        for a in &binaries {
            for b in &binaries {
                assert_eq!(
                    sort_key_bytes(a).cmp(&sort_key_bytes(b)),
                    a.compare(b).unwrap()
                );
            }
        }
    }

    #[test]
    fn string_prefix_is_byte_prefix() {
        let key = sort_key_bytes(&AttributeValue::s("order#2024"));
        assert!(key.starts_with(&sort_key_bytes(&AttributeValue::s("order#"))));
    }
}
