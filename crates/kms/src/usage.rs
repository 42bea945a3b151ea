//! GetKeyLastUsage, answered from the trail: the newest successful cryptographic call that names the
//! key (read back from the newest record, at most `SCAN_LIMIT` records). Custom key store operations, which answer the errors AWS documents for a store that does not
//! exist (m2sec keeps every key in its own store; there are no custom key stores to name).

use m2sec_proto::json::Timestamp;
use m2sec_proto::RequestContext;
use m2sec_store::TrailQuery;
use m2sec_trail::record::index_of;
use serde::Serialize;

use crate::access::Access;
use crate::error::{KmsError, Result};
use crate::shapes::*;
use crate::{now_ms, scope, Aliases, Kms};

/// The operations GetKeyLastUsage reports (`KeyLastUsageTrackingOperation`).
const TRACKED: &[&str] = &[
    "Decrypt",
    "DeriveSharedSecret",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "ReEncrypt",
    "Sign",
    "Verify",
    "VerifyMac",
];

/// At most this many records of the Region are read looking for the key's last use.
const SCAN_LIMIT: usize = 200_000;
const PAGE: i64 = 500;

impl Kms {
    pub(crate) async fn get_key_last_usage(
        &self,
        ctx: &RequestContext,
        req: KeyIdRequest,
    ) -> Result<GetKeyLastUsageResponse> {
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        // A failing trail holds nothing newer that could be read.
        let _ = self.trail.commit_pending().await;
        // Newest first, back to the key's creation or SCAN_LIMIT records of the Region, whichever
        // comes first; in the second case tracking starts at the oldest record read, as AWS
        // reports a tracking window.
        let created = key.record.created_at;
        let mut tracking_start = created;
        let mut before = None;
        let mut scanned = 0;
        let mut last = None;
        'pages: loop {
            let rows = self
                .store
                .trail_lookup(&TrailQuery {
                    scope: scope(ctx),
                    start_ms: created.saturating_sub(1000),
                    end_ms: now_ms() + 1000,
                    event_name: None,
                    before_seq: before,
                    limit: PAGE,
                })
                .await?;
            let complete = (rows.len() as i64) < PAGE;
            for row in rows {
                before = Some(row.seq);
                scanned += 1;
                if scanned > SCAN_LIMIT {
                    tracking_start = row.event.event_time.max(created);
                    break 'pages;
                }
                let e = &row.event;
                if e.event_source != "kms.amazonaws.com"
                    || e.service_event
                    || !TRACKED.contains(&e.event_name.as_str())
                    || !e.body.contains(key.arn.as_str())
                {
                    continue;
                }
                let Some(indexed) = index_of(&e.body) else {
                    continue;
                };
                if !indexed.resources.iter().any(|(_, arn)| *arn == key.arn) {
                    continue;
                }
                if indexed.error_code.is_some() {
                    continue;
                }
                last = Some(KeyLastUsageData {
                    operation: indexed.event_name,
                    timestamp: Timestamp(indexed.event_time),
                    cloud_trail_event_id: indexed.event_id,
                    kms_request_id: indexed.request_id.unwrap_or_default(),
                });
                break 'pages;
            }
            if complete {
                break;
            }
        }
        Ok(GetKeyLastUsageResponse {
            key_id: key.record.key_id.clone(),
            key_creation_date: Timestamp(created),
            tracking_start_date: Timestamp(tracking_start),
            key_last_usage: last,
        })
    }

    /// Every custom key store operation: m2sec has none, so each names the error AWS answers.
    pub(crate) fn custom_key_store(
        &self,
        operation: &str,
        input: &serde_json::Value,
    ) -> Result<Vec<u8>> {
        let id = input.get("CustomKeyStoreId").and_then(|v| v.as_str());
        let name = input.get("CustomKeyStoreName").and_then(|v| v.as_str());
        let not_found = |what: String| crate::custom_key_store_not_found(&what);
        match operation {
            "DescribeCustomKeyStores" => {
                if let Some(id) = id {
                    return Err(not_found(id.to_string()));
                }
                if let Some(name) = name {
                    return Err(not_found(format!("named {name}")));
                }
                #[derive(Serialize)]
                #[serde(rename_all = "PascalCase")]
                struct Empty {
                    custom_key_stores: [(); 0],
                    truncated: bool,
                }
                Ok(serde_json::to_vec(&Empty {
                    custom_key_stores: [],
                    truncated: false,
                })
                .expect("serializes"))
            }
            "CreateCustomKeyStore" => {
                let kind = input
                    .get("CustomKeyStoreType")
                    .and_then(|v| v.as_str())
                    .unwrap_or("AWS_CLOUDHSM");
                Err(if kind == "EXTERNAL_KEY_STORE" {
                    KmsError::Named(
                        "XksProxyUriUnreachableException",
                        "m2sec cannot use an external key store proxy; keep keys in m2sec's own store.".into(),
                    )
                } else {
                    KmsError::Named(
                        "CloudHsmClusterNotFoundException",
                        "m2sec has no CloudHSM clusters; keep keys in m2sec's own store.".into(),
                    )
                })
            }
            _ => Err(not_found(id.unwrap_or("").to_string())),
        }
    }
}
