"""DynamoDB batches and transactions through boto3: BatchWriteItem (25 puts/deletes, the 25 limit,
duplicates), BatchGetItem (100 keys, projections, the 100 limit), the resource's batch_writer,
TransactWriteItems (Put/Update/Delete/ConditionCheck all or nothing, CancellationReasons, idempotency
tokens, one operation per item) and TransactGetItems."""
import uuid

import pytest

from dynamodb_support import (  # noqa: F401  (fixtures)
    ddb,
    ddb_server,
    error_response,
    expect_error,
    make_table,
    resource,
    scan_all,
    unique_table,
)

CONDITION_FAILED = "The conditional request failed"


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


@pytest.fixture(scope="module")
def table(ddb):
    return make_table(ddb)


@pytest.fixture(scope="module")
def other(ddb):
    return make_table(ddb, hash_key=("id", "N"))


def keys_in(ddb, table, prefix):
    return sorted(i["pk"]["S"] for i in scan_all(ddb, TableName=table) if i["pk"]["S"].startswith(prefix))


def put(item):
    return {"PutRequest": {"Item": item}}


def delete(key):
    return {"DeleteRequest": {"Key": key}}


# ----------------------------------------------------------------------------------------------
# BatchWriteItem


def test_batch_write_25_puts_then_deletes(ddb, table, other):
    p = f"bw-{uuid.uuid4().hex[:6]}-"
    out = ddb.batch_write_item(RequestItems={table: [put({"pk": S(f"{p}{i:02d}"), "n": N(i)}) for i in range(25)]})
    assert out["UnprocessedItems"] == {}
    assert keys_in(ddb, table, p) == [f"{p}{i:02d}" for i in range(25)]

    # Two tables, puts and deletes in one batch of 25.
    out = ddb.batch_write_item(RequestItems={
        table: [delete({"pk": S(f"{p}{i:02d}")}) for i in range(20)],
        other: [put({"id": N(i), "v": S("x")}) for i in range(5)],
    })
    assert out["UnprocessedItems"] == {}
    assert keys_in(ddb, table, p) == [f"{p}{i:02d}" for i in range(20, 25)]
    assert ddb.get_item(TableName=other, Key={"id": N(3)})["Item"] == {"id": N(3), "v": S("x")}
    # Deleting what is not there is not an error.
    assert ddb.batch_write_item(RequestItems={table: [delete({"pk": S(f"{p}nothing")})]})["UnprocessedItems"] == {}


def test_batch_write_limit(ddb, table):
    p = f"bw26-{uuid.uuid4().hex[:6]}-"
    message = expect_error("ValidationException", ddb.batch_write_item,
                           RequestItems={table: [put({"pk": S(f"{p}{i:02d}")}) for i in range(26)]})
    assert "Member must have length less than or equal to 25" in message
    assert keys_in(ddb, table, p) == []


def test_batch_write_is_validated_as_a_whole(ddb, table):
    p = f"bwv-{uuid.uuid4().hex[:6]}-"
    message = expect_error("ValidationException", ddb.batch_write_item, RequestItems={
        table: [put({"pk": S(f"{p}a")}), put({"pk": S(f"{p}a"), "v": S("again")})]})
    assert message == "Provided list of item keys contains duplicates"
    expect_error("ValidationException", ddb.batch_write_item, RequestItems={
        table: [put({"pk": S(f"{p}b")}), delete({"pk": S(f"{p}b")})]})
    # One bad item refuses the whole batch.
    expect_error("ValidationException", ddb.batch_write_item, RequestItems={
        table: [put({"pk": S(f"{p}c")}), put({"pk": N(1)})]})
    expect_error("ValidationException", ddb.batch_write_item, RequestItems={
        table: [put({"pk": S(f"{p}d")}), put({"pk": S(f"{p}e"), "big": S("x" * (400 * 1024))})]})
    assert keys_in(ddb, table, p) == []
    expect_error("ResourceNotFoundException", ddb.batch_write_item,
                 RequestItems={unique_table("missing"): [put({"pk": S("x")})]})


# ----------------------------------------------------------------------------------------------
# BatchGetItem


