//! The calls that make m2sec match a plan, and those that remove a deployment.
//!
//! A deployment keeps a record (through the [`Host`]) of what it created: the tables, the role, the
//! API, the domain name, its base path mapping and its DNS record. A second deployment converges:
//! it creates what is missing, updates what differs (a table's KMS key, the role's policy, a
//! mapping's target), replaces the methods of the API with the file's routes and deploys the stage
//! again. `--remove` deletes what the record lists, and nothing else: a table or domain that existed
//! before the first deployment is left alone.

use std::collections::{BTreeMap, BTreeSet};

use m2sec_proto::RequestContext;
use serde_json::{json, Value as Json};

use crate::plan::{self, Plan};
use crate::template::{self, Inputs, Parameter, Resolved};
use crate::{DeployError, Host};

/// The deployer's options: `--stage`, `--region`, and the environment for `${env:…}`.
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub stage: Option<String>,
    pub region: Option<String>,
    pub env: BTreeMap<String, String>,
}

/// What a deployment did, one line a change, and where its API answers.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Report {
    pub service: String,
    pub stage: String,
    pub lines: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rest_api_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
}

/// What a route of the API runs: (function, …), or ("", methods) for a CORS preflight answering
/// those methods.
type Wanted<'a> = Option<(&'a str, Vec<String>)>;

const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}"#;
const CORS_HEADERS: &str =
    "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent'";

pub(crate) struct Deployer<'a> {
    pub(crate) host: &'a dyn Host,
    pub(crate) ctx: &'a RequestContext,
    pub(crate) report: Report,
}

