"""DynamoDB's limits and rules as AWS applies them, through boto3: request bodies up to 16 MB, key
attribute sizes, key schemas and index definitions, UpdateTable's own rules, settings m2sec does not
offer, UPDATED_OLD/UPDATED_NEW of nested paths, Query's and Scan's ExclusiveStartKey, a transaction
element of one action and an impossible update cancelling its transaction, local indexes reading
from the table, time to live of long-past expiry times, ConsumedCapacity of every item call, placeholder
maps without expressions."""
import time
from functools import partial

import pytest

from dynamodb_support import (  # noqa: F401  (fixtures)
    ddb,
    ddb_server,
    expect_error,
    make_table,
    raw_ddb,
    table_arn,
    unique_table,
)

INVALID = "One or more parameter values were invalid: "


@pytest.fixture(scope="module")
def table(ddb):
    return make_table(ddb)


@pytest.fixture(scope="module")
def sorted_table(ddb):
    return make_table(ddb, range_key=("sk", "N"))


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def test_batch_and_transaction_bodies_up_to_16_mb(ddb, table):
    # 25 items of 60 KB: 1.5 MB of request, over the 1 MiB every other service takes.
    requests = [{"PutRequest": {"Item": {"pk": S(f"big-{i}"), "d": S("x" * 60_000)}}} for i in range(25)]
    out = ddb.batch_write_item(RequestItems={table: requests})
    assert out["UnprocessedItems"] == {}
    assert ddb.get_item(TableName=table, Key={"pk": S("big-24")})["Item"]["d"]["S"] == "x" * 60_000
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": S(f"tx-big-{i}"), "d": S("y" * 390_000)}}} for i in range(3)
    ])
    assert len(ddb.get_item(TableName=table, Key={"pk": S("tx-big-2")})["Item"]["d"]["S"]) == 390_000
    # An item over 400 KB in a body DynamoDB takes: its own ValidationException, not a 413.
    message = expect_error("ValidationException", ddb.put_item, TableName=table,
                           Item={"pk": S("huge"), "d": S("z" * 1_500_000)})
    assert "Item size has exceeded the maximum allowed size" in message


def test_key_attribute_sizes(ddb, table, sorted_table):
    ddb.put_item(TableName=table, Item={"pk": S("a" * 2048)})
    message = expect_error("ValidationException", ddb.put_item, TableName=table, Item={"pk": S("a" * 2049)})
    assert message == INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
    # Bytes, not characters: 683 three-byte characters are 2049 bytes.
    expect_error("ValidationException", ddb.put_item, TableName=table, Item={"pk": S("€" * 683)})
    expect_error("ValidationException", ddb.get_item, TableName=table, Key={"pk": S("a" * 2049)})
    ddb.put_item(TableName=sorted_table, Item={"pk": S("p"), "sk": N(1), "v": S("v" * 5000)})
    binary = make_table(ddb, range_key=("sk", "B"))
    ddb.put_item(TableName=binary, Item={"pk": S("p"), "sk": {"B": b"b" * 1024}})
    message = expect_error("ValidationException", ddb.put_item, TableName=binary,
                           Item={"pk": S("p"), "sk": {"B": b"b" * 1025}})
    assert message == INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"


