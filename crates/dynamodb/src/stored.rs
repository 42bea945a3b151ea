//! An item as the store holds it: sealed body, keyed hashes of its primary key and partition key,
//! and its entries in the table's indexes.

use m2sec_crypto::TableKey;
use m2sec_store::ItemRecord;

use crate::error::{DynamoError, Result};
use crate::item::{self, AttributeValue, Item};
use crate::tables::{key_of, TableRecord};

/// The primary key of an item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PrimaryKey {
    pub partition: AttributeValue,
    pub sort: Option<AttributeValue>,
}

impl PrimaryKey {
    /// The key as an item (for `Key`, `LastEvaluatedKey`).
    pub fn to_item(&self, table: &TableRecord) -> Item {
        let mut key = Item::new();
        key.insert(table.partition_key().to_string(), self.partition.clone());
        if let (Some(name), Some(v)) = (table.sort_key(), &self.sort) {
            key.insert(name.to_string(), v.clone());
        }
        key
    }
}

/// DynamoDB's limits on a key attribute's value (the table's or an index's): 2048 bytes for a
/// partition key, 1024 for a sort key. A number always fits.
fn check_key_size(value: &AttributeValue, is_partition: bool) -> Result<()> {
    let len = match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        _ => 0,
    };
    if is_partition && len > 2048 {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if !is_partition && len > 1024 {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

fn check_key_value(table: &TableRecord, name: &str, value: &AttributeValue) -> Result<()> {
    check_key_shape(table, name, value)?;
    check_key_size(value, name == table.partition_key())
}

/// A key attribute's type, and a string or binary key not empty.
fn check_key_shape(table: &TableRecord, name: &str, value: &AttributeValue) -> Result<()> {
    let expected = table.attribute_type(name).unwrap_or("S");
    let actual = value.attribute_type().name();
    if expected != actual {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Type mismatch for key {name} expected: {expected} actual: {actual}"
        )));
    }
    let empty = match value {
        AttributeValue::S(s) => s.is_empty(),
        AttributeValue::B(b) => b.is_empty(),
        _ => false,
    };
    if empty {
        return Err(DynamoError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {name}",
            if matches!(value, AttributeValue::S(_)) { "string" } else { "binary" }
        )));
    }
    Ok(())
}

/// The primary key of a whole item (PutItem): every key attribute present, of its type.
pub(crate) fn key_of_item(table: &TableRecord, item: &Item) -> Result<PrimaryKey> {
    key_of_item_with(table, item, IndexKeys::Checked)
}

/// [`key_of_item`]; `Lenient` (an item already stored) does not hold its key values to the size
/// limits, which items written before they were enforced may exceed.
fn key_of_item_with(table: &TableRecord, item: &Item, mode: IndexKeys) -> Result<PrimaryKey> {
    let take = |name: &str| -> Result<AttributeValue> {
        let v = item.get(name).ok_or_else(|| {
            DynamoError::validation(format!(
                "One or more parameter values were invalid: Missing the key {name} in the item"
            ))
        })?;
        match mode {
            IndexKeys::Checked => check_key_value(table, name, v)?,
            IndexKeys::Lenient => check_key_shape(table, name, v)?,
        }
        Ok(v.clone())
    };
    let partition = take(table.partition_key())?;
    let sort = match table.sort_key() {
        Some(name) => Some(take(name)?),
        None => None,
    };
    Ok(PrimaryKey { partition, sort })
}

/// The primary key a `Key` parameter names: exactly the key attributes.
pub(crate) fn key_from_param(table: &TableRecord, key: &Item) -> Result<PrimaryKey> {
    let wanted = 1 + usize::from(table.sort_key().is_some());
    let mismatch = || DynamoError::validation("The provided key element does not match the schema");
    if key.len() != wanted {
        return Err(mismatch());
    }
    let partition = key.get(table.partition_key()).ok_or_else(mismatch)?;
    check_key_value(table, table.partition_key(), partition).map_err(|e| match e {
        DynamoError::Validation(m) if m.contains("Type mismatch") => mismatch(),
        other => other,
    })?;
    let sort = match table.sort_key() {
        Some(name) => {
            let v = key.get(name).ok_or_else(mismatch)?;
            check_key_value(table, name, v).map_err(|e| match e {
                DynamoError::Validation(m) if m.contains("Type mismatch") => mismatch(),
                other => other,
            })?;
            Some(v.clone())
        }
        None => None,
    };
    Ok(PrimaryKey {
        partition: partition.clone(),
        sort,
    })
}

pub(crate) fn item_hash(key: &TableKey, pk: &PrimaryKey) -> Vec<u8> {
    let p = item::sort_key_bytes(&pk.partition);
    let s = pk
        .sort
        .as_ref()
        .map(item::sort_key_bytes)
        .unwrap_or_default();
    key.keyed_hash(&[b"item", &p, &s])
}

pub(crate) fn partition_hash(key: &TableKey, partition: &AttributeValue) -> Vec<u8> {
    key.keyed_hash(&[b"partition", &item::sort_key_bytes(partition)])
}

