"""DynamoDB as the CAN 2025 guide uses it, with the real aws CLI: the DynamoDB KMS key and its alias,
the audit table encrypted under `alias/can2025-dynamodb` (DescribeTable names the key's ARN, never the
alias), put-item / get-item / query / update-item / delete-item, a scan with a filter expression, the
CLI's own pagination of scan and list-tables, and the same table through boto3's resource API."""
import json

import pytest
from boto3.dynamodb.conditions import Attr, Key

from dynamodb_support import (  # noqa: F401  (fixtures)
    ACCOUNT,
    ddb,
    ddb_server,
    make_table,
    resource,
    table_arn,
    unique_table,
    wait_exists,
)

AUDIT_TABLE = "can2025-secure-gates-audit-prod"


@pytest.fixture(scope="module")
def guide(ddb_server, ddb):
    """The guide's key, alias and audit table, made with the CLI exactly as the guide writes them."""
    s = ddb_server
    key = s.aws("kms", "create-key", "--description", "M2 Security DynamoDB Encryption",
                "--region", "eu-west-1")["KeyMetadata"]
    s.aws("kms", "create-alias", "--alias-name", "alias/can2025-dynamodb", "--target-key-id", key["KeyId"],
          "--region", "eu-west-1")
    created = s.aws(
        "dynamodb", "create-table",
        "--table-name", AUDIT_TABLE,
        "--attribute-definitions", "AttributeName=auditId,AttributeType=S",
        "--key-schema", "AttributeName=auditId,KeyType=HASH",
        "--billing-mode", "PAY_PER_REQUEST",
        "--sse-specification", "Enabled=true,SSEType=KMS,KMSMasterKeyId=alias/can2025-dynamodb",
    )["TableDescription"]
    wait_exists(ddb, AUDIT_TABLE)
    return key, created


def put_cli(s, table, item):
    return s.aws("dynamodb", "put-item", "--table-name", table, "--item", json.dumps(item))


