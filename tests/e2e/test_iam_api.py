"""The IAM API (awsQuery) with boto3 and the aws CLI: users, access keys, inline and managed policies,
policy versions, roles, malformed policies, and what an unimplemented operation answers."""
import json

import pytest

from conftest import expect_error
from iam_support import (ACCOUNT, ROOT_ARN, Identity, allow, aws_as, document, error_of, eventually, make_role,
                         make_user, trust, unique, wait_usable)

LIST_KEYS = allow("kms:ListKeys")


@pytest.fixture
def iam(server):
    return server.client("iam")


# --- users -------------------------------------------------------------------------------------------

def test_user_create_get_list_delete(iam):
    name = unique("alice")
    user = iam.create_user(UserName=name)["User"]
    assert user["UserName"] == name
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    assert user["Path"] == "/"
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert user["CreateDate"]

    got = iam.get_user(UserName=name)["User"]
    assert (got["UserName"], got["UserId"], got["Arn"]) == (name, user["UserId"], user["Arn"])
    assert name in [u["UserName"] for u in iam.list_users()["Users"]]

    message = expect_error("EntityAlreadyExists", iam.create_user, status=409, UserName=name)
    assert name in message

    iam.delete_user(UserName=name)
    expect_error("NoSuchEntity", iam.get_user, status=404, UserName=name)
    expect_error("NoSuchEntity", iam.delete_user, status=404, UserName=name)
    assert name not in [u["UserName"] for u in iam.list_users()["Users"]]


def test_user_path_and_list_prefix(iam):
    name, path = unique("pathed"), f"/{unique('team')}/"
    user = iam.create_user(UserName=name, Path=path)["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user{path}{name}"
    listed = iam.list_users(PathPrefix=path)["Users"]
    assert [u["UserName"] for u in listed] == [name]
    iam.delete_user(UserName=name)


def test_list_users_pages(iam):
    prefix = f"/{unique('paging')}/"
    names = sorted(unique("p") for _ in range(3))
    for n in names:
        iam.create_user(UserName=n, Path=prefix)
    first = iam.list_users(PathPrefix=prefix, MaxItems=2)
    assert first["IsTruncated"] and len(first["Users"]) == 2
    rest = iam.list_users(PathPrefix=prefix, MaxItems=2, Marker=first["Marker"])
    assert not rest["IsTruncated"]
    assert sorted(u["UserName"] for u in first["Users"] + rest["Users"]) == names
    paginated = [u["UserName"] for page in iam.get_paginator("list_users").paginate(
        PathPrefix=prefix, PaginationConfig={"PageSize": 1}) for u in page["Users"]]
    assert sorted(paginated) == names


def test_get_user_without_name_is_the_caller(server, iam):
    root = iam.get_user()["User"]
    assert root["Arn"] == ROOT_ARN
    alice = make_user(server, allow("iam:GetUser"), prefix="self")
    me = alice.client(server, "iam").get_user()["User"]
    assert me["UserName"] == alice.name and me["Arn"] == alice.arn


def test_delete_user_conflicts_while_keys_or_policies_remain(server, iam):
    name = unique("conflict")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    assert "access keys" in expect_error("DeleteConflict", iam.delete_user, status=409, UserName=name)
    iam.delete_access_key(UserName=name, AccessKeyId=key)

    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document(LIST_KEYS))
    assert "policies" in expect_error("DeleteConflict", iam.delete_user, status=409, UserName=name)
    iam.delete_user_policy(UserName=name, PolicyName="p")

    arn = iam.create_policy(PolicyName=unique("pol"), PolicyDocument=document(LIST_KEYS))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=name, PolicyArn=arn)
    expect_error("DeleteConflict", iam.delete_user, status=409, UserName=name)
    iam.detach_user_policy(UserName=name, PolicyArn=arn)

    iam.delete_user(UserName=name)
    iam.delete_policy(PolicyArn=arn)


