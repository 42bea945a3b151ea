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
    request_parameters: Option<Params<'a>>,
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

/// `requestParameters`: a value, or the JSON text of one (as [`crate::redact::request_parameters_text`]
/// writes it), copied into the record as it is.
#[derive(Clone, Copy)]
pub(crate) enum Params<'a> {
    Value(&'a Value),
    Text(&'a str),
}

impl Serialize for Params<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Params::Value(v) => v.serialize(s),
            Params::Text(t) => serde_json::from_str::<Value>(t)
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
        }
    }
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
/// reads, as in CloudTrail, and so do DynamoDB's reads of items: a read's record holds no
/// `responseElements`).
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
    // DynamoDB's reads of items (GetItem is one of the `Get`s), by their whole names.
    const ITEM_READS: &[&str] = &["BatchGetItem", "Query", "Scan", "TransactGetItems"];
    READS.iter().any(|p| operation.starts_with(p)) || ITEM_READS.contains(&operation)
}

/// Whether a call is what CloudTrail calls a data event (`eventCategory` `Data`): DynamoDB's item
/// operations. The others are management events.
pub fn is_data_event(event_source: &str, event_name: &str) -> bool {
    const DYNAMODB_ITEMS: &[&str] = &[
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchGetItem",
        "BatchWriteItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "TransactWriteItems",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
    ];
    event_source == "dynamodb.amazonaws.com" && DYNAMODB_ITEMS.contains(&event_name)
}

/// `2026-11-28T17:00:00Z`, CloudTrail's `eventTime` (whole seconds).
pub fn event_time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// [`event_time_text`] into `buf`, without allocating, for the years 0–9999 (`None` for others).
fn event_time_in(ms: i64, buf: &mut [u8; 20]) -> Option<&str> {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    for (at, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'Z'),
    ] {
        buf[at] = c;
    }
    std::str::from_utf8(buf).ok()
}

/// The record's JSON, exactly as `serde_json::to_string(record)` writes it (the derived `Serialize`
/// is the reference the tests hold this to), written straight into a buffer sized for a typical
/// record: keys and constant values are copied as they are, and only the strings that need it are
/// escaped (by serde_json).
fn to_text(record: &Record<'_>) -> String {
    let mut out = Vec::with_capacity(1536);
    write_record(&mut out, record);
    // Only UTF-8 was written: literals, `&str`s and serde_json's output.
    String::from_utf8(out).expect("records are UTF-8")
}

/// Whether serde_json escapes anything in `s`: a control character (below 0x20), `"` or `\`. Eight
/// bytes at a time (each test is exact as to whether any byte of the word matches).
pub(crate) fn needs_escaping(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut words = s.chunks_exact(8);
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        if control
            | zero_byte(x ^ (ONES * u64::from(b'"')))
            | zero_byte(x ^ (ONES * u64::from(b'\\')))
            != 0
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A JSON string, escaped as serde_json escapes it.
fn string(out: &mut Vec<u8>, s: &str) {
    if !needs_escaping(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("strings serialize");
    }
}

/// `,"key":` then the string `value`; `key` needs no escaping.
fn field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    string(out, value);
}

