//! What a resolved serverless.yml asks for, named as the Serverless Framework (v3) names it: the
//! tables of `resources`, the role `{service}-{stage}-{region}-lambdaRole` with the statements of
//! `provider.iamRoleStatements`, the functions `{service}-{stage}-{key}`, the REST API
//! `{stage}-{service}` with one route per `http` event, and the custom domain of
//! serverless-domain-manager (`custom.customDomain`).

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};
use serde_yaml::Value;

use crate::template::secret_name;
use crate::DeployError;

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub service: String,
    pub stage: String,
    pub region: String,
    pub account: String,
    pub tables: Vec<Table>,
    pub role: Role,
    pub functions: Vec<Function>,
    pub api_name: String,
    pub routes: Vec<Route>,
    pub domain: Option<Domain>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The resource's logical id (`AuditTable`).
    pub logical_id: String,
    /// DynamoDB CreateTable's input.
    pub create: Json,
    /// `TimeToLiveSpecification`, as UpdateTimeToLive takes it.
    pub time_to_live: Option<Json>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub name: String,
    pub policy_name: String,
    /// The policy document, JSON.
    pub policy: Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// The function's key in `functions:` (`login`).
    pub key: String,
    pub name: String,
    pub handler: String,
    /// Plain environment values: the provider's, then the function's.
    pub environment: BTreeMap<String, String>,
    /// Environment variables naming SecureStrings read at run time: variable → parameter name.
    pub secrets: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Path parts under the API's root (`auth/login` → `["auth", "login"]`).
    pub path: Vec<String>,
    /// Upper-case method, or `ANY`.
    pub method: String,
    pub function: String,
    pub cors: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    pub name: String,
    pub certificate_arn: Option<String>,
    /// `certificateName`, to look the certificate up when no ARN is given.
    pub certificate_name: Option<String>,
    /// `(none)` for the empty base path.
    pub base_path: String,
    pub stage: String,
    pub create_route53_record: bool,
    pub security_policy: String,
}

fn text(v: &Value, at: &str) -> Result<String, DeployError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(DeployError::Template(format!("{at} must be a text value"))),
    }
}

fn opt_text(v: Option<&Value>, at: &str) -> Result<Option<String>, DeployError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => text(v, at).map(Some),
    }
}

fn list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Sequence(items)) => items.iter().collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(other) => vec![other],
    }
}

fn mapping(v: Option<&Value>) -> impl Iterator<Item = (String, &Value)> {
    v.and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v))
}