# --- access keys -------------------------------------------------------------------------------------

def test_access_keys_create_list_limit(server, iam):
    name = unique("keys")
    user = iam.create_user(UserName=name)["User"]
    first = iam.create_access_key(UserName=name)["AccessKey"]
    assert first["UserName"] == name and first["Status"] == "Active"
    assert first["AccessKeyId"].startswith("AKIA") and len(first["AccessKeyId"]) == 20
    assert len(first["SecretAccessKey"]) == 40
    second = iam.create_access_key(UserName=name)["AccessKey"]
    message = expect_error("LimitExceeded", iam.create_access_key, status=409, UserName=name)
    assert "2" in message

    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed) == sorted([first["AccessKeyId"], second["AccessKeyId"]])
    assert {k["Status"] for k in listed} == {"Active"} and {k["UserName"] for k in listed} == {name}
    assert "SecretAccessKey" not in listed[0]

    # Both keys sign requests as the user.
    for k in (first, second):
        ident = wait_usable(server, Identity(k["AccessKeyId"], k["SecretAccessKey"], user["Arn"]))
        assert ident.client(server, "sts").get_caller_identity()["Arn"] == user["Arn"]
    expect_error("NoSuchEntity", iam.list_access_keys, status=404, UserName=unique("nobody"))


def test_inactive_key_is_refused_and_reactivated(server, iam):
    alice = make_user(server, LIST_KEYS, prefix="inactive")
    kms = alice.client(server)
    kms.list_keys()

    iam.update_access_key(UserName=alice.name, AccessKeyId=alice.access_key, Status="Inactive")
    assert iam.list_access_keys(UserName=alice.name)["AccessKeyMetadata"][0]["Status"] == "Inactive"

    def refused():
        code, message, _ = error_of(kms.list_keys)
        assert code == "UnrecognizedClientException", (code, message)
    eventually(refused, timeout=2.5)

    iam.update_access_key(UserName=alice.name, AccessKeyId=alice.access_key, Status="Active")
    eventually(kms.list_keys, timeout=2.5)

    iam.delete_access_key(UserName=alice.name, AccessKeyId=alice.access_key)
    eventually(refused, timeout=2.5)
    assert iam.list_access_keys(UserName=alice.name)["AccessKeyMetadata"] == []


def test_update_or_delete_unknown_key(iam):
    name = unique("nokey")
    iam.create_user(UserName=name)
    expect_error("NoSuchEntity", iam.update_access_key, status=404, UserName=name,
                 AccessKeyId="AKIAUNKNOWNKEY000000", Status="Inactive")
    expect_error("NoSuchEntity", iam.delete_access_key, status=404, UserName=name,
                 AccessKeyId="AKIAUNKNOWNKEY000000")
    # Another user's key is not this user's.
    other = unique("other")
    iam.create_user(UserName=other)
    key = iam.create_access_key(UserName=other)["AccessKey"]["AccessKeyId"]
    expect_error("NoSuchEntity", iam.delete_access_key, status=404, UserName=name, AccessKeyId=key)


# --- inline policies ---------------------------------------------------------------------------------

