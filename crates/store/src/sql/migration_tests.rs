//! Migrations that rewrite existing rows, run on data written by the schema before them; on SQLite, and
//! on a fresh PostgreSQL database when `M2SEC_TEST_POSTGRES_URL` is set. Also [`SqlStore::holds_data`]
//! on a store never migrated, and on one migrated but empty.

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

#[tokio::test]
async fn sqlite_access_keys_get_their_users_ids() {
    let dir = tempfile::tempdir().unwrap();
    access_keys_get_their_users_ids(&SqlStore::sqlite_url(&dir.path().join("m2sec.db"))).await;
}

#[tokio::test]
async fn postgres_access_keys_get_their_users_ids() {
    let Some(url) = fresh_postgres().await else {
        m2sec_test_support::missing("M2SEC_TEST_POSTGRES_URL (PostgreSQL migrations)");
        return;
    };
    access_keys_get_their_users_ids(&url).await;
}
