//! Evaluating a condition against an item. A path that leads nowhere makes every comparison
//! involving it false (and `<>` true), as in DynamoDB; no evaluation error exists for conditions.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::ast::{Comparator, Condition, Operand};
use super::document;
use crate::item::{AttributeValue, Item, Number};

/// The value of a condition operand, if it has one for this item.
fn value<'a>(op: &'a Operand, item: &'a Item) -> Option<Cow<'a, AttributeValue>> {
    match op {
        Operand::Path(p) => document::get(item, p).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(inner) => size(value(inner, item)?.as_ref()).map(Cow::Owned),
        // Update-only operands do not occur in conditions.
        _ => None,
    }
}

/// `size()`: bytes of a string or binary, members of a set, elements of a list or map; nothing
/// for other types.
fn size(v: &AttributeValue) -> Option<AttributeValue> {
    let n = match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(s) => s.len(),
        AttributeValue::Ns(s) => s.len(),
        AttributeValue::Bs(s) => s.len(),
        AttributeValue::L(l) => l.len(),
        AttributeValue::M(m) => m.len(),
        _ => return None,
    };
    Some(AttributeValue::N(Number::from(n as i64)))
}

fn compare(cmp: Comparator, a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> bool {
    match cmp {
        Comparator::Eq => matches!((a, b), (Some(x), Some(y)) if x == y),
        Comparator::Ne => match (a, b) {
            (Some(x), Some(y)) => x != y,
            (None, None) => false,
            _ => true,
        },
        _ => {
            let Some(order) = a.zip(b).and_then(|(x, y)| x.compare(y)) else {
                return false;
            };
            match cmp {
                Comparator::Lt => order == Ordering::Less,
                Comparator::Le => order != Ordering::Greater,
                Comparator::Gt => order == Ordering::Greater,
                _ => order != Ordering::Less,
            }
        }
    }
}

fn begins_with(a: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (a, prefix) {
        (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
        (AttributeValue::B(b), AttributeValue::B(p)) => b.starts_with(p),
        _ => false,
    }
}

fn contains(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    match (haystack, needle) {
        (AttributeValue::S(s), AttributeValue::S(n)) => s.contains(n.as_str()),
        (AttributeValue::B(b), AttributeValue::B(n)) => {
            n.is_empty() || b.windows(n.len()).any(|w| w == n.as_slice())
        }
        (AttributeValue::Ss(s), AttributeValue::S(n)) => s.contains(n),
        (AttributeValue::Ns(s), AttributeValue::N(n)) => s.contains(n),
        (AttributeValue::Bs(s), AttributeValue::B(n)) => s.contains(n),
        (AttributeValue::L(l), n) => l.contains(n),
        _ => false,
    }
}

pub(crate) fn evaluate(condition: &Condition, item: &Item) -> bool {
    match condition {
        Condition::Compare(cmp, a, b) => {
            compare(*cmp, value(a, item).as_deref(), value(b, item).as_deref())
        }
        Condition::Between(x, low, high) => {
            let (Some(x), Some(low), Some(high)) =
                (value(x, item), value(low, item), value(high, item))
            else {
                return false;
            };
            matches!(x.compare(&low), Some(Ordering::Greater | Ordering::Equal))
                && matches!(x.compare(&high), Some(Ordering::Less | Ordering::Equal))
        }
        Condition::In(x, list) => {
            let Some(x) = value(x, item) else {
                return false;
            };
            list.iter()
                .any(|candidate| value(candidate, item).is_some_and(|c| *c == *x))
        }
        Condition::AttributeExists(p) => document::get(item, p).is_some(),
        Condition::AttributeNotExists(p) => document::get(item, p).is_none(),
        Condition::AttributeType(x, t) => match (value(x, item), value(t, item)) {
            (Some(x), Some(t)) => {
                matches!(&*t, AttributeValue::S(name) if name == x.attribute_type().name())
            }
            _ => false,
        },
        Condition::BeginsWith(a, b) => match (value(a, item), value(b, item)) {
            (Some(a), Some(b)) => begins_with(&a, &b),
            _ => false,
        },
        Condition::Contains(a, b) => match (value(a, item), value(b, item)) {
            (Some(a), Some(b)) => contains(&a, &b),
            _ => false,
        },
        Condition::Not(c) => !evaluate(c, item),
        Condition::And(a, b) => evaluate(a, item) && evaluate(b, item),
        Condition::Or(a, b) => evaluate(a, item) || evaluate(b, item),
    }
}
