//! Parsing a policy document into statements ready to evaluate.
//!
//! Element names are case-sensitive, as in AWS; every element that takes a list also takes a single
//! string. Errors name the statement they come from, so a person can find the fault in a long policy.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::conditions::{self, Condition};
use super::pattern::{self, Template, Tok};
use super::{PolicyError, PolicyKind};

/// A parsed policy.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    pub(crate) kind: PolicyKind,
    pub(crate) version: Version,
    pub(crate) statements: Vec<Statement>,
}

/// The policy language version: only `2012-10-17` has policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V2008,
    V2012,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement of a policy.
#[derive(Debug, Clone)]
pub struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) principal: Option<PrincipalElement>,
    pub(crate) action: ActionElement,
    /// Absent only in trust policies, which apply to the role that holds them.
    pub(crate) resource: Option<ResourceElement>,
    pub(crate) conditions: Vec<Condition>,
}

impl Statement {
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    pub fn effect(&self) -> Effect {
        self.effect
    }
}

/// `Action` (or, negated, `NotAction`): lowercased patterns.
#[derive(Debug, Clone)]
pub(crate) struct ActionElement {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<Vec<Tok>>,
}

/// `Resource` (or, negated, `NotResource`).
#[derive(Debug, Clone)]
pub(crate) struct ResourceElement {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<Template>,
}

/// `Principal` (or, negated, `NotPrincipal`).
#[derive(Debug, Clone, Default)]
pub(crate) struct PrincipalElement {
    pub(crate) negated: bool,
    /// `"*"` or `{"AWS": "*"}`.
    pub(crate) everyone: bool,
    /// Account ids, from `123456789012` or `arn:aws:iam::123456789012:root`.
    pub(crate) accounts: Vec<String>,
    /// User, role and assumed-role ARNs.
    pub(crate) arns: Vec<String>,
    /// Service principals, lowercased.
    pub(crate) services: Vec<String>,
}

