"""DynamoDB items through boto3 (client and resource): PutItem, GetItem, DeleteItem, UpdateItem with
condition expressions, ReturnValues and ReturnValuesOnConditionCheckFailure, update actions (SET with
arithmetic, if_not_exists and list_append, REMOVE, ADD, DELETE), projection expressions, every attribute
type, 38-digit numbers, and the validation errors AWS answers (with its messages where they are stable)."""
import base64
from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.types import Binary

from dynamodb_support import (  # noqa: F401  (fixtures)
    ddb,
    ddb_server,
    error_response,
    expect_error,
    make_table,
    raw_ddb,
    resource,
)
from e2e_support import raw_call

CONDITION_FAILED = "The conditional request failed"
MAX_ITEM = 400 * 1024


@pytest.fixture(scope="module")
def table(ddb):
    """A table keyed by `pk` (S) for item tests; every test uses keys of its own."""
    return make_table(ddb)


@pytest.fixture(scope="module")
def k_table(ddb):
    """A table keyed by `k` (S), the key name AWS's messages are checked with."""
    return make_table(ddb, hash_key=("k", "S"))


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def get(ddb, table, pk, **kw):
    return ddb.get_item(TableName=table, Key={"pk": S(pk)}, ConsistentRead=True, **kw).get("Item")


def normalised(item):
    """Sets come back in any order: sort them so items compare."""
    def norm(v):
        (t, x), = v.items()
        if t in ("SS", "NS", "BS"):
            return {t: sorted(x)}
        if t == "M":
            return {"M": {k: norm(y) for k, y in x.items()}}
        if t == "L":
            return {"L": [norm(y) for y in x]}
        return v
    return {k: norm(v) for k, v in item.items()}


# ----------------------------------------------------------------------------------------------
# Put / Get / Delete


def test_put_get_delete(ddb, table):
    assert ddb.put_item(TableName=table, Item={"pk": S("pgd"), "v": S("one")})["ResponseMetadata"][
        "HTTPStatusCode"] == 200
    assert get(ddb, table, "pgd") == {"pk": S("pgd"), "v": S("one")}
    # A put replaces the whole item.
    ddb.put_item(TableName=table, Item={"pk": S("pgd"), "w": N(2)})
    assert get(ddb, table, "pgd") == {"pk": S("pgd"), "w": N(2)}
    out = ddb.delete_item(TableName=table, Key={"pk": S("pgd")})
    assert "Attributes" not in out
    out = ddb.get_item(TableName=table, Key={"pk": S("pgd")})
    assert "Item" not in out
    # Deleting what is not there succeeds.
    ddb.delete_item(TableName=table, Key={"pk": S("pgd")})


def test_every_type_round_trips(ddb, table):
    item = {
        "pk": S("types"),
        "s": S("héllo wörld ⚽"),
        "empty": S(""),
        "n": N("-12.5"),
        "b": {"B": b"\x00\x01\xfe\xff"},
        "emptyb": {"B": b""},
        "t": {"BOOL": True},
        "f": {"BOOL": False},
        "null": {"NULL": True},
        "m": {"M": {"inner": {"M": {"deep": S("x"), "n": N(1)}}, "l": {"L": [N(1), S("two")]}}},
        "emptym": {"M": {}},
        "l": {"L": [S("a"), N(2), {"BOOL": False}, {"NULL": True}, {"L": []}, {"M": {"k": S("v")}},
                    {"B": b"\x10"}, {"SS": ["z"]}]},
        "ss": {"SS": ["b", "a", "c"]},
        "ns": {"NS": ["3", "1.5", "-2"]},
        "bs": {"BS": [b"\x02", b"\x01", b"\xff"]},
    }
    ddb.put_item(TableName=table, Item=item)
    assert normalised(get(ddb, table, "types")) == normalised(item)
    scanned = ddb.scan(TableName=table, FilterExpression="pk = :p", ExpressionAttributeValues={":p": S("types")})
    assert normalised(scanned["Items"][0]) == normalised(item)


