//! Looking at a store before using it: does it already hold data? `m2sec serve` asks before it gives a
//! data dir a new root key while the store lives elsewhere (`--store postgres://…`): data written
//! under a lost root key must not be met by a new one.

use super::{unavailable, Engine, SqlStore, MIGRATIONS};
use crate::Result;

/// The tables the migrations create, except those a migration fills itself (the trail's head row):
/// a row in any of these was written by a running m2sec.
fn tables() -> Vec<&'static str> {
    let seeded = |table: &str| {
        MIGRATIONS
            .iter()
            .any(|(_, sqlite, _)| sqlite.contains(&format!("INSERT INTO {table} ")))
    };
    MIGRATIONS
        .iter()
        .flat_map(|(_, sqlite, _)| sqlite.split("CREATE TABLE ").skip(1))
        .filter_map(|rest| rest.split(|c: char| c == '(' || c.is_whitespace()).next())
        .filter(|table| !seeded(table))
        .collect()
}

impl SqlStore {
    /// Whether the store at `url` holds anything m2sec wrote: a row in any of its tables (the record
    /// of applied migrations aside). Reads only; no migration is applied, so a store that is then
    /// refused is left exactly as it was.
    pub async fn holds_data(url: &str) -> Result<bool> {
        let url = match url.strip_prefix("sqlite://") {
            // Read-only, so that not even a checkpoint of the WAL changes the file; a file not there
            // holds nothing (and is not created).
            Some(rest) => {
                let path = rest.split('?').next().unwrap_or_default();
                if path.contains(":memory:") || !std::path::Path::new(path).exists() {
                    return Ok(false);
                }
                format!("sqlite://{path}?mode=ro")
            }
            None => url.to_string(),
        };
        let store = Self::connect_unmigrated(&url).await?;
        let found = store.any_row().await;
        store.pool.close().await;
        found
    }

    async fn any_row(&self) -> Result<bool> {
        let exists = match self.engine {
            Engine::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
            Engine::Postgres => {
                "SELECT 1 FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1"
            }
        };
        for table in tables() {
            let present = sqlx::query(exists)
                .bind(table)
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
            if present.is_none() {
                continue;
            }
            let row = sqlx::query(&format!("SELECT 1 FROM {table} LIMIT 1"))
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
            if row.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_of_the_migrations_is_looked_at() {
        let tables = tables();
        for table in [
            "kms_keys",
            "access_keys",
            "settings",
            "documents",
            "trail_events",
            "leases",
            "ddb_items",
            "ddb_index_entries",
        ] {
            assert!(tables.contains(&table), "{table} in {tables:?}");
        }
        assert!(!tables.contains(&"trail_head"), "seeded by its migration");
        let created = MIGRATIONS
            .iter()
            .map(|(_, sqlite, _)| sqlite.matches("CREATE TABLE").count())
            .sum::<usize>();
        assert_eq!(tables.len(), created - 1);
    }
}
