-- An IAM user's access key is bound to the user's unique id (UserId, AIDA…), not to the name: a user
-- deleted and created again under the same name must not inherit a key. Existing keys take the id of
-- the user holding their name now; a key whose user is already gone keeps NULL and signs nothing.
ALTER TABLE access_keys ADD COLUMN user_id TEXT;

UPDATE access_keys SET user_id = (
    SELECT d.body::json ->> 'id' FROM documents d
    WHERE d.account = access_keys.account AND d.region = '' AND d.kind = 'iam-user'
      AND d.name = access_keys.user_name
)
WHERE user_name IS NOT NULL;
