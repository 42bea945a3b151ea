//! The `Condition` element: operators, their values, and how they test the request context.
//!
//! The rules, as the IAM User Guide states them:
//! - several operators, and several keys under one operator, must all hold (AND);
//! - several values for one key: any of them may match (OR), or for a negated operator
//!   (`StringNotEquals`, `NotIpAddress`, …) none may match (NOR);
//! - a key missing from the request: positive operators do not match, negated operators match,
//!   `…IfExists` matches; `ForAllValues:` matches (nothing fails), `ForAnyValue:` does not;
//! - `ForAllValues:` needs every request value to match the operator, `ForAnyValue:` at least one;
//!   without a set operator a multivalued key matches when any request value matches;
//! - `Null` tests presence only: `"true"` matches a missing key, `"false"` a present one.
//!
//! A key holding an empty list of values counts as missing. A request value that cannot be read for the
//! operator (a number that is not a number, a malformed date or IP address) matches no policy value.
//! Policy values are checked when the policy is parsed, so that a typo is reported instead of silently
//! never matching; values with policy variables can only be checked once substituted.

use std::borrow::Cow;
use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Value;

use super::pattern::{self, Template, Tok};
use super::{Context, PolicyError};

/// One key tested by one operator.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    operator: Operator,
    negated: bool,
    set: SetOperator,
    if_exists: bool,
    /// Lowercased: condition keys are case-insensitive.
    key: String,
    values: Vec<PolicyValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Comparison),
    Date(Comparison),
    Bool,
    BinaryEquals,
    IpAddress,
    /// `ArnEquals` and `ArnLike` behave the same in AWS: both take wildcards in each ARN part.
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOperator {
    Single,
    ForAllValues,
    ForAnyValue,
}

/// Each operator name, what it tests, and whether it is the negated form.
const OPERATORS: &[(&str, Operator, bool)] = {
    use Comparison::*;
    use Operator::*;
    &[
        ("StringEquals", StringEquals, false),
        ("StringNotEquals", StringEquals, true),
        ("StringEqualsIgnoreCase", StringEqualsIgnoreCase, false),
        ("StringNotEqualsIgnoreCase", StringEqualsIgnoreCase, true),
        ("StringLike", StringLike, false),
        ("StringNotLike", StringLike, true),
        ("NumericEquals", Numeric(Equals), false),
        ("NumericNotEquals", Numeric(Equals), true),
        ("NumericLessThan", Numeric(LessThan), false),
        ("NumericLessThanEquals", Numeric(LessThanEquals), false),
        ("NumericGreaterThan", Numeric(GreaterThan), false),
        (
            "NumericGreaterThanEquals",
            Numeric(GreaterThanEquals),
            false,
        ),
        ("DateEquals", Date(Equals), false),
        ("DateNotEquals", Date(Equals), true),
        ("DateLessThan", Date(LessThan), false),
        ("DateLessThanEquals", Date(LessThanEquals), false),
        ("DateGreaterThan", Date(GreaterThan), false),
        ("DateGreaterThanEquals", Date(GreaterThanEquals), false),
        ("Bool", Bool, false),
        ("BinaryEquals", BinaryEquals, false),
        ("IpAddress", IpAddress, false),
        ("NotIpAddress", IpAddress, true),
        ("ArnEquals", Arn, false),
        ("ArnLike", Arn, false),
        ("ArnNotEquals", Arn, true),
        ("ArnNotLike", Arn, true),
        ("Null", Null, false),
    ]
};

/// A policy value, read for its operator once when it holds no variable.
#[derive(Debug, Clone)]
enum PolicyValue {
    Fixed(Typed),
    Variable(Template),
}

#[derive(Debug, Clone)]
enum Typed {
    /// `StringEquals` as is; `StringEqualsIgnoreCase` lowercased; `Null` and `Bool` lowercased.
    Text(String),
    Pattern(Vec<Tok>),
    Number(f64),
    /// Milliseconds since the epoch.
    Time(i64),
    Bytes(Vec<u8>),
    Network(Network),
}