impl PolicyDocument {
    /// Parses an IAM policy for the place given by `kind`.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| PolicyError(format!("Syntax errors in policy: {e}.")))?;
        let Value::Object(top) = value else {
            return Err(PolicyError(
                "Syntax errors in policy: the policy must be a JSON object.".into(),
            ));
        };
        let mut version = Version::V2008;
        let mut statement_value = None;
        for (name, value) in &top {
            match name.as_str() {
                "Version" => {
                    version = match value.as_str() {
                        Some("2012-10-17") => Version::V2012,
                        Some("2008-10-17") => Version::V2008,
                        _ => {
                            return Err(PolicyError(format!(
                                "The policy Version {value} is not supported: use \"2012-10-17\"."
                            )))
                        }
                    }
                }
                "Id" => {
                    value
                        .as_str()
                        .ok_or_else(|| syntax("Id must be a string"))?;
                }
                "Statement" => statement_value = Some(value),
                other => return Err(syntax(&format!("unknown element \"{other}\""))),
            }
        }
        let statement_values: Vec<&Map<String, Value>> = match statement_value {
            None => return Err(PolicyError("Missing required field Statement.".into())),
            Some(Value::Object(one)) => vec![one],
            Some(Value::Array(many)) => many
                .iter()
                .map(|v| {
                    v.as_object()
                        .ok_or_else(|| syntax("each Statement must be a JSON object"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(syntax("Statement must be an object or a list of objects")),
        };
        if statement_values.is_empty() {
            return Err(PolicyError(
                "The policy must contain at least one statement.".into(),
            ));
        }
        let mut statements = Vec::with_capacity(statement_values.len());
        let mut sids = HashSet::new();
        for (index, object) in statement_values.into_iter().enumerate() {
            let statement =
                parse_statement(object, kind, version).map_err(|PolicyError(message)| {
                    let sid = object
                        .get("Sid")
                        .and_then(Value::as_str)
                        .map(|s| format!(", Sid \"{s}\""));
                    PolicyError(format!(
                        "{message} (statement {}{})",
                        index + 1,
                        sid.unwrap_or_default()
                    ))
                })?;
            // IAM rejects repeated Sids; KMS accepts them in key policies, so only IAM documents are checked.
            if let (Some(sid), PolicyKind::Identity | PolicyKind::Trust) = (&statement.sid, kind) {
                if !sid.is_empty() && !sids.insert(sid.clone()) {
                    return Err(PolicyError(format!(
                        "Statement IDs (SID) in a single policy must be unique: \"{sid}\" is repeated."
                    )));
                }
            }
            statements.push(statement);
        }
        Ok(PolicyDocument {
            kind,
            version,
            statements,
        })
    }

    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// `"2012-10-17"` or `"2008-10-17"` (the default when the document has no `Version`).
    pub fn version(&self) -> &'static str {
        match self.version {
            Version::V2012 => "2012-10-17",
            Version::V2008 => "2008-10-17",
        }
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

fn syntax(detail: &str) -> PolicyError {
    PolicyError(format!("Syntax errors in policy: {detail}."))
}

fn parse_statement(
    object: &Map<String, Value>,
    kind: PolicyKind,
    version: Version,
) -> Result<Statement, PolicyError> {
    const KNOWN: [&str; 9] = [
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    ];
    if let Some(unknown) = object.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(syntax(&format!(
            "unknown element \"{unknown}\" in a statement"
        )));
    }
    let sid = match object.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(syntax("Sid must be a string")),
    };
    let effect = match object.get("Effect") {
        None => return Err(PolicyError("Missing required field Effect.".into())),
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(PolicyError(format!(
                "Invalid effect: {other}. Effect must be \"Allow\" or \"Deny\"."
            )))
        }
    };
    let principal = match (object.get("Principal"), object.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(syntax(
                "a statement cannot have both Principal and NotPrincipal",
            ))
        }
        (Some(p), None) => Some(parse_principal(p, false)?),
        (None, Some(p)) => Some(parse_principal(p, true)?),
        (None, None) => None,
    };
    match (kind, principal.is_some()) {
        (PolicyKind::Identity, true) => {
            return Err(PolicyError("Policy document should not specify a principal.".into()))
        }
        (PolicyKind::Resource | PolicyKind::Trust, false) => {
            return Err(PolicyError(
                "Missing required field Principal: a resource or trust policy must name who it applies to."
                    .into(),
            ))
        }
        _ => {}
    }
    let action = match (object.get("Action"), object.get("NotAction")) {
        (Some(_), Some(_)) => {
            return Err(syntax("a statement cannot have both Action and NotAction"))
        }
        (Some(v), None) => parse_actions(v, "Action", false)?,
        (None, Some(v)) => parse_actions(v, "NotAction", true)?,
        (None, None) => return Err(PolicyError("Policy statement must contain actions.".into())),
    };
    let resource = match (object.get("Resource"), object.get("NotResource")) {
        (Some(_), Some(_)) => {
            return Err(syntax(
                "a statement cannot have both Resource and NotResource",
            ))
        }
        (Some(_), None) if kind == PolicyKind::Trust => {
            return Err(PolicyError(
                "Has prohibited field Resource: a trust policy applies to its role.".into(),
            ))
        }
        (None, Some(_)) if kind == PolicyKind::Trust => {
            return Err(PolicyError(
                "Has prohibited field NotResource: a trust policy applies to its role.".into(),
            ))
        }
        (Some(v), None) => Some(parse_resources(v, "Resource", false, version)?),
        (None, Some(v)) => Some(parse_resources(v, "NotResource", true, version)?),
        (None, None) if kind == PolicyKind::Trust => None,
        (None, None) => {
            return Err(PolicyError(
                "Policy statement must contain resources.".into(),
            ))
        }
    };
    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(v) => conditions::parse_block(v, version == Version::V2012)?,
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// A string or a list of strings; lists must not be empty.
pub(crate) fn string_list<'a>(
    value: &'a Value,
    element: &str,
) -> Result<Vec<&'a str>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| syntax(&format!("{element} must hold only strings")))
            })
            .collect(),
        Value::Array(_) => Err(syntax(&format!("{element} must not be an empty list"))),
        _ => Err(syntax(&format!(
            "{element} must be a string or a list of strings"
        ))),
    }
}

