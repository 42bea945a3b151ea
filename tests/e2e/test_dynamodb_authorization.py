"""DynamoDB under IAM: the guide's Lambda statements (dynamodb:GetItem, PutItem and Scan on the audit
table's ARN) given to an IAM user allow exactly those calls on that table, through boto3 (client and
resource) and the aws CLI; every other action, every other table and a table's indexes answer
AccessDeniedException with AWS's message. The table is encrypted under a customer managed key the user
has no KMS permission for: DynamoDB, not the caller, uses the key."""
import pytest

from dynamodb_support import (  # noqa: F401  (fixtures)
    ACCOUNT,
    ddb,
    ddb_server,
    error_response,
    make_table,
    resource_for,
    table_arn,
    unique_table,
)
from iam_support import allow, aws_as, deny, make_user

ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan"]


def S(v):
    return {"S": v}


@pytest.fixture(scope="module")
def setup(ddb_server, ddb):
    kms = ddb_server.client("kms")
    key = kms.create_key(Description="M2 Security DynamoDB Encryption")["KeyMetadata"]
    kms.create_alias(AliasName="alias/can2025-dynamodb", TargetKeyId=key["KeyId"])
    sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/can2025-dynamodb"}
    audit = make_table(ddb, unique_table("audit"), hash_key=("auditId", "S"), SSESpecification=sse,
                       attributes=[("gate", "S")],
                       GlobalSecondaryIndexes=[{"IndexName": "by-gate",
                                                "KeySchema": [{"AttributeName": "gate", "KeyType": "HASH"}],
                                                "Projection": {"ProjectionType": "ALL"}}])
    users = make_table(ddb, unique_table("users"), hash_key=("userId", "S"), SSESpecification=sse)
    ddb.put_item(TableName=audit, Item={"auditId": S("seeded"), "gate": S("G1")})
    ddb.put_item(TableName=users, Item={"userId": S("u1")})
    user = make_user(ddb_server, allow(ACTIONS, table_arn(audit)), prefix="gates-lambda")
    return audit, users, user


def denied(fn, **kwargs):
    r = error_response("AccessDeniedException", fn, **kwargs)
    return r["Error"]["Message"]


def message(user, action, resource):
    return (f"User: {user.arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action")


def test_allowed_actions_on_the_table(ddb_server, setup):
    audit, _, user = setup
    c = user.client(ddb_server, "dynamodb")
    c.put_item(TableName=audit, Item={"auditId": S("a-1"), "gate": S("G7")})
    assert c.get_item(TableName=audit, Key={"auditId": S("a-1")})["Item"] == {"auditId": S("a-1"), "gate": S("G7")}
    out = c.scan(TableName=audit, FilterExpression="gate = :g", ExpressionAttributeValues={":g": S("G7")})
    assert [i["auditId"]["S"] for i in out["Items"]] == ["a-1"]
    # The table's ARN works as its name too.
    assert c.get_item(TableName=table_arn(audit), Key={"auditId": S("seeded")})["Item"]["gate"] == S("G1")


