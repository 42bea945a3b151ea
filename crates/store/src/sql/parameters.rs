//! SSM parameters, their versions, labels and tags on the SQL layer.

use sqlx::Row;

use super::row::Columns;
use super::sqlite_reader;
use super::{unavailable, SqlStore};
use crate::{ParameterRecord, ParameterVersionRecord, Result, Scope, StoreError};

const PARAMETER_VERSION_COLUMNS: &str =
    "v.version, v.parameter_type, v.value, v.key_id, v.description, \
     v.allowed_pattern, v.data_type, v.tier, v.labels, v.policies, v.modified_at, v.modified_by";

fn parameter_version_from_row(row: &impl Columns) -> Result<ParameterVersionRecord> {
    let labels: String = row.column("labels")?;
    Ok(ParameterVersionRecord {
        version: row.column::<i64>("version")? as u32,
        parameter_type: row.column("parameter_type")?,
        value: row.column("value")?,
        key_id: row.column("key_id")?,
        description: row.column("description")?,
        allowed_pattern: row.column("allowed_pattern")?,
        data_type: row.column("data_type")?,
        tier: row.column("tier")?,
        labels: serde_json::from_str(&labels)
            .map_err(|e| StoreError::Corrupt(format!("labels: {e}")))?,
        policies: row.column("policies")?,
        modified_at: row.column("modified_at")?,
        modified_by: row.column("modified_by")?,
    })
}

fn parameter_from_row(row: &impl Columns) -> Result<ParameterRecord> {
    let tags: String = row.column("tags")?;
    Ok(ParameterRecord {
        scope: Scope {
            account: row.column("account")?,
            region: row.column("region")?,
        },
        name: row.column("name")?,
        tags: serde_json::from_str(&tags).map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?,
        current: parameter_version_from_row(row)?,
    })
}

fn parameters_query(condition: &str) -> String {
    format!(
        "SELECT p.account, p.region, p.name, p.tags, {PARAMETER_VERSION_COLUMNS} FROM ssm_parameters p \
         JOIN ssm_parameter_versions v ON v.account = p.account AND v.region = p.region AND v.name = p.name \
         AND v.version = p.current_version WHERE p.account = $1 AND p.region = $2 AND {condition} ORDER BY p.name"
    )
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializes")
}

pub(super) async fn get_parameter(
    s: &SqlStore,
    scope: &Scope,
    name: &str,
) -> Result<Option<ParameterRecord>> {
    let sql = parameters_query("p.name = $3");
    if let Some(reader) = &s.sqlite_reader {
        return reader.read(|conn| {
            sqlite_reader::first(conn, &sql, &[&scope.account, &scope.region, &name], |row| {
                parameter_from_row(row)
            })
        });
    }
    let row = sqlx::query(&sql)
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(name)
        .fetch_optional(&s.pool)
        .await
        .map_err(unavailable)?;
    row.as_ref().map(parameter_from_row).transpose()
}

pub(super) async fn list_parameters(
    s: &SqlStore,
    scope: &Scope,
    prefix: &str,
) -> Result<Vec<ParameterRecord>> {
    // A range on the primary key rather than LIKE: names may contain '_' and '%'.
    let rows = sqlx::query(&parameters_query(
        "p.name >= $3 AND substr(p.name, 1, CAST($4 AS INTEGER)) = $3",
    ))
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(prefix)
    .bind(prefix.chars().count() as i64)
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    rows.iter().map(parameter_from_row).collect()
}

pub(super) async fn count_parameters(s: &SqlStore, scope: &Scope) -> Result<(u64, u64)> {
    let rows = sqlx::query(
        "SELECT v.tier, COUNT(*) AS n FROM ssm_parameters p JOIN ssm_parameter_versions v \
         ON v.account = p.account AND v.region = p.region AND v.name = p.name AND v.version = p.current_version \
         WHERE p.account = $1 AND p.region = $2 GROUP BY v.tier",
    )
    .bind(&scope.account)
    .bind(&scope.region)
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    let (mut standard, mut advanced) = (0, 0);
    for row in rows {
        let tier: String = row
            .try_get("tier")
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let n: i64 = row
            .try_get("n")
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if tier == "Advanced" {
            advanced += n as u64;
        } else {
            standard += n as u64;
        }
    }
    Ok((standard, advanced))
}