def test_every_type_through_the_resource(resource, table):
    t = resource.Table(table)
    item = {
        "pk": "resource-types",
        "s": "text",
        "n": Decimal("3.14"),
        "i": 42,
        "b": Binary(b"\x00\xff"),
        "raw": b"bytes",
        "t": True,
        "none": None,
        "m": {"a": [1, "two", {"three": Decimal("3")}]},
        "ss": {"x", "y"},
        "ns": {1, 2, Decimal("2.5")},
        "bs": {Binary(b"\x01"), Binary(b"\x02")},
    }
    t.put_item(Item=item)
    got = t.get_item(Key={"pk": "resource-types"}, ConsistentRead=True)["Item"]
    assert got["s"] == "text"
    assert got["n"] == Decimal("3.14") and isinstance(got["n"], Decimal)
    assert got["i"] == Decimal(42) and isinstance(got["i"], Decimal)
    assert got["b"] == Binary(b"\x00\xff") and isinstance(got["b"], Binary)
    assert got["raw"] == Binary(b"bytes")
    assert got["t"] is True
    assert got["none"] is None
    assert got["m"] == {"a": [Decimal(1), "two", {"three": Decimal(3)}]}
    assert got["ss"] == {"x", "y"}
    assert got["ns"] == {Decimal(1), Decimal(2), Decimal("2.5")}
    assert got["bs"] == {Binary(b"\x01"), Binary(b"\x02")}


def test_numbers_38_digits_and_normal_form(ddb, table):
    values = {
        "big": "12345678901234567890123456789012345678",
        "neg": "-99999999999999999999999999999999999999",
        "frac": "0.12345678901234567890123456789012345678",
        "tiny": "1E-130",
        "huge": "9.9999999999999999999999999999999999999E+125",
        "one": "1.0",
        "tenth": "0.10",
        "exp": "1E2",
        "padded": "007",
        "trailing": "-123.4500",
    }
    ddb.put_item(TableName=table, Item={"pk": S("numbers"), **{k: N(v) for k, v in values.items()}})
    got = get(ddb, table, "numbers")
    assert got["big"] == N("12345678901234567890123456789012345678")
    assert got["neg"] == N("-99999999999999999999999999999999999999")
    assert got["frac"] == N("0.12345678901234567890123456789012345678")
    assert Decimal(got["tiny"]["N"]) == Decimal("1E-130")
    assert Decimal(got["huge"]["N"]) == Decimal("9.9999999999999999999999999999999999999E+125")
    assert got["one"] == N("1")
    assert got["tenth"] == N("0.1")
    assert got["exp"] == N("100")
    assert got["padded"] == N("7")
    assert got["trailing"] == N("-123.45")

    # Arithmetic keeps all 38 digits.
    out = ddb.update_item(TableName=table, Key={"pk": S("numbers")}, UpdateExpression="SET big = big + :one",
                          ExpressionAttributeValues={":one": N(1)}, ReturnValues="UPDATED_NEW")
    assert out["Attributes"] == {"big": N("12345678901234567890123456789012345679")}
    ddb.put_item(TableName=table, Item={"pk": S("nines"), "n": N("9" * 38)})
    out = ddb.update_item(TableName=table, Key={"pk": S("nines")}, UpdateExpression="ADD n :one",
                          ExpressionAttributeValues={":one": N(1)}, ReturnValues="ALL_NEW")
    assert out["Attributes"]["n"] == N("1" + "0" * 38)



def test_numbers_out_of_range(ddb, table):
    cases = {
        "1" * 39: "Attempting to store more than 38 significant digits in a Number",
        "0." + "1" * 39: "Attempting to store more than 38 significant digits in a Number",
        "1E126": "Number overflow. Attempting to store a number with magnitude larger than supported range",
        "-1E126": "Number overflow. Attempting to store a number with magnitude larger than supported range",
        "1E-131": "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        "abc": "A value provided cannot be converted into a number",
        "1.2.3": "A value provided cannot be converted into a number",
    }
    for value, message in cases.items():
        got = expect_error("ValidationException", ddb.put_item, TableName=table,
                           Item={"pk": S("bad-number"), "n": {"N": value}})
        assert got == message, value
    assert get(ddb, table, "bad-number") is None


def test_resource_numbers(resource, table):
    t = resource.Table(table)
    big = Decimal("98765432109876543210987654321098765432")
    t.put_item(Item={"pk": "numbers-resource", "n": big, "f": Decimal("0.000001")})
    got = t.get_item(Key={"pk": "numbers-resource"}, ConsistentRead=True)["Item"]
    assert got["n"] == big and str(got["n"]) == "98765432109876543210987654321098765432"
    assert got["f"] == Decimal("0.000001")


