-- DynamoDB items. The store sees an item only sealed (`body`) and its keys only as keyed hashes, so
-- rows are ordered by `item_hash` (bytewise) rather than by key value. `indexes` is the item's list
-- of index partitions as last written (see `sql/items.rs` for its encoding): it names exactly the
-- rows of `ddb_index_entries` to remove when the item is replaced or deleted.
CREATE TABLE ddb_items (
    table_id TEXT NOT NULL,
    item_hash BYTEA NOT NULL,
    partition_hash BYTEA NOT NULL,
    body BYTEA NOT NULL,
    version BIGINT NOT NULL,
    -- Time to live, epoch seconds.
    expires_at BIGINT,
    size BIGINT NOT NULL,
    indexes BYTEA NOT NULL,
    PRIMARY KEY (table_id, item_hash)
);
-- Query: one partition, by item hash.
CREATE INDEX ddb_items_partition ON ddb_items (table_id, partition_hash, item_hash);
-- The expiry sweep; most items have no time to live.
CREATE INDEX ddb_items_expiry ON ddb_items (expires_at) WHERE expires_at IS NOT NULL;

-- One row per item per secondary index it is in (it has that index's key attributes).
CREATE TABLE ddb_index_entries (
    table_id TEXT NOT NULL,
    index_name TEXT NOT NULL,
    partition_hash BYTEA NOT NULL,
    item_hash BYTEA NOT NULL,
    PRIMARY KEY (table_id, index_name, partition_hash, item_hash)
);
-- Scan over an index, by item hash.
CREATE INDEX ddb_index_entries_scan ON ddb_index_entries (table_id, index_name, item_hash);
