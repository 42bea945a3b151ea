//! The restXml protocol (Route53): the operation is chosen by HTTP method and path
//! (`POST /2013-04-01/hostedzone/{Id}/rrset/`), input members travel in URI labels, query-string
//! parameters, headers and an XML body, and responses are XML with some members in headers. Both
//! directions are driven by the service model, so services work with the same JSON values as the
//! other protocols: [`parse_request`] yields a value shaped like the operation's input (ready for
//! [`validate`] and [`crate::json::from_value`]), [`serialize_response`] writes a value shaped like
//! the output.
//!
//! XML names follow the model: `locationName` where given, lists wrapped in the member's element with
//! one element per item named by the list member (`<Changes><Change>…</Change></Changes>`), or
//! repeated in place when flattened, maps as `entry` elements with `key` and `value`.

use http::HeaderMap;
use serde_json::{Map, Number, Value};

use crate::model::{Location, MemberRef, ServiceModel, ShapeId, ShapeKind};
use crate::rest::{camel, decode_query_checked, header_scalar, header_text, http_date, join};
use crate::xml_in::{parse_xml, Element};
use crate::xml_out::{close, namespace, write};
use crate::AwsError;

pub const CONTENT_TYPE: &str = "text/xml";

/// The operation whose `requestUri` template matches `method` and `path`, with its URI labels (routing
/// is shared with restJson1).
pub use crate::rest::route;

/// Parses a request to `operation` into a JSON object shaped like its input: URI labels (from
/// [`route`]), query-string members (`query` without the `?`; lists repeat the key), header members
/// and the XML body, whose root element is the input's `locationName`. Scalars are converted by shape
/// type: integers and longs to numbers, booleans to `true`/`false`; timestamps stay strings and blobs
/// stay base64 strings. Elements and parameters the input shape does not name are ignored.
/// Malformed XML or an unconvertible value is `InvalidInput` (400).
pub fn parse_request(
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
        Some(q) => decode_query_checked(q).map_err(invalid_input)?,
        None => Vec::new(),
    };
    let mut object = Map::new();
    // Query parameters other members name, so a query-string map gets only the rest.
    let named: Vec<&str> = members
        .iter()
        .filter(|m| m.location == Some(Location::QueryString))
        .filter(|m| !matches!(model.shape_kind(m.shape), ShapeKind::Map(..)))
        .map(MemberRef::wire_name)
        .collect();
    for member in members {
        let path = camel(&member.name);
        let value = match member.location {
            Some(Location::Uri) => labels
                .iter()
                .find(|(name, _)| name == member.wire_name())
                .map(|(_, v)| scalar(model, member.shape, v, &path))
                .transpose()?,
            Some(Location::QueryString) => query_member(model, member, &params, &named, &path)?,
            Some(Location::Header) => match headers.get(member.wire_name()) {
                Some(v) => {
                    let text = header_text(v, member.wire_name()).map_err(invalid_input)?;
                    Some(match model.shape_kind(member.shape) {
                        ShapeKind::List(element) => Value::Array(
                            text.split(',')
                                .map(|part| scalar(model, element.shape, part.trim(), &path))
                                .collect::<Result<_, _>>()?,
                        ),
                        _ => scalar(model, member.shape, text, &path)?,
                    })
                }
                None => None,
            },
            Some(Location::Headers) => {
                let prefix = member.wire_name().to_ascii_lowercase();
                let mut map = Map::new();
                for (name, v) in headers {
                    if let Some(key) = name.as_str().strip_prefix(&prefix) {
                        let text = header_text(v, name.as_str()).map_err(invalid_input)?;
                        map.insert(key.to_string(), Value::String(text.to_string()));
                    }
                }
                (!map.is_empty()).then_some(Value::Object(map))
            }
            Some(Location::StatusCode) => None,
            None => None,
        };
        if let Some(v) = value {
            object.insert(member.name.clone(), v);
        }
    }
    if body.iter().any(|b| !b.is_ascii_whitespace()) && members.iter().any(|m| m.location.is_none())
    {
        let root = parse_xml(body).map_err(invalid_input)?;
        if let Some((expected, _)) = model.input_root(operation) {
            if root.name != expected {
                return Err(invalid_input(format!(
                    "The request body's root element must be <{expected}>, not <{}>",
                    root.name
                )));
            }
        }
        if let Some(Value::Object(from_body)) = element_value(model, input, &root, "")? {
            object.extend(from_body);
        }
    }
    Ok(Value::Object(object))
}

