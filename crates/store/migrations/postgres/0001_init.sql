CREATE TABLE kms_keys (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    key_id TEXT NOT NULL,
    description TEXT NOT NULL,
    key_usage TEXT NOT NULL,
    key_spec TEXT NOT NULL,
    origin TEXT NOT NULL,
    key_manager TEXT NOT NULL,
    key_state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deletion_date BIGINT,
    pending_window_days BIGINT,
    rotation_enabled BIGINT NOT NULL,
    rotation_period_days BIGINT,
    next_rotation_at BIGINT,
    current_version BIGINT NOT NULL,
    policy TEXT NOT NULL,
    tags TEXT NOT NULL,
    PRIMARY KEY (account, region, key_id)
);
CREATE INDEX kms_keys_deletion ON kms_keys (deletion_date) WHERE deletion_date IS NOT NULL;
CREATE INDEX kms_keys_rotation ON kms_keys (next_rotation_at) WHERE next_rotation_at IS NOT NULL;

CREATE TABLE kms_key_versions (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    key_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    wrapped_material BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    rotation_type TEXT,
    PRIMARY KEY (account, region, key_id, version)
);

CREATE TABLE kms_aliases (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    alias_name TEXT NOT NULL,
    target_key_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account, region, alias_name)
);

CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    principal_arn TEXT NOT NULL,
    wrapped_secret BYTEA NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Small named values: which access key is the first-start admin, and later job leases.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
