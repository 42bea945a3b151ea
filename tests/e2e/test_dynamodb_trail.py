"""DynamoDB in the trail, read back with CloudTrail's LookupEvents:

- by default, item calls are data events (`eventCategory: Data`, `managementEvent: false`, reads
  `readOnly`), their items and keys hidden, and table calls are management events;
- with `trail_data_events = false` (`M2SEC_TRAIL_DATA_EVENTS=false`) only the management events are
  recorded, as a CloudTrail trail records them unless its event selectors ask for data events; the
  item calls still work.

Each test runs a server of its own (`fresh_server`): it owns the trail."""
import json

from dynamodb_support import make_table, table_arn, unique_table

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"


def records(ct, name):
    out = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}],
                           MaxResults=50)
    return [json.loads(e["CloudTrailEvent"]) for e in out["Events"]]


def item_calls(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "secret-key-value"}, "v": {"S": "secret-item-value"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "secret-key-value"}})["Item"]["v"] == {
        "S": "secret-item-value"}
    assert ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "secret-key-value"}})["Count"] == 1


def test_item_calls_are_data_events(fresh_server):
    s = fresh_server().start()
    ddb, ct = s.client("dynamodb"), s.client("cloudtrail")
    table = make_table(ddb, unique_table("trailed"))
    item_calls(ddb, table)

    [create] = [r for r in records(ct, "CreateTable") if r["requestParameters"]["tableName"] == table]
    assert create["managementEvent"] is True and create["eventCategory"] == "Management"
    for name, read_only in (("PutItem", False), ("GetItem", True), ("Query", True)):
        [r] = [r for r in records(ct, name) if r["requestParameters"]["tableName"] == table]
        assert r["eventSource"] == "dynamodb.amazonaws.com", r
        assert r["managementEvent"] is False and r["eventCategory"] == "Data", r
        assert r["readOnly"] is read_only, r
        assert table_arn(table) in [x["ARN"] for x in r["resources"]], r
        text = json.dumps(r)
        assert "secret-key-value" not in text and "secret-item-value" not in text, r
        if name != "Query":
            assert HIDDEN in text, r


def test_data_events_can_be_left_out(fresh_server):
    s = fresh_server(env={"M2SEC_TRAIL_DATA_EVENTS": "false"}).start()
    ddb, ct = s.client("dynamodb"), s.client("cloudtrail")
    table = make_table(ddb, unique_table("untrailed"))
    item_calls(ddb, table)
    ddb.tag_resource(ResourceArn=table_arn(table), Tags=[{"Key": "team", "Value": "gates"}])

    assert [r["requestParameters"]["tableName"] for r in records(ct, "CreateTable")] == [table]
    assert len(records(ct, "TagResource")) == 1
    for name in ("PutItem", "GetItem", "Query"):
        assert records(ct, name) == [], name