/// Builds the plan of a resolved file for the deploying `account`.
pub fn plan(doc: &Value, account: &str, region_option: Option<&str>) -> Result<Plan, DeployError> {
    let service = match doc.get("service") {
        Some(Value::Mapping(m)) => opt_text(m.get("name"), "service.name")?,
        other => opt_text(other, "service")?,
    }
    .ok_or_else(|| DeployError::Template("the file has no `service:` name".into()))?;
    let provider = doc.get("provider").cloned().unwrap_or(Value::Null);
    let stage = opt_text(provider.get("stage"), "provider.stage")?.unwrap_or_else(|| "dev".into());
    let region = match region_option {
        Some(r) => r.to_string(),
        None => opt_text(provider.get("region"), "provider.region")?
            .unwrap_or_else(|| "us-east-1".into()),
    };
    let mut tables = Vec::new();
    let resources = doc.get("resources").and_then(|r| r.get("Resources"));
    for (logical_id, resource) in mapping(resources) {
        let kind = opt_text(
            resource.get("Type"),
            &format!("resources.{logical_id}.Type"),
        )?
        .unwrap_or_default();
        if kind != "AWS::DynamoDB::Table" {
            return Err(DeployError::Template(format!(
                "resources.{logical_id}: m2sec deploy creates resources of type AWS::DynamoDB::Table only, not {kind}"
            )));
        }
        tables.push(table(
            &logical_id,
            resource.get("Properties"),
            &service,
            &stage,
        )?);
    }
    let refs = Refs {
        tables: &tables,
        account,
        region: &region,
    };
    let statements = provider.get("iamRoleStatements").or_else(|| {
        provider
            .get("iam")
            .and_then(|i| i.get("role"))
            .and_then(|r| r.get("statements"))
    });
    let mut policy_statements = Vec::new();
    for (i, st) in list(statements).into_iter().enumerate() {
        policy_statements.push(refs.json(st, &format!("provider.iamRoleStatements[{i}]"))?);
    }
    let role = Role {
        name: format!("{service}-{stage}-{region}-lambdaRole"),
        policy_name: format!("{service}-{stage}-lambda"),
        policy: json!({"Version": "2012-10-17", "Statement": policy_statements}),
    };
    let provider_env = environment(&refs, provider.get("environment"), "provider.environment")?;
    let mut functions = Vec::new();
    let mut routes = Vec::new();
    for (key, f) in mapping(doc.get("functions")) {
        let at = format!("functions.{key}");
        let handler = opt_text(f.get("handler"), &format!("{at}.handler"))?
            .ok_or_else(|| DeployError::Template(format!("{at} has no handler")))?;
        let name = opt_text(f.get("name"), &format!("{at}.name"))?
            .unwrap_or_else(|| format!("{service}-{stage}-{key}"));
        let (mut env, mut secrets) = provider_env.clone();
        let (own_env, own_secrets) =
            environment(&refs, f.get("environment"), &format!("{at}.environment"))?;
        for (k, v) in own_env {
            secrets.remove(&k);
            env.insert(k, v);
        }
        for (k, v) in own_secrets {
            env.remove(&k);
            secrets.insert(k, v);
        }
        for (i, event) in list(f.get("events")).into_iter().enumerate() {
            let Some(http) = event.get("http") else {
                continue;
            };
            routes.push(route(http, &name, &format!("{at}.events[{i}].http"))?);
        }
        functions.push(Function {
            key,
            name,
            handler,
            environment: env,
            secrets,
        });
    }
    let api_name = opt_text(provider.get("apiName"), "provider.apiName")?
        .unwrap_or_else(|| format!("{stage}-{service}"));
    let domain = match doc.get("custom").and_then(|c| c.get("customDomain")) {
        None | Some(Value::Null) => None,
        Some(d) => Some(custom_domain(d, &stage)?),
    };
    Ok(Plan {
        service,
        stage,
        region,
        account: account.to_string(),
        tables,
        role,
        functions,
        api_name,
        routes,
        domain,
    })
}

fn table(
    logical_id: &str,
    properties: Option<&Value>,
    service: &str,
    stage: &str,
) -> Result<Table, DeployError> {
    let at = format!("resources.{logical_id}.Properties");
    let props = properties.ok_or_else(|| DeployError::Template(format!("{at} is missing")))?;
    let mut create = yaml_to_json(props, &at)?;
    let object = create
        .as_object_mut()
        .ok_or_else(|| DeployError::Template(format!("{at} must be a mapping")))?;
    if !object.contains_key("TableName") {
        // CloudFormation names an unnamed table after its stack and logical id.
        object.insert(
            "TableName".into(),
            json!(format!("{service}-{stage}-{logical_id}")),
        );
    }
    // CloudFormation's SSESpecification says SSEEnabled where DynamoDB's API says Enabled.
    if let Some(sse) = object
        .get_mut("SSESpecification")
        .and_then(Json::as_object_mut)
    {
        if let Some(enabled) = sse.remove("SSEEnabled") {
            sse.insert("Enabled".into(), enabled);
        }
    }
    let time_to_live = object.remove("TimeToLiveSpecification");
    for unsupported in [
        "StreamSpecification",
        "PointInTimeRecoverySpecification",
        "KinesisStreamSpecification",
        "ContributorInsightsSpecification",
        "ImportSourceSpecification",
    ] {
        if object.remove(unsupported).is_some() {
            tracing::warn!(
                table = logical_id,
                property = unsupported,
                "a table property m2sec does not apply"
            );
        }
    }
    object.remove("TableClass");
    Ok(Table {
        logical_id: logical_id.to_string(),
        create,
        time_to_live,
    })
}

