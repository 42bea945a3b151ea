//! The restJson1 protocol (API Gateway): the operation is chosen by HTTP method and path
//! (`POST /restapis/{restapi_id}/resources/{parent_id}`, see [`route`]), input members travel in URI
//! labels, query-string parameters, headers and a JSON body, and responses are JSON with some members
//! in headers and the status chosen by the model. Both directions are driven by the service model, so
//! services work with the same JSON values as the awsJson ones: [`parse_request`] yields a value
//! shaped like the operation's input (ready for [`validate`] and [`crate::json::from_value`]),
//! [`serialize_response`] writes a value shaped like the output.
//!
//! Values follow the awsJson conventions whatever their place on the wire: member names (not wire
//! names) as keys, timestamps as epoch seconds, blobs as base64 text. On the wire, timestamps are
//! ISO 8601 in URIs and query strings, HTTP dates in headers and epoch seconds in bodies unless the
//! model's `timestampFormat` says otherwise; a `jsonvalue` string travels in a header as base64 of
//! its JSON text; a `payload` member is the whole body (raw bytes for a blob, text for a string, JSON
//! for a structure).
//!
//! Errors carry their code twice, in `X-Amzn-ErrorType` and in the body's `__type`, with the message
//! under the exception's own member name (`message` for API Gateway), which is what botocore's
//! restJson parser reads. Bad input is answered with the service's own 400 exception where its model
//! has one instead of a `ValidationException` (API Gateway's `BadRequestException`, see
//! [`input_error`]).

use base64::Engine;
use http::HeaderMap;
use serde_json::{Map, Number, Value};

use crate::model::{Location, MemberRef, ServiceModel, ShapeKind, TimestampFormat};
use crate::rest::{
    camel, decode_query, decode_query_checked, header_scalar, header_text, http_date, join,
    parse_http_date,
};
use crate::xml_out::{time, timestamp};
use crate::AwsError;

pub const CONTENT_TYPE: &str = "application/json";

/// The operation whose `requestUri` template matches `method` and `path` (with its query string, for
/// templates with a literal query part such as `/restapis?mode=import`), with its URI labels (routing
/// is shared with restXml).
pub use crate::rest::route;

