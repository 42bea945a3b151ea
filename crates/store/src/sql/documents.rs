//! Documents (IAM, Route53 and ACM records as JSON) on the SQL layer.

use super::row::Columns;
use super::sqlite_reader;
use super::{unavailable, SqlStore};
use crate::{Document, Result};

fn document_from_row(row: &impl Columns) -> Result<Document> {
    Ok(Document {
        account: row.column("account")?,
        region: row.column("region")?,
        kind: row.column("kind")?,
        name: row.column("name")?,
        body: row.column("body")?,
        updated_at: row.column("updated_at")?,
    })
}

pub(super) async fn put_document(s: &SqlStore, doc: &Document, create: bool) -> Result<()> {
    let sql = if create {
        "INSERT INTO documents (account, region, kind, name, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6)"
    } else {
        "INSERT INTO documents (account, region, kind, name, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (account, region, kind, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at"
    };
    sqlx::query(sql)
        .bind(&doc.account)
        .bind(&doc.region)
        .bind(&doc.kind)
        .bind(&doc.name)
        .bind(&doc.body)
        .bind(doc.updated_at)
        .execute(&s.pool)
        .await
        .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn get_document(
    s: &SqlStore,
    account: &str,
    region: &str,
    kind: &str,
    name: &str,
) -> Result<Option<Document>> {
    let sql = "SELECT account, region, kind, name, body, updated_at FROM documents \
               WHERE account = $1 AND region = $2 AND kind = $3 AND name = $4";
    if let Some(reader) = &s.sqlite_reader {
        return reader.read(|conn| {
            sqlite_reader::first(conn, sql, &[&account, &region, &kind, &name], |row| {
                document_from_row(row)
            })
        });
    }
    let row = sqlx::query(sql)
        .bind(account)
        .bind(region)
        .bind(kind)
        .bind(name)
        .fetch_optional(&s.pool)
        .await
        .map_err(unavailable)?;
    row.as_ref().map(document_from_row).transpose()
}

pub(super) async fn list_documents(
    s: &SqlStore,
    account: &str,
    region: &str,
    kind: &str,
) -> Result<Vec<Document>> {
    let rows = sqlx::query(
        "SELECT account, region, kind, name, body, updated_at FROM documents \
         WHERE account = $1 AND region = $2 AND kind = $3 ORDER BY name",
    )
    .bind(account)
    .bind(region)
    .bind(kind)
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    rows.iter().map(document_from_row).collect()
}

pub(super) async fn documents_of_kind(s: &SqlStore, kind: &str) -> Result<Vec<Document>> {
    let rows = sqlx::query(
        "SELECT account, region, kind, name, body, updated_at FROM documents \
         WHERE kind = $1 ORDER BY account, region, name",
    )
    .bind(kind)
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    rows.iter().map(document_from_row).collect()
}

pub(super) async fn delete_document(
    s: &SqlStore,
    account: &str,
    region: &str,
    kind: &str,
    name: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM documents WHERE account = $1 AND region = $2 AND kind = $3 AND name = $4",
    )
    .bind(account)
    .bind(region)
    .bind(kind)
    .bind(name)
    .execute(&s.pool)
    .await
    .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}
