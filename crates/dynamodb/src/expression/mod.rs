//! The expression language: parsing (with `#name` and `:value` substituted), DynamoDB's validation
//! messages, and evaluation against an item.
//!
//! | file | what |
//! |------|------|
//! | `lexer.rs` | tokens |
//! | `parser.rs` | shared recursive descent: paths, operands, calls, error bookkeeping |
//! | `condition.rs` | Condition/Filter/KeyCondition grammar and function checks |
//! | `eval.rs` | evaluating a condition against an item |
//! | `key_condition.rs` | a KeyConditionExpression checked against the key schema |
//! | `update.rs` | UpdateExpression grammar and application |
//! | `projection.rs` | ProjectionExpression grammar and application |
//! | `document.rs` | reading and writing an item at a document path |
//! | `reserved.rs` | the reserved words |
//!
//! A request's expressions are parsed one by one; each result carries the placeholders it used
//! ([`Usage`]), and [`check_unused`] then refuses placeholders no expression used, as DynamoDB does.

pub mod ast;
mod condition;
mod document;
mod eval;
mod key_condition;
mod lexer;
mod parser;
mod projection;
pub mod reserved;
mod update;

use std::collections::{BTreeMap, BTreeSet};

pub use ast::{Comparator, Condition, Operand, Path, PathElement, UpdateAction};
pub use condition::MAX_IN_OPERANDS;
pub use key_condition::{KeyCondition, KeySchema, SortKeyCondition};
pub use parser::MAX_DEPTH;
pub use reserved::{is_reserved, RESERVED_WORDS};

use crate::item::{AttributeValue, Item, ValidationError};
use parser::{Category, Fatal, Mode, Parser};

/// Longest expression string DynamoDB accepts, in bytes.
pub const MAX_EXPRESSION_SIZE: usize = 4096;

/// A request's `ExpressionAttributeNames` and `ExpressionAttributeValues` (empty when absent).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpressionAttributes {
    pub names: BTreeMap<String, String>,
    pub values: BTreeMap<String, AttributeValue>,
}

/// What an expression refers to: the placeholders it used and the top-level attributes its
/// document paths start from (what a `dynamodb:Attributes` policy condition looks at).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub names: BTreeSet<String>,
    pub values: BTreeSet<String>,
    pub attributes: BTreeSet<String>,
}

/// Which request parameter an expression came in; DynamoDB names it in every message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpressionKind {
    Condition,
    Filter,
    KeyCondition,
    Update,
    Projection,
}

impl ExpressionKind {
    pub fn parameter(self) -> &'static str {
        match self {
            ExpressionKind::Condition => "ConditionExpression",
            ExpressionKind::Filter => "FilterExpression",
            ExpressionKind::KeyCondition => "KeyConditionExpression",
            ExpressionKind::Update => "UpdateExpression",
            ExpressionKind::Projection => "ProjectionExpression",
        }
    }

    fn invalid(self, message: &str) -> ValidationError {
        ValidationError::new(format!("Invalid {}: {message}", self.parameter()))
    }
}

/// A parsed ConditionExpression or FilterExpression.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionExpression {
    pub condition: Condition,
    pub usage: Usage,
}

impl ConditionExpression {
    /// Whether the item satisfies the condition. An absent item is an empty one.
    pub fn evaluate(&self, item: &Item) -> bool {
        eval::evaluate(&self.condition, item)
    }
}

/// A parsed KeyConditionExpression, checked against the key schema.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyConditionExpression {
    pub key: KeyCondition,
    pub usage: Usage,
}

/// A parsed UpdateExpression.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateExpression {
    pub actions: Vec<UpdateAction>,
    pub usage: Usage,
}

impl UpdateExpression {
    /// The item after the update (the item before it is left alone; a new item starts empty).
    /// Errors carry DynamoDB's messages for operands of the wrong type, paths that cannot be
    /// written and numbers out of range. The service still checks key attributes and size.
    pub fn apply(&self, item: &Item) -> Result<Item, ValidationError> {
        update::apply(&self.actions, item)
    }

