"""DynamoDB durability: every write acknowledged before a `kill -9` is there after a restart on the same
data dir (items, updates, deletes, tables and their settings), for tables under the AWS owned key and
under a customer managed key."""
import pytest

from dynamodb_support import make_table, resource_for, scan_all, unique_table


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


@pytest.mark.parametrize("encryption", ["owned", "customer"])
def test_acknowledged_writes_survive_kill(fresh_server, encryption):
    s = fresh_server().start()
    ddb = s.client("dynamodb")
    sse = {}
    if encryption == "customer":
        key = s.client("kms").create_key(Description="durable")["KeyMetadata"]
        sse = {"SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["KeyId"]}}
    name = make_table(ddb, unique_table("durable"), range_key=("n", "N"), attributes=[("g", "S")],
                      GlobalSecondaryIndexes=[{"IndexName": "by-g",
                                               "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                               "Projection": {"ProjectionType": "KEYS_ONLY"}}],
                      Tags=[{"Key": "durable", "Value": "yes"}], **sse)
    with resource_for(s).Table(name).batch_writer() as batch:
        for i in range(200):
            batch.put_item(Item={"pk": f"p{i % 4}", "n": i, "g": f"g{i % 10}", "payload": f"item {i} " * 20})
    ddb.update_item(TableName=name, Key={"pk": S("p1"), "n": N(1)}, UpdateExpression="SET touched = :t",
                    ExpressionAttributeValues={":t": {"BOOL": True}})
    ddb.delete_item(TableName=name, Key={"pk": S("p0"), "n": N(0)})
    ddb.put_item(TableName=name, Item={"pk": S("last"), "n": N(999), "g": S("g0")})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {"pk": S("tx"), "n": N(1)}}},
        {"Update": {"TableName": name, "Key": {"pk": S("p2"), "n": N(2)}, "UpdateExpression": "ADD hits :one",
                    "ExpressionAttributeValues": {":one": N(1)}}},
    ])
    s.kill()

    s2 = fresh_server(data_dir=s.data_dir).start()
    ddb = s2.client("dynamodb")
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["TableStatus"] == "ACTIVE"
    assert [i["IndexName"] for i in t["GlobalSecondaryIndexes"]] == ["by-g"]
    if encryption == "customer":
        assert t["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"]
    else:
        assert "SSEDescription" not in t
    assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "durable", "Value": "yes"}]

    items = scan_all(ddb, TableName=name)
    keys = sorted((i["pk"]["S"], int(i["n"]["N"])) for i in items)
    expected = sorted([(f"p{i % 4}", i) for i in range(1, 200)] + [("last", 999), ("tx", 1)])
    assert keys == expected
    for i in range(1, 200):
        got = ddb.get_item(TableName=name, Key={"pk": S(f"p{i % 4}"), "n": N(i)}, ConsistentRead=True)["Item"]
        assert got["payload"] == S(f"item {i} " * 20)
    assert ddb.get_item(TableName=name, Key={"pk": S("p1"), "n": N(1)})["Item"]["touched"] == {"BOOL": True}
    assert ddb.get_item(TableName=name, Key={"pk": S("p2"), "n": N(2)})["Item"]["hits"] == N(1)
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": S("p0"), "n": N(0)})
    out = ddb.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": S("g0")})
    # g0: items 10, 20, ..., 190 (0 was deleted) and `last`.
    assert sorted(int(i["n"]["N"]) for i in out["Items"]) == list(range(10, 200, 10)) + [999]

    # And the restarted server keeps writing.
    ddb.put_item(TableName=name, Item={"pk": S("after"), "n": N(0)})
    assert len(scan_all(ddb, TableName=name)) == len(expected) + 1