/// Parses a request to `operation` into a JSON object shaped like its input: URI labels (from
/// [`route`]), query-string members (`query` without the `?`; lists repeat the key, a map takes the
/// parameters no other member and no literal of the `requestUri` names), header members (lists
/// comma-separated, a `headers` map by name prefix) and the body. Scalars from text are converted by
/// shape type; timestamps become epoch seconds wherever they came from. Body members the input shape
/// does not name are ignored. Malformed JSON is a `SerializationException`, an unconvertible value a
/// `ValidationException`, both renamed by [`input_error`].
pub fn parse_request(
    model: &ServiceModel,
    operation: &str,
    labels: &[(String, String)],
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, AwsError> {
    bind_request(model, operation, labels, query, headers, body).map_err(|e| input_error(model, e))
}

/// [`ServiceModel::validate`] with the service's own code for bad input (see [`input_error`]).
pub fn validate(model: &ServiceModel, operation: &str, input: &Value) -> Result<(), AwsError> {
    model
        .validate(operation, input)
        .map_err(|e| input_error(model, e))
}

/// restJson1 services report bad input with their own 400 exception when their model declares no
/// `ValidationException`: awsJson's generic `ValidationException` and `SerializationException` (from
/// [`ServiceModel::validate`], [`crate::json::from_value`] and the parsing here) become
/// `BadRequestException` for API Gateway. Other errors, and services without such an exception, pass
/// unchanged.
pub fn input_error(model: &ServiceModel, mut err: AwsError) -> AwsError {
    let generic = err.code == "ValidationException" || err.code == "SerializationException";
    if generic && model.error(&err.code).is_none() {
        if let Some(own) = model
            .error("BadRequestException")
            .filter(|info| info.status == 400)
        {
            err.code = own.code.clone().into();
            err.status = own.status;
        }
    }
    err
}

/// The HTTP status, headers and body for `output`, a JSON value shaped like the operation's output
/// shape. The status is the operation's `responseCode` (200 unless the model says otherwise, or a
/// `statusCode` member); members bound to headers become headers; the body is the `payload` member
/// when the output names one (a blob's base64 value is sent as its bytes; text that is not base64 is
/// sent as it is), else a JSON object of the other members. A `Content-Type` header is
/// included whenever there is a body, unless a member already sets it. Operations without output and
/// outputs without body members have an empty body.
pub fn serialize_response(
    model: &ServiceModel,
    operation: &str,
    output: &Value,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut status = model.http(operation).map_or(200, |h| h.response_code);
    let mut headers = Vec::new();
    let Some((shape, _)) = model.output_shape(operation) else {
        return (status, headers, Vec::new());
    };
    let ShapeKind::Structure { members, .. } = model.shape_kind(shape) else {
        return (status, headers, Vec::new());
    };
    let object = output.as_object();
    let get = |m: &MemberRef| object.and_then(|o| o.get(&m.name)).filter(|v| !v.is_null());
    for member in members {
        let Some(v) = get(member) else { continue };
        match member.location {
            Some(Location::Header) => {
                headers.push((
                    member.wire_name().to_string(),
                    header_value(model, member, v),
                ));
            }
            Some(Location::Headers) => {
                if let Value::Object(map) = v {
                    for (k, v) in map {
                        headers.push((format!("{}{k}", member.wire_name()), header_scalar(v)));
                    }
                }
            }
            Some(Location::StatusCode) => {
                if let Some(code) = v.as_u64().and_then(|c| u16::try_from(c).ok()) {
                    status = code;
                }
            }
            _ => {}
        }
    }
    let (body, content_type) = match model.payload(shape) {
        Some(payload) => match (model.shape_kind(payload.shape), get(payload)) {
            (_, None) => (Vec::new(), None),
            (ShapeKind::Blob, Some(v)) => {
                let text = header_scalar(v);
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(&text)
                    .unwrap_or_else(|_| text.into_bytes());
                (bytes, Some("application/octet-stream"))
            }
            (ShapeKind::String, Some(v)) => (header_scalar(v).into_bytes(), Some("text/plain")),
            (_, Some(v)) => (json_bytes(&body_out(model, payload, v)), Some(CONTENT_TYPE)),
        },
        None if members.iter().any(|m| m.location.is_none()) => {
            let mut body = Map::new();
            for member in members.iter().filter(|m| m.location.is_none()) {
                if let Some(v) = get(member) {
                    body.insert(member.wire_name().to_string(), body_out(model, member, v));
                }
            }
            (json_bytes(&Value::Object(body)), Some(CONTENT_TYPE))
        }
        None => (Vec::new(), None),
    };
    if let Some(content_type) = content_type {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".to_string(), content_type.to_string()));
        }
    }
    (status, headers, body)
}

/// The HTTP status, headers and body of an error: `X-Amzn-ErrorType: <Code>` and
/// `{"__type": "<Code>", "message": "..."}`, the message under the name the exception shape gives it
/// (`Message` for some services).
pub fn error_response(
    model: &ServiceModel,
    err: &AwsError,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let message_key = model
        .errors()
        .find(|(_, info)| info.code == err.code)
        .and_then(|(name, _)| {
            let shape = model.shape_id(name)?;
            let ShapeKind::Structure { members, .. } = model.shape_kind(shape) else {
                return None;
            };
            members
                .iter()
                .find(|m| m.location.is_none() && m.name.eq_ignore_ascii_case("message"))
                .map(|m| m.wire_name().to_string())
        })
        .unwrap_or_else(|| "message".to_string());
    let mut body = Map::new();
    body.insert("__type".to_string(), Value::String(err.code.to_string()));
    body.insert(message_key, Value::String(err.message.clone()));
    let headers = vec![
        ("X-Amzn-ErrorType".to_string(), err.code.to_string()),
        ("Content-Type".to_string(), CONTENT_TYPE.to_string()),
    ];
    (err.status, headers, json_bytes(&Value::Object(body)))
}

// ---- requests ----

fn serialization(message: impl Into<String>) -> AwsError {
    AwsError::serialization(message)
}