def test_index_key_sizes(ddb):
    name = make_table(ddb, attributes=[("g", "S")], GlobalSecondaryIndexes=[{
        "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    ddb.put_item(TableName=name, Item={"pk": S("ok"), "g": S("g" * 2048)})
    message = expect_error("ValidationException", ddb.put_item, TableName=name,
                           Item={"pk": S("too-long"), "g": S("g" * 3000)})
    assert "Size of hashkey has exceeded" in message
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": S("too-long")})


def create(ddb, **kw):
    kw.setdefault("TableName", unique_table())
    kw.setdefault("BillingMode", "PAY_PER_REQUEST")
    return ddb.create_table(**kw)


def hash_range(h="pk", r="sk"):
    return [{"AttributeName": h, "KeyType": "HASH"}, {"AttributeName": r, "KeyType": "RANGE"}]


def test_key_schema_rules(raw_ddb):
    defs = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
    message = expect_error("ValidationException", partial(create, raw_ddb), AttributeDefinitions=defs[:1],
                           KeySchema=hash_range("pk", "pk"))
    assert message == "Both the Hash Key and the Range Key element in the KeySchema have the same name"
    message = expect_error("ValidationException", partial(create, raw_ddb), AttributeDefinitions=defs,
                           KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                      {"AttributeName": "sk", "KeyType": "HASH"}])
    assert message == "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
    message = expect_error("ValidationException", partial(create, raw_ddb), AttributeDefinitions=defs,
                           KeySchema=[{"AttributeName": "sk", "KeyType": "RANGE"},
                                      {"AttributeName": "pk", "KeyType": "HASH"}])
    assert message == "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
    message = expect_error("ValidationException", partial(create, raw_ddb),
                           AttributeDefinitions=[defs[0], {"AttributeName": "pk", "AttributeType": "N"}],
                           KeySchema=hash_range()[:1])
    assert message == "Cannot have two attributes with the same name"


def test_index_definition_rules(raw_ddb):
    defs = [{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "g")]

    def gsi(name="gsi-1", projection=None):
        return {"IndexName": name, "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": projection or {"ProjectionType": "ALL"}}

    message = expect_error("ValidationException", partial(create, raw_ddb), AttributeDefinitions=defs, KeySchema=hash_range(),
                           GlobalSecondaryIndexes=[gsi(projection={"ProjectionType": "INCLUDE"})])
    assert message == INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified"
    message = expect_error("ValidationException", partial(create, raw_ddb), AttributeDefinitions=defs, KeySchema=hash_range(),
                           GlobalSecondaryIndexes=[gsi(projection={"ProjectionType": "KEYS_ONLY",
                                                                    "NonKeyAttributes": ["v"]})])
    assert message == INVALID + "ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified"
    message = expect_error("ValidationException", partial(create, raw_ddb), AttributeDefinitions=defs, KeySchema=hash_range(),
                           GlobalSecondaryIndexes=[gsi(f"gsi-{i}") for i in range(21)])
    assert "GlobalSecondaryIndex count exceeds the per-table limit of 20" in message
    lsis = [{"IndexName": f"lsi-{i}", "KeySchema": hash_range("pk", "g"), "Projection": {"ProjectionType": "ALL"}}
            for i in range(6)]
    message = expect_error("ValidationException", partial(create, raw_ddb), AttributeDefinitions=defs, KeySchema=hash_range(),
                           LocalSecondaryIndexes=lsis)
    assert "Number of LocalSecondaryIndexes exceeds per-table limit of 5" in message
    message = expect_error("ValidationException", partial(create, raw_ddb), AttributeDefinitions=defs, KeySchema=hash_range(),
                           LocalSecondaryIndexes=[{"IndexName": "lsi", "KeySchema": hash_range("pk", "g")[:1],
                                                   "Projection": {"ProjectionType": "ALL"}}])
    assert "Index KeySchema does not have a range key for index: lsi" in message
    message = expect_error("ValidationException", partial(create, raw_ddb), AttributeDefinitions=defs, KeySchema=hash_range(),
                           GlobalSecondaryIndexes=[])
    assert message == INVALID + "List of GlobalSecondaryIndexes is empty"
    include = [gsi(f"inc-{i}", {"ProjectionType": "INCLUDE", "NonKeyAttributes": [f"a{i}-{j}" for j in range(20)]})
               for i in range(6)]
    message = expect_error("ValidationException", partial(create, raw_ddb), AttributeDefinitions=defs, KeySchema=hash_range(),
                           GlobalSecondaryIndexes=include)
    assert "more than the limit of 100" in message


def test_settings_m2sec_does_not_offer_are_refused(raw_ddb, ddb, table):
    defs = [{"AttributeName": "pk", "AttributeType": "S"}]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    name = unique_table()
    message = expect_error("UnsupportedOperationException", partial(create, raw_ddb), TableName=name,
                           AttributeDefinitions=defs, KeySchema=schema,
                           StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    assert "Streams" in message
    assert name not in ddb.list_tables()["TableNames"]
    expect_error("UnsupportedOperationException", partial(create, raw_ddb), AttributeDefinitions=defs, KeySchema=schema,
                 ResourcePolicy="{}")
    expect_error("UnsupportedOperationException", partial(create, raw_ddb), AttributeDefinitions=defs,
                 KeySchema=schema, GlobalTableSourceArn="arn:aws:dynamodb:us-east-1:000000000000:table/source")
    # A stream turned off is no stream: accepted.
    create(raw_ddb, AttributeDefinitions=defs, KeySchema=schema, StreamSpecification={"StreamEnabled": False})
    expect_error("UnsupportedOperationException", ddb.update_table, TableName=table,
                 StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    expect_error("UnsupportedOperationException", ddb.update_table, TableName=table,
                 ReplicaUpdates=[{"Create": {"RegionName": "us-east-1"}}])


def test_update_table_rules(ddb):
    name = make_table(ddb)
    message = expect_error("ValidationException", ddb.update_table, TableName=name)
    assert message.startswith("At least one of ProvisionedThroughput, BillingMode")

    def create(index, key):
        return {"Create": {"IndexName": index, "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
                           "Projection": {"ProjectionType": "ALL"}}}

    message = expect_error("LimitExceededException", ddb.update_table, TableName=name,
                           AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in "ab"],
                           GlobalSecondaryIndexUpdates=[create("by-a", "a"), create("by-b", "b")])
    assert "Only 1 online index can be created or deleted simultaneously per table" in message
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=name)["Table"]


def test_updated_values_of_nested_paths(ddb, table):
    item = {"pk": S("nested"), "top": N(1),
            "m": {"M": {"a": N(1), "b": N(2), "c": {"L": [N(1), N(2), N(3)]}}}}
    ddb.put_item(TableName=table, Item=item)
    key = {"pk": S("nested")}
    out = ddb.update_item(TableName=table, Key=key, UpdateExpression="SET m.a = :v, top = top + :v",
                          ExpressionAttributeValues={":v": N(9)}, ReturnValues="UPDATED_NEW")
    assert out["Attributes"] == {"m": {"M": {"a": N(9)}}, "top": N(10)}
    out = ddb.update_item(TableName=table, Key=key, UpdateExpression="SET m.c[1] = :v",
                          ExpressionAttributeValues={":v": N(7)}, ReturnValues="UPDATED_OLD")
    assert out["Attributes"] == {"m": {"M": {"c": {"L": [N(2)]}}}}
    out = ddb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE m.b", ReturnValues="UPDATED_OLD")
    assert out["Attributes"] == {"m": {"M": {"b": N(2)}}}
    # Nothing left at a removed path: UPDATED_NEW has nothing to answer.
    out = ddb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE m.a", ReturnValues="UPDATED_NEW")
    assert "Attributes" not in out


def test_query_exclusive_start_key_is_checked(ddb, sorted_table):
    for sk in range(1, 6):
        ddb.put_item(TableName=sorted_table, Item={"pk": S("esk"), "sk": N(sk)})
    ddb.put_item(TableName=sorted_table, Item={"pk": S("other"), "sk": N(1)})
    query = dict(TableName=sorted_table, KeyConditionExpression="pk = :p AND sk < :s",
                 ExpressionAttributeValues={":p": S("esk"), ":s": N(4)}, Limit=1)
    page = ddb.query(**query)
    assert ddb.query(**query, ExclusiveStartKey=page["LastEvaluatedKey"])["Items"] == [{"pk": S("esk"), "sk": N(2)}]
    invalid = "The provided starting key is invalid: The provided key element does not match the schema"
    for start in ({"pk": S("esk"), "sk": S("2")}, {"pk": S("esk")}, {"pk": S("esk"), "sk": N(2), "x": S("y")}):
        assert expect_error("ValidationException", ddb.query, **query, ExclusiveStartKey=start) == invalid
    outside = "The provided starting key is outside query boundaries based on provided conditions"
    for start in ({"pk": S("other"), "sk": N(1)}, {"pk": S("esk"), "sk": N(5)}):
        assert expect_error("ValidationException", ddb.query, **query, ExclusiveStartKey=start) == outside


def test_a_transaction_element_holds_one_action(raw_ddb, ddb, table):
    message = expect_error("ValidationException", raw_ddb.transact_write_items, TransactItems=[{
        "Put": {"TableName": table, "Item": {"pk": S("one-of")}},
        "Delete": {"TableName": table, "Key": {"pk": S("one-of-2")}},
    }])
    assert message == "TransactItems can only contain one of Check, Put, Update or Delete"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": S("one-of")})


def test_expiry_times_more_than_five_years_old_never_expire(fresh_server):
    server = fresh_server(env={"M2SEC_SCHEDULER_INTERVAL_SECS": "1"}).start()
    ddb = server.client("dynamodb")
    name = make_table(ddb)
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    now = int(time.time())
    ddb.put_item(TableName=name, Item={"pk": S("ancient"), "exp": N(now - 6 * 365 * 86400)})
    ddb.put_item(TableName=name, Item={"pk": S("expired"), "exp": N(now - 60)})
    deadline = time.time() + 30
    while "Item" in ddb.get_item(TableName=name, Key={"pk": S("expired")}):
        assert time.time() < deadline, "the expired item was never removed"
        time.sleep(0.5)
    # As in DynamoDB: an expiry time over five years old is taken for some other time.
    assert "Item" in ddb.get_item(TableName=name, Key={"pk": S("ancient")})


def test_delete_item_consumed_capacity(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": S("cc")})
    out = ddb.delete_item(TableName=table, Key={"pk": S("cc")}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["TableName"] == table
    assert out["ConsumedCapacity"]["CapacityUnits"] >= 1


def test_a_local_index_reads_unprojected_attributes_from_the_table(ddb):
    name = make_table(ddb, range_key=("sk", "N"), attributes=[("lsk", "S")], LocalSecondaryIndexes=[{
        "IndexName": "by-lsk", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                             {"AttributeName": "lsk", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    ddb.put_item(TableName=name, Item={"pk": S("p"), "sk": N(1), "lsk": S("a"), "v": S("from the table")})
    out = ddb.query(TableName=name, IndexName="by-lsk", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": S("p")}, ProjectionExpression="v, lsk")
    assert out["Items"] == [{"v": S("from the table"), "lsk": S("a")}]
    out = ddb.scan(TableName=name, IndexName="by-lsk", ProjectionExpression="v")
    assert out["Items"] == [{"v": S("from the table")}]
    # Without a projection, the index's own attributes only.
    out = ddb.query(TableName=name, IndexName="by-lsk", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": S("p")})
    assert out["Items"] == [{"pk": S("p"), "sk": N(1), "lsk": S("a")}]


def test_an_impossible_update_cancels_its_transaction_with_a_reason(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": S("tv"), "s": S("text")})
    response = None
    try:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": S("tv-2")}}},
            {"Update": {"TableName": table, "Key": {"pk": S("tv")}, "UpdateExpression": "SET s = s + :one",
                        "ExpressionAttributeValues": {":one": N(1)}}},
        ])
    except ddb.exceptions.TransactionCanceledException as e:
        response = e.response
    assert response is not None, "the transaction was not cancelled"
    reasons = response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ValidationError"]
    assert "incorrect data type" in reasons[1]["Message"]
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": S("tv-2")})


def test_consumed_capacity_of_batches_and_transactions(ddb, table):
    out = ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"pk": S(f"cc-{i}")}}}
                                                     for i in range(3)]},
                               ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 3.0}]
    out = ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": S(f"cc-{i}")} for i in range(3)],
                                                   "ConsistentRead": True}},
                             ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 3.0}]
    out = ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {"pk": S("cc-t")}}}],
                                   ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2.0}]
    out = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": {"pk": S("cc-t")}}}],
                                 ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2.0}]
    assert "ConsumedCapacity" not in ddb.batch_write_item(
        RequestItems={table: [{"DeleteRequest": {"Key": {"pk": S("cc-0")}}}]})


