//! Migrations that rewrite existing rows or change what a query lists, run on data written by the
//! schema before them; on SQLite, and on a fresh PostgreSQL database when `M2SEC_TEST_POSTGRES_URL`
//! is set. Also [`SqlStore::holds_data`] on a store never migrated, and on one migrated but empty; the
//! refusal of a store migrated further than this build knows; and the partial partition index
//! serving the partition query.

use super::SqlStore;
use crate::{Document, Store};

async fn fresh_postgres() -> Option<String> {
    let url = std::env::var("M2SEC_TEST_POSTGRES_URL").ok()?;
    sqlx::any::install_default_drivers();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("m2sec_migration_{}_{nanos}", std::process::id());
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    Some(format!("{}/{name}", url.rsplit_once('/').unwrap().0))
}

/// Two tests running `check(url)`: on a fresh SQLite file, and on a fresh PostgreSQL database (skipped,
/// and said so, without `M2SEC_TEST_POSTGRES_URL`).
macro_rules! on_both_engines {
    ($check:ident: $sqlite:ident, $postgres:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            let dir = tempfile::tempdir().unwrap();
            $check(&SqlStore::sqlite_url(&dir.path().join("m2sec.db"))).await;
        }

        #[tokio::test]
        async fn $postgres() {
            let Some(url) = fresh_postgres().await else {
                m2sec_test_support::missing("M2SEC_TEST_POSTGRES_URL (PostgreSQL migrations)");
                return;
            };
            $check(&url).await;
        }
    };
}

fn user(account: &str, name: &str, id: &str) -> Document {
    Document {
        account: account.into(),
        region: "".into(),
        kind: "iam-user".into(),
        name: name.into(),
        body: format!(
            r#"{{"name":"{name}","id":"{id}","path":"/","arn":"arn:aws:iam::{account}:user/{name}","created_at":1}}"#
        ),
        updated_at: 1,
    }
}

/// Migration 7 binds each existing user key to the unique id of the user holding its name.
async fn access_keys_get_their_users_ids(url: &str) {
    assert!(!SqlStore::holds_data(url).await.unwrap(), "never migrated");
    let store = SqlStore::connect_unmigrated(url).await.unwrap();
    store.migrate_through(6).await.unwrap();
    assert!(!SqlStore::holds_data(url).await.unwrap(), "migrated, empty");

    store
        .put_document(&user("111122223333", "alice", "AIDAALICE"), true)
        .await
        .unwrap();
    store
        .put_document(&user("444455556666", "bob", "AIDABOBELSEWHERE"), true)
        .await
        .unwrap();
    for (id, account, user_name) in [
        ("AKIAROOT", "111122223333", None),
        ("AKIAALICE", "111122223333", Some("alice")),
        // Same user name as one of another account: that user is not this key's.
        ("AKIABOB", "111122223333", Some("bob")),
    ] {
        sqlx::query(
            "INSERT INTO access_keys (access_key_id, account, principal_arn, wrapped_secret, status, created_at, user_name) \
             VALUES ($1, $2, 'arn', $3, 'Active', 1, $4)",
        )
        .bind(id)
        .bind(account)
        .bind(vec![1u8; 40])
        .bind(user_name)
        .execute(&store.pool)
        .await
        .unwrap();
    }
    assert!(SqlStore::holds_data(url).await.unwrap());

    store.migrate_through(7).await.unwrap();
    let user_id = |id: &'static str| {
        let store = &store;
        async move { store.get_access_key(id).await.unwrap().unwrap().user_id }
    };
    assert_eq!(user_id("AKIAALICE").await.as_deref(), Some("AIDAALICE"));
    assert_eq!(user_id("AKIAROOT").await, None);
    assert_eq!(user_id("AKIABOB").await, None);
    store.pool.close().await;
}

on_both_engines!(access_keys_get_their_users_ids: sqlite_access_keys_get_their_users_ids, postgres_access_keys_get_their_users_ids);

