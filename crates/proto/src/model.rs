//! Request validation driven by botocore's service models (see `models/`), the same way AWS's own
//! front end checks a request before the operation runs: required members, types, lengths, ranges,
//! enums and patterns, with AWS's message form:
//!
//! `1 validation error detected: Value 'x' at 'aliasName' failed to satisfy constraint: Member must
//! satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$`
//!
//! Values of sensitive shapes and blobs are never echoed in messages.
//!
//! The compiled model also keeps what the XML-based protocols need ([`crate::query`]): wire names
//! (`locationName`), `flattened`, operation outputs with their `resultWrapper`, and the error codes
//! and statuses of exception shapes. See [`ServiceModel::shape_kind`]. For restXml
//! ([`crate::rest_xml`]) it keeps each operation's HTTP binding ([`ServiceModel::http`]), the input's
//! root element ([`ServiceModel::input_root`]) and where each member travels ([`MemberRef::location`]).
//! For restJson1 ([`crate::rest_json`]) it adds the structure member sent as the whole body
//! ([`ServiceModel::payload`]), timestamp formats ([`MemberRef::timestamp_format`]) and JSON values
//! in headers ([`MemberRef::json_value`]); for awsJson, the JSON version
//! ([`Metadata::json_version`]). Host prefixes ([`ServiceModel::host_prefix`]), host labels and
//! unions are kept for the services whose models have them.

use std::collections::HashMap;

use regex::Regex;
use serde::Deserialize;

use crate::AwsError;

#[derive(Deserialize)]
struct RawModel {
    metadata: Metadata,
    operations: HashMap<String, RawOperation>,
    shapes: HashMap<String, RawShape>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub endpoint_prefix: String,
    pub target_prefix: Option<String>,
    pub signing_name: Option<String>,
    pub service_id: String,
    pub api_version: Option<String>,
    /// The namespace of awsQuery / restXml responses (for restXml, taken from the inputs' when the
    /// metadata has none).
    pub xml_namespace: Option<String>,
    /// awsJson: `1.0` (DynamoDB) or `1.1` (KMS, SSM, ACM, CloudTrail).
    pub json_version: Option<String>,
    /// `json`, `query`, `rest-xml`, `rest-json`.
    pub protocol: Option<String>,
}