fn bind_request(
    model: &ServiceModel,
    operation: &str,
    labels: &[(String, String)],
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, AwsError> {
    let Some(input) = model.input_shape(operation) else {
        return Ok(Value::Object(Map::new()));
    };
    let ShapeKind::Structure { members, .. } = model.shape_kind(input) else {
        return Ok(Value::Object(Map::new()));
    };
    let params = match query {
        Some(q) => decode_query_checked(q).map_err(serialization)?,
        None => Vec::new(),
    };
    // Query parameters other members or the template's literal part (`?mode=import`) name, so a
    // query-string map gets only the rest.
    let literals: Vec<String> = model
        .http(operation)
        .and_then(|h| h.request_uri.split_once('?'))
        .map(|(_, fixed)| decode_query(fixed).into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default();
    let named: Vec<&str> = members
        .iter()
        .filter(|m| m.location == Some(Location::QueryString))
        .filter(|m| !matches!(model.shape_kind(m.shape), ShapeKind::Map(..)))
        .map(MemberRef::wire_name)
        .chain(literals.iter().map(String::as_str))
        .collect();
    let mut object = Map::new();
    for member in members {
        let path = camel(&member.name);
        let value = match member.location {
            Some(Location::Uri) => labels
                .iter()
                .find(|(name, _)| name == member.wire_name())
                .map(|(_, v)| text_value(model, member, v, TimestampFormat::Iso8601, &path))
                .transpose()?,
            Some(Location::QueryString) => query_member(model, member, &params, &named, &path)?,
            Some(Location::Header) => match headers.get(member.wire_name()) {
                Some(v) => {
                    let text = header_text(v, member.wire_name()).map_err(serialization)?;
                    Some(header_member(model, member, text, &path)?)
                }
                None => None,
            },
            Some(Location::Headers) => {
                let prefix = member.wire_name().to_ascii_lowercase();
                let mut map = Map::new();
                for (name, v) in headers {
                    if let Some(key) = name.as_str().strip_prefix(&prefix) {
                        let text = header_text(v, name.as_str()).map_err(serialization)?;
                        map.insert(key.to_string(), Value::String(text.to_string()));
                    }
                }
                (!map.is_empty()).then_some(Value::Object(map))
            }
            Some(Location::StatusCode) | None => None,
        };
        if let Some(v) = value {
            object.insert(member.name.clone(), v);
        }
    }
    let blank = body.iter().all(u8::is_ascii_whitespace);
    match model.payload(input) {
        Some(payload) => {
            let value = match model.shape_kind(payload.shape) {
                _ if body.is_empty() => None,
                ShapeKind::Blob => Some(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(body),
                )),
                ShapeKind::String => Some(Value::String(
                    String::from_utf8(body.to_vec())
                        .map_err(|_| serialization("The request body is not valid UTF-8"))?,
                )),
                _ if blank => None,
                _ => {
                    let json = crate::json::parse_body(body)?;
                    Some(body_in(model, payload, &json, &camel(&payload.name))?)
                }
            };
            if let Some(v) = value {
                object.insert(payload.name.clone(), v);
            }
        }
        None if !blank && members.iter().any(|m| m.location.is_none()) => {
            let Value::Object(json) = crate::json::parse_body(body)? else {
                return Err(serialization("The request body must be a JSON object"));
            };
            for member in members.iter().filter(|m| m.location.is_none()) {
                if let Some(v) = json.get(member.wire_name()).filter(|v| !v.is_null()) {
                    let v = body_in(model, member, v, &camel(&member.name))?;
                    object.insert(member.name.clone(), v);
                }
            }
        }
        None => {}
    }
    Ok(Value::Object(object))
}

/// A querystring-bound member from the decoded parameters.
fn query_member(
    model: &ServiceModel,
    member: &MemberRef,
    params: &[(String, String)],
    named: &[&str],
    path: &str,
) -> Result<Option<Value>, AwsError> {
    let values = || {
        params
            .iter()
            .filter(|(k, _)| k == member.wire_name())
            .map(|(_, v)| v.as_str())
    };
    Ok(match model.shape_kind(member.shape) {
        ShapeKind::List(element) => {
            let items: Vec<Value> = values()
                .enumerate()
                .map(|(i, v)| {
                    let at = format!("{path}.{}.member", i + 1);
                    text_value(model, element, v, TimestampFormat::Iso8601, &at)
                })
                .collect::<Result<_, _>>()?;
            (!items.is_empty()).then_some(Value::Array(items))
        }
        ShapeKind::Map(_, value) => {
            let mut map = Map::new();
            for (k, v) in params.iter().filter(|(k, _)| !named.contains(&k.as_str())) {
                let v = Value::String(v.clone());
                match (model.shape_kind(value.shape), map.get_mut(k)) {
                    (ShapeKind::List(_), Some(Value::Array(items))) => items.push(v),
                    (ShapeKind::List(_), _) => {
                        map.insert(k.clone(), Value::Array(vec![v]));
                    }
                    (_, Some(_)) => {}
                    (_, None) => {
                        map.insert(k.clone(), v);
                    }
                }
            }
            (!map.is_empty()).then_some(Value::Object(map))
        }
        _ => values()
            .next()
            .map(|v| text_value(model, member, v, TimestampFormat::Iso8601, path))
            .transpose()?,
    })
}

/// A header-bound member: a list is comma-separated (strings with commas or quotes arrive quoted),
/// a `jsonvalue` string is base64 of its JSON text.
fn header_member(
    model: &ServiceModel,
    member: &MemberRef,
    text: &str,
    path: &str,
) -> Result<Value, AwsError> {
    if let ShapeKind::List(element) = model.shape_kind(member.shape) {
        return split_header_list(text)
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let at = format!("{path}.{}.member", i + 1);
                text_value(model, element, part, TimestampFormat::Rfc822, &at)
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if member.json_value {
        let json = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .filter(|json| serde_json::from_str::<Value>(json).is_ok())
            .ok_or_else(|| {
                invalid(
                    model,
                    member,
                    text,
                    path,
                    "Member must be base64-encoded JSON",
                )
            })?;
        return Ok(Value::String(json));
    }
    text_value(model, member, text, TimestampFormat::Rfc822, path)
}

/// `a, "b,c", "say \"hi\""` → `a`, `b,c`, `say "hi"`.
fn split_header_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => current.extend(chars.next()),
            ',' if !quoted => items.push(std::mem::take(&mut current).trim().to_string()),
            c => current.push(c),
        }
    }
    items.push(current.trim().to_string());
    items
}

