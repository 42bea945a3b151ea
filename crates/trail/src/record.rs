//! One CloudTrail record per call, in CloudTrail's format (`eventVersion` 1.09), plus the columns
//! lookups filter on. [`index_of`] derives those columns back from a stored record, which is how
//! `trail verify` notices an edited column.

use m2sec_proto::{AwsError, Caller, RequestContext};
use m2sec_store::NewTrailEvent;
use serde::Serialize;
use serde_json::Value;

pub const EVENT_VERSION: &str = "1.09";

/// Who acted, as CloudTrail's `userIdentity`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'a str>,
    account_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_context: Option<SessionContext<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoked_by: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    session_issuer: SessionIssuer<'a>,
    attributes: SessionAttributes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionIssuer<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    arn: &'a str,
    account_id: &'a str,
    user_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionAttributes {
    mfa_authenticated: &'static str,
}

#[derive(Serialize)]
struct ResourceRef<'a> {
    #[serde(rename = "accountId")]
    account_id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(rename = "ARN")]
    arn: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    event_version: &'static str,
    user_identity: UserIdentity<'a>,
    event_time: &'a str,
    event_source: &'a str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    user_agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    request_parameters: Option<&'a Value>,
    response_elements: Option<&'a Value>,
    #[serde(rename = "requestID", skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<ResourceRef<'a>>,
    event_type: &'static str,
    management_event: bool,
    recipient_account_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_event_details: Option<&'a Value>,
    event_category: &'static str,
}

/// What a call did, as the HTTP layer (or a service calling another) saw it.
pub struct Call<'a> {
    pub ctx: &'a RequestContext,
    /// `kms.amazonaws.com`.
    pub event_source: &'a str,
    pub event_name: &'a str,
    /// The region the event belongs to (IAM's are global: `us-east-1`).
    pub region: &'a str,
    pub request_parameters: Option<Value>,
    pub response_elements: Option<Value>,
    pub error: Option<&'a AwsError>,
    /// Set when an AWS service made the call for the caller (`ssm.amazonaws.com`).
    pub invoked_by: Option<&'a str>,
    /// Resources in addition to those the context noted (the only ones when `invoked_by` is set).
    pub resources: Vec<(&'static str, String)>,
}

/// An action of m2sec's own (automatic rotation, deletion at the end of a window).
pub struct ServiceEvent<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub resources: Vec<(&'static str, String)>,
    pub details: Option<Value>,
}

/// CloudTrail's `readOnly`: whether the operation only reads (KMS's cryptographic operations count as
/// reads, as in CloudTrail).
pub fn is_read_only(operation: &str) -> bool {
    const READS: &[&str] = &[
        "Describe",
        "List",
        "Get",
        "Lookup",
        "Search",
        "Encrypt",
        "Decrypt",
        "ReEncrypt",
        "GenerateDataKey",
        "GenerateMac",
        "GenerateRandom",
        "Verify",
        "Sign",
        "DeriveSharedSecret",
    ];
    READS.iter().any(|p| operation.starts_with(p))
}

