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
use crate::xml_out::{close, namespace, time, write};
use crate::AwsError;

pub const CONTENT_TYPE: &str = "text/xml";

/// Nesting deeper than this is refused rather than parsed.
const MAX_DEPTH: usize = 64;

/// Literal segments matched, and whether a fixed query part matched.
type Specificity = (usize, bool);
type Labels = Vec<(String, String)>;

/// The operation whose `requestUri` template matches `method` and `path`, with the values of its
/// `{labels}` (percent-decoded; a greedy `{Key+}` label spans several segments). `path` may carry a
/// query string (`/a/b?x`), which a template's fixed query part (`?x`) must then find. A trailing
/// slash on either side is ignored; when several templates match, the one with the most literal
/// segments wins.
pub fn route(
    model: &ServiceModel,
    method: &str,
    path: &str,
) -> Option<(String, Vec<(String, String)>)> {
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let query = query.map(decode_query).unwrap_or_default();
    let segments = split_path(path);
    let mut best: Option<(Specificity, String, Labels)> = None;
    for operation in model.operation_names() {
        let Some(http) = model.http(operation) else {
            continue;
        };
        if !http.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let (template, fixed) = match http.request_uri.split_once('?') {
            Some((t, q)) => (t, Some(q)),
            None => (http.request_uri.as_str(), None),
        };
        if let Some(fixed) = fixed {
            let wanted = decode_query(fixed);
            if !wanted.iter().all(|(k, v)| {
                query
                    .iter()
                    .any(|(qk, qv)| qk == k && (v.is_empty() || qv == v))
            }) {
                continue;
            }
        }
        let Some((literals, labels)) = match_template(&split_path(template), &segments) else {
            continue;
        };
        let score = (literals, fixed.is_some());
        if best
            .as_ref()
            .is_none_or(|(s, op, _)| score > *s || (score == *s && operation < op.as_str()))
        {
            best = Some((score, operation.to_string(), labels));
        }
    }
    best.map(|(_, op, labels)| (op, labels))
}

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
        Some(q) => decode_query_checked(q)?,
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
                    let text = header_text(v, member.wire_name())?;
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
                        let text = header_text(v, name.as_str())?;
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
        let root = parse_xml(body)?;
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

// ---- routing ----

/// Path segments without the leading slash and one trailing slash: `/a/b/` → `["a", "b"]`.
fn split_path(path: &str) -> Vec<&str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').collect()
    }
}

/// The number of literal segments and the decoded labels when `template` matches `segments`.
fn match_template(template: &[&str], segments: &[&str]) -> Option<(usize, Vec<(String, String)>)> {
    let mut labels = Vec::new();
    let mut literals = 0;
    let mut at = 0;
    for (i, part) in template.iter().enumerate() {
        let label = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
        match label {
            Some(name) if name.ends_with('+') => {
                // Greedy: everything up to the literal segments still to come, at least one segment.
                let rest = template.len() - i - 1;
                let end = segments.len().checked_sub(rest)?;
                if end <= at || segments[at..end].iter().any(|s| s.is_empty()) {
                    return None;
                }
                let value = segments[at..end]
                    .iter()
                    .map(|s| percent_decode(s))
                    .collect::<Vec<_>>()
                    .join("/");
                labels.push((name.trim_end_matches('+').to_string(), value));
                at = end;
            }
            Some(name) => {
                let segment = segments.get(at).filter(|s| !s.is_empty())?;
                labels.push((name.to_string(), percent_decode(segment)));
                at += 1;
            }
            None => {
                if segments.get(at) != Some(part) {
                    return None;
                }
                literals += 1;
                at += 1;
            }
        }
    }
    (at == segments.len()).then_some((literals, labels))
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

// ---- requests ----

fn invalid_input(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidInput", 400, message)
}

/// `&`-separated `key=value`, `+` for space, `%XX` escapes.
fn decode_query_checked(query: &str) -> Result<Vec<(String, String)>, AwsError> {
    let decode = |part: &str| -> Result<String, AwsError> {
        let plus_free = part.replace('+', " ");
        percent_encoding::percent_decode_str(&plus_free)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| invalid_input("The query string parameters are not valid UTF-8"))
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}

fn decode_query(query: &str) -> Vec<(String, String)> {
    decode_query_checked(query).unwrap_or_default()
}

fn header_text<'h>(value: &'h http::HeaderValue, name: &str) -> Result<&'h str, AwsError> {
    value
        .to_str()
        .map_err(|_| invalid_input(format!("The {name} header is not valid text")))
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

/// AWS names members in lowerCamelCase in validation messages: `MaxItems` → `maxItems`.
fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        camel(name)
    } else {
        format!("{path}.{}", camel(name))
    }
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

// ---- XML parsing ----

/// An element of a parsed document: its local name (namespace prefix dropped), child elements and
/// the text directly inside it. Attributes are not kept.
#[derive(Debug, Default)]
struct Element {
    name: String,
    children: Vec<Element>,
    text: String,
}

