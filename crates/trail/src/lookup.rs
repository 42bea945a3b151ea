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
use m2sec_store::{Scope, Store, TrailFilter, TrailQuery, TrailRow};
use serde::{Deserialize, Serialize};

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL
        .get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/cloudtrail.json")))
}

pub struct CloudTrail {
    store: Arc<dyn Store>,
    authorizer: Arc<Authorizer>,
}

impl CloudTrail {
    pub fn new(store: Arc<dyn Store>, authorizer: Arc<Authorizer>) -> Self {
        CloudTrail { store, authorizer }
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

/// Page tokens: the (time, seq) of the last event shown, opaque to clients.
fn token_of(row: &TrailRow) -> String {
    B64.encode(format!("{}:{}", row.event_time, row.seq))
}

fn parse_token(token: &str) -> Result<(i64, i64), AwsError> {
    let bad = || AwsError::new("InvalidNextTokenException", 400, "Invalid NextToken.");
    let text = B64.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(text).map_err(|_| bad())?;
    let (time, seq) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        time.parse().map_err(|_| bad())?,
        seq.parse().map_err(|_| bad())?,
    ))
}

/// The resources column's `(type, name)` pairs.
fn resources_of(column: &str) -> Vec<Resource> {
    column
        .split('\n')
        .filter_map(|line| line.split_once('\t'))
        .map(|(kind, name)| Resource {
            resource_type: kind.to_string(),
            resource_name: name.to_string(),
        })
        .collect()
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
        let mut rows = self
            .store
            .trail_lookup(&TrailQuery {
                scope: Scope::new(ctx.account.clone(), ctx.region.clone()),
                start_ms,
                // Times are kept to the millisecond; an end time in whole seconds includes its second.
                end_ms: end_ms.saturating_add(999),
                filter,
                before,
                limit: max + 1,
            })
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "trail lookup failed");
                AwsError::internal("CloudTrailException", 500)
            })?;
        let next_token = if rows.len() as i64 > max {
            rows.truncate(max as usize);
            rows.last().map(token_of)
        } else {
            None
        };
        let events = rows
            .into_iter()
            .map(|row| Event {
                resources: resources_of(&row.resources),
                event_id: row.event_id,
                event_name: row.event_name,
                read_only: if row.read_only { "true" } else { "false" },
                access_key_id: row.access_key_id,
                event_time: Timestamp(row.event_time / 1000 * 1000),
                event_source: row.event_source,
                username: row.username,
                cloud_trail_event: row.body,
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
        match operation {
            "LookupEvents" => {
                let context = m2sec_iam::authorizer::context(ctx, &[]);
                self.authorizer
                    .authorize(ctx, "cloudtrail:LookupEvents", "*", &context)
                    .await?;
                run!(self.lookup_events(ctx, input))
            }
            other => Err(AwsError::unsupported("CloudTrail", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let row = TrailRow {
            seq: 42,
            account: String::new(),
            region: String::new(),
            event_time: 1_764_000_000_123,
            event_id: String::new(),
            event_name: String::new(),
            event_source: String::new(),
            read_only: true,
            username: None,
            access_key_id: None,
            resources: "\n".into(),
            body: String::new(),
            prev_hash: String::new(),
            hash: String::new(),
        };
        assert_eq!(
            parse_token(&token_of(&row)).unwrap(),
            (1_764_000_000_123, 42)
        );
        assert_eq!(
            parse_token("nope!").unwrap_err().code,
            "InvalidNextTokenException"
        );
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
        let r = resources_of("\nAWS::KMS::Key\tarn:a\nAWS::SSM::Parameter\tarn:b\n");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].resource_name, "arn:b");
    }
}
