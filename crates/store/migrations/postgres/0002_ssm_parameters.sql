CREATE TABLE ssm_parameters (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    tags TEXT NOT NULL,
    PRIMARY KEY (account, region, name)
);

CREATE TABLE ssm_parameter_versions (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    parameter_type TEXT NOT NULL,
    value TEXT NOT NULL,
    key_id TEXT,
    description TEXT,
    allowed_pattern TEXT,
    data_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    labels TEXT NOT NULL,
    policies TEXT,
    modified_at BIGINT NOT NULL,
    modified_by TEXT NOT NULL,
    PRIMARY KEY (account, region, name, version)
);
