//! The router with stand-in services that panic: each protocol answers the service's internal error in
//! its own shape, the trail records the call, and the next request is served as usual.

use std::time::Duration;

use async_trait::async_trait;
use axum::http::Request as HttpRequest;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::{sigv4, INTERNAL_MESSAGE};
use m2sec_store::{AccessKeyRecord, SqlStore, Store};
use serde_json::Value;
use tower::ServiceExt;

use super::*;

const ACCESS_KEY_ID: &str = "AKIAPANICTEST0000001";
const SECRET: &str = "panic-test-secret-access-key-0123456789";
const REGION: &str = "eu-west-1";
/// In every panic message: it must reach neither a client nor a trail record.
const HELD: &str = "held-value-7f3a";

/// Serves KMS's model; ListAliases answers, every other operation panics.
struct Kms;

#[async_trait]
impl JsonService for Kms {
    fn model(&self) -> &ServiceModel {
        m2sec_kms::model()
    }

    async fn call(
        &self,
        _ctx: &RequestContext,
        operation: &str,
        _input: Value,
    ) -> Result<Vec<u8>, AwsError> {
        if operation == "ListAliases" {
            return Ok(br#"{"Aliases":[]}"#.to_vec());
        }
        panic!("{operation} found {HELD}");
    }
}

/// An awsQuery (STS) or restXml (Route53) service whose every call panics.
struct Panics(&'static ServiceModel);

#[async_trait]
impl QueryService for Panics {
    fn model(&self) -> &ServiceModel {
        self.0
    }

    async fn call(
        &self,
        _ctx: &RequestContext,
        operation: &str,
        _input: Value,
    ) -> Result<Value, AwsError> {
        panic!("{operation} found {HELD}");
    }
}

async fn state(dir: &std::path::Path) -> (Arc<AppState>, Arc<SqlStore>) {
    let store = Arc::new(
        SqlStore::connect(&SqlStore::sqlite_url(&dir.join("t.db")))
            .await
            .unwrap(),
    );
    let root = Arc::new(m2sec_crypto::RootKey::ephemeral());
    store
        .create_access_key(&AccessKeyRecord {
            access_key_id: ACCESS_KEY_ID.into(),
            account: "000000000000".into(),
            user_name: None,
            user_id: None,
            principal_arn: m2sec_proto::arn::account_root("000000000000"),
            wrapped_secret: root.wrap(SECRET.as_bytes(), &crate::auth::secret_aad(ACCESS_KEY_ID)),
            status: "Active".into(),
            created_at: m2sec_store::now_ms(),
        })
        .await
        .unwrap();
    let generation = Arc::new(m2sec_iam::IamGeneration::default());
    let ttl = Duration::from_secs(60);
    let (trail, _writer) = Trail::start(
        store.clone(),
        &root,
        m2sec_trail::WriterConfig {
            digest_interval: Duration::from_secs(3600),
            retention_days: 0.0,
            max_bytes: 0,
            exclude_event_sources: vec![],
            data_events: true,
        },
    )
    .await
    .unwrap();
    let kms: Arc<dyn JsonService> = Arc::new(Kms);
    let state = AppState {
        auth: Authenticator::new(store.clone(), root, ttl, generation.clone()),
        json_services: HashMap::from([("TrentService".to_string(), ("kms".to_string(), kms))]),
        query_services: HashMap::from([(
            "sts".to_string(),
            Arc::new(Panics(m2sec_iam::sts::model())) as Arc<dyn QueryService>,
        )]),
        rest_services: HashMap::from([(
            "route53".to_string(),
            Arc::new(Panics(m2sec_route53::api::model())) as Arc<dyn QueryService>,
        )]),
        body_limits: body::BodyLimits::new(1 << 20, Duration::from_secs(10), 1 << 24),
        trail,
        store: store.clone(),
        store_probe: StoreProbe::new("test".into()),
        authorizer: Arc::new(m2sec_iam::Authorizer::new(store.clone(), ttl, generation)),
    };
    (Arc::new(state), store)
}

/// A request signed with SigV4 for `service`, as a client sends it.
fn signed(method: &str, uri: &str, service: &str, headers: &[(&str, &str)], body: &str) -> Request {
    let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut map = HeaderMap::new();
    map.insert("host", HeaderValue::from_static("localhost"));
    map.insert("x-amz-date", HeaderValue::from_str(&amz_date).unwrap());
    for (name, value) in headers {
        map.insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let mut names: Vec<&str> = map.keys().map(|n| n.as_str()).collect();
    names.sort_unstable();
    let scope = format!(
        "{ACCESS_KEY_ID}/{}/{REGION}/{service}/aws4_request",
        &amz_date[..8]
    );
    let unsigned = format!(
        "AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={}, Signature=0",
        names.join(";")
    );
    map.insert("authorization", HeaderValue::from_str(&unsigned).unwrap());
    let (path, query) = uri
        .split_once('?')
        .map_or((uri, None), |(p, q)| (p, Some(q)));
    let parts = RequestParts {
        method,
        path,
        query,
        headers: &map,
        body: body.as_bytes(),
    };
    let claim = sigv4::parse_claim(&parts).unwrap();
    let to_sign = sigv4::string_to_sign(&claim, &sigv4::canonical_request(&parts, &claim));
    let key = sigv4::signing_key(SECRET.as_bytes(), &claim.date, REGION, service);
    let authorization = unsigned.replace(
        "Signature=0",
        &format!("Signature={}", sigv4::signature(&key[..], &to_sign)),
    );
    map.insert(
        "authorization",
        HeaderValue::from_str(&authorization).unwrap(),
    );
    let mut request = HttpRequest::builder()
        .method(method)
        .uri(uri)
        .body(Body::from(body.to_string()))
        .unwrap();
    *request.headers_mut() = map;
    request
}

fn kms(operation: &str) -> Request {
    signed(
        "POST",
        "/",
        "kms",
        &[
            ("content-type", json::CONTENT_TYPE),
            ("x-amz-target", &format!("TrentService.{operation}")),
        ],
        "{}",
    )
}

async fn send(state: &Arc<AppState>, request: Request) -> (StatusCode, String) {
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn a_panicking_call_is_answered_in_its_protocol_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (state, store) = state(dir.path()).await;

    // awsJson: KMS's own internal error, as `__type`.
    let (status, body) = send(&state, kms("ListKeys")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["__type"], "KMSInternalException", "{body}");
    assert_eq!(error["message"], INTERNAL_MESSAGE, "{body}");

    // The connection's next request, and the same service, are served as usual.
    let (status, body) = send(&state, kms("ListAliases")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"Aliases":[]}"#)
    );

    // awsQuery: an ErrorResponse with AWS's common InternalFailure (STS has no internal error of its own).
    let sts = signed(
        "POST",
        "/",
        "sts",
        &[("content-type", "application/x-www-form-urlencoded")],
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    let (status, body) = send(&state, sts).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(body.contains("<ErrorResponse"), "{body}");
    assert!(body.contains("<Code>InternalFailure</Code>"), "{body}");
    assert!(body.contains(INTERNAL_MESSAGE), "{body}");

    // restXml: the same, as Route53 shapes errors.
    let route53 = signed("GET", "/2013-04-01/hostedzone", "route53", &[], "");
    let (status, body) = send(&state, route53).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(body.contains("<Code>InternalFailure</Code>"), "{body}");
    assert!(!body.contains(HELD), "{body}");

    // Each failed call is in the trail with its error; what the panic said is not.
    state.trail.flush().await.unwrap();
    let rows = store.trail_scan(0, 100).await.unwrap();
    let recorded: Vec<(String, Value)> = rows
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.event.body).unwrap();
            (r.event.event_name.clone(), body["errorCode"].clone())
        })
        .collect();
    assert_eq!(
        recorded,
        [
            ("ListKeys".to_string(), Value::from("KMSInternalException")),
            ("ListAliases".to_string(), Value::Null),
            (
                "GetCallerIdentity".to_string(),
                Value::from("InternalFailure")
            ),
            (
                "ListHostedZones".to_string(),
                Value::from("InternalFailure")
            ),
        ]
    );
    assert!(rows.iter().all(|r| !r.event.body.contains(HELD)));
}

#[tokio::test]
async fn a_panic_is_an_internal_error_whatever_its_payload() {
    let model = m2sec_kms::model();
    let ok = answer_panics(model, "ListKeys", async { Ok::<_, AwsError>(1) }).await;
    assert_eq!(ok.unwrap(), 1);
    let refused = AwsError::validation("no");
    let err = answer_panics(model, "ListKeys", async { Err::<u8, _>(refused.clone()) }).await;
    assert_eq!(
        err.unwrap_err(),
        refused,
        "an error is passed through as it is"
    );
    fn not_text() -> Result<u8, AwsError> {
        std::panic::panic_any(42_u32)
    }
    let err = answer_panics(model, "ListKeys", async { not_text() })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code.as_ref(), err.status, err.message.as_str()),
        ("KMSInternalException", 500, INTERNAL_MESSAGE)
    );

    assert_eq!(panic_message(&"static text"), "static text");
    assert_eq!(panic_message(&String::from("formatted")), "formatted");
    assert_eq!(panic_message(&42_u32), "(not text)");
}
