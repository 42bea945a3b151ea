"""KMS key lifecycle through boto3: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription,
EnableKey/DisableKey, ScheduleKeyDeletion/CancelKeyDeletion, region isolation."""
import datetime
import json
import uuid

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY, expect_error, unchecked  # noqa: F401

ACCOUNT = "000000000000"


def code_of(exc_info):
    return exc_info.value.response["Error"]["Code"]


def new_key(kms, **kw):
    return kms.create_key(**kw)["KeyMetadata"]


def unique_alias():
    return f"alias/keys-{uuid.uuid4().hex[:12]}"


def unique_region():
    # A region name no other test uses, so counts within it are known.
    return f"ap-test-{uuid.uuid4().hex[:8]}-2"


def test_create_key_defaults(kms):
    before = datetime.datetime.now(datetime.timezone.utc)
    meta = new_key(kms)
    assert uuid.UUID(meta["KeyId"])
    assert meta["Arn"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{meta['KeyId']}"
    assert meta["AWSAccountId"] == ACCOUNT
    assert meta["KeyState"] == "Enabled" and meta["Enabled"] is True
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["Origin"] == "AWS_KMS"
    assert meta["KeyManager"] == "CUSTOMER"
    assert meta["MultiRegion"] is False
    assert meta["Description"] == ""
    assert "DeletionDate" not in meta
    created = meta["CreationDate"]
    assert abs((created - before).total_seconds()) < 60


def test_create_key_stores_description_usage_spec_tags_policy(kms):
    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "x", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                       "Action": "kms:*", "Resource": "*"}],
    })
    meta = new_key(kms, Description="payments key", KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT",
                   Tags=[{"TagKey": "team", "TagValue": "pay"}, {"TagKey": "env", "TagValue": "prod"}],
                   Policy=policy)
    assert meta["Description"] == "payments key"
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT" and meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["Description"] == "payments key"
    tags = kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"]
    assert sorted((t["TagKey"], t["TagValue"]) for t in tags) == [("env", "prod"), ("team", "pay")]
    got = kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"]
    assert json.loads(got) == json.loads(policy)


def test_create_key_legacy_customer_master_key_spec(kms):
    meta = new_key(kms, CustomerMasterKeySpec="SYMMETRIC_DEFAULT")
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT"


def test_create_key_unsupported_spec(kms):
    # SM2 exists only in AWS China Regions.
    expect_error("UnsupportedOperationException", kms.create_key, KeySpec="SM2", KeyUsage="SIGN_VERIFY")


def test_create_key_refusals(kms):
    expect_error("UnsupportedOperationException", kms.create_key, Origin="AWS_CLOUDHSM")
    expect_error("CustomKeyStoreNotFoundException", kms.create_key, CustomKeyStoreId="cks-1234567890abcdef0")
    expect_error("MalformedPolicyDocumentException", kms.create_key, Policy="{not json")
    expect_error("MalformedPolicyDocumentException", kms.create_key, Policy=json.dumps({"Version": "2012-10-17"}))
    expect_error("TagException", kms.create_key, Tags=[{"TagKey": "aws:owner", "TagValue": "x"}])
    expect_error("ValidationException", kms.create_key, KeySpec="NOT_A_SPEC")
    expect_error("ValidationException", kms.create_key, KeyUsage="SIGN_VERIFY")


def test_describe_key_in_all_four_forms(kms):
    meta = new_key(kms, Description="four forms")
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    alias_arn = f"arn:aws:kms:eu-west-1:{ACCOUNT}:{alias}"
    for key_id in (meta["KeyId"], meta["Arn"], alias, alias_arn):
        got = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        assert got["KeyId"] == meta["KeyId"], key_id
        assert got["Arn"] == meta["Arn"]
        assert got["Description"] == "four forms"


