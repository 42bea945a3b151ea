"""KMS aliases (CreateAlias, UpdateAlias, DeleteAlias, ListAliases), tags (TagResource, UntagResource,
ListResourceTags) and key policies (GetKeyPolicy, PutKeyPolicy, ListKeyPolicies) through boto3."""
import json
import time
import uuid

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY, expect_error, unchecked  # noqa: F401

ACCOUNT = "000000000000"


def new_key(kms, **kw):
    return kms.create_key(**kw)["KeyMetadata"]


def alias_name(tag="a"):
    return f"alias/{tag}-{uuid.uuid4().hex[:12]}"


def aliases_of(kms, **kw):
    return [a for p in kms.get_paginator("list_aliases").paginate(**kw) for a in p["Aliases"]]


# --- aliases ---------------------------------------------------------------------------------------

def test_create_alias_and_list(kms):
    key = new_key(kms)
    name = alias_name()
    before = time.time()
    kms.create_alias(AliasName=name, TargetKeyId=key["Arn"])
    entry = next(a for a in aliases_of(kms) if a["AliasName"] == name)
    assert entry["AliasArn"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:{name}"
    assert entry["TargetKeyId"] == key["KeyId"]
    assert abs(entry["CreationDate"].timestamp() - before) < 60
    assert entry["LastUpdatedDate"] >= entry["CreationDate"]
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == key["KeyId"]


def test_create_alias_refusals(server, kms):
    key = new_key(kms)
    name = alias_name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    expect_error("AlreadyExistsException", kms.create_alias, AliasName=name, TargetKeyId=new_key(kms)["KeyId"])
    expect_error("NotAuthorizedException", kms.create_alias, AliasName="alias/aws/x", TargetKeyId=key["KeyId"])
    expect_error("ValidationException", kms.create_alias, AliasName="no-prefix", TargetKeyId=key["KeyId"])
    expect_error("ValidationException", kms.create_alias, AliasName="alias/", TargetKeyId=key["KeyId"])
    for bad in ("alias/has space", "alias/bad*char", "alias/ünïcode"):
        msg = expect_error("ValidationException", unchecked(server).create_alias, AliasName=bad,
                           TargetKeyId=key["KeyId"])
        assert "aliasName" in msg, msg
    msg = expect_error("ValidationException", kms.create_alias, AliasName=alias_name(), TargetKeyId=name)
    expect_error("ValidationException", kms.create_alias, AliasName=alias_name(),
                 TargetKeyId=f"arn:aws:kms:eu-west-1:{ACCOUNT}:{name}")
    expect_error("NotFoundException", kms.create_alias, AliasName=alias_name(), TargetKeyId=str(uuid.uuid4()))
    doomed = new_key(kms)
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    expect_error("KMSInvalidStateException", kms.create_alias, AliasName=alias_name(), TargetKeyId=doomed["KeyId"])


def test_alias_to_disabled_key_is_allowed(kms):
    key = new_key(kms)
    kms.disable_key(KeyId=key["KeyId"])
    name = alias_name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    expect_error("DisabledException", kms.encrypt, KeyId=name, Plaintext=b"x")


def test_update_alias_retargets(kms):
    first, second = new_key(kms), new_key(kms)
    name = alias_name()
    kms.create_alias(AliasName=name, TargetKeyId=first["KeyId"])
    old_blob = kms.encrypt(KeyId=name, Plaintext=b"one")["CiphertextBlob"]
    kms.update_alias(AliasName=name, TargetKeyId=second["Arn"])
    out = kms.encrypt(KeyId=name, Plaintext=b"two")
    assert out["KeyId"] == second["Arn"]
    assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"])["KeyId"] == second["Arn"]
    # Ciphertext made through the alias before still decrypts under its own key.
    assert kms.decrypt(CiphertextBlob=old_blob)["KeyId"] == first["Arn"]
    entry = next(a for a in aliases_of(kms) if a["AliasName"] == name)
    assert entry["TargetKeyId"] == second["KeyId"]
    assert entry["LastUpdatedDate"] >= entry["CreationDate"]
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == second["KeyId"]


def test_update_alias_refusals(kms):
    key = new_key(kms)
    name = alias_name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    expect_error("NotFoundException", kms.update_alias, AliasName=alias_name(), TargetKeyId=key["KeyId"])
    expect_error("NotFoundException", kms.update_alias, AliasName=name, TargetKeyId=str(uuid.uuid4()))
    expect_error("ValidationException", kms.update_alias, AliasName=name, TargetKeyId=name)
    expect_error("NotAuthorizedException", kms.update_alias, AliasName="alias/aws/ebs", TargetKeyId=key["KeyId"])
    doomed = new_key(kms)
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    expect_error("KMSInvalidStateException", kms.update_alias, AliasName=name, TargetKeyId=doomed["KeyId"])
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == key["KeyId"]


def test_delete_alias(kms):
    key = new_key(kms)
    name = alias_name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    kms.delete_alias(AliasName=name)
    expect_error("NotFoundException", kms.describe_key, KeyId=name)
    expect_error("NotFoundException", kms.encrypt, KeyId=name, Plaintext=b"x")
    expect_error("NotFoundException", kms.delete_alias, AliasName=name)
    expect_error("NotFoundException", kms.update_alias, AliasName=name, TargetKeyId=key["KeyId"])
    assert name not in {a["AliasName"] for a in aliases_of(kms)}
    # The key itself is untouched and the name can be reused.
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == key["KeyId"]


def test_list_aliases_filter_and_paging(kms):
    key, other = new_key(kms), new_key(kms)
    names = sorted(alias_name("page") for _ in range(5))
    for n in names:
        kms.create_alias(AliasName=n, TargetKeyId=key["KeyId"])
    kms.create_alias(AliasName=alias_name("other"), TargetKeyId=other["KeyId"])
    for key_id in (key["KeyId"], key["Arn"]):
        listed = kms.list_aliases(KeyId=key_id)
        assert sorted(a["AliasName"] for a in listed["Aliases"]) == names
        assert all(a["TargetKeyId"] == key["KeyId"] for a in listed["Aliases"])
        assert listed["Truncated"] is False
    pages, seen, marker = [], [], None
    while True:
        kw = {"KeyId": key["KeyId"], "Limit": 2}
        if marker:
            kw["Marker"] = marker
        page = kms.list_aliases(**kw)
        pages.append(len(page["Aliases"]))
        seen += [a["AliasName"] for a in page["Aliases"]]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert pages == [2, 2, 1] and sorted(seen) == names
    assert kms.list_aliases(KeyId=new_key(kms)["KeyId"])["Aliases"] == []
    expect_error("NotFoundException", kms.list_aliases, KeyId=str(uuid.uuid4()))
    expect_error("InvalidMarkerException", kms.list_aliases, Marker="bogus")


def test_aliases_are_regional(kms, kms_us):
    key = new_key(kms)
    name = alias_name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    assert name not in {a["AliasName"] for a in aliases_of(kms_us)}
    expect_error("NotFoundException", kms_us.encrypt, KeyId=name, Plaintext=b"x")
    expect_error("NotFoundException", kms_us.delete_alias, AliasName=name)
    expect_error("NotFoundException", kms_us.create_alias, AliasName=alias_name(), TargetKeyId=key["Arn"])


# --- tags ------------------------------------------------------------------------------------------

def tags_of(kms, key_id):
    return {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key_id)["Tags"]}


