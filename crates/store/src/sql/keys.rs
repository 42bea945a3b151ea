//! KMS keys, their versions and aliases on the SQL layer.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{unavailable, SqlStore};
use crate::{AliasRecord, KeyRecord, KeyVersionRecord, Result, Scope, StoreError};

const KEY_COLUMNS: &str = "account, region, key_id, description, key_usage, key_spec, origin, key_manager, key_state, \
     created_at, deletion_date, pending_window_days, rotation_enabled, rotation_period_days, next_rotation_at, \
     current_version, policy, tags, attributes";

fn key_from_row(row: &AnyRow) -> Result<KeyRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    let tags: String = row.try_get("tags").map_err(corrupt)?;
    let attributes: String = row.try_get("attributes").map_err(corrupt)?;
    Ok(KeyRecord {
        scope: Scope {
            account: row.try_get("account").map_err(corrupt)?,
            region: row.try_get("region").map_err(corrupt)?,
        },
        key_id: row.try_get("key_id").map_err(corrupt)?,
        description: row.try_get("description").map_err(corrupt)?,
        key_usage: row.try_get("key_usage").map_err(corrupt)?,
        key_spec: row.try_get("key_spec").map_err(corrupt)?,
        origin: row.try_get("origin").map_err(corrupt)?,
        key_manager: row.try_get("key_manager").map_err(corrupt)?,
        key_state: row.try_get("key_state").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
        deletion_date: row.try_get("deletion_date").map_err(corrupt)?,
        pending_window_days: row.try_get("pending_window_days").map_err(corrupt)?,
        rotation_enabled: row.try_get::<i64, _>("rotation_enabled").map_err(corrupt)? != 0,
        rotation_period_days: row.try_get("rotation_period_days").map_err(corrupt)?,
        next_rotation_at: row.try_get("next_rotation_at").map_err(corrupt)?,
        current_version: row.try_get::<i64, _>("current_version").map_err(corrupt)? as u32,
        policy: row.try_get("policy").map_err(corrupt)?,
        tags: serde_json::from_str(&tags).map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?,
        attributes: serde_json::from_str(&attributes)
            .map_err(|e| StoreError::Corrupt(format!("attributes: {e}")))?,
    })
}

fn version_from_row(row: &AnyRow) -> Result<KeyVersionRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(KeyVersionRecord {
        scope: Scope {
            account: row.try_get("account").map_err(corrupt)?,
            region: row.try_get("region").map_err(corrupt)?,
        },
        key_id: row.try_get("key_id").map_err(corrupt)?,
        version: row.try_get::<i64, _>("version").map_err(corrupt)? as u32,
        wrapped_material: row.try_get("wrapped_material").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
        rotation_type: row.try_get("rotation_type").map_err(corrupt)?,
    })
}

fn alias_from_row(row: &AnyRow) -> Result<AliasRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(AliasRecord {
        scope: Scope {
            account: row.try_get("account").map_err(corrupt)?,
            region: row.try_get("region").map_err(corrupt)?,
        },
        alias_name: row.try_get("alias_name").map_err(corrupt)?,
        target_key_id: row.try_get("target_key_id").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
        updated_at: row.try_get("updated_at").map_err(corrupt)?,
    })
}

fn tags_json(key: &KeyRecord) -> String {
    serde_json::to_string(&key.tags).expect("tags serialize")
}

fn attributes_json(key: &KeyRecord) -> String {
    serde_json::to_string(&key.attributes).expect("attributes serialize")
}

/// Writes a key with `sql`, whose `$1`…`$19` are the columns of [`KEY_COLUMNS`] in that order.
async fn write_key<'c, E>(exec: E, sql: &str, key: &KeyRecord) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(sql)
        .bind(&key.scope.account)
        .bind(&key.scope.region)
        .bind(&key.key_id)
        .bind(&key.description)
        .bind(&key.key_usage)
        .bind(&key.key_spec)
        .bind(&key.origin)
        .bind(&key.key_manager)
        .bind(&key.key_state)
        .bind(key.created_at)
        .bind(key.deletion_date)
        .bind(key.pending_window_days)
        .bind(key.rotation_enabled as i64)
        .bind(key.rotation_period_days)
        .bind(key.next_rotation_at)
        .bind(key.current_version as i64)
        .bind(&key.policy)
        .bind(tags_json(key))
        .bind(attributes_json(key))
        .execute(exec)
        .await
        .map_err(unavailable)?;
    Ok(())
}