/// Resolves CloudFormation's references to the file's own resources.
struct Refs<'a> {
    tables: &'a [Table],
    account: &'a str,
    region: &'a str,
}

impl Refs<'_> {
    fn table_name(&self, logical_id: &str, at: &str) -> Result<String, DeployError> {
        self.tables
            .iter()
            .find(|t| t.logical_id == logical_id)
            .and_then(|t| t.create["TableName"].as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                DeployError::Template(format!(
                    "{at}: `{logical_id}` is not a resource of this file"
                ))
            })
    }

    fn get_att(&self, logical_id: &str, attribute: &str, at: &str) -> Result<Json, DeployError> {
        let name = self.table_name(logical_id, at)?;
        match attribute {
            "Arn" => Ok(json!(format!(
                "arn:aws:dynamodb:{}:{}:table/{name}",
                self.region, self.account
            ))),
            other => Err(DeployError::Template(format!(
                "{at}: m2sec knows the attribute Arn of a table, not {other}"
            ))),
        }
    }

    /// A value with `!Ref`, `!GetAtt`, `!Join` (and their `Ref:`/`Fn::…:` forms) resolved, as JSON.
    fn json(&self, v: &Value, at: &str) -> Result<Json, DeployError> {
        match v {
            Value::Tagged(t) => {
                let tag = t.tag.to_string();
                self.function(tag.trim_start_matches('!'), &t.value, at)
            }
            Value::Mapping(m) if m.len() == 1 => {
                let (k, inner) = m.iter().next().expect("one entry");
                match k.as_str() {
                    Some("Ref") => self.function("Ref", inner, at),
                    Some(f) if f.starts_with("Fn::") => {
                        self.function(f.trim_start_matches("Fn::"), inner, at)
                    }
                    _ => self.plain(v, at),
                }
            }
            _ => self.plain(v, at),
        }
    }

    fn plain(&self, v: &Value, at: &str) -> Result<Json, DeployError> {
        Ok(match v {
            Value::Sequence(items) => Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.json(item, &format!("{at}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Mapping(m) => {
                let mut out = serde_json::Map::new();
                for (k, item) in m {
                    let key = text(k, at)?;
                    let value = self.json(item, &format!("{at}.{key}"))?;
                    out.insert(key, value);
                }
                Json::Object(out)
            }
            other => yaml_to_json(other, at)?,
        })
    }

    fn function(&self, name: &str, arg: &Value, at: &str) -> Result<Json, DeployError> {
        match name {
            "Ref" => Ok(json!(self.table_name(&text(arg, at)?, at)?)),
            "GetAtt" => {
                let (id, attribute) = match arg {
                    Value::String(s) => s.split_once('.').map(|(a, b)| (a.to_string(), b.to_string())),
                    Value::Sequence(parts) if parts.len() == 2 => {
                        Some((text(&parts[0], at)?, text(&parts[1], at)?))
                    }
                    _ => None,
                }
                .ok_or_else(|| {
                    DeployError::Template(format!("{at}: GetAtt takes `Resource.Attribute`"))
                })?;
                self.get_att(&id, &attribute, at)
            }
            "Join" => {
                let parts = match arg {
                    Value::Sequence(p) if p.len() == 2 => p,
                    _ => {
                        return Err(DeployError::Template(format!(
                            "{at}: Join takes [separator, [values]]"
                        )))
                    }
                };
                let separator = text(&parts[0], at)?;
                let values: Vec<String> = list(Some(&parts[1]))
                    .into_iter()
                    .map(|p| match self.json(p, at)? {
                        Json::String(s) => Ok(s),
                        other => Ok(other.to_string()),
                    })
                    .collect::<Result<_, DeployError>>()?;
                Ok(json!(values.join(&separator)))
            }
            other => Err(DeployError::Template(format!(
                "{at}: the CloudFormation function {other} is not supported (Ref, GetAtt and Join are)"
            ))),
        }
    }
}