/// [`ServiceModel::validate`] with the error code restXml services send (`InvalidInput`).
pub fn validate(model: &ServiceModel, operation: &str, input: &Value) -> Result<(), AwsError> {
    model.validate(operation, input).map_err(rest_xml_error)
}

/// Renames awsJson's generic `ValidationException` (from [`ServiceModel::validate`] and
/// [`crate::json::from_value`]) to Route53's `InvalidInput`; other errors pass unchanged.
pub fn rest_xml_error(mut err: AwsError) -> AwsError {
    if err.code == "ValidationException" || err.code == "SerializationException" {
        err.code = "InvalidInput".into();
    }
    err
}

/// The HTTP status, headers and XML body for `output`, a JSON value shaped like the operation's
/// output shape. The status is the operation's `responseCode` (200 unless the model says otherwise);
/// members bound to headers (`Location`) are returned as headers, the rest form the body
/// `<OutputShape xmlns="NS">…</OutputShape>`. Operations without output have an empty body.
/// Timestamps may be epoch seconds (numbers or numeric strings) or RFC 3339 strings; they are written
/// as ISO 8601 in UTC (in headers as HTTP dates).
pub fn serialize_response(
    model: &ServiceModel,
    operation: &str,
    output: &Value,
) -> (u16, Vec<(String, String)>, String) {
    let mut status = model.http(operation).map_or(200, |h| h.response_code);
    let mut headers = Vec::new();
    let Some((shape, _)) = model.output_shape(operation) else {
        return (status, headers, String::new());
    };
    let ShapeKind::Structure { members, .. } = model.shape_kind(shape) else {
        return (status, headers, String::new());
    };
    let object = output.as_object();
    let get = |m: &MemberRef| object.and_then(|o| o.get(&m.name)).filter(|v| !v.is_null());
    for member in members {
        let Some(v) = get(member) else { continue };
        match member.location {
            Some(Location::Header) => {
                let text = match (model.shape_kind(member.shape), v) {
                    (ShapeKind::Timestamp, v) => http_date(v).unwrap_or_else(|| header_scalar(v)),
                    (ShapeKind::List(_), Value::Array(items)) => items
                        .iter()
                        .map(header_scalar)
                        .collect::<Vec<_>>()
                        .join(","),
                    (_, v) => header_scalar(v),
                };
                headers.push((member.wire_name().to_string(), text));
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
    let root = model.shape_name(shape);
    let mut out = String::with_capacity(512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
    out.push_str(root);
    namespace(model, &mut out);
    for member in members {
        if member.location.is_none() {
            if let Some(v) = get(member) {
                write(
                    model,
                    member.shape,
                    member.flattened,
                    member.wire_name(),
                    v,
                    &mut out,
                );
            }
        }
    }
    close(&mut out, root);
    (status, headers, out)
}

/// AWS's XML error document (see [`crate::xml_out::error_document`]), with an XML declaration.
pub fn error_response(model: &ServiceModel, err: &AwsError, request_id: &str) -> String {
    crate::xml_out::error_document(model, err, request_id, "<?xml version=\"1.0\"?>\n")
}

// ---- requests ----

fn invalid_input(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidInput", 400, message)
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
                .map(|(i, v)| scalar(model, element.shape, v, &format!("{path}.{}.member", i + 1)))
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
            .map(|v| scalar(model, member.shape, v, path))
            .transpose()?,
    })
}

/// A scalar from its text form.
fn scalar(model: &ServiceModel, shape: ShapeId, text: &str, path: &str) -> Result<Value, AwsError> {
    let invalid = |kind: &str| {
        let shown = if model.is_sensitive(shape) {
            "Value".to_string()
        } else {
            format!("Value '{text}'")
        };
        invalid_input(format!(
            "1 validation error detected: {shown} at '{path}' failed to satisfy constraint: \
             Member must be of type {kind}"
        ))
    };
    Ok(match model.shape_kind(shape) {
        ShapeKind::Integer => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| invalid("integer"))?,
        ShapeKind::Float => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| invalid("number"))?,
        ShapeKind::Boolean => match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
            t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(invalid("boolean")),
        },
        ShapeKind::Timestamp | ShapeKind::Blob => Value::String(text.trim().to_string()),
        _ => Value::String(text.to_string()),
    })
}