def test_placeholder_maps_without_expressions(raw_ddb, ddb, table):
    message = expect_error("ValidationException", ddb.put_item, TableName=table, Item={"pk": S("ph")},
                           ExpressionAttributeValues={":a": S("x")})
    assert message == "ExpressionAttributeValues can only be specified when using expressions"
    message = expect_error("ValidationException", ddb.get_item, TableName=table, Key={"pk": S("ph")},
                           ExpressionAttributeNames={"#a": "a"})
    assert message == "ExpressionAttributeNames can only be specified when using expressions"
    message = expect_error("ValidationException", raw_ddb.get_item, TableName=table, Key={"pk": S("ph")},
                           ProjectionExpression="#e", ExpressionAttributeNames={"#e": ""})
    assert message == "ExpressionAttributeNames contains invalid value: Empty attribute name for key #e"


def test_batch_write_of_more_than_25_over_two_tables(ddb, table, sorted_table):
    message = expect_error("ValidationException", ddb.batch_write_item, RequestItems={
        table: [{"PutRequest": {"Item": {"pk": S(f"b{i}")}}} for i in range(20)],
        sorted_table: [{"PutRequest": {"Item": {"pk": S("b"), "sk": N(i)}}} for i in range(20)],
    })
    assert message == "Too many items requested for the BatchWriteItem call"


