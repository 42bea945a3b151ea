//! UpdateExpression: `SET`, `REMOVE`, `ADD` and `DELETE` clauses, each at most once, and their
//! application to an item.

use super::ast::{Operand, Path, PathElement, UpdateAction};
use super::document::{self, InvalidPath};
use super::lexer::Tok;
use super::parser::{placeholder_operand, static_type, Category, Node, PResult, Parser};
use crate::item::{AttributeType, AttributeValue, Item, ValidationError};

/// Order in which DynamoDB reports the non-syntax errors of an update.
pub(crate) const ERROR_ORDER: [Category; 13] = [
    Category::Reserved,
    Category::UnknownFunction,
    Category::Section,
    Category::Name,
    Category::Value,
    Category::PathOverlap,
    Category::PathConflict,
    Category::Operand,
    Category::OperandCount,
    Category::Function,
    Category::MisusedFunction,
    Category::Parens,
    Category::Distinct,
];

const CLAUSES: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];

const INVALID_PATH: &str =
    "The document path provided in the update expression is invalid for update";
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
const MISSING: &str =
    "The provided expression refers to an attribute that does not exist in the item";

pub(crate) fn parse(p: &mut Parser) -> PResult<Vec<UpdateAction>> {
    let mut seen = [false; 4];
    let mut actions = Vec::new();
    loop {
        if p.peek() == Tok::Eof && !actions.is_empty() {
            break;
        }
        let Some(clause) = CLAUSES.iter().position(|c| p.at_keyword(c)) else {
            return Err(p.syntax_error());
        };
        if seen[clause] {
            p.note(
                Category::Section,
                format!(
                    "The \"{}\" section can only be used once in an update expression;",
                    CLAUSES[clause]
                ),
            );
        }
        seen[clause] = true;
        p.advance();
        loop {
            actions.push(action(p, clause)?);
            if p.peek() != Tok::Comma {
                break;
            }
            p.advance();
        }
    }
    let paths: Vec<&Path> = actions.iter().map(UpdateAction::path).collect();
    p.check_paths(&paths);
    Ok(actions)
}

fn action(p: &mut Parser, clause: usize) -> PResult<UpdateAction> {
    let path = p.path()?;
    match clause {
        0 => {
            p.expect(Tok::Eq)?;
            let (value, _) = p.set_value_wrapped()?;
            Ok(UpdateAction::Set(path, value))
        }
        1 => Ok(UpdateAction::Remove(path)),
        _ => {
            let add = clause == 2;
            let value = p.value()?;
            let t = value.attribute_type();
            let allowed = if add {
                t == AttributeType::N || t.is_set()
            } else {
                t.is_set()
            };
            if !allowed {
                let (operator, set) = if add {
                    ("ADD", "ALLOWED_FOR_ADD_OPERAND")
                } else {
                    ("DELETE", "ALLOWED_FOR_DELETE_OPERAND")
                };
                p.note(Category::Operand, format!("Incorrect operand type for operator or function; operator: {operator}, operand type: {}, typeSet: {set}", t.long_name()));
            }
            Ok(if add {
                UpdateAction::Add(path, value)
            } else {
                UpdateAction::Delete(path, value)
            })
        }
    }
}

/// A call in SET: `if_not_exists` and `list_append`.
pub(crate) fn build_function(p: &mut Parser, name: &str, mut args: Vec<Operand>) -> Node {
    if name != "if_not_exists" && name != "list_append" {
        p.note(
            Category::UnknownFunction,
            format!("Invalid function name; function: {name}"),
        );
        return Node::Placeholder;
    }
    if args.len() != 2 {
        p.note(Category::Function, format!("Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}", args.len()));
        return Node::Placeholder;
    }
    let second = args.pop().unwrap_or_else(placeholder_operand);
    let first = args.pop().unwrap_or_else(placeholder_operand);
    if name == "if_not_exists" {
        return match first {
            Operand::Path(path) => Node::Operand(Operand::IfNotExists(path, Box::new(second))),
            _ => {
                p.note(Category::Function, "Operator or function requires a document path; operator or function: if_not_exists");
                Node::Placeholder
            }
        };
    }
    for op in [&first, &second] {
        if let Some(t) = static_type(op).filter(|t| *t != AttributeType::L) {
            p.note(Category::Function, format!("Incorrect operand type for operator or function; operator or function: list_append, operand type: {}", t.name()));
        }
    }
    Node::Operand(Operand::ListAppend(Box::new(first), Box::new(second)))
}

