-- Named leases for background jobs: while several nodes share one store, the node holding a job's
-- lease (until `expires_at`, Unix milliseconds) is the one that runs it.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