# ----------------------------------------------------------------------------------------------
# Conditions and ReturnValues


def test_create_only_put(ddb, table):
    item = {"pk": S("create-only"), "v": S("first")}
    ddb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)")
    message = expect_error("ConditionalCheckFailedException", ddb.put_item, TableName=table,
                           Item={"pk": S("create-only"), "v": S("second")},
                           ConditionExpression="attribute_not_exists(pk)")
    assert message == CONDITION_FAILED
    assert get(ddb, table, "create-only") == item

    failed = error_response("ConditionalCheckFailedException", ddb.put_item, TableName=table,
                            Item={"pk": S("create-only"), "v": S("third")},
                            ConditionExpression="attribute_not_exists(pk)",
                            ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert failed["Item"] == item
    # Without ALL_OLD the error carries no item.
    failed = error_response("ConditionalCheckFailedException", ddb.put_item, TableName=table,
                            Item={"pk": S("create-only")}, ConditionExpression="attribute_not_exists(pk)")
    assert "Item" not in failed


def test_conditions_on_update_and_delete(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": S("cond"), "state": S("open"), "n": N(5), "tags": {"SS": ["a"]}})
    names = {"#s": "state"}
    expect_error("ConditionalCheckFailedException", ddb.update_item, TableName=table, Key={"pk": S("cond")},
                 UpdateExpression="SET #s = :closed", ConditionExpression="#s = :wanted",
                 ExpressionAttributeNames=names,
                 ExpressionAttributeValues={":closed": S("closed"), ":wanted": S("pending")})
    ddb.update_item(TableName=table, Key={"pk": S("cond")}, UpdateExpression="SET #s = :closed",
                    ConditionExpression="#s = :wanted AND n BETWEEN :lo AND :hi AND contains(tags, :a) "
                                        "AND attribute_type(n, :num) AND size(tags) = :one AND #s IN (:wanted, :x)",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={":closed": S("closed"), ":wanted": S("open"), ":lo": N(1),
                                               ":hi": N(9), ":a": S("a"), ":num": S("N"), ":one": N(1),
                                               ":x": S("x")})
    assert get(ddb, table, "cond")["state"] == S("closed")

    # A condition on an item that does not exist sees no attributes.
    expect_error("ConditionalCheckFailedException", ddb.update_item, TableName=table, Key={"pk": S("cond-none")},
                 UpdateExpression="SET v = :v", ConditionExpression="attribute_exists(pk)",
                 ExpressionAttributeValues={":v": S("x")})
    assert get(ddb, table, "cond-none") is None

    failed = error_response("ConditionalCheckFailedException", ddb.delete_item, TableName=table,
                            Key={"pk": S("cond")}, ConditionExpression="n > :big",
                            ExpressionAttributeValues={":big": N(100)}, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert failed["Item"]["state"] == S("closed")
    assert failed["Error"]["Message"] == CONDITION_FAILED
    out = ddb.delete_item(TableName=table, Key={"pk": S("cond")}, ConditionExpression="NOT (n > :big)",
                          ExpressionAttributeValues={":big": N(100)}, ReturnValues="ALL_OLD")
    assert out["Attributes"]["n"] == N(5)
    assert get(ddb, table, "cond") is None


def test_put_and_delete_return_values(ddb, table):
    assert "Attributes" not in ddb.put_item(TableName=table, Item={"pk": S("rv"), "v": N(1)}, ReturnValues="ALL_OLD")
    out = ddb.put_item(TableName=table, Item={"pk": S("rv"), "v": N(2)}, ReturnValues="ALL_OLD")
    assert out["Attributes"] == {"pk": S("rv"), "v": N(1)}
    assert "Attributes" not in ddb.put_item(TableName=table, Item={"pk": S("rv"), "v": N(3)}, ReturnValues="NONE")
    for bad in ("ALL_NEW", "UPDATED_NEW", "UPDATED_OLD"):
        expect_error("ValidationException", ddb.put_item, TableName=table, Item={"pk": S("rv")}, ReturnValues=bad)
        expect_error("ValidationException", ddb.delete_item, TableName=table, Key={"pk": S("rv")},
                     ReturnValues=bad)
    assert get(ddb, table, "rv") == {"pk": S("rv"), "v": N(3)}
    out = ddb.delete_item(TableName=table, Key={"pk": S("rv")}, ReturnValues="ALL_OLD")
    assert out["Attributes"] == {"pk": S("rv"), "v": N(3)}
    assert "Attributes" not in ddb.delete_item(TableName=table, Key={"pk": S("rv")}, ReturnValues="ALL_OLD")


@pytest.mark.parametrize("return_values,expected", [
    ("NONE", None),
    ("ALL_OLD", {"pk": S("R"), "a": N(1), "b": S("x"), "keep": S("k")}),
    ("UPDATED_OLD", {"a": N(1), "b": S("x")}),
    ("UPDATED_NEW", {"a": N(2), "d": S("new")}),
    ("ALL_NEW", {"pk": S("R"), "a": N(2), "d": S("new"), "keep": S("k")}),
])
def test_update_return_values(ddb, table, return_values, expected):
    pk = f"upd-rv-{return_values}"
    ddb.put_item(TableName=table, Item={"pk": S(pk), "a": N(1), "b": S("x"), "keep": S("k")})
    out = ddb.update_item(TableName=table, Key={"pk": S(pk)}, UpdateExpression="SET a = a + :one, d = :d REMOVE b",
                          ExpressionAttributeValues={":one": N(1), ":d": S("new")}, ReturnValues=return_values)
    if expected is None:
        assert "Attributes" not in out
    else:
        if "pk" in expected:
            expected = {**expected, "pk": S(pk)}
        assert out["Attributes"] == expected
    assert get(ddb, table, pk) == {"pk": S(pk), "a": N(2), "d": S("new"), "keep": S("k")}


# ----------------------------------------------------------------------------------------------
# Update actions


def test_update_creates_the_item(ddb, table):
    out = ddb.update_item(TableName=table, Key={"pk": S("upsert")}, UpdateExpression="SET v = :v ADD hits :one",
                          ExpressionAttributeValues={":v": S("made"), ":one": N(1)}, ReturnValues="ALL_NEW")
    assert out["Attributes"] == {"pk": S("upsert"), "v": S("made"), "hits": N(1)}
    # An update without an expression creates just the key.
    ddb.update_item(TableName=table, Key={"pk": S("upsert-empty")})
    assert get(ddb, table, "upsert-empty") == {"pk": S("upsert-empty")}


def test_update_set_arithmetic_and_functions(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": S("set"), "n": N(10), "l": {"L": [S("b")]},
                                        "m": {"M": {"x": N(1)}}})
    out = ddb.update_item(
        TableName=table, Key={"pk": S("set")},
        UpdateExpression="SET n = n - :three, doubled = n + n, l = list_append(:front, l), "
                         "tail = list_append(if_not_exists(tail, :empty), :back), "
                         "fresh = if_not_exists(fresh, :zero), kept = if_not_exists(n, :zero), m.y = :two, "
                         "m.x = m.x + :two",
        ExpressionAttributeValues={":three": N(3), ":front": {"L": [S("a")]}, ":back": {"L": [S("z")]},
                                   ":empty": {"L": []}, ":zero": N(0), ":two": N(2)},
        ReturnValues="ALL_NEW")
    assert out["Attributes"] == {
        "pk": S("set"), "n": N(7), "doubled": N(20), "l": {"L": [S("a"), S("b")]}, "tail": {"L": [S("z")]},
        "fresh": N(0), "kept": N(10), "m": {"M": {"x": N(3), "y": N(2)}}}
    out = ddb.update_item(TableName=table, Key={"pk": S("set")},
                          UpdateExpression="SET l[0] = :first, l[5] = :appended REMOVE m.y, tail[0]",
                          ExpressionAttributeValues={":first": S("A"), ":appended": S("end")},
                          ReturnValues="ALL_NEW")
    assert out["Attributes"]["l"] == {"L": [S("A"), S("b"), S("end")]}
    assert out["Attributes"]["m"] == {"M": {"x": N(3)}}
    assert out["Attributes"]["tail"] == {"L": []}


def test_update_add_and_delete(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": S("add"), "n": N(1), "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1"]}})
    out = ddb.update_item(TableName=table, Key={"pk": S("add")},
                          UpdateExpression="ADD n :five, newn :five, ss :cd, ns :ns, newss :x",
                          ExpressionAttributeValues={":five": N(5), ":cd": {"SS": ["c", "d", "a"]},
                                                     ":ns": {"NS": ["2", "1"]}, ":x": {"SS": ["x"]}},
                          ReturnValues="ALL_NEW")
    got = normalised(out["Attributes"])
    assert got == {"pk": S("add"), "n": N(6), "newn": N(5), "ss": {"SS": ["a", "b", "c", "d"]},
                   "ns": {"NS": ["1", "2"]}, "newss": {"SS": ["x"]}}
    out = ddb.update_item(TableName=table, Key={"pk": S("add")}, UpdateExpression="DELETE ss :ab, newss :x",
                          ExpressionAttributeValues={":ab": {"SS": ["a", "b", "zz"]}, ":x": {"SS": ["x"]}},
                          ReturnValues="ALL_NEW")
    got = normalised(out["Attributes"])
    assert got["ss"] == {"SS": ["c", "d"]}
    # Deleting every element removes the attribute: sets are never empty.
    assert "newss" not in got

    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key={"pk": S("add")},
                           UpdateExpression="ADD n :s", ExpressionAttributeValues={":s": S("text")})
    assert message.startswith("Invalid UpdateExpression: Incorrect operand type for operator or function; "
                              "operator: ADD, operand type: STRING")
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key={"pk": S("add")},
                           UpdateExpression="ADD ss :n", ExpressionAttributeValues={":n": N(1)})
    assert message == "An operand in the update expression has an incorrect data type"
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key={"pk": S("add")},
                           UpdateExpression="SET absent = nothing + :one", ExpressionAttributeValues={":one": N(1)})
    assert message == "The provided expression refers to an attribute that does not exist in the item"
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key={"pk": S("add")},
                           UpdateExpression="SET pk = :v", ExpressionAttributeValues={":v": S("other")})
    assert message == ("One or more parameter values were invalid: Cannot update attribute pk. "
                       "This attribute is part of the key")
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key={"pk": S("add")},
                           UpdateExpression="SET n = :a, n = :b", ExpressionAttributeValues={":a": N(1), ":b": N(2)})
    assert message.startswith("Invalid UpdateExpression: Two document paths overlap with each other")
    assert normalised(get(ddb, table, "add"))["n"] == N(6)


