//! The API Gateway service (restJson1): loading and saving REST APIs and domain names, authorization
//! as API Gateway does it (`apigateway:<HTTP method>` on `arn:aws:apigateway:<region>::<path>`), and
//! the dispatch table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use m2sec_acm::service::Acm;
use m2sec_iam::Authorizer;
use m2sec_proto::model::{Location, ServiceModel, ShapeKind};
use m2sec_proto::query_service::QueryService;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::{now_ms, Document, Store, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{not_found, ApiGatewayError, Result};
use crate::operations::ApiGatewayOperation;
use crate::records::*;
use crate::shapes::{Page, Paging};

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL
        .get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/apigateway.json")))
}

pub struct ApiGateway {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) authorizer: Arc<Authorizer>,
    pub(crate) acm: Arc<Acm>,
    pub(crate) writes: tokio::sync::Mutex<()>,
    /// Advanced after every change, so the edge's routing tables on this node drop what they hold.
    pub(crate) changes: Arc<AtomicU64>,
}

/// `len` random characters of `[a-z0-9]`, as API Gateway's ids look.
pub(crate) fn new_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let uuid = m2sec_proto::random_uuid().replace('-', "");
    let more = m2sec_proto::random_uuid().replace('-', "");
    uuid.bytes()
        .chain(more.bytes())
        .take(len)
        .map(|b| ALPHABET[(b as usize * 7) % ALPHABET.len()] as char)
        .collect()
}

/// Epoch seconds now (API Gateway's dates).
pub(crate) fn now_s() -> i64 {
    now_ms() / 1000
}

/// One page of `items` (sorted by their key) from `paging.position`, at most `paging.limit` (25 by
/// default, 500 at most, as API Gateway).
pub(crate) fn page<T: Clone>(items: Vec<(String, T)>, paging: &Paging) -> Result<Page<T>> {
    let limit = paging.limit.unwrap_or(25);
    if !(1..=500).contains(&limit) {
        return Err(ApiGatewayError::BadRequest(
            "Invalid limit: it must be between 1 and 500".into(),
        ));
    }
    let start = match &paging.position {
        Some(p) => items
            .iter()
            .position(|(k, _)| k >= p)
            .unwrap_or(items.len()),
        None => 0,
    };
    let rest = &items[start..];
    let take = rest.len().min(limit as usize);
    Ok(Page {
        items: rest[..take].iter().map(|(_, v)| v.clone()).collect(),
        position: rest.get(take).map(|(k, _)| k.clone()),
    })
}

pub(crate) fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("API Gateway shapes serialize")
}

fn corrupt(e: serde_json::Error) -> ApiGatewayError {
    ApiGatewayError::Store(StoreError::Corrupt(e.to_string()))
}

