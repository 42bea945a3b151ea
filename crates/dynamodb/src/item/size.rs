//! Item size as DynamoDB counts it against the 400 KB limit: UTF-8 bytes of attribute names plus
//! the size of each value, with the per-element overheads of maps and lists.

use super::{AttributeValue, Item, ValidationError};

/// 400 KB.
pub const MAX_ITEM_SIZE: usize = 409_600;

/// Bytes a value counts for, without its attribute name.
pub fn attribute_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.stored_size(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Bool(_) | AttributeValue::Null => 1,
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| n.stored_size()).sum(),
        AttributeValue::Bs(set) => set.iter().map(Vec::len).sum(),
        // 3 bytes for the list or map, 1 per element.
        AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + attribute_size(v)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| 1 + k.len() + attribute_size(v))
                .sum::<usize>()
        }
    }
}

/// Bytes an item counts for.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + attribute_size(v)).sum()
}

/// PutItem's (and BatchWriteItem's, TransactWriteItems') check.
pub fn check_item_size(item: &Item) -> Result<(), ValidationError> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err(ValidationError::new(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    Ok(())
}

/// UpdateItem's check of the item an update expression produced; its message differs from PutItem's.
/// An update can also nest values deeper than DynamoDB stores (a `SET` of a nested path, again and
/// again): refused as a written item would be.
pub fn check_update_size(item: &Item) -> Result<(), ValidationError> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err(ValidationError::new(
            "Item size to update has exceeded the maximum allowed size",
        ));
    }
    if item.values().any(|v| v.depth() > super::wire::MAX_NESTING) {
        return Err(ValidationError::new(
            "Nesting Levels have exceeded supported limits",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::Number;

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn updates_nested_past_the_limit_are_refused() {
        let nested = |levels: usize| {
            let mut v = AttributeValue::Null;
            for _ in 0..levels {
                v = AttributeValue::L(vec![v]);
            }
            item(&[("k", AttributeValue::S("x".into())), ("deep", v)])
        };
        assert!(check_update_size(&nested(20)).is_ok());
        let e = check_update_size(&nested(40)).unwrap_err();
        assert_eq!(e.message(), "Nesting Levels have exceeded supported limits");
    }

    fn n(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    /// Items just over the limit, built as the service's own tests build them: the string
    /// attribute fills what the names, the key and the number leave.
    #[test]
    fn limit_with_numbers() {
        let key = "abcdefgh";
        for (number, number_size) in [
            (format!("{}{}", "1".repeat(38), "0".repeat(88)), 20),
            (format!("1{}", "0".repeat(125)), 2),
            (format!("11{}", "0".repeat(124)), 2),
            (format!("11111{}", "0".repeat(121)), 4),
            (format!("111111{}", "0".repeat(120)), 4),
            (format!("1111111{}", "0".repeat(119)), 5),
        ] {
            let filler = MAX_ITEM_SIZE - key.len() - 1 - 1 - 1 - number_size;
            let over = item(&[
                ("a", AttributeValue::s(key)),
                ("b", AttributeValue::s("a".repeat(filler + 1))),
                ("c", n(&number)),
            ]);
            assert_eq!(item_size(&over), MAX_ITEM_SIZE + 1, "{number}");
            assert!(check_item_size(&over).is_err());
            let fits = item(&[
                ("a", AttributeValue::s(key)),
                ("b", AttributeValue::s("a".repeat(filler))),
                ("c", n(&number)),
            ]);
            assert!(check_item_size(&fits).is_ok());
        }
    }

    #[test]
    fn documents_and_sets() {
        let doc = AttributeValue::M(
            [(
                "x".to_string(),
                AttributeValue::L(vec![AttributeValue::Null, AttributeValue::s("ab")]),
            )]
            .into_iter()
            .collect(),
        );
        // map 3 + (1 + "x") + list 3 + (1 + 1) + (1 + 2)
        assert_eq!(attribute_size(&doc), 3 + 2 + 3 + 2 + 3);
        let set = AttributeValue::Ss(["a", "bcd"].iter().map(|s| s.to_string()).collect());
        assert_eq!(attribute_size(&set), 4);
        assert_eq!(item_size(&item(&[("é", AttributeValue::s("ü"))])), 4);
        assert_eq!(
            check_update_size(&item(&[(
                "a",
                AttributeValue::s("a".repeat(MAX_ITEM_SIZE))
            )]))
            .unwrap_err()
            .message(),
            "Item size to update has exceeded the maximum allowed size"
        );
    }
}