/// The value of `element` as `shape`; None for an aggregate the element does not carry.
fn element_value(
    model: &ServiceModel,
    shape: ShapeId,
    element: &Element,
    path: &str,
) -> Result<Option<Value>, AwsError> {
    Ok(Some(match model.shape_kind(shape) {
        ShapeKind::Structure { members, .. } => {
            let mut object = Map::new();
            for member in members.iter().filter(|m| m.location.is_none()) {
                let at = join(path, &member.name);
                if let Some(v) = member_value(model, member, element, &at)? {
                    object.insert(member.name.clone(), v);
                }
            }
            Value::Object(object)
        }
        ShapeKind::List(item) => Value::Array(list_items(
            model,
            item,
            element
                .children
                .iter()
                .filter(|c| c.name == item.wire_name()),
            path,
        )?),
        ShapeKind::Map(key, value) => Value::Object(map_entries(
            model,
            key,
            value,
            element.children.iter().filter(|c| c.name == "entry"),
            path,
        )?),
        _ => scalar(model, shape, &element.text, path)?,
    }))
}

/// A structure member from the children of `parent`.
fn member_value(
    model: &ServiceModel,
    member: &MemberRef,
    parent: &Element,
    path: &str,
) -> Result<Option<Value>, AwsError> {
    let named = |name| children(parent, name);
    if member.flattened {
        match model.shape_kind(member.shape) {
            ShapeKind::List(item) => {
                // Flattened items are named by the list member, else by the structure member.
                let name = item.location_name.as_deref().unwrap_or(member.wire_name());
                let mut children = named(name).peekable();
                if children.peek().is_none() {
                    children = named(member.wire_name()).peekable();
                }
                let items = list_items(model, item, children, path)?;
                return Ok((!items.is_empty()).then_some(Value::Array(items)));
            }
            ShapeKind::Map(key, value) => {
                let entries = map_entries(model, key, value, named(member.wire_name()), path)?;
                return Ok((!entries.is_empty()).then_some(Value::Object(entries)));
            }
            _ => {}
        }
    }
    match named(member.wire_name()).next() {
        Some(child) => element_value(model, member.shape, child, path),
        None => Ok(None),
    }
}

/// The children of `parent` named `name`.
fn children<'e>(parent: &'e Element, name: &'e str) -> impl Iterator<Item = &'e Element> {
    parent.children.iter().filter(move |c| c.name == name)
}

fn list_items<'e>(
    model: &ServiceModel,
    item: &MemberRef,
    children: impl Iterator<Item = &'e Element>,
    path: &str,
) -> Result<Vec<Value>, AwsError> {
    let mut items = Vec::new();
    for (i, child) in children.enumerate() {
        let at = format!("{path}.{}.member", i + 1);
        if let Some(v) = element_value(model, item.shape, child, &at)? {
            items.push(v);
        }
    }
    Ok(items)
}

fn map_entries<'e>(
    model: &ServiceModel,
    key: &MemberRef,
    value: &MemberRef,
    entries: impl Iterator<Item = &'e Element>,
    path: &str,
) -> Result<Map<String, Value>, AwsError> {
    let mut map = Map::new();
    for entry in entries {
        let k = entry.children.iter().find(|c| c.name == key.wire_name());
        let v = entry.children.iter().find(|c| c.name == value.wire_name());
        if let (Some(k), Some(v)) = (k, v) {
            let at = format!("{path}.value");
            if let Some(v) = element_value(model, value.shape, v, &at)? {
                map.insert(k.text.clone(), v);
            }
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_bodies_are_invalid_input() {
        let m = ServiceModel::from_json(include_str!("../models/route53.json"));
        let (op, labels) = route(&m, "POST", "/2013-04-01/hostedzone").unwrap();
        let e =
            parse_request(&m, &op, &labels, None, &HeaderMap::new(), b"<A><B>x</A>").unwrap_err();
        assert_eq!((&*e.code, e.status), ("InvalidInput", 400));
        assert_eq!(
            e.message,
            "The request body is not well-formed XML: the end tag </A> does not match the start tag \
             <B> (line 1, column 11)"
        );
        let e = parse_request(&m, &op, &labels, Some("a=%FF"), &HeaderMap::new(), b"").unwrap_err();
        assert_eq!(e.code, "InvalidInput");
    }
}
