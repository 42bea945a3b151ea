//! The storage conformance suite: every backend must pass [`run`]. Called from this crate's tests for
//! SQLite, and for PostgreSQL when `M2SEC_TEST_POSTGRES_URL` is set.

use crate::{
    AccessKeyRecord, AliasRecord, Document, KeyRecord, KeyVersionRecord, ParameterRecord,
    ParameterVersionRecord, Scope, Store, StoreError,
};

fn key(scope: &Scope, id: &str) -> KeyRecord {
    KeyRecord {
        scope: scope.clone(),
        key_id: id.to_string(),
        description: "d".into(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        origin: "AWS_KMS".into(),
        key_manager: "CUSTOMER".into(),
        key_state: "Enabled".into(),
        created_at: 1_000,
        deletion_date: None,
        pending_window_days: None,
        rotation_enabled: false,
        rotation_period_days: None,
        next_rotation_at: None,
        current_version: 1,
        policy: "{}".into(),
        tags: vec![("b".into(), "2".into()), ("a".into(), "1".into())],
    }
}

fn version(scope: &Scope, id: &str, n: u32) -> KeyVersionRecord {
    KeyVersionRecord {
        scope: scope.clone(),
        key_id: id.to_string(),
        version: n,
        wrapped_material: vec![n as u8; 60],
        created_at: 1_000 + n as i64,
        rotation_type: (n > 1).then(|| "ON_DEMAND".to_string()),
    }
}

fn parameter(scope: &Scope, name: &str, version: u32, tier: &str) -> ParameterRecord {
    ParameterRecord {
        scope: scope.clone(),
        name: name.to_string(),
        tags: vec![("env".into(), "prod".into())],
        current: ParameterVersionRecord {
            version,
            parameter_type: "SecureString".into(),
            value: format!("ciphertext-{version}"),
            key_id: Some("alias/aws/ssm".into()),
            description: Some("d".into()),
            allowed_pattern: None,
            data_type: "text".into(),
            tier: tier.into(),
            labels: vec![],
            policies: None,
            modified_at: 10 + version as i64,
            modified_by: "arn:aws:iam::111122223333:root".into(),
        },
    }
}

async fn parameters(store: &dyn Store) {
    let eu = Scope::new("111122223333", "eu-west-1");
    let us = Scope::new("111122223333", "us-east-1");
    for name in [
        "/can2025/prod/jwt-secret",
        "/can2025/prod/db_pass",
        "/can2025/dev/x",
        "/can2025_other",
        "plain",
    ] {
        store
            .put_parameter(&parameter(&eu, name, 1, "Standard"), true, None)
            .await
            .unwrap();
    }
    assert!(matches!(
        store
            .put_parameter(&parameter(&eu, "plain", 1, "Standard"), true, None)
            .await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(store.get_parameter(&us, "plain").await.unwrap(), None);

    // New versions become current; old ones stay; one may be dropped in the same write.
    store
        .put_parameter(&parameter(&eu, "plain", 2, "Advanced"), false, None)
        .await
        .unwrap();
    store
        .put_parameter(&parameter(&eu, "plain", 3, "Advanced"), false, Some(1))
        .await
        .unwrap();
    let p = store.get_parameter(&eu, "plain").await.unwrap().unwrap();
    assert_eq!(p.current, parameter(&eu, "plain", 3, "Advanced").current);
    let versions: Vec<u32> = store
        .parameter_versions(&eu, "plain")
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, [2, 3]);
    assert_eq!(store.count_parameters(&eu).await.unwrap(), (4, 1));

    // Prefix listing is exact (no LIKE wildcards) and ordered.
    let names: Vec<String> = store
        .list_parameters(&eu, "/can2025/")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(
        names,
        [
            "/can2025/dev/x",
            "/can2025/prod/db_pass",
            "/can2025/prod/jwt-secret"
        ]
    );
    assert_eq!(store.list_parameters(&eu, "").await.unwrap().len(), 5);
    assert!(store
        .list_parameters(&eu, "/can2025/prod/db%")
        .await
        .unwrap()
        .is_empty());

    // Labels and tags.
    store
        .set_parameter_labels(
            &eu,
            "plain",
            &[(2, vec![]), (3, vec!["live".into(), "v3".into()])],
        )
        .await
        .unwrap();
    let versions = store.parameter_versions(&eu, "plain").await.unwrap();
    assert_eq!(versions[1].labels, ["live", "v3"]);
    store
        .set_parameter_tags(&eu, "plain", &[("team".into(), "gates".into())])
        .await
        .unwrap();
    assert_eq!(
        store
            .get_parameter(&eu, "plain")
            .await
            .unwrap()
            .unwrap()
            .tags,
        [("team".to_string(), "gates".to_string())]
    );

    // Deletion removes every version.
    assert!(store.delete_parameter(&eu, "plain").await.unwrap());
    assert!(!store.delete_parameter(&eu, "plain").await.unwrap());
    assert!(store
        .parameter_versions(&eu, "plain")
        .await
        .unwrap()
        .is_empty());
    store
        .put_parameter(&parameter(&eu, "plain", 1, "Standard"), true, None)
        .await
        .unwrap();
}

/// Runs every check against `store`, which must be empty. Panics on the first failure.
pub async fn run(store: &dyn Store) {
    parameters(store).await;
    let eu = Scope::new("111122223333", "eu-west-1");
    let us = Scope::new("111122223333", "us-east-1");
    let other_account = Scope::new("444455556666", "eu-west-1");

    // Keys are created with their first version and are scoped by account and region.
    for id in ["k-c", "k-a", "k-b"] {
        store
            .create_key(&key(&eu, id), &version(&eu, id, 1))
            .await
            .unwrap();
    }
    assert!(matches!(
        store
            .create_key(&key(&eu, "k-a"), &version(&eu, "k-a", 1))
            .await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(
        store.get_key(&eu, "k-a").await.unwrap(),
        Some(key(&eu, "k-a"))
    );
    assert_eq!(store.get_key(&us, "k-a").await.unwrap(), None);
    assert_eq!(store.get_key(&other_account, "k-a").await.unwrap(), None);

    // Listing is ordered by key id and pages with `after`.
    let page: Vec<_> = store
        .list_keys(&eu, None, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(page, ["k-a", "k-b"]);
    let page: Vec<_> = store
        .list_keys(&eu, Some("k-b"), 2)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(page, ["k-c"]);
    assert!(store.list_keys(&us, None, 10).await.unwrap().is_empty());

    // Updates overwrite every mutable field, including options and tags.
    let mut k = key(&eu, "k-a");
    k.key_state = "PendingDeletion".into();
    k.deletion_date = Some(5_000);
    k.pending_window_days = Some(7);
    k.rotation_enabled = true;
    k.rotation_period_days = Some(90);
    k.next_rotation_at = Some(9_000);
    k.tags = vec![("x".into(), "y".into())];
    k.description = "changed".into();
    store.update_key(&k).await.unwrap();
    assert_eq!(store.get_key(&eu, "k-a").await.unwrap(), Some(k.clone()));

    // Rotation adds a version and updates the key atomically; versions keep their material.
    k.current_version = 2;
    store
        .add_key_version(&k, &version(&eu, "k-a", 2))
        .await
        .unwrap();
    let versions = store.key_versions(&eu, "k-a").await.unwrap();
    assert_eq!(
        versions,
        vec![version(&eu, "k-a", 1), version(&eu, "k-a", 2)]
    );
    assert_eq!(
        store
            .get_key(&eu, "k-a")
            .await
            .unwrap()
            .unwrap()
            .current_version,
        2
    );

    // Due keys: deletion date or next rotation at or before now.
    let due: Vec<_> = store
        .keys_due(4_999)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert!(due.is_empty());
    let due: Vec<_> = store
        .keys_due(5_000)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(due, ["k-a"]);

    // Aliases: unique per scope, retargetable, listed by name.
    let alias = |scope: &Scope, name: &str, target: &str| AliasRecord {
        scope: scope.clone(),
        alias_name: name.into(),
        target_key_id: target.into(),
        created_at: 1,
        updated_at: 1,
    };
    store
        .create_alias(&alias(&eu, "alias/b", "k-a"))
        .await
        .unwrap();
    store
        .create_alias(&alias(&eu, "alias/a", "k-b"))
        .await
        .unwrap();
    store
        .create_alias(&alias(&us, "alias/a", "k-x"))
        .await
        .unwrap();
    assert!(matches!(
        store.create_alias(&alias(&eu, "alias/a", "k-c")).await,
        Err(StoreError::AlreadyExists)
    ));
    let mut moved = alias(&eu, "alias/a", "k-c");
    moved.updated_at = 2;
    assert!(store.update_alias(&moved).await.unwrap());
    assert!(!store
        .update_alias(&alias(&eu, "alias/none", "k-c"))
        .await
        .unwrap());
    assert_eq!(
        store.get_alias(&eu, "alias/a").await.unwrap(),
        Some(moved.clone())
    );
    let names: Vec<_> = store
        .list_aliases(&eu)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.alias_name)
        .collect();
    assert_eq!(names, ["alias/a", "alias/b"]);
    assert!(store.delete_alias(&eu, "alias/a").await.unwrap());
    assert!(!store.delete_alias(&eu, "alias/a").await.unwrap());

    // Deleting a key removes its versions and the aliases naming it, nothing else.
    store.delete_key(&eu, "k-a").await.unwrap();
    assert_eq!(store.get_key(&eu, "k-a").await.unwrap(), None);
    assert!(store.key_versions(&eu, "k-a").await.unwrap().is_empty());
    assert_eq!(store.get_alias(&eu, "alias/b").await.unwrap(), None);
    assert!(store.get_alias(&us, "alias/a").await.unwrap().is_some());
    assert!(store.get_key(&eu, "k-b").await.unwrap().is_some());

    // Access keys.
    let ak = AccessKeyRecord {
        access_key_id: "AKIATEST".into(),
        account: "111122223333".into(),
        user_name: None,
        principal_arn: "arn:aws:iam::111122223333:root".into(),
        wrapped_secret: vec![9; 56],
        status: "Active".into(),
        created_at: 7,
    };
    store.create_access_key(&ak).await.unwrap();
    assert!(matches!(
        store.create_access_key(&ak).await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(store.get_access_key("AKIATEST").await.unwrap(), Some(ak));
    assert_eq!(store.get_access_key("AKIANONE").await.unwrap(), None);

    // Settings: insert, replace, absent.
    assert_eq!(store.get_setting("admin").await.unwrap(), None);
    store.put_setting("admin", "AKIA1").await.unwrap();
    store.put_setting("admin", "AKIA2").await.unwrap();
    assert_eq!(
        store.get_setting("admin").await.unwrap().as_deref(),
        Some("AKIA2")
    );

    // Access keys of users: listed per user, status changes, deletion.
    let user_key = AccessKeyRecord {
        access_key_id: "AKIAUSER1".into(),
        user_name: Some("gate-admin".into()),
        principal_arn: "arn:aws:iam::111122223333:user/gate-admin".into(),
        ..store.get_access_key("AKIATEST").await.unwrap().unwrap()
    };
    store.create_access_key(&user_key).await.unwrap();
    let ids = |keys: Vec<AccessKeyRecord>| {
        keys.into_iter()
            .map(|k| k.access_key_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store
            .list_access_keys("111122223333", Some("gate-admin"))
            .await
            .unwrap()),
        ["AKIAUSER1"]
    );
    assert_eq!(
        ids(store.list_access_keys("111122223333", None).await.unwrap()),
        ["AKIATEST"]
    );
    assert!(store
        .set_access_key_status("AKIAUSER1", "Inactive")
        .await
        .unwrap());
    assert_eq!(
        store
            .get_access_key("AKIAUSER1")
            .await
            .unwrap()
            .unwrap()
            .status,
        "Inactive"
    );
    assert!(store.delete_access_key("AKIAUSER1").await.unwrap());
    assert!(!store.delete_access_key("AKIAUSER1").await.unwrap());

    // Documents: create-only vs replace, scoped by account, region and kind.
    let doc = |kind: &str, name: &str, body: &str| Document {
        account: "111122223333".into(),
        region: "".into(),
        kind: kind.into(),
        name: name.into(),
        body: body.into(),
        updated_at: 5,
    };
    store
        .put_document(&doc("iam-role", "b", "{}"), true)
        .await
        .unwrap();
    store
        .put_document(&doc("iam-role", "a", "{}"), true)
        .await
        .unwrap();
    store
        .put_document(&doc("iam-user", "a", "{}"), true)
        .await
        .unwrap();
    assert!(matches!(
        store.put_document(&doc("iam-role", "a", "{}"), true).await,
        Err(StoreError::AlreadyExists)
    ));
    store
        .put_document(&doc("iam-role", "a", "{\"x\":1}"), false)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_document("111122223333", "", "iam-role", "a")
            .await
            .unwrap()
            .unwrap()
            .body,
        "{\"x\":1}"
    );
    let names: Vec<String> = store
        .list_documents("111122223333", "", "iam-role")
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(store
        .delete_document("111122223333", "", "iam-role", "a")
        .await
        .unwrap());
    assert!(store
        .get_document("111122223333", "", "iam-role", "a")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .get_document("111122223333", "", "iam-user", "a")
        .await
        .unwrap()
        .is_some());
}
