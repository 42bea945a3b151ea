//! DynamoDB expressions as the fake evaluates them: only the forms the handlers send, and a panic
//! naming the expression for anything else, so a handler that starts sending something new fails
//! its tests instead of being judged by a guess.
//!
//! - conditions and filters: `OR`, `AND`, parentheses, `attribute_exists(p)`,
//!   `attribute_not_exists(p)`, `a = b`, `a <> b`;
//! - updates: `SET p = v, …` with `v` a path, a value, `if_not_exists(p, v)`, or `x + y` / `x - y`
//!   of numbers; then optionally `REMOVE p, …`;
//! - paths: `name`, `#name`, `#a.#b` (a member of a map).
//!
//! As DynamoDB does, a placeholder in `ExpressionAttributeNames` or `ExpressionAttributeValues` that
//! no expression uses is a `ValidationException`, and so is arithmetic on a missing attribute.

use std::collections::BTreeSet;

use m2sec_proto::AwsError;
use serde_json::{json, Map, Value};

pub type Item = Map<String, Value>;

/// The placeholders of one request, and which of them its expressions used.
pub struct Placeholders<'a> {
    names: Option<&'a Map<String, Value>>,
    values: Option<&'a Map<String, Value>>,
    used: BTreeSet<String>,
}

impl<'a> Placeholders<'a> {
    pub fn of(input: &'a Value) -> Self {
        Placeholders {
            names: input["ExpressionAttributeNames"].as_object(),
            values: input["ExpressionAttributeValues"].as_object(),
            used: BTreeSet::new(),
        }
    }

    /// Whether `condition` holds for `item` (`None`: no item with the key).
    pub fn condition(&mut self, condition: &str, item: Option<&Item>) -> Result<bool, AwsError> {
        let mut parser = Parser::new(condition, self);
        let holds = parser.or(item)?;
        parser.end();
        Ok(holds)
    }

    /// `item` after `update`.
    pub fn update(&mut self, update: &str, item: &Item) -> Result<Item, AwsError> {
        let mut parser = Parser::new(update, self);
        let mut assignments = Vec::new();
        let mut removals = Vec::new();
        parser.expect("SET");
        loop {
            let path = parser.top_level_path();
            parser.expect("=");
            assignments.push((path, parser.sum(item)?));
            if !parser.eat(",") {
                break;
            }
        }
        if parser.eat("REMOVE") {
            loop {
                removals.push(parser.top_level_path());
                if !parser.eat(",") {
                    break;
                }
            }
        }
        parser.end();
        let mut updated = item.clone();
        for (name, value) in assignments {
            updated.insert(name, value);
        }
        for name in removals {
            updated.remove(&name);
        }
        Ok(updated)
    }

    /// A `ValidationException` if a placeholder was not used, as DynamoDB answers.
    pub fn check_unused(&self) -> Result<(), AwsError> {
        let unused: Vec<&String> = self
            .names
            .into_iter()
            .chain(self.values)
            .flat_map(Map::keys)
            .filter(|k| !self.used.contains(*k))
            .collect();
        if unused.is_empty() {
            Ok(())
        } else {
            Err(AwsError::validation(format!(
                "Placeholders unused in expressions: {unused:?}"
            )))
        }
    }

    fn name(&mut self, token: &str) -> String {
        if !token.starts_with('#') {
            return token.to_string();
        }
        self.used.insert(token.to_string());
        let name = self
            .names
            .and_then(|n| n.get(token))
            .and_then(Value::as_str);
        name.unwrap_or_else(|| panic!("{token} is not in ExpressionAttributeNames"))
            .to_string()
    }

    fn value(&mut self, token: &str) -> Value {
        self.used.insert(token.to_string());
        let value = self.values.and_then(|v| v.get(token));
        value
            .unwrap_or_else(|| panic!("{token} is not in ExpressionAttributeValues"))
            .clone()
    }
}

struct Parser<'p, 'a> {
    expression: String,
    tokens: Vec<String>,
    at: usize,
    placeholders: &'p mut Placeholders<'a>,
}

fn tokens(expression: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' => {}
            '(' | ')' | ',' | '=' | '+' | '-' => tokens.push(c.to_string()),
            '<' if chars.next_if_eq(&'>').is_some() => tokens.push("<>".into()),
            c if c.is_ascii_alphanumeric() || "#:_.".contains(c) => {
                let mut word = c.to_string();
                while let Some(c) =
                    chars.next_if(|c| c.is_ascii_alphanumeric() || "#:_.".contains(*c))
                {
                    word.push(c);
                }
                tokens.push(word);
            }
            _ => panic!("the fake does not read {c:?} in {expression:?}"),
        }
    }
    tokens
}

impl<'p, 'a> Parser<'p, 'a> {
    fn new(expression: &str, placeholders: &'p mut Placeholders<'a>) -> Self {
        Parser {
            expression: expression.to_string(),
            tokens: tokens(expression),
            at: 0,
            placeholders,
        }
    }

    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> String {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token.unwrap_or_else(|| panic!("{:?} ends too soon for the fake", self.expression))
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.peek() == Some(token);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, token: &str) {
        let found = self.next();
        assert_eq!(found, token, "in {:?}", self.expression);
    }

    fn end(&self) {
        assert!(
            self.at == self.tokens.len(),
            "the fake does not read {:?} in {:?}",
            &self.tokens[self.at..],
            self.expression
        );
    }

