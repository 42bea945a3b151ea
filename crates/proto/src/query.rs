//! The awsQuery protocol (IAM, STS): requests are form-encoded parameters
//! (`Action=CreateRole&Version=2010-05-08&RoleName=r&Tags.member.1.Key=k&...`), responses and errors
//! are XML. Both directions are driven by the service model, so services work with the same JSON values
//! as the awsJson ones: [`parse_request`] yields a value shaped like the operation's input (ready for
//! [`ServiceModel::validate`] and [`crate::json::from_value`]), [`serialize_response`] writes a value
//! shaped like the output.
//!
//! Wire names follow the model: `locationName` where given, lists as `Name.member.N` (or `Name.N` when
//! flattened), maps as `Name.entry.N.key` / `Name.entry.N.value`, nested members as `A.B`.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use crate::model::{ServiceModel, ShapeId, ShapeKind};
use crate::xml_out::{close, escape, namespace, open, write_members};
use crate::AwsError;

pub const CONTENT_TYPE: &str = "text/xml";

/// Parses a form-encoded awsQuery body (or a GET query string) into the operation name and a JSON
/// object shaped like the operation's input. Scalars are converted by shape type: integers and longs to
/// numbers, booleans to `true`/`false`; timestamps stay strings and blobs stay base64 strings.
/// Parameters the input shape does not name are ignored, as AWS does.
pub fn parse_request(model: &ServiceModel, body: &[u8]) -> Result<(String, Value), AwsError> {
    let params = decode_form(body)?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let action = match param("Action") {
        Some(action) if !action.is_empty() => action,
        _ => return Err(AwsError::new("MissingAction", 400, "Missing Action")),
    };
    let version = param("Version");
    let version_known = match (version, model.metadata.api_version.as_deref()) {
        (Some(sent), Some(expected)) => sent == expected,
        _ => true,
    };
    if !model.has_operation(action) || !version_known {
        let version = version.or(model.metadata.api_version.as_deref());
        return Err(AwsError::new(
            "InvalidAction",
            400,
            format!(
                "Could not find operation {action} for version {}",
                version.unwrap_or("NO_VERSION_SPECIFIED")
            ),
        ));
    }
    let Some(input) = model.input_shape(action) else {
        return Ok((action.to_string(), Value::Object(Map::new())));
    };
    let mut root = Node::default();
    for (key, value) in &params {
        let mut node = &mut root;
        for segment in key.split('.') {
            node = node.children.entry(segment).or_default();
        }
        node.value = Some(value);
    }
    let value = convert(model, input, false, &root, &Path::Root)?
        .unwrap_or_else(|| Value::Object(Map::new()));
    Ok((action.to_string(), value))
}

/// [`ServiceModel::validate`] with the error code awsQuery services send (`ValidationError`).
pub fn validate(model: &ServiceModel, operation: &str, input: &Value) -> Result<(), AwsError> {
    model.validate(operation, input).map_err(query_error)
}

/// Renames awsJson's generic `ValidationException` (from [`ServiceModel::validate`] and
/// [`crate::json::from_value`]) to awsQuery's `ValidationError`; other errors pass unchanged.
pub fn query_error(mut err: AwsError) -> AwsError {
    if err.code == "ValidationException" {
        err.code = "ValidationError".into();
    }
    err
}

/// The wire error code and HTTP status for an exception shape: IAM's `NoSuchEntityException` is
/// `("NoSuchEntity", 404)`. None if the model has no such exception.
pub fn error_code(model: &ServiceModel, shape_name: &str) -> Option<(String, u16)> {
    model.error(shape_name).map(|e| (e.code.clone(), e.status))
}

/// An error named by its exception shape, with the model's wire code and status (the shape name and
/// 400 if the model has no such exception).
pub fn modeled_error(
    model: &ServiceModel,
    shape_name: &str,
    message: impl Into<String>,
) -> AwsError {
    let (code, status) = error_code(model, shape_name).unwrap_or((shape_name.to_string(), 400));
    AwsError::new(code, status, message)
}