/// Environment variables by name.
type Env = BTreeMap<String, String>;

/// An `environment:` mapping: (plain values, SecureString references by variable).
fn environment(refs: &Refs<'_>, env: Option<&Value>, at: &str) -> Result<(Env, Env), DeployError> {
    let mut plain = BTreeMap::new();
    let mut secrets = BTreeMap::new();
    for (name, v) in mapping(env) {
        if let Some(parameter) = secret_name(v) {
            secrets.insert(name, parameter.to_string());
            continue;
        }
        let value = match refs.json(v, &format!("{at}.{name}"))? {
            Json::String(s) => s,
            Json::Null => String::new(),
            other => other.to_string(),
        };
        plain.insert(name, value);
    }
    Ok((plain, secrets))
}

fn route(http: &Value, function: &str, at: &str) -> Result<Route, DeployError> {
    let (method, path, cors) = match http {
        // The short form: `http: GET users/create`.
        Value::String(s) => {
            let (m, p) = s
                .split_once(' ')
                .ok_or_else(|| DeployError::Template(format!("{at}: expected `METHOD path`")))?;
            (m.to_string(), p.trim().to_string(), false)
        }
        Value::Mapping(_) => (
            opt_text(http.get("method"), &format!("{at}.method"))?
                .ok_or_else(|| DeployError::Template(format!("{at} has no method")))?,
            opt_text(http.get("path"), &format!("{at}.path"))?.unwrap_or_default(),
            match http.get("cors") {
                None | Some(Value::Null) | Some(Value::Bool(false)) => false,
                Some(_) => true,
            },
        ),
        _ => return Err(DeployError::Template(format!("{at} must be a mapping"))),
    };
    let method = method.to_ascii_uppercase();
    if ![
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
    ]
    .contains(&method.as_str())
    {
        return Err(DeployError::Template(format!(
            "{at}: unknown method {method}"
        )));
    }
    Ok(Route {
        path: path
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        method,
        function: function.to_string(),
        cors,
    })
}

fn custom_domain(d: &Value, stage: &str) -> Result<Domain, DeployError> {
    let at = "custom.customDomain";
    let name = opt_text(d.get("domainName"), &format!("{at}.domainName"))?
        .ok_or_else(|| DeployError::Template(format!("{at} has no domainName")))?;
    let base_path = opt_text(d.get("basePath"), &format!("{at}.basePath"))?.unwrap_or_default();
    let endpoint = opt_text(d.get("endpointType"), &format!("{at}.endpointType"))?
        .unwrap_or_else(|| "edge".into())
        .to_ascii_lowercase();
    if endpoint != "regional" {
        tracing::warn!(domain = %name, endpoint_type = %endpoint, "custom domain endpoint type served as REGIONAL");
    }
    let policy = opt_text(d.get("securityPolicy"), &format!("{at}.securityPolicy"))?
        .unwrap_or_else(|| "tls_1_2".into());
    Ok(Domain {
        name,
        certificate_arn: opt_text(d.get("certificateArn"), &format!("{at}.certificateArn"))?,
        certificate_name: opt_text(d.get("certificateName"), &format!("{at}.certificateName"))?,
        base_path: if base_path.is_empty() {
            "(none)".into()
        } else {
            base_path
        },
        stage: opt_text(d.get("stage"), &format!("{at}.stage"))?
            .unwrap_or_else(|| stage.to_string()),
        create_route53_record: !matches!(d.get("createRoute53Record"), Some(Value::Bool(false))),
        security_policy: policy.to_ascii_uppercase(),
    })
}

