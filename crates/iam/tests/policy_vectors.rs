//! Policy evaluation against the vectors in `fixtures/policy-vectors.json` (see its `about`), plus the
//! public API's small promises (`combine`, `Context`).

use std::collections::{BTreeMap, HashSet};

use m2sec_iam::policy::{
    combine, Context, Decision, Effect, PolicyDocument, PolicyKind, Principal, PrincipalKind,
    Request,
};
use serde::Deserialize;
use serde_json::Value;

const VECTORS: &str = include_str!("fixtures/policy-vectors.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vectors {
    #[allow(dead_code)] // documentation for the reader of the JSON file
    about: String,
    policies: BTreeMap<String, Value>,
    cases: Vec<Case>,
    parse_errors: Vec<ParseErrorCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    kind: Kind,
    policies: Vec<Value>,
    action: String,
    #[serde(default = "star")]
    resource: String,
    #[serde(default = "alice")]
    principal: String,
    #[serde(default)]
    role_arn: Option<String>,
    #[serde(default)]
    context: BTreeMap<String, OneOrMany>,
    expect: Expected,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParseErrorCase {
    name: String,
    kind: Kind,
    policy: Value,
    /// A part of the expected message.
    error: String,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Identity,
    Resource,
    Trust,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq)]
enum Expected {
    Allow,
    Deny,
    NotApplicable,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn star() -> String {
    "*".into()
}

fn alice() -> String {
    "arn:aws:iam::111122223333:user/alice".into()
}

impl From<Kind> for PolicyKind {
    fn from(kind: Kind) -> PolicyKind {
        match kind {
            Kind::Identity => PolicyKind::Identity,
            Kind::Resource => PolicyKind::Resource,
            Kind::Trust => PolicyKind::Trust,
        }
    }
}

impl From<Expected> for Decision {
    fn from(expected: Expected) -> Decision {
        match expected {
            Expected::Allow => Decision::Allow,
            Expected::Deny => Decision::Deny,
            Expected::NotApplicable => Decision::NotApplicable,
        }
    }
}

fn vectors() -> Vectors {
    serde_json::from_str(VECTORS).expect("policy-vectors.json does not match the Vectors shape")
}

/// Policy text: a JSON string is the text itself, or `@name` for a shared policy; an object is serialized.
fn policy_text(value: &Value, shared: &BTreeMap<String, Value>) -> String {
    match value {
        Value::String(s) => match s.strip_prefix('@') {
            Some(name) => {
                let policy = shared
                    .get(name)
                    .unwrap_or_else(|| panic!("no shared policy named {name}"));
                policy_text(policy, shared)
            }
            None => s.clone(),
        },
        other => other.to_string(),
    }
}

/// A principal from its ARN: root, user, or assumed-role session (whose role ARN is derived, without
/// path, unless given); anything that is not an ARN is a service principal.
fn principal(arn: &str, role_arn: Option<&str>) -> Principal {
    let Some(rest) = arn.strip_prefix("arn:aws:") else {
        return Principal {
            arn: arn.into(),
            account: String::new(),
            kind: PrincipalKind::Service(arn.into()),
        };
    };
    let parts: Vec<&str> = rest.splitn(4, ':').collect();
    let [service, "", account, resource] = parts[..] else {
        panic!("unexpected principal ARN {arn}")
    };
    let kind = match (service, resource) {
        ("iam", "root") => PrincipalKind::Root,
        ("iam", r) if r.starts_with("user/") => PrincipalKind::User,
        ("sts", r) if r.starts_with("assumed-role/") => {
            let role = r
                .split('/')
                .nth(1)
                .expect("assumed-role ARN without a role name");
            let role_arn = role_arn.map_or_else(
                || format!("arn:aws:iam::{account}:role/{role}"),
                str::to_string,
            );
            PrincipalKind::AssumedRole { role_arn }
        }
        _ => panic!("unexpected principal ARN {arn}"),
    };
    Principal {
        arn: arn.into(),
        account: account.into(),
        kind,
    }
}

fn run(case: &Case, shared: &BTreeMap<String, Value>) -> Result<Decision, String> {
    let mut context = Context::new();
    for (key, value) in &case.context {
        match value {
            OneOrMany::One(v) => context.insert(key, v.as_str()),
            OneOrMany::Many(vs) => context.insert_all(key, vs.clone()),
        }
    }
    let principal = principal(&case.principal, case.role_arn.as_deref());
    let request = Request {
        action: &case.action,
        resource: &case.resource,
        principal: &principal,
        context: &context,
    };
    let mut decisions = Vec::new();
    for policy in &case.policies {
        let document = PolicyDocument::parse(&policy_text(policy, shared), case.kind.into())
            .map_err(|e| format!("does not parse: {e}"))?;
        decisions.push(document.evaluate(&request));
    }
    Ok(combine(decisions))
}

#[test]
fn evaluation_vectors() {
    let vectors = vectors();
    assert!(
        vectors.cases.len() >= 60,
        "only {} evaluation vectors",
        vectors.cases.len()
    );
    let mut names = HashSet::new();
    let mut failures = Vec::new();
    for case in &vectors.cases {
        assert!(
            names.insert(case.name.as_str()),
            "two vectors are named {:?}",
            case.name
        );
        match run(case, &vectors.policies) {
            Ok(decision) if decision == case.expect.into() => {}
            Ok(decision) => failures.push(format!(
                "{}: expected {:?}, got {decision:?}",
                case.name, case.expect
            )),
            Err(e) => failures.push(format!("{}: {e}", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_shared_policy_is_used() {
    let vectors = vectors();
    let used: HashSet<&str> = vectors
        .cases
        .iter()
        .flat_map(|c| &c.policies)
        .filter_map(|p| p.as_str()?.strip_prefix('@'))
        .collect();
    for name in vectors.policies.keys() {
        assert!(
            used.contains(name.as_str()),
            "shared policy {name} is used by no vector"
        );
    }
}

#[test]
fn parse_error_vectors() {
    let vectors = vectors();
    let mut failures = Vec::new();
    for case in &vectors.parse_errors {
        let text = policy_text(&case.policy, &vectors.policies);
        match PolicyDocument::parse(&text, case.kind.into()) {
            Ok(_) => failures.push(format!(
                "{}: parsed, expected an error containing {:?}",
                case.name, case.error
            )),
            Err(e) if e.to_string().contains(&case.error) => {}
            Err(e) => failures.push(format!(
                "{}: error {:?} does not contain {:?}",
                case.name,
                e.to_string(),
                case.error
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} parse-error vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn combine_orders_deny_over_allow_over_not_applicable() {
    use Decision::*;
    assert_eq!(combine([]), NotApplicable);
    assert_eq!(combine([NotApplicable, NotApplicable]), NotApplicable);
    assert_eq!(combine([NotApplicable, Allow]), Allow);
    assert_eq!(combine([Allow, Deny, Allow]), Deny);
    assert_eq!(combine([Deny, NotApplicable]), Deny);
}

#[test]
fn context_keys_are_case_insensitive_and_insert_replaces() {
    let mut context = Context::new();
    context.insert("aws:SourceIp", "192.0.2.1");
    context.insert("AWS:SOURCEIP", "192.0.2.2");
    assert_eq!(
        context.get("aws:sourceip"),
        Some(&["192.0.2.2".to_string()][..])
    );
    context.insert_all("kms:EncryptionContextKeys", vec!["a".into(), "b".into()]);
    assert_eq!(
        context
            .get("KMS:EncryptionContextKeys")
            .map(<[String]>::len),
        Some(2)
    );
    assert_eq!(context.get("aws:username"), None);
    // A key inserted as written in lowercase is the same key, whatever case it is asked in.
    context.insert_lowercase("aws:principaltype", "User");
    context.insert("aws:PrincipalType", "AssumedRole");
    assert_eq!(
        context.get("AWS:PrincipalType"),
        Some(&["AssumedRole".to_string()][..])
    );
}

#[test]
fn documents_expose_their_statements() {
    let text = r#"{"Version": "2012-10-17", "Statement": [
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}]}"#;
    let document = PolicyDocument::parse(text, PolicyKind::Resource).unwrap();
    assert_eq!(document.kind(), PolicyKind::Resource);
    assert_eq!(document.version(), "2012-10-17");
    let statements = document.statements();
    assert_eq!(
        (statements[0].sid(), statements[0].effect()),
        (Some("Use"), Effect::Allow)
    );
    assert_eq!(
        (statements[1].sid(), statements[1].effect()),
        (None, Effect::Deny)
    );
}