    /// Top-level attributes the update writes or removes, in expression order.
    pub fn written_attributes(&self) -> Vec<&str> {
        update::written_attributes(&self.actions)
    }

    /// The parts of `item` the update writes or removes, as `ReturnValues` UPDATED_OLD (of the item
    /// before) and UPDATED_NEW (after) answer them: a nested path is answered with that path only.
    pub fn updated_parts(&self, item: &Item) -> Item {
        let paths: Vec<Path> = self.actions.iter().map(|a| a.path().clone()).collect();
        projection::apply(&paths, item)
    }
}

/// A parsed ProjectionExpression.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionExpression {
    pub paths: Vec<Path>,
    pub usage: Usage,
}

impl ProjectionExpression {
    /// The projected item: only the requested attributes and document parts that exist.
    pub fn apply(&self, item: &Item) -> Item {
        projection::apply(&self.paths, item)
    }

    /// `item` through `projection`, or whole when there is none.
    pub fn apply_to(projection: Option<&Self>, item: Item) -> Item {
        match projection {
            Some(p) => p.apply(&item),
            None => item,
        }
    }
}

/// Runs one parse with the checks every kind shares, and turns its errors into DynamoDB's.
fn run<T>(
    expression: &str,
    attrs: &ExpressionAttributes,
    kind: ExpressionKind,
    mode: Mode,
    order: &[Category],
    grammar: impl FnOnce(&mut Parser) -> Result<T, Fatal>,
) -> Result<(T, Usage), ValidationError> {
    if expression.is_empty() {
        return Err(kind.invalid("The expression can not be empty;"));
    }
    if expression.len() > MAX_EXPRESSION_SIZE {
        return Err(kind.invalid(&format!(
            "Expression size has exceeded the maximum allowed size; expression size: {}",
            expression.len()
        )));
    }
    let mut parser = Parser::new(expression, attrs, mode);
    let parsed = grammar(&mut parser).map_err(|Fatal(message)| kind.invalid(&message))?;
    if let Some(message) = parser.first_error(order) {
        return Err(kind.invalid(&message));
    }
    Ok((parsed, parser.usage))
}

fn condition_of_kind(
    expression: &str,
    attrs: &ExpressionAttributes,
    kind: ExpressionKind,
) -> Result<ConditionExpression, ValidationError> {
    let (condition, usage) = run(
        expression,
        attrs,
        kind,
        Mode::Condition,
        &condition::ERROR_ORDER,
        condition::parse,
    )?;
    Ok(ConditionExpression { condition, usage })
}

/// Parses a ConditionExpression (PutItem, UpdateItem, DeleteItem, TransactWriteItems).
pub fn parse_condition(
    expression: &str,
    attrs: &ExpressionAttributes,
) -> Result<ConditionExpression, ValidationError> {
    condition_of_kind(expression, attrs, ExpressionKind::Condition)
}

/// Parses a FilterExpression (Query, Scan): the condition grammar, other messages.
pub fn parse_filter(
    expression: &str,
    attrs: &ExpressionAttributes,
) -> Result<ConditionExpression, ValidationError> {
    condition_of_kind(expression, attrs, ExpressionKind::Filter)
}

/// Parses a KeyConditionExpression and checks it against the key schema of the table or index.
pub fn parse_key_condition(
    expression: &str,
    attrs: &ExpressionAttributes,
    schema: &KeySchema,
) -> Result<KeyConditionExpression, ValidationError> {
    let parsed = condition_of_kind(expression, attrs, ExpressionKind::KeyCondition)?;
    let key = key_condition::build(&parsed.condition, schema)?;
    Ok(KeyConditionExpression {
        key,
        usage: parsed.usage,
    })
}

/// Parses an UpdateExpression.
pub fn parse_update(
    expression: &str,
    attrs: &ExpressionAttributes,
) -> Result<UpdateExpression, ValidationError> {
    let (actions, usage) = run(
        expression,
        attrs,
        ExpressionKind::Update,
        Mode::Update,
        &update::ERROR_ORDER,
        update::parse,
    )?;
    Ok(UpdateExpression { actions, usage })
}

