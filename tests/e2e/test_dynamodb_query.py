"""DynamoDB Query and Scan through boto3: key conditions (=, BETWEEN, begins_with, comparisons), sort
order of S/N/B sort keys, ScanIndexForward, Limit with LastEvaluatedKey / ExclusiveStartKey paging (and
boto3's paginators), Select COUNT, filter expressions (Count vs ScannedCount), queries on global and
local secondary indexes with their projections, the 1 MB page, and parallel scans."""
import os
from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr, Key

from dynamodb_support import (  # noqa: F401  (fixtures)
    ddb,
    ddb_server,
    expect_error,
    make_table,
    pages_of,
    query_all,
    resource,
    scan_all,
)


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def sks(items, name="sk"):
    return [next(iter(i[name].values())) for i in items]


@pytest.fixture(scope="module")
def orders(ddb):
    """pk/sk (S/S): customer c1 has 7 orders o#01..o#07, c2 has 3, and a few odd sort keys under c3."""
    name = make_table(ddb, range_key=("sk", "S"))
    for i in range(1, 8):
        ddb.put_item(TableName=name, Item={"pk": S("c1"), "sk": S(f"o#{i:02d}"), "amount": N(i * 10),
                                           "paid": {"BOOL": i % 2 == 0}})
    for i in range(1, 4):
        ddb.put_item(TableName=name, Item={"pk": S("c2"), "sk": S(f"o#{i:02d}"), "amount": N(i)})
    for sk in ("a", "B", "ab", "b", "é", "Z"):
        ddb.put_item(TableName=name, Item={"pk": S("c3"), "sk": S(sk)})
    return name


def q(ddb, table, cond, values, **kw):
    return ddb.query(TableName=table, KeyConditionExpression=cond, ExpressionAttributeValues=values, **kw)


def test_partition_only(ddb, orders):
    out = q(ddb, orders, "pk = :p", {":p": S("c2")})
    assert sks(out["Items"]) == ["o#01", "o#02", "o#03"]
    assert out["Count"] == 3 and out["ScannedCount"] == 3
    assert "LastEvaluatedKey" not in out
    assert q(ddb, orders, "pk = :p", {":p": S("nobody")})["Items"] == []


def test_table_without_sort_key(ddb):
    """A partition of a table without a sort key is one item: Query finds it (and its later writes),
    filters it, counts it, and finds nothing once it is deleted."""
    name = make_table(ddb)
    for pk, n in (("a", 1), ("b", 2)):
        ddb.put_item(TableName=name, Item={"pk": S(pk), "n": N(n)})
    out = q(ddb, name, "pk = :p", {":p": S("a")})
    assert out["Items"] == [{"pk": S("a"), "n": N(1)}]
    assert out["Count"] == 1 and out["ScannedCount"] == 1
    ddb.update_item(TableName=name, Key={"pk": S("a")}, UpdateExpression="SET n = :n",
                    ExpressionAttributeValues={":n": N(5)})
    assert q(ddb, name, "pk = :p", {":p": S("a")})["Items"] == [{"pk": S("a"), "n": N(5)}]
    filtered = q(ddb, name, "pk = :p", {":p": S("a"), ":m": N(5)}, FilterExpression="n > :m")
    assert filtered["Items"] == [] and filtered["Count"] == 0 and filtered["ScannedCount"] == 1
    assert q(ddb, name, "pk = :p", {":p": S("b")}, Select="COUNT")["Count"] == 1
    assert q(ddb, name, "pk = :p", {":p": S("c")})["Items"] == []
    ddb.delete_item(TableName=name, Key={"pk": S("a")})
    assert q(ddb, name, "pk = :p", {":p": S("a")})["Count"] == 0
    assert [i["pk"]["S"] for i in scan_all(ddb, TableName=name)] == ["b"]


