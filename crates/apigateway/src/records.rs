//! What m2sec stores for API Gateway, in API Gateway's own shapes (member names and epoch-second
//! dates as on the wire), so a stored record is also its answer:
//!
//! - one document per REST API (kind `apigateway.restapi`): the API, its resources with their
//!   methods and integrations, its deployments with the resources each one froze, and its stages;
//! - one document per custom domain name (kind `apigateway.domainname`) with its base path mappings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) const API_KIND: &str = "apigateway.restapi";
pub(crate) const DOMAIN_KIND: &str = "apigateway.domainname";

/// The integration timeout API Gateway applies when none is given (and its maximum by default).
pub const DEFAULT_TIMEOUT_MS: i64 = 29_000;

pub(crate) type Map<V> = BTreeMap<String, V>;

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfiguration {
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApi {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_media_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_compression_size: Option<i64>,
    pub api_key_source: String,
    pub endpoint_configuration: EndpointConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub tags: Map<String>,
    pub disable_execute_api_endpoint: bool,
    pub root_resource_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_part: Option<String>,
    pub path: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub resource_methods: Map<Method>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    pub http_method: String,
    pub authorization_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    #[serde(default)]
    pub api_key_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_validator_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub request_parameters: Map<bool>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub request_models: Map<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub method_responses: Map<MethodResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_integration: Option<Integration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MethodResponse {
    pub status_code: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub response_parameters: Map<bool>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub response_models: Map<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub request_parameters: Map<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub request_templates: Map<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passthrough_behavior: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<String>,
    pub timeout_in_millis: i64,
    pub cache_namespace: String,
    #[serde(default)]
    pub cache_key_parameters: Vec<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub integration_responses: Map<IntegrationResponse>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponse {
    pub status_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub response_parameters: Map<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub response_templates: Map<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub stage_name: String,
    pub deployment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String>,
    pub cache_cluster_enabled: bool,
    pub cache_cluster_status: String,
    #[serde(default)]
    pub method_settings: Map<serde_json::Value>,
    #[serde(default)]
    pub tracing_enabled: bool,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub tags: Map<String>,
    pub created_date: i64,
    pub last_updated_date: i64,
}

/// A REST API as stored: the API and everything under it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiDocument {
    pub api: RestApi,
    pub resources: Map<Resource>,
    #[serde(default)]
    pub deployments: Map<Deployment>,
    /// The resources (with methods and integrations) each deployment froze, by deployment id.
    #[serde(default)]
    pub snapshots: Map<Map<Resource>>,
    #[serde(default)]
    pub stages: Map<Stage>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BasePathMapping {
    pub base_path: String,
    pub rest_api_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainName {
    pub domain_name: String,
    pub domain_name_id: String,
    pub domain_name_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_upload_date: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_domain_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_hosted_zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_certificate_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_certificate_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_domain_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_hosted_zone_id: Option<String>,
    pub endpoint_configuration: EndpointConfiguration,
    pub domain_name_status: String,
    pub security_policy: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub tags: Map<String>,
}

/// A custom domain name as stored, with its base path mappings by base path (`(none)` for the
/// empty one).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainDocument {
    pub domain: DomainName,
    #[serde(default)]
    pub mappings: Map<BasePathMapping>,
}

/// The hosted zone id of API Gateway's regional endpoints in `region` (Route53 alias targets name
/// it), as AWS publishes them; other regions get the one of us-east-1.
pub fn regional_hosted_zone_id(region: &str) -> &'static str {
    match region {
        "us-east-1" => "Z1UJRXOUMOOFQ8",
        "us-east-2" => "ZOJJZC49E0EPZ",
        "us-west-1" => "Z2MUQ32089INYE",
        "us-west-2" => "Z2OJLYMUO9EFXC",
        "eu-west-1" => "ZLY8HYME6SFDD",
        "eu-west-2" => "ZJ5UAJN8Y3Z2Q",
        "eu-west-3" => "Z3KY65QIEKYHQQ",
        "eu-central-1" => "Z1U9ULNL0V5AJ3",
        "eu-north-1" => "Z3UWIKFBOOGXPP",
        "eu-south-1" => "Z3BT4WSQ9TDYZV",
        "ap-northeast-1" => "Z1YSHQZHG15GKL",
        "ap-southeast-1" => "ZL327KTPIQFUL",
        "ap-southeast-2" => "Z2RPCDW04V8134",
        "ap-south-1" => "Z3VO1THU9YC4UR",
        "sa-east-1" => "ZCMLWB8V5SYIT",
        "ca-central-1" => "Z19DQILCV0OWEC",
        "af-south-1" => "Z2DHW2332DAMTN",
        "me-south-1" => "Z20ZBPC0SS8806",
        _ => "Z1UJRXOUMOOFQ8",
    }
}

/// The hosted zone id of CloudFront distributions (EDGE domain names' alias target).
pub const CLOUDFRONT_HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";

/// The TLS security policies of a domain name (botocore's `SecurityPolicy` enum).
pub const SECURITY_POLICIES: &[&str] = &[
    "TLS_1_0",
    "TLS_1_2",
    "SecurityPolicy_TLS13_1_3_2025_09",
    "SecurityPolicy_TLS13_1_3_FIPS_2025_09",
    "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_2021_06",
    "SecurityPolicy_TLS13_2025_EDGE",
    "SecurityPolicy_TLS12_PFS_2025_EDGE",
    "SecurityPolicy_TLS12_2018_EDGE",
];