def test_projection_expression(ddb, table):
    ddb.put_item(TableName=table, Item={
        "pk": S("proj"),
        "status": S("active"),
        "m": {"M": {"inside": {"M": {"x": N(1), "y": N(2)}}, "z": N(3)}},
        "l": {"L": [S("a"), S("b"), {"M": {"deep": S("d"), "other": S("o")}}]},
        "dotted.name": S("literal"),
        "big": S("x" * 1000),
    })
    got = get(ddb, table, "proj", ProjectionExpression="m.inside.x, l[1], l[2].deep, #s, #d, nothere, m.nope",
              ExpressionAttributeNames={"#s": "status", "#d": "dotted.name"})
    assert got == {
        "m": {"M": {"inside": {"M": {"x": N(1)}}}},
        "l": {"L": [S("b"), {"M": {"deep": S("d")}}]},
        "status": S("active"),
        "dotted.name": S("literal"),
    }
    # The key is only returned when asked for.
    assert get(ddb, table, "proj", ProjectionExpression="pk") == {"pk": S("proj")}
    scanned = ddb.scan(TableName=table, FilterExpression="pk = :p", ProjectionExpression="m.z",
                       ExpressionAttributeValues={":p": S("proj")})["Items"]
    assert scanned == [{"m": {"M": {"z": N(3)}}}]


