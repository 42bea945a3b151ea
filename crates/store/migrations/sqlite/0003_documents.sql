-- Small JSON documents for entities read and written whole: IAM users, roles and managed policies
-- (region ''), KMS grants. `kind` names the entity type; (account, region, kind, name) is unique.
CREATE TABLE documents (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account, region, kind, name)
);

ALTER TABLE access_keys ADD COLUMN user_name TEXT;
