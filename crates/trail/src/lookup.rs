//! CloudTrail's API (`com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`, awsJson1.1):
//! `LookupEvents` over the trail, newest first. Every other CloudTrail operation answers
//! `UnsupportedOperationException`.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use m2sec_iam::Authorizer;
use m2sec_proto::json::{JsonService, Timestamp};
use m2sec_proto::model::ServiceModel;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::{Scope, Store, TrailQuery};

use crate::record::{index_of, Indexed};
use serde::{Deserialize, Serialize};

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL
        .get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/cloudtrail.json")))
}

pub struct CloudTrail {
    store: Arc<dyn Store>,
    authorizer: Arc<Authorizer>,
    /// This node's writer: a lookup first commits what it holds, so it sees every call answered before.
    trail: crate::Trail,
}

impl CloudTrail {
    pub fn new(store: Arc<dyn Store>, authorizer: Arc<Authorizer>, trail: crate::Trail) -> Self {
        CloudTrail {
            store,
            authorizer,
            trail,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsRequest {
    start_time: Option<f64>,
    end_time: Option<f64>,
    event_category: Option<String>,
    #[serde(default)]
    lookup_attributes: Vec<LookupAttribute>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttribute {
    attribute_key: String,
    attribute_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsResponse {
    events: Vec<Event>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    event_id: String,
    event_name: String,
    read_only: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<String>,
    event_time: Timestamp,
    event_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    resources: Vec<Resource>,
    cloud_trail_event: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    resource_type: String,
    resource_name: String,
}

/// What LookupEvents may filter on (one attribute at a time, as in AWS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailFilter {
    EventId(String),
    EventName(String),
    ReadOnly(bool),
    Username(String),
    ResourceType(String),
    ResourceName(String),
    EventSource(String),
    AccessKeyId(String),
}

impl TrailFilter {
    pub fn matches(&self, e: &Indexed) -> bool {
        match self {
            TrailFilter::EventId(v) => e.event_id == *v,
            TrailFilter::EventName(v) => e.event_name == *v,
            TrailFilter::ReadOnly(v) => e.read_only == *v,
            TrailFilter::Username(v) => e.username.as_deref() == Some(v),
            TrailFilter::ResourceType(v) => e.resources.iter().any(|(t, _)| t == v),
            TrailFilter::ResourceName(v) => e.resources.iter().any(|(_, n)| n == v),
            TrailFilter::EventSource(v) => e.event_source == *v,
            TrailFilter::AccessKeyId(v) => e.access_key_id.as_deref() == Some(v),
        }
    }
}

/// Every record of `scope` in `[start_ms, end_ms]` matching `filter`, newest first, older than
/// `before_seq` when given, at most `limit`: (seq, text, attributes).
pub async fn find(
    store: &dyn Store,
    scope: &Scope,
    start_ms: i64,
    end_ms: i64,
    filter: Option<&TrailFilter>,
    mut before_seq: Option<i64>,
    limit: usize,
) -> m2sec_store::Result<Vec<(i64, String, Indexed)>> {
    // The store selects on the event name; every other attribute is read from the record itself.
    let event_name = match filter {
        Some(TrailFilter::EventName(n)) => Some(n.clone()),
        _ => None,
    };
    // Without a filter the store's page is the answer; with one, records are read 500 at a time.
    let page = if filter.is_some() && event_name.is_none() {
        500
    } else {
        limit.clamp(1, 500) as i64
    };
    let mut found = Vec::new();
    loop {
        let rows = store
            .trail_lookup(&TrailQuery {
                scope: scope.clone(),
                start_ms,
                end_ms,
                event_name: event_name.clone(),
                before_seq,
                limit: page,
            })
            .await?;
        let complete = (rows.len() as i64) < page;
        for row in rows {
            before_seq = Some(row.seq);
            let Some(indexed) = index_of(&row.event.body) else {
                tracing::warn!(
                    seq = row.seq,
                    "a trail record is not a CloudTrail record; skipped (run `m2sec trail verify`)"
                );
                continue;
            };
            let wanted = match filter {
                None => true,
                Some(f) => f.matches(&indexed),
            };
            if wanted {
                found.push((row.seq, row.event.body, indexed));
                if found.len() >= limit {
                    return Ok(found);
                }
            }
        }
        if complete {
            return Ok(found);
        }
    }
}

fn invalid_attributes(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidLookupAttributesException", 400, message)
}

fn filter_of(attributes: &[LookupAttribute]) -> Result<Option<TrailFilter>, AwsError> {
    let attribute = match attributes {
        [] => return Ok(None),
        [one] => one,
        _ => {
            return Err(invalid_attributes(
                "You can specify only one lookup attribute per request.",
            ))
        }
    };
    let v = attribute.attribute_value.clone();
    Ok(Some(match attribute.attribute_key.as_str() {
        "EventId" => TrailFilter::EventId(v),
        "EventName" => TrailFilter::EventName(v),
        "ReadOnly" => match v.to_ascii_lowercase().as_str() {
            "true" => TrailFilter::ReadOnly(true),
            "false" => TrailFilter::ReadOnly(false),
            _ => {
                return Err(invalid_attributes(format!(
                    "The value of the ReadOnly attribute must be true or false, not '{v}'."
                )))
            }
        },
        "Username" => TrailFilter::Username(v),
        "ResourceType" => TrailFilter::ResourceType(v),
        "ResourceName" => TrailFilter::ResourceName(v),
        "EventSource" => TrailFilter::EventSource(v),
        "AccessKeyId" => TrailFilter::AccessKeyId(v),
        other => {
            return Err(invalid_attributes(format!(
                "'{other}' is not a lookup attribute."
            )))
        }
    }))
}

/// Page tokens: the seq of the last event shown, opaque to clients.
fn token_of(seq: i64) -> String {
    B64.encode(format!("seq:{seq}"))
}

fn parse_token(token: &str) -> Result<i64, AwsError> {
    let bad = || AwsError::new("InvalidNextTokenException", 400, "Invalid NextToken.");
    let text = B64.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(text).map_err(|_| bad())?;
    text.strip_prefix("seq:")
        .and_then(|s| s.parse().ok())
        .filter(|s| *s > 0)
        .ok_or_else(bad)
}

impl CloudTrail {
    async fn lookup_events(
        &self,
        ctx: &RequestContext,
        input: LookupEventsRequest,
    ) -> Result<LookupEventsResponse, AwsError> {
        let filter = filter_of(&input.lookup_attributes)?;
        if let Some(category) = &input.event_category {
            if category != "insight" {
                return Err(AwsError::new(
                    "InvalidEventCategoryException",
                    400,
                    format!("'{category}' is not an event category; the only one is 'insight'."),
                ));
            }
            // The trail holds management events only; there are no Insights events.
            return Ok(LookupEventsResponse {
                events: vec![],
                next_token: None,
            });
        }
        let max = input.max_results.unwrap_or(50);
        if !(1..=50).contains(&max) {
            return Err(AwsError::new(
                "InvalidMaxResultsException",
                400,
                "MaxResults must be between 1 and 50.",
            ));
        }
        let start_ms = input.start_time.map_or(0, |s| (s * 1000.0) as i64);
        let end_ms = input.end_time.map_or(i64::MAX, |s| (s * 1000.0) as i64);
        if start_ms > end_ms {
            return Err(AwsError::new(
                "InvalidTimeRangeException",
                400,
                "The start time must be before the end time.",
            ));
        }
        let before = input.next_token.as_deref().map(parse_token).transpose()?;
        // A failing trail holds nothing newer that could be read.
        let _ = self.trail.commit_pending().await;
        let mut found = find(
            self.store.as_ref(),
            &Scope::new(ctx.account.clone(), ctx.region.clone()),
            start_ms,
            // Times are kept to the millisecond; an end time in whole seconds includes its second.
            end_ms.saturating_add(999),
            filter.as_ref(),
            before,
            max as usize + 1,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "trail lookup failed");
            AwsError::internal("CloudTrailException", 500)
        })?;
        let next_token = if found.len() as i64 > max {
            found.truncate(max as usize);
            found.last().map(|(seq, _, _)| token_of(*seq))
        } else {
            None
        };
        let events = found
            .into_iter()
            .map(|(_, body, e)| Event {
                resources: e
                    .resources
                    .into_iter()
                    .map(|(resource_type, resource_name)| Resource {
                        resource_type,
                        resource_name,
                    })
                    .collect(),
                event_id: e.event_id,
                event_name: e.event_name,
                read_only: if e.read_only { "true" } else { "false" },
                access_key_id: e.access_key_id,
                event_time: Timestamp(e.event_time),
                event_source: e.event_source,
                username: e.username,
                cloud_trail_event: body,
            })
            .collect();
        Ok(LookupEventsResponse { events, next_token })
    }
}

use m2sec_proto::run_json as run;

#[async_trait]
impl JsonService for CloudTrail {
    fn model(&self) -> &ServiceModel {
        model()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: serde_json::Value,
    ) -> Result<Vec<u8>, AwsError> {
        use crate::operations::CloudTrailOperation as Op;
        match Op::from_name(operation).filter(|o| o.implemented()) {
            Some(op @ Op::LookupEvents) => {
                let context = m2sec_iam::authorizer::context(ctx, &[]);
                self.authorizer
                    .authorize(ctx, &op.action(), "*", &context)
                    .await?;
                run!(self.lookup_events(ctx, input))
            }
            _ => Err(AwsError::unsupported("CloudTrail", operation)),
        }
    }

    fn validation_error(&self, operation: &str, error: AwsError) -> AwsError {
        if operation != "LookupEvents" {
            return error;
        }
        // CloudTrail names the failure after the member that failed (MaxResults first, then the
        // lookup attributes, then the event category).
        let failed = |f: &dyn Fn(&str) -> bool| error.members.iter().any(|m| f(m));
        let code = if failed(&|m| m == "maxResults") {
            return AwsError::new(
                "InvalidMaxResultsException",
                400,
                "MaxResults must be between 1 and 50.",
            );
        } else if failed(&|m| m.starts_with("lookupAttributes")) {
            "InvalidLookupAttributesException"
        } else if failed(&|m| m == "eventCategory") {
            "InvalidEventCategoryException"
        } else {
            return error;
        };
        AwsError::new(code, 400, error.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        assert_eq!(parse_token(&token_of(42)).unwrap(), 42);
        for bad in ["nope!", "", "c2VxOg", "c2VxOi0x"] {
            assert_eq!(
                parse_token(bad).unwrap_err().code,
                "InvalidNextTokenException",
                "{bad}"
            );
        }
    }

    #[test]
    fn one_attribute_at_most() {
        let a = |k: &str, v: &str| LookupAttribute {
            attribute_key: k.into(),
            attribute_value: v.into(),
        };
        assert_eq!(
            filter_of(&[a("ReadOnly", "TRUE")]).unwrap(),
            Some(TrailFilter::ReadOnly(true))
        );
        assert!(filter_of(&[a("EventName", "Decrypt"), a("Username", "root")]).is_err());
        assert!(filter_of(&[a("ReadOnly", "maybe")]).is_err());
    }
}