def test_batch_get_100_keys_with_projection(ddb, table, other):
    p = f"bg-{uuid.uuid4().hex[:6]}-"
    for start in range(0, 120, 25):
        ddb.batch_write_item(RequestItems={table: [
            put({"pk": S(f"{p}{i:03d}"), "n": N(i), "secret": S("not projected"), "m": {"M": {"a": N(i)}}})
            for i in range(start, min(start + 25, 120))]})
    keys = [{"pk": S(f"{p}{i:03d}")} for i in range(100)]
    out = ddb.batch_get_item(RequestItems={table: {"Keys": keys, "ProjectionExpression": "pk, n, m.a",
                                                   "ConsistentRead": True}})
    assert out["UnprocessedKeys"] == {}
    got = sorted(out["Responses"][table], key=lambda i: i["pk"]["S"])
    assert [i["pk"]["S"] for i in got] == [f"{p}{i:03d}" for i in range(100)]
    assert got[7] == {"pk": S(f"{p}007"), "n": N(7), "m": {"M": {"a": N(7)}}}

    # Keys that match nothing are simply absent; two tables in one call.
    ddb.put_item(TableName=other, Item={"id": N(42), "v": S("answer")})
    out = ddb.batch_get_item(RequestItems={
        table: {"Keys": [{"pk": S(f"{p}000")}, {"pk": S(f"{p}nope")}], "ProjectionExpression": "#k",
                "ExpressionAttributeNames": {"#k": "pk"}},
        other: {"Keys": [{"id": N(42)}]},
    })
    assert out["Responses"][table] == [{"pk": S(f"{p}000")}]
    assert out["Responses"][other] == [{"id": N(42), "v": S("answer")}]


def test_batch_get_answers_16_mb_and_leaves_the_rest_unprocessed(ddb, table):
    """As DynamoDB: an answer holds at most 16 MB of items; the keys past it come back in
    UnprocessedKeys, with the request's projection, and a caller's loop gets every item."""
    p = f"bg16-{uuid.uuid4().hex[:6]}-"
    big = "x" * 350_000
    for i in range(60):
        ddb.put_item(TableName=table, Item={"pk": S(f"{p}{i:02d}"), "bigv": S(big), "n": N(i)})
    request = {table: {"Keys": [{"pk": S(f"{p}{i:02d}")} for i in range(60)],
                       "ProjectionExpression": "pk, bigv, n"}}
    out = ddb.batch_get_item(RequestItems=request)
    first = out["Responses"][table]
    assert 40 <= len(first) < 60
    assert sum(len(i["bigv"]["S"]) for i in first) <= 16 * 1024 * 1024
    left = out["UnprocessedKeys"][table]
    assert left["ProjectionExpression"] == "pk, bigv, n"
    assert len(left["Keys"]) + len(first) == 60
    got = list(first)
    while out["UnprocessedKeys"]:
        out = ddb.batch_get_item(RequestItems=out["UnprocessedKeys"])
        got += out["Responses"][table]
    assert sorted(int(i["n"]["N"]) for i in got) == list(range(60))
    # A projection that leaves the big attribute out fits all 60 in one answer.
    out = ddb.batch_get_item(RequestItems={table: {**request[table], "ProjectionExpression": "pk, n"}})
    assert len(out["Responses"][table]) == 60 and out["UnprocessedKeys"] == {}


def test_batch_get_limits(ddb, table):
    message = expect_error("ValidationException", ddb.batch_get_item, RequestItems={
        table: {"Keys": [{"pk": S(f"k{i}")} for i in range(101)]}})
    assert message == "Too many items requested for the BatchGetItem call"
    message = expect_error("ValidationException", ddb.batch_get_item, RequestItems={
        table: {"Keys": [{"pk": S("same")}, {"pk": S("same")}]}})
    assert message == "Provided list of item keys contains duplicates"
    expect_error("ValidationException", ddb.batch_get_item, RequestItems={table: {"Keys": [{"pk": N(1)}]}})
    expect_error("ResourceNotFoundException", ddb.batch_get_item,
                 RequestItems={unique_table("missing"): {"Keys": [{"pk": S("x")}]}})


def test_resource_batch_writer_200(resource, ddb):
    name = make_table(ddb)
    t = resource.Table(name)
    with t.batch_writer() as batch:
        for i in range(200):
            batch.put_item(Item={"pk": f"bw-{i:03d}", "n": i, "tags": {"a", f"t{i % 3}"}})
    items = scan_all(ddb, TableName=name)
    assert len(items) == 200
    assert sorted(i["pk"]["S"] for i in items) == [f"bw-{i:03d}" for i in range(200)]
    assert t.get_item(Key={"pk": "bw-150"})["Item"]["tags"] == {"a", "t0"}

    # overwrite_by_pkeys keeps the last write for a key within a batch; deletes go through too.
    with t.batch_writer(overwrite_by_pkeys=["pk"]) as batch:
        for i in range(100):
            batch.delete_item(Key={"pk": f"bw-{i:03d}"})
        batch.put_item(Item={"pk": "bw-199", "n": -1})
        batch.put_item(Item={"pk": "bw-199", "n": -2})
    assert len(scan_all(ddb, TableName=name)) == 100
    assert t.get_item(Key={"pk": "bw-199"})["Item"] == {"pk": "bw-199", "n": -2}

    resource_out = resource.batch_get_item(RequestItems={name: {"Keys": [{"pk": "bw-100"}, {"pk": "bw-000"}]}})
    assert [i["pk"] for i in resource_out["Responses"][name]] == ["bw-100"]


