//! The few DynamoDB expressions the handlers write, evaluated by the fake as DynamoDB would:
//! conditions of clauses joined by `AND` (`attribute_exists(p)`, `attribute_not_exists(p)`,
//! `a = b`, `a <> b`), updates of `SET p = :v, …` and `REMOVE p, …`. As DynamoDB, the fake refuses
//! a reserved word used as a bare name, an unused or empty `ExpressionAttributeNames`/`Values`, and
//! a placeholder that is not defined. Anything else panics, so a test shows what to add.

use m2sec_proto::AwsError;
use serde_json::{Map, Value};

type Item = Map<String, Value>;

/// The reserved words among the attribute names secure-gates uses (DynamoDB has 573).
const RESERVED: &[&str] = &[
    "ACTION",
    "AT",
    "BY",
    "COUNT",
    "DATA",
    "DATE",
    "KEY",
    "NAME",
    "RESULT",
    "ROLE",
    "SIZE",
    "SOURCE",
    "STATE",
    "STATUS",
    "TIME",
    "TIMESTAMP",
    "TTL",
    "TYPE",
    "USER",
    "VALUE",
];

fn validation(message: String) -> AwsError {
    AwsError::new("ValidationException", 400, message)
}

/// The placeholders of a request and the expressions that use them.
pub struct Expressions<'i> {
    names: &'i Value,
    values: &'i Value,
}

impl<'i> Expressions<'i> {
    /// Checks the placeholders of `input` against the expressions `used_in`.
    pub fn of(input: &'i Value, used_in: &[&str]) -> Result<Self, AwsError> {
        for member in ["ExpressionAttributeNames", "ExpressionAttributeValues"] {
            let Some(placeholders) = input.get(member) else {
                continue;
            };
            let placeholders = placeholders.as_object().expect("a map");
            if placeholders.is_empty() {
                return Err(validation(format!("{member} must not be empty")));
            }
            for placeholder in placeholders.keys() {
                if !used_in.iter().any(|e| uses(e, placeholder)) {
                    return Err(validation(format!(
                        "Value provided in {member} unused in expressions: keys: {{{placeholder}}}"
                    )));
                }
            }
        }
        Ok(Expressions {
            names: &input["ExpressionAttributeNames"],
            values: &input["ExpressionAttributeValues"],
        })
    }

    /// An attribute name: `#n` as defined, or a bare name that is not reserved.
    fn name(&self, token: &str) -> Result<String, AwsError> {
        if token.starts_with('#') {
            return self.names[token]
                .as_str()
                .map(String::from)
                .ok_or_else(|| validation(format!("An expression attribute name used in the document path is not defined; attribute name: {token}")));
        }
        assert!(
            token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "the fake reads plain attribute names only: {token}"
        );
        if RESERVED.contains(&token.to_ascii_uppercase().as_str()) {
            return Err(validation(format!(
                "Invalid expression: Attribute name is a reserved keyword; reserved keyword: {token}"
            )));
        }
        Ok(token.to_string())
    }

    fn value(&self, token: &str) -> Result<Value, AwsError> {
        self.values
            .get(token)
            .cloned()
            .ok_or_else(|| validation(format!("An expression attribute value used in expression is not defined; attribute value: {token}")))
    }

    /// An operand's value: a `:value`, or the item's attribute (if it has it).
    fn operand(&self, token: &str, item: Option<&Item>) -> Result<Option<Value>, AwsError> {
        if token.starts_with(':') {
            return self.value(token).map(Some);
        }
        let name = self.name(token)?;
        Ok(item.and_then(|i| i.get(&name)).cloned())
    }

    /// Whether `condition` holds for `item` (`None`: there is no item).
    pub fn holds(&self, condition: &str, item: Option<&Item>) -> Result<bool, AwsError> {
        for clause in condition.split(" AND ").map(str::trim) {
            let holds = if let Some(path) = call(clause, "attribute_exists") {
                self.operand(path, item)?.is_some()
            } else if let Some(path) = call(clause, "attribute_not_exists") {
                self.operand(path, item)?.is_none()
            } else if let Some((a, b)) = clause.split_once(" <> ") {
                let (a, b) = (self.operand(a.trim(), item)?, self.operand(b.trim(), item)?);
                a.is_some() && b.is_some() && a != b
            } else if let Some((a, b)) = clause.split_once(" = ") {
                let (a, b) = (self.operand(a.trim(), item)?, self.operand(b.trim(), item)?);
                a.is_some() && a == b
            } else {
                panic!("the fake does not read the condition clause {clause:?}");
            };
            if !holds {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Applies `update` to `item`.
    pub fn apply(&self, update: &str, item: &mut Item) -> Result<(), AwsError> {
        let mut sections: Vec<(&str, String)> = Vec::new();
        for word in update.split_whitespace() {
            match word {
                "SET" | "REMOVE" => sections.push((word, String::new())),
                _ => {
                    let (_, body) = sections.last_mut().expect("SET or REMOVE first");
                    body.push_str(word);
                    body.push(' ');
                }
            }
        }
        for (keyword, body) in sections {
            for action in body.split(',').map(str::trim) {
                if keyword == "REMOVE" {
                    item.remove(&self.name(action)?);
                    continue;
                }
                let (path, value) = action.split_once('=').expect("SET path = :value");
                let value = value.trim();
                assert!(
                    value.starts_with(':'),
                    "the fake sets plain values only: {action}"
                );
                item.insert(self.name(path.trim())?, self.value(value)?);
            }
        }
        Ok(())
    }
}

/// `p` of `function(p)`, if `clause` is a call of `function`.
fn call<'c>(clause: &'c str, function: &str) -> Option<&'c str> {
    clause
        .strip_prefix(function)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')
        .map(str::trim)
}

/// Whether `expression` uses `placeholder` as a whole token.
fn uses(expression: &str, placeholder: &str) -> bool {
    expression.match_indices(placeholder).any(|(at, _)| {
        !expression[at + placeholder.len()..]
            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}
