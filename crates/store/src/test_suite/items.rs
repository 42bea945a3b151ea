//! DynamoDB items: guarded writes and their conflicts, index entries, ordering by item hash, scans,
//! a table's deletion in rounds, sizes, expiry, and writers racing on one item.

use super::futures_join_all;
use crate::{Expect, GuardedWrite, ItemRecord, ItemStats, ItemWrite, Store, StoreError};

/// Hashes out of order on purpose, with bytes above 0x7f (ordered as unsigned) and prefixes of one
/// another (a prefix sorts first).
const SCRAMBLED: [&[u8]; 6] = [
    &[0x80],
    &[0x01, 0x00],
    &[0xff, 0x00],
    &[0x01],
    &[0x7f, 0xff],
    &[0x00],
];
const SORTED: [&[u8]; 6] = [
    &[0x00],
    &[0x01],
    &[0x01, 0x00],
    &[0x7f, 0xff],
    &[0x80],
    &[0xff, 0x00],
];

fn item(table_id: &str, item_hash: &[u8], partition_hash: &[u8], version: i64) -> ItemRecord {
    let mut body = b"sealed:".to_vec();
    body.extend_from_slice(item_hash);
    body.extend_from_slice(&version.to_be_bytes());
    ItemRecord {
        table_id: table_id.into(),
        item_hash: item_hash.to_vec(),
        partition_hash: partition_hash.to_vec(),
        body,
        version,
        expires_at: None,
        indexes: vec![],
        size: 100 + item_hash.len() as i64,
    }
}

fn indexed(mut item: ItemRecord, indexes: &[(&str, &[u8])]) -> ItemRecord {
    item.indexes = indexes
        .iter()
        .map(|(name, hash)| (name.to_string(), hash.to_vec()))
        .collect();
    item
}

fn put(item: ItemRecord, expect: Expect) -> GuardedWrite {
    GuardedWrite {
        write: ItemWrite::Put(item),
        expect,
    }
}

fn delete(table_id: &str, item_hash: &[u8], expect: Expect) -> GuardedWrite {
    GuardedWrite {
        write: ItemWrite::Delete {
            table_id: table_id.into(),
            item_hash: item_hash.to_vec(),
        },
        expect,
    }
}

fn check(table_id: &str, item_hash: &[u8], expect: Expect) -> GuardedWrite {
    GuardedWrite {
        write: ItemWrite::Check {
            table_id: table_id.into(),
            item_hash: item_hash.to_vec(),
        },
        expect,
    }
}

fn hashes(items: &[ItemRecord]) -> Vec<Vec<u8>> {
    items.iter().map(|i| i.item_hash.clone()).collect()
}

fn sorted(of: &[&[u8]]) -> Vec<Vec<u8>> {
    SORTED
        .iter()
        .filter(|h| of.contains(h))
        .map(|h| h.to_vec())
        .collect()
}

async fn get(store: &dyn Store, table_id: &str, item_hash: &[u8]) -> Option<ItemRecord> {
    store.get_item(table_id, item_hash).await.unwrap()
}