# ----------------------------------------------------------------------------------------------
# Transactions


def test_transact_write_all_kinds(ddb, table, other):
    p = f"tx-{uuid.uuid4().hex[:6]}-"
    ddb.put_item(TableName=table, Item={"pk": S(f"{p}upd"), "n": N(1)})
    ddb.put_item(TableName=table, Item={"pk": S(f"{p}del"), "v": S("bye")})
    ddb.put_item(TableName=other, Item={"id": N(1000), "open": {"BOOL": True}})
    out = ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": S(f"{p}new"), "v": S("hello")},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": table, "Key": {"pk": S(f"{p}upd")}, "UpdateExpression": "ADD n :one SET t = :t",
                    "ExpressionAttributeValues": {":one": N(1), ":t": S("touched")}}},
        {"Delete": {"TableName": table, "Key": {"pk": S(f"{p}del")}, "ConditionExpression": "v = :v",
                    "ExpressionAttributeValues": {":v": S("bye")}}},
        {"ConditionCheck": {"TableName": other, "Key": {"id": N(1000)}, "ConditionExpression": "#o = :t",
                            "ExpressionAttributeNames": {"#o": "open"},
                            "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
    ])
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert ddb.get_item(TableName=table, Key={"pk": S(f"{p}new")})["Item"] == {"pk": S(f"{p}new"), "v": S("hello")}
    assert ddb.get_item(TableName=table, Key={"pk": S(f"{p}upd")})["Item"] == {
        "pk": S(f"{p}upd"), "n": N(2), "t": S("touched")}
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": S(f"{p}del")})


def test_transaction_cancelled_writes_nothing(ddb, table, other):
    p = f"txc-{uuid.uuid4().hex[:6]}-"
    ddb.put_item(TableName=table, Item={"pk": S(f"{p}upd"), "n": N(1)})
    ddb.put_item(TableName=other, Item={"id": N(2000), "open": {"BOOL": False}})
    items = [
        {"Put": {"TableName": table, "Item": {"pk": S(f"{p}new")}}},
        {"Update": {"TableName": table, "Key": {"pk": S(f"{p}upd")}, "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": N(1)}}},
        {"ConditionCheck": {"TableName": other, "Key": {"id": N(2000)}, "ConditionExpression": "#o = :t",
                            "ExpressionAttributeNames": {"#o": "open"},
                            "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
    ]
    failed = error_response("TransactionCanceledException", ddb.transact_write_items, TransactItems=items)
    assert failed["Error"]["Message"] == ("Transaction cancelled, please refer cancellation reasons for specific "
                                          "reasons [None, None, ConditionalCheckFailed]")
    assert failed["CancellationReasons"] == [
        {"Code": "None"}, {"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": CONDITION_FAILED}]
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": S(f"{p}new")})
    assert ddb.get_item(TableName=table, Key={"pk": S(f"{p}upd")})["Item"]["n"] == N(1)

    # ALL_OLD puts the failing item into its reason.
    items[2]["ConditionCheck"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    failed = error_response("TransactionCanceledException", ddb.transact_write_items, TransactItems=items[1:])
    assert failed["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": CONDITION_FAILED,
         "Item": {"id": N(2000), "open": {"BOOL": False}}},
    ]
    assert ddb.get_item(TableName=table, Key={"pk": S(f"{p}upd")})["Item"]["n"] == N(1)

    # A failing condition on a Put, as the first action.
    failed = error_response("TransactionCanceledException", ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": S(f"{p}upd")}, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Put": {"TableName": table, "Item": {"pk": S(f"{p}other")}}},
    ])
    assert [r["Code"] for r in failed["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": S(f"{p}other")})