/// An IPv4 or IPv6 network (`203.0.113.0/24`, `2001:db8::/32`; a bare address is a single host).
#[derive(Debug, Clone, Copy)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

/// Parses the `Condition` element: `{"Operator": {"key": value-or-values, …}, …}`.
pub(crate) fn parse_block(block: &Value, variables: bool) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(operators) = block else {
        return Err(PolicyError(
            "Syntax errors in policy: Condition must be a JSON object.".into(),
        ));
    };
    let mut conditions = Vec::new();
    for (name, keys) in operators {
        let (operator, negated, set, if_exists) = parse_operator(name)?;
        let Value::Object(keys) = keys else {
            return Err(PolicyError(format!(
                "Syntax errors in policy: the {name} condition must map condition keys to values."
            )));
        };
        for (key, raw_values) in keys {
            let raw_values = condition_values(raw_values, name, key)?;
            let mut values = Vec::with_capacity(raw_values.len());
            for raw in raw_values {
                let template = if variables {
                    Template::with_variables(&raw)
                } else {
                    Template::literal(&raw)
                };
                let value = if template.has_variables() {
                    PolicyValue::Variable(template)
                } else {
                    PolicyValue::Fixed(typed(operator, &template).ok_or_else(|| {
                        PolicyError(format!(
                            "Invalid value \"{raw}\" for condition {name} on key {key}: {}.",
                            expected(operator)
                        ))
                    })?)
                };
                values.push(value);
            }
            conditions.push(Condition {
                operator,
                negated,
                set,
                if_exists,
                key: key.to_ascii_lowercase(),
                values,
            });
        }
    }
    Ok(conditions)
}

/// `ForAnyValue:StringLikeIfExists` → (StringLike, not negated, ForAnyValue, if-exists).
fn parse_operator(name: &str) -> Result<(Operator, bool, SetOperator, bool), PolicyError> {
    let unknown = || {
        PolicyError(format!(
            "Invalid Condition type : {name}. Use an IAM condition operator such as StringEquals, StringLike, \
             NumericLessThan, DateGreaterThan, Bool, IpAddress, ArnLike or Null, optionally with IfExists \
             and a ForAllValues: or ForAnyValue: prefix."
        ))
    };
    let (set, rest) = match name.split_once(':') {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("ForAllValues") => {
            (SetOperator::ForAllValues, rest)
        }
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("ForAnyValue") => {
            (SetOperator::ForAnyValue, rest)
        }
        Some(_) => return Err(unknown()),
        None => (SetOperator::Single, name),
    };
    let lookup = |base: &str| {
        OPERATORS
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(base))
    };
    let (operator, negated, if_exists) = match lookup(rest) {
        Some((_, operator, negated)) => (*operator, *negated, false),
        None => {
            let cut = rest
                .len()
                .checked_sub("IfExists".len())
                .ok_or_else(unknown)?;
            let (base, suffix) = (rest.get(..cut).ok_or_else(unknown)?, &rest[cut..]);
            match lookup(base) {
                Some((_, operator, negated))
                    if suffix.eq_ignore_ascii_case("IfExists") && *operator != Operator::Null =>
                {
                    (*operator, *negated, true)
                }
                _ => return Err(unknown()),
            }
        }
    };
    Ok((operator, negated, set, if_exists))
}

