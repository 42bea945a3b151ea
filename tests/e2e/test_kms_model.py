"""Every operation of botocore's KMS model answers with success or a named AWS error (never a 5xx), and
the awsJson1.1 wire format holds for malformed requests sent without boto3's serializer."""
import json
import re
import urllib.error
import urllib.request
import uuid

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY

ACCOUNT = "000000000000"
REGION = "eu-west-1"
CONTENT_TYPE = "application/x-amz-json-1.1"
MODEL = botocore.session.get_session().get_service_model("kms")
EXCEPTIONS = {name for name in MODEL.shape_names if MODEL.shape_for(name).metadata.get("exception")}
# Errors of the awsJson1.1 front end rather than of one operation.
PROTOCOL_ERRORS = {"ValidationException", "SerializationException", "UnknownOperationException"}

# Operations m2sec does not implement; they answer UnsupportedOperationException. (Every KMS
# operation is implemented; custom key store operations answer the errors of a store that does not exist.)
UNIMPLEMENTED = set()


def default_policy():
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]})


def plausible_string(shape, member, key_id):
    by_name = {
        "KeyId": key_id, "TargetKeyId": key_id, "DestinationKeyId": key_id, "SourceKeyId": key_id,
        "AliasName": f"alias/model-{uuid.uuid4().hex[:12]}", "Policy": default_policy(),
        "PolicyName": "default", "ReplicaRegion": "us-west-2", "PrimaryRegion": "us-west-2",
        "GranteePrincipal": f"arn:aws:iam::{ACCOUNT}:root", "RetiringPrincipal": f"arn:aws:iam::{ACCOUNT}:root",
    }
    if member in by_name:
        return by_name[member]
    if getattr(shape, "enum", None):
        return shape.enum[0]
    size = max(shape.metadata.get("min", 1), 1)
    pattern = shape.metadata.get("pattern")
    for candidate in ("a" * size, "x1" * size, "us-west-2"):
        if not pattern or re.fullmatch(pattern.strip("^$"), candidate):
            return candidate
    raise AssertionError(f"no plausible value for {member} ({shape.name}, pattern {pattern})")


