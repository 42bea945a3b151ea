//! The hash chain and its verification. Each record's hash covers the previous hash, its position and
//! its exact text, so an edited, removed or inserted record breaks the chain at that record. Hashes
//! alone can be recomputed by whoever rewrites the store, so signed digests (see [`crate::writer`])
//! pin the chain at intervals: a rewrite is caught at the first digest after it.

use std::collections::BTreeMap;

use aws_lc_rs::digest::{Context, SHA256};
use m2sec_store::{Store, TrailRow};
use serde::{Deserialize, Serialize};

use crate::record::index_of;
use crate::signer;
use crate::Result;

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A record's hash: SHA-256 over `prev_hash \n seq \n body`, in hex.
pub fn link(prev_hash: &str, seq: i64, body: &str) -> String {
    // `prev_hash \n seq \n` in one buffer on the stack (a hash is 64 bytes), so the digest is fed in
    // two updates and nothing is allocated but the result.
    let mut head = [0u8; 128];
    let mut n = 0;
    if prev_hash.len() <= 64 {
        head[..prev_hash.len()].copy_from_slice(prev_hash.as_bytes());
        n = prev_hash.len();
    }
    let mut ctx = Context::new(&SHA256);
    if n != prev_hash.len() {
        ctx.update(prev_hash.as_bytes());
    }
    head[n] = b'\n';
    n += 1;
    n += write_decimal(seq, &mut head[n..]);
    head[n] = b'\n';
    n += 1;
    ctx.update(&head[..n]);
    ctx.update(body.as_bytes());
    let digest = ctx.finish();
    let mut out = [0u8; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(digest.as_ref()) {
        pair[0] = HEX[(b >> 4) as usize];
        pair[1] = HEX[(b & 15) as usize];
    }
    String::from_utf8(out.to_vec()).expect("hex is ASCII")
}

/// `v` in decimal (as `i64::to_string` writes it) at the start of `out` (at least 20 bytes); returns
/// its length.
fn write_decimal(v: i64, out: &mut [u8]) -> usize {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    let mut n = 0;
    if v < 0 {
        out[0] = b'-';
        n = 1;
    }
    let len = digits.len() - i;
    out[n..n + len].copy_from_slice(&digits[i..]);
    n + len
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// What a digest states (the signed text is this, as JSON).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DigestBody {
    pub digest_version: u32,
    pub last_seq: i64,
    pub last_hash: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// The previous digest's signature: digests form a chain of their own.
    pub previous_signature: Option<String>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// Records checked.
    pub records: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// Digests whose signature and hash were checked.
    pub digests: u64,
    /// Records after the last digest: only the chain vouches for them.
    pub uncovered: i64,
    /// The first problem found, if any.
    pub problem: Option<Problem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The record where the trail stops being trustworthy.
    pub seq: i64,
    pub event_id: Option<String>,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.event_id {
            Some(id) => write!(f, "record {} (event {id}): {}", self.seq, self.what),
            None => write!(f, "record {}: {}", self.seq, self.what),
        }
    }
}

fn problem(row: Option<&TrailRow>, seq: i64, what: impl Into<String>) -> Report {
    Report {
        problem: Some(Problem {
            seq,
            event_id: row
                .and_then(|r| index_of(&r.event.body))
                .map(|i| i.event_id),
            what: what.into(),
        }),
        ..Report::default()
    }
}

/// Checks a row's columns against what its text says.
fn columns_match(row: &TrailRow) -> std::result::Result<(), &'static str> {
    match index_of(&row.event.body) {
        None => Err("text (not a CloudTrail record)"),
        Some(indexed) => indexed.agrees_with(&row.event),
    }
}