    fn or(&mut self, item: Option<&Item>) -> Result<bool, AwsError> {
        let mut holds = self.and(item)?;
        while self.eat("OR") {
            holds |= self.and(item)?;
        }
        Ok(holds)
    }

    fn and(&mut self, item: Option<&Item>) -> Result<bool, AwsError> {
        let mut holds = self.unary(item)?;
        while self.eat("AND") {
            holds &= self.unary(item)?;
        }
        Ok(holds)
    }

    fn unary(&mut self, item: Option<&Item>) -> Result<bool, AwsError> {
        if self.eat("(") {
            let holds = self.or(item)?;
            self.expect(")");
            return Ok(holds);
        }
        for (function, exists) in [("attribute_exists", true), ("attribute_not_exists", false)] {
            if self.eat(function) {
                self.expect("(");
                let path = self.path();
                self.expect(")");
                return Ok(resolve(item, &path).is_some() == exists);
            }
        }
        let left = self.operand(item);
        let comparator = self.next();
        let right = self.operand(item);
        match comparator.as_str() {
            "=" => Ok(matches!((&left, &right), (Some(a), Some(b)) if a == b)),
            // A missing attribute differs from any value, as in DynamoDB.
            "<>" => Ok(left != right),
            other => panic!("the fake does not compare with {other:?}"),
        }
    }

    /// A path or a value, as it is in `item`.
    fn operand(&mut self, item: Option<&Item>) -> Option<Value> {
        let token = self.next();
        if token.starts_with(':') {
            return Some(self.placeholders.value(&token));
        }
        self.at -= 1;
        let path = self.path();
        resolve(item, &path).cloned()
    }

    fn path(&mut self) -> Vec<String> {
        let token = self.next();
        assert!(!token.starts_with(':'), "{token} is not a path");
        token
            .split('.')
            .map(|p| self.placeholders.name(p))
            .collect()
    }

    fn top_level_path(&mut self) -> String {
        let mut path = self.path();
        assert_eq!(path.len(), 1, "the fake only sets top-level attributes");
        path.remove(0)
    }

    /// `x`, `x + y` or `x - y`.
    fn sum(&mut self, item: &Item) -> Result<Value, AwsError> {
        let left = self.term(item)?;
        let sign = match self.peek() {
            Some("+") => 1,
            Some("-") => -1,
            _ => return Ok(left),
        };
        self.at += 1;
        let right = self.term(item)?;
        Ok(json!({"N": (number(&left)? + sign * number(&right)?).to_string()}))
    }

    fn term(&mut self, item: &Item) -> Result<Value, AwsError> {
        if self.eat("if_not_exists") {
            self.expect("(");
            let path = self.path();
            self.expect(",");
            let fallback = self.term(item)?;
            self.expect(")");
            return Ok(resolve(Some(item), &path).cloned().unwrap_or(fallback));
        }
        self.operand(Some(item)).ok_or_else(|| {
            AwsError::validation(
                "The provided expression refers to an attribute that does not exist in the item",
            )
        })
    }
}

fn resolve<'i>(item: Option<&'i Item>, path: &[String]) -> Option<&'i Value> {
    let (first, rest) = path.split_first()?;
    let mut value = item?.get(first)?;
    for name in rest {
        value = value.get("M")?.get(name)?;
    }
    Some(value)
}

fn number(value: &Value) -> Result<i128, AwsError> {
    value["N"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            AwsError::validation("An operand in the update expression has an incorrect data type")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(value: Value) -> Item {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn conditions_read_names_values_and_maps() {
        let input = json!({
            "ExpressionAttributeNames": {"#s": "state", "#l": "lastScan", "#n": "nonce"},
            "ExpressionAttributeValues": {":p": {"S": "PRESENT"}, ":n": {"S": "n1"}},
        });
        let present =
            item(json!({"state": {"S": "PRESENT"}, "lastScan": {"M": {"nonce": {"S": "n1"}}}}));
        let mut p = Placeholders::of(&input);
        let c = "(attribute_not_exists(#s) OR #s <> :p) AND #l.#n = :n";
        assert!(!p.condition(c, Some(&present)).unwrap());
        assert!(p.condition(c, None).is_ok_and(|h| !h), "no lastScan");
        assert!(p
            .condition("#s = :p AND #l.#n = :n", Some(&present))
            .unwrap());
        p.check_unused().unwrap();
        let mut p = Placeholders::of(&input);
        p.condition("#s = :p", Some(&present)).unwrap();
        assert_eq!(p.check_unused().unwrap_err().code, "ValidationException");
    }

    #[test]
    fn updates_set_count_and_remove() {
        let input = json!({
            "ExpressionAttributeNames": {"#e": "entries", "#f": "firstScan"},
            "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}, ":f": {"S": "x"}},
        });
        let mut p = Placeholders::of(&input);
        let updated = p
            .update(
                "SET #e = if_not_exists(#e, :zero) + :one, #f = if_not_exists(#f, :f)",
                &Item::new(),
            )
            .unwrap();
        assert_eq!(
            Value::Object(updated.clone()),
            json!({"entries": {"N": "1"}, "firstScan": {"S": "x"}})
        );
        p.check_unused().unwrap();
        let mut p = Placeholders::of(&input);
        let updated = p.update("SET #e = #e - :one REMOVE #f", &updated).unwrap();
        assert_eq!(Value::Object(updated), json!({"entries": {"N": "0"}}));
        let mut p = Placeholders::of(&input);
        let missing = p.update("SET #e = #e + :one", &Item::new()).unwrap_err();
        assert_eq!(missing.code, "ValidationException");
    }
}