def test_client_request_token_idempotency(ddb, table):
    p = f"txi-{uuid.uuid4().hex[:6]}-"
    token = uuid.uuid4().hex
    items = [{"Update": {"TableName": table, "Key": {"pk": S(f"{p}counter")}, "UpdateExpression": "ADD n :one",
                         "ExpressionAttributeValues": {":one": N(1)}}}]
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    assert ddb.get_item(TableName=table, Key={"pk": S(f"{p}counter")})["Item"]["n"] == N(1)

    changed = [{"Update": {**items[0]["Update"], "ExpressionAttributeValues": {":one": N(5)}}}]
    expect_error("IdempotentParameterMismatchException", ddb.transact_write_items, TransactItems=changed,
                 ClientRequestToken=token)
    assert ddb.get_item(TableName=table, Key={"pk": S(f"{p}counter")})["Item"]["n"] == N(1)
    # Without a token (boto3 makes a fresh one each call) every call applies.
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=uuid.uuid4().hex)
    assert ddb.get_item(TableName=table, Key={"pk": S(f"{p}counter")})["Item"]["n"] == N(2)


def test_one_operation_per_item(ddb, table):
    p = f"txm-{uuid.uuid4().hex[:6]}-"
    message = expect_error("ValidationException", ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": S(f"{p}same"), "v": S("1")}}},
        {"Update": {"TableName": table, "Key": {"pk": S(f"{p}same")}, "UpdateExpression": "SET w = :w",
                    "ExpressionAttributeValues": {":w": S("2")}}},
    ])
    assert message == "Transaction request cannot include multiple operations on one item"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": S(f"{p}same")})
    # More than 100 actions are refused.
    expect_error("ValidationException", ddb.transact_write_items, TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": S(f"{p}{i}")}}} for i in range(101)])
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": S(f"{p}0")})


def test_transact_get_items(ddb, table, other):
    p = f"txg-{uuid.uuid4().hex[:6]}-"
    ddb.put_item(TableName=table, Item={"pk": S(f"{p}a"), "v": S("A"), "extra": S("x")})
    ddb.put_item(TableName=other, Item={"id": N(3000), "v": S("B")})
    out = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": table, "Key": {"pk": S(f"{p}a")}}},
        {"Get": {"TableName": table, "Key": {"pk": S(f"{p}missing")}}},
        {"Get": {"TableName": other, "Key": {"id": N(3000)}, "ProjectionExpression": "v"}},
    ])
    assert out["Responses"] == [
        {"Item": {"pk": S(f"{p}a"), "v": S("A"), "extra": S("x")}},
        {},
        {"Item": {"v": S("B")}},
    ]
    expect_error("ValidationException", ddb.transact_get_items, TransactItems=[
        {"Get": {"TableName": table, "Key": {"pk": N(1)}}}])
    expect_error("ResourceNotFoundException", ddb.transact_get_items, TransactItems=[
        {"Get": {"TableName": unique_table("missing"), "Key": {"pk": S("x")}}}])


def test_transact_get_items_never_sees_a_transaction_half_done(ddb_server, ddb, table, other):
    """TransactGetItems reads every item of one moment: while transactions move both items to the
    same value over and over, every read finds them equal."""
    import threading

    p = f"txsnap-{uuid.uuid4().hex[:6]}"
    keys = [{"TableName": table, "Key": {"pk": S(p)}}, {"TableName": other, "Key": {"id": N(4242)}}]
    ddb.put_item(TableName=table, Item={"pk": S(p), "v": N(0)})
    ddb.put_item(TableName=other, Item={"id": N(4242), "v": N(0)})
    stop, seen, errors = threading.Event(), [], []

    def write():
        c = ddb_server.client("dynamodb")
        for n in range(1, 151):
            c.transact_write_items(TransactItems=[
                {"Update": {**k, "UpdateExpression": "SET v = :n", "ExpressionAttributeValues": {":n": N(n)}}}
                for k in keys])
        stop.set()

    def read():
        c = ddb_server.client("dynamodb")
        while not stop.is_set():
            try:
                out = c.transact_get_items(TransactItems=[{"Get": k} for k in keys])["Responses"]
                seen.append((out[0]["Item"]["v"]["N"], out[1]["Item"]["v"]["N"]))
            except Exception as e:  # noqa: BLE001 - the test reports any failure
                errors.append(repr(e))
                return

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert len(seen) > 50
    torn = [pair for pair in seen if pair[0] != pair[1]]
    assert torn == [], f"{len(torn)} of {len(seen)} reads saw a transaction half done: {torn[:5]}"


def test_batch_get_by_table_arn_answers_under_the_arn(ddb, table):
    """RequestItems may name a table by its ARN; Responses (and UnprocessedKeys) then use the ARN too,
    so that the caller finds its items under the name it asked with."""
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.put_item(TableName=table, Item={"pk": S("by-arn"), "v": N(1)})
    out = ddb.batch_get_item(RequestItems={arn: {"Keys": [{"pk": S("by-arn")}]}})
    assert out["Responses"] == {arn: [{"pk": S("by-arn"), "v": N(1)}]}
    assert out["UnprocessedKeys"] == {}