fn conflict_at(result: crate::Result<()>) -> usize {
    match result {
        Err(StoreError::Conflict { index }) => index,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

pub(super) async fn run(store: &dyn Store) {
    put_get_replace(store).await;
    read_together(store).await;
    conflicts_write_nothing(store).await;
    deletes(store).await;
    partitions_and_scans(store).await;
    lone_items_are_in_no_partition(store).await;
    index_entries_follow_the_item(store).await;
    table_deletion_in_rounds(store).await;
    expiry(store).await;
    racing_writers(store, store, "t-race").await;
    requests_in_flight_together(store).await;
}

/// Many requests in flight at once (which a store may commit together): each gets the outcome it
/// would get alone, in some order. Of those creating one item exactly one wins; a request whose
/// second write's expectation fails writes nothing, its first write included; the others all land.
async fn requests_in_flight_together(store: &dyn Store) {
    let t = "t-together";
    let mut requests: Vec<Vec<GuardedWrite>> = Vec::new();
    for n in 0u8..32 {
        requests.push(vec![put(item(t, &[1, n], b"p", 1), Expect::Absent)]);
        requests.push(vec![put(item(t, b"shared", b"p", 1), Expect::Absent)]);
    }
    // Puts its item, then expects `[1, 0]` (created by the first request, or still absent) at a
    // version it never has: nothing of it may remain.
    requests.push(vec![
        put(item(t, b"doomed", b"p", 1), Expect::Absent),
        check(t, &[1, 0], Expect::Version(99)),
    ]);
    let results = futures_join_all(requests.iter().map(|writes| store.write_items(writes))).await;
    let mut shared_wins = 0;
    for (i, result) in results.iter().enumerate() {
        match (i, result) {
            (64, Err(StoreError::Conflict { index: 1 })) => {}
            (64, other) => panic!("the doomed request answered {other:?}"),
            (i, Ok(())) if i % 2 == 1 => shared_wins += 1,
            (i, Err(StoreError::Conflict { index: 0 })) if i % 2 == 1 => {}
            (_, Ok(())) => {}
            (i, other) => panic!("request {i} answered {other:?}"),
        }
    }
    assert_eq!(shared_wins, 1);
    assert!(get(store, t, b"doomed").await.is_none());
    for n in 0u8..32 {
        assert_eq!(get(store, t, &[1, n]).await.unwrap().version, 1);
    }
    assert_eq!(store.item_stats(t).await.unwrap().count, 33);
}

/// `get_items` answers each key in order, absent ones as `None`, across tables.
async fn read_together(store: &dyn Store) {
    let (t, u) = ("t-together-read", "t-together-read-2");
    let a = item(t, b"a", b"p", 3);
    let b = indexed(item(u, b"b", b"q", 4), &[("by-x", b"x1")]);
    store
        .write_items(&[
            put(a.clone(), Expect::Absent),
            put(b.clone(), Expect::Absent),
        ])
        .await
        .unwrap();
    let keys: [(&str, &[u8]); 4] = [(u, b"b"), (t, b"none"), (t, b"a"), (u, b"a")];
    assert_eq!(
        store.get_items(&keys).await.unwrap(),
        vec![Some(b.clone()), None, Some(a.clone()), None]
    );
    assert_eq!(store.get_items(&keys[2..3]).await.unwrap(), vec![Some(a)]);
    assert!(store.get_items(&[]).await.unwrap().is_empty());
}

async fn put_get_replace(store: &dyn Store) {
    let t = "t-basic";
    assert_eq!(get(store, t, b"a").await, None);
    let first = indexed(item(t, b"a", b"p", 1), &[("by-x", b"x1")]);
    store
        .write_items(&[put(first.clone(), Expect::Absent)])
        .await
        .unwrap();
    assert_eq!(get(store, t, b"a").await, Some(first.clone()));
    // The same hash in another table is another item.
    assert_eq!(get(store, "t-other", b"a").await, None);

    assert_eq!(
        conflict_at(
            store
                .write_items(&[put(item(t, b"a", b"p", 2), Expect::Absent)])
                .await
        ),
        0
    );
    assert_eq!(
        conflict_at(
            store
                .write_items(&[put(item(t, b"a", b"p", 2), Expect::Version(2))])
                .await
        ),
        0
    );
    assert_eq!(get(store, t, b"a").await, Some(first));

    let mut second = item(t, b"a", b"p", 2);
    second.body = b"replaced".to_vec();
    second.expires_at = None;
    second.size = 7;
    store
        .write_items(&[put(second.clone(), Expect::Version(1))])
        .await
        .unwrap();
    assert_eq!(get(store, t, b"a").await, Some(second.clone()));
    let mut third = item(t, b"a", b"p", 3);
    third.body = vec![];
    store
        .write_items(&[put(third.clone(), Expect::Anything)])
        .await
        .unwrap();
    assert_eq!(get(store, t, b"a").await, Some(third));
    // Expecting a version of an item that does not exist fails too.
    assert_eq!(
        conflict_at(
            store
                .write_items(&[put(item(t, b"new", b"p", 1), Expect::Version(1))])
                .await
        ),
        0
    );
    assert_eq!(get(store, t, b"new").await, None);
    assert_eq!(
        store.item_stats(t).await.unwrap(),
        ItemStats {
            count: 1,
            bytes: 101
        }
    );
    assert_eq!(
        store.item_stats("t-none").await.unwrap(),
        ItemStats::default()
    );
}

async fn conflicts_write_nothing(store: &dyn Store) {
    let t = "t-conflict";
    store
        .write_items(&[put(
            indexed(item(t, b"a", b"p", 5), &[("g", b"g1")]),
            Expect::Absent,
        )])
        .await
        .unwrap();
    // The third write's expectation fails: the first two are not written either.
    let batch = [
        put(
            indexed(item(t, b"b", b"p", 1), &[("g", b"g1")]),
            Expect::Absent,
        ),
        delete(t, b"a", Expect::Anything),
        put(item(t, b"c", b"p", 1), Expect::Version(4)),
        put(item(t, b"d", b"p", 1), Expect::Version(4)),
    ];
    assert_eq!(conflict_at(store.write_items(&batch).await), 2);
    assert_eq!(get(store, t, b"b").await, None);
    assert_eq!(get(store, t, b"a").await.unwrap().version, 5);
    assert_eq!(
        hashes(&store.partition_items(t, Some("g"), b"g1").await.unwrap()),
        [b"a"]
    );

    // A check writes nothing, and guards the other writes.
    store
        .write_items(&[
            check(t, b"a", Expect::Version(5)),
            check(t, b"zz", Expect::Absent),
            put(item(t, b"b", b"p", 1), Expect::Absent),
        ])
        .await
        .unwrap();
    assert_eq!(get(store, t, b"b").await.unwrap().version, 1);
    assert_eq!(get(store, t, b"zz").await, None);
    for failing in [
        check(t, b"a", Expect::Absent),
        check(t, b"a", Expect::Version(4)),
        check(t, b"zz", Expect::Version(1)),
    ] {
        let batch = [put(item(t, b"c", b"p", 1), Expect::Anything), failing];
        assert_eq!(conflict_at(store.write_items(&batch).await), 1);
        assert_eq!(get(store, t, b"c").await, None);
    }
    assert_eq!(store.item_stats(t).await.unwrap().count, 2);
}

async fn deletes(store: &dyn Store) {
    let t = "t-delete";
    store
        .write_items(&[
            put(
                indexed(item(t, b"a", b"p", 1), &[("g", b"g1")]),
                Expect::Absent,
            ),
            put(item(t, b"b", b"p", 1), Expect::Absent),
        ])
        .await
        .unwrap();
    for wrong in [Expect::Absent, Expect::Version(2)] {
        assert_eq!(
            conflict_at(store.write_items(&[delete(t, b"a", wrong)]).await),
            0
        );
    }
    assert!(get(store, t, b"a").await.is_some());
    store
        .write_items(&[delete(t, b"a", Expect::Version(1))])
        .await
        .unwrap();
    assert_eq!(get(store, t, b"a").await, None);
    // Deleting what is not there is no error unless a version was expected.
    store
        .write_items(&[
            delete(t, b"a", Expect::Anything),
            delete(t, b"x", Expect::Absent),
        ])
        .await
        .unwrap();
    assert_eq!(
        conflict_at(
            store
                .write_items(&[delete(t, b"a", Expect::Version(1))])
                .await
        ),
        0
    );
    // The deleted item's index entry went with it: the same hash, written again without the
    // index, does not show up there.
    store
        .write_items(&[put(item(t, b"a", b"p", 2), Expect::Absent)])
        .await
        .unwrap();
    assert!(store
        .partition_items(t, Some("g"), b"g1")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        hashes(&store.partition_items(t, None, b"p").await.unwrap()),
        [b"a", b"b"]
    );
}

/// An item whose partition hash is its item hash (a table without a sort key) is read by that hash
/// and scanned, never listed as a partition; the items of the table that share a partition are.
async fn lone_items_are_in_no_partition(store: &dyn Store) {
    let t = "t-lone";
    let writes = [
        put(item(t, b"a", b"a", 1), Expect::Absent),
        put(item(t, b"b", b"p", 1), Expect::Absent),
        put(item(t, b"c", b"p", 1), Expect::Absent),
    ];
    store.write_items(&writes).await.unwrap();
    assert!(store
        .partition_items(t, None, b"a")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        hashes(&store.partition_items(t, None, b"p").await.unwrap()),
        [b"b", b"c"]
    );
    assert_eq!(get(store, t, b"a").await, Some(item(t, b"a", b"a", 1)));
    assert_eq!(
        hashes(&store.scan_items(t, None, None, None, 10).await.unwrap()),
        [b"a", b"b", b"c"]
    );
    // Written again, and deleted, as any other item.
    store
        .write_items(&[put(item(t, b"a", b"a", 2), Expect::Version(1))])
        .await
        .unwrap();
    assert_eq!(get(store, t, b"a").await, Some(item(t, b"a", b"a", 2)));
    store
        .write_items(&[delete(t, b"a", Expect::Version(2))])
        .await
        .unwrap();
    assert_eq!(get(store, t, b"a").await, None);
}

async fn partitions_and_scans(store: &dyn Store) {
    let t = "t-order";
    // Every item in partition p1 or p2 by turns; all but the last in index g, and the first four
    // in partition g1 of it.
    let writes: Vec<_> = SCRAMBLED
        .iter()
        .enumerate()
        .map(|(n, h)| {
            let p: &[u8] = if n % 2 == 0 { b"p1" } else { b"p2" };
            let g: &[(&str, &[u8])] = match n {
                0..=3 => &[("g", b"g1"), ("other", b"g1")],
                4 => &[("g", b"g2")],
                _ => &[],
            };
            put(indexed(item(t, h, p, 1), g), Expect::Absent)
        })
        .collect();
    store.write_items(&writes).await.unwrap();
    store
        .write_items(&[put(item("t-order-2", &[0x01], b"p1", 1), Expect::Absent)])
        .await
        .unwrap();

    let partition = |index: Option<&'static str>, p: &'static [u8]| async move {
        hashes(&store.partition_items(t, index, p).await.unwrap())
    };
    assert_eq!(
        partition(None, b"p1").await,
        sorted(&[SCRAMBLED[0], SCRAMBLED[2], SCRAMBLED[4]])
    );
    assert_eq!(
        partition(None, b"p2").await,
        sorted(&[SCRAMBLED[1], SCRAMBLED[3], SCRAMBLED[5]])
    );
    assert_eq!(partition(Some("g"), b"g1").await, sorted(&SCRAMBLED[..4]));
    assert_eq!(partition(Some("g"), b"g2").await, sorted(&SCRAMBLED[4..5]));
    assert!(partition(Some("g"), b"p1").await.is_empty());
    assert!(partition(Some("missing"), b"g1").await.is_empty());
    // Items come whole from an index too.
    let from_index = store.partition_items(t, Some("g"), b"g2").await.unwrap();
    assert_eq!(
        Some(&from_index[0]),
        get(store, t, SCRAMBLED[4]).await.as_ref()
    );

    let scan = |index: Option<&'static str>,
                after: Option<&'static [u8]>,
                before: Option<&'static [u8]>,
                limit| async move {
        hashes(
            &store
                .scan_items(t, index, after, before, limit)
                .await
                .unwrap(),
        )
    };
    let all = sorted(&SCRAMBLED);
    assert_eq!(scan(None, None, None, 100).await, all);
    assert_eq!(scan(None, None, None, 2).await, all[..2]);
    // Bounds are exclusive; a bound need not be a stored hash.
    assert_eq!(scan(None, Some(&[0x01]), None, 100).await, all[2..]);
    assert_eq!(
        scan(None, Some(&[0x01]), Some(&[0x80]), 100).await,
        all[2..4]
    );
    assert_eq!(
        scan(None, Some(&[0x01, 0x00]), Some(&[0x80]), 1).await,
        all[3..4]
    );
    assert_eq!(scan(None, None, Some(&[0x7f]), 100).await, all[..3]);
    assert!(scan(None, Some(&[0xff, 0x00]), None, 100).await.is_empty());
    assert!(scan(None, None, None, 0).await.is_empty());

    let in_g = sorted(&SCRAMBLED[..5]);
    assert_eq!(scan(Some("g"), None, None, 100).await, in_g);
    assert_eq!(scan(Some("g"), Some(&[0x01]), None, 2).await, in_g[1..3]);
    assert_eq!(
        scan(Some("g"), Some(&[0x00]), Some(&[0xff]), 100).await,
        in_g[..4]
    );
    assert_eq!(
        scan(Some("other"), None, None, 100).await,
        sorted(&SCRAMBLED[..4])
    );
    assert!(scan(Some("missing"), None, None, 100).await.is_empty());
}

async fn index_entries_follow_the_item(store: &dyn Store) {
    let t = "t-reindex";
    let in_index = |index: &'static str, p: &'static [u8]| async move {
        hashes(&store.partition_items(t, Some(index), p).await.unwrap())
    };
    let x = |version, indexes: &[(&str, &[u8])]| indexed(item(t, b"x", b"p", version), indexes);
    store
        .write_items(&[
            put(x(1, &[("g", b"g1"), ("h", b"h1")]), Expect::Absent),
            put(
                indexed(item(t, b"y", b"p", 1), &[("g", b"g1")]),
                Expect::Absent,
            ),
        ])
        .await
        .unwrap();
    assert_eq!(in_index("g", b"g1").await, [b"x", b"y"]);
    // Its key in g changes, the one in h stays.
    store
        .write_items(&[put(x(2, &[("g", b"g2"), ("h", b"h1")]), Expect::Version(1))])
        .await
        .unwrap();
    assert_eq!(in_index("g", b"g1").await, [b"y"]);
    assert_eq!(in_index("g", b"g2").await, [b"x"]);
    assert_eq!(in_index("h", b"h1").await, [b"x"]);
    // Unchanged keys: the entries stay, and the item read through them is the new one.
    store
        .write_items(&[put(x(3, &[("g", b"g2"), ("h", b"h1")]), Expect::Version(2))])
        .await
        .unwrap();
    let through_index = store.partition_items(t, Some("h"), b"h1").await.unwrap();
    assert_eq!(through_index[0].version, 3);
    // Out of g, into k.
    store
        .write_items(&[put(x(4, &[("h", b"h1"), ("k", b"k1")]), Expect::Version(3))])
        .await
        .unwrap();
    assert!(in_index("g", b"g2").await.is_empty());
    assert_eq!(in_index("k", b"k1").await, [b"x"]);
    assert_eq!(
        hashes(
            &store
                .scan_items(t, Some("g"), None, None, 10)
                .await
                .unwrap()
        ),
        [b"y"]
    );
    // Out of every index.
    store
        .write_items(&[put(x(5, &[]), Expect::Version(4))])
        .await
        .unwrap();
    for (index, p) in [("h", b"h1"), ("k", b"k1")] {
        assert!(in_index(index, p).await.is_empty());
    }
    assert_eq!(get(store, t, b"x").await.unwrap().indexes, vec![]);

    // An index deleted from the table: its entries go, the items and other indexes stay.
    store
        .write_items(&[put(x(6, &[("g", b"g1"), ("h", b"h1")]), Expect::Version(5))])
        .await
        .unwrap();
    assert_eq!(store.delete_index_entries(t, "g").await.unwrap(), 2);
    assert!(in_index("g", b"g1").await.is_empty());
    assert_eq!(in_index("h", b"h1").await, [b"x"]);
    assert_eq!(store.item_stats(t).await.unwrap().count, 2);
    assert_eq!(store.delete_index_entries(t, "g").await.unwrap(), 0);
    // The index created again under its name: an item written again with the same partitions as
    // before is back in it (its row still listed the entry).
    store
        .write_items(&[put(x(7, &[("g", b"g1"), ("h", b"h1")]), Expect::Version(6))])
        .await
        .unwrap();
    assert_eq!(in_index("g", b"g1").await, [b"x"]);
    assert_eq!(in_index("h", b"h1").await, [b"x"]);
    store
        .write_items(&[put(x(8, &[("g", b"g3")]), Expect::Version(7))])
        .await
        .unwrap();
    assert_eq!(in_index("g", b"g3").await, [b"x"]);
    assert!(in_index("g", b"g1").await.is_empty());
    assert!(in_index("h", b"h1").await.is_empty());
}

async fn table_deletion_in_rounds(store: &dyn Store) {
    let (t, kept) = ("t-dropped", "t-kept");
    let mut writes = vec![];
    for n in 0..5u8 {
        for table in [t, kept] {
            let it = indexed(item(table, &[n], &[n % 2], 1), &[("g", b"g"), ("h", &[n])]);
            writes.push(put(it, Expect::Absent));
        }
    }
    store.write_items(&writes).await.unwrap();
    assert_eq!(
        store.item_stats(t).await.unwrap(),
        ItemStats {
            count: 5,
            bytes: 505
        }
    );
    let mut rounds = vec![];
    loop {
        let n = store.delete_table_items(t, 2).await.unwrap();
        rounds.push(n);
        if n == 0 {
            break;
        }
    }
    assert_eq!(rounds, [2, 2, 1, 0]);
    assert_eq!(store.item_stats(t).await.unwrap(), ItemStats::default());
    assert!(store
        .scan_items(t, None, None, None, 10)
        .await
        .unwrap()
        .is_empty());
    // No index entry outlived its item: items written again under the same hashes, outside any
    // index, are not found through one.
    let again: Vec<_> = (0..5u8)
        .map(|n| put(item(t, &[n], b"p", 2), Expect::Absent))
        .collect();
    store.write_items(&again).await.unwrap();
    assert!(store
        .partition_items(t, Some("g"), b"g")
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .scan_items(t, Some("h"), None, None, 10)
        .await
        .unwrap()
        .is_empty());
    // The other table lost nothing.
    assert_eq!(store.item_stats(kept).await.unwrap().count, 5);
    assert_eq!(
        store
            .partition_items(kept, Some("g"), b"g")
            .await
            .unwrap()
            .len(),
        5
    );
}

async fn expiry(store: &dyn Store) {
    // The only items of the suite with a time to live.
    let mut writes = vec![];
    for (table, hash, expires_at) in [
        ("t-ttl-a", b"late", Some(3_000)),
        ("t-ttl-b", b"past", Some(1_000)),
        ("t-ttl-a", b"none", None),
        ("t-ttl-a", b"next", Some(2_000)),
        ("t-ttl-b", b"then", Some(1_500)),
    ] {
        let mut it = item(table, hash, b"p", 7);
        it.expires_at = expires_at;
        writes.push(put(it, Expect::Absent));
    }
    store.write_items(&writes).await.unwrap();
    let expired = |now, limit| async move {
        store
            .expired_items(now, limit)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.table_id, e.item_hash, e.version))
            .collect::<Vec<_>>()
    };
    let e = |table: &str, hash: &[u8]| (table.to_string(), hash.to_vec(), 7);
    assert!(expired(999, 10).await.is_empty());
    assert_eq!(
        expired(2_000, 10).await,
        [
            e("t-ttl-b", b"past"),
            e("t-ttl-b", b"then"),
            e("t-ttl-a", b"next")
        ]
    );
    assert_eq!(
        expired(i64::MAX, 2).await,
        [e("t-ttl-b", b"past"), e("t-ttl-b", b"then")]
    );
    // Rewritten without a time to live, an item no longer expires.
    store
        .write_items(&[put(item("t-ttl-b", b"past", b"p", 8), Expect::Version(7))])
        .await
        .unwrap();
    assert_eq!(expired(1_500, 10).await, [e("t-ttl-b", b"then")]);
}

