use super::*;

fn ctx(caller: Caller) -> RequestContext {
    RequestContext {
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        principal_arn: match &caller {
            Caller::Root => "arn:aws:iam::111122223333:root".into(),
            Caller::User { name } => format!("arn:aws:iam::111122223333:user/{name}"),
            Caller::Role {
                role_name,
                session_name,
                ..
            } => format!("arn:aws:sts::111122223333:assumed-role/{role_name}/{session_name}"),
        },
        access_key_id: "AKIAEXAMPLE".into(),
        request_id: "req-1".into(),
        caller,
        operation: "Encrypt".into(),
        source_ip: Some("10.0.0.7".into()),
        user_agent: Some("aws-cli/2".into()),
        resources: Default::default(),
    }
}

#[test]
fn columns_derive_back_from_the_record() {
    for caller in [
        Caller::Root,
        Caller::User {
            name: "alice".into(),
        },
        Caller::Role {
            role_arn: "arn:aws:iam::111122223333:role/gates".into(),
            role_name: "gates".into(),
            session_name: "lambda-1".into(),
        },
    ] {
        let ctx = ctx(caller);
        ctx.touch("AWS::KMS::Key", "arn:aws:kms:eu-west-1:111122223333:key/k1");
        let event = call_event(&Call {
            ctx: &ctx,
            event_source: "kms.amazonaws.com",
            event_name: "Encrypt",
            region: "eu-west-1",
            request_parameters: Some(serde_json::json!({"keyId": "alias/x"})),
            response_elements: None,
            error: None,
            invoked_by: None,
            resources: vec![],
        });
        let derived = index_of(&event.body).expect("record parses");
        assert_eq!(derived.agrees_with(&event), Ok(()));
        assert_eq!(derived.access_key_id.as_deref(), Some("AKIAEXAMPLE"));
        assert_eq!(
            derived.resources,
            vec![(
                "AWS::KMS::Key".to_string(),
                "arn:aws:kms:eu-west-1:111122223333:key/k1".to_string()
            )]
        );
        let expected_user = match &ctx.caller {
            Caller::Root => "root",
            Caller::User { name } => name,
            Caller::Role { session_name, .. } => session_name,
        };
        assert_eq!(derived.username.as_deref(), Some(expected_user));
    }
    let event = service_event(&ServiceEvent {
        account: "111122223333",
        region: "eu-west-1",
        event_source: "kms.amazonaws.com",
        event_name: "RotateKey",
        resources: vec![("AWS::KMS::Key", "arn:k".into())],
        details: None,
    });
    let derived = index_of(&event.body).unwrap();
    assert_eq!(derived.agrees_with(&event), Ok(()));
    assert!(derived.service_event && derived.username.is_none());
}

#[test]
fn dynamodb_item_calls_are_data_events() {
    let ctx = ctx(Caller::Root);
    let category = |source: &'static str, name: &'static str| {
        let event = call_event(&Call {
            ctx: &ctx,
            event_source: source,
            event_name: name,
            region: "eu-west-1",
            request_parameters: None,
            response_elements: None,
            error: None,
            invoked_by: None,
            resources: vec![],
        });
        let record: serde_json::Value = serde_json::from_str(&event.body).unwrap();
        (
            record["eventCategory"].as_str().unwrap().to_string(),
            record["managementEvent"].as_bool().unwrap(),
        )
    };
    for name in ["PutItem", "GetItem", "TransactWriteItems", "Query", "Scan"] {
        assert_eq!(
            category("dynamodb.amazonaws.com", name),
            ("Data".to_string(), false),
            "{name}"
        );
    }
    for (source, name) in [
        ("dynamodb.amazonaws.com", "CreateTable"),
        ("dynamodb.amazonaws.com", "DescribeTable"),
        ("kms.amazonaws.com", "Encrypt"),
        ("ssm.amazonaws.com", "GetParameter"),
    ] {
        assert_eq!(
            category(source, name),
            ("Management".to_string(), true),
            "{name}"
        );
    }
}