/// `<OpResponse xmlns="NS"><OpResult>…</OpResult><ResponseMetadata><RequestId>…</RequestId>
/// </ResponseMetadata></OpResponse>` for `output`, a JSON value shaped like the operation's output
/// shape. Operations without output produce only the metadata. Timestamps may be epoch seconds
/// (numbers or numeric strings) or RFC 3339 strings; they are written as ISO 8601 in UTC.
pub fn serialize_response(
    model: &ServiceModel,
    operation: &str,
    output: &Value,
    request_id: &str,
) -> String {
    let mut out = String::with_capacity(512);
    out.push('<');
    out.push_str(operation);
    out.push_str("Response");
    namespace(model, &mut out);
    if let Some((shape, wrapper)) = model.output_shape(operation) {
        match wrapper {
            Some(wrapper) => {
                open(&mut out, wrapper);
                write_members(model, shape, output, &mut out);
                close(&mut out, wrapper);
            }
            None => write_members(model, shape, output, &mut out),
        }
    }
    out.push_str("<ResponseMetadata><RequestId>");
    escape(request_id, &mut out);
    out.push_str("</RequestId></ResponseMetadata></");
    out.push_str(operation);
    out.push_str("Response>");
    out
}

/// AWS's XML error document (see [`crate::xml_out::error_document`]).
pub fn error_response(model: &ServiceModel, err: &AwsError, request_id: &str) -> String {
    crate::xml_out::error_document(model, err, request_id, "")
}

// ---- requests ----

/// `application/x-www-form-urlencoded`: `&`-separated `key=value`, `+` for space, `%XX` escapes.
fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, AwsError> {
    let decode = |part: &[u8]| -> Result<String, AwsError> {
        let plus_free: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        let bytes: Vec<u8> = percent_encoding::percent_decode(&plus_free).collect();
        String::from_utf8(bytes).map_err(|_| {
            AwsError::new(
                "MalformedQueryString",
                400,
                "The request parameters are not valid UTF-8",
            )
        })
    };
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &pair[..0]),
            };
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}

/// Parameters as a tree of their dot-separated names: `Tags.member.1.Key` → Tags/member/1/Key.
#[derive(Default)]
struct Node<'a> {
    value: Option<&'a str>,
    children: HashMap<&'a str, Node<'a>>,
}

impl<'a> Node<'a> {
    /// Children named `1`, `2`, …, in index order.
    fn indexed(&self) -> Vec<(usize, &Node<'a>)> {
        let mut items: Vec<(usize, &Node<'a>)> = self
            .children
            .iter()
            .filter_map(|(k, n)| Some((k.parse::<usize>().ok().filter(|&i| i > 0)?, n)))
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items
    }
}

/// Where a value sits, in AWS's validation-message form (`tags.1.member.key`), built only on error.
enum Path<'p> {
    Root,
    Member(&'p Path<'p>, &'p str),
    Item(&'p Path<'p>, usize),
    Entry(&'p Path<'p>, &'static str),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Member(parent, name) => {
                if !matches!(parent, Path::Root) {
                    write!(f, "{parent}.")?;
                }
                let mut chars = name.chars();
                if let Some(first) = chars.next() {
                    write!(f, "{}{}", first.to_lowercase(), chars.as_str())?;
                }
                Ok(())
            }
            Path::Item(parent, i) => write!(f, "{parent}.{i}.member"),
            Path::Entry(parent, part) => write!(f, "{parent}.{part}"),
        }
    }
}