def test_other_actions_are_denied(ddb_server, ddb, setup):
    audit, _, user = setup
    c = user.client(ddb_server, "dynamodb")
    arn = table_arn(audit)
    assert denied(c.query, TableName=audit, KeyConditionExpression="auditId = :a",
                  ExpressionAttributeValues={":a": S("seeded")}) == message(user, "dynamodb:Query", arn)
    assert denied(c.delete_item, TableName=audit, Key={"auditId": S("seeded")}) == message(
        user, "dynamodb:DeleteItem", arn)
    assert denied(c.update_item, TableName=audit, Key={"auditId": S("seeded")}, UpdateExpression="SET gate = :g",
                  ExpressionAttributeValues={":g": S("G9")}) == message(user, "dynamodb:UpdateItem", arn)
    assert denied(c.describe_table, TableName=audit) == message(user, "dynamodb:DescribeTable", arn)
    assert denied(c.delete_table, TableName=audit) == message(user, "dynamodb:DeleteTable", arn)
    error_response("AccessDeniedException", c.list_tables)
    error_response("AccessDeniedException", c.create_table, TableName=unique_table("nope"),
                   BillingMode="PAY_PER_REQUEST", AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                   KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
    # Nothing the denied calls named changed.
    assert ddb.get_item(TableName=audit, Key={"auditId": S("seeded")})["Item"] == {
        "auditId": S("seeded"), "gate": S("G1")}
    assert ddb.describe_table(TableName=audit)["Table"]["TableStatus"] == "ACTIVE"


def test_other_tables_are_denied(ddb_server, setup):
    _, users, user = setup
    c = user.client(ddb_server, "dynamodb")
    arn = table_arn(users)
    assert denied(c.get_item, TableName=users, Key={"userId": S("u1")}) == message(user, "dynamodb:GetItem", arn)
    assert denied(c.put_item, TableName=users, Item={"userId": S("u2")}) == message(user, "dynamodb:PutItem", arn)
    assert denied(c.scan, TableName=users) == message(user, "dynamodb:Scan", arn)
    # A table that does not exist is denied too (authorization comes before the lookup).
    missing = unique_table("missing")
    assert denied(c.get_item, TableName=missing, Key={"userId": S("x")}) == message(
        user, "dynamodb:GetItem", table_arn(missing))


def test_index_is_its_own_resource(ddb_server, setup):
    audit, _, _ = setup
    reader = make_user(ddb_server, allow(["dynamodb:Query", "dynamodb:Scan"], table_arn(audit)), prefix="reader")
    c = reader.client(ddb_server, "dynamodb")
    assert c.query(TableName=audit, KeyConditionExpression="auditId = :a",
                   ExpressionAttributeValues={":a": S("seeded")})["Count"] == 1
    index = f"{table_arn(audit)}/index/by-gate"
    assert denied(c.query, TableName=audit, IndexName="by-gate", KeyConditionExpression="gate = :g",
                  ExpressionAttributeValues={":g": S("G1")}) == message(reader, "dynamodb:Query", index)

    both = make_user(ddb_server, allow("dynamodb:Query", [table_arn(audit), f"{table_arn(audit)}/index/*"]),
                     prefix="index-reader")
    out = both.client(ddb_server, "dynamodb").query(TableName=audit, IndexName="by-gate",
                                                    KeyConditionExpression="gate = :g",
                                                    ExpressionAttributeValues={":g": S("G1")})
    assert [i["auditId"]["S"] for i in out["Items"]] == ["seeded"]


def test_batch_and_transactions_need_item_permissions(ddb_server, setup):
    audit, users, user = setup
    c = user.client(ddb_server, "dynamodb")
    msg = denied(c.batch_get_item, RequestItems={audit: {"Keys": [{"auditId": S("seeded")}]}})
    assert msg == message(user, "dynamodb:BatchGetItem", table_arn(audit))
    msg = denied(c.batch_write_item, RequestItems={audit: [{"PutRequest": {"Item": {"auditId": S("b-1")}}}]})
    assert msg == message(user, "dynamodb:BatchWriteItem", table_arn(audit))

    batcher = make_user(ddb_server, allow(["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"], table_arn(audit)),
                        prefix="batcher")
    b = batcher.client(ddb_server, "dynamodb")
    b.batch_write_item(RequestItems={audit: [{"PutRequest": {"Item": {"auditId": S("b-1")}}}]})
    out = b.batch_get_item(RequestItems={audit: {"Keys": [{"auditId": S("b-1")}]}})
    assert out["Responses"][audit] == [{"auditId": S("b-1")}]
    error_response("AccessDeniedException", b.batch_get_item, RequestItems={users: {"Keys": [{"userId": S("u1")}]}})


def test_explicit_deny_wins(ddb_server, setup):
    audit, _, _ = setup
    arn = table_arn(audit)
    user = make_user(ddb_server, allow("dynamodb:*"), deny("dynamodb:DeleteItem", arn), prefix="no-delete")
    c = user.client(ddb_server, "dynamodb")
    c.put_item(TableName=audit, Item={"auditId": S("keep-me")})
    assert denied(c.delete_item, TableName=audit, Key={"auditId": S("keep-me")}) == (
        f"User: {user.arn} is not authorized to perform: dynamodb:DeleteItem on resource: {arn} "
        "with an explicit deny in an identity-based policy")
    assert c.get_item(TableName=audit, Key={"auditId": S("keep-me")})["Item"] == {"auditId": S("keep-me")}


def test_resource_api_and_cli_as_the_user(ddb_server, setup):
    audit, users, user = setup
    t = resource_for(ddb_server, access_key=user.access_key, secret_key=user.secret_key).Table(audit)
    t.put_item(Item={"auditId": "res-1", "gate": "G2"})
    assert t.get_item(Key={"auditId": "res-1"})["Item"] == {"auditId": "res-1", "gate": "G2"}
    with pytest.raises(t.meta.client.exceptions.ClientError) as e:
        t.delete_item(Key={"auditId": "res-1"})
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"

    aws_as(ddb_server, user, "dynamodb", "put-item", "--table-name", audit,
           "--item", '{"auditId":{"S":"cli-1"},"gate":{"S":"G7"}}')
    got = aws_as(ddb_server, user, "dynamodb", "get-item", "--table-name", audit, "--key", '{"auditId":{"S":"cli-1"}}')
    assert got == {"Item": {"auditId": {"S": "cli-1"}, "gate": {"S": "G7"}}}
    proc = aws_as(ddb_server, user, "dynamodb", "delete-item", "--table-name", audit,
                  "--key", '{"auditId":{"S":"cli-1"}}', check=False)
    assert proc.returncode != 0
    assert "AccessDeniedException" in proc.stderr
    assert message(user, "dynamodb:DeleteItem", table_arn(audit)) in proc.stderr
    proc = aws_as(ddb_server, user, "dynamodb", "scan", "--table-name", users, check=False)
    assert proc.returncode != 0 and "AccessDeniedException" in proc.stderr