def test_inline_user_policies(server, iam):
    name = unique("inline")
    iam.create_user(UserName=name)
    doc_a = {"Version": "2012-10-17", "Statement": [LIST_KEYS]}
    doc_b = {"Version": "2012-10-17", "Statement": [allow(["kms:Describe*", "kms:Get*"], "arn:aws:kms:*:*:key/*")]}
    iam.put_user_policy(UserName=name, PolicyName="b-policy", PolicyDocument=json.dumps(doc_b))
    iam.put_user_policy(UserName=name, PolicyName="a-policy", PolicyDocument=json.dumps(doc_a))
    assert sorted(iam.list_user_policies(UserName=name)["PolicyNames"]) == ["a-policy", "b-policy"]

    got = iam.get_user_policy(UserName=name, PolicyName="a-policy")
    assert got["UserName"] == name and got["PolicyName"] == "a-policy"
    assert got["PolicyDocument"] == doc_a  # sent URL-encoded, decoded by botocore

    iam.put_user_policy(UserName=name, PolicyName="a-policy", PolicyDocument=json.dumps(doc_b))
    assert iam.get_user_policy(UserName=name, PolicyName="a-policy")["PolicyDocument"] == doc_b

    iam.delete_user_policy(UserName=name, PolicyName="a-policy")
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["b-policy"]
    expect_error("NoSuchEntity", iam.get_user_policy, status=404, UserName=name, PolicyName="a-policy")
    expect_error("NoSuchEntity", iam.delete_user_policy, status=404, UserName=name, PolicyName="a-policy")
    expect_error("NoSuchEntity", iam.put_user_policy, status=404, UserName=unique("ghost"), PolicyName="p",
                 PolicyDocument=json.dumps(doc_a))


def test_inline_role_policies(server, iam):
    role = make_role(server)
    name = role["RoleName"]
    doc = {"Version": "2012-10-17", "Statement": [allow(["kms:Decrypt", "kms:DescribeKey"],
                                                        "arn:aws:kms:eu-west-1:*:key/*")]}
    iam.put_role_policy(RoleName=name, PolicyName="kms", PolicyDocument=json.dumps(doc))
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["kms"]
    got = iam.get_role_policy(RoleName=name, PolicyName="kms")
    assert got["RoleName"] == name and got["PolicyName"] == "kms"
    assert isinstance(got["PolicyDocument"], dict) and got["PolicyDocument"] == doc
    iam.delete_role_policy(RoleName=name, PolicyName="kms")
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    expect_error("NoSuchEntity", iam.get_role_policy, status=404, RoleName=name, PolicyName="kms")


def test_inline_policy_changes_take_effect(server, iam):
    alice = make_user(server, prefix="effect")
    kms = alice.client(server)
    expect_error("AccessDeniedException", kms.list_keys)
    iam.put_user_policy(UserName=alice.name, PolicyName="list", PolicyDocument=document(LIST_KEYS))
    eventually(kms.list_keys, timeout=2.5)
    iam.delete_user_policy(UserName=alice.name, PolicyName="list")
    eventually(lambda: expect_error("AccessDeniedException", kms.list_keys), timeout=2.5)


# --- managed policies --------------------------------------------------------------------------------

def test_managed_policy_attach_detach(server, iam):
    name = unique("managed")
    created = iam.create_policy(PolicyName=name, PolicyDocument=document(LIST_KEYS), Description="list keys")
    policy = created["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/{name}"
    assert policy["DefaultVersionId"] == "v1" and policy["AttachmentCount"] == 0
    assert policy["PolicyId"].startswith("ANPA") and policy["IsAttachable"]
    expect_error("EntityAlreadyExists", iam.create_policy, status=409, PolicyName=name,
                 PolicyDocument=document(LIST_KEYS))

    user, role = unique("attuser"), make_role(server)["RoleName"]
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [
        {"PolicyName": name, "PolicyArn": arn}]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == [
        {"PolicyName": name, "PolicyArn": arn}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
    assert arn in [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]

    expect_error("DeleteConflict", iam.delete_policy, status=409, PolicyArn=arn)
    expect_error("DeleteConflict", iam.delete_role, status=409, RoleName=role)

    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    expect_error("NoSuchEntity", iam.detach_user_policy, status=404, UserName=user, PolicyArn=arn)

    iam.delete_policy(PolicyArn=arn)
    expect_error("NoSuchEntity", iam.get_policy, status=404, PolicyArn=arn)
    expect_error("NoSuchEntity", iam.attach_user_policy, status=404, UserName=user, PolicyArn=arn)


def test_managed_policy_versions(iam):
    arn = iam.create_policy(PolicyName=unique("versions"), PolicyDocument=document(LIST_KEYS))["Policy"]["Arn"]
    v2_doc = {"Version": "2012-10-17", "Statement": [allow("kms:DescribeKey")]}
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(v2_doc), SetAsDefault=True)
    assert v2["PolicyVersion"]["VersionId"] == "v2" and v2["PolicyVersion"]["IsDefaultVersion"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"

    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert sorted(v["VersionId"] for v in versions) == ["v1", "v2"]
    assert {v["VersionId"]: v["IsDefaultVersion"] for v in versions} == {"v1": False, "v2": True}
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
    assert got["Document"] == v2_doc and got["IsDefaultVersion"]

    for _ in range(3):  # v3, v4, v5: not default
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(LIST_KEYS))
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    expect_error("LimitExceeded", iam.create_policy_version, status=409, PolicyArn=arn,
                 PolicyDocument=document(LIST_KEYS))

    expect_error("DeleteConflict", iam.delete_policy_version, status=409, PolicyArn=arn, VersionId="v2")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v4")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v4"
    v6 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(LIST_KEYS))["PolicyVersion"]
    assert v6["VersionId"] == "v6" and not v6["IsDefaultVersion"]
    expect_error("NoSuchEntity", iam.get_policy_version, status=404, PolicyArn=arn, VersionId="v1")


