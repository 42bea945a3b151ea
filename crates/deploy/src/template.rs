//! A serverless.yml with its variables resolved, as the Serverless Framework (v3) resolves them:
//! `${self:a.b}` (another value of the file), `${opt:stage, 'dev'}` (a command-line option, with a
//! fallback), `${sls:stage}`, `${env:NAME}`, `${ssm:/path}` and `${ssm:/path~true}`, nested
//! (`${ssm:/can2025/${self:provider.stage}/jwt-secret~true}`), as a whole value or inside a string.
//!
//! A SecureString is never resolved to its value here: `${ssm:/path~true}` and a `${ssm:/path}` that
//! names a SecureString become a [`secret`] reference, which only a function's environment may hold
//! (its handler reads the parameter at run time, as its role). CloudFormation's `!Ref`, `!GetAtt`
//! and their long forms are left in place for [`crate::plan`], which knows the resources.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Value};

use crate::DeployError;

/// The tag of a SecureString reference left for run time; its value is the parameter's name.
const SECRET_TAG: &str = "m2sec-ssm-secret";
/// References deeper than this are a loop (`a: ${self:b}`, `b: ${self:a}`).
const MAX_DEPTH: usize = 32;
/// Variables resolved in one pass at most: references that double at each level
/// (`a: ${self:b}${self:b}`, `b: ${self:c}${self:c}`, …) would otherwise take exponential time.
const MAX_STEPS: usize = 10_000;
/// The longest text a string may grow to by splicing values in.
const MAX_TEXT: usize = 1 << 20;

/// A reference to the SecureString `name`, read at run time.
pub fn secret(name: &str) -> Value {
    Value::Tagged(Box::new(TaggedValue {
        tag: Tag::new(SECRET_TAG),
        value: Value::String(name.to_string()),
    }))
}

/// The parameter a value refers to, if it is a [`secret`] reference.
pub fn secret_name(v: &Value) -> Option<&str> {
    match v {
        Value::Tagged(t) if t.tag == Tag::new(SECRET_TAG) => t.value.as_str(),
        _ => None,
    }
}

/// An SSM parameter as the deployer read it.
#[derive(Clone, PartialEq, Eq)]
pub enum Parameter {
    /// A String or StringList: its value.
    Plain(String),
    /// A SecureString: its value is not read.
    Secure,
    Missing,
}

impl std::fmt::Debug for Parameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Parameter::Plain(_) => "Plain(…)",
            Parameter::Secure => "Secure",
            Parameter::Missing => "Missing",
        })
    }
}

/// What variables resolve against.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// Command-line options (`stage`, `region`, …) for `${opt:…}`.
    pub options: BTreeMap<String, String>,
    /// The deployer's environment for `${env:…}` (only the names the file uses need be there).
    pub env: BTreeMap<String, String>,
    /// SSM parameters read so far.
    pub parameters: BTreeMap<String, Parameter>,
}

/// The outcome of one resolution pass.
pub enum Resolved {
    Done(Value),
    /// These SSM parameters must be read (without decryption) before another pass.
    NeedParameters(BTreeSet<String>),
}

/// Parses the file's text.
pub fn parse(text: &str) -> Result<Value, DeployError> {
    let doc: Value = serde_yaml::from_str(text)
        .map_err(|e| DeployError::Template(format!("the file is not valid YAML: {e}")))?;
    if !doc.is_mapping() {
        return Err(DeployError::Template(
            "the file must be a YAML mapping (service:, provider:, functions:…)".into(),
        ));
    }
    Ok(doc)
}

/// Resolves every variable of `doc`.
pub fn resolve(doc: &Value, inputs: &Inputs) -> Result<Resolved, DeployError> {
    let mut r = Resolver {
        root: doc,
        inputs,
        needed: BTreeSet::new(),
        steps: 0,
    };
    let out = r.value(doc, 0, "")?;
    if r.needed.is_empty() {
        Ok(Resolved::Done(out))
    } else {
        Ok(Resolved::NeedParameters(r.needed))
    }
}

