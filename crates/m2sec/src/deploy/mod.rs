//! `POST /_m2sec/deploy`: runs `m2sec deploy` on the server, as the (SigV4-authenticated) caller.
//! The deployment's changes are ordinary calls of m2sec's services ([`crate::http::in_process`]);
//! the functions go to the [`FunctionRegistry`]; the deployment's record is a document (kind
//! `deployment`). After a deployment of the secure-gates service, its first user `admin` is made
//! (see [`first_admin`]).

pub mod cli;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use m2sec_deploy::{plan::Plan, DeployError, Host, Options};
use m2sec_proto::services::Services;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::{Document, Store};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::functions::FunctionRegistry;
use crate::http::in_process::InProcess;

const RECORD_KIND: &str = "deployment";
/// The SigV4 service name the command line signs deployments for.
pub const SIGNING_NAME: &str = "m2sec";

pub struct DeployRoute {
    pub services: Arc<InProcess>,
    pub functions: Arc<FunctionRegistry>,
    pub store: Arc<dyn Store>,
}

/// What the command line sends.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct DeployRequest {
    /// The serverless.yml's text.
    pub template: String,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub remove: bool,
    /// Values of the `${env:…}` variables the file uses, from the deployer's environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

struct ServerHost<'a> {
    route: &'a DeployRoute,
}

#[async_trait]
impl Host for ServerHost<'_> {
    fn services(&self) -> &dyn Services {
        self.route.services.as_ref()
    }

    fn handlers(&self) -> Vec<String> {
        self.route.functions.handlers()
    }

    async fn put_functions(
        &self,
        _ctx: &RequestContext,
        plan: &Plan,
        functions: &[m2sec_deploy::plan::Function],
    ) -> Result<(), DeployError> {
        self.route.functions.put(plan, functions).await
    }

    async fn load_record(&self, service: &str, stage: &str) -> Result<Option<Value>, DeployError> {
        let doc = self
            .route
            .store
            .get_document("", "", RECORD_KIND, &format!("{service}/{stage}"))
            .await
            .map_err(|e| DeployError::Host(format!("the deployment's record: {e}")))?;
        Ok(doc.and_then(|d| serde_json::from_str(&d.body).ok()))
    }

    async fn save_record(
        &self,
        service: &str,
        stage: &str,
        record: Option<&Value>,
    ) -> Result<(), DeployError> {
        let name = format!("{service}/{stage}");
        let store = &self.route.store;
        let done = match record {
            Some(r) => store
                .put_document(
                    &Document {
                        account: String::new(),
                        region: String::new(),
                        kind: RECORD_KIND.into(),
                        name,
                        body: r.to_string(),
                        updated_at: chrono::Utc::now().timestamp_millis(),
                    },
                    false,
                )
                .await
                .map(|_| ()),
            None => store
                .delete_document("", "", RECORD_KIND, &name)
                .await
                .map(|_| ()),
        };
        done.map_err(|e| DeployError::Host(format!("the deployment's record: {e}")))
    }

    async fn after_deploy(
        &self,
        ctx: &RequestContext,
        plan: &Plan,
    ) -> Result<Vec<String>, DeployError> {
        first_admin(self.route.services.as_ref(), ctx, plan).await
    }
}

async fn call(
    services: &dyn Services,
    ctx: &RequestContext,
    service: &str,
    operation: &str,
    input: Value,
) -> Result<Value, DeployError> {
    services
        .call(ctx, service, operation, input)
        .await
        .map_err(|error| DeployError::Call {
            step: format!("first admin: {service} {operation}"),
            error: Box::new(error),
        })
}