def test_resource_conditions_and_updates(resource, ddb_server):
    t = resource.Table(make_table(ddb_server.client("dynamodb")))
    t.put_item(Item={"pk": "r1", "state": "new", "n": 1}, ConditionExpression=Attr("pk").not_exists())
    with pytest.raises(t.meta.client.exceptions.ConditionalCheckFailedException) as e:
        t.put_item(Item={"pk": "r1"}, ConditionExpression=Attr("pk").not_exists())
    assert e.value.response["Error"]["Message"] == CONDITION_FAILED
    out = t.update_item(Key={"pk": "r1"}, UpdateExpression="SET #s = :s ADD n :inc",
                        ConditionExpression=Attr("state").eq("new") & Attr("n").lt(5),
                        ExpressionAttributeNames={"#s": "state"}, ExpressionAttributeValues={":s": "used", ":inc": 2},
                        ReturnValues="ALL_NEW")
    assert out["Attributes"] == {"pk": "r1", "state": "used", "n": Decimal(3)}
    with pytest.raises(t.meta.client.exceptions.ConditionalCheckFailedException):
        t.delete_item(Key={"pk": "r1"}, ConditionExpression=Attr("state").eq("new"))
    assert t.delete_item(Key={"pk": "r1"}, ConditionExpression=Attr("state").eq("used"),
                         ReturnValues="ALL_OLD")["Attributes"]["n"] == Decimal(3)
    assert "Item" not in t.get_item(Key={"pk": "r1"})