#[derive(Deserialize)]
struct RawOperation {
    http: Option<RawHttp>,
    input: Option<ShapeRef>,
    output: Option<ShapeRef>,
    endpoint: Option<RawEndpoint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEndpoint {
    host_prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHttp {
    method: String,
    request_uri: String,
    response_code: Option<u16>,
}

#[derive(Deserialize)]
struct RawNamespace {
    uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShapeRef {
    shape: String,
    location_name: Option<String>,
    #[serde(default)]
    flattened: bool,
    result_wrapper: Option<String>,
    location: Option<String>,
    xml_namespace: Option<RawNamespace>,
    timestamp_format: Option<String>,
    #[serde(default)]
    jsonvalue: bool,
    #[serde(default)]
    host_label: bool,
    #[serde(default)]
    streaming: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawError {
    code: Option<String>,
    http_status_code: Option<u16>,
    sender_fault: Option<bool>,
}

#[derive(Deserialize)]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: HashMap<String, ShapeRef>,
    #[serde(default)]
    required: Vec<String>,
    member: Option<ShapeRef>,
    key: Option<ShapeRef>,
    value: Option<ShapeRef>,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<String>,
    #[serde(rename = "enum")]
    enum_values: Option<Vec<String>>,
    #[serde(default)]
    sensitive: bool,
    #[serde(rename = "locationName")]
    location_name: Option<String>,
    #[serde(default)]
    flattened: bool,
    #[serde(default)]
    exception: bool,
    error: Option<RawError>,
    payload: Option<String>,
    #[serde(rename = "timestampFormat")]
    timestamp_format: Option<String>,
    #[serde(default)]
    jsonvalue: bool,
    #[serde(default)]
    union: bool,
    #[serde(default)]
    streaming: bool,
}

/// A compiled shape, named by [`ServiceModel`] accessors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShapeId(usize);

/// A reference to a shape: a structure member, a list element or a map key/value, with the traits
/// the reference or the target shape gives it.
#[derive(Debug, Clone)]
pub struct MemberRef {
    /// The member name; `member`, `key` and `value` for list elements and map entries.
    pub name: String,
    pub shape: ShapeId,
    /// `locationName`: the name on the wire when it differs from `name`.
    pub location_name: Option<String>,
    /// `flattened` (lists and maps): elements repeat in place of a wrapping element.
    pub flattened: bool,
    /// REST protocols: where the member travels when not in the body.
    pub location: Option<Location>,
    /// `timestampFormat` of a timestamp (the reference's, else the shape's); None for the
    /// protocol's default.
    pub timestamp_format: Option<TimestampFormat>,
    /// `jsonvalue`: a string holding a JSON document (base64-encoded when sent in a header).
    pub json_value: bool,
    /// `hostLabel`: the member fills a label of the operation's host prefix.
    pub host_label: bool,
    /// `streaming`: a blob or string payload sent as a stream of bytes (S3 object bodies).
    pub streaming: bool,
}

/// How a timestamp is written, when a model names it (`timestampFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    /// `2026-11-28T15:00:00Z`.
    Iso8601,
    /// An HTTP date: `Sat, 28 Nov 2026 15:00:00 GMT`.
    Rfc822,
    /// Seconds since the epoch, possibly with a fraction.
    UnixTimestamp,
}

impl TimestampFormat {
    fn parse(text: &str) -> Option<TimestampFormat> {
        Some(match text.to_ascii_lowercase().as_str() {
            "iso8601" => TimestampFormat::Iso8601,
            "rfc822" => TimestampFormat::Rfc822,
            "unixtimestamp" => TimestampFormat::UnixTimestamp,
            _ => return None,
        })
    }
}

/// REST protocols: the part of the HTTP message a structure member travels in, instead of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A `{label}` of the request URI.
    Uri,
    /// A query-string parameter (a map: every parameter no other member names).
    QueryString,
    /// A header named by the wire name.
    Header,
    /// A map of the headers starting with the wire name (a prefix).
    Headers,
    /// The response's HTTP status.
    StatusCode,
}

impl Location {
    fn parse(text: &str) -> Option<Location> {
        Some(match text {
            "uri" => Location::Uri,
            "querystring" => Location::QueryString,
            "header" => Location::Header,
            "headers" => Location::Headers,
            "statusCode" => Location::StatusCode,
            _ => return None,
        })
    }
}

/// REST protocols: an operation's HTTP binding.
#[derive(Debug, Clone)]
pub struct HttpBinding {
    pub method: String,
    /// The path template (`/2013-04-01/hostedzone/{Id}/rrset/`), possibly with a fixed query part.
    pub request_uri: String,
    /// The status of a successful response (200 unless the model says otherwise).
    pub response_code: u16,
}

impl MemberRef {
    /// The name on the wire.
    pub fn wire_name(&self) -> &str {
        self.location_name.as_deref().unwrap_or(&self.name)
    }
}

/// A shape's type and, for aggregates, its members.
#[derive(Debug)]
pub enum ShapeKind {
    Structure {
        /// Sorted by member name.
        members: Vec<MemberRef>,
        required: Vec<String>,
    },
    List(MemberRef),
    Map(MemberRef, MemberRef),
    String,
    /// `integer` and `long`.
    Integer,
    /// `float` and `double`.
    Float,
    Boolean,
    Blob,
    Timestamp,
}

/// How an exception shape is sent: its wire code, HTTP status and fault side.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    /// `error.code`, else the shape name.
    pub code: String,
    /// `error.httpStatusCode`, else 400.
    pub status: u16,
    /// `error.senderFault`, else whether `status` is below 500.
    pub sender_fault: bool,
}

struct Operation {
    input: Option<usize>,
    output: Option<usize>,
    result_wrapper: Option<String>,
    http: Option<HttpBinding>,
    /// The input's `locationName` and `xmlNamespace.uri`.
    input_root: Option<(String, Option<String>)>,
    /// `endpoint.hostPrefix` (`{AccountId}.`).
    host_prefix: Option<String>,
}

struct Shape {
    name: String,
    kind: ShapeKind,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<(String, Regex)>,
    enum_values: Option<Vec<String>>,
    sensitive: bool,
    /// The member sent as the whole HTTP body (REST protocols).
    payload: Option<String>,
    union: bool,
}

/// A service's operations and shapes, compiled for validation and the wire protocols.
pub struct ServiceModel {
    pub metadata: Metadata,
    shapes: Vec<Shape>,
    operations: HashMap<String, Operation>,
    /// Exception shape name → how it is sent.
    errors: HashMap<String, ErrorInfo>,
}