/// Parses a request body: one root element, optionally preceded by an XML declaration, with
/// comments, CDATA sections and character references. Document type declarations are refused.
fn parse_xml(body: &[u8]) -> Result<Element, AwsError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| invalid_input("The request body is not valid UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = XmlParser { text, at: 0 };
    parser.document().map_err(|(at, problem)| {
        let before = &text[..at.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        invalid_input(format!(
            "The request body is not well-formed XML: {problem} (line {line}, column {column})"
        ))
    })
}

struct XmlParser<'t> {
    text: &'t str,
    at: usize,
}

type XmlResult<T> = Result<T, (usize, String)>;

impl XmlParser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn fail<T>(&self, problem: impl Into<String>) -> XmlResult<T> {
        Err((self.at, problem.into()))
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    }

    /// Skips past `end`, or fails with `problem`.
    fn skip_past(&mut self, end: &str, problem: &str) -> XmlResult<&str> {
        match self.rest().find(end) {
            Some(i) => {
                let skipped = &self.text[self.at..self.at + i];
                self.at += i + end.len();
                Ok(skipped)
            }
            None => self.fail(problem),
        }
    }

    /// Comments and processing instructions between markup, and whitespace.
    fn skip_misc(&mut self) -> XmlResult<()> {
        loop {
            self.skip_space();
            if self.rest().starts_with("<?") {
                self.skip_past("?>", "unterminated processing instruction")?;
            } else if self.rest().starts_with("<!--") {
                self.skip_past("-->", "unterminated comment")?;
            } else if self.rest().starts_with("<!") {
                return self.fail("document type declarations are not allowed");
            } else {
                return Ok(());
            }
        }
    }

    fn document(&mut self) -> XmlResult<Element> {
        self.skip_misc()?;
        if !self.rest().starts_with('<') {
            return self.fail("expected the root element");
        }
        let root = self.element()?;
        self.skip_misc()?;
        if !self.rest().is_empty() {
            return self.fail("unexpected content after the root element");
        }
        Ok(root)
    }

    fn name(&mut self) -> XmlResult<&str> {
        let rest = self.rest();
        let len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '=' | '<'))
            .unwrap_or(rest.len());
        if len == 0 {
            return self.fail("expected a name");
        }
        let name = &self.text[self.at..self.at + len];
        self.at += len;
        Ok(name)
    }

    /// An element starting at `<`, iteratively so deep nesting cannot exhaust the stack.
    fn element(&mut self) -> XmlResult<Element> {
        // Open elements with their qualified names.
        let mut stack: Vec<(Element, String)> = Vec::new();
        loop {
            // At `<` of a start tag.
            self.at += 1;
            let qualified = self.name()?.to_string();
            let local = qualified.rsplit(':').next().unwrap_or_default().to_string();
            let empty = self.attributes()?;
            let element = Element {
                name: local,
                ..Element::default()
            };
            if empty {
                match stack.last_mut() {
                    Some((parent, _)) => parent.children.push(element),
                    None => return Ok(element),
                }
            } else {
                if stack.len() >= MAX_DEPTH {
                    return self.fail(format!("elements nest deeper than {MAX_DEPTH} levels"));
                }
                stack.push((element, qualified));
            }
            // Content until the next start tag, or end tags closing the document.
            loop {
                let Some((current, _)) = stack.last_mut() else {
                    return self.fail("no element is open");
                };
                let rest = &self.text[self.at..];
                let Some(lt) = rest.find('<') else {
                    return self.fail("unexpected end of document inside an element");
                };
                let chunk = &rest[..lt];
                let start = self.at;
                current
                    .text
                    .push_str(&unescape(chunk).map_err(|p| (start, p))?);
                self.at += lt;
                let rest = self.rest();
                if rest.starts_with("<!--") {
                    self.skip_past("-->", "unterminated comment")?;
                } else if rest.starts_with("<![CDATA[") {
                    self.at += "<![CDATA[".len();
                    let data = self.skip_past("]]>", "unterminated CDATA section")?;
                    let data = normalize_newlines(data);
                    if let Some((current, _)) = stack.last_mut() {
                        current.text.push_str(&data);
                    }
                } else if rest.starts_with("<?") {
                    self.skip_past("?>", "unterminated processing instruction")?;
                } else if rest.starts_with("<!") {
                    return self.fail("unexpected declaration inside an element");
                } else if rest.starts_with("</") {
                    self.at += 2;
                    let name = self.name()?.to_string();
                    self.skip_space();
                    if !self.rest().starts_with('>') {
                        return self.fail("expected '>'");
                    }
                    let Some((done, qualified)) = stack.pop() else {
                        return self.fail("no element is open");
                    };
                    if name != qualified {
                        return self.fail(format!(
                            "the end tag </{name}> does not match the start tag <{qualified}>"
                        ));
                    }
                    self.at += 1;
                    match stack.last_mut() {
                        Some((parent, _)) => parent.children.push(done),
                        None => return Ok(done),
                    }
                } else {
                    break;
                }
            }
        }
    }

    /// Attributes after a start tag's name, through `>` or `/>`; true for `/>`.
    fn attributes(&mut self) -> XmlResult<bool> {
        loop {
            self.skip_space();
            let rest = self.rest();
            if rest.starts_with("/>") {
                self.at += 2;
                return Ok(true);
            }
            if rest.starts_with('>') {
                self.at += 1;
                return Ok(false);
            }
            if rest.is_empty() {
                return self.fail("unterminated start tag");
            }
            self.name()?;
            self.skip_space();
            if !self.rest().starts_with('=') {
                return self.fail("expected '=' after an attribute name");
            }
            self.at += 1;
            self.skip_space();
            let quote = match self.rest().chars().next() {
                Some(q @ ('"' | '\'')) => q,
                _ => return self.fail("expected a quoted attribute value"),
            };
            self.at += 1;
            let value = self.skip_past(&quote.to_string(), "unterminated attribute value")?;
            if value.contains('<') {
                return self.fail("'<' in an attribute value");
            }
        }
    }
}