fn invalid(
    model: &ServiceModel,
    member: &MemberRef,
    text: &str,
    path: &str,
    constraint: &str,
) -> AwsError {
    let shown = if model.is_sensitive(member.shape) {
        "Value".to_string()
    } else {
        format!("Value '{text}'")
    };
    AwsError::validation(format!(
        "1 validation error detected: {shown} at '{path}' failed to satisfy constraint: {constraint}"
    ))
}

/// A scalar from its text form (a URI label, a query parameter or a header); `default` is the
/// timestamp format of that place.
fn text_value(
    model: &ServiceModel,
    member: &MemberRef,
    text: &str,
    default: TimestampFormat,
    path: &str,
) -> Result<Value, AwsError> {
    let fail = |kind: &str| {
        invalid(
            model,
            member,
            text,
            path,
            &format!("Member must be of type {kind}"),
        )
    };
    Ok(match model.shape_kind(member.shape) {
        ShapeKind::Integer => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| fail("integer"))?,
        ShapeKind::Float => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| fail("number"))?,
        ShapeKind::Boolean => match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
            t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(fail("boolean")),
        },
        ShapeKind::Timestamp => {
            let format = member.timestamp_format.unwrap_or(default);
            epoch_from_text(text, format).ok_or_else(|| fail("timestamp"))?
        }
        _ => Value::String(text.to_string()),
    })
}

/// Epoch seconds from a timestamp's text, read in its declared format first and then in the others
/// (clients are not all strict about formats).
fn epoch_from_text(text: &str, format: TimestampFormat) -> Option<Value> {
    let text = text.trim();
    let epoch = || {
        let seconds = text.parse::<f64>().ok().filter(|f| f.is_finite())?;
        Some((seconds * 1000.0).round() as i64)
    };
    let iso = || {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_millis())
    };
    let http = || parse_http_date(text);
    let millis = match format {
        TimestampFormat::UnixTimestamp => epoch().or_else(iso).or_else(http),
        TimestampFormat::Iso8601 => iso().or_else(epoch).or_else(http),
        TimestampFormat::Rfc822 => http().or_else(iso).or_else(epoch),
    }?;
    Some(epoch_seconds(millis))
}

/// Epoch seconds as JSON: an integer when whole, else with the milliseconds as a fraction.
fn epoch_seconds(millis: i64) -> Value {
    if millis % 1000 == 0 {
        Value::from(millis / 1000)
    } else {
        Number::from_f64(millis as f64 / 1000.0).map_or(Value::Null, Value::Number)
    }
}

