//! The Route53 API (botocore's `route53` model, restXml on the wire): hosted zones, record sets and
//! changes. Services get and return JSON values shaped like the model's input and output; the protocol
//! layer turns them into Route53's XML. Changes take effect at once (`INSYNC`).

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use m2sec_iam::Authorizer;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::query_service::QueryService;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::{now_ms, Document, Store, StoreError};
use serde::Deserialize;
use serde_json::Value;

use crate::error::Route53Error;
use crate::operations::Route53Operation;
use crate::shapes::*;
use crate::store as zones;
use crate::zone::{Alias, RecordSet, Zone};

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/route53.json")))
}

/// The name servers every zone's NS record and delegation set name: m2sec's own DNS server.
pub const NAME_SERVERS: &[&str] = &["ns1.m2sec.internal.", "ns2.m2sec.internal."];

pub(crate) const CHANGE: &str = "route53.change";
pub(crate) const MAX_ITEMS: usize = 100;
pub(crate) const MAX_RECORD_ITEMS: usize = 300;

pub struct Route53 {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) authorizer: Arc<Authorizer>,
    /// Serializes read-modify-write of zones on this node.
    pub(crate) writes: tokio::sync::Mutex<()>,
    pub(crate) generation: Arc<zones::Generation>,
    /// Woken when zones or records change (ACM's job waits on it to validate at once).
    pub(crate) changed: Option<Arc<tokio::sync::Notify>>,
}

pub(crate) fn store_error(e: StoreError) -> AwsError {
    AwsError::from(Route53Error::Store(e))
}

pub(crate) fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `Z…` / `C…`: a letter and 20 upper-case hex digits, as Route53's ids look.
pub(crate) fn new_id(prefix: char) -> String {
    let uuid = m2sec_proto::random_uuid()
        .replace('-', "")
        .to_ascii_uppercase();
    format!("{prefix}{}", &uuid[..20])
}

/// `/hostedzone/Z1` or `Z1` → `Z1`.
pub(crate) fn bare_zone_id(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/")
}

/// `/change/C1` or `C1` → `C1`.
pub(crate) fn bare_change_id(id: &str) -> &str {
    id.trim_start_matches("/change/")
}

/// A page size: `MaxItems` as given (a positive number, capped at `default`), else `default`.
pub(crate) fn max_items(given: Option<&str>, default: usize) -> Result<usize, AwsError> {
    match given {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .map(|n| n.min(default))
            .ok_or_else(|| {
                AwsError::from(Route53Error::InvalidInput(format!(
                    "MaxItems must be a positive number, not '{v}'"
                )))
            }),
    }
}

/// `None`, or a value not after `other` (for Route53's "start at" pagination).
pub(crate) trait StartAt {
    fn is_none_or_le(&self, other: &str) -> bool;
}

impl StartAt for Option<&str> {
    fn is_none_or_le(&self, other: &str) -> bool {
        match self {
            None => true,
            Some(v) => *v <= other,
        }
    }
}

impl From<&Zone> for HostedZone {
    fn from(zone: &Zone) -> Self {
        HostedZone {
            id: format!("/hostedzone/{}", zone.id),
            name: zone.name.clone(),
            caller_reference: zone.caller_reference.clone(),
            config: HostedZoneConfig {
                comment: zone.comment.clone(),
                private_zone: zone.private_zone,
            },
            resource_record_set_count: zone.record_sets.len(),
        }
    }
}

impl DelegationSet {
    /// m2sec's name servers, without their trailing dots.
    pub(crate) fn m2sec() -> Self {
        DelegationSet {
            name_servers: NAME_SERVERS
                .iter()
                .map(|n| n.trim_end_matches('.'))
                .collect(),
        }
    }
}

impl From<&RecordSet> for ResourceRecordSet {
    fn from(set: &RecordSet) -> Self {
        // Route53 shows a wildcard's `*` as the escape `\052`.
        let name = match set.name.strip_prefix("*.") {
            Some(rest) => format!("\\052.{rest}"),
            None => set.name.clone(),
        };
        ResourceRecordSet {
            name,
            kind: set.kind.clone(),
            ttl: set.ttl,
            resource_records: set
                .records
                .iter()
                .map(|r| ResourceRecord { value: r.clone() })
                .collect(),
            alias_target: set.alias.as_ref().map(|a| AliasTarget {
                hosted_zone_id: a.hosted_zone_id.clone(),
                dns_name: a.dns_name.clone(),
                evaluate_target_health: a.evaluate_target_health,
            }),
            set_identifier: set.set_identifier.clone(),
            weight: set.weight,
        }
    }
}

impl From<ResourceRecordSet> for RecordSet {
    fn from(set: ResourceRecordSet) -> Self {
        RecordSet {
            name: set.name,
            kind: set.kind,
            ttl: set.ttl,
            records: set.resource_records.into_iter().map(|r| r.value).collect(),
            alias: set.alias_target.map(|a| Alias {
                hosted_zone_id: a.hosted_zone_id,
                dns_name: a.dns_name,
                evaluate_target_health: a.evaluate_target_health,
            }),
            set_identifier: set.set_identifier,
            weight: set.weight,
        }
    }
}