#[test]
fn text_is_what_serde_writes() {
    let params = serde_json::json!({"keyId": "alias/x", "encryptionContext": {"a\"b": "\u{1}\n é"},
                                    "n": 1.5, "list": [1, null, true]});
    let params_text = serde_json::to_string(&params).unwrap();
    let details = serde_json::json!({"keyId": "k"});
    let odd = "quote\" back\\ tab\t nl\n \u{7f} \u{1f} é ✓ /";
    for variant in 0..8u32 {
        let bit = |b: u32| variant & (1 << b) != 0;
        let session = bit(0).then_some(SessionContext {
            session_issuer: SessionIssuer {
                kind: "Role",
                arn: "arn:aws:iam::1:role/r",
                account_id: "1",
                user_name: odd,
            },
            attributes: SessionAttributes {
                mfa_authenticated: "false",
            },
        });
        let some = |v: &'static str| (!bit(1)).then_some(v);
        let record = Record {
            event_version: EVENT_VERSION,
            user_identity: UserIdentity {
                kind: some("IAMUser"),
                principal_id: some("p"),
                arn: Some(odd),
                account_id: "111122223333",
                access_key_id: some("AKIA"),
                user_name: some("alice"),
                session_context: session,
                invoked_by: bit(2).then_some("ssm.amazonaws.com"),
            },
            event_time: "2026-11-28T17:00:00Z",
            event_source: "kms.amazonaws.com",
            event_name: "Encrypt",
            aws_region: "eu-west-1",
            source_ip_address: "10.0.0.1",
            user_agent: if bit(1) { odd } else { "" },
            error_code: bit(2).then_some("NotFoundException"),
            error_message: bit(2).then_some(odd),
            request_parameters: (!bit(1)).then_some(if bit(0) {
                Params::Text(&params_text)
            } else {
                Params::Value(&params)
            }),
            response_elements: bit(0).then_some(&params),
            request_id: some("req"),
            event_id: "id",
            read_only: bit(1),
            resources: if bit(0) {
                vec![
                    ResourceRef {
                        account_id: "1",
                        kind: "AWS::KMS::Key",
                        arn: odd,
                    },
                    ResourceRef {
                        account_id: "1",
                        kind: "AWS::KMS::Key",
                        arn: "arn:k",
                    },
                ]
            } else {
                vec![]
            },
            event_type: "AwsApiCall",
            management_event: !bit(2),
            recipient_account_id: "111122223333",
            service_event_details: bit(1).then_some(&details),
            event_category: "Management",
        };
        assert_eq!(
            to_text(&record),
            serde_json::to_string(&record).unwrap(),
            "variant {variant}"
        );
    }
}

#[test]
fn escaping_is_detected_in_every_position() {
    let scalar = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
    for len in 0..24 {
        for at in 0..len.max(1) {
            for b in 0..=255u8 {
                let mut s = vec![b'a'; len];
                if len > 0 {
                    s[at] = b;
                }
                // Neighbours that could carry a borrow into the byte tested.
                if at + 1 < len {
                    s[at + 1] = 0x80;
                }
                assert_eq!(needs_escaping(&s), scalar(&s), "{s:?}");
            }
        }
    }
}

#[test]
fn event_time_as_chrono_writes_it() {
    let mut buf = [0u8; 20];
    for ms in [
        0,
        1,
        999,
        1_000,
        -1,
        -1_001,
        1_795_885_200_123,
        951_782_400_000,
        253_402_300_799_999,
        -62_167_219_200_000,
        // Out of chrono's range: both read the epoch.
        i64::MAX,
        i64::MIN,
    ] {
        assert_eq!(
            event_time_in(ms, &mut buf),
            Some(event_time_text(ms).as_str()),
            "{ms}"
        );
    }
    for ms in [253_402_300_800_000, -62_167_219_200_001] {
        assert_eq!(event_time_in(ms, &mut buf), None, "{ms}");
    }
    let mut ms = -86_400_000 * 400;
    while ms < 4_102_444_800_000 {
        assert_eq!(
            event_time_in(ms, &mut buf),
            Some(event_time_text(ms).as_str())
        );
        ms += 7_654_321_987;
    }
}

#[test]
fn read_only_follows_cloudtrail() {
    for op in [
        "Encrypt",
        "Decrypt",
        "GenerateDataKey",
        "DescribeKey",
        "GetParameter",
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
    ] {
        assert!(is_read_only(op), "{op}");
    }
    for op in [
        "CreateKey",
        "PutParameter",
        "ScheduleKeyDeletion",
        "RotateKey",
        "TagResource",
        "PutItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "ExecuteStatement",
    ] {
        assert!(!is_read_only(op), "{op}");
    }
}