/// Parses a ProjectionExpression.
pub fn parse_projection(
    expression: &str,
    attrs: &ExpressionAttributes,
) -> Result<ProjectionExpression, ValidationError> {
    let (paths, usage) = run(
        expression,
        attrs,
        ExpressionKind::Projection,
        Mode::Projection,
        &projection::ERROR_ORDER,
        projection::parse,
    )?;
    Ok(ProjectionExpression { paths, usage })
}

/// Refuses placeholders that none of a request's expressions used; names are checked first.
pub fn check_unused(attrs: &ExpressionAttributes, used: &[&Usage]) -> Result<(), ValidationError> {
    fn unused<'a, V>(
        given: &'a BTreeMap<String, V>,
        used: &[&Usage],
        pick: fn(&Usage) -> &BTreeSet<String>,
    ) -> Vec<&'a str> {
        given
            .keys()
            .filter(|k| !used.iter().any(|u| pick(u).contains(*k)))
            .map(String::as_str)
            .collect()
    }
    // No expression at all: DynamoDB says so rather than naming the placeholders.
    if used.is_empty() {
        for (given, map) in [
            (!attrs.names.is_empty(), "ExpressionAttributeNames"),
            (!attrs.values.is_empty(), "ExpressionAttributeValues"),
        ] {
            if given {
                return Err(ValidationError::new(format!(
                    "{map} can only be specified when using expressions"
                )));
            }
        }
    }
    let names = unused(&attrs.names, used, |u| &u.names);
    if !names.is_empty() {
        return Err(ValidationError::new(format!(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
            names.join(", ")
        )));
    }
    let values = unused(&attrs.values, used, |u| &u.values);
    if !values.is_empty() {
        return Err(ValidationError::new(format!(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
            values.join(", ")
        )));
    }
    Ok(())
}

/// The checks DynamoDB makes on the placeholder maps themselves, before any expression: not
/// empty when given, and keys of the form `#word` / `:word`.
pub fn validate_attribute_maps(
    names: Option<&BTreeMap<String, String>>,
    values: Option<&BTreeMap<String, AttributeValue>>,
) -> Result<(), ValidationError> {
    fn well_formed(key: &str, sigil: char) -> bool {
        let mut chars = key.chars();
        chars.next() == Some(sigil)
            && key.len() > 1
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    }
    if let Some(names) = names {
        if names.is_empty() {
            return Err(ValidationError::new(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        if let Some(bad) = names.keys().find(|k| !well_formed(k, '#')) {
            return Err(ValidationError::new(format!(
                "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{bad}\""
            )));
        }
        if let Some((key, _)) = names.iter().find(|(_, name)| name.is_empty()) {
            return Err(ValidationError::new(format!(
                "ExpressionAttributeNames contains invalid value: Empty attribute name for key {key}"
            )));
        }
    }
    if let Some(values) = values {
        if values.is_empty() {
            return Err(ValidationError::new(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        if let Some(bad) = values.keys().find(|k| !well_formed(k, ':')) {
            return Err(ValidationError::new(format!(
                "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{bad}\""
            )));
        }
    }
    Ok(())
}

/// Parses `expression` as every kind, with no placeholders defined, for fuzzing: whatever the
/// input, each parse returns (an error or not) and none panics or overflows the stack.
pub fn parse_any(expression: &str) -> [Result<(), ValidationError>; 5] {
    let attrs = ExpressionAttributes::default();
    let schema = KeySchema {
        partition_key: "pk",
        sort_key: Some("sk"),
    };
    [
        parse_condition(expression, &attrs).map(drop),
        parse_filter(expression, &attrs).map(drop),
        parse_key_condition(expression, &attrs, &schema).map(drop),
        parse_update(expression, &attrs).map(drop),
        parse_projection(expression, &attrs).map(drop),
    ]
}
