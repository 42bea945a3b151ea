//! The Route53 API (botocore's `route53` model, restXml on the wire): hosted zones, record sets and
//! changes. Services get and return JSON values shaped like the model's input and output; the protocol
//! layer turns them into Route53's XML. Changes take effect at once (`INSYNC`).

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use m2sec_iam::Authorizer;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::query_service::QueryService;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::{Document, Store, StoreError};
use serde_json::{json, Value};

use crate::names::normalize;
use crate::store as zones;
use crate::zone::{Action, Alias, Change, RecordSet, Zone};

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/route53.json")))
}

/// The name servers every zone's NS record and delegation set name: m2sec's own DNS server.
pub const NAME_SERVERS: &[&str] = &["ns1.m2sec.internal.", "ns2.m2sec.internal."];

const CHANGE: &str = "route53.change";
const MAX_ITEMS: usize = 100;
const MAX_RECORD_ITEMS: usize = 300;

pub struct Route53 {
    store: Arc<dyn Store>,
    authorizer: Arc<Authorizer>,
    /// Serializes read-modify-write of zones on this node.
    writes: tokio::sync::Mutex<()>,
    generation: Arc<zones::Generation>,
    /// Woken when zones or records change (ACM's job waits on it to validate at once).
    changed: Option<Arc<tokio::sync::Notify>>,
}

fn store_error(e: StoreError) -> AwsError {
    AwsError::from(Route53Error::Store(e))
}

use m2sec_store::now_ms;

use crate::error::Route53Error;
use crate::operations::Route53Operation;

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `Z…` / `C…`: a letter and 20 upper-case hex digits, as Route53's ids look.
fn new_id(prefix: char) -> String {
    let uuid = m2sec_proto::random_uuid()
        .replace('-', "")
        .to_ascii_uppercase();
    format!("{prefix}{}", &uuid[..20])
}

/// `/hostedzone/Z1` or `Z1` → `Z1`.
fn bare_zone_id(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/")
}

fn text<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