def test_scan_exclusive_start_key_is_checked(ddb, table):
    for i in range(20):
        ddb.put_item(TableName=table, Item={"pk": S(f"seg-{i}")})
    first = ddb.scan(TableName=table, Segment=0, TotalSegments=2, Limit=1)
    start = first["LastEvaluatedKey"]
    expect_error("ValidationException", ddb.scan, TableName=table, ExclusiveStartKey={**start, "x": S("y")})
    message = expect_error("ValidationException", ddb.scan, TableName=table, Segment=1, TotalSegments=2,
                           ExclusiveStartKey=start)
    assert message == "The provided Exclusive start key does not map to the provided Segment and TotalSegments values"
    ddb.scan(TableName=table, Segment=0, TotalSegments=2, ExclusiveStartKey=start)


def test_a_table_arn_of_another_region_or_account_names_no_table(ddb, table):
    assert ddb.describe_table(TableName=table_arn(table))["Table"]["TableName"] == table
    ddb.get_item(TableName=table_arn(table), Key={"pk": S("nothing")})
    for arn in (table_arn(table, region="us-east-1"), table_arn(table).replace(":000000000000:", ":111111111111:")):
        expect_error("ResourceNotFoundException", ddb.describe_table, TableName=arn)
        expect_error("ResourceNotFoundException", ddb.get_item, TableName=arn, Key={"pk": S("nothing")})
        expect_error("ResourceNotFoundException", ddb.delete_table, TableName=arn)
        expect_error("ResourceNotFoundException", ddb.update_table, TableName=arn, DeletionProtectionEnabled=False)
    assert ddb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"


