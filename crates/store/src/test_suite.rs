//! The storage conformance suite: every backend must pass [`run`]. Called from this crate's tests for
//! SQLite, and for PostgreSQL when `M2SEC_TEST_POSTGRES_URL` is set.

mod items;

pub use items::racing_writers;

use crate::{
    AccessKeyRecord, AliasRecord, Document, KeyRecord, KeyVersionRecord, NewTrailEvent,
    ParameterRecord, ParameterVersionRecord, Scope, Store, StoreError, TrailDigestRecord,
    TrailQuery,
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
        attributes: Default::default(),
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

fn trail_event(n: i64, region: &str) -> NewTrailEvent {
    NewTrailEvent {
        account: "111122223333".into(),
        region: region.into(),
        // Two events per millisecond.
        event_time: 1_000_000 + n / 2,
        event_source: "kms.amazonaws.com".into(),
        event_name: if n % 3 == 0 { "Decrypt" } else { "Encrypt" }.into(),
        read_only: n % 5 != 0,
        service_event: n % 7 == 0,
        body: format!("{{\"n\":{n},\"text\":\"it's\\n\u{e9}\"}}"),
    }
}

/// Test link: seq and body after the previous hash, so continuity is visible.
fn test_link(prev: &str, seq: i64, body: &str) -> String {
    format!("{}|{seq}:{}", prev.len(), body.len())
}

async fn trail(store: &dyn Store) {
    let head = store.trail_head().await.unwrap();
    assert_eq!((head.seq, head.hash.len()), (0, 64));
    assert_eq!(store.trail_first_seq().await.unwrap(), None);
    // Batches larger than one INSERT statement, across regions.
    let first: Vec<_> = (1..=300).map(|n| trail_event(n, "eu-west-1")).collect();
    let head = store
        .trail_append(std::sync::Arc::new(first.clone()), test_link, true)
        .await
        .unwrap();
    assert_eq!(head.seq, 300);
    let second: Vec<_> = (301..=310).map(|n| trail_event(n, "us-east-1")).collect();
    let head = store
        .trail_append(std::sync::Arc::new(second), test_link, true)
        .await
        .unwrap();
    assert_eq!(head, store.trail_head().await.unwrap());
    assert_eq!(head.seq, 310);

    // Scans are in chain order, each record linked to the previous, stored exactly.
    let rows = store.trail_scan(0, 1000).await.unwrap();
    assert_eq!(rows.len(), 310);
    assert_eq!(rows[0].event, first[0]);
    assert_eq!(rows[0].hash, test_link(&"0".repeat(64), 1, &first[0].body));
    for pair in rows.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
        assert_eq!(
            pair[1].hash,
            test_link(&pair[0].hash, pair[1].seq, &pair[1].event.body)
        );
    }
    assert_eq!(store.trail_scan(305, 2).await.unwrap()[0].seq, 306);

    // Lookups: one account and region, newest first, paged by seq.
    let eu = Scope::new("111122223333", "eu-west-1");
    let query = |event_name: Option<&str>, before_seq: Option<i64>, limit: i64| TrailQuery {
        scope: eu.clone(),
        start_ms: 0,
        end_ms: i64::MAX,
        event_name: event_name.map(str::to_string),
        before_seq,
        limit,
    };
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.trail_lookup(&query(None, before, 50)).await.unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        seen.extend(page.iter().map(|r| r.seq));
    }
    assert_eq!(seen, (1..=300).rev().collect::<Vec<_>>());
    let decrypts = store
        .trail_lookup(&query(Some("Decrypt"), None, 1000))
        .await
        .unwrap();
    assert_eq!(decrypts.len(), 100);
    assert!(decrypts.iter().all(|r| r.event.event_name == "Decrypt"));
    let mut timed = query(None, None, 1000);
    timed.start_ms = 1_000_010;
    timed.end_ms = 1_000_019;
    assert_eq!(store.trail_lookup(&timed).await.unwrap().len(), 20);
    let us = TrailQuery {
        scope: Scope::new("111122223333", "us-east-1"),
        ..query(None, None, 1000)
    };
    assert_eq!(store.trail_lookup(&us).await.unwrap().len(), 10);

    // Counts per day, service and operation, of requests only.
    let counts = store
        .trail_counts("111122223333", 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), 310 - 44);

    // The mean size of the newest records (characters of body and hash).
    let newest: Vec<_> = rows.iter().rev().take(10).collect();
    let expected = newest
        .iter()
        .map(|r| (r.event.body.chars().count() + r.hash.chars().count()) as f64)
        .sum::<f64>()
        / 10.0;
    let mean = store.trail_mean_record_bytes(10).await.unwrap().unwrap();
    assert!((mean - expected).abs() < 1e-6, "{mean} vs {expected}");

    // Digests, then pruning up to one: it stays as the anchor.
    for last_seq in [100, 200, 310] {
        store
            .trail_put_digest(&TrailDigestRecord {
                last_seq,
                created_at: last_seq,
                body: format!("{{\"lastSeq\":{last_seq}}}"),
                signature: "sig".into(),
            })
            .await
            .unwrap();
    }
    assert_eq!(
        store.trail_last_digest().await.unwrap().unwrap().last_seq,
        310
    );
    assert_eq!(
        store.trail_last_seq_before(1_000_100).await.unwrap(),
        Some(199)
    );
    assert_eq!(store.trail_prune(100).await.unwrap(), 100);
    assert_eq!(store.trail_first_seq().await.unwrap(), Some(101));
    let digests = store.trail_digests().await.unwrap();
    assert_eq!(
        digests.iter().map(|d| d.last_seq).collect::<Vec<_>>(),
        vec![100, 200, 310]
    );
    assert_eq!(store.trail_prune(200).await.unwrap(), 100);
    assert_eq!(store.trail_digests().await.unwrap().len(), 2);
    // Appending continues the chain after pruning.
    let head = store
        .trail_append(
            std::sync::Arc::new(vec![trail_event(311, "eu-west-1")]),
            test_link,
            true,
        )
        .await
        .unwrap();
    assert_eq!(head.seq, 311);
}