/// The secure-gates service's first user: `admin`, with the password held in the SecureString
/// `admin-initial-password` next to the service's JWT secret parameter
/// (`/can2025/<stage>/admin-initial-password`), made with a generated password when it does not
/// exist. Nothing happens when the users table already has `admin`, or the file has no users table.
async fn first_admin(
    services: &dyn Services,
    ctx: &RequestContext,
    plan: &Plan,
) -> Result<Vec<String>, DeployError> {
    let Some(f) = plan
        .functions
        .iter()
        .find(|f| f.environment.contains_key("USERS_TABLE"))
    else {
        return Ok(vec![]);
    };
    let table = &f.environment["USERS_TABLE"];
    let Some(secret) = f
        .secrets
        .get("JWT_SECRET")
        .or_else(|| f.environment.get("JWT_SECRET_PARAM"))
    else {
        return Ok(vec![]);
    };
    let parameter = format!(
        "{}/admin-initial-password",
        secret.rsplit_once('/').map_or("", |(dir, _)| dir)
    );
    let key = json!({"userId": {"S": "admin"}});
    let existing = call(
        services,
        ctx,
        "dynamodb",
        "GetItem",
        json!({"TableName": table, "Key": key}),
    )
    .await?;
    if existing.get("Item").is_some() {
        return Ok(vec![format!("user admin: exists in {table}")]);
    }
    let (password, made) = match services
        .call(
            ctx,
            "ssm",
            "GetParameter",
            json!({"Name": parameter, "WithDecryption": true}),
        )
        .await
    {
        Ok(p) => (
            Zeroizing::new(
                p["Parameter"]["Value"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ),
            false,
        ),
        Err(e) if e.code == "ParameterNotFound" => {
            use base64::Engine;
            let password = Zeroizing::new(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(m2sec_crypto::random_bytes(18).expose()),
            );
            call(
                services,
                ctx,
                "ssm",
                "PutParameter",
                json!({"Name": parameter, "Value": password.as_str(), "Type": "SecureString",
                       "Description": "The first password of the secure-gates user admin"}),
            )
            .await?;
            (password, true)
        }
        Err(error) => {
            return Err(DeployError::Call {
                step: "first admin: ssm GetParameter".into(),
                error: Box::new(error),
            })
        }
    };
    let hash = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || m2sec_gates::hash_password(&password))
            .await
            .map_err(|e| DeployError::Host(format!("hashing the first password: {e}")))?
    };
    call(
        services,
        ctx,
        "dynamodb",
        "PutItem",
        json!({"TableName": table, "Item": {"userId": {"S": "admin"}, "role": {"S": "admin"}, "passwordHash": {"S": hash}},
               "ConditionExpression": "attribute_not_exists(userId)"}),
    )
    .await?;
    Ok(vec![if made {
        format!("user admin: created; its password was generated into the SecureString {parameter}")
    } else {
        format!("user admin: created with the password in {parameter}")
    }])
}

fn answer(status: StatusCode, body: Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn refused(e: &AwsError) -> Response {
    answer(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        json!({"__type": e.code, "message": e.message}),
    )
}

/// The region a file deploys to: `--region`, else `provider.region` when written out, else the
/// region the request was signed for.
fn region_of(request: &DeployRequest, signed: &str) -> String {
    if let Some(r) = &request.region {
        return r.clone();
    }
    m2sec_deploy::template::parse(&request.template)
        .ok()
        .and_then(|d| {
            d.get("provider")
                .and_then(|p| p.get("region"))
                .and_then(|r| r.as_str().map(str::to_string))
        })
        .filter(|r| !r.contains("${"))
        .unwrap_or_else(|| signed.to_string())
}

pub async fn deploy(route: Arc<DeployRoute>, request: Request) -> Response {
    let state = &route.services.state;
    let request_id = m2sec_proto::random_uuid();
    let source_ip = crate::http::source_ip(&request);
    let (parts, body) = request.into_parts();
    let (body, principal) =
        match crate::http::authenticated_body(state, &parts, body, SIGNING_NAME).await {
            Ok(b) => b,
            Err(e) => return refused(&e),
        };
    let input: DeployRequest = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            return refused(&AwsError::validation(format!(
                "the deployment request is not valid: {e}"
            )))
        }
    };
    let mut ctx = principal.into_context(
        &request_id,
        "Deploy",
        source_ip,
        parts
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    );
    ctx.region = region_of(&input, &ctx.region);
    let options = Options {
        stage: input.stage.clone(),
        region: Some(ctx.region.clone()),
        env: input.env.clone(),
    };
    let host = ServerHost { route: &route };
    let result = if input.remove {
        m2sec_deploy::remove(&host, &ctx, &input.template, &options).await
    } else {
        m2sec_deploy::deploy(&host, &ctx, &input.template, &options).await
    };
    match result {
        Ok(report) => answer(StatusCode::OK, json!(report)),
        Err(DeployError::Call { step, error }) => {
            tracing::warn!(step, code = %error.code, "a deployment step failed");
            answer(
                StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
                json!({"__type": error.code, "message": format!("{step}: {}", error.message)}),
            )
        }
        Err(e) => answer(
            StatusCode::BAD_REQUEST,
            json!({"__type": "ValidationException", "message": e.to_string()}),
        ),
    }
}