def test_tag_untag_list(kms):
    key = new_key(kms, Tags=[{"TagKey": "a", "TagValue": "1"}])
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "b", "TagValue": "2"}, {"TagKey": "c", "TagValue": ""}])
    assert tags_of(kms, key["KeyId"]) == {"a": "1", "b": "2", "c": ""}
    kms.tag_resource(KeyId=key["Arn"], Tags=[{"TagKey": "a", "TagValue": "overwritten"}])
    assert tags_of(kms, key["Arn"]) == {"a": "overwritten", "b": "2", "c": ""}
    kms.untag_resource(KeyId=key["KeyId"], TagKeys=["b", "not-there"])
    assert tags_of(kms, key["KeyId"]) == {"a": "overwritten", "c": ""}
    out = kms.list_resource_tags(KeyId=key["KeyId"])
    assert out["Truncated"] is False
    expect_error("NotFoundException", kms.tag_resource, KeyId=str(uuid.uuid4()),
                 Tags=[{"TagKey": "a", "TagValue": "b"}])
    expect_error("NotFoundException", kms.list_resource_tags, KeyId=str(uuid.uuid4()))


def test_tag_limits_and_reserved_prefix(kms):
    key = new_key(kms)
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": f"k{i}", "TagValue": str(i)} for i in range(50)])
    assert len(tags_of(kms, key["KeyId"])) == 50
    expect_error("LimitExceededException", kms.tag_resource, KeyId=key["KeyId"],
                 Tags=[{"TagKey": "one-too-many", "TagValue": "x"}])
    # Overwriting an existing tag at the limit is fine.
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "k0", "TagValue": "new"}])
    assert tags_of(kms, key["KeyId"])["k0"] == "new"
    expect_error("LimitExceededException", kms.create_key,
                 Tags=[{"TagKey": f"k{i}", "TagValue": "v"} for i in range(51)])
    expect_error("TagException", kms.tag_resource, KeyId=key["KeyId"], Tags=[{"TagKey": "aws:x", "TagValue": "y"}])
    assert len(tags_of(kms, key["KeyId"])) == 50