impl ApiGateway {
    pub fn new(store: Arc<dyn Store>, authorizer: Arc<Authorizer>, acm: Arc<Acm>) -> Self {
        ApiGateway {
            store,
            authorizer,
            acm,
            writes: tokio::sync::Mutex::new(()),
            changes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The counter advanced after every change (the edge's caches compare it).
    pub fn changes(&self) -> Arc<AtomicU64> {
        self.changes.clone()
    }

    pub(crate) async fn load<T: DeserializeOwned>(
        &self,
        account: &str,
        region: &str,
        kind: &str,
        name: &str,
    ) -> Result<Option<T>> {
        match self.store.get_document(account, region, kind, name).await? {
            Some(doc) => serde_json::from_str(&doc.body).map(Some).map_err(corrupt),
            None => Ok(None),
        }
    }

    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        account: &str,
        region: &str,
        kind: &str,
    ) -> Result<Vec<(String, T)>> {
        let mut out = Vec::new();
        for doc in self.store.list_documents(account, region, kind).await? {
            out.push((doc.name, serde_json::from_str(&doc.body).map_err(corrupt)?));
        }
        Ok(out)
    }

    pub(crate) async fn save<T: Serialize>(
        &self,
        ctx: &RequestContext,
        kind: &str,
        name: &str,
        value: &T,
        create: bool,
    ) -> Result<()> {
        self.store
            .put_document(
                &Document {
                    account: ctx.account.clone(),
                    region: ctx.region.clone(),
                    kind: kind.into(),
                    name: name.into(),
                    body: serde_json::to_string(value).expect("API Gateway records serialize"),
                    updated_at: now_ms(),
                },
                create,
            )
            .await?;
        self.changes.fetch_add(1, Ordering::Release);
        Ok(())
    }

    pub(crate) async fn remove(&self, ctx: &RequestContext, kind: &str, name: &str) -> Result<()> {
        self.store
            .delete_document(&ctx.account, &ctx.region, kind, name)
            .await?;
        self.changes.fetch_add(1, Ordering::Release);
        Ok(())
    }

    pub(crate) async fn api(&self, ctx: &RequestContext, id: &str) -> Result<ApiDocument> {
        self.load(&ctx.account, &ctx.region, API_KIND, id)
            .await?
            .ok_or_else(|| not_found("API identifier"))
    }

    /// Changes a REST API under the write lock and saves it; returns what `change` returned.
    pub(crate) async fn modify_api<R>(
        &self,
        ctx: &RequestContext,
        id: &str,
        change: impl FnOnce(&mut ApiDocument) -> Result<R>,
    ) -> Result<R> {
        let _guard = self.writes.lock().await;
        let mut doc = self.api(ctx, id).await?;
        let out = change(&mut doc)?;
        self.save(ctx, API_KIND, id, &doc, false).await?;
        Ok(out)
    }

    pub(crate) async fn domain(&self, ctx: &RequestContext, name: &str) -> Result<DomainDocument> {
        self.load(
            &ctx.account,
            &ctx.region,
            DOMAIN_KIND,
            &name.to_ascii_lowercase(),
        )
        .await?
        .ok_or_else(|| not_found("domain name identifier"))
    }

    pub(crate) async fn modify_domain<R>(
        &self,
        ctx: &RequestContext,
        name: &str,
        change: impl FnOnce(&mut DomainDocument) -> Result<R>,
    ) -> Result<R> {
        let _guard = self.writes.lock().await;
        let mut doc = self.domain(ctx, name).await?;
        let out = change(&mut doc)?;
        let key = doc.domain.domain_name.clone();
        self.save(ctx, DOMAIN_KIND, &key, &doc, false).await?;
        Ok(out)
    }
}

/// The path of a request to `operation` with `input`'s URI labels in place, for the resource ARN
/// API Gateway authorizes (`/restapis/a1b2c3/stages/prod`).
fn request_path(model: &ServiceModel, operation: &str, input: &Value) -> String {
    let Some(http) = model.http(operation) else {
        return "/".into();
    };
    let template = http.request_uri.split('?').next().unwrap_or("/");
    let mut labels = Vec::new();
    if let Some(shape) = model.input_shape(operation) {
        if let ShapeKind::Structure { members, .. } = model.shape_kind(shape) {
            for m in members {
                if m.location == Some(Location::Uri) {
                    let label = m.location_name.clone().unwrap_or_else(|| m.name.clone());
                    let value = input.get(&m.name).and_then(Value::as_str).unwrap_or("");
                    labels.push((label, value.to_string()));
                }
            }
        }
    }
    let mut path = template.to_string();
    for (label, value) in labels {
        path = path
            .replace(&format!("{{{label}+}}"), &value)
            .replace(&format!("{{{label}}}"), &value);
    }
    path
}

#[async_trait]
impl QueryService for ApiGateway {
    fn model(&self) -> &ServiceModel {
        model()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> std::result::Result<Value, AwsError> {
        let op = ApiGatewayOperation::from_name(operation)
            .filter(|o| o.implemented())
            .ok_or_else(|| AwsError::unsupported("API Gateway", operation))?;
        let method = model().http(operation).map_or("GET", |h| h.method.as_str());
        let resource =
            m2sec_proto::arn::apigateway(&ctx.region, &request_path(model(), operation, &input));
        let context = m2sec_iam::authorizer::context(ctx, &[]);
        self.authorizer
            .authorize(ctx, &format!("apigateway:{method}"), &resource, &context)
            .await?;
        Ok(self.run(ctx, op, input).await?)
    }
}

impl ApiGateway {
    /// The dispatch table: each operation to its handler (see the table in `lib.rs`).
    async fn run(
        &self,
        ctx: &RequestContext,
        op: ApiGatewayOperation,
        input: Value,
    ) -> std::result::Result<Value, AwsError> {
        use m2sec_proto::json::from_value as typed;
        use ApiGatewayOperation as Op;
        let out = match op {
            Op::CreateRestApi => self.create_rest_api(ctx, typed(input)?).await,
            Op::GetRestApi => self.get_rest_api(ctx, typed(input)?).await,
            Op::GetRestApis => self.get_rest_apis(ctx, typed(input)?).await,
            Op::UpdateRestApi => self.update_rest_api(ctx, typed(input)?).await,
            Op::DeleteRestApi => self.delete_rest_api(ctx, typed(input)?).await,
            Op::GetResources => self.get_resources(ctx, typed(input)?).await,
            Op::GetResource => self.get_resource(ctx, typed(input)?).await,
            Op::CreateResource => self.create_resource(ctx, typed(input)?).await,
            Op::UpdateResource => self.update_resource(ctx, typed(input)?).await,
            Op::DeleteResource => self.delete_resource(ctx, typed(input)?).await,
            Op::PutMethod => self.put_method(ctx, typed(input)?).await,
            Op::GetMethod => self.get_method(ctx, typed(input)?).await,
            Op::UpdateMethod => self.update_method(ctx, typed(input)?).await,
            Op::DeleteMethod => self.delete_method(ctx, typed(input)?).await,
            Op::PutIntegration => self.put_integration(ctx, typed(input)?).await,
            Op::GetIntegration => self.get_integration(ctx, typed(input)?).await,
            Op::UpdateIntegration => self.update_integration(ctx, typed(input)?).await,
            Op::DeleteIntegration => self.delete_integration(ctx, typed(input)?).await,
            Op::PutMethodResponse => self.put_method_response(ctx, typed(input)?).await,
            Op::GetMethodResponse => self.get_method_response(ctx, typed(input)?).await,
            Op::DeleteMethodResponse => self.delete_method_response(ctx, typed(input)?).await,
            Op::PutIntegrationResponse => self.put_integration_response(ctx, typed(input)?).await,
            Op::GetIntegrationResponse => self.get_integration_response(ctx, typed(input)?).await,
            Op::DeleteIntegrationResponse => {
                self.delete_integration_response(ctx, typed(input)?).await
            }
            Op::CreateDeployment => self.create_deployment(ctx, typed(input)?).await,
            Op::GetDeployment => self.get_deployment(ctx, typed(input)?).await,
            Op::GetDeployments => self.get_deployments(ctx, typed(input)?).await,
            Op::UpdateDeployment => self.update_deployment(ctx, typed(input)?).await,
            Op::DeleteDeployment => self.delete_deployment(ctx, typed(input)?).await,
            Op::CreateStage => self.create_stage(ctx, typed(input)?).await,
            Op::GetStage => self.get_stage(ctx, typed(input)?).await,
            Op::GetStages => self.get_stages(ctx, typed(input)?).await,
            Op::UpdateStage => self.update_stage(ctx, typed(input)?).await,
            Op::DeleteStage => self.delete_stage(ctx, typed(input)?).await,
            Op::CreateDomainName => self.create_domain_name(ctx, typed(input)?).await,
            Op::GetDomainName => self.get_domain_name(ctx, typed(input)?).await,
            Op::GetDomainNames => self.get_domain_names(ctx, typed(input)?).await,
            Op::UpdateDomainName => self.update_domain_name(ctx, typed(input)?).await,
            Op::DeleteDomainName => self.delete_domain_name(ctx, typed(input)?).await,
            Op::CreateBasePathMapping => self.create_base_path_mapping(ctx, typed(input)?).await,
            Op::GetBasePathMapping => self.get_base_path_mapping(ctx, typed(input)?).await,
            Op::GetBasePathMappings => self.get_base_path_mappings(ctx, typed(input)?).await,
            Op::UpdateBasePathMapping => self.update_base_path_mapping(ctx, typed(input)?).await,
            Op::DeleteBasePathMapping => self.delete_base_path_mapping(ctx, typed(input)?).await,
            Op::TagResource => self.tag_resource(ctx, typed(input)?).await,
            Op::UntagResource => self.untag_resource(ctx, typed(input)?).await,
            Op::GetTags => self.get_tags(ctx, typed(input)?).await,
            _ => return Err(AwsError::unsupported("API Gateway", op.name())),
        };
        Ok(out?)
    }
}
