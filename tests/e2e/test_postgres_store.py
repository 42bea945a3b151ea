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



def two_nodes(fresh_server, tmp_path, db, env=None):
    """Nodes a and b on database `db`, b with a copy of a's root key."""
    a = fresh_server(args=["--store", db], env=env).start()
    b_dir = tmp_path / "node-b"
    b_dir.mkdir()
    (b_dir / "root-key.dev").write_bytes((a.data_dir / "root-key.dev").read_bytes())
    os.chmod(b_dir / "root-key.dev", 0o600)
    b = fresh_server(data_dir=b_dir, args=["--store", db], env=env).start()
    return a, b


def one_shot_clients(nodes, count):
    """`count` DynamoDB clients, alternating over `nodes`, for one thread each. They never retry: a request
    the server failed must show, not be sent again. Made here, one after the other (making clients is not
    thread-safe), from one session (so the service model is loaded once)."""
    import boto3
    import botocore.config

    from conftest import ACCESS_KEY, REGION, SECRET_KEY

    session = boto3.session.Session()
    config = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1}, max_pool_connections=2,
                                    read_timeout=60)
    return [session.client("dynamodb", endpoint_url=nodes[i % len(nodes)].endpoint, region_name=REGION,
                           aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=config)
            for i in range(count)]


def race(calls):
    """Runs each call on a thread of its own, all released at once. Returns, in order, ("ok", response) or
    ("error", code, response) per call."""
    import threading

    import botocore.exceptions

    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = ("ok", call())
        except botocore.exceptions.ClientError as e:
            results[i] = ("error", e.response["Error"]["Code"], e.response)
        except Exception as e:  # noqa: BLE001 (an exception of the client: the assertions report it)
            results[i] = ("exception", repr(e), None)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    return results


def race_table(a, b):
    """A new table made on node a, ACTIVE as both nodes see it."""
    table = "race-" + uuid.uuid4().hex[:8]
    a.client("dynamodb").create_table(
        TableName=table, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    for node in (a, b):
        node.client("dynamodb").get_waiter("table_exists").wait(TableName=table,
                                                               WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return table


def test_two_nodes_race_conditional_puts_on_postgres(fresh_server, tmp_path):
    """50 PutItems of one new item with `attribute_not_exists(pk)`, at once, spread over two nodes on one
    database: exactly one succeeds; the 49 others fail their condition, against the winner's item."""
    a, b = two_nodes(fresh_server, tmp_path, fresh_database())
    table = race_table(a, b)
    clients = one_shot_clients([a, b], 50)

    def put(i):
        return lambda: clients[i].put_item(
            TableName=table, Item={"pk": {"S": "once"}, "writer": {"N": str(i)}},
            ConditionExpression="attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD")

    results = race([put(i) for i in range(50)])
    unexpected = [r[:2] for r in results if r[0] != "ok" and r[1] != "ConditionalCheckFailedException"]
    assert not unexpected, unexpected
    winners = [i for i, r in enumerate(results) if r[0] == "ok"]
    assert len(winners) == 1, f"{len(winners)} conditional puts succeeded: {winners}"
    stored = {"pk": {"S": "once"}, "writer": {"N": str(winners[0])}}
    for node in (a, b):
        ddb = node.client("dynamodb")
        assert ddb.get_item(TableName=table, Key={"pk": {"S": "once"}}, ConsistentRead=True)["Item"] == stored
        assert ddb.scan(TableName=table, Select="COUNT", ConsistentRead=True)["Count"] == 1
    losers = [r for r in results if r[0] == "error"]
    assert len(losers) == 49
    assert all(r[2]["ResponseMetadata"]["HTTPStatusCode"] == 400 for r in losers)
    # Each loser's condition was judged against the winner's item (ALL_OLD returns it).
    assert all(r[2].get("Item") == stored for r in losers), [r[2].get("Item") for r in losers]


def test_two_nodes_race_increments_on_postgres(fresh_server, tmp_path):
    """2 x 50 UpdateItems `SET n = n + :one` on one item, at once, 50 through each of two nodes on one
    database: DynamoDB applies every one of them, so n ends at 100 and the new values (UPDATED_NEW) are 1..100.

    No increment is lost and none fails: writers on one node take turns per item, and a write that
    lost a race with the other node tries again after a short, jittered pause (DynamoDB returns no
    TransactionConflictException for a single-item write with no transaction in flight)."""
    a, b = two_nodes(fresh_server, tmp_path, fresh_database())
    table = race_table(a, b)
    a.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "counter"}, "n": {"N": "0"}})
    clients = one_shot_clients([a, b], 100)

    def increment(i):
        return lambda: clients[i].update_item(
            TableName=table, Key={"pk": {"S": "counter"}}, UpdateExpression="SET n = n + :one",
            ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW")

    results = race([increment(i) for i in range(100)])
    applied = [r for r in results if r[0] == "ok"]
    failed = [r for r in results if r[0] != "ok"]
    assert all(r[1] == "TransactionConflictException" for r in failed), [r[:2] for r in failed]
    # No lost update: n counts the successful requests, each of which saw a different n.
    for node in (a, b):
        item = node.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "counter"}},
                                                 ConsistentRead=True)["Item"]
        assert item["n"] == {"N": str(len(applied))}
    assert sorted(int(r[1]["Attributes"]["n"]["N"]) for r in applied) == list(range(1, len(applied) + 1))
    assert not failed, f"{len(failed)} of 100 concurrent UpdateItems failed: {failed[:3]}"
    assert len(applied) == 100
