"""The same binary on PostgreSQL (`--store postgres://…`): scripts/test starts a throwaway cluster and
exports M2SEC_TEST_POSTGRES_URL. Two nodes share the database, as a scaled-out deployment would."""
import base64
import os

import pytest

from conftest import Server

PG = os.environ.get("M2SEC_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not PG, reason="M2SEC_TEST_POSTGRES_URL not set (scripts/test sets it)")


def test_two_nodes_share_keys_on_postgres(fresh_server, tmp_path):
    # Both nodes need the same root key: the second gets a copy of the first's data dir key file.
    a = fresh_server(args=["--store", PG]).start()
    b_dir = tmp_path / "node-b"
    b_dir.mkdir()
    (b_dir / "root-key.dev").write_bytes((a.data_dir / "root-key.dev").read_bytes())
    os.chmod(b_dir / "root-key.dev", 0o600)
    b = fresh_server(data_dir=b_dir, args=["--store", PG]).start()

    kms_a, kms_b = a.client("kms"), b.client("kms")
    key = kms_a.create_key(Description="M2 Security JWT Secret Key")["KeyMetadata"]
    kms_a.create_alias(AliasName="alias/pg-shared", TargetKeyId=key["KeyId"])
    ct = kms_a.encrypt(KeyId="alias/pg-shared", Plaintext=b"can2025-secret-key-production")["CiphertextBlob"]

    assert kms_b.describe_key(KeyId="alias/pg-shared")["KeyMetadata"]["KeyId"] == key["KeyId"]
    assert kms_b.decrypt(CiphertextBlob=ct)["Plaintext"] == b"can2025-secret-key-production"

    # The seed walkthrough through the CLI on node b.
    out = b.aws("kms", "encrypt", "--key-id", "alias/pg-shared", "--plaintext", "from-node-b",
                "--output", "text", "--query", "CiphertextBlob")
    assert kms_a.decrypt(CiphertextBlob=base64.b64decode(out))["Plaintext"] == b"from-node-b"
