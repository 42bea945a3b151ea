//! What the JSON protocol tests share: handing responses written here to botocore's own client
//! (`tools/json-fixtures.py SERVICE check DIR`) and reading the requests it sent
//! (`tests/fixtures/SERVICE-requests.json`, from `tools/json-fixtures.py SERVICE gen`).

#![allow(dead_code)] // Each test crate uses its part.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use m2sec_proto::model::ServiceModel;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

pub fn model(name: &str) -> ServiceModel {
    let path = root().join(format!("models/{name}.json"));
    ServiceModel::from_json(&std::fs::read_to_string(path).unwrap())
}

/// One request botocore sent, with the value it must parse back to (none for live requests).
#[derive(Deserialize)]
pub struct RequestFixture {
    pub name: String,
    pub operation: String,
    #[serde(default)]
    pub expected: Value,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: BTreeMap<String, String>,
    body_base64: String,
}

impl RequestFixture {
    pub fn body(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.body_base64)
            .unwrap()
    }

    pub fn header_map(&self) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (k, v) in &self.headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    /// The path with its query string, as a server sees the request target.
    pub fn target(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

pub fn request_fixtures(service: &str) -> Vec<RequestFixture> {
    #[derive(Deserialize)]
    struct File {
        source: String,
        fixtures: Vec<RequestFixture>,
    }
    let path = root().join(format!("tests/fixtures/{service}-requests.json"));
    let file: File = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(file.source.starts_with("botocore "), "{}", file.source);
    file.fixtures
}

/// A response for botocore to read: what was written, and what the client must make of it.
pub struct Written {
    pub name: &'static str,
    pub operation: &'static str,
    pub params: Value,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `Ok(parsed)` for a result, `Err((code, message, exception class))` for an error.
    pub expected: Result<Value, (String, String, String)>,
}

/// Whether python3 with botocore is here; if not, the test is skipped (failed under CI=true).
pub fn botocore_available() -> bool {
    let available = Command::new("python3")
        .args(["-c", "import botocore"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        m2sec_test_support::missing("python3 with botocore");
    }
    available
}

/// A fresh directory for one exchange with botocore, holding `model` (a botocore service model) when
/// botocore is to use it instead of its own.
fn work_dir(service: &str, step: &str, model: Option<&Value>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("m2sec-{service}-{step}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(model) = model {
        let version = model["metadata"]["apiVersion"].as_str().unwrap();
        let at = dir.join(format!("models/{service}/{version}"));
        std::fs::create_dir_all(&at).unwrap();
        std::fs::write(at.join("service-2.json"), model.to_string()).unwrap();
    }
    dir
}

fn run_tool(service: &str, mode: &str, dir: &Path) {
    let out = Command::new("python3")
        .arg(root().join("../../tools/json-fixtures.py"))
        .args([service, mode])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "botocore disagrees (samples in {}):\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
}

/// The requests botocore sends for `calls` (name, operation, parameters), through
/// `tools/json-fixtures.py SERVICE send`; `model` replaces botocore's own model of the service. Call
/// only when [`botocore_available`].
pub fn botocore_send(
    service: &str,
    model: Option<&Value>,
    calls: &[(&str, &str, Value)],
) -> Vec<RequestFixture> {
    #[derive(Deserialize)]
    struct Sent {
        fixtures: Vec<RequestFixture>,
    }
    let dir = work_dir(service, "send", model);
    let listed: Vec<Value> = calls
        .iter()
        .map(|(name, operation, params)| json!({"name": name, "operation": operation, "params": params}))
        .collect();
    std::fs::write(
        dir.join("requests.json"),
        serde_json::to_vec(&listed).unwrap(),
    )
    .unwrap();
    run_tool(service, "send", &dir);
    let sent: Sent =
        serde_json::from_slice(&std::fs::read(dir.join("sent.json")).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    sent.fixtures
}

/// Runs `tools/json-fixtures.py SERVICE check` on the responses; skipped (or failed under CI=true)
/// without python3 and botocore. `model` replaces botocore's own model of the service.
pub fn botocore_check(service: &str, model: Option<&Value>, written: Vec<Written>) {
    if !botocore_available() {
        return;
    }
    let dir = work_dir(service, "check", model);
    let mut listed = Vec::new();
    for (i, w) in written.into_iter().enumerate() {
        let body_file = format!("{}.body", w.name);
        std::fs::write(dir.join(&body_file), &w.body).unwrap();
        let headers: serde_json::Map<String, Value> =
            w.headers.into_iter().map(|(k, v)| (k, json!(v))).collect();
        let mut entry = json!({"name": w.name, "operation": w.operation, "params": w.params,
                               "request_id": format!("00000000-0000-4000-8000-{i:012}"),
                               "status": w.status, "headers": headers, "body_file": body_file});
        match w.expected {
            Ok(parsed) => entry["expected"] = parsed,
            Err((code, message, exception)) => {
                entry["expected_error"] = json!({"Code": code, "Message": message});
                entry["exception"] = json!(exception);
            }
        }
        listed.push(entry);
    }
    std::fs::write(
        dir.join("cases.json"),
        serde_json::to_vec_pretty(&listed).unwrap(),
    )
    .unwrap();
    run_tool(service, "check", &dir);
    std::fs::remove_dir_all(&dir).ok();
}