impl Deployer<'_> {
    pub(crate) async fn call(
        &self,
        service: &str,
        operation: &str,
        input: Json,
    ) -> Result<Json, DeployError> {
        self.host
            .services()
            .call(self.ctx, service, operation, input)
            .await
            .map_err(|error| DeployError::Call {
                step: format!("{service} {operation}"),
                error: Box::new(error),
            })
    }

    /// As [`Deployer::call`], with `None` for the error code that means "not there".
    pub(crate) async fn find(
        &self,
        service: &str,
        operation: &str,
        input: Json,
        not_found: &str,
    ) -> Result<Option<Json>, DeployError> {
        match self.call(service, operation, input).await {
            Ok(v) => Ok(Some(v)),
            Err(DeployError::Call { error, .. }) if error.code == not_found => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn line(&mut self, line: String) {
        tracing::info!(service = %self.report.service, stage = %self.report.stage, "{line}");
        self.report.lines.push(line);
    }
}

/// Resolves and plans the file as the deployer (reading the SSM parameters it names, undecrypted).
pub async fn plan_of(
    host: &dyn Host,
    ctx: &RequestContext,
    text: &str,
    options: &Options,
) -> Result<Plan, DeployError> {
    let doc = template::parse(text)?;
    let mut inputs = Inputs {
        env: options.env.clone(),
        ..Inputs::default()
    };
    for (name, value) in [("stage", &options.stage), ("region", &options.region)] {
        if let Some(v) = value {
            inputs.options.insert(name.into(), v.clone());
        }
    }
    let d = Deployer {
        host,
        ctx,
        report: Report::default(),
    };
    for _ in 0..8 {
        match template::resolve(&doc, &inputs)? {
            Resolved::Done(mut resolved) => {
                // `--stage` is the stage, whatever provider.stage says (the framework's `sls:stage`).
                if let (Some(stage), Some(provider)) =
                    (&options.stage, resolved.get_mut("provider"))
                {
                    if let Some(p) = provider.as_mapping_mut() {
                        p.insert("stage".into(), stage.clone().into());
                    }
                }
                return plan::plan(&resolved, &ctx.account, options.region.as_deref());
            }
            Resolved::NeedParameters(names) => {
                for name in names {
                    let found = d
                        .find(
                            "ssm",
                            "GetParameter",
                            json!({"Name": name}),
                            "ParameterNotFound",
                        )
                        .await?;
                    let parameter = match found {
                        None => Parameter::Missing,
                        Some(p) if p["Parameter"]["Type"] == "SecureString" => Parameter::Secure,
                        Some(p) => Parameter::Plain(
                            p["Parameter"]["Value"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                        ),
                    };
                    inputs.parameters.insert(name, parameter);
                }
            }
        }
    }
    Err(DeployError::Template(
        "the file's SSM parameters refer to each other too deeply".into(),
    ))
}

pub(crate) fn names(record: &Json, field: &str) -> BTreeSet<String> {
    record[field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Deploys the file's text; returns what changed.
pub async fn deploy(
    host: &dyn Host,
    ctx: &RequestContext,
    text: &str,
    options: &Options,
) -> Result<Report, DeployError> {
    let plan = plan_of(host, ctx, text, options).await?;
    let known = host.handlers();
    for f in &plan.functions {
        if !known.contains(&f.handler) {
            return Err(DeployError::Template(format!(
                "functions.{}.handler: m2sec has no handler {}; its handlers are: {}",
                f.key,
                f.handler,
                known.join(", ")
            )));
        }
    }
    let mut d = Deployer {
        host,
        ctx,
        report: Report {
            service: plan.service.clone(),
            stage: plan.stage.clone(),
            ..Report::default()
        },
    };
    let mut record = host
        .load_record(&plan.service, &plan.stage)
        .await?
        .unwrap_or_else(|| json!({}));
    let mut created_tables = names(&record, "tables");
    for table in &plan.tables {
        if d.converge_table(table).await? {
            created_tables.insert(
                table.create["TableName"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
            );
        }
    }
    record["tables"] = json!(created_tables);
    d.converge_role(&plan).await?;
    record["role"] = json!(plan.role.name);
    host.put_functions(ctx, &plan, &plan.functions).await?;
    d.line(format!(
        "functions: {}",
        plan.functions
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let api_id = d
        .converge_api(&plan, record["rest_api_id"].as_str())
        .await?;
    record["rest_api_id"] = json!(api_id);
    host.save_record(&plan.service, &plan.stage, Some(&record))
        .await?;
    d.report.endpoints.push(format!(
        "https://{api_id}.execute-api.{}.amazonaws.com/{}",
        plan.region, plan.stage
    ));
    if let Some(domain) = &plan.domain {
        d.converge_domain(&plan, domain, &api_id, &mut record)
            .await?;
        host.save_record(&plan.service, &plan.stage, Some(&record))
            .await?;
    }
    for line in host.after_deploy(ctx, &plan).await? {
        d.line(line);
    }
    d.report.rest_api_id = Some(api_id);
    Ok(d.report)
}

impl Deployer<'_> {
    /// Creates the table if missing (true), or brings its KMS key in line.
    async fn converge_table(&mut self, table: &plan::Table) -> Result<bool, DeployError> {
        let name = table.create["TableName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let described = self
            .find(
                "dynamodb",
                "DescribeTable",
                json!({"TableName": name}),
                "ResourceNotFoundException",
            )
            .await?;
        let created = match described {
            None => {
                self.call("dynamodb", "CreateTable", table.create.clone())
                    .await?;
                self.line(format!("table {name}: created"));
                true
            }
            Some(described) => {
                let wanted = &table.create["SSESpecification"];
                let current = described["Table"]["SSEDescription"]["KMSMasterKeyArn"].as_str();
                if let Some(key) = wanted["KMSMasterKeyId"].as_str() {
                    let arn = self
                        .call("kms", "DescribeKey", json!({"KeyId": key}))
                        .await?["KeyMetadata"]["Arn"]
                        .as_str()
                        .map(str::to_string);
                    if arn.as_deref() != current {
                        self.call(
                            "dynamodb",
                            "UpdateTable",
                            json!({"TableName": name, "SSESpecification": wanted}),
                        )
                        .await?;
                        self.line(format!("table {name}: KMS key changed to {key}"));
                        return Ok(false);
                    }
                }
                self.line(format!("table {name}: unchanged"));
                false
            }
        };
        if let Some(ttl) = &table.time_to_live {
            let current = self
                .call("dynamodb", "DescribeTimeToLive", json!({"TableName": name}))
                .await?;
            let enabled = current["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED";
            if enabled != (ttl["Enabled"] == true) {
                self.call(
                    "dynamodb",
                    "UpdateTimeToLive",
                    json!({"TableName": name, "TimeToLiveSpecification": ttl}),
                )
                .await?;
                self.line(format!("table {name}: time to live set"));
            }
        }
        Ok(created)
    }

    async fn converge_role(&mut self, plan: &Plan) -> Result<(), DeployError> {
        let role = &plan.role;
        let found = self
            .find(
                "iam",
                "GetRole",
                json!({"RoleName": role.name}),
                "NoSuchEntity",
            )
            .await?;
        if found.is_none() {
            self.call(
                "iam",
                "CreateRole",
                json!({"RoleName": role.name, "Path": "/", "AssumeRolePolicyDocument": LAMBDA_TRUST}),
            )
            .await?;
            self.line(format!("role {}: created", role.name));
        }
        self.call(
            "iam",
            "PutRolePolicy",
            json!({"RoleName": role.name, "PolicyName": role.policy_name, "PolicyDocument": role.policy.to_string()}),
        )
        .await?;
        self.line(format!(
            "role {}: policy {} set",
            role.name, role.policy_name
        ));
        Ok(())
    }

    async fn converge_api(
        &mut self,
        plan: &Plan,
        recorded: Option<&str>,
    ) -> Result<String, DeployError> {
        let mut api_id = None;
        if let Some(id) = recorded {
            if self
                .find(
                    "apigateway",
                    "GetRestApi",
                    json!({"restApiId": id}),
                    "NotFoundException",
                )
                .await?
                .is_some()
            {
                api_id = Some(id.to_string());
            }
        }
        if api_id.is_none() {
            let apis = self
                .call("apigateway", "GetRestApis", json!({"limit": 500}))
                .await?;
            api_id = apis["items"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["name"] == plan.api_name.as_str())
                .and_then(|a| a["id"].as_str())
                .map(str::to_string);
        }
        let api_id = match api_id {
            Some(id) => id,
            None => {
                let created = self
                    .call(
                        "apigateway",
                        "CreateRestApi",
                        json!({"name": plan.api_name, "endpointConfiguration": {"types": ["REGIONAL"]}}),
                    )
                    .await?;
                let id = created["id"].as_str().unwrap_or_default().to_string();
                self.line(format!("REST API {}: created ({id})", plan.api_name));
                id
            }
        };
        let resources = self
            .call(
                "apigateway",
                "GetResources",
                json!({"restApiId": api_id, "limit": 500}),
            )
            .await?;
        // path → (resource id, methods it has)
        let mut by_path: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
        for r in resources["items"].as_array().into_iter().flatten() {
            let methods = r["resourceMethods"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            by_path.insert(
                r["path"].as_str().unwrap_or_default().to_string(),
                (r["id"].as_str().unwrap_or_default().to_string(), methods),
            );
        }
        // What the file wants: (path, method) → function, or None for a CORS preflight.
        let mut wanted: BTreeMap<(String, String), Wanted<'_>> = BTreeMap::new();
        for route in &plan.routes {
            let path = format!("/{}", route.path.join("/"));
            wanted.insert(
                (path.clone(), route.method.clone()),
                Some((&route.function, vec![])),
            );
            if route.cors {
                let methods: Vec<String> = plan
                    .routes
                    .iter()
                    .filter(|r| r.path == route.path)
                    .map(|r| r.method.clone())
                    .collect();
                wanted
                    .entry((path, "OPTIONS".into()))
                    .or_insert(Some(("", methods)));
            }
        }
        for (path, (id, methods)) in by_path.clone() {
            for method in methods {
                if !wanted.contains_key(&(path.clone(), method.clone())) {
                    self.call(
                        "apigateway",
                        "DeleteMethod",
                        json!({"restApiId": api_id, "resourceId": id, "httpMethod": method}),
                    )
                    .await?;
                    self.line(format!("route {method} {path}: removed"));
                }
            }
        }
        for ((path, method), target) in &wanted {
            let resource = self.resource(&api_id, &mut by_path, path).await?;
            if by_path[path].1.contains(method) {
                self.call(
                    "apigateway",
                    "DeleteMethod",
                    json!({"restApiId": api_id, "resourceId": resource, "httpMethod": method}),
                )
                .await?;
            }
            self.call(
                "apigateway",
                "PutMethod",
                json!({"restApiId": api_id, "resourceId": resource, "httpMethod": method, "authorizationType": "NONE"}),
            )
            .await?;
            match target {
                Some((function, _)) if !function.is_empty() => {
                    let uri = format!(
                        "arn:aws:apigateway:{r}:lambda:path/2015-03-31/functions/arn:aws:lambda:{r}:{a}:function:{function}/invocations",
                        r = plan.region,
                        a = plan.account
                    );
                    self.call(
                        "apigateway",
                        "PutIntegration",
                        json!({"restApiId": api_id, "resourceId": resource, "httpMethod": method,
                               "type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": uri}),
                    )
                    .await?;
                    self.line(format!("route {method} {path} → {function}"));
                }
                Some((_, methods)) => self.cors(&api_id, &resource, methods).await?,
                None => {}
            }
            by_path
                .get_mut(path)
                .expect("resource just made")
                .1
                .insert(method.clone());
        }
        self.call(
            "apigateway",
            "CreateDeployment",
            json!({"restApiId": api_id, "stageName": plan.stage, "description": format!("m2sec deploy of {}", plan.service)}),
        )
        .await?;
        self.line(format!("stage {}: deployed", plan.stage));
        Ok(api_id)
    }

    /// The resource at `path`, made (with its parents) if missing.
    async fn resource(
        &mut self,
        api_id: &str,
        by_path: &mut BTreeMap<String, (String, BTreeSet<String>)>,
        path: &str,
    ) -> Result<String, DeployError> {
        if let Some((id, _)) = by_path.get(path) {
            return Ok(id.clone());
        }
        let (parent_path, part) = path.rsplit_once('/').unwrap_or(("", path));
        let parent_path = if parent_path.is_empty() {
            "/"
        } else {
            parent_path
        };
        let parent = Box::pin(self.resource(api_id, by_path, parent_path)).await?;
        let created = self
            .call(
                "apigateway",
                "CreateResource",
                json!({"restApiId": api_id, "parentId": parent, "pathPart": part}),
            )
            .await?;
        let id = created["id"].as_str().unwrap_or_default().to_string();
        by_path.insert(path.to_string(), (id.clone(), BTreeSet::new()));
        Ok(id)
    }

    /// The framework's CORS preflight: a MOCK OPTIONS method answering the Access-Control headers.
    async fn cors(
        &mut self,
        api_id: &str,
        resource: &str,
        methods: &[String],
    ) -> Result<(), DeployError> {
        let mut allowed: Vec<&str> = methods.iter().map(String::as_str).collect();
        allowed.push("OPTIONS");
        allowed.sort_unstable();
        allowed.dedup();
        let header = |h: &str| format!("method.response.header.Access-Control-Allow-{h}");
        self.call(
            "apigateway",
            "PutIntegration",
            json!({"restApiId": api_id, "resourceId": resource, "httpMethod": "OPTIONS", "type": "MOCK",
                   "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
        )
        .await?;
        self.call(
            "apigateway",
            "PutMethodResponse",
            json!({"restApiId": api_id, "resourceId": resource, "httpMethod": "OPTIONS", "statusCode": "200",
                   "responseParameters": {header("Origin"): false, header("Headers"): false, header("Methods"): false}}),
        )
        .await?;
        self.call(
            "apigateway",
            "PutIntegrationResponse",
            json!({"restApiId": api_id, "resourceId": resource, "httpMethod": "OPTIONS", "statusCode": "200",
                   "responseParameters": {header("Origin"): "'*'", header("Headers"): CORS_HEADERS,
                                          header("Methods"): format!("'{}'", allowed.join(","))}}),
        )
        .await?;
        Ok(())
    }
}