pub(super) async fn parameter_versions(
    s: &SqlStore,
    scope: &Scope,
    name: &str,
) -> Result<Vec<ParameterVersionRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {PARAMETER_VERSION_COLUMNS} FROM ssm_parameter_versions v \
         WHERE v.account = $1 AND v.region = $2 AND v.name = $3 ORDER BY v.version"
    ))
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(name)
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    rows.iter().map(parameter_version_from_row).collect()
}

pub(super) async fn put_parameter(
    s: &SqlStore,
    parameter: &ParameterRecord,
    create: bool,
    drop_version: Option<u32>,
) -> Result<()> {
    let (scope, name, v) = (&parameter.scope, &parameter.name, &parameter.current);
    let mut tx = s.pool.begin().await.map_err(unavailable)?;
    let sql = if create {
        "INSERT INTO ssm_parameters (account, region, name, current_version, tags) VALUES ($1, $2, $3, $4, $5)"
    } else {
        "UPDATE ssm_parameters SET current_version = $4, tags = $5 WHERE account = $1 AND region = $2 AND name = $3"
    };
    let done = sqlx::query(sql)
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(name)
        .bind(v.version as i64)
        .bind(json(&parameter.tags))
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Unavailable(format!(
            "parameter {name} changed concurrently"
        )));
    }
    if let Some(old) = drop_version {
        sqlx::query("DELETE FROM ssm_parameter_versions WHERE account = $1 AND region = $2 AND name = $3 AND version = $4")
            .bind(&scope.account)
            .bind(&scope.region)
            .bind(name)
            .bind(old as i64)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
    }
    sqlx::query(
        "INSERT INTO ssm_parameter_versions (account, region, name, version, parameter_type, value, key_id, \
         description, allowed_pattern, data_type, tier, labels, policies, modified_at, modified_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(name)
    .bind(v.version as i64)
    .bind(&v.parameter_type)
    .bind(&v.value)
    .bind(&v.key_id)
    .bind(&v.description)
    .bind(&v.allowed_pattern)
    .bind(&v.data_type)
    .bind(&v.tier)
    .bind(json(&v.labels))
    .bind(&v.policies)
    .bind(v.modified_at)
    .bind(&v.modified_by)
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)
}

pub(super) async fn set_parameter_labels(
    s: &SqlStore,
    scope: &Scope,
    name: &str,
    labels: &[(u32, Vec<String>)],
) -> Result<()> {
    let mut tx = s.pool.begin().await.map_err(unavailable)?;
    for (version, list) in labels {
        sqlx::query(
            "UPDATE ssm_parameter_versions SET labels = $5 WHERE account = $1 AND region = $2 AND name = $3 AND version = $4",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(name)
        .bind(*version as i64)
        .bind(json(list))
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    }
    tx.commit().await.map_err(unavailable)
}

pub(super) async fn set_parameter_tags(
    s: &SqlStore,
    scope: &Scope,
    name: &str,
    tags: &[(String, String)],
) -> Result<()> {
    sqlx::query(
        "UPDATE ssm_parameters SET tags = $4 WHERE account = $1 AND region = $2 AND name = $3",
    )
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(name)
    .bind(json(&tags))
    .execute(&s.pool)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn delete_parameter(s: &SqlStore, scope: &Scope, name: &str) -> Result<bool> {
    let mut tx = s.pool.begin().await.map_err(unavailable)?;
    sqlx::query(
        "DELETE FROM ssm_parameter_versions WHERE account = $1 AND region = $2 AND name = $3",
    )
    .bind(&scope.account)
    .bind(&scope.region)
    .bind(name)
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    let done =
        sqlx::query("DELETE FROM ssm_parameters WHERE account = $1 AND region = $2 AND name = $3")
            .bind(&scope.account)
            .bind(&scope.region)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}