/// Job leases: taken when free, renewed by their holder, refused to others until they expire or are
/// released; concurrent askers get one winner.
async fn leases(store: &dyn Store) {
    let job = "test.job";
    assert!(store.try_lease(job, "node-a", 1_000, 3_000).await.unwrap());
    // Held by a until 4000: b is refused, a renews (its lease now runs to 6000).
    assert!(!store.try_lease(job, "node-b", 2_000, 3_000).await.unwrap());
    assert!(store.try_lease(job, "node-a", 3_000, 3_000).await.unwrap());
    assert!(!store.try_lease(job, "node-b", 5_999, 3_000).await.unwrap());
    // Expired: b takes it over, and a is the one refused now.
    assert!(store.try_lease(job, "node-b", 6_000, 3_000).await.unwrap());
    assert!(!store.try_lease(job, "node-a", 6_001, 3_000).await.unwrap());
    // Leases are independent of one another.
    assert!(store
        .try_lease("test.other", "node-a", 6_001, 3_000)
        .await
        .unwrap());
    // Only the holder releases; then anyone takes it at once.
    assert!(!store.release_lease(job, "node-a").await.unwrap());
    assert!(store.release_lease(job, "node-b").await.unwrap());
    assert!(!store.release_lease(job, "node-b").await.unwrap());
    assert!(store.try_lease(job, "node-a", 6_002, 3_000).await.unwrap());

    // Many askers at once for a free lease: exactly one wins.
    let race = "test.race";
    let askers: Vec<String> = (0..8).map(|i| format!("node-{i}")).collect();
    let results = futures_join_all(
        askers
            .iter()
            .map(|h| store.try_lease(race, h, 10_000, 5_000)),
    )
    .await;
    let winners = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(winners, 1);
}

/// Runs the futures concurrently and returns their outputs in order (without a futures dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, f) in pending.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter()
        .map(|v| v.expect("every future finished"))
        .collect()
}

/// Runs every check against `store`, which must be empty. Panics on the first failure.
pub async fn run(store: &dyn Store) {
    parameters(store).await;
    trail(store).await;
    leases(store).await;
    keys(store).await;
    aliases(store).await;
    access_keys(store).await;
    settings(store).await;
    documents(store).await;
    items::run(store).await;
}