impl Route53 {
    pub fn new(
        store: Arc<dyn Store>,
        authorizer: Arc<Authorizer>,
        generation: Arc<zones::Generation>,
    ) -> Self {
        Route53 {
            store,
            authorizer,
            writes: tokio::sync::Mutex::new(()),
            generation,
            changed: None,
        }
    }

    /// Wakes `notify` (one permit, kept until taken) whenever ChangeResourceRecordSets,
    /// CreateHostedZone or DeleteHostedZone has been answered with success.
    pub fn notify_changes(mut self, notify: Arc<tokio::sync::Notify>) -> Self {
        self.changed = Some(notify);
        self
    }

    pub(crate) fn wake(&self) {
        if let Some(notify) = &self.changed {
            notify.notify_one();
        }
    }

    pub(crate) async fn save(
        &self,
        ctx: &RequestContext,
        zone: &Zone,
        create: bool,
    ) -> Result<(), AwsError> {
        zones::save(self.store.as_ref(), &ctx.account, zone, now_ms(), create)
            .await
            .map_err(store_error)?;
        self.generation.bump();
        Ok(())
    }

    async fn authorize(
        &self,
        ctx: &RequestContext,
        operation: &str,
        resource: &str,
    ) -> Result<(), AwsError> {
        let context = m2sec_iam::authorizer::context(ctx, &[]);
        self.authorizer
            .authorize(ctx, &format!("route53:{operation}"), resource, &context)
            .await
    }

    pub(crate) async fn zone(&self, ctx: &RequestContext, id: &str) -> Result<Zone, AwsError> {
        let id = bare_zone_id(id);
        zones::load(self.store.as_ref(), &ctx.account, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                AwsError::from(Route53Error::NoSuchHostedZone(format!(
                    "No hosted zone found with ID: {id}"
                )))
            })
    }

    /// Records a change (all of them are in sync at once) and returns its ChangeInfo.
    pub(crate) async fn change_info(
        &self,
        ctx: &RequestContext,
        comment: Option<&str>,
    ) -> Result<ChangeInfo, AwsError> {
        let id = new_id('C');
        let info = ChangeInfo {
            comment: comment.map(str::to_string),
            id: format!("/change/{id}"),
            status: "INSYNC".into(),
            submitted_at: iso(now_ms()),
        };
        self.store
            .put_document(
                &Document {
                    account: ctx.account.clone(),
                    region: String::new(),
                    kind: CHANGE.into(),
                    name: id,
                    body: serde_json::to_string(&info).expect("changes serialize"),
                    updated_at: now_ms(),
                },
                true,
            )
            .await
            .map_err(store_error)?;
        Ok(info)
    }
}

/// The members that name the resource an operation acts on, read before dispatch to authorize it.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Target {
    id: Option<String>,
    hosted_zone_id: Option<String>,
}

/// The ARN `operation` is authorized against: its hosted zone or change, else `*`.
fn resource(operation: &str, input: &Value) -> String {
    let target = Target::deserialize(input).unwrap_or_default();
    let zone_arn = |id: Option<&str>| match id {
        Some(id) => m2sec_proto::arn::route53(&format!("hostedzone/{}", bare_zone_id(id))),
        None => "*".to_string(),
    };
    match operation {
        "GetHostedZone" | "DeleteHostedZone" | "UpdateHostedZoneComment" => {
            zone_arn(target.id.as_deref())
        }
        "ChangeResourceRecordSets" | "ListResourceRecordSets" => {
            zone_arn(target.hosted_zone_id.as_deref())
        }
        "GetChange" => m2sec_proto::arn::route53(&format!(
            "change/{}",
            bare_change_id(target.id.as_deref().unwrap_or(""))
        )),
        _ => "*".to_string(),
    }
}

/// Runs a handler on its typed input and turns its typed answer into the value the protocol layer
/// writes as XML.
macro_rules! run {
    ($self:ident . $handler:ident ($ctx:ident, $input:ident)) => {
        Ok(serde_json::to_value(
            $self
                .$handler($ctx, m2sec_proto::json::from_value($input)?)
                .await?,
        )
        .expect("answers serialize"))
    };
}