impl ServiceModel {
    /// Compiles a stripped botocore model. Panics on a malformed model: models ship inside the binary
    /// and are checked by tests.
    pub fn from_json(text: &str) -> ServiceModel {
        let raw: RawModel = serde_json::from_str(text).expect("service model parses");
        let mut names: Vec<&String> = raw.shapes.keys().collect();
        names.sort();
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let at = |r: &ShapeRef| {
            *index
                .get(r.shape.as_str())
                .unwrap_or_else(|| panic!("shape {}", r.shape))
        };
        // Traits of a reference: its own, else the target shape's.
        let member = |name: &str, r: &ShapeRef| {
            let target = &raw.shapes[r.shape.as_str()];
            MemberRef {
                name: name.to_string(),
                shape: ShapeId(at(r)),
                location_name: r
                    .location_name
                    .clone()
                    .or_else(|| target.location_name.clone()),
                flattened: r.flattened || target.flattened,
                location: r.location.as_deref().and_then(Location::parse),
                timestamp_format: r
                    .timestamp_format
                    .as_deref()
                    .or(target.timestamp_format.as_deref())
                    .and_then(TimestampFormat::parse),
                json_value: r.jsonvalue || target.jsonvalue,
                host_label: r.host_label,
                streaming: r.streaming || target.streaming,
            }
        };
        let shapes = names
            .iter()
            .map(|name| {
                let s = &raw.shapes[*name];
                let kind = match s.kind.as_str() {
                    "structure" => {
                        let mut members: Vec<MemberRef> =
                            s.members.iter().map(|(m, r)| member(m, r)).collect();
                        members.sort_by(|a, b| a.name.cmp(&b.name));
                        ShapeKind::Structure {
                            members,
                            required: s.required.clone(),
                        }
                    }
                    "list" => {
                        ShapeKind::List(member("member", s.member.as_ref().expect("list member")))
                    }
                    "map" => ShapeKind::Map(
                        member("key", s.key.as_ref().expect("map key")),
                        member("value", s.value.as_ref().expect("map value")),
                    ),
                    "string" => ShapeKind::String,
                    "integer" | "long" => ShapeKind::Integer,
                    "double" | "float" => ShapeKind::Float,
                    "boolean" => ShapeKind::Boolean,
                    "blob" => ShapeKind::Blob,
                    "timestamp" => ShapeKind::Timestamp,
                    other => panic!("shape {name}: unknown type {other}"),
                };
                // botocore patterns are Java regexes matched against the whole value.
                let pattern = s.pattern.as_ref().and_then(|p| {
                    Regex::new(&format!("^(?:{p})$"))
                        .ok()
                        .map(|re| (p.clone(), re))
                });
                Shape {
                    name: name.to_string(),
                    kind,
                    min: s.min,
                    max: s.max,
                    pattern,
                    enum_values: s.enum_values.clone(),
                    sensitive: s.sensitive,
                    payload: s.payload.clone(),
                    union: s.union,
                }
            })
            .collect();
        let operations: HashMap<String, Operation> = raw
            .operations
            .iter()
            .map(|(name, op)| {
                let operation = Operation {
                    input: op.input.as_ref().map(at),
                    output: op.output.as_ref().map(at),
                    result_wrapper: op.output.as_ref().and_then(|o| o.result_wrapper.clone()),
                    http: op.http.as_ref().map(|h| HttpBinding {
                        method: h.method.clone(),
                        request_uri: h.request_uri.clone(),
                        response_code: h.response_code.unwrap_or(200),
                    }),
                    input_root: op.input.as_ref().and_then(|i| {
                        let name = i.location_name.clone()?;
                        let ns = i.xml_namespace.as_ref().and_then(|n| n.uri.clone());
                        Some((name, ns))
                    }),
                    host_prefix: op.endpoint.as_ref().and_then(|e| e.host_prefix.clone()),
                };
                (name.clone(), operation)
            })
            .collect();
        let errors = raw
            .shapes
            .iter()
            .filter(|(_, s)| s.exception)
            .map(|(name, s)| {
                let e = s.error.as_ref();
                let status = e.and_then(|e| e.http_status_code).unwrap_or(400);
                let info = ErrorInfo {
                    code: e
                        .and_then(|e| e.code.clone())
                        .unwrap_or_else(|| name.clone()),
                    status,
                    sender_fault: e.and_then(|e| e.sender_fault).unwrap_or(status < 500),
                };
                (name.clone(), info)
            })
            .collect();
        let mut metadata = raw.metadata;
        if metadata.xml_namespace.is_none() {
            // restXml models name the namespace on each input instead (all the same).
            metadata.xml_namespace = operations
                .values()
                .filter_map(|op| op.input_root.as_ref()?.1.clone())
                .min();
        }
        ServiceModel {
            metadata,
            shapes,
            operations,
            errors,
        }
    }