def test_list_resource_tags_paging(kms):
    key = new_key(kms)
    want = {f"t{i:02}": f"v{i}" for i in range(7)}
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": k, "TagValue": v} for k, v in want.items()])
    got, pages, marker = {}, [], None
    while True:
        kw = {"KeyId": key["KeyId"], "Limit": 3}
        if marker:
            kw["Marker"] = marker
        page = kms.list_resource_tags(**kw)
        pages.append(len(page["Tags"]))
        got.update({t["TagKey"]: t["TagValue"] for t in page["Tags"]})
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert pages == [3, 3, 1] and got == want


def test_tags_on_pending_deletion_key(kms):
    key = new_key(kms)
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    expect_error("KMSInvalidStateException", kms.tag_resource, KeyId=key["KeyId"],
                 Tags=[{"TagKey": "a", "TagValue": "b"}])


# --- key policies ----------------------------------------------------------------------------------

def test_default_key_policy(kms):
    key = new_key(kms)
    out = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")
    doc = json.loads(out["Policy"])
    stmts = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    root = f"arn:aws:iam::{ACCOUNT}:root"
    assert any(s["Effect"] == "Allow" and s["Principal"]["AWS"] == root and s["Action"] == "kms:*"
               for s in stmts), doc
    assert out.get("PolicyName", "default") == "default"
    # PolicyName is optional (defaults to "default").
    assert kms.get_key_policy(KeyId=key["Arn"])["Policy"] == out["Policy"]


def test_put_key_policy_round_trip(kms):
    key = new_key(kms)
    policy = json.dumps({
        "Version": "2012-10-17",
        "Id": "custom",
        "Statement": [
            {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "ro", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/reader"},
             "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"},
        ],
    }, indent=2)
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy)
    assert kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"] == policy
    kms.put_key_policy(KeyId=key["Arn"], Policy=policy.replace("reader", "writer"))
    assert "writer" in kms.get_key_policy(KeyId=key["KeyId"])["Policy"]


def test_key_policy_refusals(kms):
    key = new_key(kms)
    original = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    for bad in ("{not json", "[]", json.dumps({"Version": "2012-10-17"})):
        expect_error("MalformedPolicyDocumentException", kms.put_key_policy, KeyId=key["KeyId"],
                     PolicyName="default", Policy=bad)
    expect_error("NotFoundException", kms.get_key_policy, KeyId=key["KeyId"], PolicyName="other")
    expect_error("NotFoundException", kms.put_key_policy, KeyId=key["KeyId"], PolicyName="other",
                 Policy=original)
    expect_error("NotFoundException", kms.get_key_policy, KeyId=str(uuid.uuid4()), PolicyName="default")
    assert kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"] == original


def test_list_key_policies(kms):
    key = new_key(kms)
    out = kms.list_key_policies(KeyId=key["KeyId"])
    assert out["PolicyNames"] == ["default"] and out["Truncated"] is False
    assert kms.list_key_policies(KeyId=key["Arn"])["PolicyNames"] == ["default"]
    expect_error("NotFoundException", kms.list_key_policies, KeyId=str(uuid.uuid4()))