def test_describe_key_not_found(kms):
    missing = str(uuid.uuid4())
    msg = expect_error("NotFoundException", kms.describe_key, KeyId=missing)
    assert missing in msg
    expect_error("NotFoundException", kms.describe_key, KeyId=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{missing}")
    expect_error("NotFoundException", kms.describe_key, KeyId=unique_alias())
    expect_error("NotFoundException", kms.describe_key, KeyId=f"arn:aws:kms:eu-west-1:{ACCOUNT}:{unique_alias()}")
    expect_error("InvalidArnException", kms.describe_key, KeyId="arn:aws:s3:::bucket")


def test_list_keys_paging(server):
    kms = server.client("kms", region=unique_region())
    assert kms.list_keys()["Keys"] == []
    made = {new_key(kms)["KeyId"] for _ in range(7)}
    full = kms.list_keys()
    assert full["Truncated"] is False and "NextMarker" not in full
    assert {k["KeyId"] for k in full["Keys"]} == made
    for k in full["Keys"]:
        assert k["KeyArn"].endswith(":key/" + k["KeyId"])
        assert k["KeyArn"].startswith(f"arn:aws:kms:{kms.meta.region_name}:{ACCOUNT}:")

    seen, pages, marker = [], [], None
    while True:
        kw = {"Limit": 3}
        if marker:
            kw["Marker"] = marker
        page = kms.list_keys(**kw)
        pages.append(len(page["Keys"]))
        seen += [k["KeyId"] for k in page["Keys"]]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert pages == [3, 3, 1]
    assert len(seen) == len(set(seen)) and set(seen) == made

    # Exactly a page boundary: the last full page is not truncated.
    page = kms.list_keys(Limit=7)
    assert len(page["Keys"]) == 7 and page["Truncated"] is False

    paginated = [k["KeyId"] for p in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2})
                 for k in p["Keys"]]
    assert sorted(paginated) == sorted(made)


def test_list_keys_bad_limit_and_marker(server, kms):
    raw = unchecked(server)
    expect_error("ValidationException", raw.list_keys, Limit=0)
    expect_error("ValidationException", raw.list_keys, Limit=1001)
    expect_error("InvalidMarkerException", kms.list_keys, Marker="not-a-marker")


def test_update_key_description(kms):
    meta = new_key(kms, Description="old")
    kms.update_key_description(KeyId=meta["KeyId"], Description="new words")
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["Description"] == "new words"
    kms.update_key_description(KeyId=meta["Arn"], Description="")
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["Description"] == ""
    expect_error("NotFoundException", kms.update_key_description, KeyId=str(uuid.uuid4()), Description="x")