    /// The operation's input shape, if it takes input.
    pub fn input_shape(&self, operation: &str) -> Option<ShapeId> {
        self.operations.get(operation)?.input.map(ShapeId)
    }

    /// The operation's output shape, if it has output, with its `resultWrapper`.
    pub fn output_shape(&self, operation: &str) -> Option<(ShapeId, Option<&str>)> {
        let op = self.operations.get(operation)?;
        Some((ShapeId(op.output?), op.result_wrapper.as_deref()))
    }

    pub fn shape_kind(&self, shape: ShapeId) -> &ShapeKind {
        &self.shapes[shape.0].kind
    }

    /// The shape named `name` in the model.
    pub fn shape_id(&self, name: &str) -> Option<ShapeId> {
        // Shapes are compiled in name order.
        self.shapes
            .binary_search_by(|s| s.name.as_str().cmp(name))
            .ok()
            .map(ShapeId)
    }

    /// The shape's name in the model (`CreateHostedZoneResponse`).
    pub fn shape_name(&self, shape: ShapeId) -> &str {
        &self.shapes[shape.0].name
    }

    /// The operation's HTTP binding (restXml), if the model gives one.
    pub fn http(&self, operation: &str) -> Option<&HttpBinding> {
        self.operations.get(operation)?.http.as_ref()
    }

    /// restXml: the root element of the request body (the input's `locationName`) and its
    /// namespace; None when the input has no body root.
    pub fn input_root(&self, operation: &str) -> Option<(&str, Option<&str>)> {
        let (name, ns) = self.operations.get(operation)?.input_root.as_ref()?;
        Some((name.as_str(), ns.as_deref()))
    }

    /// REST protocols: the member of structure `shape` that is the whole HTTP body (`payload`), if
    /// the structure names one.
    pub fn payload(&self, shape: ShapeId) -> Option<&MemberRef> {
        let name = self.shapes[shape.0].payload.as_deref()?;
        match &self.shapes[shape.0].kind {
            ShapeKind::Structure { members, .. } => members.iter().find(|m| m.name == name),
            _ => None,
        }
    }

    /// `union`: a structure of which exactly one member is set.
    pub fn is_union(&self, shape: ShapeId) -> bool {
        self.shapes[shape.0].union
    }

    /// The operation's host prefix (`endpoint.hostPrefix`, with `{Label}`s filled from the members
    /// marked [`MemberRef::host_label`]), if the model gives one.
    pub fn host_prefix(&self, operation: &str) -> Option<&str> {
        self.operations.get(operation)?.host_prefix.as_deref()
    }

    /// Treats `shape_name` as sensitive although the model does not say so (DynamoDB's
    /// `AttributeValue`: item contents must not reach the trail).
    pub fn mark_sensitive(&mut self, shape_name: &str) {
        if let Some(id) = self.shape_id(shape_name) {
            self.shapes[id.0].sensitive = true;
        }
    }

    /// Whether values of the shape must not be echoed.
    pub fn is_sensitive(&self, shape: ShapeId) -> bool {
        self.shapes[shape.0].sensitive
    }

    /// How the exception shape `shape_name` is sent; None if the model has no such exception.
    pub fn error(&self, shape_name: &str) -> Option<&ErrorInfo> {
        self.errors.get(shape_name)
    }

    /// Every exception shape of the model, by shape name.
    pub fn errors(&self) -> impl Iterator<Item = (&str, &ErrorInfo)> {
        self.errors.iter().map(|(name, info)| (name.as_str(), info))
    }

    /// The error this service answers a server-side failure with (the store or the trail cannot be
    /// written): its own (KMS's `KMSInternalException`, SSM's `InternalServerError`, IAM's
    /// `ServiceFailure`), else AWS's common `InternalFailure`. Always status 500.
    pub fn internal_error(&self, message: impl Into<String>) -> AwsError {
        let mut own: Vec<&str> = self
            .errors
            .iter()
            .filter(|(name, _)| name.contains("Internal") || name.contains("ServiceFailure"))
            .map(|(_, info)| info.code.as_str())
            .collect();
        own.sort_unstable();
        let code = own.first().copied().unwrap_or("InternalFailure");
        AwsError::new(code.to_string(), 500, message)
    }

    /// Every operation name in the model.
    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.operations.keys().map(String::as_str)
    }

    pub fn has_operation(&self, name: &str) -> bool {
        self.operations.contains_key(name)
    }
}

#[cfg(test)]
mod tests;
mod validate;