/// The value of `node` as `shape`; None when the parameters give it no value.
fn convert(
    model: &ServiceModel,
    shape: ShapeId,
    flattened: bool,
    node: &Node,
    path: &Path,
) -> Result<Option<Value>, AwsError> {
    let invalid = |text: &str, kind: &str| {
        let shown = if model.is_sensitive(shape) {
            "Value".to_string()
        } else {
            format!("Value '{text}'")
        };
        AwsError::new(
            "ValidationError",
            400,
            format!(
                "1 validation error detected: {shown} at '{path}' failed to satisfy constraint: \
                 Member must be of type {kind}"
            ),
        )
    };
    Ok(match model.shape_kind(shape) {
        ShapeKind::Structure { members, .. } => {
            let mut object = Map::new();
            for member in members {
                let key = match model.shape_kind(member.shape) {
                    // A flattened list named by its element repeats under the element's name.
                    ShapeKind::List(element) if member.flattened => element
                        .location_name
                        .as_deref()
                        .unwrap_or(member.wire_name()),
                    _ => member.wire_name(),
                };
                if let Some(child) = node.children.get(key) {
                    let at = Path::Member(path, &member.name);
                    if let Some(v) = convert(model, member.shape, member.flattened, child, &at)? {
                        object.insert(member.name.clone(), v);
                    }
                }
            }
            Some(Value::Object(object))
        }
        ShapeKind::List(element) => {
            let items = if flattened {
                Some(node)
            } else {
                node.children.get(element.wire_name())
            };
            let mut list = Vec::new();
            for (i, item) in items.map(Node::indexed).unwrap_or_default() {
                let at = Path::Item(path, i);
                if let Some(v) = convert(model, element.shape, element.flattened, item, &at)? {
                    list.push(v);
                }
            }
            Some(Value::Array(list))
        }
        ShapeKind::Map(key, value) => {
            let entries = if flattened {
                Some(node)
            } else {
                node.children.get("entry")
            };
            let mut map = Map::new();
            for (_, entry) in entries.map(Node::indexed).unwrap_or_default() {
                let k = entry.children.get(key.wire_name()).and_then(|n| n.value);
                let v = entry.children.get(value.wire_name());
                if let (Some(k), Some(v)) = (k, v) {
                    let at = Path::Entry(path, "value");
                    if let Some(v) = convert(model, value.shape, value.flattened, v, &at)? {
                        map.insert(k.to_string(), v);
                    }
                }
            }
            Some(Value::Object(map))
        }
        kind => {
            let Some(text) = node.value else {
                return Ok(None);
            };
            Some(match kind {
                ShapeKind::Integer => text
                    .trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| invalid(text, "integer"))?,
                ShapeKind::Float => text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| invalid(text, "number"))?,
                ShapeKind::Boolean => match text.trim() {
                    t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
                    t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
                    _ => return Err(invalid(text, "boolean")),
                },
                _ => Value::String(text.to_string()),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml_out::timestamp;

    #[test]
    fn text_is_escaped() {
        let mut out = String::new();
        escape("a<b>&\"c'\r\n\t\u{1}é", &mut out);
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&apos;&#xD;\n\t\u{fffd}é");
    }

    #[test]
    fn timestamps_are_iso8601_utc() {
        let t = |v: Value| timestamp(&v);
        assert_eq!(
            t(Value::from(1_795_878_000)).unwrap(),
            "2026-11-28T15:00:00Z"
        );
        assert_eq!(
            t(Value::from(1_795_878_000.25)).unwrap(),
            "2026-11-28T15:00:00.250Z"
        );
        assert_eq!(
            t(Value::from("1795878000")).unwrap(),
            "2026-11-28T15:00:00Z"
        );
        assert_eq!(
            t(Value::from("2026-11-28T16:00:00+01:00")).unwrap(),
            "2026-11-28T15:00:00Z"
        );
        assert_eq!(t(Value::from("not a time")), None);
    }

    #[test]
    fn forms_decode() {
        let pairs = decode_form(b"A=x+y%26z&B&&C=%C3%A9=").unwrap();
        assert_eq!(
            pairs,
            [
                ("A".into(), "x y&z".into()),
                ("B".into(), String::new()),
                ("C".into(), "é=".into())
            ]
        );
        assert_eq!(
            decode_form(b"A=%FF").unwrap_err().code,
            "MalformedQueryString"
        );
    }
}