/// The value of a SET operand, read from the item as it was before the update.
fn value(op: &Operand, item: &Item) -> Result<AttributeValue, ValidationError> {
    Ok(match op {
        Operand::Path(p) => document::get(item, p)
            .cloned()
            .ok_or_else(|| ValidationError::new(MISSING))?,
        Operand::Value(v) => v.clone(),
        Operand::IfNotExists(p, fallback) => match document::get(item, p) {
            Some(v) => v.clone(),
            None => value(fallback, item)?,
        },
        Operand::ListAppend(a, b) => match (value(a, item)?, value(b, item)?) {
            (AttributeValue::L(mut a), AttributeValue::L(b)) => {
                a.extend(b);
                AttributeValue::L(a)
            }
            _ => return Err(ValidationError::new(WRONG_TYPE)),
        },
        Operand::Plus(a, b) | Operand::Minus(a, b) => match (value(a, item)?, value(b, item)?) {
            (AttributeValue::N(a), AttributeValue::N(b)) => {
                let result = if matches!(op, Operand::Plus(..)) {
                    a.add(&b)?
                } else {
                    a.sub(&b)?
                };
                AttributeValue::N(result)
            }
            _ => return Err(ValidationError::new(WRONG_TYPE)),
        },
        Operand::Size(_) => return Err(ValidationError::new(WRONG_TYPE)),
    })
}

fn invalid_path(_: InvalidPath) -> ValidationError {
    ValidationError::new(INVALID_PATH)
}

/// ADD: numbers add, sets unite; a missing attribute starts from the value itself.
fn add(
    existing: Option<&AttributeValue>,
    v: &AttributeValue,
) -> Result<AttributeValue, ValidationError> {
    Ok(match (existing, v) {
        (None, v) => v.clone(),
        (Some(AttributeValue::N(a)), AttributeValue::N(b)) => AttributeValue::N(a.add(b)?),
        (Some(AttributeValue::Ss(a)), AttributeValue::Ss(b)) => {
            AttributeValue::Ss(a.union(b).cloned().collect())
        }
        (Some(AttributeValue::Ns(a)), AttributeValue::Ns(b)) => {
            AttributeValue::Ns(a.union(b).cloned().collect())
        }
        (Some(AttributeValue::Bs(a)), AttributeValue::Bs(b)) => {
            AttributeValue::Bs(a.union(b).cloned().collect())
        }
        _ => return Err(ValidationError::new(WRONG_TYPE)),
    })
}

/// DELETE: set difference; `None` when nothing is left, as DynamoDB stores no empty set.
fn delete(
    existing: &AttributeValue,
    v: &AttributeValue,
) -> Result<Option<AttributeValue>, ValidationError> {
    let result = match (existing, v) {
        (AttributeValue::Ss(a), AttributeValue::Ss(b)) => {
            AttributeValue::Ss(a.difference(b).cloned().collect())
        }
        (AttributeValue::Ns(a), AttributeValue::Ns(b)) => {
            AttributeValue::Ns(a.difference(b).cloned().collect())
        }
        (AttributeValue::Bs(a), AttributeValue::Bs(b)) => {
            AttributeValue::Bs(a.difference(b).cloned().collect())
        }
        _ => return Err(ValidationError::new(WRONG_TYPE)),
    };
    let empty = match &result {
        AttributeValue::Ss(s) => s.is_empty(),
        AttributeValue::Ns(s) => s.is_empty(),
        AttributeValue::Bs(s) => s.is_empty(),
        _ => false,
    };
    Ok((!empty).then_some(result))
}

/// Applies the actions to a copy of `item`. Every operand reads the item as it was before the
/// update, so `SET a = b, b = a` swaps; list elements removed by index are removed from the
/// highest index down, so each index names an element of the original list.
pub(crate) fn apply(actions: &[UpdateAction], item: &Item) -> Result<Item, ValidationError> {
    let mut out = item.clone();
    let mut removals = Vec::new();
    for action in actions {
        match action {
            UpdateAction::Set(path, op) => {
                let v = value(op, item)?;
                document::set(&mut out, path, v).map_err(invalid_path)?;
            }
            UpdateAction::Remove(path) => removals.push(path),
            UpdateAction::Add(path, v) => {
                let new = add(document::get(item, path), v)?;
                document::set(&mut out, path, new).map_err(invalid_path)?;
            }
            UpdateAction::Delete(path, v) => {
                if let Some(existing) = document::get(item, path) {
                    match delete(existing, v)? {
                        Some(left) => document::set(&mut out, path, left).map_err(invalid_path)?,
                        None => document::remove(&mut out, path).map_err(invalid_path)?,
                    }
                }
            }
        }
    }
    // Paths never overlap, so only sibling list indexes interact: remove the highest first.
    removals.sort_by(|a, b| b.cmp(a));
    for path in removals {
        document::remove(&mut out, path).map_err(invalid_path)?;
    }
    Ok(out)
}

/// Top-level attributes an update writes, for refusing updates of key attributes.
pub(crate) fn written_attributes(actions: &[UpdateAction]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|a| match a.path().0.first() {
            Some(PathElement::Attribute(name)) => Some(name.as_str()),
            _ => None,
        })
        .collect()
}
