//! Zones in the store: one document per zone (its record sets inside it), so a change batch is one
//! write. Route53 is global: documents have no region.

use m2sec_store::{Document, Store, StoreError};

use crate::zone::Zone;

const ZONE: &str = "route53.zone";

/// Counts this node's zone changes, so readers that cache zones (the DNS server) see a change made here
/// at once; other nodes' changes reach them when their cache expires.
#[derive(Debug, Default)]
pub struct Generation(std::sync::atomic::AtomicU64);

impl Generation {
    pub fn current(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn bump(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("route53 zone: {e}"))
}

pub async fn load(store: &dyn Store, account: &str, id: &str) -> Result<Option<Zone>, StoreError> {
    match store.get_document(account, "", ZONE, id).await? {
        Some(doc) => serde_json::from_str(&doc.body).map(Some).map_err(corrupt),
        None => Ok(None),
    }
}

/// Every zone of `account`, by id.
pub async fn list(store: &dyn Store, account: &str) -> Result<Vec<Zone>, StoreError> {
    store
        .list_documents(account, "", ZONE)
        .await?
        .iter()
        .map(|doc| serde_json::from_str(&doc.body).map_err(corrupt))
        .collect()
}

/// `create`: fails with [`StoreError::AlreadyExists`] if the id is taken.
pub async fn save(
    store: &dyn Store,
    account: &str,
    zone: &Zone,
    now_ms: i64,
    create: bool,
) -> Result<(), StoreError> {
    let doc = Document {
        account: account.to_string(),
        region: String::new(),
        kind: ZONE.to_string(),
        name: zone.id.clone(),
        body: serde_json::to_string(zone).expect("zones serialize"),
        updated_at: now_ms,
    };
    store.put_document(&doc, create).await
}

pub async fn delete(store: &dyn Store, account: &str, id: &str) -> Result<bool, StoreError> {
    store.delete_document(account, "", ZONE, id).await
}

/// The zone that holds `name` (canonical): the one with the longest name among those above it.
pub fn enclosing<'a>(zones: &'a [Zone], name: &str) -> Option<&'a Zone> {
    zones
        .iter()
        .filter(|z| crate::names::is_within(name, &z.name))
        .max_by_key(|z| z.name.len())
}
