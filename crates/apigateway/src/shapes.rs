//! Typed inputs of the implemented API Gateway operations, named as API Gateway's members (URI
//! labels, query strings and body alike: the restJson1 layer binds them all into one value). Answers
//! are the stored records themselves (see `records.rs`) or the list shapes here.

use serde::{Deserialize, Serialize};

use crate::records::{EndpointConfiguration, Map};

/// One operation of a PATCH request (RFC 6902 as API Gateway uses it).
#[derive(Debug, Deserialize, Clone)]
pub struct PatchOperation {
    pub op: Option<String>,
    pub path: Option<String>,
    pub value: Option<String>,
}

/// Paging of GET listings (`position` is the first item's key).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    pub limit: Option<i64>,
    pub position: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApiId {
    pub rest_api_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRestApiRequest {
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub clone_from: Option<String>,
    pub binary_media_types: Option<Vec<String>>,
    pub minimum_compression_size: Option<i64>,
    pub api_key_source: Option<String>,
    pub endpoint_configuration: Option<EndpointConfiguration>,
    pub policy: Option<String>,
    #[serde(default)]
    pub tags: Map<String>,
    #[serde(default)]
    pub disable_execute_api_endpoint: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patch<T> {
    #[serde(flatten)]
    pub target: T,
    #[serde(default)]
    pub patch_operations: Vec<PatchOperation>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing<T> {
    #[serde(flatten)]
    pub target: T,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Deserialize)]
pub struct Nothing {}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceId {
    pub rest_api_id: String,
    pub resource_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetResourcesRequest {
    pub rest_api_id: String,
    #[serde(default)]
    pub embed: Vec<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetResourceRequest {
    pub rest_api_id: String,
    pub resource_id: String,
    #[serde(default)]
    pub embed: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateResourceRequest {
    pub rest_api_id: String,
    pub parent_id: String,
    pub path_part: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodId {
    pub rest_api_id: String,
    pub resource_id: String,
    pub http_method: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutMethodRequest {
    pub rest_api_id: String,
    pub resource_id: String,
    pub http_method: String,
    pub authorization_type: String,
    pub authorizer_id: Option<String>,
    #[serde(default)]
    pub api_key_required: bool,
    pub operation_name: Option<String>,
    #[serde(default)]
    pub request_parameters: Map<bool>,
    #[serde(default)]
    pub request_models: Map<String>,
    pub request_validator_id: Option<String>,
    pub authorization_scopes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutIntegrationRequest {
    pub rest_api_id: String,
    pub resource_id: String,
    pub http_method: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub integration_http_method: Option<String>,
    pub uri: Option<String>,
    pub connection_type: Option<String>,
    pub connection_id: Option<String>,
    pub credentials: Option<String>,
    #[serde(default)]
    pub request_parameters: Map<String>,
    #[serde(default)]
    pub request_templates: Map<String>,
    pub passthrough_behavior: Option<String>,
    pub cache_namespace: Option<String>,
    #[serde(default)]
    pub cache_key_parameters: Vec<String>,
    pub content_handling: Option<String>,
    pub timeout_in_millis: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseId {
    pub rest_api_id: String,
    pub resource_id: String,
    pub http_method: String,
    pub status_code: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutMethodResponseRequest {
    #[serde(flatten)]
    pub id: ResponseId,
    #[serde(default)]
    pub response_parameters: Map<bool>,
    #[serde(default)]
    pub response_models: Map<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutIntegrationResponseRequest {
    #[serde(flatten)]
    pub id: ResponseId,
    pub selection_pattern: Option<String>,
    #[serde(default)]
    pub response_parameters: Map<String>,
    #[serde(default)]
    pub response_templates: Map<String>,
    pub content_handling: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDeploymentRequest {
    pub rest_api_id: String,
    pub stage_name: Option<String>,
    pub stage_description: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub variables: Map<String>,
    pub tracing_enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentId {
    pub rest_api_id: String,
    pub deployment_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStageRequest {
    pub rest_api_id: String,
    pub stage_name: String,
    pub deployment_id: String,
    pub description: Option<String>,
    #[serde(default)]
    pub variables: Map<String>,
    #[serde(default)]
    pub tracing_enabled: bool,
    #[serde(default)]
    pub tags: Map<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageId {
    pub rest_api_id: String,
    pub stage_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDomainNameRequest {
    pub domain_name: String,
    pub certificate_arn: Option<String>,
    pub certificate_name: Option<String>,
    pub certificate_body: Option<String>,
    pub regional_certificate_arn: Option<String>,
    pub regional_certificate_name: Option<String>,
    pub endpoint_configuration: Option<EndpointConfiguration>,
    pub security_policy: Option<String>,
    pub mutual_tls_authentication: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: Map<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainNameId {
    pub domain_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBasePathMappingRequest {
    pub domain_name: String,
    pub base_path: Option<String>,
    pub rest_api_id: String,
    pub stage: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BasePathId {
    pub domain_name: String,
    pub base_path: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceRequest {
    pub resource_arn: String,
    #[serde(default)]
    pub tags: Map<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceRequest {
    pub resource_arn: String,
    #[serde(default)]
    pub tag_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceArn {
    pub resource_arn: String,
}

/// A page of a listing: `{"items": [...], "position": "..."}`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Tags {
    pub tags: Map<String>,
}

/// Nothing in the answer (Delete…).
#[derive(Debug, Serialize)]
pub struct Empty {}
