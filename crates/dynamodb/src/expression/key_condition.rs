//! KeyConditionExpression: one equality on the partition key, optionally one condition on the
//! sort key (`=`, `<`, `<=`, `>`, `>=`, BETWEEN, begins_with), joined by AND.

use std::cmp::Ordering;

use super::ast::{Comparator, Condition, Operand, PathElement};
use crate::item::{AttributeValue, ValidationError};

/// The key attributes of the table or index queried.
#[derive(Clone, Copy, Debug)]
pub struct KeySchema<'a> {
    pub partition_key: &'a str,
    pub sort_key: Option<&'a str>,
}

/// A condition on the sort key, with the values already substituted.
#[derive(Clone, Debug, PartialEq)]
pub enum SortKeyCondition {
    Eq(AttributeValue),
    Lt(AttributeValue),
    Le(AttributeValue),
    Gt(AttributeValue),
    Ge(AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

impl SortKeyCondition {
    /// Whether a sort-key value satisfies the condition (values of another type never do).
    pub fn matches(&self, v: &AttributeValue) -> bool {
        let is = |bound: &AttributeValue, ok: &[Ordering]| {
            v.compare(bound).is_some_and(|o| ok.contains(&o))
        };
        match self {
            SortKeyCondition::Eq(b) => is(b, &[Ordering::Equal]),
            SortKeyCondition::Lt(b) => is(b, &[Ordering::Less]),
            SortKeyCondition::Le(b) => is(b, &[Ordering::Less, Ordering::Equal]),
            SortKeyCondition::Gt(b) => is(b, &[Ordering::Greater]),
            SortKeyCondition::Ge(b) => is(b, &[Ordering::Greater, Ordering::Equal]),
            SortKeyCondition::Between(lo, hi) => {
                is(lo, &[Ordering::Greater, Ordering::Equal])
                    && is(hi, &[Ordering::Less, Ordering::Equal])
            }
            SortKeyCondition::BeginsWith(prefix) => match (v, prefix) {
                (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
                (AttributeValue::B(b), AttributeValue::B(p)) => b.starts_with(p),
                _ => false,
            },
        }
    }
}

/// A key condition as the query planner needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyCondition {
    pub partition_key: String,
    pub partition_value: AttributeValue,
    /// The sort key's name and its condition.
    pub sort: Option<(String, SortKeyCondition)>,
}

/// One condition on one key attribute, before the schema is consulted.
struct Clause {
    attribute: String,
    condition: SortKeyCondition,
}

fn invalid(message: impl Into<String>) -> ValidationError {
    ValidationError::new(message)
}

/// A key attribute operand: a top-level path.
fn key_attribute(op: &Operand) -> Result<Option<String>, ValidationError> {
    match op {
        Operand::Path(p) => match p.0.as_slice() {
            [PathElement::Attribute(name)] => Ok(Some(name.clone())),
            _ => Err(invalid(
                "KeyConditionExpressions cannot have conditions on nested attributes",
            )),
        },
        Operand::Size(_) => Err(invalid(
            "KeyConditionExpressions cannot contain nested operations",
        )),
        _ => Ok(None),
    }
}

fn constant(op: &Operand) -> AttributeValue {
    match op {
        Operand::Value(v) => v.clone(),
        _ => AttributeValue::Null,
    }
}

fn clause(condition: &Condition) -> Result<Clause, ValidationError> {
    let (attribute, condition) = match condition {
        Condition::Compare(cmp, a, b) => {
            let (left, right) = (key_attribute(a)?, key_attribute(b)?);
            let (attribute, value, flipped) = match (left, right) {
                (Some(_), Some(_)) => {
                    return Err(invalid("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"))
                }
                (None, None) => return Err(invalid("Invalid condition in KeyConditionExpression: No key attribute specified")),
                (Some(name), None) => (name, constant(b), false),
                (None, Some(name)) => (name, constant(a), true),
            };
            // `:v < sk` means `sk > :v`.
            let cmp = match (cmp, flipped) {
                (Comparator::Lt, true) => Comparator::Gt,
                (Comparator::Le, true) => Comparator::Ge,
                (Comparator::Gt, true) => Comparator::Lt,
                (Comparator::Ge, true) => Comparator::Le,
                (c, _) => *c,
            };
            let condition = match cmp {
                Comparator::Eq => SortKeyCondition::Eq(value),
                Comparator::Lt => SortKeyCondition::Lt(value),
                Comparator::Le => SortKeyCondition::Le(value),
                Comparator::Gt => SortKeyCondition::Gt(value),
                Comparator::Ge => SortKeyCondition::Ge(value),
                Comparator::Ne => {
                    return Err(invalid(
                        "Invalid operator used in KeyConditionExpression: <>",
                    ))
                }
            };
            (attribute, condition)
        }
        Condition::Between(x, lo, hi) => {
            let Some(attribute) = key_attribute(x)? else {
                return Err(invalid("Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand"));
            };
            if key_attribute(lo)?.is_some() || key_attribute(hi)?.is_some() {
                return Err(invalid("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"));
            }
            (
                attribute,
                SortKeyCondition::Between(constant(lo), constant(hi)),
            )
        }
        Condition::BeginsWith(x, prefix) => {
            let Some(attribute) = key_attribute(x)? else {
                return Err(invalid("Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"));
            };
            if key_attribute(prefix)?.is_some() {
                return Err(invalid("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"));
            }
            (attribute, SortKeyCondition::BeginsWith(constant(prefix)))
        }
        Condition::Or(..) => {
            return Err(invalid(
                "Invalid operator used in KeyConditionExpression: OR",
            ))
        }
        Condition::Not(..) => {
            return Err(invalid(
                "Invalid operator used in KeyConditionExpression: NOT",
            ))
        }
        Condition::In(..) => {
            return Err(invalid(
                "Invalid operator used in KeyConditionExpression: IN",
            ))
        }
        Condition::AttributeExists(_) => {
            return Err(invalid(
                "Invalid operator used in KeyConditionExpression: attribute_exists",
            ))
        }
        Condition::AttributeNotExists(_) => {
            return Err(invalid(
                "Invalid operator used in KeyConditionExpression: attribute_not_exists",
            ))
        }
        Condition::AttributeType(..) => {
            return Err(invalid(
                "Invalid operator used in KeyConditionExpression: attribute_type",
            ))
        }
        Condition::Contains(..) => {
            return Err(invalid(
                "Invalid operator used in KeyConditionExpression: contains",
            ))
        }
        Condition::And(..) => return Err(invalid("Conditions can be of length 1 or 2 only")),
    };
    Ok(Clause {
        attribute,
        condition,
    })
}

fn flatten<'c>(condition: &'c Condition, out: &mut Vec<&'c Condition>) {
    match condition {
        Condition::And(a, b) => {
            flatten(a, out);
            flatten(b, out);
        }
        other => out.push(other),
    }
}

/// Checks a parsed key condition against the key schema, with DynamoDB's messages.
pub(crate) fn build(
    condition: &Condition,
    schema: &KeySchema,
) -> Result<KeyCondition, ValidationError> {
    let mut parts = Vec::new();
    flatten(condition, &mut parts);
    let mut clauses: Vec<Clause> = Vec::new();
    for part in parts {
        let c = clause(part)?;
        if clauses.iter().any(|seen| seen.attribute == c.attribute) {
            return Err(invalid(
                "KeyConditionExpressions must only contain one condition per key",
            ));
        }
        clauses.push(c);
    }
    if clauses.len() > 2 {
        return Err(invalid("Conditions can be of length 1 or 2 only"));
    }
    if schema.sort_key.is_none() && clauses.len() > 1 {
        return Err(invalid("Query key condition not supported"));
    }
    let missed = |name: &str| invalid(format!("Query condition missed key schema element: {name}"));
    let position = clauses
        .iter()
        .position(|c| c.attribute == schema.partition_key);
    let partition = position
        .map(|i| clauses.remove(i))
        .ok_or_else(|| missed(schema.partition_key))?;
    let SortKeyCondition::Eq(partition_value) = partition.condition else {
        return Err(invalid("Query key condition not supported"));
    };
    let sort = match clauses.pop() {
        None => None,
        Some(c) => match schema.sort_key {
            Some(sort_key) if c.attribute == sort_key => Some((c.attribute, c.condition)),
            Some(sort_key) => return Err(missed(sort_key)),
            None => return Err(invalid("Query key condition not supported")),
        },
    };
    Ok(KeyCondition {
        partition_key: partition.attribute,
        partition_value,
        sort,
    })
}