def test_sort_key_conditions(ddb, orders):
    c1 = {":p": S("c1")}
    assert sks(q(ddb, orders, "pk = :p AND sk BETWEEN :a AND :b", {**c1, ":a": S("o#02"), ":b": S("o#04")})[
        "Items"]) == ["o#02", "o#03", "o#04"]
    assert sks(q(ddb, orders, "pk = :p AND begins_with(sk, :pre)", {**c1, ":pre": S("o#0")})["Items"]) == [
        f"o#{i:02d}" for i in range(1, 8)]
    assert sks(q(ddb, orders, "pk = :p AND sk < :x", {**c1, ":x": S("o#03")})["Items"]) == ["o#01", "o#02"]
    assert sks(q(ddb, orders, "pk = :p AND sk <= :x", {**c1, ":x": S("o#03")})["Items"]) == [
        "o#01", "o#02", "o#03"]
    assert sks(q(ddb, orders, "pk = :p AND sk > :x", {**c1, ":x": S("o#06")})["Items"]) == ["o#07"]
    assert sks(q(ddb, orders, "pk = :p AND sk >= :x", {**c1, ":x": S("o#06")})["Items"]) == ["o#06", "o#07"]
    assert sks(q(ddb, orders, "pk = :p AND sk = :x", {**c1, ":x": S("o#05")})["Items"]) == ["o#05"]
    # Placeholders and parentheses are fine in key conditions too.
    out = ddb.query(TableName=orders, KeyConditionExpression="(#p = :p) AND (begins_with(#s, :pre))",
                    ExpressionAttributeNames={"#p": "pk", "#s": "sk"},
                    ExpressionAttributeValues={":p": S("c2"), ":pre": S("o#0")})
    assert out["Count"] == 3


def test_string_sort_order_is_bytewise(ddb, orders):
    out = q(ddb, orders, "pk = :p", {":p": S("c3")})
    assert sks(out["Items"]) == ["B", "Z", "a", "ab", "b", "é"]
    out = q(ddb, orders, "pk = :p", {":p": S("c3")}, ScanIndexForward=False)
    assert sks(out["Items"]) == ["é", "b", "ab", "a", "Z", "B"]


def test_number_and_binary_sort_order(ddb):
    numbers = make_table(ddb, range_key=("n", "N"))
    for v in ("10", "-5", "2", "1.5", "-0.5", "100", "0"):
        ddb.put_item(TableName=numbers, Item={"pk": S("p"), "n": N(v)})
    out = q(ddb, numbers, "pk = :p", {":p": S("p")})
    assert sks(out["Items"], "n") == ["-5", "-0.5", "0", "1.5", "2", "10", "100"]
    out = q(ddb, numbers, "pk = :p AND n BETWEEN :a AND :b", {":p": S("p"), ":a": N(-1), ":b": N(5)},
            ScanIndexForward=False)
    assert sks(out["Items"], "n") == ["2", "1.5", "0", "-0.5"]

    binaries = make_table(ddb, range_key=("b", "B"))
    for v in (b"\xff", b"\x00", b"\x01\x00", b"\x01", b"\x7f"):
        ddb.put_item(TableName=binaries, Item={"pk": S("p"), "b": {"B": v}})
    out = q(ddb, binaries, "pk = :p", {":p": S("p")})
    assert [i["b"]["B"] for i in out["Items"]] == [b"\x00", b"\x01", b"\x01\x00", b"\x7f", b"\xff"]
    out = q(ddb, binaries, "pk = :p AND begins_with(b, :pre)", {":p": S("p"), ":pre": {"B": b"\x01"}})
    assert [i["b"]["B"] for i in out["Items"]] == [b"\x01", b"\x01\x00"]


def test_scan_index_forward_false(ddb, orders):
    out = q(ddb, orders, "pk = :p", {":p": S("c1")}, ScanIndexForward=False, Limit=2)
    assert sks(out["Items"]) == ["o#07", "o#06"]
    assert out["LastEvaluatedKey"] == {"pk": S("c1"), "sk": S("o#06")}
    out = q(ddb, orders, "pk = :p", {":p": S("c1")}, ScanIndexForward=False, Limit=2,
            ExclusiveStartKey=out["LastEvaluatedKey"])
    assert sks(out["Items"]) == ["o#05", "o#04"]