/// `\r\n` and lone `\r` become `\n`, as XML parsers do.
fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Character data with references resolved.
fn unescape(text: &str) -> Result<String, String> {
    let text = normalize_newlines(text);
    if !text.contains('&') {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        let Some(semi) = rest.find(';') else {
            return Err("'&' that does not start a reference (write &amp;)".into());
        };
        let name = &rest[..semi];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown reference &{name};"))?
            }
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

// ---- responses ----

fn header_scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An HTTP date (`Sat, 28 Nov 2026 15:00:00 GMT`), as timestamps in headers are sent.
fn http_date(value: &Value) -> Option<String> {
    Some(time(value)?.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_parses_with_references_cdata_and_namespaces() {
        let doc = parse_xml(
            b"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\
              <r:Root xmlns:r=\"urn:x\" a='1>2'><A>x &amp; &lt;y&gt; &#65;&#x42;</A>\
              <B><![CDATA[<raw> & ]]>tail</B><C/><D>line\r\nnext</D><!-- c --></r:Root>\n",
        )
        .unwrap();
        assert_eq!(doc.name, "Root");
        let texts: Vec<(&str, &str)> = doc
            .children
            .iter()
            .map(|c| (c.name.as_str(), c.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                ("A", "x & <y> AB"),
                ("B", "<raw> & tail"),
                ("C", ""),
                ("D", "line\nnext")
            ]
        );
    }

    #[test]
    fn malformed_xml_is_reported_with_its_place() {
        let err = |body: &str| parse_xml(body.as_bytes()).unwrap_err();
        let e = err("<A><B>x</A>");
        assert_eq!((&*e.code, e.status), ("InvalidInput", 400));
        assert_eq!(
            e.message,
            "The request body is not well-formed XML: the end tag </A> does not match the start tag \
             <B> (line 1, column 11)"
        );
        for (body, problem) in [
            ("", "expected the root element"),
            ("plain text", "expected the root element"),
            ("<A>", "unexpected end of document"),
            ("<A>1</A><B/>", "unexpected content after the root element"),
            ("<A>a & b</A>", "'&' that does not start a reference"),
            ("<A>&nbsp;</A>", "unknown reference &nbsp;"),
            ("<A x=1/>", "expected a quoted attribute value"),
            (
                "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
                "document type declarations",
            ),
            ("<A><!-- x</A>", "unterminated comment"),
            ("<A", "unterminated start tag"),
        ] {
            let e = err(body);
            assert!(e.message.contains(problem), "{body}: {}", e.message);
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(err(&deep).message.contains("nest deeper"));
        assert_eq!(
            parse_xml(b"<A>\xff</A>").unwrap_err().message,
            "The request body is not valid UTF-8"
        );
    }

    #[test]
    fn templates_match_labels() {
        let m = |t: &str, p: &str| match_template(&split_path(t), &split_path(p));
        assert_eq!(
            m("/v/{Id}/rrset/", "/v/Z1/rrset"),
            Some((2, vec![("Id".into(), "Z1".into())]))
        );
        assert_eq!(
            m("/v/{Key+}/x", "/v/a/b%2Fc/d%20e/x"),
            Some((2, vec![("Key".into(), "a/b/c/d e".into())]))
        );
        assert_eq!(m("/v/{Key+}", "/v"), None);
        assert_eq!(m("/v/{Id}", "/v//"), None);
        assert_eq!(m("/v/{Id}", "/v/a/b"), None);
        assert_eq!(m("/v", "/v/"), Some((1, vec![])));
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            http_date(&Value::from(1_795_878_000)).unwrap(),
            "Sat, 28 Nov 2026 15:00:00 GMT"
        );
    }
}