/// Migration 9 keeps the items written before it, and their partitions: items of a partition shared
/// by several stay listed, as does an item written before it with a partition hash of its own; an
/// item whose partition hash is its item hash is read, not listed.
async fn items_keep_their_partitions(url: &str) {
    use crate::{Expect, GuardedWrite, ItemRecord, ItemWrite};
    let store = SqlStore::connect_unmigrated(url).await.unwrap();
    store.migrate_through(8).await.unwrap();
    let item = |hash: &[u8], partition: &[u8]| ItemRecord {
        table_id: "t".into(),
        item_hash: hash.to_vec(),
        partition_hash: partition.to_vec(),
        body: [b"sealed:".as_slice(), hash].concat(),
        version: 3,
        expires_at: (hash == b"b").then_some(1_700_000_000),
        indexes: vec![("g".into(), b"g1".to_vec())],
        size: 42,
    };
    let items = [item(b"a", b"p"), item(b"b", b"p"), item(b"c", b"c-own")];
    let writes: Vec<_> = items
        .iter()
        .map(|i| GuardedWrite {
            write: ItemWrite::Put(i.clone()),
            expect: Expect::Absent,
        })
        .collect();
    store.write_items(&writes).await.unwrap();
    store.migrate_through(9).await.unwrap();
    for i in &items {
        assert_eq!(
            store.get_item("t", &i.item_hash).await.unwrap().as_ref(),
            Some(i)
        );
    }
    let hashes = |records: Vec<ItemRecord>| -> Vec<Vec<u8>> {
        records.into_iter().map(|r| r.item_hash).collect()
    };
    let listed = |p: &'static [u8]| store.partition_items("t", None, p);
    assert_eq!(hashes(listed(b"p").await.unwrap()), [b"a", b"b"]);
    assert_eq!(hashes(listed(b"c-own").await.unwrap()), [b"c"]);
    let in_index = store.partition_items("t", Some("g"), b"g1").await.unwrap();
    assert_eq!(hashes(in_index), [b"a", b"b", b"c"]);
    // Written after: alone in its partition.
    let lone = item(b"d", b"d");
    store
        .write_items(&[GuardedWrite {
            write: ItemWrite::Put(lone.clone()),
            expect: Expect::Absent,
        }])
        .await
        .unwrap();
    assert!(listed(b"d").await.unwrap().is_empty());
    assert_eq!(store.get_item("t", b"d").await.unwrap(), Some(lone));
    store.pool.close().await;
}

on_both_engines!(items_keep_their_partitions: sqlite_items_keep_their_partitions, postgres_items_keep_their_partitions);

/// A store migrated further than this build knows is refused, with what to run instead.
async fn a_newer_schema_is_refused(url: &str) {
    let store = SqlStore::connect_unmigrated(url).await.unwrap();
    store.migrate_through(i64::MAX).await.unwrap();
    sqlx::query("INSERT INTO m2sec_migrations (version, applied_at) VALUES (999, 1)")
        .execute(&store.pool)
        .await
        .unwrap();
    store.pool.close().await;
    let refused = SqlStore::connect(url).await.err().expect("a newer schema");
    let message = refused.to_string();
    assert!(
        message.contains("schema version 999") && message.contains("run that version"),
        "{message}"
    );
}

on_both_engines!(a_newer_schema_is_refused: sqlite_a_newer_schema_is_refused, postgres_a_newer_schema_is_refused);

/// The partition query of the table is served by the partial partition index (its condition must
/// appear in the query as written in the index), not by a scan of the table.
#[tokio::test]
async fn sqlite_partitions_are_read_through_the_partial_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&SqlStore::sqlite_url(&dir.path().join("m2sec.db")))
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query(&format!(
        "EXPLAIN QUERY PLAN {}",
        super::items::partition_sql(false)
    ))
    .bind("t")
    .bind(vec![1u8])
    .fetch_all(&store.pool)
    .await
    .unwrap()
    .iter()
    .map(|row| sqlx::Row::try_get::<String, _>(row, "detail").unwrap())
    .collect();
    assert!(
        plan.iter().any(|d| d.contains("ddb_items_partition")),
        "{plan:?}"
    );
    store.pool.close().await;
}