# ----------------------------------------------------------------------------------------------
# Validation


def test_key_validation_messages(ddb, k_table):
    message = expect_error("ValidationException", ddb.put_item, TableName=k_table, Item={"k": S("")})
    assert message == ("One or more parameter values are not valid. The AttributeValue for a key attribute "
                       "cannot contain an empty string value. Key: k")
    message = expect_error("ValidationException", ddb.get_item, TableName=k_table, Key={"k": S("")})
    assert message == ("One or more parameter values are not valid. The AttributeValue for a key attribute "
                       "cannot contain an empty string value. Key: k")
    message = expect_error("ValidationException", ddb.put_item, TableName=k_table, Item={"other": S("x")})
    assert message == "One or more parameter values were invalid: Missing the key k in the item"
    message = expect_error("ValidationException", ddb.put_item, TableName=k_table, Item={"k": N(1)})
    assert message == "One or more parameter values were invalid: Type mismatch for key k expected: S actual: N"
    for key in ({"other": S("x")}, {"k": N(1)}, {"k": S("x"), "extra": S("y")}, {}):
        message = expect_error("ValidationException", ddb.get_item, TableName=k_table, Key=key)
        assert message == "The provided key element does not match the schema", key
        expect_error("ValidationException", ddb.delete_item, TableName=k_table, Key=key)
        expect_error("ValidationException", ddb.update_item, TableName=k_table, Key=key,
                     UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": S("x")})
    # Empty strings and binaries are fine outside keys.
    ddb.put_item(TableName=k_table, Item={"k": S("empty-ok"), "s": S(""), "b": {"B": b""}})
    assert ddb.get_item(TableName=k_table, Key={"k": S("empty-ok")})["Item"]["s"] == S("")


def test_item_size_limit(ddb, k_table):
    # Item size counts attribute names and values: "k" + "big" (1 + 3 bytes) + the key value "x".
    room = MAX_ITEM - len("k") - len("x") - len("big")
    ddb.put_item(TableName=k_table, Item={"k": S("x"), "big": S("a" * room)})
    assert len(ddb.get_item(TableName=k_table, Key={"k": S("x")})["Item"]["big"]["S"]) == room
    message = expect_error("ValidationException", ddb.put_item, TableName=k_table,
                           Item={"k": S("y"), "big": S("a" * (room + 1))})
    assert message == "Item size has exceeded the maximum allowed size"
    assert "Item" not in ddb.get_item(TableName=k_table, Key={"k": S("y")})
    message = expect_error("ValidationException", ddb.update_item, TableName=k_table, Key={"k": S("x")},
                           UpdateExpression="SET more = :m", ExpressionAttributeValues={":m": S("b" * 100)})
    assert message == "Item size to update has exceeded the maximum allowed size"


def test_expression_validation_messages(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": S("expr"), "v": N(1)})
    key = {"pk": S("expr")}
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key=key,
                           UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": N(2), ":unused": N(3)})
    assert message == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key=key,
                           UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": N(2)},
                           ExpressionAttributeNames={"#unused": "x"})
    assert message == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key=key,
                           UpdateExpression="SET status = :v", ExpressionAttributeValues={":v": S("x")})
    assert message == "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"
    message = expect_error("ValidationException", ddb.put_item, TableName=table, Item=key,
                           ConditionExpression="attribute_not_exists(status)")
    assert message == "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"
    message = expect_error("ValidationException", ddb.get_item, TableName=table, Key=key,
                           ProjectionExpression="v, status")
    assert message == "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status"
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key=key,
                           UpdateExpression="SET v = :nope", ExpressionAttributeValues={":v": N(2)})
    assert message == ("Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
                       "attribute value: :nope")
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key=key,
                           UpdateExpression="SET #nope = :v", ExpressionAttributeValues={":v": N(2)})
    assert message == ("Invalid UpdateExpression: An expression attribute name used in the document path is not "
                       "defined; attribute name: #nope")
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key=key,
                           UpdateExpression="SET v = = :v", ExpressionAttributeValues={":v": N(2)})
    assert message.startswith("Invalid UpdateExpression: Syntax error; token:")
    # Nothing above changed the item.
    assert get(ddb, table, "expr") == {"pk": S("expr"), "v": N(1)}


