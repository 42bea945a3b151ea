//! The restJson1 protocol on a synthetic model, for what API Gateway does not use: greedy labels,
//! timestamps in headers, query strings and bodies (with and without `timestampFormat`), `jsonvalue`
//! headers, header lists and prefix maps, `statusCode` members, structure and string payloads, an
//! exception whose message member is `Message`. The model is handed to botocore too
//! (`tools/json-fixtures.py thing send|check`), so its serializer writes the requests parsed here and
//! its parser reads the responses written here.

mod support;

use http::HeaderMap;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::query::modeled_error;
use m2sec_proto::rest_json::{error_response, parse_request, route, serialize_response, validate};
use serde_json::{json, Value};
use support::{botocore_available, botocore_check, botocore_send, Written};

/// A restJson1 model for what API Gateway does not use, in botocore's form (botocore reads it too).
fn synthetic_json() -> Value {
    json!({
        "version": "2.0",
        "metadata": {"endpointPrefix": "thing", "serviceId": "Thing", "protocol": "rest-json",
                     "apiVersion": "2020-01-01", "signatureVersion": "v4", "uid": "thing-2020-01-01"},
        "operations": {
            "GetObject": {"name": "GetObject",
                          "http": {"method": "GET", "requestUri": "/objects/{Bucket}/{Key+}"},
                          "input": {"shape": "ObjectInput"}, "output": {"shape": "ObjectOutput"},
                          "errors": [{"shape": "ThingNotFound"}]},
            "PutConfig": {"name": "PutConfig",
                          "http": {"method": "PUT", "requestUri": "/config/{Id}", "responseCode": 204},
                          "input": {"shape": "ConfigInput"}, "output": {"shape": "ConfigOutput"}},
            "PutNote": {"name": "PutNote", "http": {"method": "PUT", "requestUri": "/notes/{Id}"},
                        "input": {"shape": "NoteInput"}, "output": {"shape": "NoteOutput"}},
            "Stamp": {"name": "Stamp", "http": {"method": "POST", "requestUri": "/stamp"},
                      "input": {"shape": "StampInput"}, "output": {"shape": "StampInput"}}
        },
        "shapes": {
            "S": {"type": "string"},
            "N": {"type": "integer"},
            "B": {"type": "boolean"},
            "T": {"type": "timestamp"},
            "Iso": {"type": "timestamp", "timestampFormat": "iso8601"},
            "Doc": {"type": "string"},
            "SList": {"type": "list", "member": {"shape": "S"}},
            "NList": {"type": "list", "member": {"shape": "N"}},
            "SMap": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "S"}},
            "Config": {"type": "structure", "required": ["Level"], "members": {
                "Level": {"shape": "N", "locationName": "level"},
                "Names": {"shape": "SList", "locationName": "names"}}},
            "ObjectInput": {"type": "structure", "required": ["Bucket", "Key"], "members": {
                "Bucket": {"shape": "S", "location": "uri", "locationName": "Bucket"},
                "Key": {"shape": "S", "location": "uri", "locationName": "Key"},
                "Since": {"shape": "T", "location": "header", "locationName": "If-Modified-Since"},
                "Until": {"shape": "T", "location": "querystring", "locationName": "until"},
                "Tags": {"shape": "SList", "location": "header", "locationName": "x-tags"},
                "Parts": {"shape": "NList", "location": "header", "locationName": "x-parts"},
                "Meta": {"shape": "SMap", "location": "headers", "locationName": "x-meta-"},
                "Context": {"shape": "Doc", "location": "header", "locationName": "x-context",
                            "jsonvalue": true}}},
            "ObjectOutput": {"type": "structure", "payload": "Body", "members": {
                "Body": {"shape": "S"},
                "Modified": {"shape": "T", "location": "header", "locationName": "Last-Modified"},
                "Expires": {"shape": "Iso", "location": "header", "locationName": "x-expires"},
                "Tags": {"shape": "SList", "location": "header", "locationName": "x-tags"},
                "Context": {"shape": "Doc", "location": "header", "locationName": "x-context",
                            "jsonvalue": true},
                "Meta": {"shape": "SMap", "location": "headers", "locationName": "x-meta-"},
                "Status": {"shape": "N", "location": "statusCode"}}},
            "ConfigInput": {"type": "structure", "required": ["Id"], "payload": "Config", "members": {
                "Id": {"shape": "S", "location": "uri", "locationName": "Id"},
                "Config": {"shape": "Config"}}},
            "ConfigOutput": {"type": "structure", "payload": "Config", "members": {
                "Config": {"shape": "Config"}}},
            "NoteInput": {"type": "structure", "required": ["Id"], "payload": "Text", "members": {
                "Id": {"shape": "S", "location": "uri", "locationName": "Id"},
                "Text": {"shape": "S"}}},
            "NoteOutput": {"type": "structure", "members": {
                "Length": {"shape": "N", "location": "header", "locationName": "x-length"}}},
            "StampInput": {"type": "structure", "members": {
                "At": {"shape": "T", "locationName": "at"},
                "When": {"shape": "Iso", "locationName": "when"},
                "Flag": {"shape": "B"}}},
            "ThingNotFound": {"type": "structure", "members": {"Message": {"shape": "S"}},
                              "exception": true, "error": {"httpStatusCode": 404}}
        }
    })
}