fn value(out: &mut Vec<u8>, v: Option<&Value>) {
    match v {
        Some(v) => serde_json::to_writer(&mut *out, v).expect("values serialize"),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_identity(out: &mut Vec<u8>, id: &UserIdentity<'_>) {
    out.push(b'{');
    // The first member written has no comma before it.
    let mut members = 0;
    let mut opt = |out: &mut Vec<u8>, key: &str, v: Option<&str>| {
        if let Some(v) = v {
            if members == 0 {
                out.extend_from_slice(b"\"");
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(b"\":");
                string(out, v);
            } else {
                field(out, key, v);
            }
            members += 1;
        }
    };
    opt(out, "type", id.kind);
    opt(out, "principalId", id.principal_id);
    opt(out, "arn", id.arn);
    opt(out, "accountId", Some(id.account_id));
    opt(out, "accessKeyId", id.access_key_id);
    opt(out, "userName", id.user_name);
    if let Some(session) = &id.session_context {
        let issuer = &session.session_issuer;
        out.extend_from_slice(b",\"sessionContext\":{\"sessionIssuer\":{\"type\":");
        string(out, issuer.kind);
        field(out, "arn", issuer.arn);
        field(out, "accountId", issuer.account_id);
        field(out, "userName", issuer.user_name);
        out.extend_from_slice(b"},\"attributes\":{\"mfaAuthenticated\":");
        string(out, session.attributes.mfa_authenticated);
        out.extend_from_slice(b"}}");
    }
    opt(out, "invokedBy", id.invoked_by);
    out.push(b'}');
}

fn write_record(out: &mut Vec<u8>, r: &Record<'_>) {
    out.extend_from_slice(b"{\"eventVersion\":");
    string(out, r.event_version);
    out.extend_from_slice(b",\"userIdentity\":");
    write_identity(out, &r.user_identity);
    field(out, "eventTime", r.event_time);
    field(out, "eventSource", r.event_source);
    field(out, "eventName", r.event_name);
    field(out, "awsRegion", r.aws_region);
    field(out, "sourceIPAddress", r.source_ip_address);
    field(out, "userAgent", r.user_agent);
    if let Some(code) = r.error_code {
        field(out, "errorCode", code);
    }
    if let Some(message) = r.error_message {
        field(out, "errorMessage", message);
    }
    out.extend_from_slice(b",\"requestParameters\":");
    match r.request_parameters {
        Some(Params::Text(text)) => out.extend_from_slice(text.as_bytes()),
        Some(Params::Value(v)) => value(out, Some(v)),
        None => value(out, None),
    }
    out.extend_from_slice(b",\"responseElements\":");
    value(out, r.response_elements);
    if let Some(id) = r.request_id {
        field(out, "requestID", id);
    }
    field(out, "eventID", r.event_id);
    out.extend_from_slice(if r.read_only {
        b",\"readOnly\":true"
    } else {
        b",\"readOnly\":false"
    });
    if !r.resources.is_empty() {
        out.extend_from_slice(b",\"resources\":[");
        for (i, res) in r.resources.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"accountId\":");
            string(out, res.account_id);
            field(out, "type", res.kind);
            field(out, "ARN", res.arn);
            out.push(b'}');
        }
        out.push(b']');
    }
    field(out, "eventType", r.event_type);
    out.extend_from_slice(if r.management_event {
        b",\"managementEvent\":true"
    } else {
        b",\"managementEvent\":false"
    });
    field(out, "recipientAccountId", r.recipient_account_id);
    if let Some(details) = r.service_event_details {
        out.extend_from_slice(b",\"serviceEventDetails\":");
        value(out, Some(details));
    }
    field(out, "eventCategory", r.event_category);
    out.push(b'}');
}

pub use m2sec_store::now_ms;

/// The record of a call, ready to append.
pub fn call_event(call: &Call<'_>) -> NewTrailEvent {
    call_event_with(call, call.request_parameters.as_ref().map(Params::Value))
}

/// The record of a call with `requestParameters` given apart from `call` (whose own are ignored).
pub(crate) fn call_event_with(
    call: &Call<'_>,
    request_parameters: Option<Params<'_>>,
) -> NewTrailEvent {
    let ctx = call.ctx;
    let time = now_ms();
    let mut time_buf = [0u8; 20];
    let time_owned;
    let time_text = match event_time_in(time, &mut time_buf) {
        Some(t) => t,
        None => {
            time_owned = event_time_text(time);
            time_owned.as_str()
        }
    };
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
    let data = is_data_event(call.event_source, call.event_name);
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
        event_time: time_text,
        event_source: call.event_source,
        event_name: call.event_name,
        aws_region: call.region,
        source_ip_address: source_ip,
        user_agent,
        error_code: call.error.map(|e| e.code.as_ref()),
        error_message: call.error.map(|e| e.message.as_str()),
        request_parameters,
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
        management_event: !data,
        recipient_account_id: &ctx.account,
        service_event_details: None,
        event_category: if data { "Data" } else { "Management" },
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
    let mut time_buf = [0u8; 20];
    let time_owned;
    let time_text = match event_time_in(time, &mut time_buf) {
        Some(t) => t,
        None => {
            time_owned = event_time_text(time);
            time_owned.as_str()
        }
    };
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
        event_time: time_text,
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
    /// The call's error code, when it failed.
    pub error_code: Option<String>,
    /// The request id the caller was answered with.
    pub request_id: Option<String>,
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
        error_code: text("errorCode"),
        request_id: text("requestID"),
    })
}

#[cfg(test)]
mod tests;