fn parse_actions(
    value: &Value,
    element: &str,
    negated: bool,
) -> Result<ActionElement, PolicyError> {
    let mut patterns = Vec::new();
    for action in string_list(value, element)? {
        let well_formed = action == "*"
            || action
                .split_once(':')
                .is_some_and(|(service, name)| !service.is_empty() && !name.is_empty());
        if !well_formed {
            return Err(PolicyError(format!(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.: \"{action}\" \
                 is not of the form service:Operation."
            )));
        }
        patterns.push(pattern::tokens(&action.to_ascii_lowercase()));
    }
    Ok(ActionElement { negated, patterns })
}

fn parse_resources(
    value: &Value,
    element: &str,
    negated: bool,
    version: Version,
) -> Result<ResourceElement, PolicyError> {
    let mut patterns = Vec::new();
    for resource in string_list(value, element)? {
        let with_variables = version == Version::V2012 && resource.contains("${");
        if resource != "*" && !resource.starts_with("arn:") && !with_variables {
            return Err(PolicyError(format!(
                "Resource {resource} must be in ARN format or \"*\"."
            )));
        }
        patterns.push(match version {
            Version::V2012 => Template::with_variables(resource),
            Version::V2008 => Template::literal(resource),
        });
    }
    Ok(ResourceElement { negated, patterns })
}

fn parse_principal(value: &Value, negated: bool) -> Result<PrincipalElement, PolicyError> {
    let mut element = PrincipalElement {
        negated,
        ..PrincipalElement::default()
    };
    let map = match value {
        Value::String(s) if s == "*" => {
            element.everyone = true;
            return Ok(element);
        }
        Value::Object(map) if !map.is_empty() => map,
        _ => {
            return Err(PolicyError(format!(
                "Invalid principal in policy: {value}. Use \"*\" or an object such as {{\"AWS\": \"arn:aws:iam::123456789012:root\"}}."
            )))
        }
    };
    for (principal_type, values) in map {
        let values = string_list(values, "Principal")?;
        match principal_type.as_str() {
            "AWS" => {
                for v in values {
                    add_aws_principal(&mut element, v)?;
                }
            }
            "Service" => element.services.extend(values.iter().map(|s| s.to_ascii_lowercase())),
            // Accepted so that documents written for AWS load, but m2sec has no such identities.
            "Federated" | "CanonicalUser" => {}
            other => {
                return Err(PolicyError(format!(
                    "Invalid principal in policy: unknown principal type \"{other}\" (use AWS, Service, Federated or CanonicalUser)."
                )))
            }
        }
    }
    Ok(element)
}

fn add_aws_principal(element: &mut PrincipalElement, value: &str) -> Result<(), PolicyError> {
    if value == "*" {
        element.everyone = true;
    } else if is_account_id(value) {
        element.accounts.push(value.to_string());
    } else if let Some(account) = root_arn_account(value) {
        element.accounts.push(account.to_string());
    } else if value.starts_with("arn:")
        && !value.contains(['*', '?'])
        && value.split(':').count() >= 6
    {
        element.arns.push(value.to_string());
    } else {
        return Err(PolicyError(format!(
            "Invalid principal in policy: \"AWS\":\"{value}\". Use \"*\", an account id or the full ARN of a \
             user, role or assumed-role session (wildcards are not allowed inside an ARN)."
        )));
    }
    Ok(())
}

fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:PARTITION:iam::ACCOUNT:root` → `ACCOUNT`.
fn root_arn_account(value: &str) -> Option<&str> {
    let parts: Vec<&str> = value.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "iam", "", account, "root"] if is_account_id(account) => Some(account),
        _ => None,
    }
}