#[async_trait]
impl QueryService for Route53 {
    fn model(&self) -> &ServiceModel {
        model()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let resource = resource(operation, &input);
        let op = Route53Operation::from_name(operation)
            .filter(|o| o.implemented())
            .ok_or_else(|| AwsError::unsupported("Route53", operation))?;
        self.authorize(ctx, operation, &resource).await?;
        use Route53Operation as Op;
        match op {
            Op::CreateHostedZone => run!(self.create_hosted_zone(ctx, input)),
            Op::GetHostedZone => run!(self.get_hosted_zone(ctx, input)),
            Op::ListHostedZones => run!(self.list_hosted_zones(ctx, input)),
            Op::ListHostedZonesByName => run!(self.list_hosted_zones_by_name(ctx, input)),
            Op::DeleteHostedZone => run!(self.delete_hosted_zone(ctx, input)),
            Op::GetHostedZoneCount => run!(self.get_hosted_zone_count(ctx, input)),
            Op::UpdateHostedZoneComment => run!(self.update_hosted_zone_comment(ctx, input)),
            Op::ChangeResourceRecordSets => run!(self.change_resource_record_sets(ctx, input)),
            Op::ListResourceRecordSets => run!(self.list_resource_record_sets(ctx, input)),
            Op::GetChange => run!(self.get_change(ctx, input)),
            _ => Err(AwsError::unsupported("Route53", operation)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_batch_types_into_record_sets_and_lists_back() {
        let input = json!({
            "HostedZoneId": "/hostedzone/Z1",
            "ChangeBatch": {
                "Comment": "c",
                "Changes": [
                    {"Action": "CREATE", "ResourceRecordSet": {
                        "Name": "*.example.com.", "Type": "A", "TTL": 60,
                        "SetIdentifier": "one", "Weight": 10, "Failover": "PRIMARY",
                        "ResourceRecords": [{"Value": "192.0.2.1"}, {"Value": "192.0.2.2"}]}},
                    {"Action": "UPSERT", "ResourceRecordSet": {
                        "Name": "alias.example.com.", "Type": "A",
                        "AliasTarget": {"HostedZoneId": "Z1", "DNSName": "www.example.com.",
                                        "EvaluateTargetHealth": true}}}
                ]
            }
        });
        let request: ChangeResourceRecordSetsRequest =
            m2sec_proto::json::from_value(input).unwrap();
        assert_eq!(request.hosted_zone_id, "/hostedzone/Z1");
        assert_eq!(request.change_batch.comment.as_deref(), Some("c"));
        let sets: Vec<RecordSet> = request
            .change_batch
            .changes
            .into_iter()
            .map(|c| RecordSet::from(c.resource_record_set))
            .collect();
        assert_eq!(sets[0].records, ["192.0.2.1", "192.0.2.2"]);
        assert_eq!(sets[0].ttl, Some(60));
        assert_eq!(sets[0].weight, Some(10));
        assert_eq!(sets[0].set_identifier.as_deref(), Some("one"));
        let alias = sets[1].alias.as_ref().unwrap();
        assert_eq!(alias.dns_name, "www.example.com.");
        assert!(alias.evaluate_target_health);
        assert!(sets[1].records.is_empty() && sets[1].ttl.is_none());

        let shown = |s: &RecordSet| serde_json::to_value(ResourceRecordSet::from(s)).unwrap();
        assert_eq!(
            shown(&sets[0]),
            json!({"Name": "\\052.example.com.", "Type": "A", "TTL": 60,
                   "ResourceRecords": [{"Value": "192.0.2.1"}, {"Value": "192.0.2.2"}],
                   "SetIdentifier": "one", "Weight": 10})
        );
        assert_eq!(
            shown(&sets[1]),
            json!({"Name": "alias.example.com.", "Type": "A",
                   "AliasTarget": {"HostedZoneId": "Z1", "DNSName": "www.example.com.",
                                   "EvaluateTargetHealth": true}})
        );
    }

    #[test]
    fn change_info_is_stored_as_before() {
        let info = ChangeInfo {
            comment: Some("c".into()),
            id: "/change/C1".into(),
            status: "INSYNC".into(),
            submitted_at: "2026-01-01T00:00:00.000Z".into(),
        };
        let body = serde_json::to_string(&info).unwrap();
        assert_eq!(
            body,
            r#"{"Comment":"c","Id":"/change/C1","Status":"INSYNC","SubmittedAt":"2026-01-01T00:00:00.000Z"}"#
        );
        let without = ChangeInfo {
            comment: None,
            ..info
        };
        let read: ChangeInfo =
            serde_json::from_str(&serde_json::to_string(&without).unwrap()).unwrap();
        assert!(read.comment.is_none() && read.id == "/change/C1");
    }

    #[test]
    fn the_resource_is_the_zone_or_change_named() {
        let zone = m2sec_proto::arn::route53("hostedzone/Z1");
        assert_eq!(
            resource("GetHostedZone", &json!({"Id": "/hostedzone/Z1"})),
            zone
        );
        assert_eq!(
            resource("ListResourceRecordSets", &json!({"HostedZoneId": "Z1"})),
            zone
        );
        assert_eq!(
            resource("GetChange", &json!({"Id": "/change/C1"})),
            m2sec_proto::arn::route53("change/C1")
        );
        assert_eq!(resource("ListHostedZones", &json!({})), "*");
        assert_eq!(resource("GetHostedZone", &json!({})), "*");
    }
}
