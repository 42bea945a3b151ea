-- An item whose partition hash is its item hash is alone in its partition (a table without a sort
-- key stores its items so): the partition index leaves it out, as a Query finds it by its item hash.
-- Each such item written is then one B-tree leaf less to change. Items written before keep their
-- entries (their partition hash was computed apart), unused and harmless.
DROP INDEX ddb_items_partition;
CREATE INDEX ddb_items_partition ON ddb_items (table_id, partition_hash, item_hash)
    WHERE partition_hash <> item_hash;
