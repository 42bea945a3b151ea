"""Helpers shared by the SSM Parameter Store end-to-end tests.

- fixtures `ssm`, `ssm_us` (boto3 clients on the shared server) and `raw_ssm` (a client with botocore's
  parameter validation off, so the server judges values botocore would stop);
- `unique` / `region_name` for names of the test's own: every test makes its own parameters, and a test
  that needs exact counts works in a region nobody else uses;
- `param_arn`: the ARN AWS gives a parameter (`arn:aws:ssm:<region>:<account>:parameter/<name>`, the
  name's leading slash not doubled);
- `expect_error`: the call fails with this error code and HTTP 400.
"""
import uuid

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

import conftest
from conftest import ACCESS_KEY, REGION, SECRET_KEY

ACCOUNT = "000000000000"


def unique(prefix="e2e"):
    """A hierarchy root no other test uses, e.g. `/e2e-3f2a9c1b7d4e`."""
    return f"/{prefix}-{uuid.uuid4().hex[:12]}"


def region_name():
    """A region of the test's own (`ap-test-<random>-1`), for exact counts."""
    return f"ap-test-{uuid.uuid4().hex[:8]}-1"


def param_arn(name, region=REGION):
    return f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def expect_error(code, fn, status=400, **kwargs):
    """Calls fn(**kwargs); asserts it fails with `code` (and HTTP `status`); returns the message."""
    return conftest.expect_error(code, fn, status=status, **kwargs)


def error_code(fn, **kwargs):
    """Calls fn(**kwargs), which must fail with a 4xx; returns the error code."""
    with pytest.raises(ClientError) as e:
        fn(**kwargs)
    response = e.value.response
    assert 400 <= response["ResponseMetadata"]["HTTPStatusCode"] < 500, response
    return response["Error"]["Code"]


def unchecked_client(server, service="ssm", region=REGION):
    return conftest.unchecked(server, region=region, service=service)


def names_of(parameters):
    return sorted(p["Name"] for p in parameters)


def all_pages(fn, key, **kwargs):
    """Follows NextToken to the end; returns (items, number of pages)."""
    items, pages, token = [], 0, None
    while True:
        out = fn(**kwargs, **({"NextToken": token} if token else {}))
        items.extend(out[key])
        pages += 1
        token = out.get("NextToken")
        if not token:
            return items, pages
        assert pages < 100, "NextToken never ends"


@pytest.fixture
def ssm(server):
    return server.client("ssm")


@pytest.fixture
def ssm_us(server):
    return server.client("ssm", region="us-east-1")


@pytest.fixture
def raw_ssm(server):
    return unchecked_client(server)


@pytest.fixture
def region():
    return region_name()