def test_enable_disable_key(kms):
    meta = new_key(kms)
    kms.disable_key(KeyId=meta["KeyId"])
    got = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert got["KeyState"] == "Disabled" and got["Enabled"] is False
    expect_error("DisabledException", kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x")
    expect_error("DisabledException", kms.generate_data_key, KeyId=meta["KeyId"], KeySpec="AES_256")
    kms.disable_key(KeyId=meta["KeyId"])  # idempotent
    kms.enable_key(KeyId=meta["Arn"])
    got = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert got["KeyState"] == "Enabled" and got["Enabled"] is True
    assert kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")["CiphertextBlob"]


def test_ciphertext_made_before_disable_decrypts_after_enable(kms):
    meta = new_key(kms)
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"keep")["CiphertextBlob"]
    kms.disable_key(KeyId=meta["KeyId"])
    expect_error("DisabledException", kms.decrypt, CiphertextBlob=blob)
    kms.enable_key(KeyId=meta["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"keep"


def test_alias_refusing_operations(kms):
    meta = new_key(kms)
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    alias_arn = f"arn:aws:kms:eu-west-1:{ACCOUNT}:{alias}"
    for name in (alias, alias_arn):
        expect_error("NotFoundException", kms.enable_key, KeyId=name)
        expect_error("NotFoundException", kms.disable_key, KeyId=name)
        expect_error("NotFoundException", kms.update_key_description, KeyId=name, Description="x")
        expect_error("NotFoundException", kms.schedule_key_deletion, KeyId=name)
        expect_error("NotFoundException", kms.cancel_key_deletion, KeyId=name)
        expect_error("NotFoundException", kms.tag_resource, KeyId=name, Tags=[{"TagKey": "a", "TagValue": "b"}])
        expect_error("NotFoundException", kms.get_key_policy, KeyId=name, PolicyName="default")
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_schedule_key_deletion_default_window(kms):
    meta = new_key(kms)
    before = datetime.datetime.now(datetime.timezone.utc)
    out = kms.schedule_key_deletion(KeyId=meta["KeyId"])
    assert out["KeyId"] == meta["Arn"]
    assert out["KeyState"] == "PendingDeletion"
    assert out["PendingWindowInDays"] == 30
    delta = out["DeletionDate"] - before
    assert abs(delta.total_seconds() - 30 * 86400) < 120
    got = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert got["KeyState"] == "PendingDeletion" and got["Enabled"] is False
    assert abs((got["DeletionDate"] - out["DeletionDate"]).total_seconds()) < 2
    assert got["PendingDeletionWindowInDays"] == 30
    expect_error("KMSInvalidStateException", kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x")
    expect_error("KMSInvalidStateException", kms.enable_key, KeyId=meta["KeyId"])
    expect_error("KMSInvalidStateException", kms.disable_key, KeyId=meta["KeyId"])
    expect_error("KMSInvalidStateException", kms.schedule_key_deletion, KeyId=meta["KeyId"])
    # Still listed while pending deletion.
    assert meta["KeyId"] in {k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]}


@pytest.mark.parametrize("days", [7, 30])
def test_schedule_key_deletion_window_bounds_accepted(kms, days):
    meta = new_key(kms)
    before = datetime.datetime.now(datetime.timezone.utc)
    out = kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=days)
    assert out["PendingWindowInDays"] == days
    assert abs((out["DeletionDate"] - before).total_seconds() - days * 86400) < 120


@pytest.mark.parametrize("days", [0, 1, 6, 31, 365, 366])
def test_schedule_key_deletion_window_out_of_bounds(server, kms, days):
    meta = new_key(kms)
    expect_error("ValidationException", unchecked(server).schedule_key_deletion, KeyId=meta["KeyId"], PendingWindowInDays=days)
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_cancel_key_deletion(kms):
    meta = new_key(kms)
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"survivor")["CiphertextBlob"]
    kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
    out = kms.cancel_key_deletion(KeyId=meta["KeyId"])
    assert out["KeyId"] == meta["Arn"]
    got = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert got["KeyState"] == "Disabled" and got["Enabled"] is False
    assert "DeletionDate" not in got and "PendingDeletionWindowInDays" not in got
    expect_error("DisabledException", kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x")
    kms.enable_key(KeyId=meta["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"survivor"
    # Cancelling a key that is not pending deletion is an invalid state.
    expect_error("KMSInvalidStateException", kms.cancel_key_deletion, KeyId=meta["KeyId"])
    expect_error("NotFoundException", kms.cancel_key_deletion, KeyId=str(uuid.uuid4()))


def test_region_isolation(kms, kms_us):
    meta = new_key(kms)
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    expect_error("NotFoundException", kms_us.describe_key, KeyId=meta["KeyId"])
    expect_error("NotFoundException", kms_us.describe_key, KeyId=meta["Arn"])
    expect_error("NotFoundException", kms_us.describe_key, KeyId=alias)
    expect_error("NotFoundException", kms_us.encrypt, KeyId=meta["Arn"], Plaintext=b"x")
    expect_error("NotFoundException", kms_us.disable_key, KeyId=meta["Arn"])
    expect_error("NotFoundException", kms_us.schedule_key_deletion, KeyId=meta["KeyId"])
    us_ids = {k["KeyId"] for p in kms_us.get_paginator("list_keys").paginate() for k in p["Keys"]}
    assert meta["KeyId"] not in us_ids
    # The same alias name is free in the other region.
    us_key = new_key(kms_us)
    kms_us.create_alias(AliasName=alias, TargetKeyId=us_key["KeyId"])
    assert us_key["Arn"].startswith("arn:aws:kms:us-east-1:")
    assert kms_us.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == us_key["KeyId"]
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == meta["KeyId"]


def test_describe_key_on_a_predefined_aws_alias_creates_the_managed_key(server):
    # AWS documents that DescribeKey on a predefined AWS alias with no key yet creates the AWS managed key.
    kms = server.client("kms", region=f"ap-test-{uuid.uuid4().hex[:6]}-3")
    meta = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    assert kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"] == meta["KeyId"]
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/aws/ebs"] == meta["KeyId"]
    # Not for made-up services, and never for customer aliases.
    expect_error("NotFoundException", kms.describe_key, KeyId="alias/aws/not-a-service")
    # Its key policy (as AWS writes it) lets the account only describe, get and list it.
    expect_error("AccessDeniedException", kms.disable_key, KeyId=meta["KeyId"])