/// `2026-11-28T17:00:00Z`, CloudTrail's `eventTime` (whole seconds).
pub fn event_time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The record's JSON, written into a buffer sized for a typical record (no regrowing on the way).
fn to_text(record: &Record<'_>) -> String {
    let mut out = Vec::with_capacity(1536);
    serde_json::to_writer(&mut out, record).expect("records serialize");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The record of a call, ready to append.
pub fn call_event(call: &Call<'_>) -> NewTrailEvent {
    let ctx = call.ctx;
    let time = now_ms();
    let time_text = event_time_text(time);
    let id = m2sec_proto::random_uuid();
    // A call made by a service for the caller has only its own resources, not the outer call's.
    let touched = if call.invoked_by.is_some() {
        Vec::new()
    } else {
        ctx.touched()
    };
    let resources: Vec<(&str, &str)> = touched
        .iter()
        .map(|r| (r.kind, r.arn.as_str()))
        .chain(call.resources.iter().map(|(k, a)| (*k, a.as_str())))
        .collect();
    let (kind, user_name, session_context, principal_id) = match &ctx.caller {
        Caller::Root => (Some("Root"), None, None, Some(ctx.account.as_str())),
        Caller::User { name } => (Some("IAMUser"), Some(name.as_str()), None, None),
        Caller::Role {
            role_arn,
            role_name,
            ..
        } => (
            Some("AssumedRole"),
            None,
            Some(SessionContext {
                session_issuer: SessionIssuer {
                    kind: "Role",
                    arn: role_arn,
                    account_id: &ctx.account,
                    user_name: role_name,
                },
                attributes: SessionAttributes {
                    mfa_authenticated: "false",
                },
            }),
            None,
        ),
    };
    let read_only = is_read_only(call.event_name);
    let source_ip = match call.invoked_by {
        Some(service) => service,
        None => ctx.source_ip.as_deref().unwrap_or("127.0.0.1"),
    };
    let user_agent = match call.invoked_by {
        Some(service) => service,
        None => ctx.user_agent.as_deref().unwrap_or(""),
    };
    let record = Record {
        event_version: EVENT_VERSION,
        user_identity: UserIdentity {
            kind,
            principal_id,
            arn: Some(&ctx.principal_arn),
            account_id: &ctx.account,
            access_key_id: Some(&ctx.access_key_id),
            user_name,
            session_context,
            invoked_by: call.invoked_by,
        },
        event_time: &time_text,
        event_source: call.event_source,
        event_name: call.event_name,
        aws_region: call.region,
        source_ip_address: source_ip,
        user_agent,
        error_code: call.error.map(|e| e.code.as_ref()),
        error_message: call.error.map(|e| e.message.as_str()),
        request_parameters: call.request_parameters.as_ref(),
        response_elements: call.response_elements.as_ref(),
        request_id: Some(&ctx.request_id),
        event_id: &id,
        read_only,
        resources: resources
            .iter()
            .map(|(kind, arn)| ResourceRef {
                account_id: &ctx.account,
                kind,
                arn,
            })
            .collect(),
        event_type: "AwsApiCall",
        management_event: true,
        recipient_account_id: &ctx.account,
        service_event_details: None,
        event_category: "Management",
    };
    NewTrailEvent {
        account: ctx.account.clone(),
        region: call.region.to_string(),
        event_time: time,
        event_source: call.event_source.to_string(),
        event_name: call.event_name.to_string(),
        read_only,
        service_event: false,
        body: to_text(&record),
    }
}

/// The record of one of m2sec's own actions (`eventType` `AwsServiceEvent`).
pub fn service_event(event: &ServiceEvent<'_>) -> NewTrailEvent {
    let time = now_ms();
    let time_text = event_time_text(time);
    let id = m2sec_proto::random_uuid();
    let read_only = is_read_only(event.event_name);
    let record = Record {
        event_version: EVENT_VERSION,
        user_identity: UserIdentity {
            kind: None,
            principal_id: None,
            arn: None,
            account_id: event.account,
            access_key_id: None,
            user_name: None,
            session_context: None,
            invoked_by: Some(event.event_source),
        },
        event_time: &time_text,
        event_source: event.event_source,
        event_name: event.event_name,
        aws_region: event.region,
        source_ip_address: event.event_source,
        user_agent: event.event_source,
        error_code: None,
        error_message: None,
        request_parameters: None,
        response_elements: None,
        request_id: None,
        event_id: &id,
        read_only,
        resources: event
            .resources
            .iter()
            .map(|(kind, arn)| ResourceRef {
                account_id: event.account,
                kind,
                arn,
            })
            .collect(),
        event_type: "AwsServiceEvent",
        management_event: true,
        recipient_account_id: event.account,
        service_event_details: event.details.as_ref(),
        event_category: "Management",
    };
    NewTrailEvent {
        account: event.account.to_string(),
        region: event.region.to_string(),
        event_time: time,
        event_source: event.event_source.to_string(),
        event_name: event.event_name.to_string(),
        read_only,
        service_event: true,
        body: to_text(&record),
    }
}

/// What LookupEvents shows of a record and filters on, derived from the record's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed {
    pub account: String,
    pub region: String,
    /// Unix milliseconds, whole seconds (the record keeps seconds).
    pub event_time: i64,
    pub event_id: String,
    pub event_name: String,
    pub event_source: String,
    pub read_only: bool,
    pub service_event: bool,
    /// `root`, the IAM user's name or the role session's name.
    pub username: Option<String>,
    pub access_key_id: Option<String>,
    /// (type, ARN) of each resource.
    pub resources: Vec<(String, String)>,
}

impl Indexed {
    /// Whether `stored` (a row's columns) says what the record's text says.
    pub fn agrees_with(&self, stored: &NewTrailEvent) -> Result<(), &'static str> {
        let checks = [
            (self.account == stored.account, "account"),
            (self.region == stored.region, "region"),
            (
                self.event_time == stored.event_time / 1000 * 1000,
                "event_time",
            ),
            (self.event_source == stored.event_source, "event_source"),
            (self.event_name == stored.event_name, "event_name"),
            (
                self.read_only == stored.read_only && self.service_event == stored.service_event,
                "flags",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, column)) => Err(column),
            None => Ok(()),
        }
    }
}