pub(crate) fn index_partition_hash(
    key: &TableKey,
    index: &str,
    partition: &AttributeValue,
) -> Vec<u8> {
    key.keyed_hash(&[b"index", index.as_bytes(), &item::sort_key_bytes(partition)])
}

fn aad(table_id: &str, item_hash: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(table_id.len() + 1 + item_hash.len());
    aad.extend_from_slice(table_id.as_bytes());
    aad.push(b'|');
    aad.extend_from_slice(item_hash);
    aad
}

/// Whether an item may be written with what it holds for an index's key attributes.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum IndexKeys {
    /// A write of the item: a value an index cannot hold refuses the write, as DynamoDB does.
    Checked,
    /// An item rewritten in place (an index built over existing items, a changed time to live): a
    /// value an index cannot hold leaves the item out of that index (DynamoDB's index key
    /// violations), and the item as it is.
    Lenient,
}

/// The index entries of an item: every index whose key attributes it has (indexes are sparse).
fn index_entries(
    key: &TableKey,
    table: &TableRecord,
    item: &Item,
    mode: IndexKeys,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut entries = Vec::new();
    for index in table.indexes() {
        let mut present = true;
        for k in &index.key_schema {
            match item.get(&k.attribute_name) {
                None => present = false,
                Some(v) => match check_index_key(table, &index.name, k, v) {
                    Ok(()) => {}
                    Err(_) if mode == IndexKeys::Lenient => present = false,
                    Err(e) => return Err(e),
                },
            }
        }
        if !present {
            continue;
        }
        let hash_name = key_of(&index.key_schema, "HASH").unwrap_or_default();
        let partition = &item[hash_name];
        entries.push((
            index.name.clone(),
            index_partition_hash(key, &index.name, partition),
        ));
    }
    Ok(entries)
}

/// A value of an index's key attribute: of its type, not empty, not too large.
fn check_index_key(
    table: &TableRecord,
    index: &str,
    k: &crate::shapes::KeySchemaElement,
    v: &AttributeValue,
) -> Result<()> {
    let expected = table.attribute_type(&k.attribute_name).unwrap_or("S");
    let actual = v.attribute_type().name();
    if expected != actual {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {expected} Actual: {actual} IndexName: {index}",
            k.attribute_name
        )));
    }
    if matches!(v, AttributeValue::S(s) if s.is_empty())
        || matches!(v, AttributeValue::B(b) if b.is_empty())
    {
        return Err(DynamoError::validation(format!(
            "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {index}, IndexKey: {}",
            k.attribute_name
        )));
    }
    check_key_size(v, k.key_type == "HASH")
}

/// How far in the past an item's expiry time may be and still make it expire: five years.
const TTL_LOOKBACK_SECS: i64 = 5 * 365 * 24 * 3600;

/// The item sealed for the store (version 0: the writer sets it).
pub(crate) fn seal_item(key: &TableKey, table: &TableRecord, item: &Item) -> Result<ItemRecord> {
    seal_item_with(key, table, item, IndexKeys::Checked)
}

/// [`seal_item`], with index key values checked as `mode` says.
pub(crate) fn seal_item_with(
    key: &TableKey,
    table: &TableRecord,
    item: &Item,
    mode: IndexKeys,
) -> Result<ItemRecord> {
    let pk = key_of_item_with(table, item, mode)?;
    let item_hash = item_hash(key, &pk);
    let body = item::item_to_body(item);
    // As DynamoDB: an expiry time more than five years in the past is not one (the attribute more
    // likely holds some other time), and such an item never expires.
    let expires_at = table
        .ttl_attribute
        .as_ref()
        .and_then(|a| match item.get(a) {
            Some(AttributeValue::N(n)) => n.to_string().split('.').next()?.parse::<i64>().ok(),
            _ => None,
        })
        .filter(|at| *at >= m2sec_store::now_ms() / 1000 - TTL_LOOKBACK_SECS);
    // An item of a table without a sort key is alone in its partition: the store keeps it out of
    // the partition index, and a Query reads it by its item hash.
    let partition_hash = match pk.sort {
        None => item_hash.clone(),
        Some(_) => partition_hash(key, &pk.partition),
    };
    Ok(ItemRecord {
        table_id: table.id.clone(),
        partition_hash,
        body: key.seal(&aad(&table.id, &item_hash), &body),
        item_hash,
        version: 0,
        expires_at,
        indexes: index_entries(key, table, item, mode)?,
        size: item::item_size(item) as i64,
    })
}

/// The item a stored record holds.
pub(crate) fn open_item(key: &TableKey, record: &ItemRecord) -> Result<Item> {
    let plain = key
        .open(&aad(&record.table_id, &record.item_hash), &record.body)
        .map_err(|_| {
            DynamoError::Internal("a stored item does not open with its table's key".into())
        })?;
    item::item_from_body(plain.expose())
        .map_err(|e| DynamoError::Internal(format!("a stored item does not read: {e}")))
}