fn synthetic() -> ServiceModel {
    ServiceModel::from_json(&synthetic_json().to_string())
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

#[test]
fn labels_headers_and_query_parse_by_shape() {
    let m = synthetic();
    let (op, labels) = route(&m, "GET", "/objects/b/a/b%2Fc/d%20e.txt").unwrap();
    assert_eq!(op, "GetObject");
    let sent = headers(&[
        ("If-Modified-Since", "Sat, 28 Nov 2026 15:00:00 GMT"),
        ("x-tags", r#"a, "b,c", "say \"hi\"""#),
        ("x-parts", "1,2, 3"),
        ("X-Meta-Color", "blue"),
        ("x-context", "eyJhIjpbMSwyXX0="),
    ]);
    let input = parse_request(
        &m,
        &op,
        &labels,
        Some("until=2026-11-28T15%3A00%3A00.5Z&other=1"),
        &sent,
        b"",
    )
    .unwrap();
    assert_eq!(
        input,
        json!({"Bucket": "b", "Key": "a/b/c/d e.txt", "Since": 1_795_878_000,
               "Until": 1_795_878_000.5, "Tags": ["a", "b,c", "say \"hi\""], "Parts": [1, 2, 3],
               "Meta": {"color": "blue"}, "Context": "{\"a\":[1,2]}"})
    );
    validate(&m, &op, &input).unwrap();
    let e =
        parse_request(&m, &op, &labels, None, &headers(&[("x-parts", "1,x")]), b"").unwrap_err();
    assert_eq!((&*e.code, e.status), ("ValidationException", 400));
    assert_eq!(
        e.message,
        "1 validation error detected: Value 'x' at 'parts.2.member' failed to satisfy constraint: \
         Member must be of type integer"
    );
    let e = parse_request(
        &m,
        &op,
        &labels,
        None,
        &headers(&[("x-context", "not json")]),
        b"",
    )
    .unwrap_err();
    assert!(e.message.contains("base64-encoded JSON"), "{}", e.message);
    let e =
        parse_request(&m, &op, &labels, Some("until=soon"), &HeaderMap::new(), b"").unwrap_err();
    assert!(
        e.message.contains("Member must be of type timestamp"),
        "{}",
        e.message
    );
}

#[test]
fn bodies_and_payloads_parse_by_shape() {
    let m = synthetic();
    let (op, labels) = route(&m, "PUT", "/config/c1").unwrap();
    let input = parse_request(
        &m,
        &op,
        &labels,
        None,
        &HeaderMap::new(),
        br#"{"level": 3, "names": ["a"], "unknown": true}"#,
    )
    .unwrap();
    assert_eq!(
        input,
        json!({"Id": "c1", "Config": {"Level": 3, "Names": ["a"]}})
    );
    let none = parse_request(&m, &op, &labels, None, &HeaderMap::new(), b"").unwrap();
    assert_eq!(none, json!({"Id": "c1"}));
    let (op, labels) = route(&m, "PUT", "/notes/n1").unwrap();
    let input = parse_request(
        &m,
        &op,
        &labels,
        None,
        &HeaderMap::new(),
        "ünï {text}".as_bytes(),
    )
    .unwrap();
    assert_eq!(input, json!({"Id": "n1", "Text": "ünï {text}"}));
    let (op, labels) = route(&m, "POST", "/stamp").unwrap();
    let input = parse_request(
        &m,
        &op,
        &labels,
        None,
        &HeaderMap::new(),
        br#"{"at": 1795878000.25, "when": "2026-11-28T15:00:00Z", "Flag": true}"#,
    )
    .unwrap();
    assert_eq!(
        input,
        json!({"At": 1_795_878_000.25, "When": 1_795_878_000, "Flag": true})
    );
    for (body, problem) in [
        (&b"{\"at\": "[..], "SerializationException"),
        (&b"[1, 2]"[..], "SerializationException"),
    ] {
        let e = parse_request(&m, &op, &labels, None, &HeaderMap::new(), body).unwrap_err();
        assert_eq!(e.code, problem, "{}", String::from_utf8_lossy(body));
    }
    let e = parse_request(
        &m,
        &op,
        &labels,
        None,
        &HeaderMap::new(),
        br#"{"when": "noon"}"#,
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("Value 'noon' at 'when' failed to satisfy constraint"),
        "{}",
        e.message
    );
    let input = parse_request(
        &m,
        &op,
        &labels,
        None,
        &HeaderMap::new(),
        br#"{"Flag": "yes"}"#,
    )
    .unwrap();
    let e = validate(&m, &op, &input).unwrap_err();
    assert!(
        e.message.contains("Member must be of type boolean"),
        "{}",
        e.message
    );
}

#[test]
fn responses_put_members_in_headers_status_and_payload() {
    let m = synthetic();
    let (status, headers, body) = serialize_response(
        &m,
        "GetObject",
        &json!({"Body": "plain text", "Modified": 1_795_878_000, "Expires": "2026-11-28T15:00:00Z",
                "Tags": ["a", "b,c"], "Context": {"k": [1]}, "Meta": {"color": "blue"},
                "Status": 206}),
    );
    assert_eq!(status, 206);
    assert_eq!(body, b"plain text");
    let mut headers = headers;
    headers.sort();
    assert_eq!(
        headers,
        [
            ("Content-Type", "text/plain"),
            ("Last-Modified", "Sat, 28 Nov 2026 15:00:00 GMT"),
            ("x-context", "eyJrIjpbMV19"),
            ("x-expires", "2026-11-28T15:00:00Z"),
            ("x-meta-color", "blue"),
            ("x-tags", "a,\"b,c\""),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    let (status, headers, body) = serialize_response(
        &m,
        "PutConfig",
        &json!({"Config": {"Level": 2, "Names": []}}),
    );
    assert_eq!((status, body), (204, br#"{"level":2,"names":[]}"#.to_vec()));
    assert_eq!(
        headers,
        [("Content-Type".to_string(), "application/json".to_string())]
    );
    let (status, headers, body) = serialize_response(&m, "PutNote", &json!({"Length": 3}));
    assert_eq!((status, body.len()), (200, 0));
    assert_eq!(headers, [("x-length".to_string(), "3".to_string())]);
    let (_, _, body) = serialize_response(
        &m,
        "Stamp",
        &json!({"At": "2026-11-28T15:00:00.250Z", "When": 1_795_878_000, "Flag": false}),
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body,
        json!({"at": 1_795_878_000.25, "when": "2026-11-28T15:00:00Z", "Flag": false})
    );
}

#[test]
fn botocore_requests_parse_to_the_client_parameters() {
    if !botocore_available() {
        return;
    }
    let model = synthetic_json();
    let m = synthetic();
    let calls = [
        (
            "get-object",
            "GetObject",
            json!({"Bucket": "b", "Key": "a/b c/d.txt", "Since": "2026-11-28T15:00:00Z",
                   "Until": "2026-11-28T15:00:00.5Z", "Tags": ["a", "b c"], "Parts": [1, 2],
                   "Meta": {"color": "blue"}, "Context": {"a": [1, 2], "b": "ünï"}}),
            json!({"Bucket": "b", "Key": "a/b c/d.txt", "Since": 1_795_878_000,
                   "Until": 1_795_878_000.5, "Tags": ["a", "b c"], "Parts": [1, 2],
                   "Meta": {"color": "blue"}, "Context": "{\"a\":[1,2],\"b\":\"\\u00fcn\\u00ef\"}"}),
        ),
        (
            "get-object-quoted-tags",
            "GetObject",
            json!({"Bucket": "b", "Key": "k", "Tags": ["x,y", "say \"hi\""]}),
            json!({"Bucket": "b", "Key": "k", "Tags": ["x,y", "say \"hi\""]}),
        ),
        (
            "put-config",
            "PutConfig",
            json!({"Id": "c 1", "Config": {"Level": 3, "Names": ["x"]}}),
            json!({"Id": "c 1", "Config": {"Level": 3, "Names": ["x"]}}),
        ),
        (
            "put-note",
            "PutNote",
            json!({"Id": "n1", "Text": "ünï {text}"}),
            json!({"Id": "n1", "Text": "ünï {text}"}),
        ),
        (
            "stamp",
            "Stamp",
            json!({"At": "2026-11-28T15:00:00Z", "When": "2026-11-28T15:00:00.250Z", "Flag": true}),
            json!({"At": 1_795_878_000, "When": 1_795_878_000.25, "Flag": true}),
        ),
    ];
    let listed: Vec<(&str, &str, Value)> = calls
        .iter()
        .map(|(name, op, params, _)| (*name, *op, params.clone()))
        .collect();
    let sent = botocore_send("thing", Some(&model), &listed);
    assert_eq!(sent.len(), calls.len());
    for (f, (_, _, _, expected)) in sent.iter().zip(&calls) {
        let (op, labels) = route(&m, &f.method, &f.target())
            .unwrap_or_else(|| panic!("{}: {} {} does not route", f.name, f.method, f.target()));
        assert_eq!(op, f.operation, "{}", f.name);
        let input = parse_request(
            &m,
            &op,
            &labels,
            f.query.as_deref(),
            &f.header_map(),
            &f.body(),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(&input, expected, "{}", f.name);
        validate(&m, &op, &input).unwrap_or_else(|e| panic!("{}: {e}", f.name));
    }
}

fn ok(
    name: &'static str,
    operation: &'static str,
    params: Value,
    output: Value,
    parsed: Value,
) -> Written {
    let (status, headers, body) = serialize_response(&synthetic(), operation, &output);
    Written {
        name,
        operation,
        params,
        status,
        headers,
        body,
        expected: Ok(parsed),
    }
}

#[test]
fn botocore_parses_our_responses() {
    let m = synthetic();
    let object = json!({"Bucket": "b", "Key": "k"});
    let missing = modeled_error(&m, "ThingNotFound", "No thing named k");
    let (status, headers, body) = error_response(&m, &missing);
    let cases = vec![
        ok(
            "get-object",
            "GetObject",
            object.clone(),
            json!({"Body": "plain ünï text", "Modified": 1_795_878_000, "Expires": 1_795_878_000.5,
                   "Tags": ["a", "b c"], "Context": {"k": [1, "ü"]}, "Meta": {"color": "blue"},
                   "Status": 206}),
            json!({"Body": "plain ünï text", "Modified": "2026-11-28T15:00:00Z",
                   "Expires": "2026-11-28T15:00:00.500Z", "Tags": ["a", "b c"],
                   "Context": {"k": [1, "ü"]}, "Meta": {"color": "blue"}, "Status": 206}),
        ),
        ok(
            "get-object-json-text",
            "GetObject",
            object.clone(),
            json!({"Context": "{\"k\": true}"}),
            // botocore always reports a string payload ("" for none) and a prefix-header map.
            json!({"Body": "", "Context": {"k": true}, "Meta": {}, "Status": 200}),
        ),
        ok(
            "put-config",
            "PutConfig",
            json!({"Id": "c1", "Config": {"Level": 1}}),
            json!({"Config": {"Level": 2, "Names": ["a", "b"]}}),
            json!({"Config": {"Level": 2, "Names": ["a", "b"]}}),
        ),
        ok(
            "put-note",
            "PutNote",
            json!({"Id": "n1", "Text": "t"}),
            json!({"Length": 3}),
            json!({"Length": 3}),
        ),
        ok(
            "stamp",
            "Stamp",
            json!({}),
            json!({"At": "2026-11-28T16:00:00.250+01:00", "When": 1_795_878_000, "Flag": false}),
            json!({"At": "2026-11-28T15:00:00.250Z", "When": "2026-11-28T15:00:00Z", "Flag": false}),
        ),
        Written {
            name: "not-found",
            operation: "GetObject",
            params: object,
            status,
            headers,
            body,
            expected: Err((
                "ThingNotFound".into(),
                "No thing named k".into(),
                "ThingNotFound".into(),
            )),
        },
    ];
    botocore_check("thing", Some(&synthetic_json()), cases);
}

#[test]
fn errors_use_the_exception_message_member() {
    let m = synthetic();
    let (status, headers, body) =
        error_response(&m, &modeled_error(&m, "ThingNotFound", "No thing named k"));
    assert_eq!(status, 404);
    assert!(headers.contains(&("X-Amzn-ErrorType".into(), "ThingNotFound".into())));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"__type": "ThingNotFound", "Message": "No thing named k"})
    );
}