/// Condition values may be strings, numbers or booleans, alone or in a list (possibly empty).
fn condition_values(value: &Value, operator: &str, key: &str) -> Result<Vec<String>, PolicyError> {
    fn scalar(value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    let values = match value {
        Value::Array(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>(),
        other => scalar(other).map(|s| vec![s]),
    };
    values.ok_or_else(|| {
        PolicyError(format!(
            "Syntax errors in policy: the value of {key} under {operator} must be a string, number or \
             boolean, or a list of them."
        ))
    })
}

fn expected(operator: Operator) -> &'static str {
    match operator {
        Operator::Numeric(_) => "expected a number",
        Operator::Date(_) => "expected an ISO 8601 date (2025-06-30T23:59:59Z) or epoch seconds",
        Operator::Bool | Operator::Null => "expected true or false",
        Operator::BinaryEquals => "expected base64",
        Operator::IpAddress => {
            "expected an IP address or CIDR block (203.0.113.0/24, 2001:db8::/32)"
        }
        _ => "malformed value",
    }
}

/// Reads a policy value for `operator`, substituting variables from `context`.
fn typed_with(operator: Operator, template: &Template, context: &Context) -> Option<Typed> {
    Some(match operator {
        Operator::StringLike | Operator::Arn => {
            Typed::Pattern(template.glob(context)?.into_owned())
        }
        Operator::StringEquals => Typed::Text(template.text(context)?.into_owned()),
        Operator::StringEqualsIgnoreCase | Operator::Bool | Operator::Null => {
            let text = template.text(context)?.to_lowercase();
            if matches!(operator, Operator::Bool | Operator::Null)
                && text != "true"
                && text != "false"
            {
                return None;
            }
            Typed::Text(text)
        }
        Operator::Numeric(_) => Typed::Number(parse_number(&template.text(context)?)?),
        Operator::Date(_) => Typed::Time(parse_time(&template.text(context)?)?),
        Operator::BinaryEquals => Typed::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(template.text(context)?.trim())
                .ok()?,
        ),
        Operator::IpAddress => Typed::Network(parse_network(&template.text(context)?)?),
    })
}

fn typed(operator: Operator, template: &Template) -> Option<Typed> {
    typed_with(operator, template, &Context::new())
}

impl Condition {
    /// Whether this condition holds for the request context.
    pub(crate) fn holds(&self, context: &Context) -> bool {
        let present = context
            .get_lowercase(&self.key)
            .filter(|values| !values.is_empty());
        let resolved: Vec<Cow<'_, Typed>> = self
            .values
            .iter()
            .filter_map(|value| match value {
                PolicyValue::Fixed(typed) => Some(Cow::Borrowed(typed)),
                // A variable without a value has "no equal or like value": it matches nothing.
                PolicyValue::Variable(template) => {
                    typed_with(self.operator, template, context).map(Cow::Owned)
                }
            })
            .collect();
        if self.operator == Operator::Null {
            return resolved.iter().any(|value| match value.as_ref() {
                Typed::Text(t) if t == "true" => present.is_none(),
                Typed::Text(t) if t == "false" => present.is_some(),
                _ => false,
            });
        }
        let Some(request_values) = present else {
            return match self.set {
                SetOperator::ForAllValues => true,
                SetOperator::ForAnyValue => self.if_exists,
                SetOperator::Single => self.if_exists || self.negated,
            };
        };
        let hit = |request_value: &str| {
            resolved
                .iter()
                .any(|policy| self.matches(policy, request_value))
        };
        match self.set {
            SetOperator::ForAllValues => request_values.iter().all(|v| hit(v) != self.negated),
            SetOperator::ForAnyValue => request_values.iter().any(|v| hit(v) != self.negated),
            SetOperator::Single => request_values.iter().any(|v| hit(v)) != self.negated,
        }
    }

    /// The positive test of one request value against one policy value.
    fn matches(&self, policy: &Typed, request: &str) -> bool {
        match (self.operator, policy) {
            (Operator::StringEquals, Typed::Text(p)) => p == request,
            (Operator::StringEqualsIgnoreCase, Typed::Text(p)) => *p == request.to_lowercase(),
            (Operator::Bool, Typed::Text(p)) => p.eq_ignore_ascii_case(request),
            (Operator::StringLike, Typed::Pattern(p)) => pattern::glob_match(p, request, false),
            (Operator::Arn, Typed::Pattern(p)) => pattern::arn_match(p, request),
            (Operator::Numeric(c), Typed::Number(p)) => {
                parse_number(request).is_some_and(|r| compare(c, r.partial_cmp(p)))
            }
            (Operator::Date(c), Typed::Time(p)) => {
                parse_time(request).is_some_and(|r| compare(c, Some(r.cmp(p))))
            }
            (Operator::BinaryEquals, Typed::Bytes(p)) => base64::engine::general_purpose::STANDARD
                .decode(request.trim())
                .is_ok_and(|r| r == *p),
            (Operator::IpAddress, Typed::Network(n)) => request
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|ip| n.contains(ip)),
            _ => false,
        }
    }
}