/// The attributes of a stored record, from its text; `None` if it is not a CloudTrail record.
pub fn index_of(body: &str) -> Option<Indexed> {
    let v: Value = serde_json::from_str(body).ok()?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let identity = v.get("userIdentity")?;
    let username = match identity.get("type").and_then(Value::as_str) {
        Some("Root") => Some("root".to_string()),
        Some("IAMUser") => identity
            .get("userName")
            .and_then(Value::as_str)
            .map(str::to_string),
        Some("AssumedRole") => identity
            .get("arn")
            .and_then(Value::as_str)
            .and_then(|a| a.rsplit('/').next())
            .map(str::to_string),
        _ => None,
    };
    let time = chrono::DateTime::parse_from_rfc3339(&text("eventTime")?)
        .ok()?
        .timestamp_millis();
    let resources = v
        .get("resources")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|r| {
                    Some((
                        r.get("type")?.as_str()?.to_string(),
                        r.get("ARN")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Indexed {
        account: text("recipientAccountId")?,
        region: text("awsRegion")?,
        event_time: time,
        event_id: text("eventID")?,
        event_name: text("eventName")?,
        event_source: text("eventSource")?,
        read_only: v.get("readOnly")?.as_bool()?,
        service_event: text("eventType").as_deref() == Some("AwsServiceEvent"),
        username,
        access_key_id: identity
            .get("accessKeyId")
            .and_then(Value::as_str)
            .map(str::to_string),
        resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(caller: Caller) -> RequestContext {
        RequestContext {
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            principal_arn: match &caller {
                Caller::Root => "arn:aws:iam::111122223333:root".into(),
                Caller::User { name } => format!("arn:aws:iam::111122223333:user/{name}"),
                Caller::Role {
                    role_name,
                    session_name,
                    ..
                } => format!("arn:aws:sts::111122223333:assumed-role/{role_name}/{session_name}"),
            },
            access_key_id: "AKIAEXAMPLE".into(),
            request_id: "req-1".into(),
            caller,
            operation: "Encrypt".into(),
            source_ip: Some("10.0.0.7".into()),
            user_agent: Some("aws-cli/2".into()),
            resources: Default::default(),
        }
    }

    #[test]
    fn columns_derive_back_from_the_record() {
        for caller in [
            Caller::Root,
            Caller::User {
                name: "alice".into(),
            },
            Caller::Role {
                role_arn: "arn:aws:iam::111122223333:role/gates".into(),
                role_name: "gates".into(),
                session_name: "lambda-1".into(),
            },
        ] {
            let ctx = ctx(caller);
            ctx.touch("AWS::KMS::Key", "arn:aws:kms:eu-west-1:111122223333:key/k1");
            let event = call_event(&Call {
                ctx: &ctx,
                event_source: "kms.amazonaws.com",
                event_name: "Encrypt",
                region: "eu-west-1",
                request_parameters: Some(serde_json::json!({"keyId": "alias/x"})),
                response_elements: None,
                error: None,
                invoked_by: None,
                resources: vec![],
            });
            let derived = index_of(&event.body).expect("record parses");
            assert_eq!(derived.agrees_with(&event), Ok(()));
            assert_eq!(derived.access_key_id.as_deref(), Some("AKIAEXAMPLE"));
            assert_eq!(
                derived.resources,
                vec![(
                    "AWS::KMS::Key".to_string(),
                    "arn:aws:kms:eu-west-1:111122223333:key/k1".to_string()
                )]
            );
            let expected_user = match &ctx.caller {
                Caller::Root => "root",
                Caller::User { name } => name,
                Caller::Role { session_name, .. } => session_name,
            };
            assert_eq!(derived.username.as_deref(), Some(expected_user));
        }
        let event = service_event(&ServiceEvent {
            account: "111122223333",
            region: "eu-west-1",
            event_source: "kms.amazonaws.com",
            event_name: "RotateKey",
            resources: vec![("AWS::KMS::Key", "arn:k".into())],
            details: None,
        });
        let derived = index_of(&event.body).unwrap();
        assert_eq!(derived.agrees_with(&event), Ok(()));
        assert!(derived.service_event && derived.username.is_none());
    }

    #[test]
    fn read_only_follows_cloudtrail() {
        for op in [
            "Encrypt",
            "Decrypt",
            "GenerateDataKey",
            "DescribeKey",
            "GetParameter",
        ] {
            assert!(is_read_only(op), "{op}");
        }
        for op in [
            "CreateKey",
            "PutParameter",
            "ScheduleKeyDeletion",
            "RotateKey",
            "TagResource",
        ] {
            assert!(!is_read_only(op), "{op}");
        }
    }
}
