"""The awsJson1.1 wire protocol: target routing, body limits, empty bodies, request ids and the shape
of error responses."""
import http.client
import json
import time
from urllib.parse import urlsplit

import botocore.exceptions
import pytest

from e2e_support import JSON_CT, raw_call

MIB = 1024 * 1024


def assert_aws_error(r, code=None, status=400):
    """An AWS-shaped JSON error: status, content type, request id, `{"__type", "message"}`."""
    assert r.status == status, r
    assert r.headers["content-type"] == JSON_CT, r.headers
    assert r.headers.get("x-amzn-RequestId"), r.headers
    body = r.json()
    assert set(body) == {"__type", "message"}, body
    assert isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["__type"] == code, body
        assert r.headers.get("x-amzn-ErrorType") == code
    return body


def test_missing_target(server):
    body = assert_aws_error(raw_call(server.endpoint, target=None), "UnknownOperationException")
    assert "X-Amz-Target" in body["message"]
    # Unsigned as well: routing comes before authentication.
    assert_aws_error(raw_call(server.endpoint, target=None, sign=False), "UnknownOperationException")


@pytest.mark.parametrize(
    "target", ["Kinesis_20131202.ListStreams", "AWSSecretsManager.ListSecrets", "TrentServiceListKeys", ".ListKeys",
               "TrentService.", "trentservice.ListKeys"]
)
def test_unknown_target_prefix(server, target):
    body = assert_aws_error(raw_call(server.endpoint, target=target), "UnknownOperationException")
    assert target in body["message"]


def test_unknown_operation_of_a_known_service(server):
    body = assert_aws_error(raw_call(server.endpoint, "TrentService.MakeCoffee"), "UnknownOperationException")
    assert "MakeCoffee" in body["message"]


def test_unimplemented_aws_operation(server):
    # Systems Manager beyond Parameter Store is not there.
    ssm = server.client("ssm")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ssm.list_documents()
    assert e.value.response["Error"]["Code"] == "UnsupportedOperationException"


def test_refused_requests_leave_a_keep_alive_connection_usable(server):
    """A request refused before its body is read (no such service, no signature, no REST route) leaves the
    connection open for the next one, as a keep-alive client (botocore's pool, wrk, Node's agent) expects:
    its body is drained rather than left unread, which would have the connection closed under the client
    without a `Connection: close`."""
    url = urlsplit(server.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = json.dumps({"KeyId": "alias/none", "Plaintext": "aGVsbG8=" * 64}).encode()
    refused = [
        ("/", {"Content-Type": JSON_CT, "X-Amz-Target": "NoSuchService.Encrypt"}, 400),
        ("/", {"Content-Type": JSON_CT}, 400),
        ("/", {"Content-Type": JSON_CT, "X-Amz-Target": "TrentService.Encrypt"}, 400),
        ("/2013-04-01/no-such-route", {"Content-Type": "application/xml"}, 404),
    ]
    for round_ in range(5):
        for path, headers, status in refused:
            conn.request("POST", path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            assert r.status == status, (round_, path, headers, r.status)
            assert (r.getheader("connection") or "").lower() != "close", (path, r.getheaders())
    conn.close()


@pytest.mark.parametrize("size", [MIB + 1, 2 * MIB])
def test_body_over_1_mib_is_refused_quickly(server, size):
    body = json.dumps({"KeyId": "alias/x", "Plaintext": "A" * size}).encode()
    assert len(body) > MIB
    started = time.time()
    r = raw_call(server.endpoint, "TrentService.Encrypt", body, timeout=5)
    assert time.time() - started < 5
    assert 400 <= r.status < 500
    assert_aws_error(r, "RequestEntityTooLargeException", status=413)


def test_body_over_1_mib_with_boto3(server):
    kms = server.client()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.encrypt(KeyId="alias/x", Plaintext=b"A" * (6 * MIB))
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert e.value.response["Error"]["Code"] == "RequestEntityTooLargeException"


def test_body_of_exactly_1_mib_is_read(server):
    prefix = b'{"KeyId": "alias/x", "Plaintext": "'
    body = prefix + b"A" * (MIB - len(prefix) - 2) + b'"}'
    assert len(body) == MIB
    r = raw_call(server.endpoint, "TrentService.Encrypt", body)
    data = assert_aws_error(r)
    assert data["__type"] != "RequestEntityTooLargeException", data


@pytest.mark.parametrize("body", [b"", b"{}", b"  \n"])
def test_empty_body_on_list_keys(server, body):
    r = raw_call(server.endpoint, "TrentService.ListKeys", body)
    assert r.status == 200, r
    assert r.headers["content-type"] == JSON_CT
    out = r.json()
    assert isinstance(out["Keys"], list) and isinstance(out["Truncated"], bool)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"ListKeys"', b'{"Limit": "ten"}'])
def test_malformed_bodies_are_client_errors(server, body):
    r = raw_call(server.endpoint, "TrentService.ListKeys", body)
    data = assert_aws_error(r)
    assert data["__type"] in {"SerializationException", "ValidationException"}, data


def test_success_carries_a_request_id(server):
    r1 = raw_call(server.endpoint)
    r2 = raw_call(server.endpoint)
    assert r1.status == r2.status == 200
    ids = [r1.headers.get("x-amzn-RequestId"), r2.headers.get("x-amzn-RequestId")]
    assert all(ids) and ids[0] != ids[1]
    # boto3 reads it from the header.
    meta = server.client().list_keys()["ResponseMetadata"]
    assert meta["RequestId"] and meta["RequestId"] not in ids


def test_errors_carry_a_request_id_and_the_json_shape(server):
    kms = server.client()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.describe_key(KeyId="alias/does-not-exist")
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    assert e.value.response["ResponseMetadata"]["RequestId"]

    cases = [
        (raw_call(server.endpoint, "TrentService.DescribeKey", b'{"KeyId": "alias/does-not-exist"}'),
         "NotFoundException"),
        (raw_call(server.endpoint, "TrentService.DescribeKey", b"{}"), "ValidationException"),
        (raw_call(server.endpoint, sign=False), "MissingAuthenticationTokenException"),
        (raw_call(server.endpoint, target="Nope.Nope"), "UnknownOperationException"),
    ]
    for r, code in cases:
        assert_aws_error(r, code)


def test_aws_cli_sees_aws_errors(server):
    proc = server.aws("kms", "describe-key", "--key-id", "alias/does-not-exist", check=False)
    assert proc.returncode != 0
    assert "NotFoundException" in proc.stderr