def test_invalid_attribute_values(ddb, raw_ddb, table):
    # Sets may not be empty nor hold duplicates.
    for bad in ({"SS": []}, {"NS": []}, {"BS": []}, {"SS": ["a", "a"]}, {"NS": ["1", "1"]}):
        expect_error("ValidationException", raw_ddb.put_item, TableName=table, Item={"pk": S("bad-set"), "s": bad})
    message = expect_error("ValidationException", raw_ddb.put_item, TableName=table,
                           Item={"pk": S("bad-value"), "v": {}})
    assert message == "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    message = expect_error("ValidationException", raw_ddb.put_item, TableName=table,
                           Item={"pk": S("bad-value"), "v": {"S": "a", "N": "1"}})
    assert message == ("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
                       "supported datatypes")
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": S("bad-value")})
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": S("bad-set")})


def call(server, operation, body):
    """One DynamoDB request with exactly this JSON body (signed, awsJson 1.0)."""
    return raw_call(server.endpoint, target=f"DynamoDB_20120810.{operation}", body=body.encode(),
                    service="dynamodb", extra_headers={"Content-Type": "application/x-amz-json-1.0"})


def test_wrong_json_shapes(ddb_server, ddb, raw_ddb, table):
    # JSON of the wrong type for the model is refused by the deserializer, before validation.
    for bad in ('{"S": 5}', '{"S": true}', '{"BOOL": "yes"}', '{"SS": "not-a-list"}', '{"L": {"S": "x"}}',
                '{"M": []}', '{"N": 12}', '"just a string"'):
        r = call(ddb_server, "PutItem", '{"TableName": "%s", "Item": {"pk": {"S": "shape"}, "v": %s}}' % (table, bad))
        assert r.status == 400, (bad, r)
        assert r.error_type.split("#")[-1] == "SerializationException", (bad, r)
    r = call(ddb_server, "PutItem", '{"TableName": 5, "Item": {"pk": {"S": "shape"}}}')
    assert r.status == 400 and r.error_type.split("#")[-1] == "SerializationException", r
    r = call(ddb_server, "PutItem", '{"TableName": "%s", "Item": {"pk": {"S": "shape"}' % table)
    assert r.status == 400 and r.error_type.split("#")[-1] == "SerializationException", r
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "shape"}})

    message = expect_error("ValidationException", raw_ddb.put_item, Item={"pk": S("shape")})
    assert message == ("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
                       "Member must not be null")
    expect_error("ValidationException", raw_ddb.get_item, TableName=table)


def test_binary_values_are_base64_on_the_wire(ddb_server, table):
    """B travels as base64 text; a value that is not base64 is refused."""
    encoded = base64.b64encode(b"\x00wire\xff").decode()
    r = call(ddb_server, "PutItem",
             '{"TableName": "%s", "Item": {"pk": {"S": "wire-b"}, "b": {"B": "%s"}}}' % (table, encoded))
    assert r.status == 200, r
    r = call(ddb_server, "GetItem", '{"TableName": "%s", "Key": {"pk": {"S": "wire-b"}}}' % table)
    assert r.status == 200, r
    assert r.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert r.json()["Item"] == {"pk": {"S": "wire-b"}, "b": {"B": encoded}}
    r = call(ddb_server, "PutItem",
             '{"TableName": "%s", "Item": {"pk": {"S": "wire-bad"}, "b": {"B": "not base64!"}}}' % table)
    assert r.status == 400, r
    assert r.error_type.split("#")[-1] in ("SerializationException", "ValidationException"), r