fn max_items(input: &Value, default: usize) -> Result<usize, AwsError> {
    match text(input, "MaxItems") {
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

fn display_name(name: &str) -> &str {
    name
}

fn zone_view(zone: &Zone) -> Value {
    let mut config = json!({ "PrivateZone": zone.private_zone });
    if let Some(c) = &zone.comment {
        config["Comment"] = json!(c);
    }
    json!({
        "Id": format!("/hostedzone/{}", zone.id),
        "Name": display_name(&zone.name),
        "CallerReference": zone.caller_reference,
        "Config": config,
        "ResourceRecordSetCount": zone.record_sets.len(),
    })
}

fn delegation_set() -> Value {
    json!({ "NameServers": NAME_SERVERS.iter().map(|n| n.trim_end_matches('.')).collect::<Vec<_>>() })
}

fn record_set_view(set: &RecordSet) -> Value {
    // Route53 shows a wildcard's `*` as the escape `\052`.
    let name = match set.name.strip_prefix("*.") {
        Some(rest) => format!("\\052.{rest}"),
        None => set.name.clone(),
    };
    let mut v = json!({ "Name": name, "Type": set.kind });
    if let Some(ttl) = set.ttl {
        v["TTL"] = json!(ttl);
    }
    if !set.records.is_empty() {
        v["ResourceRecords"] =
            Value::Array(set.records.iter().map(|r| json!({ "Value": r })).collect());
    }
    if let Some(alias) = &set.alias {
        v["AliasTarget"] = json!({
            "HostedZoneId": alias.hosted_zone_id,
            "DNSName": alias.dns_name,
            "EvaluateTargetHealth": alias.evaluate_target_health,
        });
    }
    if let Some(id) = &set.set_identifier {
        v["SetIdentifier"] = json!(id);
    }
    if let Some(w) = set.weight {
        v["Weight"] = json!(w);
    }
    v
}

fn record_set_of(v: &Value) -> Result<RecordSet, AwsError> {
    let records = v
        .get("ResourceRecords")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|r| r.get("Value").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let alias = v.get("AliasTarget").map(|a| Alias {
        hosted_zone_id: text(a, "HostedZoneId").unwrap_or("").to_string(),
        dns_name: text(a, "DNSName").unwrap_or("").to_string(),
        evaluate_target_health: a
            .get("EvaluateTargetHealth")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    });
    Ok(RecordSet {
        name: text(v, "Name").unwrap_or("").to_string(),
        kind: text(v, "Type").unwrap_or("").to_string(),
        ttl: v.get("TTL").and_then(Value::as_i64),
        records,
        alias,
        set_identifier: text(v, "SetIdentifier").map(str::to_string),
        weight: v.get("Weight").and_then(Value::as_i64),
    })
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

    fn wake(&self) {
        if let Some(notify) = &self.changed {
            notify.notify_one();
        }
    }

    async fn save(&self, ctx: &RequestContext, zone: &Zone, create: bool) -> Result<(), AwsError> {
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

    async fn zone(&self, ctx: &RequestContext, id: &str) -> Result<Zone, AwsError> {
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
    async fn change_info(
        &self,
        ctx: &RequestContext,
        comment: Option<&str>,
    ) -> Result<Value, AwsError> {
        let id = new_id('C');
        let submitted = iso(now_ms());
        let mut info =
            json!({ "Id": format!("/change/{id}"), "Status": "INSYNC", "SubmittedAt": submitted });
        if let Some(c) = comment {
            info["Comment"] = json!(c);
        }
        self.store
            .put_document(
                &Document {
                    account: ctx.account.clone(),
                    region: String::new(),
                    kind: CHANGE.into(),
                    name: id,
                    body: info.to_string(),
                    updated_at: now_ms(),
                },
                true,
            )
            .await
            .map_err(store_error)?;
        Ok(info)
    }

    async fn create_hosted_zone(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let name = normalize(text(&input, "Name").unwrap_or(""))
            .map_err(|e| AwsError::from(Route53Error::InvalidDomainName(e)))?;
        if name == "." {
            return Err(AwsError::from(Route53Error::InvalidDomainName(
                "The root zone cannot be created".into(),
            )));
        }
        let reference = text(&input, "CallerReference").unwrap_or("").to_string();
        let config = input.get("HostedZoneConfig");
        let private = config
            .and_then(|c| c.get("PrivateZone"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
            || input.get("VPC").is_some();
        let _guard = self.writes.lock().await;
        let existing = zones::list(self.store.as_ref(), &ctx.account)
            .await
            .map_err(store_error)?;
        if let Some(z) = existing.iter().find(|z| z.caller_reference == reference) {
            return Err(AwsError::from(Route53Error::HostedZoneAlreadyExists(format!("A hosted zone has already been created with the specified caller reference ({}: {})", z.id, z.name))));
        }
        let servers: Vec<String> = NAME_SERVERS.iter().map(|s| s.to_string()).collect();
        let zone = Zone::new(
            &new_id('Z'),
            &name,
            &reference,
            config.and_then(|c| text(c, "Comment")).map(str::to_string),
            private,
            now_ms(),
            &servers,
        );
        self.save(ctx, &zone, true).await?;
        let change = self.change_info(ctx, None).await?;
        self.wake();
        Ok(json!({
            "HostedZone": zone_view(&zone),
            "ChangeInfo": change,
            "DelegationSet": delegation_set(),
            "Location": format!("https://route53.amazonaws.com/2013-04-01/hostedzone/{}", zone.id),
        }))
    }

    async fn get_hosted_zone(&self, ctx: &RequestContext, input: Value) -> Result<Value, AwsError> {
        let zone = self.zone(ctx, text(&input, "Id").unwrap_or("")).await?;
        Ok(json!({ "HostedZone": zone_view(&zone), "DelegationSet": delegation_set() }))
    }

    async fn list_hosted_zones(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let max = max_items(&input, MAX_ITEMS)?;
        let all = zones::list(self.store.as_ref(), &ctx.account)
            .await
            .map_err(store_error)?;
        let marker = text(&input, "Marker").map(bare_zone_id);
        let start = match marker {
            Some(m) => all.iter().position(|z| z.id.as_str() == m).ok_or_else(|| {
                AwsError::from(Route53Error::InvalidInput(format!(
                    "The marker {m} is not a hosted zone id"
                )))
            })?,
            None => 0,
        };
        let page: Vec<&Zone> = all.iter().skip(start).take(max).collect();
        let next = all.get(start + page.len());
        let mut out = json!({
            "HostedZones": page.iter().map(|z| zone_view(z)).collect::<Vec<_>>(),
            "Marker": marker.unwrap_or(""),
            "IsTruncated": next.is_some(),
            "MaxItems": max.to_string(),
        });
        if let Some(n) = next {
            out["NextMarker"] = json!(n.id);
        }
        Ok(out)
    }

    async fn list_hosted_zones_by_name(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let max = max_items(&input, MAX_ITEMS)?;
        let mut all = zones::list(self.store.as_ref(), &ctx.account)
            .await
            .map_err(store_error)?;
        all.sort_by(|a, b| {
            (crate::names::sort_key(&a.name), &a.id).cmp(&(crate::names::sort_key(&b.name), &b.id))
        });
        let from = match text(&input, "DNSName") {
            Some(n) => {
                Some(normalize(n).map_err(|e| AwsError::from(Route53Error::InvalidDomainName(e)))?)
            }
            None => None,
        };
        let from_id = text(&input, "HostedZoneId").map(bare_zone_id);
        let start = match &from {
            Some(name) => {
                let key = crate::names::sort_key(name);
                all.iter()
                    .position(|z| {
                        let k = crate::names::sort_key(&z.name);
                        k > key || (k == key && from_id.is_none_or_le(&z.id))
                    })
                    .unwrap_or(all.len())
            }
            None => 0,
        };
        let page: Vec<&Zone> = all.iter().skip(start).take(max).collect();
        let next = all.get(start + page.len());
        let mut out = json!({
            "HostedZones": page.iter().map(|z| zone_view(z)).collect::<Vec<_>>(),
            "IsTruncated": next.is_some(),
            "MaxItems": max.to_string(),
        });
        if let Some(name) = &from {
            out["DNSName"] = json!(name);
        }
        if let Some(id) = from_id {
            out["HostedZoneId"] = json!(id);
        }
        if let Some(n) = next {
            out["NextDNSName"] = json!(n.name);
            out["NextHostedZoneId"] = json!(n.id);
        }
        Ok(out)
    }

    async fn delete_hosted_zone(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let _guard = self.writes.lock().await;
        let zone = self.zone(ctx, text(&input, "Id").unwrap_or("")).await?;
        let apex_only = zone
            .record_sets
            .iter()
            .all(|s| s.name == zone.name && (s.kind == "SOA" || s.kind == "NS"));
        if !apex_only {
            return Err(AwsError::from(Route53Error::HostedZoneNotEmpty("The specified hosted zone contains non-required resource record sets and so cannot be deleted.".into())));
        }
        zones::delete(self.store.as_ref(), &ctx.account, &zone.id)
            .await
            .map_err(store_error)?;
        self.generation.bump();
        let change = self.change_info(ctx, None).await?;
        self.wake();
        Ok(json!({ "ChangeInfo": change }))
    }

    async fn change_resource_record_sets(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let batch = input.get("ChangeBatch").cloned().unwrap_or(Value::Null);
        let mut changes = Vec::new();
        for c in batch
            .get("Changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let action = text(c, "Action").and_then(Action::parse).ok_or_else(|| {
                AwsError::from(Route53Error::InvalidInput(
                    "Action must be CREATE, DELETE or UPSERT".into(),
                ))
            })?;
            let set = record_set_of(c.get("ResourceRecordSet").unwrap_or(&Value::Null))?;
            changes.push(Change { action, set });
        }
        let _guard = self.writes.lock().await;
        let mut zone = self
            .zone(ctx, text(&input, "HostedZoneId").unwrap_or(""))
            .await?;
        zone.apply(&changes).map_err(|problems| {
            AwsError::from(Route53Error::InvalidChangeBatch(format!(
                "[{}]",
                problems.join(", ")
            )))
        })?;
        self.save(ctx, &zone, false).await?;
        let change = self.change_info(ctx, text(&batch, "Comment")).await?;
        self.wake();
        Ok(json!({ "ChangeInfo": change }))
    }

    async fn list_resource_record_sets(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let max = max_items(&input, MAX_RECORD_ITEMS)?;
        let zone = self
            .zone(ctx, text(&input, "HostedZoneId").unwrap_or(""))
            .await?;
        let sets = zone.sorted();
        let start = match text(&input, "StartRecordName") {
            Some(name) => {
                let name =
                    normalize(name).map_err(|e| AwsError::from(Route53Error::InvalidInput(e)))?;
                let key = crate::names::sort_key(&name);
                let kind = text(&input, "StartRecordType");
                sets.iter()
                    .position(|s| {
                        let k = crate::names::sort_key(&s.name);
                        k > key || (k == key && kind.is_none_or_le(&s.kind))
                    })
                    .unwrap_or(sets.len())
            }
            None => {
                if text(&input, "StartRecordType").is_some() {
                    return Err(AwsError::from(Route53Error::InvalidInput(
                        "StartRecordType requires StartRecordName".into(),
                    )));
                }
                0
            }
        };
        let page: Vec<&RecordSet> = sets.iter().skip(start).take(max).copied().collect();
        let next = sets.get(start + page.len());
        let mut out = json!({
            "ResourceRecordSets": page.iter().map(|s| record_set_view(s)).collect::<Vec<_>>(),
            "IsTruncated": next.is_some(),
            "MaxItems": max.to_string(),
        });
        if let Some(n) = next {
            out["NextRecordName"] = json!(n.name);
            out["NextRecordType"] = json!(n.kind);
        }
        Ok(out)
    }

    async fn get_change(&self, ctx: &RequestContext, input: Value) -> Result<Value, AwsError> {
        let id = text(&input, "Id")
            .unwrap_or("")
            .trim_start_matches("/change/");
        let doc = self
            .store
            .get_document(&ctx.account, "", CHANGE, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                AwsError::from(Route53Error::NoSuchChange(format!(
                    "A change with the specified change ID does not exist: {id}"
                )))
            })?;
        let info: Value = serde_json::from_str(&doc.body)
            .map_err(|e| store_error(StoreError::Corrupt(e.to_string())))?;
        Ok(json!({ "ChangeInfo": info }))
    }

    async fn get_hosted_zone_count(&self, ctx: &RequestContext) -> Result<Value, AwsError> {
        let all = zones::list(self.store.as_ref(), &ctx.account)
            .await
            .map_err(store_error)?;
        Ok(json!({ "HostedZoneCount": all.len() }))
    }

    async fn update_hosted_zone_comment(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let _guard = self.writes.lock().await;
        let mut zone = self.zone(ctx, text(&input, "Id").unwrap_or("")).await?;
        zone.comment = text(&input, "Comment").map(str::to_string);
        self.save(ctx, &zone, false).await?;
        Ok(json!({ "HostedZone": zone_view(&zone) }))
    }
}

/// `None`, or a value not after `other` (for Route53's "start at" pagination).
trait StartAt {
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
        let zone_arn = |id: Option<&str>| match id {
            Some(id) => m2sec_proto::arn::route53(&format!("hostedzone/{}", bare_zone_id(id))),
            None => "*".to_string(),
        };
        let resource = match operation {
            "GetHostedZone" | "DeleteHostedZone" | "UpdateHostedZoneComment" => {
                zone_arn(text(&input, "Id"))
            }
            "ChangeResourceRecordSets" | "ListResourceRecordSets" => {
                zone_arn(text(&input, "HostedZoneId"))
            }
            "GetChange" => m2sec_proto::arn::route53(&format!(
                "change/{}",
                text(&input, "Id")
                    .unwrap_or("")
                    .trim_start_matches("/change/")
            )),
            _ => "*".to_string(),
        };
        let op = Route53Operation::from_name(operation)
            .filter(|o| o.implemented())
            .ok_or_else(|| AwsError::unsupported("Route53", operation))?;
        self.authorize(ctx, operation, &resource).await?;
        use Route53Operation as Op;
        match op {
            Op::CreateHostedZone => self.create_hosted_zone(ctx, input).await,
            Op::GetHostedZone => self.get_hosted_zone(ctx, input).await,
            Op::ListHostedZones => self.list_hosted_zones(ctx, input).await,
            Op::ListHostedZonesByName => self.list_hosted_zones_by_name(ctx, input).await,
            Op::DeleteHostedZone => self.delete_hosted_zone(ctx, input).await,
            Op::ChangeResourceRecordSets => self.change_resource_record_sets(ctx, input).await,
            Op::ListResourceRecordSets => self.list_resource_record_sets(ctx, input).await,
            Op::GetChange => self.get_change(ctx, input).await,
            Op::GetHostedZoneCount => self.get_hosted_zone_count(ctx).await,
            Op::UpdateHostedZoneComment => self.update_hosted_zone_comment(ctx, input).await,
            _ => Err(AwsError::unsupported("Route53", operation)),
        }
    }
}