fn compare(comparison: Comparison, ordering: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    matches!(
        (comparison, ordering),
        (Comparison::Equals, Some(Equal))
            | (Comparison::LessThan, Some(Less))
            | (Comparison::LessThanEquals, Some(Less | Equal))
            | (Comparison::GreaterThan, Some(Greater))
            | (Comparison::GreaterThanEquals, Some(Greater | Equal))
    )
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// ISO 8601 (with or without seconds, fraction or offset; a date alone is midnight UTC; no offset means
/// UTC) or seconds since the epoch, as `aws:CurrentTime` and `aws:EpochTime` carry them.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let seconds = text.parse::<f64>().ok()?;
        return Some((seconds * 1000.0).round() as i64);
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_millis());
    }
    const WITH_OFFSET: [&str; 3] = [
        "%Y-%m-%dT%H:%M%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y%m%dT%H%M%S%#z",
    ];
    if let Some(time) = WITH_OFFSET
        .iter()
        .find_map(|f| DateTime::parse_from_str(text, f).ok())
    {
        return Some(time.timestamp_millis());
    }
    let naive = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix('z'))
        .unwrap_or(text);
    const NAIVE: [&str; 3] = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y%m%dT%H%M%S"];
    if let Some(time) = NAIVE
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(naive, f).ok())
    {
        return Some(time.and_utc().timestamp_millis());
    }
    let date = NaiveDate::parse_from_str(naive, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

fn parse_network(text: &str) -> Option<Network> {
    let text = text.trim();
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (
            address.parse::<IpAddr>().ok()?,
            Some(prefix.parse::<u8>().ok()?),
        ),
        None => (text.parse::<IpAddr>().ok()?, None),
    };
    let width = if address.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(width);
    (prefix <= width).then_some(Network { address, prefix })
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        // A dual-stack listener reports IPv4 clients as IPv4-mapped IPv6 (::ffff:192.0.2.1); AWS sees
        // them as IPv4, and so must `"aws:SourceIp": "192.0.2.0/24"`.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names() {
        assert!(parse_operator("StringEquals").is_ok());
        let (operator, negated, set, if_exists) =
            parse_operator("ForAnyValue:stringNotlikeifexists").unwrap();
        assert_eq!(
            (operator, negated, set, if_exists),
            (Operator::StringLike, true, SetOperator::ForAnyValue, true)
        );
        assert!(parse_operator("NullIfExists").is_err());
        assert!(parse_operator("IfExists").is_err());
        assert!(parse_operator("StringEqualz").is_err());
        assert!(parse_operator("ForSomeValues:StringEquals").is_err());
    }

    #[test]
    fn times() {
        let t = parse_time("2020-04-01T00:00:00Z").unwrap();
        assert_eq!(parse_time("1585699200"), Some(t));
        assert_eq!(parse_time("2020-04-01"), Some(t));
        assert_eq!(parse_time("2020-04-01T00:00Z"), Some(t));
        assert_eq!(parse_time("2020-04-01T02:00:00+02:00"), Some(t));
        assert_eq!(parse_time("20200401T000000Z"), Some(t));
        assert_eq!(parse_time("2020-04-01T00:00:00.000Z"), Some(t));
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn networks() {
        let n = parse_network("203.0.113.7/24").unwrap();
        assert!(n.contains("203.0.113.200".parse().unwrap()));
        assert!(n.contains("::ffff:203.0.113.1".parse().unwrap()));
        assert!(!n.contains("203.0.114.1".parse().unwrap()));
        assert!(parse_network("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(parse_network("2001:DB8:1234:5678::/64")
            .unwrap()
            .contains("2001:db8:1234:5678::9".parse().unwrap()));
        assert!(parse_network("10.0.0.0/33").is_none());
    }
}