struct Resolver<'a> {
    root: &'a Value,
    inputs: &'a Inputs,
    needed: BTreeSet<String>,
    steps: usize,
}

impl Resolver<'_> {
    fn value(&mut self, v: &Value, depth: usize, at: &str) -> Result<Value, DeployError> {
        if depth > MAX_DEPTH {
            return Err(DeployError::Template(format!(
                "the variables at {at} refer to each other in a loop"
            )));
        }
        Ok(match v {
            Value::String(s) => self.string(s, depth, at)?,
            Value::Sequence(items) => Value::Sequence(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.value(item, depth, &format!("{at}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Mapping(map) => {
                let mut out = Mapping::new();
                for (k, item) in map {
                    let name = k.as_str().unwrap_or("?");
                    let path = if at.is_empty() {
                        name.to_string()
                    } else {
                        format!("{at}.{name}")
                    };
                    out.insert(k.clone(), self.value(item, depth, &path)?);
                }
                Value::Mapping(out)
            }
            Value::Tagged(t) => Value::Tagged(Box::new(TaggedValue {
                tag: t.tag.clone(),
                value: self.value(&t.value, depth, at)?,
            })),
            other => other.clone(),
        })
    }

    /// A string: innermost variables first; one variable spanning the whole string gives its value
    /// as it is (a mapping, a number, a secret reference), others are spliced in as text.
    fn string(&mut self, s: &str, depth: usize, at: &str) -> Result<Value, DeployError> {
        let mut text = s.to_string();
        loop {
            let Some((start, end)) = innermost(&text) else {
                return Ok(Value::String(text));
            };
            let expr = text[start + 2..end].to_string();
            let value = self.variable(&expr, depth, at)?;
            if start == 0 && end == text.len() - 1 {
                return Ok(value);
            }
            let spliced = match &value {
                Value::String(v) => v.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                v if secret_name(v).is_some() => {
                    return Err(DeployError::Template(format!(
                        "{at}: the SecureString ${{{expr}}} can only be a whole value (a function's environment variable), not part of a string"
                    )))
                }
                _ => {
                    return Err(DeployError::Template(format!(
                        "{at}: ${{{expr}}} is not a text value and cannot be part of a string"
                    )))
                }
            };
            text.replace_range(start..=end, &spliced);
            if text.len() > MAX_TEXT {
                return Err(DeployError::Template(format!(
                    "{at}: the value grows past {} KiB once its variables are resolved",
                    MAX_TEXT / 1024
                )));
            }
        }
    }

    fn variable(&mut self, expr: &str, depth: usize, at: &str) -> Result<Value, DeployError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(DeployError::Template(format!(
                "{at}: the file's variables take more than {MAX_STEPS} resolutions; they refer to each other too much"
            )));
        }
        let (primary, fallback) = split_fallback(expr);
        match self.source(primary.trim(), depth, at)? {
            Some(v) => Ok(v),
            None => match fallback {
                Some(f) => self.fallback(f.trim(), depth, at),
                None => Err(DeployError::Template(format!(
                    "{at}: ${{{expr}}} has no value and no fallback"
                ))),
            },
        }
    }

    fn fallback(&mut self, f: &str, depth: usize, at: &str) -> Result<Value, DeployError> {
        for quote in ['\'', '"'] {
            if let Some(inner) = f.strip_prefix(quote).and_then(|r| r.strip_suffix(quote)) {
                return Ok(Value::String(inner.to_string()));
            }
        }
        if let Ok(n) = f.parse::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        match f {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            "null" => return Ok(Value::Null),
            _ => {}
        }
        self.variable(f, depth + 1, at)
    }

    /// One source's value; `None` when it has none (so a fallback applies).
    fn source(
        &mut self,
        primary: &str,
        depth: usize,
        at: &str,
    ) -> Result<Option<Value>, DeployError> {
        let (source, address) = primary.split_once(':').unwrap_or((primary, ""));
        match source {
            "self" => {
                let mut node = self.root;
                for part in address.split('.').filter(|p| !p.is_empty()) {
                    match node.get(part) {
                        Some(next) => node = next,
                        None => return Ok(None),
                    }
                }
                let node = node.clone();
                self.value(&node, depth + 1, address).map(Some)
            }
            "opt" => Ok(self
                .inputs
                .options
                .get(address)
                .map(|v| Value::String(v.clone()))),
            "sls" if address == "stage" => Ok(Some(Value::String(
                self.inputs
                    .options
                    .get("stage")
                    .cloned()
                    .or_else(|| {
                        self.root
                            .get("provider")
                            .and_then(|p| p.get("stage"))
                            .and_then(Value::as_str)
                            .filter(|s| !s.contains("${"))
                            .map(str::to_string)
                    })
                    .unwrap_or_else(|| "dev".into()),
            ))),
            "env" => Ok(self.inputs.env.get(address).map(|v| Value::String(v.clone()))),
            "ssm" => {
                let (name, secure) = match address.strip_suffix("~true") {
                    Some(name) => (name, true),
                    None => (address.strip_suffix("~false").unwrap_or(address), false),
                };
                if secure {
                    return Ok(Some(secret(name)));
                }
                match self.inputs.parameters.get(name) {
                    Some(Parameter::Plain(v)) => Ok(Some(Value::String(v.clone()))),
                    Some(Parameter::Secure) => Ok(Some(secret(name))),
                    Some(Parameter::Missing) => Ok(None),
                    None => {
                        self.needed.insert(name.to_string());
                        Ok(Some(Value::String(String::new())))
                    }
                }
            }
            other => Err(DeployError::Template(format!(
                "{at}: the variable source `{other}:` is not supported (self, opt, sls, env and ssm are)"
            ))),
        }
    }
}