async fn update_key_in<'c, E>(exec: E, key: &KeyRecord) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    // created_at ($10) never changes; writing it back keeps one binding order for both statements.
    write_key(
        exec,
        "UPDATE kms_keys SET description = $4, key_usage = $5, key_spec = $6, origin = $7, key_manager = $8, \
         key_state = $9, created_at = $10, deletion_date = $11, pending_window_days = $12, rotation_enabled = $13, \
         rotation_period_days = $14, next_rotation_at = $15, current_version = $16, policy = $17, tags = $18, \
         attributes = $19 WHERE account = $1 AND region = $2 AND key_id = $3",
        key,
    )
    .await
}

async fn insert_key_in<'c, E>(exec: E, key: &KeyRecord) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    write_key(
        exec,
        &format!(
            "INSERT INTO kms_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        ),
        key,
    )
    .await
}

async fn insert_version<'c, E>(exec: E, v: &KeyVersionRecord) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO kms_key_versions (account, region, key_id, version, wrapped_material, created_at, rotation_type) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&v.scope.account)
    .bind(&v.scope.region)
    .bind(&v.key_id)
    .bind(v.version as i64)
    .bind(&v.wrapped_material)
    .bind(v.created_at)
    .bind(&v.rotation_type)
    .execute(exec)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn create_key(
    s: &SqlStore,
    key: &KeyRecord,
    first_version: Option<&KeyVersionRecord>,
) -> Result<()> {
    let mut tx = s.pool.begin().await.map_err(unavailable)?;
    insert_key_in(&mut *tx, key).await?;
    if let Some(first_version) = first_version {
        insert_version(&mut *tx, first_version).await?;
    }
    tx.commit().await.map_err(unavailable)
}

pub(super) async fn create_related_key(
    s: &SqlStore,
    key: &KeyRecord,
    versions: &[KeyVersionRecord],
    related: &[KeyRecord],
) -> Result<()> {
    let mut tx = s.pool.begin().await.map_err(unavailable)?;
    insert_key_in(&mut *tx, key).await?;
    for version in versions {
        insert_version(&mut *tx, version).await?;
    }
    for other in related {
        update_key_in(&mut *tx, other).await?;
    }
    tx.commit().await.map_err(unavailable)
}

pub(super) async fn update_key(s: &SqlStore, key: &KeyRecord) -> Result<()> {
    update_key_in(&s.pool, key).await
}

pub(super) async fn update_keys(s: &SqlStore, keys: &[KeyRecord]) -> Result<()> {
    let mut tx = s.pool.begin().await.map_err(unavailable)?;
    for key in keys {
        update_key_in(&mut *tx, key).await?;
    }
    tx.commit().await.map_err(unavailable)
}

pub(super) async fn add_key_version(
    s: &SqlStore,
    key: &KeyRecord,
    version: &KeyVersionRecord,
) -> Result<()> {
    let mut tx = s.pool.begin().await.map_err(unavailable)?;
    insert_version(&mut *tx, version).await?;
    update_key_in(&mut *tx, key).await?;
    tx.commit().await.map_err(unavailable)
}

pub(super) async fn remove_key_material(s: &SqlStore, key: &KeyRecord) -> Result<()> {
    let mut tx = s.pool.begin().await.map_err(unavailable)?;
    sqlx::query("DELETE FROM kms_key_versions WHERE account = $1 AND region = $2 AND key_id = $3")
        .bind(&key.scope.account)
        .bind(&key.scope.region)
        .bind(&key.key_id)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    update_key_in(&mut *tx, key).await?;
    tx.commit().await.map_err(unavailable)
}

pub(super) async fn get_key(
    s: &SqlStore,
    scope: &Scope,
    key_id: &str,
) -> Result<Option<KeyRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM kms_keys WHERE account = $1 AND region = $2 AND key_id = $3"
    ))
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(key_id)
    .fetch_optional(&s.pool)
    .await
    .map_err(unavailable)?;
    row.as_ref().map(key_from_row).transpose()
}

