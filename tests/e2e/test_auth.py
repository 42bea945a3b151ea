"""SigV4 authentication as real clients exercise it: boto3, the aws CLI, and raw requests signed by
botocore's own signers (header form and presigned query string)."""
import datetime
import subprocess

import botocore.exceptions
import pytest

from conftest import REGION, SECRET_KEY
from e2e_support import JSON_CT, raw_call, utcnow

WRONG_SECRET = "this-is-not-the-secret-0123456789abcdefgh"


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"], e.value.response


def assert_aws_error(r, code, status=400):
    assert r.status == status, r
    assert r.headers["content-type"] == JSON_CT
    assert r.headers.get("x-amzn-RequestId")
    body = r.json()
    assert set(body) == {"__type", "message"}, body
    assert body["__type"] == code, body
    return body["message"]


def test_valid_signature_is_accepted(server):
    assert raw_call(server.endpoint).status == 200
    assert "Keys" in server.client().list_keys()


def test_wrong_secret(server):
    code, message, resp = error_of(lambda: server.client(secret_key=WRONG_SECRET).list_keys())
    assert code == "InvalidSignatureException"
    assert "signature" in message.lower()
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_wrong_secret_with_the_aws_cli(server):
    env = server.cli_env()
    env["AWS_SECRET_ACCESS_KEY"] = WRONG_SECRET
    proc = subprocess.run(["aws", "kms", "list-keys"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "InvalidSignatureException" in proc.stderr


def test_unknown_access_key(server):
    code, _, _ = error_of(lambda: server.client(access_key="AKIAUNKNOWNUNKNOWN00").list_keys())
    assert code == "UnrecognizedClientException"


def test_session_token_is_refused(server):
    kms = server.client(aws_session_token="FwoGZXIvYXdzEXAMPLESESSIONTOKEN")
    code, _, _ = error_of(kms.list_keys)
    assert code == "UnrecognizedClientException"
    # Also in the raw header form, even with a correctly signed request.
    assert_aws_error(raw_call(server.endpoint, token="some-session-token"), "UnrecognizedClientException")


def test_no_authorization_header(server):
    message = assert_aws_error(raw_call(server.endpoint, sign=False), "MissingAuthenticationTokenException")
    assert "Authentication Token" in message


@pytest.mark.parametrize(
    "authorization",
    [
        "garbage",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIAM2SECTESTADMIN01/20240101/eu-west-1/kms, SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=AKIAM2SECTESTADMIN01/20240101/eu-west-1/kms, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIAM2SECTESTADMIN01/20240101/eu-west-1/kms/aws4_request, "
        "SignedHeaders=x-amz-date, Signature=00",
        "AWS4-HMAC-SHA512 Credential=a/b/c/d/aws4_request, SignedHeaders=host, Signature=00",
    ],
)
def test_garbage_authorization(server, authorization):
    headers = {"Authorization": authorization, "X-Amz-Date": utcnow().strftime("%Y%m%dT%H%M%SZ")}
    r = raw_call(server.endpoint, sign=False, extra_headers=headers)
    assert_aws_error(r, "IncompleteSignatureException")


def test_request_signed_20_minutes_ago_is_expired(server):
    r = raw_call(server.endpoint, at=utcnow() - datetime.timedelta(minutes=20))
    message = assert_aws_error(r, "InvalidSignatureException")
    assert "Signature expired" in message


def test_request_signed_20_minutes_ahead_is_not_yet_current(server):
    r = raw_call(server.endpoint, at=utcnow() + datetime.timedelta(minutes=20))
    message = assert_aws_error(r, "InvalidSignatureException")
    assert "not yet current" in message


def test_small_clock_skew_is_tolerated(server):
    assert raw_call(server.endpoint, at=utcnow() - datetime.timedelta(minutes=10)).status == 200
    assert raw_call(server.endpoint, at=utcnow() + datetime.timedelta(minutes=10)).status == 200


def test_credential_scoped_to_another_service(server):
    message = assert_aws_error(raw_call(server.endpoint, service="s3"), "InvalidSignatureException")
    assert "'kms'" in message


def test_body_changed_after_signing(server):
    r = raw_call(server.endpoint, "TrentService.ListKeys", b'{"Limit": 1}', tamper_body=b'{"Limit": 2}')
    assert_aws_error(r, "InvalidSignatureException")


def test_presigned_query_string_is_accepted(server):
    server.client().create_key(Description="visible to the presigned request")
    r = raw_call(server.endpoint, "TrentService.ListKeys", b"", presign=True)
    assert r.status == 200, r
    assert r.json()["Keys"]
    assert r.headers["content-type"] == JSON_CT


def test_presigned_query_string_with_wrong_secret(server):
    r = raw_call(server.endpoint, "TrentService.ListKeys", b"", presign=True, secret_key=WRONG_SECRET)
    assert_aws_error(r, "InvalidSignatureException")


def test_presigned_query_string_past_its_expiry(server):
    r = raw_call(server.endpoint, "TrentService.ListKeys", b"", presign=True,
                 at=utcnow() - datetime.timedelta(hours=2))
    message = assert_aws_error(r, "InvalidSignatureException")
    assert "expired" in message.lower()


def test_presigned_and_header_together_are_refused(server):
    r = raw_call(server.endpoint, "TrentService.ListKeys", b"", presign=True,
                 extra_headers={"Authorization": "AWS4-HMAC-SHA256 Credential=x"})
    assert_aws_error(r, "IncompleteSignatureException")


def test_region_comes_from_the_credential_scope(server):
    tokyo = server.client(region="ap-northeast-1")
    meta = tokyo.create_key(Description="in Tokyo")["KeyMetadata"]
    assert meta["Arn"] == f"arn:aws:kms:ap-northeast-1:000000000000:key/{meta['KeyId']}"
    assert tokyo.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["Arn"] == meta["Arn"]
    # Another region is another scope: the key is not there.
    code, _, _ = error_of(lambda: server.client(region=REGION).describe_key(KeyId=meta["KeyId"]))
    assert code == "NotFoundException"
    assert meta["KeyId"] not in {k["KeyId"] for k in server.client(region=REGION).list_keys()["Keys"]}
    # The aws CLI's --region reaches the same scope.
    out = server.aws("kms", "describe-key", "--key-id", meta["KeyId"], region="ap-northeast-1")
    assert out["KeyMetadata"]["Arn"] == meta["Arn"]


def test_auth_failures_carry_no_secret(server):
    r = raw_call(server.endpoint, secret_key=WRONG_SECRET)
    assert WRONG_SECRET.encode() not in r.body and SECRET_KEY.encode() not in r.body
    assert SECRET_KEY not in server.logs()