/// KMS keys: creation with their first version, scoping, listing, updates (one and several at
/// once), versions, imported material, related keys, due keys, and the list of every key.
async fn keys(store: &dyn Store) {
    let eu = Scope::new("111122223333", "eu-west-1");
    let us = Scope::new("111122223333", "us-east-1");
    let other_account = Scope::new("444455556666", "eu-west-1");

    // Keys are created with their first version and are scoped by account and region.
    for id in ["k-c", "k-a", "k-b"] {
        store
            .create_key(&key(&eu, id), Some(&version(&eu, id, 1)))
            .await
            .unwrap();
    }
    assert!(matches!(
        store
            .create_key(&key(&eu, "k-a"), Some(&version(&eu, "k-a", 1)))
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
    k.attributes = crate::KeyAttributes {
        multi_region: Some(crate::MultiRegionConfig {
            primary_region: "eu-west-1".into(),
            replica_regions: vec!["us-east-1".into()],
        }),
        expiration_model: Some("KEY_MATERIAL_EXPIRES".into()),
        valid_to: Some(7_000),
        material_fingerprint: Some("ab".into()),
    };
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

    // A key created without material (imported later) has no versions; removing material deletes
    // every version and updates the key in one step.
    let mut pending = key(&eu, "k-import");
    pending.current_version = 0;
    pending.key_state = "PendingImport".into();
    store.create_key(&pending, None).await.unwrap();
    assert!(store
        .key_versions(&eu, "k-import")
        .await
        .unwrap()
        .is_empty());
    pending.current_version = 1;
    pending.key_state = "Enabled".into();
    store
        .add_key_version(&pending, &version(&eu, "k-import", 1))
        .await
        .unwrap();
    pending.current_version = 0;
    pending.key_state = "PendingImport".into();
    store.remove_key_material(&pending).await.unwrap();
    assert!(store
        .key_versions(&eu, "k-import")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.get_key(&eu, "k-import").await.unwrap(), Some(pending));
    store.delete_key(&eu, "k-import").await.unwrap();

    // A related key (a multi-Region replica) comes with all its versions, and the keys it relates to
    // are rewritten in the same transaction; a failure leaves nothing behind.
    let us_key = key(&us, "k-a");
    let mut listed = k.clone();
    listed.description = "lists the replica".into();
    store
        .create_related_key(
            &us_key,
            &[version(&us, "k-a", 1), version(&us, "k-a", 2)],
            std::slice::from_ref(&listed),
        )
        .await
        .unwrap();
    assert_eq!(store.key_versions(&us, "k-a").await.unwrap().len(), 2);
    assert_eq!(
        store.get_key(&eu, "k-a").await.unwrap(),
        Some(listed.clone())
    );
    let mut again = listed.clone();
    again.description = "not written".into();
    assert!(matches!(
        store
            .create_related_key(&us_key, &[], std::slice::from_ref(&again))
            .await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(
        store.get_key(&eu, "k-a").await.unwrap(),
        Some(listed.clone())
    );
    store.delete_key(&us, "k-a").await.unwrap();
    store.update_key(&k).await.unwrap();

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

    // Several keys change in one transaction.
    let mut b = store.get_key(&eu, "k-b").await.unwrap().unwrap();
    let mut c = store.get_key(&eu, "k-c").await.unwrap().unwrap();
    b.description = "b, changed with c".into();
    c.key_state = "Disabled".into();
    store.update_keys(&[b.clone(), c.clone()]).await.unwrap();
    assert_eq!(store.get_key(&eu, "k-b").await.unwrap(), Some(b));
    assert_eq!(store.get_key(&eu, "k-c").await.unwrap(), Some(c.clone()));
    c.key_state = "Enabled".into();
    store.update_keys(std::slice::from_ref(&c)).await.unwrap();
    store.update_keys(&[]).await.unwrap();

    // Every key of every account and region, ordered by account, region and key id.
    store
        .create_key(
            &key(&other_account, "k-z"),
            Some(&version(&other_account, "k-z", 1)),
        )
        .await
        .unwrap();
    let all: Vec<(String, String)> = store
        .all_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.scope.account, k.key_id))
        .collect();
    assert_eq!(
        all,
        [
            ("111122223333".to_string(), "k-a".to_string()),
            ("111122223333".to_string(), "k-b".to_string()),
            ("111122223333".to_string(), "k-c".to_string()),
            ("444455556666".to_string(), "k-z".to_string()),
        ]
    );
    store.delete_key(&other_account, "k-z").await.unwrap();
}

/// KMS aliases, and what deleting a key does to them. Uses the keys [`keys`] left.
async fn aliases(store: &dyn Store) {
    let eu = Scope::new("111122223333", "eu-west-1");
    let us = Scope::new("111122223333", "us-east-1");
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
}

/// Access keys: the account's own and its users', status changes, deletion.
async fn access_keys(store: &dyn Store) {
    let ak = AccessKeyRecord {
        access_key_id: "AKIATEST".into(),
        account: "111122223333".into(),
        user_name: None,
        user_id: None,
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

    // Access keys of users: listed per user, status changes, deletion.
    let user_key = AccessKeyRecord {
        access_key_id: "AKIAUSER1".into(),
        user_name: Some("gate-admin".into()),
        user_id: Some("AIDAGATEADMIN0000001".into()),
        principal_arn: "arn:aws:iam::111122223333:user/gate-admin".into(),
        ..store.get_access_key("AKIATEST").await.unwrap().unwrap()
    };
    store.create_access_key(&user_key).await.unwrap();
    assert_eq!(
        store.get_access_key("AKIAUSER1").await.unwrap().as_ref(),
        Some(&user_key),
        "the user's unique id is kept with the key"
    );
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
}

/// Settings: insert, replace, absent.
async fn settings(store: &dyn Store) {
    assert_eq!(store.get_setting("admin").await.unwrap(), None);
    store.put_setting("admin", "AKIA1").await.unwrap();
    store.put_setting("admin", "AKIA2").await.unwrap();
    assert_eq!(
        store.get_setting("admin").await.unwrap().as_deref(),
        Some("AKIA2")
    );
}

/// Documents (IAM, Route53, ACM records): create-only vs replace, scoped by account, region and kind.
async fn documents(store: &dyn Store) {
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
    let mut elsewhere = doc("iam-role", "c", "{}");
    elsewhere.region = "us-east-1".into();
    store.put_document(&elsewhere, true).await.unwrap();
    let everywhere: Vec<(String, String)> = store
        .documents_of_kind("iam-role")
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.region, d.name))
        .collect();
    assert_eq!(
        everywhere,
        [
            ("".to_string(), "a".to_string()),
            ("".to_string(), "b".to_string()),
            ("us-east-1".to_string(), "c".to_string())
        ]
    );
    assert!(store
        .delete_document("111122223333", "us-east-1", "iam-role", "c")
        .await
        .unwrap());
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
