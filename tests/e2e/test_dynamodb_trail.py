"""DynamoDB in the trail, read back with CloudTrail's LookupEvents:

- by default, item calls are data events (`eventCategory: Data`, `managementEvent: false`, reads
  `readOnly`), their items and keys hidden, and table calls are management events;
- with `trail_data_events = false` (`M2SEC_TRAIL_DATA_EVENTS=false`) only the management events are
  recorded, as a CloudTrail trail records them unless its event selectors ask for data events; the
  item calls still work, even while the trail cannot be written (a full disk), when management calls
  are refused.

Each test runs a server of its own (`fresh_server`): it owns the trail."""
import json

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import ACCESS_KEY, REGION, SECRET_KEY
from dynamodb_support import make_table, table_arn, unique_table
from e2e_support import wait_for
from test_hardening import fill, health, small_tmpfs  # noqa: F401  (small_tmpfs is a fixture)

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


def test_without_data_events_a_failing_trail_refuses_only_what_it_records(fresh_server, small_tmpfs):
    """On a full disk the trail cannot be written: management calls are refused, as every recorded
    call is, while item reads, which are not recorded, are still answered."""
    s = fresh_server(data_dir=small_tmpfs / "data", env={"M2SEC_TRAIL_DATA_EVENTS": "false"}).start()
    ddb = boto3.client("dynamodb", endpoint_url=s.endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                       aws_secret_access_key=SECRET_KEY,
                       config=botocore.config.Config(retries={"max_attempts": 1}, read_timeout=10))
    table = make_table(ddb, unique_table("full"))
    ddb.put_item(TableName=table, Item={"pk": {"S": "kept"}, "v": {"S": "before the disk filled"}})
    filler = fill(small_tmpfs)
    try:
        # Large recorded calls until the trail can no longer be written.
        tags = [{"Key": f"k{i}", "Value": "v" * 256} for i in range(40)]

        def trail_failing():
            try:
                ddb.tag_resource(ResourceArn=table_arn(table), Tags=tags)
            except botocore.exceptions.ClientError:
                pass
            return health(s).status == 503

        wait_for(trail_failing, timeout=20, what="the trail to fail on the full disk")
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            ddb.describe_table(TableName=table)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        got = ddb.get_item(TableName=table, Key={"pk": {"S": "kept"}})
        assert got["Item"]["v"] == {"S": "before the disk filled"}
    finally:
        filler.unlink()
    wait_for(lambda: health(s).status == 200, timeout=20, what="/health to recover")