/// A body value as `member` (wire names to member names, timestamps to epoch seconds). Values of the
/// wrong JSON type are kept for [`validate`] to report.
fn body_in(
    model: &ServiceModel,
    member: &MemberRef,
    value: &Value,
    path: &str,
) -> Result<Value, AwsError> {
    Ok(match (model.shape_kind(member.shape), value) {
        (ShapeKind::Structure { members, .. }, Value::Object(json)) => {
            let mut object = Map::new();
            for m in members {
                if let Some(v) = json.get(m.wire_name()).filter(|v| !v.is_null()) {
                    object.insert(m.name.clone(), body_in(model, m, v, &join(path, &m.name))?);
                }
            }
            Value::Object(object)
        }
        (ShapeKind::List(element), Value::Array(items)) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| body_in(model, element, v, &format!("{path}.{}.member", i + 1)))
                .collect::<Result<_, _>>()?,
        ),
        (ShapeKind::Map(_, element), Value::Object(json)) => {
            let mut object = Map::new();
            for (k, v) in json {
                object.insert(
                    k.clone(),
                    body_in(model, element, v, &format!("{path}.value"))?,
                );
            }
            Value::Object(object)
        }
        (ShapeKind::Timestamp, Value::String(text)) => {
            let format = member
                .timestamp_format
                .unwrap_or(TimestampFormat::UnixTimestamp);
            epoch_from_text(text, format).ok_or_else(|| {
                invalid(
                    model,
                    member,
                    text,
                    path,
                    "Member must be of type timestamp",
                )
            })?
        }
        (_, v) => v.clone(),
    })
}

// ---- responses ----

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values serialize")
}

/// A timestamp in `format`; values that are not times pass unchanged.
fn timestamp_out(value: &Value, format: TimestampFormat) -> Value {
    let written = match format {
        TimestampFormat::UnixTimestamp => time(value).map(|t| epoch_seconds(t.timestamp_millis())),
        TimestampFormat::Iso8601 => timestamp(value).map(Value::String),
        TimestampFormat::Rfc822 => http_date(value).map(Value::String),
    };
    written.unwrap_or_else(|| value.clone())
}

/// The text of a header-bound output member.
fn header_value(model: &ServiceModel, member: &MemberRef, value: &Value) -> String {
    match (model.shape_kind(member.shape), value) {
        (ShapeKind::Timestamp, v) => header_scalar(&timestamp_out(
            v,
            member.timestamp_format.unwrap_or(TimestampFormat::Rfc822),
        )),
        (ShapeKind::List(element), Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) if s.contains([',', '"']) => {
                    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
                }
                other => header_value(model, element, other),
            })
            .collect::<Vec<_>>()
            .join(","),
        (_, v) if member.json_value => {
            // A string is the JSON text itself; any other value is written as JSON.
            let json = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            base64::engine::general_purpose::STANDARD.encode(json)
        }
        (_, v) => header_scalar(v),
    }
}

/// A body value as `member` (member names to wire names, timestamps in their format, epoch seconds
/// by default).
fn body_out(model: &ServiceModel, member: &MemberRef, value: &Value) -> Value {
    match (model.shape_kind(member.shape), value) {
        (ShapeKind::Structure { members, .. }, Value::Object(object)) => {
            let mut out = Map::new();
            for m in members {
                if let Some(v) = object.get(&m.name).filter(|v| !v.is_null()) {
                    out.insert(m.wire_name().to_string(), body_out(model, m, v));
                }
            }
            Value::Object(out)
        }
        (ShapeKind::List(element), Value::Array(items)) => {
            Value::Array(items.iter().map(|v| body_out(model, element, v)).collect())
        }
        (ShapeKind::Map(_, element), Value::Object(object)) => Value::Object(
            object
                .iter()
                .map(|(k, v)| (k.clone(), body_out(model, element, v)))
                .collect(),
        ),
        (ShapeKind::Timestamp, v) => timestamp_out(
            v,
            member
                .timestamp_format
                .unwrap_or(TimestampFormat::UnixTimestamp),
        ),
        (_, v) => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists_split_on_unquoted_commas() {
        assert_eq!(
            split_header_list(r#"a, "b,c" ,"say \"hi\"",d"#),
            ["a", "b,c", "say \"hi\"", "d"]
        );
        assert_eq!(split_header_list("one"), ["one"]);
    }

    #[test]
    fn timestamps_read_in_any_format_as_epoch_seconds() {
        let read = |t: &str, f| epoch_from_text(t, f);
        let at = Some(Value::from(1_795_878_000));
        assert_eq!(read("2026-11-28T15:00:00Z", TimestampFormat::Iso8601), at);
        assert_eq!(
            read("Sat, 28 Nov 2026 15:00:00 GMT", TimestampFormat::Rfc822),
            at
        );
        assert_eq!(read("1795878000", TimestampFormat::Rfc822), at);
        assert_eq!(
            read("2026-11-28T15:00:00.250Z", TimestampFormat::UnixTimestamp),
            Some(Value::from(1_795_878_000.25))
        );
        assert_eq!(read("tomorrow", TimestampFormat::Iso8601), None);
    }
}
