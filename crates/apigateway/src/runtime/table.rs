//! The edge's view of every account's REST APIs and domain names, read from the store and kept
//! until API Gateway on this node changes something, or for at most [`MAX_AGE`] (changes made on
//! another node of a cluster).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use m2sec_store::Store;

use crate::records::{ApiDocument, DomainDocument, API_KIND, DOMAIN_KIND};

pub const MAX_AGE: Duration = Duration::from_secs(2);

/// Where a record lives.
#[derive(Debug, Clone)]
pub struct Owned<T> {
    pub account: String,
    pub region: String,
    pub record: T,
}

#[derive(Debug, Default)]
pub struct Table {
    /// By lowercase domain name.
    pub domains: HashMap<String, Arc<Owned<DomainDocument>>>,
    /// By REST API id.
    pub apis: HashMap<String, Arc<Owned<ApiDocument>>>,
}

pub struct Tables {
    store: Arc<dyn Store>,
    changes: Arc<AtomicU64>,
    /// Read by every request through the edge: a plain lock held for a clone of an `Arc`.
    current: std::sync::RwLock<Option<(u64, Instant, Arc<Table>)>>,
    /// One reload at a time; the others wait for it and take its table.
    reload: tokio::sync::Mutex<()>,
}

impl Tables {
    pub fn new(store: Arc<dyn Store>, changes: Arc<AtomicU64>) -> Self {
        Tables {
            store,
            changes,
            current: std::sync::RwLock::new(None),
            reload: tokio::sync::Mutex::new(()),
        }
    }

    /// How many changes API Gateway on this node has made.
    pub fn generation(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// The table, reloaded if API Gateway changed anything since or it is older than [`MAX_AGE`].
    pub async fn get(&self) -> Result<Arc<Table>, m2sec_store::StoreError> {
        if let Some(table) = self.fresh() {
            return Ok(table);
        }
        let _reloading = self.reload.lock().await;
        if let Some(table) = self.fresh() {
            return Ok(table);
        }
        let generation = self.changes.load(Ordering::Acquire);
        let mut table = Table::default();
        for doc in self.store.documents_of_kind(DOMAIN_KIND).await? {
            match serde_json::from_str::<DomainDocument>(&doc.body) {
                Ok(d) => {
                    table.domains.insert(
                        d.domain.domain_name.to_ascii_lowercase(),
                        Arc::new(Owned {
                            account: doc.account,
                            region: doc.region,
                            record: d,
                        }),
                    );
                }
                Err(e) => {
                    tracing::warn!(name = %doc.name, error = %e, "a stored domain name does not parse")
                }
            }
        }
        for doc in self.store.documents_of_kind(API_KIND).await? {
            match serde_json::from_str::<ApiDocument>(&doc.body) {
                Ok(a) => {
                    table.apis.insert(
                        a.api.id.clone(),
                        Arc::new(Owned {
                            account: doc.account,
                            region: doc.region,
                            record: a,
                        }),
                    );
                }
                Err(e) => {
                    tracing::warn!(name = %doc.name, error = %e, "a stored REST API does not parse")
                }
            }
        }
        let table = Arc::new(table);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) =
            Some((generation, Instant::now(), table.clone()));
        Ok(table)
    }

    /// The table in memory, if nothing changed since it was read and it is young enough.
    fn fresh(&self) -> Option<Arc<Table>> {
        let generation = self.changes.load(Ordering::Acquire);
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        let (g, at, table) = current.as_ref()?;
        (*g == generation && at.elapsed() < MAX_AGE).then(|| table.clone())
    }
}