/// A YAML value as JSON (no tags left; numbers stay numbers).
pub(crate) fn yaml_to_json(v: &Value, at: &str) -> Result<Json, DeployError> {
    if let Value::Tagged(t) = v {
        return Err(DeployError::Template(format!(
            "{at}: {} is not supported here",
            t.tag
        )));
    }
    serde_json::to_value(v).map_err(|e| DeployError::Template(format!("{at}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{self, Inputs, Resolved};

    pub(crate) fn guide_plan(stage: &str) -> Plan {
        let text = include_str!("../../../examples/can2025/serverless.yml");
        let mut inputs = Inputs::default();
        inputs.options.insert("stage".into(), stage.into());
        let doc = match template::resolve(&template::parse(text).unwrap(), &inputs).unwrap() {
            Resolved::Done(d) => d,
            Resolved::NeedParameters(p) => panic!("needs {p:?}"),
        };
        plan(&doc, "000000000000", None).unwrap()
    }

    #[test]
    fn the_example_plans_as_the_framework_names_things() {
        let p = guide_plan("prod");
        assert_eq!(p.service, "can2025-secure-gates");
        assert_eq!(
            p.role.name,
            "can2025-secure-gates-prod-eu-west-1-lambdaRole"
        );
        assert_eq!(p.api_name, "prod-can2025-secure-gates");
        let audit = p
            .tables
            .iter()
            .find(|t| t.logical_id == "AuditTable")
            .unwrap();
        assert_eq!(audit.create["TableName"], "can2025-secure-gates-audit-prod");
        assert_eq!(
            audit.create["SSESpecification"],
            json!({"Enabled": true, "SSEType": "KMS", "KMSMasterKeyId": "alias/can2025-dynamodb"})
        );
        let statements = p.role.policy["Statement"].as_array().unwrap();
        assert!(statements
            .iter()
            .any(
                |s| s["Resource"].as_array().is_some_and(|r| r.contains(&json!(
                    "arn:aws:dynamodb:eu-west-1:000000000000:table/can2025-secure-gates-audit-prod"
                )))
            ));
        let login = p.functions.iter().find(|f| f.key == "login").unwrap();
        assert_eq!(login.name, "can2025-secure-gates-prod-login");
        assert_eq!(login.handler, "src/handlers/auth.login");
        assert_eq!(login.secrets["JWT_SECRET"], "/can2025/prod/jwt-secret");
        assert_eq!(
            login.environment["USERS_TABLE"],
            "can2025-secure-gates-users-prod"
        );
        assert!(!login.environment.contains_key("JWT_SECRET"));
        let route = p.routes.iter().find(|r| r.function == login.name).unwrap();
        assert_eq!(
            (route.path.join("/"), route.method.as_str(), route.cors),
            ("auth/login".into(), "POST", true)
        );
        let domain = p.domain.unwrap();
        assert_eq!(
            (
                domain.name.as_str(),
                domain.base_path.as_str(),
                domain.stage.as_str()
            ),
            ("api.fanops.com", "(none)", "prod")
        );
        assert!(domain.create_route53_record);
    }

    #[test]
    fn unknown_resources_and_references_are_refused() {
        let err = |text: &str| {
            let doc = match template::resolve(&template::parse(text).unwrap(), &Inputs::default())
                .unwrap()
            {
                Resolved::Done(d) => d,
                Resolved::NeedParameters(_) => unreachable!(),
            };
            match plan(&doc, "000000000000", None) {
                Err(DeployError::Template(m)) => m,
                other => panic!("{other:?}"),
            }
        };
        assert!(
            err("service: s\nresources:\n  Resources:\n    B:\n      Type: AWS::S3::Bucket\n")
                .contains("AWS::S3::Bucket")
        );
        assert!(err(
            "service: s\nprovider:\n  iamRoleStatements:\n    - Resource: !GetAtt Nope.Arn\n"
        )
        .contains("`Nope`"));
        assert!(err("provider: {}\n").contains("no `service:`"));
        assert!(err("service: s\nfunctions:\n  f:\n    handler: h\n    events:\n      - http: {path: x, method: FETCH}\n").contains("FETCH"));
    }
}
