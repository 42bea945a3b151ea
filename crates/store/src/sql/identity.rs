//! Access keys, settings and job leases on the SQL layer.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{unavailable, SqlStore};
use crate::{AccessKeyRecord, Result, StoreError};

const ACCESS_KEY_COLUMNS: &str =
    "access_key_id, account, user_name, user_id, principal_arn, wrapped_secret, status, created_at";

fn access_key_from_row(row: &AnyRow) -> Result<AccessKeyRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(AccessKeyRecord {
        access_key_id: row.try_get("access_key_id").map_err(corrupt)?,
        account: row.try_get("account").map_err(corrupt)?,
        user_name: row.try_get("user_name").map_err(corrupt)?,
        user_id: row.try_get("user_id").map_err(corrupt)?,
        principal_arn: row.try_get("principal_arn").map_err(corrupt)?,
        wrapped_secret: row.try_get("wrapped_secret").map_err(corrupt)?,
        status: row.try_get("status").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
    })
}

pub(super) async fn create_access_key(s: &SqlStore, key: &AccessKeyRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO access_keys (access_key_id, account, principal_arn, wrapped_secret, status, created_at, user_name, user_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&key.access_key_id)
    .bind(&key.account)
    .bind(&key.principal_arn)
    .bind(&key.wrapped_secret)
    .bind(&key.status)
    .bind(key.created_at)
    .bind(&key.user_name)
    .bind(&key.user_id)
    .execute(&s.pool)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn get_access_key(
    s: &SqlStore,
    access_key_id: &str,
) -> Result<Option<AccessKeyRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE access_key_id = $1"
    ))
    .bind(access_key_id)
    .fetch_optional(&s.pool)
    .await
    .map_err(unavailable)?;
    row.as_ref().map(access_key_from_row).transpose()
}

pub(super) async fn list_access_keys(
    s: &SqlStore,
    account: &str,
    user_name: Option<&str>,
) -> Result<Vec<AccessKeyRecord>> {
    let by_user = format!(
        "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE account = $1 AND user_name = $2 ORDER BY created_at, access_key_id"
    );
    let by_root = format!(
        "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE account = $1 AND user_name IS NULL ORDER BY created_at, access_key_id"
    );
    let query = match user_name {
        Some(user) => sqlx::query(&by_user).bind(account).bind(user),
        None => sqlx::query(&by_root).bind(account),
    };
    let rows = query.fetch_all(&s.pool).await.map_err(unavailable)?;
    rows.iter().map(access_key_from_row).collect()
}

pub(super) async fn set_access_key_status(
    s: &SqlStore,
    access_key_id: &str,
    status: &str,
) -> Result<bool> {
    let done = sqlx::query("UPDATE access_keys SET status = $2 WHERE access_key_id = $1")
        .bind(access_key_id)
        .bind(status)
        .execute(&s.pool)
        .await
        .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_access_key(s: &SqlStore, access_key_id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1")
        .bind(access_key_id)
        .execute(&s.pool)
        .await
        .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn get_setting(s: &SqlStore, name: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
        .bind(name)
        .fetch_optional(&s.pool)
        .await
        .map_err(unavailable)?;
    row.map(|r| {
        r.try_get("value")
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    })
    .transpose()
}

pub(super) async fn put_setting(s: &SqlStore, name: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(value)
    .execute(&s.pool)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn try_lease(
    s: &SqlStore,
    name: &str,
    holder: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<bool> {
    // One statement: a new lease is inserted; an existing one is taken over only when it has
    // expired or is already ours (the row lock of the conflict makes concurrent askers take turns,
    // and the loser sees the winner's row and changes nothing).
    let done = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
    )
    .bind(name)
    .bind(holder)
    .bind(now_ms.saturating_add(ttl_ms.max(0)))
    .bind(now_ms)
    .execute(&s.pool)
    .await
    .map_err(unavailable)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn release_lease(s: &SqlStore, name: &str, holder: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(&s.pool)
        .await
        .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}
