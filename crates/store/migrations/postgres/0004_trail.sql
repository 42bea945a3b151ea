-- The trail: one CloudTrail record per call, hash-chained in `seq` order. `body` is the record as
-- written; the other columns are derived from it for lookups (and checked against it by `trail verify`).
CREATE TABLE trail_events (
    seq BIGINT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    event_time BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    event_name TEXT NOT NULL,
    event_source TEXT NOT NULL,
    read_only BIGINT NOT NULL,
    username TEXT,
    access_key_id TEXT,
    resources TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX trail_events_by_time ON trail_events (account, region, event_time);

-- The chain's end. Appending locks this row first, so writers on several nodes take turns.
CREATE TABLE trail_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO trail_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Signed digests: each states the hash of the chain at `last_seq`.
CREATE TABLE trail_digests (
    last_seq BIGINT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL
);
