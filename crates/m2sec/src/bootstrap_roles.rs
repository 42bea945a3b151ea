//! `m2sec serve --bootstrap FILE`: a Serverless Framework file's `provider.iamRoleStatements` (or a
//! file holding just `iamRoleStatements:`) becomes an IAM role whose inline policy holds those
//! statements, so the functions' permissions are enforced by m2sec exactly as written.
//!
//! `${self:provider.region}`, `${self:provider.stage}` and `${self:service}` are substituted; other
//! variables and CloudFormation tags (`!GetAtt …`) name resources m2sec does not have, so those
//! resources are left out (with a warning) and a statement left with none is dropped.

use std::path::Path;

use anyhow::{bail, Context};
use serde_json::{json, Value as Json};
use serde_yaml::Value;

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut node = v;
    for key in path {
        node = node.get(*key)?;
    }
    node.as_str()
}

fn list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Sequence(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// The role a bootstrap file describes: (role name, policy document).
pub fn role_from_file(path: &Path, role_name: Option<&str>) -> anyhow::Result<(String, String)> {
    let raw =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: Value =
        serde_yaml::from_str(&raw).with_context(|| format!("{} is not YAML", path.display()))?;
    let service = text(&doc, &["service"]).unwrap_or("m2sec");
    let region = text(&doc, &["provider", "region"]).unwrap_or("eu-west-1");
    let stage = text(&doc, &["provider", "stage"])
        .filter(|s| !s.contains("${"))
        .unwrap_or("dev");
    let statements = doc
        .get("provider")
        .and_then(|p| p.get("iamRoleStatements"))
        .or_else(|| doc.get("iamRoleStatements"))
        .context("the file has no provider.iamRoleStatements (or iamRoleStatements)")?;
    let substitute = |s: &str| {
        s.replace("${self:provider.region}", region)
            .replace("${self:provider.stage}", stage)
            .replace("${self:service}", service)
    };
    let mut out = Vec::new();
    for (i, st) in list(statements).into_iter().enumerate() {
        let effect = text(st, &["Effect"]).context(format!("statement {} has no Effect", i + 1))?;
        let actions: Vec<String> = st
            .get("Action")
            .map(list)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| a.as_str().map(substitute))
            .collect();
        let mut resources = Vec::new();
        for r in st.get("Resource").map(list).unwrap_or_default() {
            let plain = if matches!(r, Value::Tagged(_)) {
                None
            } else {
                r.as_str().map(substitute)
            };
            match plain {
                Some(arn) if !arn.contains("${") && (arn == "*" || arn.starts_with("arn:")) => {
                    resources.push(arn)
                }
                _ => tracing::warn!(
                    statement = i + 1,
                    "bootstrap: leaving out a resource m2sec cannot resolve: {r:?}"
                ),
            }
        }
        if actions.is_empty() || resources.is_empty() {
            tracing::warn!(
                statement = i + 1,
                "bootstrap: statement dropped (no action or no resource left)"
            );
            continue;
        }
        out.push(json!({"Effect": effect, "Action": actions, "Resource": resources}));
    }
    if out.is_empty() {
        bail!("no usable statement in {}", path.display());
    }
    let policy: Json = json!({"Version": "2012-10-17", "Statement": out});
    let name = role_name
        .map(str::to_string)
        .unwrap_or_else(|| format!("{service}-lambda"));
    Ok((name, policy.to_string()))
}

/// The trust policy of a bootstrapped role: Lambda (as in AWS) and the account itself (so people and
/// tests can `aws sts assume-role` into it).
pub fn trust_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com", "AWS": m2sec_proto::arn::account_root(account)},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}
