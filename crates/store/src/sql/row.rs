//! A row of either driver, read by column name: sqlx's (every statement on PostgreSQL, and SQLite's
//! less frequent ones) and rusqlite's (SQLite's hot reads, [`super::sqlite_reader`]).
//!
//! A record read on both paths is decoded by one function written over [`Columns`], so the two
//! cannot drift apart: a column that is missing, NULL where a value is expected, or of another type
//! makes the row corrupt ([`StoreError::Corrupt`]) on either.

use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use crate::{Result, StoreError};

/// A column type both drivers read.
pub(crate) trait Column:
    for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + rusqlite::types::FromSql
{
}

impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + rusqlite::types::FromSql
{
}

/// A row whose columns are read by name, or by position where a hot read's statement fixes the
/// order (finding a name compares it with every column's: a tenth of a Query of 100 items).
pub(crate) trait Columns {
    fn column<T: Column>(&self, name: &str) -> Result<T>;
    fn column_at<T: Column>(&self, index: usize) -> Result<T>;
}

impl Columns for AnyRow {
    fn column<T: Column>(&self, name: &str) -> Result<T> {
        self.try_get(name)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    fn column_at<T: Column>(&self, index: usize) -> Result<T> {
        self.try_get(index)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

impl Columns for rusqlite::Row<'_> {
    fn column<T: Column>(&self, name: &str) -> Result<T> {
        self.get(name)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    fn column_at<T: Column>(&self, index: usize) -> Result<T> {
        self.get(index)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}