/// Reads the counter item of table `t` and writes it back incremented, guarded by the version read,
/// 50 times; returns how often another writer got there first.
async fn increments(store: &dyn Store, t: &str) -> u32 {
    let mut conflicts = 0;
    for _ in 0..50 {
        loop {
            let current = store.get_item(t, b"counter").await.unwrap();
            let (count, expect, version) = match &current {
                Some(c) => (
                    u64::from_be_bytes(c.body[..].try_into().unwrap()),
                    Expect::Version(c.version),
                    c.version + 1,
                ),
                None => (0, Expect::Absent, 1),
            };
            let mut next = item(t, b"counter", b"p", version);
            next.body = (count + 1).to_be_bytes().to_vec();
            match store.write_items(&[put(next, expect)]).await {
                Ok(()) => break,
                Err(StoreError::Conflict { index: 0 }) => conflicts += 1,
                Err(e) => panic!("increment failed: {e}"),
            }
        }
    }
    conflicts
}

/// Writes `mine` if `theirs` is absent.
async fn write_unless(store: &dyn Store, t: &str, mine: &[u8], theirs: &[u8]) -> crate::Result<()> {
    store
        .write_items(&[
            check(t, theirs, Expect::Absent),
            put(item(t, mine, b"p", 1), Expect::Absent),
        ])
        .await
}

