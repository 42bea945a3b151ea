//! Typed inputs and outputs of the implemented Route53 operations, named as on the wire. The restXml
//! layer binds URI labels, query strings and the XML body into a value shaped like the input, already
//! checked against botocore's model (required members, lengths, enums), so these only type it. Outputs
//! become the value the protocol layer writes as XML in the model's member order.

use serde::{Deserialize, Serialize};

// ---- shared by inputs and outputs ----

/// A hosted zone's settings: CreateHostedZone's `HostedZoneConfig`, and `Config` in a `HostedZone`.
#[derive(Debug, Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct HostedZoneConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default)]
    pub private_zone: bool,
}

#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRecord {
    pub value: String,
}

#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct AliasTarget {
    pub hosted_zone_id: String,
    #[serde(rename = "DNSName")]
    pub dns_name: String,
    pub evaluate_target_health: bool,
}

/// A record set as a change names it and ListResourceRecordSets shows it. Only the members m2sec
/// keeps are typed: routing members of other policies (`Failover`, `GeoLocation`,
/// `GeoProximityLocation`, `Region`, `MultiValueAnswer`, `HealthCheckId`, `CidrRoutingConfig`,
/// `TrafficPolicyInstanceId`) are not read.
#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRecordSet {
    pub name: String,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "TTL", skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_records: Vec<ResourceRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_target: Option<AliasTarget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
}

/// A change's `ChangeInfo`, as answered and as stored for GetChange (members in the order the stored
/// document has always had them).
#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub id: String,
    pub status: String,
    pub submitted_at: String,
}

// ---- inputs ----

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    #[serde(rename = "VPCId")]
    pub vpc_id: Option<String>,
    #[serde(rename = "VPCRegion")]
    pub vpc_region: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateHostedZoneRequest {
    pub name: String,
    pub caller_reference: String,
    pub hosted_zone_config: Option<HostedZoneConfig>,
    /// A zone created with a VPC is private.
    #[serde(rename = "VPC")]
    pub vpc: Option<Vpc>,
    pub delegation_set_id: Option<String>,
}

/// The input of every operation on one zone or change that takes nothing else (GetHostedZone,
/// DeleteHostedZone, GetChange): its id, bare or as a path (`/hostedzone/Z1`, `/change/C1`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdRequest {
    pub id: String,
}

/// GetHostedZoneCount takes nothing.
#[derive(Debug, Deserialize)]
pub struct GetHostedZoneCountRequest {}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListHostedZonesRequest {
    pub marker: Option<String>,
    pub max_items: Option<String>,
    pub delegation_set_id: Option<String>,
    pub hosted_zone_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListHostedZonesByNameRequest {
    #[serde(rename = "DNSName")]
    pub dns_name: Option<String>,
    pub hosted_zone_id: Option<String>,
    pub max_items: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateHostedZoneCommentRequest {
    pub id: String,
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Change {
    /// CREATE, DELETE or UPSERT.
    pub action: String,
    pub resource_record_set: ResourceRecordSet,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeBatch {
    pub comment: Option<String>,
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeResourceRecordSetsRequest {
    pub hosted_zone_id: String,
    pub change_batch: ChangeBatch,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceRecordSetsRequest {
    pub hosted_zone_id: String,
    pub start_record_name: Option<String>,
    pub start_record_type: Option<String>,
    pub start_record_identifier: Option<String>,
    pub max_items: Option<String>,
}

// ---- outputs ----

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostedZone {
    /// `/hostedzone/Z…`.
    pub id: String,
    pub name: String,
    pub caller_reference: String,
    pub config: HostedZoneConfig,
    pub resource_record_set_count: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DelegationSet {
    pub name_servers: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateHostedZoneResponse {
    pub hosted_zone: HostedZone,
    pub change_info: ChangeInfo,
    pub delegation_set: DelegationSet,
    /// Sent as the `Location` header.
    pub location: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetHostedZoneResponse {
    pub hosted_zone: HostedZone,
    pub delegation_set: DelegationSet,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateHostedZoneCommentResponse {
    pub hosted_zone: HostedZone,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListHostedZonesResponse {
    pub hosted_zones: Vec<HostedZone>,
    /// The marker asked for, empty when none was.
    pub marker: String,
    pub is_truncated: bool,
    pub max_items: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListHostedZonesByNameResponse {
    pub hosted_zones: Vec<HostedZone>,
    #[serde(rename = "DNSName", skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosted_zone_id: Option<String>,
    pub is_truncated: bool,
    pub max_items: String,
    #[serde(rename = "NextDNSName", skip_serializing_if = "Option::is_none")]
    pub next_dns_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_hosted_zone_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetHostedZoneCountResponse {
    pub hosted_zone_count: usize,
}

/// The answer of DeleteHostedZone, ChangeResourceRecordSets and GetChange.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeInfoResponse {
    pub change_info: ChangeInfo,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceRecordSetsResponse {
    pub resource_record_sets: Vec<ResourceRecordSet>,
    pub is_truncated: bool,
    pub max_items: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_record_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_record_type: Option<String>,
}