def test_an_index_built_over_items_leaves_out_those_it_cannot_hold(ddb):
    name = make_table(ddb)
    ddb.put_item(TableName=name, Item={"pk": S("fits"), "title": S("short")})
    ddb.put_item(TableName=name, Item={"pk": S("too-long"), "title": S("t" * 1500)})
    ddb.put_item(TableName=name, Item={"pk": S("a-number"), "title": N(7)})
    ddb.update_table(TableName=name, AttributeDefinitions=[{"AttributeName": "title", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {
                         "IndexName": "by-title",
                         "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "title", "KeyType": "RANGE"}],
                         "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    indexed = ddb.scan(TableName=name, IndexName="by-title")["Items"]
    assert [i["pk"]["S"] for i in indexed] == ["fits"]
    # The items themselves are untouched, and a new write is held to the index's rules.
    assert ddb.get_item(TableName=name, Key={"pk": S("too-long")})["Item"]["title"] == S("t" * 1500)
    expect_error("ValidationException", ddb.put_item, TableName=name, Item={"pk": S("new"), "title": S("t" * 1500)})


def test_a_refused_index_update_leaves_every_index_whole(ddb):
    name = make_table(ddb, attributes=[("g", "S")], GlobalSecondaryIndexes=[{
        "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}}])
    ddb.put_item(TableName=name, Item={"pk": S("x"), "g": S("g1")})
    expect_error("ResourceNotFoundException", ddb.update_table, TableName=name, GlobalSecondaryIndexUpdates=[
        {"Delete": {"IndexName": "by-g"}},
        {"Update": {"IndexName": "missing", "ProvisionedThroughput": {"ReadCapacityUnits": 1,
                                                                       "WriteCapacityUnits": 1}}},
    ])
    out = ddb.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": S("g1")})
    assert [i["pk"]["S"] for i in out["Items"]] == ["x"]


def test_throughput_that_would_not_change_is_refused(ddb):
    name = make_table(ddb, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})
    message = expect_error("ValidationException", ddb.update_table, TableName=name,
                           ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})
    assert message.startswith("The provisioned throughput for the table will not change. The requested value "
                              "equals the current value. Current ReadCapacityUnits provisioned for the table: 5.")
    ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 6, "WriteCapacityUnits": 7})
    assert ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 6