def plausible(shape, member, key_id):
    """The smallest value the model accepts for `shape`, with real-looking values where names need them."""
    kind = shape.type_name
    if kind == "structure":
        return {name: plausible(s, name, key_id) for name, s in shape.members.items()
                if name in shape.required_members}
    if kind == "list":
        return [plausible(shape.member, member, key_id) for _ in range(max(shape.metadata.get("min", 1), 1))]
    if kind == "map":
        return {}
    if kind == "string":
        return plausible_string(shape, member, key_id)
    if kind in ("integer", "long"):
        return max(shape.metadata.get("min", 1), 1)
    if kind == "boolean":
        return False
    if kind == "blob":
        return b"\x01"
    if kind == "timestamp":
        return 0
    raise AssertionError(f"unexpected shape type {kind}")


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def check_output(shape, value, path):
    """Everything the server sent is a member of the output shape, with the model's JSON type."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: members not in the model: {unknown}"
        for name, v in value.items():
            check_output(shape.members[name], v, f"{path}.{name}")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, v in enumerate(value):
            check_output(shape.member, v, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), path
    elif kind in ("string", "blob"):
        assert isinstance(value, str), path
        if getattr(shape, "enum", None):
            assert value in shape.enum, f"{path}: {value!r} not in {shape.enum}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), path
    elif kind == "boolean":
        assert isinstance(value, bool), path
    elif kind == "timestamp":
        assert isinstance(value, (int, float)), path


# Operations whose documentation requires members the model leaves optional, and AWS's message for each.
NEEDS_MORE_THAN_MODEL = {
    "Decrypt": ["1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: "
                "Member must not be null"],
    "ReEncrypt": ["1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: "
                  "Member must not be null"],
    "GenerateRandom": ["1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: "
                       "Member must not be null"],
    "GenerateDataKey": ["Please specify either number of bytes or key spec."],
    "GenerateDataKeyWithoutPlaintext": ["Please specify either number of bytes or key spec."],
}


def extra_members(kms, operation, key_id):
    if operation in ("Decrypt", "ReEncrypt"):
        return {"CiphertextBlob": kms.encrypt(KeyId=key_id, Plaintext=b"\x01")["CiphertextBlob"]}
    return {"NumberOfBytes": 1}


@pytest.fixture
def recording_kms(server):
    """A client that also keeps the raw response body of each call."""
    client = server.client("kms")
    bodies = []
    client.meta.events.register("after-call.kms", lambda http_response, **_: bodies.append(http_response))
    client.raw_bodies = bodies
    return client


def test_model_operations_are_all_known():
    assert UNIMPLEMENTED <= set(MODEL.operation_names)
    assert "UnsupportedOperationException" in EXCEPTIONS and "NotFoundException" in EXCEPTIONS


@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_every_operation_answers_success_or_named_error(recording_kms, operation):
    kms = recording_kms
    key = kms.create_key(Description=f"model {operation}")["KeyMetadata"]
    op_model = MODEL.operation_model(operation)
    params = plausible(op_model.input_shape, "", key["KeyId"]) if op_model.input_shape else {}
    if operation in NEEDS_MORE_THAN_MODEL:
        # The model-minimal request is refused with a ValidationException naming what is missing ...
        with pytest.raises(ClientError) as e:
            getattr(kms, snake(operation))(**params)
        assert e.value.response["Error"]["Code"] == "ValidationException"
        assert e.value.response["Error"]["Message"] in NEEDS_MORE_THAN_MODEL[operation]
        # ... and succeeds with it.
        params.update(extra_members(kms, operation, key["KeyId"]))
    try:
        result = getattr(kms, snake(operation))(**params)
    except ClientError as e:
        err = e.response["Error"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status < 500, (operation, status, err)
        assert err["Code"] in EXCEPTIONS | PROTOCOL_ERRORS, (operation, err)
        assert err.get("Message"), (operation, err)
        if operation in UNIMPLEMENTED:
            assert err["Code"] == "UnsupportedOperationException", (operation, err)
            assert status == 400
        else:
            # Implemented operations get past validation with a model-valid request.
            assert err["Code"] not in PROTOCOL_ERRORS, (operation, params, err)
        return
    assert operation not in UNIMPLEMENTED, f"{operation} unexpectedly succeeded"
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
    raw = kms.raw_bodies[-1]
    assert raw.headers["content-type"] == CONTENT_TYPE
    body = json.loads(raw.content or b"{}")
    if op_model.output_shape is not None:
        check_output(op_model.output_shape, body, operation)
        for name in op_model.output_shape.required_members:
            assert name in body, f"{operation}: required output member {name} missing"


def takes_a_key(operation):
    shape = MODEL.operation_model(operation).input_shape
    return shape is not None and bool({"KeyId", "TargetKeyId"} & set(shape.members))


@pytest.mark.parametrize("operation", sorted(op for op in set(MODEL.operation_names) - UNIMPLEMENTED if takes_a_key(op)))
def test_implemented_operations_with_a_missing_key(kms, operation):
    op_model = MODEL.operation_model(operation)
    missing = str(uuid.uuid4())
    params = plausible(op_model.input_shape, "", missing)
    if "KeyId" in op_model.input_shape.members:
        params["KeyId"] = missing  # also where the member is optional (Decrypt, ListAliases)
    if operation in ("Decrypt", "ReEncrypt"):
        params["CiphertextBlob"] = b"\x01" * 64
    elif operation in NEEDS_MORE_THAN_MODEL:
        params["NumberOfBytes"] = 1
    with pytest.raises(ClientError) as e:
        getattr(kms, snake(operation))(**params)
    err = e.value.response["Error"]
    if operation in ("Decrypt", "ReEncrypt"):
        assert err["Code"] in ("NotFoundException", "InvalidCiphertextException"), err
    else:
        assert err["Code"] == "NotFoundException", (operation, err)
        assert missing in err["Message"]


# --- raw requests: the wire format without boto3's serializer -------------------------------------

def raw_call(server, target, body, region=REGION, sign=True, content_type=CONTENT_TYPE):
    """POSTs `body` (bytes) with X-Amz-Target `target`, signed with botocore's SigV4 signer."""
    headers = {"Content-Type": content_type, "X-Amz-Target": target}
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "kms", region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def raw_error(server, target, body, status=400):
    got_status, headers, content = raw_call(server, target, body)
    assert got_status == status, (got_status, content)
    assert headers["Content-Type"] == CONTENT_TYPE
    doc = json.loads(content)
    assert set(doc) == {"__type", "message"}, doc
    assert isinstance(doc["message"], str) and doc["message"]
    assert headers.get("x-amzn-RequestId")
    return doc


