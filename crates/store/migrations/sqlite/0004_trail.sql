-- The trail: one CloudTrail record per call, hash-chained in `seq` order. `body` is the record as
-- written; the few columns beside it are derived from it (and checked against it by `trail verify`).
-- Rows are kept small and unindexed beyond `seq`: appending is on every call's path, lookups are rare.
CREATE TABLE trail_events (
    seq INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    event_time INTEGER NOT NULL,
    event_source TEXT NOT NULL,
    event_name TEXT NOT NULL,
    -- 1: readOnly; 2: an action of the service itself (not a request).
    flags INTEGER NOT NULL,
    body TEXT NOT NULL,
    -- SHA-256 (hex) of the previous record's hash, this seq and this body.
    hash TEXT NOT NULL
);

-- The chain's end. Appending locks this row first, so writers on several nodes take turns.
CREATE TABLE trail_head (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO trail_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Signed digests: each states the hash of the chain at `last_seq`.
CREATE TABLE trail_digests (
    last_seq INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL
);