def test_create_table_answer(guide):
    key, created = guide
    assert created["TableName"] == AUDIT_TABLE
    assert created["TableStatus"] == "CREATING"
    assert created["TableArn"] == table_arn(AUDIT_TABLE)
    assert created["KeySchema"] == [{"AttributeName": "auditId", "KeyType": "HASH"}]
    assert created["AttributeDefinitions"] == [{"AttributeName": "auditId", "AttributeType": "S"}]
    assert created["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert created["ItemCount"] == 0 and created["TableSizeBytes"] == 0


def test_describe_table_names_the_key_arn(ddb_server, guide):
    key, created = guide
    ddb_server.aws("dynamodb", "wait", "table-exists", "--table-name", AUDIT_TABLE)
    table = ddb_server.aws("dynamodb", "describe-table", "--table-name", AUDIT_TABLE)["Table"]
    assert table["TableName"] == AUDIT_TABLE
    assert table["TableStatus"] == "ACTIVE"
    assert table["TableArn"] == table_arn(AUDIT_TABLE)
    assert table["TableId"] == created["TableId"]
    assert table["KeySchema"] == [{"AttributeName": "auditId", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "auditId", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    assert table["SSEDescription"] == {
        "Status": "ENABLED",
        "SSEType": "KMS",
        "KMSMasterKeyArn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key['KeyId']}",
    }
    assert key["Arn"] == table["SSEDescription"]["KMSMasterKeyArn"]
    assert AUDIT_TABLE in ddb_server.aws("dynamodb", "list-tables")["TableNames"]


def test_put_get_scan_with_the_cli(ddb_server, guide):
    s = ddb_server
    items = [
        {"auditId": {"S": "audit-0001"}, "gate": {"S": "G7"}, "action": {"S": "ENTRY"}, "ts": {"N": "1735689600"}},
        {"auditId": {"S": "audit-0002"}, "gate": {"S": "G3"}, "action": {"S": "ENTRY"}, "ts": {"N": "1735689601"}},
        {"auditId": {"S": "audit-0003"}, "gate": {"S": "G7"}, "action": {"S": "EXIT"}, "ts": {"N": "1735689602"}},
    ]
    for item in items:
        assert put_cli(s, AUDIT_TABLE, item) == {}

    got = s.aws("dynamodb", "get-item", "--table-name", AUDIT_TABLE, "--key", '{"auditId":{"S":"audit-0001"}}')
    assert got == {"Item": items[0]}
    assert s.aws("dynamodb", "get-item", "--table-name", AUDIT_TABLE, "--key",
                 '{"auditId":{"S":"audit-9999"}}') == {}

    out = s.aws("dynamodb", "scan", "--table-name", AUDIT_TABLE, "--filter-expression", "gate = :g",
                "--expression-attribute-values", '{":g":{"S":"G7"}}')
    assert sorted(out["Items"], key=lambda i: i["auditId"]["S"]) == [items[0], items[2]]
    assert out["Count"] == 2
    assert out["ScannedCount"] >= 3

    # The CLI follows LastEvaluatedKey itself: one item per request, one merged answer.
    out = s.aws("dynamodb", "scan", "--table-name", AUDIT_TABLE, "--page-size", "1",
                "--filter-expression", "begins_with(auditId, :p)",
                "--expression-attribute-values", '{":p":{"S":"audit-000"}}')
    assert sorted(i["auditId"]["S"] for i in out["Items"]) == ["audit-0001", "audit-0002", "audit-0003"]
    assert out["Count"] == 3

    text = s.aws("dynamodb", "scan", "--table-name", AUDIT_TABLE, "--filter-expression", "gate = :g",
                 "--expression-attribute-values", '{":g":{"S":"G3"}}', "--query", "Items[].auditId.S",
                 "--output", "text")
    assert text == "audit-0002"


def test_query_update_delete_with_the_cli(ddb_server, guide):
    s = ddb_server
    put_cli(s, AUDIT_TABLE, {"auditId": {"S": "audit-cli-1"}, "gate": {"S": "G1"}, "hits": {"N": "1"}})
    out = s.aws("dynamodb", "query", "--table-name", AUDIT_TABLE, "--key-condition-expression", "auditId = :a",
                "--expression-attribute-values", '{":a":{"S":"audit-cli-1"}}')
    assert out["Items"] == [{"auditId": {"S": "audit-cli-1"}, "gate": {"S": "G1"}, "hits": {"N": "1"}}]
    assert out["Count"] == 1

    out = s.aws("dynamodb", "update-item", "--table-name", AUDIT_TABLE, "--key", '{"auditId":{"S":"audit-cli-1"}}',
                "--update-expression", "SET gate = :g ADD hits :one",
                "--expression-attribute-values", '{":g":{"S":"G2"},":one":{"N":"1"}}',
                "--return-values", "ALL_NEW")
    assert out == {"Attributes": {"auditId": {"S": "audit-cli-1"}, "gate": {"S": "G2"}, "hits": {"N": "2"}}}

    proc = s.aws("dynamodb", "put-item", "--table-name", AUDIT_TABLE, "--item", '{"auditId":{"S":"audit-cli-1"}}',
                 "--condition-expression", "attribute_not_exists(auditId)", check=False)
    assert proc.returncode != 0
    assert "ConditionalCheckFailedException" in proc.stderr
    assert "The conditional request failed" in proc.stderr

    out = s.aws("dynamodb", "delete-item", "--table-name", AUDIT_TABLE, "--key", '{"auditId":{"S":"audit-cli-1"}}',
                "--return-values", "ALL_OLD")
    assert out["Attributes"]["gate"] == {"S": "G2"}
    assert s.aws("dynamodb", "get-item", "--table-name", AUDIT_TABLE, "--key",
                 '{"auditId":{"S":"audit-cli-1"}}') == {}


def test_unknown_table_with_the_cli(ddb_server):
    proc = ddb_server.aws("dynamodb", "describe-table", "--table-name", "can2025-no-such-table", check=False)
    assert proc.returncode != 0
    assert "ResourceNotFoundException" in proc.stderr
    assert "Requested resource not found: Table: can2025-no-such-table not found" in proc.stderr


def test_list_tables_cli_pagination(ddb_server, ddb):
    names = [make_table(ddb, unique_table("cli-list"), wait=False) for _ in range(5)]
    for name in names:
        wait_exists(ddb, name)
    everything = ddb_server.aws("dynamodb", "list-tables")["TableNames"]
    paged = ddb_server.aws("dynamodb", "list-tables", "--page-size", "2")["TableNames"]
    assert paged == everything
    assert set(names) <= set(everything)
    assert everything == sorted(everything)
    first = ddb_server.aws("dynamodb", "list-tables", "--max-items", "2")
    assert first["TableNames"] == everything[:2]
    assert "NextToken" in first


def test_the_audit_table_through_the_resource_api(resource, guide):
    table = resource.Table(AUDIT_TABLE)
    assert table.table_status == "ACTIVE"
    assert table.sse_description["KMSMasterKeyArn"] == guide[0]["Arn"]
    table.put_item(Item={"auditId": "audit-res-1", "gate": "G9", "user": "fan-42", "ok": True})
    table.put_item(Item={"auditId": "audit-res-2", "gate": "G9", "user": "fan-43", "ok": False})
    assert table.get_item(Key={"auditId": "audit-res-1"})["Item"] == {
        "auditId": "audit-res-1", "gate": "G9", "user": "fan-42", "ok": True}
    found = table.scan(FilterExpression=Attr("gate").eq("G9") & Attr("ok").eq(False))["Items"]
    assert [i["auditId"] for i in found] == ["audit-res-2"]
    assert table.query(KeyConditionExpression=Key("auditId").eq("audit-res-2"))["Items"][0]["user"] == "fan-43"