pub(super) async fn list_keys(
    s: &SqlStore,
    scope: &Scope,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<KeyRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM kms_keys WHERE account = $1 AND region = $2 AND key_id > $3 \
         ORDER BY key_id LIMIT $4"
    ))
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(after.unwrap_or(""))
    .bind(limit as i64)
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    rows.iter().map(key_from_row).collect()
}

pub(super) async fn key_versions(
    s: &SqlStore,
    scope: &Scope,
    key_id: &str,
) -> Result<Vec<KeyVersionRecord>> {
    let rows = sqlx::query(
        "SELECT account, region, key_id, version, wrapped_material, created_at, rotation_type \
         FROM kms_key_versions WHERE account = $1 AND region = $2 AND key_id = $3 ORDER BY version",
    )
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(key_id)
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    rows.iter().map(version_from_row).collect()
}

pub(super) async fn delete_key(s: &SqlStore, scope: &Scope, key_id: &str) -> Result<()> {
    let mut tx = s.pool.begin().await.map_err(unavailable)?;
    for sql in [
        "DELETE FROM kms_aliases WHERE account = $1 AND region = $2 AND target_key_id = $3",
        "DELETE FROM kms_key_versions WHERE account = $1 AND region = $2 AND key_id = $3",
        "DELETE FROM kms_keys WHERE account = $1 AND region = $2 AND key_id = $3",
    ] {
        sqlx::query(sql)
            .bind(&scope.account)
            .bind(&scope.region)
            .bind(key_id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
    }
    tx.commit().await.map_err(unavailable)
}

pub(super) async fn keys_due(s: &SqlStore, now_ms: i64) -> Result<Vec<KeyRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM kms_keys WHERE deletion_date <= $1 OR next_rotation_at <= $1 \
         ORDER BY account, region, key_id"
    ))
    .bind(now_ms)
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    rows.iter().map(key_from_row).collect()
}

pub(super) async fn create_alias(s: &SqlStore, alias: &AliasRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO kms_aliases (account, region, alias_name, target_key_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&alias.scope.account)
    .bind(&alias.scope.region)
    .bind(&alias.alias_name)
    .bind(&alias.target_key_id)
    .bind(alias.created_at)
    .bind(alias.updated_at)
    .execute(&s.pool)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn update_alias(s: &SqlStore, alias: &AliasRecord) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE kms_aliases SET target_key_id = $4, updated_at = $5 \
         WHERE account = $1 AND region = $2 AND alias_name = $3",
    )
    .bind(&alias.scope.account)
    .bind(&alias.scope.region)
    .bind(&alias.alias_name)
    .bind(&alias.target_key_id)
    .bind(alias.updated_at)
    .execute(&s.pool)
    .await
    .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_alias(s: &SqlStore, scope: &Scope, alias_name: &str) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM kms_aliases WHERE account = $1 AND region = $2 AND alias_name = $3",
    )
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(alias_name)
    .execute(&s.pool)
    .await
    .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn get_alias(
    s: &SqlStore,
    scope: &Scope,
    alias_name: &str,
) -> Result<Option<AliasRecord>> {
    let row = sqlx::query(
        "SELECT account, region, alias_name, target_key_id, created_at, updated_at FROM kms_aliases \
         WHERE account = $1 AND region = $2 AND alias_name = $3",
    )
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(alias_name)
    .fetch_optional(&s.pool)
    .await
    .map_err(unavailable)?;
    row.as_ref().map(alias_from_row).transpose()
}

pub(super) async fn list_aliases(s: &SqlStore, scope: &Scope) -> Result<Vec<AliasRecord>> {
    let rows = sqlx::query(
        "SELECT account, region, alias_name, target_key_id, created_at, updated_at FROM kms_aliases \
         WHERE account = $1 AND region = $2 ORDER BY alias_name",
    )
    .bind(&scope.account)
    .bind(&scope.region)
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    rows.iter().map(alias_from_row).collect()
}

pub(super) async fn all_keys(s: &SqlStore) -> Result<Vec<KeyRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM kms_keys ORDER BY account, region, key_id"
    ))
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    rows.iter().map(key_from_row).collect()
}