def test_managed_policy_default_version_decides(server, iam):
    alice = make_user(server, prefix="mgd")
    kms = alice.client(server)
    arn = iam.create_policy(PolicyName=unique("mgd"), PolicyDocument=document(LIST_KEYS))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=alice.name, PolicyArn=arn)
    eventually(kms.list_keys, timeout=2.5)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("kms:DescribeKey")), SetAsDefault=True)
    eventually(lambda: expect_error("AccessDeniedException", kms.list_keys), timeout=2.5)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    eventually(kms.list_keys, timeout=2.5)
    iam.detach_user_policy(UserName=alice.name, PolicyArn=arn)
    eventually(lambda: expect_error("AccessDeniedException", kms.list_keys), timeout=2.5)


# --- roles -------------------------------------------------------------------------------------------

def test_role_create_get_list_update_delete(server, iam):
    name = unique("role")
    trust_doc = json.loads(trust(ROOT_ARN))
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_doc),
                           Description="gates", MaxSessionDuration=7200)["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/{name}"
    assert role["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName=name)["Role"]
    assert got["AssumeRolePolicyDocument"] == trust_doc
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "gates"
    assert name in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    expect_error("EntityAlreadyExists", iam.create_role, status=409, RoleName=name,
                 AssumeRolePolicyDocument=json.dumps(trust_doc))

    other = json.loads(trust(f"arn:aws:iam::{ACCOUNT}:user/{unique('someone')}"))
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(other))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == other

    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=document(LIST_KEYS))
    expect_error("DeleteConflict", iam.delete_role, status=409, RoleName=name)
    iam.delete_role_policy(RoleName=name, PolicyName="p")
    iam.delete_role(RoleName=name)
    expect_error("NoSuchEntity", iam.get_role, status=404, RoleName=name)
    expect_error("NoSuchEntity", iam.update_assume_role_policy, status=404, RoleName=name,
                 PolicyDocument=json.dumps(other))


def test_role_max_session_duration_bounds(server):
    iam = server.client("iam", validate=False)
    for bad in (3599, 43201):
        expect_error("ValidationError", iam.create_role, status=400, RoleName=unique("maxdur"),
                     AssumeRolePolicyDocument=trust(ROOT_ARN), MaxSessionDuration=bad)


# --- malformed policies ------------------------------------------------------------------------------

