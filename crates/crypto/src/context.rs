//! Canonical encoding of a KMS encryption context.
//!
//! AWS treats the context as an unordered map of strings; the same map must always produce the same
//! AAD, and two different maps must never collide. We sort pairs by key bytes and length-prefix every
//! field, so `{"a":"bc"}` and `{"ab":"c"}` (or any split of separators) encode differently.
//!
//! ```text
//! u32 BE pair count, then per pair (sorted by key): u32 BE key length, key, u32 BE value length, value
//! ```

use std::collections::BTreeMap;

/// An encryption context; `BTreeMap` keeps it sorted by key bytes (Rust `String` order is byte order).
pub type EncryptionContext = BTreeMap<String, String>;

pub fn canonical(context: &EncryptionContext) -> Vec<u8> {
    let size = 4 + context
        .iter()
        .map(|(k, v)| 8 + k.len() + v.len())
        .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(context.len() as u32).to_be_bytes());
    for (key, value) in context {
        out.extend_from_slice(&(key.len() as u32).to_be_bytes());
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(&(value.len() as u32).to_be_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn order_of_insertion_does_not_matter() {
        assert_eq!(
            canonical(&ctx(&[("b", "2"), ("a", "1")])),
            canonical(&ctx(&[("a", "1"), ("b", "2")]))
        );
    }

    #[test]
    fn splits_do_not_collide() {
        assert_ne!(
            canonical(&ctx(&[("a", "bc")])),
            canonical(&ctx(&[("ab", "c")]))
        );
        assert_ne!(canonical(&ctx(&[("a", "")])), canonical(&ctx(&[])));
    }

    #[test]
    fn empty_context_is_a_zero_count() {
        assert_eq!(canonical(&ctx(&[])), vec![0, 0, 0, 0]);
    }
}