/// Writers through `a` and `b` (one store, or two connections to one database standing for two
/// nodes) racing on the items of table `t`: read-then-write increments lose no update, of several
/// creating one item exactly one succeeds, and of two batches each writing what the other expects
/// absent exactly one commits.
pub async fn racing_writers(a: &dyn Store, b: &dyn Store, t: &str) {
    let conflicts = futures_join_all([increments(a, t), increments(b, t)].into_iter()).await;
    let counter = a.get_item(t, b"counter").await.unwrap().unwrap();
    assert_eq!(
        u64::from_be_bytes(counter.body[..].try_into().unwrap()),
        100,
        "conflicts met: {conflicts:?}"
    );

    let creators = (0..8).map(|n| {
        let store = if n % 2 == 0 { a } else { b };
        async move {
            store
                .write_items(&[put(item(t, b"created", b"p", n), Expect::Absent)])
                .await
        }
    });
    let results = futures_join_all(creators).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for r in results.into_iter().filter(|r| r.is_err()) {
        assert_eq!(conflict_at(r), 0);
    }

    for round in 0..20u8 {
        let (x, y) = ([b'x', round], [b'y', round]);
        let results =
            futures_join_all([write_unless(a, t, &x, &y), write_unless(b, t, &y, &x)].into_iter())
                .await;
        let committed = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(committed, 1, "round {round}: {results:?}");
        let written = [get(a, t, &x).await.is_some(), get(a, t, &y).await.is_some()];
        assert_eq!(written.iter().filter(|w| **w).count(), 1, "round {round}");
    }
}
