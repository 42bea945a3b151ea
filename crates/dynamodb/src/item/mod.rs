//! The data model: attribute values as DynamoDB stores and compares them.
//!
//! | file | what |
//! |------|------|
//! | `number.rs` | `Number`: 38-digit decimals, canonical form, exact addition |
//! | `wire.rs` | DynamoDB JSON (`{"S":"x"}`…) with the service's validation messages |
//! | `body.rs` | the same JSON written and read without a JSON tree: sealed item bodies |
//! | `size.rs` | item size as DynamoDB counts it, the 400 KB limit |
//! | `key.rs` | order-preserving bytes of key values for range scans in storage |

mod body;
mod key;
pub mod number;
mod size;
mod wire;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

pub use body::{item_from_body, item_to_body};
pub use key::sort_key_bytes;
pub use number::Number;
pub use size::{attribute_size, check_item_size, check_update_size, item_size, MAX_ITEM_SIZE};
pub use wire::{item_from_json, item_to_json, DecodeError};

/// An item: attribute names to values. Ordered so that outputs and error messages are stable.
pub type Item = BTreeMap<String, AttributeValue>;

/// A client error the service answers with `ValidationException` and this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(pub String);

impl ValidationError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    pub fn message(&self) -> &str {
        &self.0
    }
}

/// One DynamoDB value. Sets are kept ordered (strings and binaries bytewise, numbers numerically),
/// which makes set equality independent of the order a client sent them in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(BTreeMap<String, AttributeValue>),
    L(Vec<AttributeValue>),
    Ss(BTreeSet<String>),
    Ns(BTreeSet<Number>),
    Bs(BTreeSet<Vec<u8>>),
}

/// The type of a value, named on the wire as `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttributeType {
    S,
    N,
    B,
    Bool,
    Null,
    M,
    L,
    Ss,
    Ns,
    Bs,
}

impl AttributeType {
    pub const ALL: [AttributeType; 10] = [
        AttributeType::S,
        AttributeType::N,
        AttributeType::B,
        AttributeType::Bool,
        AttributeType::Null,
        AttributeType::M,
        AttributeType::L,
        AttributeType::Ss,
        AttributeType::Ns,
        AttributeType::Bs,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            AttributeType::S => "S",
            AttributeType::N => "N",
            AttributeType::B => "B",
            AttributeType::Bool => "BOOL",
            AttributeType::Null => "NULL",
            AttributeType::M => "M",
            AttributeType::L => "L",
            AttributeType::Ss => "SS",
            AttributeType::Ns => "NS",
            AttributeType::Bs => "BS",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The long name update-expression messages use ("operand type: NUMBER").
    pub fn long_name(self) -> &'static str {
        match self {
            AttributeType::S => "STRING",
            AttributeType::N => "NUMBER",
            AttributeType::B => "BINARY",
            AttributeType::Bool => "BOOLEAN",
            AttributeType::Null => "NULL",
            AttributeType::M => "MAP",
            AttributeType::L => "LIST",
            AttributeType::Ss => "STRING_SET",
            AttributeType::Ns => "NUMBER_SET",
            AttributeType::Bs => "BINARY_SET",
        }
    }

    pub fn is_set(self) -> bool {
        matches!(
            self,
            AttributeType::Ss | AttributeType::Ns | AttributeType::Bs
        )
    }
}

impl AttributeValue {
    pub fn attribute_type(&self) -> AttributeType {
        match self {
            AttributeValue::S(_) => AttributeType::S,
            AttributeValue::N(_) => AttributeType::N,
            AttributeValue::B(_) => AttributeType::B,
            AttributeValue::Bool(_) => AttributeType::Bool,
            AttributeValue::Null => AttributeType::Null,
            AttributeValue::M(_) => AttributeType::M,
            AttributeValue::L(_) => AttributeType::L,
            AttributeValue::Ss(_) => AttributeType::Ss,
            AttributeValue::Ns(_) => AttributeType::Ns,
            AttributeValue::Bs(_) => AttributeType::Bs,
        }
    }

    /// A string value; convenient in tests and in the service.
    pub fn s(value: impl Into<String>) -> Self {
        AttributeValue::S(value.into())
    }

    /// A number value parsed from its wire text.
    pub fn n(text: &str) -> Result<Self, ValidationError> {
        Number::parse(text).map(AttributeValue::N)
    }

    /// The order of `<`, `<=`, `>`, `>=`, BETWEEN and sort keys: defined between two strings
    /// (bytewise UTF-8), two numbers or two binaries, and `None` for anything else.
    pub fn compare(&self, other: &AttributeValue) -> Option<Ordering> {
        match (self, other) {
            (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (AttributeValue::N(a), AttributeValue::N(b)) => Some(a.cmp(b)),
            (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// How deep maps and lists nest inside this value (a scalar is 0).
    pub fn depth(&self) -> usize {
        match self {
            AttributeValue::M(m) => 1 + m.values().map(Self::depth).max().unwrap_or(0),
            AttributeValue::L(l) => 1 + l.iter().map(Self::depth).max().unwrap_or(0),
            _ => 0,
        }
    }
}

impl From<Number> for AttributeValue {
    fn from(n: Number) -> Self {
        AttributeValue::N(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        for t in AttributeType::ALL {
            assert_eq!(AttributeType::from_name(t.name()), Some(t));
        }
        assert_eq!(AttributeType::from_name("bool"), None);
    }

    #[test]
    fn comparison_is_only_within_scalar_types() {
        let one = AttributeValue::n("1").unwrap();
        let ten = AttributeValue::n("10").unwrap();
        assert_eq!(one.compare(&ten), Some(Ordering::Less));
        // Strings compare bytewise, not numerically.
        assert_eq!(
            AttributeValue::s("10").compare(&AttributeValue::s("9")),
            Some(Ordering::Less)
        );
        assert_eq!(one.compare(&AttributeValue::s("1")), None);
        assert_eq!(AttributeValue::Null.compare(&AttributeValue::Null), None);
    }

    #[test]
    fn sets_equal_whatever_the_order() {
        let a = AttributeValue::Ss(["x", "y"].iter().map(|s| s.to_string()).collect());
        let b = AttributeValue::Ss(["y", "x"].iter().map(|s| s.to_string()).collect());
        assert_eq!(a, b);
    }
}
