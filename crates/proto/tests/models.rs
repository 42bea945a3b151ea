//! The vendored botocore models (`models/`, written by `tools/strip-model.py`): every one compiles,
//! and the traits the REST and awsJson 1.0 protocols read come through.

use m2sec_proto::model::{Location, MemberRef, ServiceModel, ShapeId, ShapeKind, TimestampFormat};

/// Every model in `models/` compiles, and the traits the REST and awsJson 1.0 protocols read
/// come through.
#[test]
fn every_vendored_model_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut loaded = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let model = ServiceModel::from_json(&std::fs::read_to_string(&path).unwrap());
            assert!(model.operation_names().count() > 5, "{name}");
            loaded.insert(name, model);
        }
    }
    let names: Vec<&str> = loaded.keys().map(String::as_str).collect();
    for expected in [
        "acm",
        "apigateway",
        "cloudfront",
        "cloudtrail",
        "dynamodb",
        "iam",
        "kms",
        "route53",
        "s3",
        "ssm",
        "sts",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let dynamodb = &loaded["dynamodb"];
    assert_eq!(dynamodb.metadata.json_version.as_deref(), Some("1.0"));
    assert_eq!(loaded["kms"].metadata.json_version.as_deref(), Some("1.1"));
    let member = |m: &ServiceModel, shape: ShapeId, name: &str| -> MemberRef {
        let ShapeKind::Structure { members, .. } = m.shape_kind(shape) else {
            panic!("structure")
        };
        members.iter().find(|r| r.name == name).unwrap().clone()
    };
    let apigateway = &loaded["apigateway"];
    let put = apigateway.input_shape("PutRestApi").unwrap();
    let body = apigateway.payload(put).unwrap();
    assert_eq!(body.name, "body");
    assert!(matches!(apigateway.shape_kind(body.shape), ShapeKind::Blob));
    assert!(apigateway
        .payload(apigateway.input_shape("CreateRestApi").unwrap())
        .is_none());
    let http = apigateway.http("ImportRestApi").unwrap();
    assert_eq!(
        (http.request_uri.as_str(), http.response_code),
        ("/restapis?mode=import", 201)
    );
    let id = member(apigateway, put, "restApiId");
    assert_eq!(
        (id.wire_name(), id.location),
        ("restapi_id", Some(Location::Uri))
    );
    let s3 = &loaded["s3"];
    let head = s3.output_shape("HeadObject").unwrap().0;
    let expires = member(s3, head, "Expires");
    assert_eq!(expires.location, Some(Location::Header));
    let get = s3.input_shape("GetObject").unwrap();
    let since = member(s3, get, "IfModifiedSince");
    assert!(matches!(s3.shape_kind(since.shape), ShapeKind::Timestamp));
    let write = s3.input_shape("WriteGetObjectResponse").unwrap();
    assert_eq!(
        s3.host_prefix("WriteGetObjectResponse"),
        Some("{RequestRoute}.")
    );
    assert!(member(s3, write, "RequestRoute").host_label);
    let body = s3.payload(write).unwrap();
    assert!(body.streaming);
    let dated = s3.input_shape("PutObject").unwrap();
    assert_eq!(
        member(s3, dated, "ObjectLockRetainUntilDate").timestamp_format,
        Some(TimestampFormat::Iso8601)
    );
    let union = |m: &ServiceModel, name: &str| m.is_union(m.shape_id(name).unwrap());
    assert!(union(s3, "ObjectEncryption"));
    assert!(union(&loaded["cloudfront"], "CaCertificatesBundleSource"));
    assert!(!union(s3, "GetObjectRequest"));
}