def test_query_paging(ddb, orders):
    pages = pages_of(ddb.query, TableName=orders, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": S("c1")}, Limit=3)
    assert [len(p["Items"]) for p in pages] == [3, 3, 1]
    assert pages[0]["LastEvaluatedKey"] == {"pk": S("c1"), "sk": S("o#03")}
    assert pages[1]["LastEvaluatedKey"] == {"pk": S("c1"), "sk": S("o#06")}
    assert sks([i for p in pages for i in p["Items"]]) == [f"o#{i:02d}" for i in range(1, 8)]

    paginator = ddb.get_paginator("query")
    collected = paginator.paginate(TableName=orders, KeyConditionExpression="pk = :p",
                                   ExpressionAttributeValues={":p": S("c1")},
                                   PaginationConfig={"PageSize": 2}).build_full_result()
    assert sks(collected["Items"]) == [f"o#{i:02d}" for i in range(1, 8)]
    assert collected["Count"] == 7

    # An ExclusiveStartKey that is not an item still positions the query.
    out = q(ddb, orders, "pk = :p", {":p": S("c1")}, ExclusiveStartKey={"pk": S("c1"), "sk": S("o#04x")})
    assert sks(out["Items"]) == ["o#05", "o#06", "o#07"]


def test_select_count(ddb, orders):
    out = q(ddb, orders, "pk = :p", {":p": S("c1")}, Select="COUNT")
    assert out["Count"] == 7 and out["ScannedCount"] == 7
    assert "Items" not in out
    out = q(ddb, orders, "pk = :p", {":p": S("c1"), ":t": {"BOOL": True}}, Select="COUNT",
            FilterExpression="paid = :t")
    assert out["Count"] == 3 and out["ScannedCount"] == 7


def test_filter_expression(ddb, orders):
    out = ddb.query(TableName=orders, KeyConditionExpression="pk = :p", FilterExpression="amount > :a",
                    ExpressionAttributeValues={":p": S("c1"), ":a": N(45)})
    assert sks(out["Items"]) == ["o#05", "o#06", "o#07"]
    assert out["Count"] == 3 and out["ScannedCount"] == 7
    # Limit counts items read, before the filter.
    out = ddb.query(TableName=orders, KeyConditionExpression="pk = :p", FilterExpression="amount > :a",
                    ExpressionAttributeValues={":p": S("c1"), ":a": N(45)}, Limit=4)
    assert out["ScannedCount"] == 4 and out["Count"] == 0 and out["Items"] == []
    assert out["LastEvaluatedKey"] == {"pk": S("c1"), "sk": S("o#04")}
    # A filter may not name a key attribute in a query.
    expect_error("ValidationException", ddb.query, TableName=orders, KeyConditionExpression="pk = :p",
                 FilterExpression="sk = :s", ExpressionAttributeValues={":p": S("c1"), ":s": S("o#01")})


def test_key_condition_errors(ddb, orders):
    message = expect_error("ValidationException", ddb.query, TableName=orders, KeyConditionExpression="sk = :s",
                           ExpressionAttributeValues={":s": S("o#01")})
    assert message == "Query condition missed key schema element: pk"
    message = expect_error("ValidationException", ddb.query, TableName=orders,
                           KeyConditionExpression="pk = :p OR sk = :s",
                           ExpressionAttributeValues={":p": S("c1"), ":s": S("o#01")})
    assert message == "Invalid operator used in KeyConditionExpression: OR"
    expect_error("ValidationException", ddb.query, TableName=orders, KeyConditionExpression="amount = :a",
                 ExpressionAttributeValues={":a": N(1)})
    expect_error("ValidationException", ddb.query, TableName=orders, KeyConditionExpression="pk = :p",
                 ExpressionAttributeValues={":p": N(1)})
    expect_error("ValidationException", ddb.query, TableName=orders)
    message = expect_error("ValidationException", ddb.query, TableName=orders, IndexName="nope",
                           KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": S("c1")})
    assert message == "The table does not have the specified index: nope"


def test_resource_query_and_paginators(resource, orders):
    t = resource.Table(orders)
    out = t.query(KeyConditionExpression=Key("pk").eq("c1") & Key("sk").between("o#03", "o#05"))
    assert [i["sk"] for i in out["Items"]] == ["o#03", "o#04", "o#05"]
    assert out["Items"][0]["amount"] == Decimal(30)
    out = t.query(KeyConditionExpression=Key("pk").eq("c1") & Key("sk").begins_with("o#0"),
                  FilterExpression=Attr("paid").eq(True), ScanIndexForward=False)
    assert [i["sk"] for i in out["Items"]] == ["o#06", "o#04", "o#02"]
    out = t.query(KeyConditionExpression=Key("pk").eq("c1") & Key("sk").lt("o#02"), ProjectionExpression="amount")
    assert out["Items"] == [{"amount": Decimal(10)}]
    paginator = resource.meta.client.get_paginator("query")
    pages = list(paginator.paginate(TableName=orders, KeyConditionExpression=Key("pk").eq("c1"),
                                    PaginationConfig={"PageSize": 3}))
    assert [p["Count"] for p in pages][:3] == [3, 3, 1]
    assert [i["sk"] for p in pages for i in p["Items"]] == [f"o#{i:02d}" for i in range(1, 8)]


# ----------------------------------------------------------------------------------------------
# Secondary indexes


@pytest.fixture(scope="module")
def indexed(ddb):
    name = make_table(
        ddb, range_key=("sk", "S"), attributes=[("email", "S"), ("score", "N"), ("created", "S")],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-email", "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "by-score", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                    {"AttributeName": "score", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {"IndexName": "by-created", "KeySchema": [{"AttributeName": "created", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}},
        ],
        LocalSecondaryIndexes=[
            {"IndexName": "lsi-created", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                       {"AttributeName": "created", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "lsi-score", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                     {"AttributeName": "score", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
        ],
    )
    rows = [
        ("u1", "a", "ann@example.com", 30, "2025-01-03", "first post"),
        ("u1", "b", "ann@example.com", 10, "2025-01-01", "second post"),
        ("u1", "c", None, 20, "2025-01-02", "third post"),
        ("u1", "d", "bob@example.com", None, None, "no score"),
        ("u2", "a", "bob@example.com", 5, "2025-01-01", "other user"),
    ]
    for pk, sk, email, score, created, title in rows:
        item = {"pk": S(pk), "sk": S(sk), "title": S(title), "body": S(f"body of {pk}/{sk}")}
        if email:
            item["email"] = S(email)
        if score is not None:
            item["score"] = N(score)
        if created:
            item["created"] = S(created)
        ddb.put_item(TableName=name, Item=item)
    return name


def test_query_gsi_all(ddb, indexed):
    out = ddb.query(TableName=indexed, IndexName="by-email", KeyConditionExpression="email = :e",
                    ExpressionAttributeValues={":e": S("ann@example.com")})
    assert sorted(sks(out["Items"])) == ["a", "b"]
    assert all("body" in i and "title" in i for i in out["Items"])
    out = ddb.query(TableName=indexed, IndexName="by-email", KeyConditionExpression="email = :e", Limit=1,
                    ExpressionAttributeValues={":e": S("bob@example.com")})
    # An index's LastEvaluatedKey holds the index key and the table key.
    assert set(out["LastEvaluatedKey"]) == {"email", "pk", "sk"}
    rest = ddb.query(TableName=indexed, IndexName="by-email", KeyConditionExpression="email = :e",
                     ExpressionAttributeValues={":e": S("bob@example.com")},
                     ExclusiveStartKey=out["LastEvaluatedKey"])
    assert len(out["Items"]) + len(rest["Items"]) == 2
    message = expect_error("ValidationException", ddb.query, TableName=indexed, IndexName="by-email",
                           KeyConditionExpression="email = :e", ConsistentRead=True,
                           ExpressionAttributeValues={":e": S("ann@example.com")})
    assert message == "Consistent reads are not supported on global secondary indexes"


def test_query_gsi_keys_only_and_include(ddb, indexed):
    out = ddb.query(TableName=indexed, IndexName="by-score", KeyConditionExpression="pk = :p AND score > :s",
                    ExpressionAttributeValues={":p": S("u1"), ":s": N(15)})
    # Sorted by the index's sort key; items without `score` are not in the index at all.
    assert out["Items"] == [{"pk": S("u1"), "sk": S("c"), "score": N(20)},
                            {"pk": S("u1"), "sk": S("a"), "score": N(30)}]
    out = ddb.query(TableName=indexed, IndexName="by-score", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": S("u1")}, ScanIndexForward=False)
    assert sks(out["Items"]) == ["a", "c", "b"]
    expect_error("ValidationException", ddb.query, TableName=indexed, IndexName="by-score",
                 KeyConditionExpression="pk = :p", Select="ALL_ATTRIBUTES",
                 ExpressionAttributeValues={":p": S("u1")})

    out = ddb.query(TableName=indexed, IndexName="by-created", KeyConditionExpression="created = :c",
                    ExpressionAttributeValues={":c": S("2025-01-01")})
    assert sorted(out["Items"], key=lambda i: i["pk"]["S"]) == [
        {"pk": S("u1"), "sk": S("b"), "created": S("2025-01-01"), "title": S("second post")},
        {"pk": S("u2"), "sk": S("a"), "created": S("2025-01-01"), "title": S("other user")},
    ]


def test_query_lsi(ddb, indexed):
    out = ddb.query(TableName=indexed, IndexName="lsi-created", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": S("u1")})
    assert sks(out["Items"]) == ["b", "c", "a"]
    assert all("body" in i for i in out["Items"])
    out = ddb.query(TableName=indexed, IndexName="lsi-created", ConsistentRead=True,
                    KeyConditionExpression="pk = :p AND created BETWEEN :a AND :b",
                    ExpressionAttributeValues={":p": S("u1"), ":a": S("2025-01-02"), ":b": S("2025-12-31")})
    assert sks(out["Items"]) == ["c", "a"]
    out = ddb.query(TableName=indexed, IndexName="lsi-score", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": S("u1")})
    assert out["Items"] == [{"pk": S("u1"), "sk": S("b"), "score": N(10)},
                            {"pk": S("u1"), "sk": S("c"), "score": N(20)},
                            {"pk": S("u1"), "sk": S("a"), "score": N(30)}]
    # A local index fetches attributes it does not project from the table.
    out = ddb.query(TableName=indexed, IndexName="lsi-score", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": S("u1")}, Select="ALL_ATTRIBUTES", Limit=1)
    assert out["Items"][0]["title"] == S("second post")
    assert set(out["LastEvaluatedKey"]) == {"pk", "sk", "score"}


def test_scan_index(ddb, indexed):
    out = ddb.scan(TableName=indexed, IndexName="by-email")
    assert out["Count"] == 4
    out = ddb.scan(TableName=indexed, IndexName="by-score", Select="COUNT")
    assert out["Count"] == 4


# ----------------------------------------------------------------------------------------------
# The 1 MB page


def test_one_megabyte_page(ddb):
    name = make_table(ddb, range_key=("sk", "N"))
    blob = os.urandom(75 * 1024)
    for i in range(40):  # 40 items of ~100 KB (base64 makes the bytes a third larger): ~4 MB in one partition
        ddb.put_item(TableName=name, Item={"pk": S("heavy"), "sk": N(i), "data": {"B": blob},
                                           "pad": S("p" * (100 * 1024 - len(blob)))})
    pages = pages_of(ddb.query, TableName=name, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": S("heavy")})
    sizes = [len(p["Items"]) for p in pages]
    assert sum(sizes) == 40
    assert len(pages) >= 4, sizes
    # Each item is 100 KB and a page stops at 1 MB: about ten items a page.
    assert all(n <= 11 for n in sizes), sizes
    assert 9 <= sizes[0] <= 11, sizes
    assert [i["sk"]["N"] for p in pages for i in p["Items"]] == [str(i) for i in range(40)]

    pages = pages_of(ddb.scan, TableName=name)
    sizes = [len(p["Items"]) for p in pages]
    assert sum(sizes) == 40 and len(pages) >= 4 and 9 <= sizes[0] <= 11, sizes

    # COUNT reads the same megabyte per page.
    pages = pages_of(ddb.query, TableName=name, KeyConditionExpression="pk = :p", Select="COUNT",
                     ExpressionAttributeValues={":p": S("heavy")})
    assert sum(p["Count"] for p in pages) == 40 and len(pages) >= 4


# ----------------------------------------------------------------------------------------------
# Scan


@pytest.fixture(scope="module")
def hundred(ddb):
    name = make_table(ddb)
    for i in range(100):
        ddb.put_item(TableName=name, Item={"pk": S(f"item-{i:03d}"), "n": N(i), "even": {"BOOL": i % 2 == 0}})
    return name


def test_scan_all_and_filter(ddb, hundred):
    items = scan_all(ddb, TableName=hundred)
    assert sorted(i["pk"]["S"] for i in items) == [f"item-{i:03d}" for i in range(100)]
    out = ddb.scan(TableName=hundred, FilterExpression="n < :ten AND even = :t",
                   ExpressionAttributeValues={":ten": N(10), ":t": {"BOOL": True}})
    assert sorted(int(i["n"]["N"]) for i in out["Items"]) == [0, 2, 4, 6, 8]
    assert out["Count"] == 5 and out["ScannedCount"] == 100
    out = ddb.scan(TableName=hundred, Select="COUNT")
    assert (out["Count"], out["ScannedCount"]) == (100, 100)
    assert "Items" not in out


def test_scan_paging(ddb, hundred):
    pages = pages_of(ddb.scan, TableName=hundred, Limit=30)
    assert [len(p["Items"]) for p in pages][:4] == [30, 30, 30, 10]
    keys = [i["pk"]["S"] for p in pages for i in p["Items"]]
    assert len(keys) == len(set(keys)) == 100
    for page in pages:
        if "LastEvaluatedKey" in page:
            assert page["LastEvaluatedKey"] == {"pk": page["Items"][-1]["pk"]}
    collected = ddb.get_paginator("scan").paginate(
        TableName=hundred, FilterExpression="even = :t", ExpressionAttributeValues={":t": {"BOOL": True}},
        PaginationConfig={"PageSize": 17}).build_full_result()
    assert collected["Count"] == 50 and collected["ScannedCount"] == 100
    assert len({i["pk"]["S"] for i in collected["Items"]}) == 50


def test_parallel_scan(ddb, hundred):
    full = {i["pk"]["S"] for i in scan_all(ddb, TableName=hundred)}
    segments = []
    for segment in range(4):
        items = scan_all(ddb, TableName=hundred, Segment=segment, TotalSegments=4, Limit=7)
        segments.append([i["pk"]["S"] for i in items])
    union = [k for seg in segments for k in seg]
    assert len(union) == len(set(union)), "an item was returned by two segments"
    assert set(union) == full
    assert sum(1 for seg in segments if seg) >= 2, [len(s) for s in segments]
    # The same segment answers the same items every time.
    again = [i["pk"]["S"] for i in scan_all(ddb, TableName=hundred, Segment=2, TotalSegments=4)]
    assert sorted(again) == sorted(segments[2])

    expect_error("ValidationException", ddb.scan, TableName=hundred, Segment=0)
    expect_error("ValidationException", ddb.scan, TableName=hundred, TotalSegments=4)
    expect_error("ValidationException", ddb.scan, TableName=hundred, Segment=4, TotalSegments=4)


def test_resource_scan(resource, hundred):
    t = resource.Table(hundred)
    out = t.scan(FilterExpression=Attr("n").between(10, 14))
    assert sorted(i["n"] for i in out["Items"]) == [Decimal(v) for v in range(10, 15)]
    out = t.scan(FilterExpression=Attr("pk").begins_with("item-09"), ProjectionExpression="n")
    assert sorted(i["n"] for i in out["Items"]) == [Decimal(v) for v in range(90, 100)]
    assert all(set(i) == {"n"} for i in out["Items"])
