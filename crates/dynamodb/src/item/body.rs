//! An item's DynamoDB JSON written and read straight from and to [`AttributeValue`]s, without a
//! JSON tree between: the form an item is sealed in (`stored.rs`), and the encoding of any value
//! serialized through serde. The bytes are those of [`super::item_to_json`]'s tree serialized
//! (members in name order, numbers canonical, binaries in base64), so bodies sealed either way read
//! the same. Reading trusts what it reads to have been validated when it was written: it checks
//! shapes, not DynamoDB's rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use base64::Engine;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::number::Number;
use super::{AttributeValue, Item};

/// A value serialized as text through its `Display` (numbers).
struct Text<'a, T: fmt::Display>(&'a T);

impl<T: fmt::Display> Serialize for Text<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

/// Bytes serialized as standard base64 text.
struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&base64::display::Base64Display::new(
            self.0,
            &base64::engine::general_purpose::STANDARD,
        ))
    }
}

/// A number set, each member as text.
struct Numbers<'a>(&'a BTreeSet<Number>);

impl Serialize for Numbers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Text))
    }
}

/// A binary set, each member in base64.
struct Binaries<'a>(&'a BTreeSet<Vec<u8>>);

impl Serialize for Binaries<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|b| Base64(b)))
    }
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", &Text(n))?,
            AttributeValue::B(b) => map.serialize_entry("B", &Base64(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::M(m) => map.serialize_entry("M", m)?,
            AttributeValue::L(l) => map.serialize_entry("L", l)?,
            AttributeValue::Ss(s) => map.serialize_entry("SS", s)?,
            AttributeValue::Ns(s) => map.serialize_entry("NS", &Numbers(s))?,
            AttributeValue::Bs(s) => map.serialize_entry("BS", &Binaries(s))?,
        }
        map.end()
    }
}

/// An item's body as sealed.
pub fn item_to_body(item: &Item) -> Vec<u8> {
    serde_json::to_vec(item).expect("items serialize")
}

/// The item a sealed body holds.
pub fn item_from_body(body: &[u8]) -> Result<Item, serde_json::Error> {
    Ok(serde_json::from_slice::<StoredMap>(body)?.0)
}

/// A map of values read from a body (an item, or an `M`): its members are gathered in order and
/// the tree built from them at once, rather than built by inserts and then rebuilt without the
/// wrappers.
struct StoredMap(BTreeMap<String, AttributeValue>);

impl<'de> Deserialize<'de> for StoredMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StoredMapVisitor)
    }
}

struct StoredMapVisitor;

impl<'de> Visitor<'de> for StoredMapVisitor {
    type Value = StoredMap;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of DynamoDB attribute values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StoredMap, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((name, value)) = map.next_entry::<String, Stored>()? {
            members.push((name, value.0));
        }
        // Bodies list members in name order, so this sorts nothing; a repeated name keeps its last
        // value, as inserting would.
        Ok(StoredMap(members.into_iter().collect()))
    }
}

/// One value read from a body.
struct Stored(AttributeValue);

fn number<E: de::Error>(text: &str) -> Result<Number, E> {
    Number::parse(text).map_err(|e| E::custom(e.message()))
}

fn binary<E: de::Error>(text: &str) -> Result<Vec<u8>, E> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(E::custom)
}

impl<'de> Deserialize<'de> for Stored {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StoredVisitor)
    }
}

struct StoredVisitor;

impl<'de> Visitor<'de> for StoredVisitor {
    type Value = Stored;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a DynamoDB attribute value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Stored, A::Error> {
        let tag: std::borrow::Cow<'de, str> = map
            .next_key()?
            .ok_or_else(|| de::Error::custom("an attribute value without a type"))?;
        let value = match tag.as_ref() {
            "S" => AttributeValue::S(map.next_value()?),
            "N" => AttributeValue::N(number(&map.next_value::<std::borrow::Cow<'de, str>>()?)?),
            "B" => AttributeValue::B(binary(&map.next_value::<std::borrow::Cow<'de, str>>()?)?),
            "BOOL" => AttributeValue::Bool(map.next_value()?),
            "NULL" => {
                map.next_value::<bool>()?;
                AttributeValue::Null
            }
            "M" => AttributeValue::M(map.next_value::<StoredMap>()?.0),
            "L" => AttributeValue::L(
                map.next_value::<Vec<Stored>>()?
                    .into_iter()
                    .map(|v| v.0)
                    .collect(),
            ),
            "SS" => AttributeValue::Ss(map.next_value()?),
            "NS" => AttributeValue::Ns(
                map.next_value::<Vec<std::borrow::Cow<'de, str>>>()?
                    .iter()
                    .map(|t| number(t))
                    .collect::<Result<_, _>>()?,
            ),
            "BS" => AttributeValue::Bs(
                map.next_value::<Vec<std::borrow::Cow<'de, str>>>()?
                    .iter()
                    .map(|t| binary(t))
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(de::Error::custom(format!("unknown type {other}"))),
        };
        if map.next_key::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("an attribute value with two types"));
        }
        Ok(Stored(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    fn every_type() -> Item {
        let mut nested = BTreeMap::new();
        nested.insert(
            "inner".to_string(),
            AttributeValue::S("é \"q\" \\ \u{1}".into()),
        );
        nested.insert(
            "z".to_string(),
            AttributeValue::L(vec![AttributeValue::Null]),
        );
        [
            ("s", AttributeValue::S("text".into())),
            ("n", AttributeValue::N(n("-12.50e3"))),
            ("b", AttributeValue::B(vec![0, 255, 7])),
            ("t", AttributeValue::Bool(true)),
            ("f", AttributeValue::Bool(false)),
            ("null", AttributeValue::Null),
            ("m", AttributeValue::M(nested)),
            (
                "l",
                AttributeValue::L(vec![
                    AttributeValue::N(n("1")),
                    AttributeValue::S("x".into()),
                ]),
            ),
            (
                "ss",
                AttributeValue::Ss(["b", "a"].map(String::from).into()),
            ),
            (
                "ns",
                AttributeValue::Ns([n("10"), n("-1"), n("0.5")].into()),
            ),
            ("bs", AttributeValue::Bs([vec![1u8], vec![0u8, 2]].into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    #[test]
    fn bodies_are_the_bytes_of_the_json_tree_and_read_back() {
        let item = every_type();
        let body = item_to_body(&item);
        assert_eq!(
            body,
            serde_json::to_vec(&super::super::item_to_json(&item)).unwrap()
        );
        assert_eq!(item_from_body(&body).unwrap(), item);
        assert!(item_from_body(b"{}").unwrap().is_empty());
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for body in [
            &br#"{"a":{}}"#[..],
            br#"{"a":{"S":"x","N":"1"}}"#,
            br#"{"a":{"X":"x"}}"#,
            br#"{"a":{"N":"one"}}"#,
            br#"{"a":{"B":"!!"}}"#,
            br#"{"a":{"S":1}}"#,
            br#"{"a":[]}"#,
            br#"{"a":{"M":{"b":{}}}}"#,
            br#"{"a":{"M":[]}}"#,
            b"not json",
        ] {
            assert!(
                item_from_body(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
