"""DynamoDB tables through boto3: CreateTable (key types, billing modes, secondary indexes and their
projections, tags, encryption settings), DescribeTable, ListTables paging, DeleteTable, UpdateTable
(billing mode, global secondary indexes, the KMS key), tags and Time to Live, with the waiters
`table_exists` / `table_not_exists`."""
import datetime
import time
import uuid

import botocore.exceptions
import pytest

from dynamodb_support import (  # noqa: F401  (fixtures)
    ACCOUNT,
    ddb,
    ddb_server,
    expect_error,
    make_table,
    raw_ddb,
    resource,
    table_arn,
    unique_table,
    wait_exists,
    wait_not_exists,
)


def describe(ddb, name):
    return ddb.describe_table(TableName=name)["Table"]


def error_response(fn, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kwargs)
    return e.value.response


def poll(check, timeout=30, interval=0.5):
    """Calls check() until it returns a true value; returns that value."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            assert value, "condition not reached in time"
            return value
        time.sleep(interval)


def key_arn(kms, key_id):
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]


# ----------------------------------------------------------------------------------------------
# CreateTable / DescribeTable


def test_create_hash_table(ddb):
    name = unique_table("hash")
    before = datetime.datetime.now(datetime.timezone.utc)
    created = ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    assert created["TableStatus"] == "CREATING"
    assert created["TableName"] == name
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    t = describe(ddb, name)
    assert t["TableName"] == name
    assert t["TableStatus"] == "ACTIVE"
    assert t["TableArn"] == table_arn(name)
    assert uuid.UUID(t["TableId"]) and t["TableId"] == created["TableId"]
    assert t["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert t["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert t["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0,
                                          "WriteCapacityUnits": 0}
    assert t["ItemCount"] == 0 and t["TableSizeBytes"] == 0
    assert t["DeletionProtectionEnabled"] is False
    assert abs((t["CreationDateTime"] - before).total_seconds()) < 60
    # No SSESpecification: the AWS owned key, which DescribeTable does not describe.
    assert "SSEDescription" not in t
    assert "GlobalSecondaryIndexes" not in t and "LocalSecondaryIndexes" not in t


@pytest.mark.parametrize("hash_type,range_type", [("S", "N"), ("N", "B"), ("B", "S"), ("N", "N")])
def test_key_types(ddb, hash_type, range_type):
    name = make_table(ddb, hash_key=("h", hash_type), range_key=("r", range_type))
    t = describe(ddb, name)
    assert t["KeySchema"] == [{"AttributeName": "h", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}]
    assert sorted(t["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "h", "AttributeType": hash_type}, {"AttributeName": "r", "AttributeType": range_type}]
    sample = {"S": {"S": "key"}, "N": {"N": "42"}, "B": {"B": b"\x00\xffkey"}}
    key = {"h": sample[hash_type], "r": sample[range_type]}
    ddb.put_item(TableName=name, Item={**key, "v": {"S": "value"}})
    assert ddb.get_item(TableName=name, Key=key)["Item"] == {**key, "v": {"S": "value"}}
    wrong = "N" if hash_type != "N" else "S"
    message = expect_error("ValidationException", ddb.put_item, TableName=name,
                           Item={"h": sample[wrong], "r": sample[range_type]})
    assert message == (f"One or more parameter values were invalid: Type mismatch for key h expected: {hash_type} "
                       f"actual: {wrong}")


def test_provisioned_table(ddb):
    name = make_table(ddb, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})
    t = describe(ddb, name)
    assert t["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 5,
                                          "WriteCapacityUnits": 7}
    assert t.get("BillingModeSummary", {"BillingMode": "PROVISIONED"})["BillingMode"] == "PROVISIONED"

    explicit = make_table(ddb, BillingMode="PROVISIONED",
                          ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert describe(ddb, explicit)["ProvisionedThroughput"]["ReadCapacityUnits"] == 1

    refused = unique_table("bad-billing")
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    expect_error("ValidationException", ddb.create_table, TableName=refused, AttributeDefinitions=attrs,
                 KeySchema=schema, BillingMode="PAY_PER_REQUEST",
                 ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    expect_error("ValidationException", ddb.create_table, TableName=refused, AttributeDefinitions=attrs,
                 KeySchema=schema, BillingMode="PROVISIONED")
    expect_error("ValidationException", ddb.create_table, TableName=refused, AttributeDefinitions=attrs,
                 KeySchema=schema)
    expect_error("ResourceNotFoundException", ddb.describe_table, TableName=refused)


def test_invalid_schemas(ddb, raw_ddb):
    name = unique_table("bad-schema")
    # An attribute defined but not used by any key.
    expect_error("ValidationException", ddb.create_table, TableName=name, BillingMode="PAY_PER_REQUEST",
                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                       {"AttributeName": "extra", "AttributeType": "S"}],
                 KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    # A key attribute that is not defined.
    expect_error("ValidationException", ddb.create_table, TableName=name, BillingMode="PAY_PER_REQUEST",
                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                 KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    # Keys may only be S, N or B.
    expect_error("ValidationException", raw_ddb.create_table, TableName=name, BillingMode="PAY_PER_REQUEST",
                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "BOOL"}],
                 KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    # Two HASH keys.
    expect_error("ValidationException", ddb.create_table, TableName=name, BillingMode="PAY_PER_REQUEST",
                 AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"},
                                       {"AttributeName": "b", "AttributeType": "S"}],
                 KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "HASH"}])
    # Table names: 3 to 255 characters of [a-zA-Z0-9_.-].
    # The message names the constraint broken, length first.
    for bad, constraint in [("ab", "length greater than or equal to 3"), ("has space", "regular expression"),
                            ("slash/name", "regular expression"), ("x" * 256, "length less than or equal to 255")]:
        message = expect_error("ValidationException", raw_ddb.create_table, TableName=bad,
                               BillingMode="PAY_PER_REQUEST",
                               AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                               KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        assert constraint in str(message), message
    expect_error("ResourceNotFoundException", ddb.describe_table, TableName=name)


def test_secondary_indexes(ddb):
    name = unique_table("indexed")
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "email", "AttributeType": "S"},
            {"AttributeName": "score", "AttributeType": "N"},
            {"AttributeName": "created", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-email", "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "by-score", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                    {"AttributeName": "score", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {"IndexName": "by-created", "KeySchema": [{"AttributeName": "created", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title", "owner"]}},
        ],
        LocalSecondaryIndexes=[
            {"IndexName": "lsi-all", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                   {"AttributeName": "created", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "lsi-keys", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                    {"AttributeName": "score", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {"IndexName": "lsi-include", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                       {"AttributeName": "email", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}},
        ],
    )
    wait_exists(ddb, name)
    t = describe(ddb, name)
    gsis = {i["IndexName"]: i for i in t["GlobalSecondaryIndexes"]}
    lsis = {i["IndexName"]: i for i in t["LocalSecondaryIndexes"]}
    assert set(gsis) == {"by-email", "by-score", "by-created"}
    assert set(lsis) == {"lsi-all", "lsi-keys", "lsi-include"}
    for index in list(gsis.values()) + list(lsis.values()):
        assert index["IndexArn"] == f"{table_arn(name)}/index/{index['IndexName']}"
        assert index["ItemCount"] == 0 and index["IndexSizeBytes"] == 0
    for index in gsis.values():
        assert index["IndexStatus"] == "ACTIVE"
    assert gsis["by-email"]["KeySchema"] == [{"AttributeName": "email", "KeyType": "HASH"}]
    assert gsis["by-email"]["Projection"] == {"ProjectionType": "ALL"}
    assert gsis["by-score"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert gsis["by-created"]["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(gsis["by-created"]["Projection"]["NonKeyAttributes"]) == ["owner", "title"]
    assert lsis["lsi-all"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                                            {"AttributeName": "created", "KeyType": "RANGE"}]
    assert lsis["lsi-keys"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert lsis["lsi-include"]["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}

    # An index key must be of the type its definition says, like a table key.
    message = expect_error("ValidationException", ddb.put_item, TableName=name,
                           Item={"pk": {"S": "p"}, "sk": {"S": "s"}, "score": {"S": "not a number"}})
    assert "score" in message
    # A local secondary index needs the table's sort key.
    expect_error("ValidationException", ddb.create_table, TableName=unique_table("lsi-no-range"),
                 BillingMode="PAY_PER_REQUEST",
                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                       {"AttributeName": "x", "AttributeType": "S"}],
                 KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                 LocalSecondaryIndexes=[{"IndexName": "lsi", "KeySchema": [
                     {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "x", "KeyType": "RANGE"}],
                     "Projection": {"ProjectionType": "ALL"}}])


def test_duplicate_table(ddb):
    name = make_table(ddb)
    message = expect_error("ResourceInUseException", ddb.create_table, TableName=name,
                           BillingMode="PAY_PER_REQUEST",
                           AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                           KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert message == f"Table already exists: {name}"


def test_unknown_table(ddb):
    name = unique_table("missing")
    message = expect_error("ResourceNotFoundException", ddb.describe_table, TableName=name)
    assert message == f"Requested resource not found: Table: {name} not found"
    expect_error("ResourceNotFoundException", ddb.delete_table, TableName=name)
    assert expect_error("ResourceNotFoundException", ddb.get_item, TableName=name,
                        Key={"pk": {"S": "x"}}) == "Requested resource not found"
    assert expect_error("ResourceNotFoundException", ddb.put_item, TableName=name,
                        Item={"pk": {"S": "x"}}) == "Requested resource not found"
    expect_error("ResourceNotFoundException", ddb.scan, TableName=name)
    expect_error("ResourceNotFoundException", ddb.query, TableName=name, KeyConditionExpression="pk = :p",
                 ExpressionAttributeValues={":p": {"S": "x"}})
    expect_error("ResourceNotFoundException", ddb.update_table, TableName=name, BillingMode="PAY_PER_REQUEST")
    expect_error("ResourceNotFoundException", ddb.describe_time_to_live, TableName=name)
    expect_error("ResourceNotFoundException", ddb.list_tags_of_resource, ResourceArn=table_arn(name))


def test_table_arn_as_table_name(ddb):
    name = make_table(ddb)
    ddb.put_item(TableName=table_arn(name), Item={"pk": {"S": "by-arn"}})
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "by-arn"}})["Item"] == {"pk": {"S": "by-arn"}}
    assert describe(ddb, table_arn(name))["TableName"] == name


# ----------------------------------------------------------------------------------------------
# ListTables


def test_list_tables_paging(ddb):
    prefix = f"list-{uuid.uuid4().hex[:8]}"
    names = sorted(make_table(ddb, f"{prefix}-{i}", wait=False) for i in range(7))
    for name in names:
        wait_exists(ddb, name)
    everything = ddb.list_tables()["TableNames"]
    assert everything == sorted(everything)
    assert set(names) <= set(everything)

    seen, start, pages = [], None, 0
    while True:
        out = ddb.list_tables(Limit=3, **({"ExclusiveStartTableName": start} if start else {}))
        pages += 1
        assert len(out["TableNames"]) <= 3
        seen.extend(out["TableNames"])
        start = out.get("LastEvaluatedTableName")
        if not start:
            break
        assert start == out["TableNames"][-1]
        assert pages < 100
    assert seen == everything
    assert pages >= 3

    # Names after the one given, in order.
    after = ddb.list_tables(ExclusiveStartTableName=names[2], Limit=2)
    assert after["TableNames"] == [n for n in everything if n > names[2]][:2]

    paginated = [n for page in ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2})
                 for n in page["TableNames"]]
    assert paginated == everything


def test_list_tables_limit_bounds(raw_ddb):
    expect_error("ValidationException", raw_ddb.list_tables, Limit=0)
    expect_error("ValidationException", raw_ddb.list_tables, Limit=101)


# ----------------------------------------------------------------------------------------------
# DeleteTable


def test_delete_table(ddb):
    name = make_table(ddb)
    ddb.put_item(TableName=name, Item={"pk": {"S": "gone-soon"}})
    deleted = ddb.delete_table(TableName=name)["TableDescription"]
    assert deleted["TableName"] == name
    assert deleted["TableStatus"] == "DELETING"
    wait_not_exists(ddb, name)
    expect_error("ResourceNotFoundException", ddb.describe_table, TableName=name)
    assert name not in ddb.list_tables()["TableNames"]
    expect_error("ResourceNotFoundException", ddb.get_item, TableName=name, Key={"pk": {"S": "gone-soon"}})

    # The name is free again, and the new table starts empty.
    make_table(ddb, name)
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "gone-soon"}})
    assert ddb.scan(TableName=name)["Count"] == 0


def test_deletion_protection(ddb):
    name = make_table(ddb, DeletionProtectionEnabled=True)
    assert describe(ddb, name)["DeletionProtectionEnabled"] is True
    expect_error("ValidationException", ddb.delete_table, TableName=name)
    assert describe(ddb, name)["TableStatus"] == "ACTIVE"
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    wait_exists(ddb, name)
    ddb.delete_table(TableName=name)
    wait_not_exists(ddb, name)


def test_resource_create_and_delete(resource, ddb):
    name = unique_table("resource")
    table = resource.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "n", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists(WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    table.reload()
    assert table.table_status == "ACTIVE"
    assert table.key_schema == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}]
    assert name in [t.name for t in resource.tables.all()]
    table.delete()
    table.wait_until_not_exists(WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    expect_error("ResourceNotFoundException", ddb.describe_table, TableName=name)


# ----------------------------------------------------------------------------------------------
# UpdateTable


def test_update_billing_mode(ddb):
    on_demand = make_table(ddb)
    out = ddb.update_table(TableName=on_demand, BillingMode="PROVISIONED",
                           ProvisionedThroughput={"ReadCapacityUnits": 4, "WriteCapacityUnits": 2})
    assert out["TableDescription"]["TableName"] == on_demand
    wait_exists(ddb, on_demand)
    t = describe(ddb, on_demand)
    assert t["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 4
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 2

    provisioned = make_table(ddb, ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 3})
    ddb.put_item(TableName=provisioned, Item={"pk": {"S": "kept"}})
    ddb.update_table(TableName=provisioned, BillingMode="PAY_PER_REQUEST")
    wait_exists(ddb, provisioned)
    t = describe(ddb, provisioned)
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 0
    assert ddb.get_item(TableName=provisioned, Key={"pk": {"S": "kept"}})["Item"] == {"pk": {"S": "kept"}}

    # PROVISIONED needs its throughput.
    other = make_table(ddb)
    expect_error("ValidationException", ddb.update_table, TableName=other, BillingMode="PROVISIONED")
    assert describe(ddb, other)["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_update_add_and_remove_gsi(ddb):
    name = make_table(ddb)
    for i in range(6):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"p{i}"}, "team": {"S": "red" if i % 2 else "blue"},
                                           "n": {"N": str(i)}})
    ddb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "team", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by-team",
            "KeySchema": [{"AttributeName": "team", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }}],
    )

    def active():
        indexes = describe(ddb, name).get("GlobalSecondaryIndexes", [])
        return [i for i in indexes if i["IndexName"] == "by-team" and i["IndexStatus"] == "ACTIVE"]

    index = poll(active)[0]
    assert index["IndexArn"] == f"{table_arn(name)}/index/by-team"
    assert index["KeySchema"] == [{"AttributeName": "team", "KeyType": "HASH"}]
    wait_exists(ddb, name)

    # Items written before the index existed are in it (backfill).
    out = ddb.query(TableName=name, IndexName="by-team", KeyConditionExpression="team = :t",
                    ExpressionAttributeValues={":t": {"S": "red"}})
    assert sorted(i["pk"]["S"] for i in out["Items"]) == ["p1", "p3", "p5"]

    ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-team"}}])
    poll(lambda: not [i for i in describe(ddb, name).get("GlobalSecondaryIndexes", [])
                      if i["IndexName"] == "by-team"])
    wait_exists(ddb, name)
    message = expect_error("ValidationException", ddb.query, TableName=name, IndexName="by-team",
                           KeyConditionExpression="team = :t", ExpressionAttributeValues={":t": {"S": "red"}})
    assert message == "The table does not have the specified index: by-team"
    assert ddb.scan(TableName=name)["Count"] == 6


def test_update_sse_key(ddb_server, ddb):
    kms = ddb_server.client("kms")
    first = kms.create_key(Description="ddb first")["KeyMetadata"]
    second = kms.create_key(Description="ddb second")["KeyMetadata"]
    name = make_table(ddb, SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": first["KeyId"]})
    assert describe(ddb, name)["SSEDescription"] == {"Status": "ENABLED", "SSEType": "KMS",
                                                     "KMSMasterKeyArn": first["Arn"]}
    ddb.put_item(TableName=name, Item={"pk": {"S": "before"}, "v": {"S": "written under the first key"}})

    ddb.update_table(TableName=name, SSESpecification={"Enabled": True, "SSEType": "KMS",
                                                       "KMSMasterKeyId": second["Arn"]})
    sse = poll(lambda: (lambda d: d if d.get("Status") == "ENABLED" and d.get("KMSMasterKeyArn") == second["Arn"]
                        else None)(describe(ddb, name).get("SSEDescription", {})))
    assert sse == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": second["Arn"]}
    wait_exists(ddb, name)
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "before"}})["Item"]["v"] == {
        "S": "written under the first key"}
    ddb.put_item(TableName=name, Item={"pk": {"S": "after"}})
    assert ddb.scan(TableName=name)["Count"] == 2

    # From the customer managed key to the AWS managed key.
    ddb.update_table(TableName=name, SSESpecification={"Enabled": True, "SSEType": "KMS"})
    managed = key_arn(kms, "alias/aws/dynamodb")
    poll(lambda: describe(ddb, name).get("SSEDescription", {}).get("KMSMasterKeyArn") == managed)
    wait_exists(ddb, name)
    assert ddb.scan(TableName=name)["Count"] == 2


def test_default_encryption_has_no_sse_description(ddb):
    plain = make_table(ddb)
    assert "SSEDescription" not in describe(ddb, plain)
    disabled = make_table(ddb, SSESpecification={"Enabled": False})
    assert "SSEDescription" not in describe(ddb, disabled)
    ddb.put_item(TableName=disabled, Item={"pk": {"S": "x"}})
    assert ddb.get_item(TableName=disabled, Key={"pk": {"S": "x"}})["Item"] == {"pk": {"S": "x"}}


def test_aws_managed_key(ddb_server, ddb):
    kms = ddb_server.client("kms")
    name = make_table(ddb, SSESpecification={"Enabled": True})
    sse = describe(ddb, name)["SSEDescription"]
    aliases = {a["AliasName"]: a for a in kms.list_aliases()["Aliases"]}
    assert "alias/aws/dynamodb" in aliases
    managed = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS"
    assert aliases["alias/aws/dynamodb"]["TargetKeyId"] == managed["KeyId"]
    assert sse == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": managed["Arn"]}

    # A second table uses the same AWS managed key, whether SSEType is given or not.
    again = make_table(ddb, SSESpecification={"Enabled": True, "SSEType": "KMS"})
    assert describe(ddb, again)["SSEDescription"]["KMSMasterKeyArn"] == managed["Arn"]
    ddb.put_item(TableName=again, Item={"pk": {"S": "x"}, "secret": {"S": "managed"}})
    assert ddb.get_item(TableName=again, Key={"pk": {"S": "x"}})["Item"]["secret"] == {"S": "managed"}


def test_customer_key_by_id_arn_and_alias(ddb_server, ddb):
    kms = ddb_server.client("kms")
    key = kms.create_key(Description="ddb by alias")["KeyMetadata"]
    alias = f"alias/ddb-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    alias_arn = f"arn:aws:kms:eu-west-1:{ACCOUNT}:{alias}"
    for key_id in (key["KeyId"], key["Arn"], alias, alias_arn):
        name = make_table(ddb, SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_id})
        assert describe(ddb, name)["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"], key_id


def test_unusable_key_is_refused(ddb_server, ddb):
    kms = ddb_server.client("kms")
    disabled = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    # AWS answers a key it cannot use with a 400 (ValidationException, or an access-denied error naming
    # KMS); either way no table is left behind.
    for key_id in ("alias/ddb-no-such-alias", str(uuid.uuid4()), disabled["KeyId"]):
        name = unique_table("bad-key")
        response = error_response(ddb.create_table, TableName=name, BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                  SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_id})
        assert response["Error"]["Code"] in (
            "ValidationException", "AccessDeniedException", "KMSAccessDeniedException"), (key_id, response)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
        expect_error("ResourceNotFoundException", ddb.describe_table, TableName=name)


# ----------------------------------------------------------------------------------------------
# Tags


def test_tags(ddb):
    name = make_table(ddb, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "gates"}])
    arn = table_arn(name)

    def tags():
        return sorted((t["Key"], t["Value"]) for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"])

    assert tags() == [("env", "prod"), ("team", "gates")]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "cost", "Value": "can2025"}, {"Key": "env", "Value": "staging"}])
    assert tags() == [("cost", "can2025"), ("env", "staging"), ("team", "gates")]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team", "not-there"])
    assert tags() == [("cost", "can2025"), ("env", "staging")]
    paged = [t["Key"] for page in ddb.get_paginator("list_tags_of_resource").paginate(ResourceArn=arn)
             for t in page["Tags"]]
    assert sorted(paged) == ["cost", "env"]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["cost", "env"])
    assert ddb.list_tags_of_resource(ResourceArn=arn).get("Tags", []) == []

    missing = table_arn(unique_table("no-tags"))
    expect_error("ResourceNotFoundException", ddb.tag_resource, ResourceArn=missing,
                 Tags=[{"Key": "a", "Value": "b"}])
    expect_error("ResourceNotFoundException", ddb.untag_resource, ResourceArn=missing, TagKeys=["a"])


# ----------------------------------------------------------------------------------------------
# Time to Live


def test_time_to_live(ddb):
    name = make_table(ddb)
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    out = ddb.update_time_to_live(TableName=name,
                                  TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
    assert out["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expiresAt"}
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] in ("ENABLING", "ENABLED")
    assert ttl["AttributeName"] == "expiresAt"
    # Enabling again is refused.
    expect_error("ValidationException", ddb.update_time_to_live, TableName=name,
                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["AttributeName"] == "expiresAt"