def test_raw_success_is_json(server):
    status, headers, content = raw_call(server, "TrentService.CreateKey", b'{"Description": "raw"}')
    assert status == 200 and headers["Content-Type"] == CONTENT_TYPE
    meta = json.loads(content)["KeyMetadata"]
    assert meta["Description"] == "raw" and isinstance(meta["CreationDate"], (int, float))
    status, _, content = raw_call(server, "TrentService.ListKeys", b"")
    assert status == 200 and "Keys" in json.loads(content)


@pytest.mark.parametrize("body", [b"{not json", b'{"KeyId": ', b"\xff\xfe", b"[]", b'"KeyId"'])
def test_raw_malformed_json(server, body):
    doc = raw_error(server, "TrentService.DescribeKey", body)
    assert doc["__type"] == "SerializationException"


def test_raw_wrong_type_names_member(server):
    doc = raw_error(server, "TrentService.DescribeKey", json.dumps({"KeyId": 5}).encode())
    assert doc["__type"] == "ValidationException"
    assert "'keyId'" in doc["message"]


def test_raw_missing_required_member(server):
    doc = raw_error(server, "TrentService.Encrypt", json.dumps({"Plaintext": "aGk="}).encode())
    assert doc["__type"] == "ValidationException"
    assert "Value null at 'keyId'" in doc["message"]


def test_raw_bad_base64_names_member_without_echoing_it(server):
    body = json.dumps({"KeyId": str(uuid.uuid4()), "Plaintext": "!!not-base64!!"}).encode()
    doc = raw_error(server, "TrentService.Encrypt", body)
    assert doc["__type"] == "ValidationException"
    assert "'plaintext'" in doc["message"]
    assert "not-base64" not in doc["message"]


def test_raw_nested_validation_path(server):
    body = json.dumps({"Tags": [{"TagKey": "a"}]}).encode()
    doc = raw_error(server, "TrentService.CreateKey", body)
    assert doc["__type"] == "ValidationException"
    assert "'tags.1.member.tagValue'" in doc["message"]


@pytest.mark.parametrize("target", ["TrentService.Nope", "TrentService.encrypt"])
def test_raw_unknown_operation(server, target):
    doc = raw_error(server, target, b"{}")
    assert doc["__type"] == "UnknownOperationException"


def test_raw_unsupported_operation(server):
    # Sign with a symmetric key: the operation exists, the key cannot do it.
    key = server.client().create_key()["KeyMetadata"]["KeyId"]
    doc = raw_error(server, "TrentService.Sign",
                    json.dumps({"KeyId": key, "Message": "aGk=", "SigningAlgorithm": "ECDSA_SHA_256"}).encode())
    assert doc["__type"] == "InvalidKeyUsageException"


def test_raw_service_error_has_aws_form(server):
    missing = str(uuid.uuid4())
    doc = raw_error(server, "TrentService.DescribeKey", json.dumps({"KeyId": missing}).encode())
    assert doc["__type"] == "NotFoundException" and missing in doc["message"]
    doc = raw_error(server, "TrentService.Encrypt", json.dumps({"KeyId": missing, "Plaintext": "aGk=",
                                                                "DryRun": True}).encode())
    assert doc["__type"] == "NotFoundException"


def test_raw_unsigned_request_is_refused(server):
    status, headers, content = raw_call(server, "TrentService.ListKeys", b"{}", sign=False)
    assert 400 <= status < 500
    assert headers["Content-Type"] == CONTENT_TYPE
    doc = json.loads(content)
    assert set(doc) == {"__type", "message"} and doc["__type"]