MALFORMED = {
    "principal in an identity policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ROOT_ARN}, "Action": "kms:*", "Resource": "*"}]}),
    "not JSON": '{"Version": "2012-10-17", "Statement": [',
    "bad Effect": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allowed", "Action": "kms:*", "Resource": "*"}]}),
    "no Action": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
    "bad Version": json.dumps({"Version": "2020-01-01", "Statement": [allow("kms:*")]}),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_identity_policies(server, iam, case):
    doc = MALFORMED[case]
    name, role = unique("malformed"), make_role(server)["RoleName"]
    iam.create_user(UserName=name)
    expect_error("MalformedPolicyDocument", iam.put_user_policy, status=400, UserName=name, PolicyName="p",
                 PolicyDocument=doc)
    expect_error("MalformedPolicyDocument", iam.put_role_policy, status=400, RoleName=role, PolicyName="p",
                 PolicyDocument=doc)
    expect_error("MalformedPolicyDocument", iam.create_policy, status=400, PolicyName=unique("bad"),
                 PolicyDocument=doc)
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []


def test_malformed_trust_policy(iam):
    no_principal = document({"Effect": "Allow", "Action": "sts:AssumeRole"})
    expect_error("MalformedPolicyDocument", iam.create_role, status=400, RoleName=unique("trust"),
                 AssumeRolePolicyDocument=no_principal)
    expect_error("MalformedPolicyDocument", iam.create_role, status=400, RoleName=unique("trust"),
                 AssumeRolePolicyDocument="{not json")


# --- authorization of IAM itself, unimplemented operations -------------------------------------------

def test_iam_calls_need_iam_permissions(server):
    alice = make_user(server, prefix="noiam")
    code, message, status = error_of(alice.client(server, "iam").list_users)
    assert (code, status) == ("AccessDenied", 403)
    assert alice.arn in message and "iam:ListUsers" in message
    reader = make_user(server, allow(["iam:ListUsers", "iam:GetUser"]), prefix="iamreader")
    iam = reader.client(server, "iam")
    assert reader.name in [u["UserName"] for u in iam.list_users()["Users"]]
    code, _, status = error_of(iam.create_user, UserName=unique("nope"))
    assert (code, status) == ("AccessDenied", 403)


def test_unimplemented_operation_is_a_named_client_error(iam):
    code, message, status = error_of(iam.create_group, GroupName=unique("group"))
    assert 400 <= status < 500 and code and code != "InternalFailure", (code, status)
    assert "CreateGroup" in message


# --- the aws CLI ---------------------------------------------------------------------------------------

def test_iam_with_the_aws_cli(server, tmp_path):
    name = unique("cli-user")
    user = server.aws("iam", "create-user", "--user-name", name)["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    key = server.aws("iam", "create-access-key", "--user-name", name)["AccessKey"]
    statements = tmp_path / "policy.json"
    statements.write_text(document(allow(["kms:ListKeys", "kms:ListAliases"])))
    server.aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "list",
               "--policy-document", f"file://{statements}")
    got = server.aws("iam", "get-user-policy", "--user-name", name, "--policy-name", "list")
    assert got["PolicyDocument"]["Statement"][0]["Action"] == ["kms:ListKeys", "kms:ListAliases"]

    ident = wait_usable(server, Identity(key["AccessKeyId"], key["SecretAccessKey"], user["Arn"]))
    assert "Keys" in aws_as(server, ident, "kms", "list-keys")
    denied = aws_as(server, ident, "kms", "create-key", check=False)
    assert denied.returncode != 0 and "AccessDeniedException" in denied.stderr

    missing = server.aws("iam", "get-user", "--user-name", unique("ghost"), check=False)
    assert missing.returncode != 0 and "NoSuchEntity" in missing.stderr

    policy_arn = server.aws("iam", "create-policy", "--policy-name", unique("cli-pol"),
                            "--policy-document", f"file://{statements}")["Policy"]["Arn"]
    server.aws("iam", "attach-user-policy", "--user-name", name, "--policy-arn", policy_arn)
    conflict = server.aws("iam", "delete-user", "--user-name", name, check=False)
    assert conflict.returncode != 0 and "DeleteConflict" in conflict.stderr