/// Verifies the whole trail in `store` against `public_key`: every digest's signature, the chain from
/// the first retained record (anchored by the digest at the pruning point) to the head, each digest's
/// hash, and each record's lookup columns against its text.
pub async fn verify(store: &dyn Store, public_key: &[u8]) -> Result<Report> {
    // Digests first: each must be signed by the trail's key and follow the previous one.
    let mut pinned: BTreeMap<i64, String> = BTreeMap::new();
    let mut previous: Option<String> = None;
    let digests = store.trail_digests().await?;
    for (i, d) in digests.iter().enumerate() {
        if !signer::verify(public_key, d.body.as_bytes(), &d.signature) {
            return Ok(problem(
                None,
                d.last_seq,
                "the signed digest covering this record has a bad signature (the digest was altered)",
            ));
        }
        let Ok(body) = serde_json::from_str::<DigestBody>(&d.body) else {
            return Ok(problem(
                None,
                d.last_seq,
                "the digest covering this record is unreadable",
            ));
        };
        if body.last_seq != d.last_seq {
            return Ok(problem(
                None,
                d.last_seq,
                "the digest covering this record was moved",
            ));
        }
        if i > 0 && body.previous_signature != previous {
            return Ok(problem(
                None,
                d.last_seq,
                "a signed digest before this record's digest was removed",
            ));
        }
        previous = Some(d.signature.clone());
        pinned.insert(d.last_seq, body.last_hash);
    }
    let head = store.trail_head().await?;
    let first = store.trail_first_seq().await?;
    let mut report = Report {
        first_seq: first,
        digests: digests.len() as u64,
        ..Report::default()
    };
    let Some(first) = first else {
        // No records: fine if none were ever written or every one was pruned at a digest.
        if head.seq > 0 && !pinned.contains_key(&head.seq) {
            return Ok(problem(
                None,
                head.seq,
                "every record up to here was removed",
            ));
        }
        return Ok(report);
    };
    let mut prev = if first == 1 {
        GENESIS.to_string()
    } else if let Some(hash) = pinned.get(&(first - 1)) {
        hash.clone()
    } else {
        return Ok(problem(
            None,
            1,
            format!(
                "records 1 to {} are missing and no signed digest marks them as pruned (removed)",
                first - 1
            ),
        ));
    };
    let mut expected = first;
    let mut last_good_digest = first - 1;
    loop {
        let rows = store.trail_scan(expected - 1, 2000).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            if row.seq != expected {
                return Ok(problem(
                    None,
                    expected,
                    format!(
                        "missing: the chain goes from record {} to record {} (removed)",
                        expected - 1,
                        row.seq
                    ),
                ));
            }
            if link(&prev, row.seq, &row.event.body) != row.hash {
                return Ok(problem(
                    Some(row),
                    row.seq,
                    "its hash does not follow from the previous record and its text (altered or inserted)",
                ));
            }
            if let Err(column) = columns_match(row) {
                return Ok(problem(
                    Some(row),
                    row.seq,
                    format!("its {column} column differs from its text (altered)"),
                ));
            }
            if let Some(hash) = pinned.get(&row.seq) {
                if *hash != row.hash {
                    return Ok(problem(
                        None,
                        last_good_digest + 1,
                        format!(
                            "records {} to {} were rewritten: record {} does not match its signed digest",
                            last_good_digest + 1,
                            row.seq,
                            row.seq
                        ),
                    ));
                }
                last_good_digest = row.seq;
            }
            prev = row.hash.clone();
            report.records += 1;
            report.last_seq = Some(row.seq);
            expected += 1;
        }
    }
    let last = expected - 1;
    if head.seq > last {
        return Ok(problem(
            None,
            last + 1,
            format!(
                "missing: the chain's head is record {}, the last record is {last} (removed)",
                head.seq
            ),
        ));
    }
    if let Some((&covered, _)) = pinned.range(last + 1..).next() {
        return Ok(problem(
            None,
            last + 1,
            format!("missing: a signed digest covers records up to {covered}, the last record is {last} (removed)"),
        ));
    }
    report.uncovered = last - last_good_digest.max(first - 1);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{service_event, ServiceEvent};
    use crate::signer::Signer;
    use m2sec_crypto::RootKey;
    use m2sec_store::{SqlStore, TrailDigestRecord};

    /// `link` as first written: the definition of the chain's hash.
    fn link_reference(prev_hash: &str, seq: i64, body: &str) -> String {
        let mut ctx = Context::new(&SHA256);
        ctx.update(prev_hash.as_bytes());
        ctx.update(b"\n");
        ctx.update(seq.to_string().as_bytes());
        ctx.update(b"\n");
        ctx.update(body.as_bytes());
        hex::encode(ctx.finish().as_ref())
    }

    #[test]
    fn link_hashes_as_defined() {
        let long = "f".repeat(100);
        for prev in [GENESIS, "", "abc", long.as_str()] {
            for seq in [0, 1, 9, 10, 12_345, -7, i64::MAX, i64::MIN] {
                for body in ["", "{\"eventVersion\":\"1.09\"}"] {
                    assert_eq!(
                        link(prev, seq, body),
                        link_reference(prev, seq, body),
                        "{prev} {seq}"
                    );
                }
            }
        }
    }

    async fn store() -> (tempfile::TempDir, SqlStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::connect(&SqlStore::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        (dir, store)
    }

    fn event(n: usize) -> m2sec_store::NewTrailEvent {
        service_event(&ServiceEvent {
            account: "111122223333",
            region: "eu-west-1",
            event_source: "kms.amazonaws.com",
            event_name: "RotateKey",
            resources: vec![(
                "AWS::KMS::Key",
                format!("arn:aws:kms:eu-west-1:111122223333:key/{n}"),
            )],
            details: None,
        })
    }

    async fn sign(store: &SqlStore, signer: &Signer) {
        let head = store.trail_head().await.unwrap();
        let previous = store.trail_last_digest().await.unwrap();
        let body = serde_json::to_string(&DigestBody {
            digest_version: 1,
            last_seq: head.seq,
            last_hash: head.hash,
            created_at: 0,
            previous_signature: previous.map(|d| d.signature),
        })
        .unwrap();
        store
            .trail_put_digest(&TrailDigestRecord {
                last_seq: head.seq,
                created_at: 0,
                signature: signer.sign(body.as_bytes()),
                body,
            })
            .await
            .unwrap();
    }

    /// 30 records in three batches, a digest after each of the first two.
    async fn trail() -> (tempfile::TempDir, SqlStore, Vec<u8>) {
        let (dir, store) = store().await;
        let root = RootKey::ephemeral();
        let signer = Signer::open_or_create(&store, &root).await.unwrap();
        for batch in 0..3 {
            let events: Vec<_> = (0..10).map(|i| event(batch * 10 + i)).collect();
            store
                .trail_append(std::sync::Arc::new(events), link, true)
                .await
                .unwrap();
            if batch < 2 {
                sign(&store, &signer).await;
            }
        }
        (dir, store, signer.public_key().to_vec())
    }

    /// Runs `sql` on a fresh trail's database, as someone editing the file would, and returns what
    /// verification then finds.
    async fn tampered(sql: &str) -> Problem {
        let (dir, store, public) = trail().await;
        assert_eq!(verify(&store, &public).await.unwrap().problem, None);
        let url = SqlStore::sqlite_url(&dir.path().join("t.db"));
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        verify(&store, &public)
            .await
            .unwrap()
            .problem
            .expect("tampering is found")
    }

    #[tokio::test]
    async fn a_clean_trail_verifies() {
        let (_dir, store, public) = trail().await;
        let report = verify(&store, &public).await.unwrap();
        assert_eq!(report.problem, None);
        assert_eq!(
            (report.records, report.digests, report.uncovered),
            (30, 2, 10)
        );
    }

    #[tokio::test]
    async fn edits_removals_and_rewrites_are_named() {
        let p = tampered(
            "UPDATE trail_events SET body = replace(body, 'RotateKey', 'DeleteKey') WHERE seq = 7",
        )
        .await;
        assert_eq!(p.seq, 7);
        assert!(p.what.contains("altered"), "{p}");
        let p = tampered("UPDATE trail_events SET event_name = 'Decrypt' WHERE seq = 12").await;
        assert_eq!(p.seq, 12);
        assert!(p.what.contains("event_name"), "{p}");
        let p = tampered("DELETE FROM trail_events WHERE seq = 15").await;
        assert_eq!(p.seq, 15);
        assert!(p.what.contains("removed"), "{p}");
        let p = tampered("DELETE FROM trail_events WHERE seq = 30").await;
        assert_eq!(p.seq, 30);
        let p = tampered("DELETE FROM trail_events WHERE seq <= 3").await;
        assert_eq!(p.seq, 1);
        let p = tampered("UPDATE trail_digests SET body = replace(body, '\"lastSeq\":10', '\"lastSeq\":11') WHERE last_seq = 10").await;
        assert!(p.what.contains("signature"), "{p}");
    }

    #[tokio::test]
    async fn a_rewritten_chain_is_caught_by_the_digest() {
        let (dir, store, public) = trail().await;
        let url = SqlStore::sqlite_url(&dir.path().join("t.db"));
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        // Alter record 5 and recompute every hash after it, as a careful attacker would.
        let rows = store.trail_scan(0, 100).await.unwrap();
        let mut prev = GENESIS.to_string();
        for row in &rows {
            let body = if row.seq == 5 {
                row.event.body.replace("key/4", "key/999")
            } else {
                row.event.body.clone()
            };
            let hash = link(&prev, row.seq, &body);
            sqlx::query("UPDATE trail_events SET body = $1, hash = $2 WHERE seq = $3")
                .bind(&body)
                .bind(&hash)
                .bind(row.seq)
                .execute(&pool)
                .await
                .unwrap();
            prev = hash;
        }
        sqlx::query("UPDATE trail_head SET hash = $1")
            .bind(&prev)
            .execute(&pool)
            .await
            .unwrap();
        let p = verify(&store, &public).await.unwrap().problem.unwrap();
        assert_eq!(p.seq, 1);
        assert!(p.what.contains("rewritten"), "{p}");
    }

    #[tokio::test]
    async fn pruning_at_a_digest_keeps_the_rest_verifiable() {
        let (_dir, store, public) = trail().await;
        store.trail_prune(10).await.unwrap();
        let report = verify(&store, &public).await.unwrap();
        assert_eq!(report.problem, None);
        assert_eq!((report.first_seq, report.records), (Some(11), 20));
        // Pruning past a digest-less point is not something the writer does; it is caught.
        store.trail_prune(12).await.unwrap();
        assert!(verify(&store, &public).await.unwrap().problem.is_some());
    }
}