def test_racing_writers_on_one_item(ddb_server, ddb, table):
    """50 conditional creates of one key at once: exactly one wins; then 100 increments at once: none
    fails and none is lost (the SQLite store; tests/e2e/test_postgres_store.py races two nodes)."""
    import threading

    clients = [ddb_server.client("dynamodb") for _ in range(50)]
    results, barrier = [], threading.Barrier(50)

    def create(i):
        barrier.wait()
        try:
            clients[i].put_item(TableName=table, Item={"pk": S("race"), "by": N(i)},
                                ConditionExpression="attribute_not_exists(pk)")
            results.append("ok")
        except clients[i].exceptions.ConditionalCheckFailedException:
            results.append("lost")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(50)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results).count("ok") == 1 and results.count("lost") == 49, results

    ddb.put_item(TableName=table, Item={"pk": S("counter"), "n": N(0)})
    errors, barrier = [], threading.Barrier(50)

    def increment(i):
        barrier.wait()
        for _ in range(2):
            try:
                clients[i].update_item(TableName=table, Key={"pk": S("counter")}, UpdateExpression="SET n = n + :one",
                                       ExpressionAttributeValues={":one": N(1)})
            except Exception as e:  # noqa: BLE001 - any failure is what the test counts
                errors.append(repr(e))

    threads = [threading.Thread(target=increment, args=(i,)) for i in range(50)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert get(ddb, table, "counter")["n"] == N(100)


def test_item_writes_and_transactions_racing_on_one_item(ddb_server, ddb, table):
    """Writers of one item queue behind each other's commits, and transactions write the same item
    beside them: every increment that is acknowledged is counted once, none that failed is."""
    import threading

    ddb.put_item(TableName=table, Item={"pk": S("mixed"), "n": N(0)})
    clients = [ddb_server.client("dynamodb") for _ in range(40)]
    done, errors, barrier = [], [], threading.Barrier(40)

    def increment(i):
        barrier.wait()
        c = clients[i]
        for _ in range(5):
            try:
                if i % 4 == 0:
                    c.transact_write_items(TransactItems=[{"Update": {
                        "TableName": table, "Key": {"pk": S("mixed")}, "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": N(1)}}}])
                else:
                    c.update_item(TableName=table, Key={"pk": S("mixed")}, UpdateExpression="SET n = n + :one",
                                  ConditionExpression="attribute_exists(pk)",
                                  ExpressionAttributeValues={":one": N(1)})
                done.append(i)
            except c.exceptions.TransactionCanceledException as e:
                reasons = [r.get("Code") for r in e.response.get("CancellationReasons", [])]
                assert reasons == ["TransactionConflict"], e.response
            except Exception as e:  # noqa: BLE001 - any other failure is what the test counts
                errors.append(repr(e))

    threads = [threading.Thread(target=increment, args=(i,)) for i in range(40)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert len([i for i in done if i % 4]) == 150
    assert get(ddb, table, "mixed")["n"] == N(len(done))


def test_update_cannot_nest_past_the_limit(ddb, table):
    """An update that would nest values deeper than DynamoDB stores (32 levels) is refused, as a put
    of such an item is; the item stays as it was."""
    def nested(levels):
        v = {"NULL": True}
        for _ in range(levels):
            v = {"L": [v]}
        return v

    ddb.put_item(TableName=table, Item={"pk": S("deep"), "d": nested(20)})
    # Each value is within the limit on its own; set one inside the other, they are not.
    message = expect_error("ValidationException", ddb.update_item, TableName=table, Key={"pk": S("deep")},
                           UpdateExpression="SET d" + "[0]" * 20 + " = :v",
                           ExpressionAttributeValues={":v": nested(25)})
    assert message == "Nesting Levels have exceeded supported limits"
    assert get(ddb, table, "deep")["d"] == nested(20)
    ddb.update_item(TableName=table, Key={"pk": S("deep")}, UpdateExpression="SET d[0] = :v",
                    ExpressionAttributeValues={":v": nested(5)})
