"""The same binary on PostgreSQL (`--store postgres://…`): scripts/test starts a throwaway cluster and
exports M2SEC_TEST_POSTGRES_URL. Two nodes share the database, as a scaled-out deployment would."""
import base64
import os
import subprocess
import uuid

import pytest

from conftest import Server

PG = os.environ.get("M2SEC_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not PG, reason="M2SEC_TEST_POSTGRES_URL not set (scripts/test sets it)")


def fresh_database():
    """A new empty database on the test cluster, so each test starts like a new deployment."""
    name = "m2sec_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", PG, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return PG.rsplit("/", 1)[0] + "/" + name


def test_two_nodes_share_keys_on_postgres(fresh_server, tmp_path):
    # Both nodes need the same root key: the second gets a copy of the first's data dir key file.
    db = fresh_database()
    a = fresh_server(args=["--store", db]).start()
    b_dir = tmp_path / "node-b"
    b_dir.mkdir()
    (b_dir / "root-key.dev").write_bytes((a.data_dir / "root-key.dev").read_bytes())
    os.chmod(b_dir / "root-key.dev", 0o600)
    b = fresh_server(data_dir=b_dir, args=["--store", db]).start()

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


def test_a_change_on_one_node_reaches_the_other_within_the_cache_ttl(fresh_server, tmp_path):
    import time

    from botocore.exceptions import ClientError

    db = fresh_database()
    a = fresh_server(args=["--store", db]).start()
    b_dir = tmp_path / "node-b"
    b_dir.mkdir()
    (b_dir / "root-key.dev").write_bytes((a.data_dir / "root-key.dev").read_bytes())
    os.chmod(b_dir / "root-key.dev", 0o600)
    b = fresh_server(data_dir=b_dir, args=["--store", db], env={"M2SEC_CACHE_TTL_MS": "300"}).start()
    kms_a, kms_b = a.client("kms"), b.client("kms")
    key_id = kms_a.create_key()["KeyMetadata"]["KeyId"]
    kms_b.encrypt(KeyId=key_id, Plaintext=b"x")  # node b now holds the key in memory
    kms_a.disable_key(KeyId=key_id)
    deadline = time.time() + 5
    while True:
        try:
            kms_b.encrypt(KeyId=key_id, Plaintext=b"x")
        except ClientError as e:
            assert e.response["Error"]["Code"] == "DisabledException"
            break
        assert time.time() < deadline, "node b never saw the key disabled"
        time.sleep(0.1)


def test_two_nodes_write_one_trail_on_postgres(fresh_server, tmp_path):
    """Both nodes append to one hash chain (they take turns on its head row); it verifies, and each node's
    lookups see the other's calls."""
    import threading

    from conftest import BIN

    db = fresh_database()
    a = fresh_server(args=["--store", db], env={"M2SEC_TRAIL_DIGEST_INTERVAL_SECS": "1"}).start()
    b_dir = tmp_path / "node-b"
    b_dir.mkdir()
    (b_dir / "root-key.dev").write_bytes((a.data_dir / "root-key.dev").read_bytes())
    os.chmod(b_dir / "root-key.dev", 0o600)
    b = fresh_server(data_dir=b_dir, args=["--store", db], env={"M2SEC_TRAIL_DIGEST_INTERVAL_SECS": "1"}).start()

    key = a.client("kms").create_key()["KeyMetadata"]["KeyId"]

    def calls(node, n):
        kms = node.client("kms")
        for i in range(n):
            kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"node": node.data_dir.name, "i": str(i)})

    threads = [threading.Thread(target=calls, args=(node, 150)) for node in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def count(node):
        ct, n, token = node.client("cloudtrail"), 0, None
        while True:
            kw = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "Encrypt"}]}
            if token:
                kw["NextToken"] = token
            page = ct.lookup_events(**kw)
            n += len(page["Events"])
            token = page.get("NextToken")
            if not token:
                return n

    # Each node commits its own records within a few tens of milliseconds; a lookup on one node sees the
    # other's once they are committed.
    import time
    deadline = time.time() + 5
    while (count(a), count(b)) != (600, 600) and time.time() < deadline:
        time.sleep(0.1)
    assert count(a) == 600 and count(b) == 600
    assert a.stop() == 0 and b.stop() == 0
    proc = subprocess.run([str(BIN), "trail", "verify", "--data-dir", str(a.data_dir), "--store", db],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "trail verified: 601 records" in proc.stdout, proc.stdout