/// The innermost `${…}` of `s`: (index of `$`, index of its `}`).
fn innermost(s: &str) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut open = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'$' && bytes.get(i + 1) == Some(&b'{') {
            open = Some(i);
        } else if b == b'}' {
            if let Some(start) = open {
                return Some((start, i));
            }
        }
    }
    None
}

/// `source:address, fallback` → (`source:address`, `fallback`), splitting at the first comma outside
/// quotes.
fn split_fallback(expr: &str) -> (&str, Option<&str>) {
    let mut quote = None;
    for (i, c) in expr.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ',') => return (&expr[..i], Some(&expr[i + 1..])),
            _ => {}
        }
    }
    (expr, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(doc: &str, inputs: &Inputs) -> Value {
        match resolve(&parse(doc).unwrap(), inputs).unwrap() {
            Resolved::Done(v) => v,
            Resolved::NeedParameters(p) => panic!("needs {p:?}"),
        }
    }

    fn with_stage(stage: &str) -> Inputs {
        let mut inputs = Inputs::default();
        inputs.options.insert("stage".into(), stage.into());
        inputs
    }

    const GUIDE: &str = r#"
service: can2025-secure-gates
provider:
  region: eu-west-1
  stage: ${opt:stage, 'dev'}
  iamRoleStatements:
    - Resource:
        - arn:aws:kms:${self:provider.region}:*:key/*
        - !GetAtt AuditTable.Arn
  environment:
    JWT_SECRET: ${ssm:/can2025/${self:provider.stage}/jwt-secret~true}
    AUDIT_TABLE: ${self:service}-audit-${self:provider.stage}
"#;

    #[test]
    fn the_guides_variables_resolve() {
        let doc = done(GUIDE, &with_stage("prod"));
        assert_eq!(doc["provider"]["stage"], Value::from("prod"));
        assert_eq!(
            doc["provider"]["environment"]["AUDIT_TABLE"],
            Value::from("can2025-secure-gates-audit-prod")
        );
        assert_eq!(
            secret_name(&doc["provider"]["environment"]["JWT_SECRET"]),
            Some("/can2025/prod/jwt-secret")
        );
        let resources = &doc["provider"]["iamRoleStatements"][0]["Resource"];
        assert_eq!(resources[0], Value::from("arn:aws:kms:eu-west-1:*:key/*"));
        // CloudFormation's tags are left for the plan.
        assert!(matches!(&resources[1], Value::Tagged(t) if t.tag == Tag::new("GetAtt")));
        // Without --stage, the fallback.
        let doc = done(GUIDE, &Inputs::default());
        assert_eq!(doc["provider"]["stage"], Value::from("dev"));
    }

    #[test]
    fn plain_parameters_are_read_and_secure_ones_are_not() {
        let text =
            "a: ${ssm:/plain}\nb: x-${ssm:/plain}\nc: ${ssm:/secure}\nd: ${ssm:/none, 'fb'}\n";
        let doc = parse(text).unwrap();
        let mut inputs = Inputs::default();
        match resolve(&doc, &inputs).unwrap() {
            Resolved::NeedParameters(p) => {
                assert_eq!(
                    p.into_iter().collect::<Vec<_>>(),
                    ["/none", "/plain", "/secure"]
                )
            }
            Resolved::Done(_) => panic!("parameters must be read first"),
        }
        inputs
            .parameters
            .insert("/plain".into(), Parameter::Plain("v".into()));
        inputs
            .parameters
            .insert("/secure".into(), Parameter::Secure);
        inputs.parameters.insert("/none".into(), Parameter::Missing);
        let doc = done(text, &inputs);
        assert_eq!(doc["a"], Value::from("v"));
        assert_eq!(doc["b"], Value::from("x-v"));
        assert_eq!(secret_name(&doc["c"]), Some("/secure"));
        assert_eq!(doc["d"], Value::from("fb"));
    }

    #[test]
    fn mistakes_are_named() {
        let err = |text: &str| match resolve(&parse(text).unwrap(), &Inputs::default()) {
            Err(DeployError::Template(m)) => m,
            _ => panic!("{text} resolved"),
        };
        assert!(err("a: ${self:b}\nb: ${self:a}\n").contains("loop"));
        assert!(err("a: ${self:nothing}\n").contains("no value and no fallback"));
        assert!(err("a: ${file(x.yml)}\n").contains("not supported"));
        assert!(err("a: x-${ssm:/s~true}\n").contains("whole value"));
        assert!(err("a: x-${self:m}\nm: {k: v}\n").contains("not a text value"));
        assert!(matches!(parse("- a\n- b\n"), Err(DeployError::Template(_))));
        // References that double at every level stop at the step budget, not after 2^30 steps.
        let mut doubling = String::new();
        for level in 0..30 {
            doubling += &format!("v{level}: ${{self:v{n}}}${{self:v{n}}}\n", n = level + 1);
        }
        doubling += "v30: x\n";
        assert!(
            err(&doubling).contains("refer to each other too much")
                || err(&doubling).contains("grows past")
        );
    }

    #[test]
    fn fallbacks_of_every_kind() {
        let mut inputs = Inputs::default();
        inputs.env.insert("HOME_REGION".into(), "eu-west-3".into());
        let doc = done(
            "a: ${opt:x, self:b}\nb: ${opt:y, \"q,uoted\"}\nc: ${opt:z, 3}\nd: ${env:HOME_REGION}\ne: ${sls:stage}\n",
            &inputs,
        );
        assert_eq!(doc["a"], Value::from("q,uoted"));
        assert_eq!(doc["c"], Value::from(3));
        assert_eq!(doc["d"], Value::from("eu-west-3"));
        assert_eq!(doc["e"], Value::from("dev"));
    }
}
