"""DynamoDB encryption at rest, judged from outside the process:

- after items are written (keys, attribute names, values, index keys, updates, deletes, batches and
  transactions, under a customer managed key, the AWS managed key and the AWS owned key) and the server
  stops, no file of the data dir holds any of them, raw, base64 or hex;
- a table whose customer managed key is disabled (or scheduled for deletion) refuses item reads and
  writes with KMSAccessDeniedException once the server's cached table key expires
  (M2SEC_DYNAMODB_KEY_CACHE_SECS=1), and works again when the key is usable;
- every use of a KMS key by DynamoDB is a CloudTrail event of KMS, invoked by dynamodb.amazonaws.com,
  with DynamoDB's encryption context.

Each test runs a server of its own (`fresh_server`): it owns the data dir and the trail."""
import base64
import json
import os
import time
import uuid
from pathlib import Path

import botocore.exceptions
import pytest

from dynamodb_support import ACCOUNT, make_table, resource_for, scan_all, unique_table

KEY_CACHE = {"M2SEC_DYNAMODB_KEY_CACHE_SECS": "1"}
DDB = "dynamodb.amazonaws.com"


def S(v):
    return {"S": v}


def forms(secret):
    """The ways a secret could sit in a file: raw, hex, and base64 (std and URL-safe) at each of the three
    alignments it could have inside a longer base64 text."""
    out = {secret, secret.hex().encode(), secret.hex().upper().encode()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            text = encode(b"\0" * offset + secret)
            core = text[4 if offset else 0:len(text) - 4]
            if len(core) >= 12:
                out.add(core)
    return out


def data_files(data_dir):
    return {p: p.read_bytes() for p in Path(data_dir).rglob("*") if p.is_file()}


def total_size(data_dir, names=None):
    return sum(len(b) for p, b in data_files(data_dir).items() if names is None or p.name in names)


def code_of(fn, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kwargs)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def until(check, timeout=10.0, interval=0.2):
    """Retries check() until it returns a true value, for up to `timeout` seconds; returns the value."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(interval)


# ----------------------------------------------------------------------------------------------
# Nothing in the data dir


def test_no_item_data_in_the_data_dir(fresh_server):
    s = fresh_server().start()
    ddb, kms = s.client("dynamodb"), s.client("kms")
    tag = uuid.uuid4().hex[:16]
    key = kms.create_key(Description="vault key")["KeyMetadata"]

    secrets = {}

    def secret(label):
        value = f"{label}{tag}"
        secrets[label] = value.encode()
        return value

    cmk = make_table(ddb, unique_table("vault"), hash_key=("vk", "S"), range_key=("vs", "S"),
                     attributes=[("gk", "S")],
                     GlobalSecondaryIndexes=[{"IndexName": "by-gk",
                                              "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                                              "Projection": {"ProjectionType": "ALL"}}],
                     LocalSecondaryIndexes=[{"IndexName": "by-lk",
                                             "KeySchema": [{"AttributeName": "vk", "KeyType": "HASH"},
                                                           {"AttributeName": "gk", "KeyType": "RANGE"}],
                                             "Projection": {"ProjectionType": "ALL"}}],
                     SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["KeyId"]})
    managed = make_table(ddb, unique_table("managed"), SSESpecification={"Enabled": True})
    owned = make_table(ddb, unique_table("owned"))

    blob = os.urandom(48)
    secrets["random binary"] = blob
    number = "271828182845904523536028747135266249"
    secrets["number"] = number.encode()
    item_key = {"vk": S(secret("KEYVALUE")), "vs": S(secret("SORTVALUE"))}
    item = {
        **item_key,
        "gk": S(secret("GSIKEYVALUE")),
        secret("ATTRNAME"): S(secret("ATTRVALUE")),
        "nested": {"M": {secret("MAPKEY"): {"S": secret("MAPVALUE")}}},
        "list": {"L": [S(secret("LISTITEM"))]},
        "set": {"SS": [secret("SETMEMBER")]},
        "num": {"N": number},
        "bin": {"B": blob},
    }
    ddb.put_item(TableName=cmk, Item=item)
    ddb.update_item(TableName=cmk, Key=item_key, UpdateExpression="SET upd = :u",
                    ExpressionAttributeValues={":u": S(secret("UPDATEDVALUE"))})
    doomed = {"vk": S(secret("DELETEDKEY")), "vs": S("x")}
    ddb.put_item(TableName=cmk, Item={**doomed, "v": S(secret("DELETEDVALUE"))})
    ddb.delete_item(TableName=cmk, Key=doomed)
    ddb.batch_write_item(RequestItems={cmk: [{"PutRequest": {"Item": {
        "vk": S(secret("BATCHKEY")), "vs": S("b"), "v": S(secret("BATCHVALUE"))}}}]})
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": cmk, "Item": {
        "vk": S(secret("TXKEY")), "vs": S("t"), "v": S(secret("TXVALUE"))}}}])
    ddb.put_item(TableName=managed, Item={"pk": S(secret("MANAGEDKEY")), "v": S(secret("MANAGEDVALUE"))})
    ddb.put_item(TableName=owned, Item={"pk": S(secret("OWNEDKEY")), "v": S(secret("OWNEDVALUE"))})
    resource_for(s).Table(owned).put_item(Item={"pk": secret("RESOURCEKEY"), "doc": {"k": secret("RESOURCEDOC")}})

    # Everything reads back while the server runs.
    got = ddb.get_item(TableName=cmk, Key=item_key)["Item"]
    assert got["bin"] == {"B": blob} and got["upd"] == S(f"UPDATEDVALUE{tag}")
    out = ddb.query(TableName=cmk, IndexName="by-gk", KeyConditionExpression="gk = :g",
                    ExpressionAttributeValues={":g": S(f"GSIKEYVALUE{tag}")})
    assert out["Count"] == 1

    # The control: a few MB of incompressible data must make the data dir grow, or the scan below
    # would prove nothing.
    before = total_size(s.data_dir, {"m2sec.db"})
    for i in range(8):
        ddb.put_item(TableName=owned, Item={"pk": S(f"bulk-{i}"), "b": {"B": os.urandom(380 * 1024)}})
    assert s.stop() == 0
    assert total_size(s.data_dir) - before >= 2 * 1024 * 1024, "the items are not stored in the data dir"

    files = data_files(s.data_dir)
    assert files
    logs = s.logs().encode()
    leaks = []
    for label, value in secrets.items():
        for form in forms(value):
            for path, data in list(files.items()) + [(Path("server log"), logs)]:
                if form in data:
                    leaks.append(f"{label} as {form[:20]!r}… in {path.name}")
    assert leaks == []

    # And they are all still there after a restart.
    s2 = fresh_server(data_dir=s.data_dir).start()
    ddb = s2.client("dynamodb")
    assert ddb.get_item(TableName=cmk, Key=item_key)["Item"] == {**item, "upd": S(f"UPDATEDVALUE{tag}")}
    assert ddb.get_item(TableName=managed, Key={"pk": S(f"MANAGEDKEY{tag}")})["Item"]["v"] == S(
        f"MANAGEDVALUE{tag}")
    assert len(scan_all(ddb, TableName=cmk)) == 3


# ----------------------------------------------------------------------------------------------
# An unusable key


@pytest.mark.parametrize("how", ["disable", "schedule-deletion"])
def test_unusable_key_blocks_items(fresh_server, how):
    s = fresh_server(env=KEY_CACHE).start()
    ddb, kms = s.client("dynamodb"), s.client("kms")
    key = kms.create_key(Description="table key")["KeyMetadata"]
    other_key = kms.create_key(Description="another table's key")["KeyMetadata"]
    locked = make_table(ddb, SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["Arn"]})
    free = make_table(ddb, SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": other_key["Arn"]})
    item = {"pk": S("guarded"), "v": S("inside")}
    ddb.put_item(TableName=locked, Item=item)
    ddb.put_item(TableName=free, Item=item)
    assert ddb.get_item(TableName=locked, Key={"pk": S("guarded")})["Item"] == item

    if how == "disable":
        s.aws("kms", "disable-key", "--key-id", key["KeyId"])
    else:
        kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)

    def refused():
        try:
            ddb.get_item(TableName=locked, Key={"pk": S("guarded")})
            return None
        except botocore.exceptions.ClientError as e:
            return e.response

    response = until(refused)
    assert response, "reads still work 10 s after the key became unusable"
    assert response["Error"]["Code"] == "KMSAccessDeniedException", response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400

    denied = ("KMSAccessDeniedException", 400)
    key_ = {"pk": S("guarded")}
    assert code_of(ddb.put_item, TableName=locked, Item={"pk": S("new"), "v": S("x")}) == denied
    assert code_of(ddb.update_item, TableName=locked, Key=key_, UpdateExpression="SET v = :v",
                   ExpressionAttributeValues={":v": S("changed")}) == denied
    assert code_of(ddb.delete_item, TableName=locked, Key=key_) == denied
    assert code_of(ddb.scan, TableName=locked) == denied
    assert code_of(ddb.query, TableName=locked, KeyConditionExpression="pk = :p",
                   ExpressionAttributeValues={":p": S("guarded")}) == denied
    assert code_of(ddb.batch_get_item, RequestItems={locked: {"Keys": [key_]}}) == denied
    assert code_of(ddb.transact_get_items, TransactItems=[{"Get": {"TableName": locked, "Key": key_}}]) == denied
    # The table itself is still described, and a table under another key is untouched.
    assert ddb.describe_table(TableName=locked)["Table"]["TableName"] == locked
    assert ddb.get_item(TableName=free, Key=key_)["Item"] == item
    ddb.put_item(TableName=free, Item={"pk": S("still-writable")})

    if how == "schedule-deletion":
        kms.cancel_key_deletion(KeyId=key["KeyId"])
    s.aws("kms", "enable-key", "--key-id", key["KeyId"])

    def readable():
        try:
            return ddb.get_item(TableName=locked, Key=key_).get("Item")
        except botocore.exceptions.ClientError:
            return None

    assert until(readable) == item, "reads still refused 10 s after the key was enabled again"
    ddb.put_item(TableName=locked, Item={"pk": S("after"), "v": S("written again")})
    assert ddb.get_item(TableName=locked, Key={"pk": S("after")})["Item"]["v"] == S("written again")
    # Nothing was changed by the refused writes.
    assert "Item" not in ddb.get_item(TableName=locked, Key={"pk": S("new")})


# ----------------------------------------------------------------------------------------------
# CloudTrail


def kms_events(ct, name):
    events, token = [], None
    while True:
        out = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}],
                               MaxResults=50, **({"NextToken": token} if token else {}))
        events.extend(out["Events"])
        token = out.get("NextToken")
        if not token:
            return events


def for_table(ct, name, table):
    """The records of KMS `name` events DynamoDB made for `table`."""
    records = [json.loads(e["CloudTrailEvent"]) for e in kms_events(ct, name)]
    return [r for r in records
            if (r.get("requestParameters") or {}).get("encryptionContext", {}).get("aws:dynamodb:tableName") == table]


def check_record(r, table, key_arn, name):
    assert r["eventSource"] == "kms.amazonaws.com", r
    assert r["eventName"] == name, r
    assert r["userIdentity"]["invokedBy"] == DDB, r
    assert r["userIdentity"]["accountId"] == ACCOUNT, r
    assert r["sourceIPAddress"] == DDB, r
    assert r["awsRegion"] == "eu-west-1", r
    assert r["requestParameters"]["encryptionContext"] == {
        "aws:dynamodb:tableName": table, "aws:dynamodb:subscriberId": ACCOUNT}, r
    assert key_arn in [x["ARN"] for x in r.get("resources", [])], r
    assert "errorCode" not in r, r


def test_kms_use_is_in_cloudtrail(fresh_server):
    s = fresh_server(env=KEY_CACHE).start()
    ddb, kms, ct = s.client("dynamodb"), s.client("kms"), s.client("cloudtrail")
    key = kms.create_key(Description="audited table key")["KeyMetadata"]
    table = make_table(ddb, unique_table("audited"),
                       SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["KeyId"]})

    generated = until(lambda: for_table(ct, "GenerateDataKey", table), timeout=5)
    assert generated, "no GenerateDataKey for the new table"
    for r in generated:
        check_record(r, table, key["Arn"], "GenerateDataKey")

    # Past the key cache, using the table decrypts its key again.
    time.sleep(1.5)
    ddb.put_item(TableName=table, Item={"pk": S("a"), "v": S("audited")})
    time.sleep(1.5)
    assert ddb.get_item(TableName=table, Key={"pk": S("a")})["Item"]["v"] == S("audited")
    decrypted = until(lambda: for_table(ct, "Decrypt", table), timeout=5)
    assert decrypted, "no Decrypt after the table key left the cache"
    for r in decrypted:
        check_record(r, table, key["Arn"], "Decrypt")

    # The AWS managed key is used the same way, and its events name it.
    managed_table = make_table(ddb, unique_table("managed"), SSESpecification={"Enabled": True})
    managed_arn = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]["Arn"]
    generated = until(lambda: for_table(ct, "GenerateDataKey", managed_table), timeout=5)
    assert generated
    for r in generated:
        check_record(r, managed_table, managed_arn, "GenerateDataKey")

    # An AWS owned key is not the account's: its use is not in the account's trail.
    owned = make_table(ddb, unique_table("owned"))
    ddb.put_item(TableName=owned, Item={"pk": S("x")})
    time.sleep(1.5)
    ddb.get_item(TableName=owned, Key={"pk": S("x")})
    time.sleep(0.5)
    for name in ("GenerateDataKey", "Decrypt", "Encrypt"):
        assert for_table(ct, name, owned) == []

