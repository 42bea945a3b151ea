"""Helpers shared by the DynamoDB end-to-end tests.

- fixture `ddb_server`: a server of the test module's own (module scope), so DynamoDB tests never share
  tables, aliases or trail events with other modules;
- fixtures `ddb` (boto3 client), `raw_ddb` (a client without botocore's parameter validation, so the
  server judges shapes botocore would stop) and `resource` (`boto3.resource("dynamodb")`);
- `unique_table`: a table name no other test uses; `table_arn`;
- `make_table`: CreateTable, then the `table_exists` waiter (polling every second);
- `expect_error` (HTTP 400 by default) and `error_response` (the whole parsed error, for modeled
  members such as `Item` or `CancellationReasons`);
- `scan_all` / `query_all`: follow LastEvaluatedKey to the end, counting pages.
"""
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

import conftest
from conftest import ACCESS_KEY, REGION, SECRET_KEY, Server

ACCOUNT = "000000000000"
WAIT = {"Delay": 1, "MaxAttempts": 30}


def unique_table(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def table_arn(name, region=REGION):
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"


def resource_for(server, region=REGION, access_key=ACCESS_KEY, secret_key=SECRET_KEY, **kw):
    return boto3.resource(
        "dynamodb",
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=botocore.config.Config(retries={"max_attempts": 1}),
        **kw,
    )


def wait_exists(ddb, name):
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=WAIT)


def wait_not_exists(ddb, name):
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=WAIT)


def make_table(ddb, name=None, hash_key=("pk", "S"), range_key=None, attributes=(), wait=True, **kw):
    """Creates a PAY_PER_REQUEST table (unless `kw` says otherwise) and waits until it is ACTIVE.

    `attributes` adds AttributeDefinitions for index keys. Returns the table name."""
    name = name or unique_table()
    definitions = {hash_key[0]: hash_key[1]}
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        definitions[range_key[0]] = range_key[1]
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    for attr, kind in attributes:
        definitions[attr] = kind
    if "ProvisionedThroughput" not in kw:
        kw.setdefault("BillingMode", "PAY_PER_REQUEST")
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in definitions.items()],
        KeySchema=schema,
        **kw,
    )
    if wait:
        wait_exists(ddb, name)
    return name


def expect_error(code, fn, status=400, **kwargs):
    """Calls fn(**kwargs); asserts it fails with `code` (and HTTP `status`); returns the message."""
    return conftest.expect_error(code, fn, status=status, **kwargs)


def error_response(code, fn, status=400, **kwargs):
    """Calls fn(**kwargs), which must fail with `code`; returns the whole parsed error response."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kwargs)
    response = e.value.response
    assert response["Error"]["Code"] == code, response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    return response


def pages_of(fn, **kwargs):
    """Every page of a Query or Scan, following LastEvaluatedKey."""
    pages, start = [], None
    while True:
        out = fn(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        pages.append(out)
        start = out.get("LastEvaluatedKey")
        if not start:
            return pages
        assert len(pages) < 1000, "LastEvaluatedKey never ends"


def scan_all(ddb, **kwargs):
    return [item for page in pages_of(ddb.scan, **kwargs) for item in page.get("Items", [])]


def query_all(ddb, **kwargs):
    return [item for page in pages_of(ddb.query, **kwargs) for item in page.get("Items", [])]


@pytest.fixture(scope="module")
def ddb_server():
    s = Server().start()
    yield s
    s.stop()
    s.cleanup()


@pytest.fixture(scope="module")
def ddb(ddb_server):
    return ddb_server.client("dynamodb")


@pytest.fixture(scope="module")
def raw_ddb(ddb_server):
    return conftest.unchecked(ddb_server, service="dynamodb")


@pytest.fixture(scope="module")
def resource(ddb_server):
    return resource_for(ddb_server)
