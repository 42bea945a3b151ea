"""Policy enforcement on KMS and SSM: the seed's Lambda role end to end (its iamRoleStatements allow
exactly kms:Decrypt/DescribeKey on eu-west-1 keys and ssm:GetParameter(s) on /can2025/*), explicit
Deny over Allow, wildcards, NotAction/NotResource, conditions, kms:ViaService, and the root."""
import base64
import json

import pytest

from conftest import Server, expect_error
from iam_support import (ACCOUNT, ROOT_ARN, Identity, allow, assume, aws_as, deny, document, error_of,
                         make_role, make_user, unique)

SEED_ROLE = "can2025-secure-gates-lambda"
SEED_SESSION = "verifyTicket"
SEED_ALIAS = "alias/can2025-jwt-secret"
SEED_PARAM = "/can2025/prod/jwt-secret"
SEED_SECRET = "can2025-secret-key-production"
SEED_STATEMENTS = [
    {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": ["arn:aws:kms:eu-west-1:*:key/*"]},
    {"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"],
     "Resource": ["arn:aws:ssm:eu-west-1:*:parameter/can2025/*"]},
]
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/{SEED_ROLE}/{SEED_SESSION}"


def denial(fn, **kwargs):
    """The call must be refused with KMS/SSM's AccessDeniedException; returns its message."""
    return expect_error("AccessDeniedException", fn, status=400, **kwargs)


# --- the seed scenario (a server of its own: the seed's names are fixed) ------------------------------

class Seed:
    pass


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """As root: the key and alias, the SecureString, and the Lambda role with the seed's statements,
    created with the aws CLI as the seed does; then the role assumed as session `verifyTicket`."""
    server = Server().start()
    s = Seed()
    s.server = server
    kms, ssm = server.client("kms"), server.client("ssm")
    s.key = kms.create_key(Description="can2025 JWT secret")["KeyMetadata"]
    kms.create_alias(AliasName=SEED_ALIAS, TargetKeyId=s.key["KeyId"])
    s.ciphertext = kms.encrypt(KeyId=SEED_ALIAS, Plaintext=SEED_SECRET.encode())["CiphertextBlob"]
    ssm.put_parameter(Name=SEED_PARAM, Value=SEED_SECRET, Type="SecureString", KeyId=SEED_ALIAS)
    ssm.put_parameter(Name="/can2025/prod/api-url", Value="https://gates.example", Type="String")
    ssm.put_parameter(Name="/other/x", Value="not for the lambda", Type="String")

    files = tmp_path_factory.mktemp("seed")
    (files / "trust.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ROOT_ARN}, "Action": "sts:AssumeRole"}]}))
    (files / "statements.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": SEED_STATEMENTS}))
    (files / "ciphertext.bin").write_bytes(s.ciphertext)
    s.files = files
    server.aws("iam", "create-role", "--role-name", SEED_ROLE,
               "--assume-role-policy-document", f"file://{files / 'trust.json'}")
    server.aws("iam", "put-role-policy", "--role-name", SEED_ROLE, "--policy-name", "kms-ssm",
               "--policy-document", f"file://{files / 'statements.json'}")
    out = server.aws("sts", "assume-role", "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/{SEED_ROLE}",
                     "--role-session-name", SEED_SESSION)
    c = out["Credentials"]
    s.session = Identity(c["AccessKeyId"], c["SecretAccessKey"], out["AssumedRoleUser"]["Arn"],
                         token=c["SessionToken"])
    s.kms, s.ssm = s.session.client(server, "kms"), s.session.client(server, "ssm")
    yield s
    server.stop()
    server.cleanup()


def test_seed_session_identity(seed):
    assert seed.session.arn == SESSION_ARN
    assert seed.session.client(seed.server, "sts").get_caller_identity()["Arn"] == SESSION_ARN


def test_seed_decrypt_works_with_the_cli(seed):
    out = aws_as(seed.server, seed.session, "kms", "decrypt", "--ciphertext-blob",
                 f"fileb://{seed.files / 'ciphertext.bin'}", "--query", "Plaintext", "--output", "text")
    assert base64.b64decode(out).decode() == SEED_SECRET
    assert seed.kms.decrypt(CiphertextBlob=seed.ciphertext)["Plaintext"] == SEED_SECRET.encode()


def test_seed_describe_key_works(seed):
    for key_id in (SEED_ALIAS, seed.key["KeyId"], seed.key["Arn"]):
        assert seed.kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"] == seed.key["Arn"]


def test_seed_get_parameter_with_decryption_works_with_the_cli(seed):
    out = aws_as(seed.server, seed.session, "ssm", "get-parameter", "--name", SEED_PARAM, "--with-decryption",
                 "--query", "Parameter.Value", "--output", "text")
    assert out == SEED_SECRET
    both = seed.ssm.get_parameters(Names=[SEED_PARAM, "/can2025/prod/api-url"], WithDecryption=True)
    assert {p["Name"]: p["Value"] for p in both["Parameters"]} == {
        SEED_PARAM: SEED_SECRET, "/can2025/prod/api-url": "https://gates.example"}
    # Without decryption the value stays ciphertext, and no KMS permission is involved.
    raw = seed.ssm.get_parameter(Name=SEED_PARAM)["Parameter"]
    assert raw["Type"] == "SecureString" and raw["Value"] != SEED_SECRET


def test_seed_create_key_is_denied_with_aws_message(seed):
    proc = aws_as(seed.server, seed.session, "kms", "create-key", check=False)
    assert proc.returncode != 0 and "AccessDeniedException" in proc.stderr
    message = denial(seed.kms.create_key)
    assert message == (f"User: {SESSION_ARN} is not authorized to perform: kms:CreateKey on resource: * "
                       "because no identity-based policy allows the kms:CreateKey action")


def test_seed_encrypt_is_denied(seed):
    message = denial(seed.kms.encrypt, KeyId=SEED_ALIAS, Plaintext=b"forged")
    assert f"User: {SESSION_ARN} is not authorized to perform: kms:Encrypt on resource: {seed.key['Arn']}" in message
    assert "because no identity-based policy allows the kms:Encrypt action" in message


@pytest.mark.parametrize("call", ["list_keys", "list_aliases", "schedule_key_deletion", "generate_data_key",
                                  "put_key_policy", "disable_key"])
def test_seed_other_kms_operations_are_denied(seed, call):
    args = {
        "list_keys": {}, "list_aliases": {},
        "schedule_key_deletion": {"KeyId": seed.key["KeyId"], "PendingWindowInDays": 7},
        "generate_data_key": {"KeyId": seed.key["KeyId"], "KeySpec": "AES_256"},
        "put_key_policy": {"KeyId": seed.key["KeyId"], "PolicyName": "default", "Policy": document(
            {"Effect": "Allow", "Principal": {"AWS": SESSION_ARN}, "Action": "kms:*", "Resource": "*"})},
        "disable_key": {"KeyId": seed.key["KeyId"]},
    }[call]
    denial(getattr(seed.kms, call), **args)
    assert seed.server.client("kms").describe_key(KeyId=seed.key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_seed_parameter_outside_can2025_is_denied(seed):
    message = denial(seed.ssm.get_parameter, Name="/other/x")
    assert (f"User: {SESSION_ARN} is not authorized to perform: ssm:GetParameter on resource: "
            f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/other/x") in message
    denial(seed.ssm.get_parameters, Names=["/other/x"])
    denial(seed.ssm.get_parameters_by_path, Path="/can2025")
    denial(seed.ssm.describe_parameters)


def test_seed_put_parameter_is_denied(seed):
    message = denial(seed.ssm.put_parameter, Name="/can2025/prod/jwt-secret", Value="overwritten",
                     Type="SecureString", Overwrite=True)
    assert "ssm:PutParameter" in message
    proc = aws_as(seed.server, seed.session, "ssm", "put-parameter", "--name", "/can2025/prod/new",
                  "--value", "x", "--type", "String", check=False)
    assert proc.returncode != 0 and "AccessDeniedException" in proc.stderr
    denial(seed.ssm.delete_parameter, Name=SEED_PARAM)
    value = seed.server.client("ssm").get_parameter(Name=SEED_PARAM, WithDecryption=True)["Parameter"]["Value"]
    assert value == SEED_SECRET


def test_seed_us_east_1_is_denied(seed):
    root_us = seed.server.client("kms", region="us-east-1")
    key = root_us.create_key()["KeyMetadata"]
    ciphertext = root_us.encrypt(KeyId=key["KeyId"], Plaintext=b"elsewhere")["CiphertextBlob"]
    kms_us = seed.session.client(seed.server, "kms", region="us-east-1")
    message = denial(kms_us.describe_key, KeyId=key["KeyId"])
    assert key["Arn"] in message and "arn:aws:kms:us-east-1:" in key["Arn"]
    denial(kms_us.decrypt, CiphertextBlob=ciphertext)
    seed.server.client("ssm", region="us-east-1").put_parameter(Name="/can2025/prod/us", Value="v", Type="String")
    denial(seed.session.client(seed.server, "ssm", region="us-east-1").get_parameter, Name="/can2025/prod/us")


def test_seed_other_eu_west_1_key_is_allowed_by_the_wildcard(seed):
    root = seed.server.client("kms")
    key = root.create_key()["KeyMetadata"]
    ciphertext = root.encrypt(KeyId=key["KeyId"], Plaintext=b"any eu-west-1 key")["CiphertextBlob"]
    assert seed.kms.decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"any eu-west-1 key"


def test_seed_root_keeps_working(seed):
    kms, ssm = seed.server.client("kms"), seed.server.client("ssm")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    ct = kms.encrypt(KeyId=key, Plaintext=b"root")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"root"
    ssm.put_parameter(Name="/can2025/prod/root-owned", Value="r", Type="SecureString", KeyId=SEED_ALIAS)
    assert ssm.get_parameter(Name="/can2025/prod/root-owned", WithDecryption=True)["Parameter"]["Value"] == "r"
    assert seed.server.client("iam").get_role(RoleName=SEED_ROLE)["Role"]["RoleName"] == SEED_ROLE


# --- evaluation logic on the shared server -------------------------------------------------------------

@pytest.fixture
def root_key(server):
    return server.client("kms").create_key(Description=unique("authz"))["KeyMetadata"]


def test_user_without_policies_is_denied_everything(server, root_key):
    nobody = make_user(server, prefix="nobody")
    kms, ssm = nobody.client(server), nobody.client(server, "ssm")
    message = denial(kms.list_keys)
    assert message == (f"User: {nobody.arn} is not authorized to perform: kms:ListKeys on resource: * "
                       "because no identity-based policy allows the kms:ListKeys action")
    denial(kms.create_key)
    denial(kms.describe_key, KeyId=root_key["KeyId"])
    denial(kms.encrypt, KeyId=root_key["KeyId"], Plaintext=b"x")
    denial(ssm.describe_parameters)
    denial(ssm.get_parameter, Name=f"/{unique('p')}")
    expect_error("AccessDenied", nobody.client(server, "iam").list_roles, status=403)


def test_root_keeps_working(server):
    kms, ssm = server.client("kms"), server.client("ssm")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    ct = kms.encrypt(KeyId=key, Plaintext=b"admin", EncryptionContext={"a": "b"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=ct, EncryptionContext={"a": "b"})["Plaintext"] == b"admin"
    name = f"/{unique('root')}/secret"
    ssm.put_parameter(Name=name, Value="v", Type="SecureString")
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "v"
    assert server.client("iam").list_users()["Users"] is not None


def test_explicit_deny_beats_allow(server, root_key):
    user = make_user(server, allow("kms:*"), deny("kms:Decrypt"), prefix="denier")
    kms = user.client(server)
    ct = kms.encrypt(KeyId=root_key["KeyId"], Plaintext=b"ok")["CiphertextBlob"]
    kms.describe_key(KeyId=root_key["KeyId"])
    message = denial(kms.decrypt, CiphertextBlob=ct)
    assert message == (f"User: {user.arn} is not authorized to perform: kms:Decrypt on resource: {root_key['Arn']} "
                       "with an explicit deny in an identity-based policy")


def test_explicit_deny_in_a_managed_policy_beats_an_inline_allow(server, root_key):
    user = make_user(server, allow("kms:*"), prefix="mdeny")
    iam = server.client("iam")
    arn = iam.create_policy(PolicyName=unique("deny-encrypt"),
                            PolicyDocument=document(deny("kms:Encrypt", root_key["Arn"])))["Policy"]["Arn"]
    kms = user.client(server)
    kms.encrypt(KeyId=root_key["KeyId"], Plaintext=b"before")
    iam.attach_user_policy(UserName=user.name, PolicyArn=arn)
    assert "explicit deny" in denial(kms.encrypt, KeyId=root_key["KeyId"], Plaintext=b"after")
    other = server.client("kms").create_key()["KeyMetadata"]["KeyId"]
    kms.encrypt(KeyId=other, Plaintext=b"another key is not denied")


def test_action_wildcards(server, root_key):
    user = make_user(server, allow(["kms:Get*", "kms:Describe*"], "arn:aws:kms:eu-west-1:*:key/*"), prefix="wild")
    kms = user.client(server)
    kms.describe_key(KeyId=root_key["KeyId"])
    kms.get_key_policy(KeyId=root_key["KeyId"], PolicyName="default")
    kms.get_key_rotation_status(KeyId=root_key["KeyId"])
    denial(kms.encrypt, KeyId=root_key["KeyId"], Plaintext=b"x")
    denial(kms.list_keys)  # resource "*" is not a key ARN, and ListKeys is not Get*/Describe*
    denial(kms.enable_key_rotation, KeyId=root_key["KeyId"])


def test_action_and_resource_matching_is_case_aware(server, root_key):
    """Action names match case-insensitively; ARNs do not."""
    user = make_user(server, allow("KMS:describekey", root_key["Arn"]), prefix="case")
    kms = user.client(server)
    kms.describe_key(KeyId=root_key["KeyId"])
    key_id = root_key["KeyId"]
    upper = make_user(server, allow("kms:DescribeKey", root_key["Arn"].replace(key_id, key_id.upper())),
                      prefix="upper")
    denial(upper.client(server).describe_key, KeyId=root_key["KeyId"])


def test_not_action_and_not_resource(server, root_key):
    other = server.client("kms").create_key()["KeyMetadata"]
    user = make_user(server,
                     {"Effect": "Allow", "NotAction": ["kms:CreateKey", "kms:Decrypt"], "Resource": "*"},
                     {"Effect": "Deny", "Action": "kms:Encrypt", "NotResource": root_key["Arn"]},
                     prefix="not")
    kms = user.client(server)
    kms.list_keys()
    denial(kms.create_key)
    ct = kms.encrypt(KeyId=root_key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    denial(kms.decrypt, CiphertextBlob=ct)
    assert "explicit deny" in denial(kms.encrypt, KeyId=other["KeyId"], Plaintext=b"x")


def test_alias_requests_are_checked_against_the_key(server, root_key):
    root = server.client("kms")
    other = root.create_key()["KeyMetadata"]
    mine, theirs = f"alias/{unique('mine')}", f"alias/{unique('theirs')}"
    root.create_alias(AliasName=mine, TargetKeyId=root_key["KeyId"])
    root.create_alias(AliasName=theirs, TargetKeyId=other["KeyId"])
    user = make_user(server, allow(["kms:Encrypt", "kms:DescribeKey"], root_key["Arn"]), prefix="alias")
    kms = user.client(server)
    kms.encrypt(KeyId=mine, Plaintext=b"x")
    assert kms.describe_key(KeyId=mine)["KeyMetadata"]["KeyId"] == root_key["KeyId"]
    message = denial(kms.encrypt, KeyId=theirs, Plaintext=b"x")
    assert f"on resource: {other['Arn']}" in message


# Conditions on kms:Encrypt: (condition block, [(encryption context, allowed?)]).
CONDITIONS = {
    "StringEquals": ({"StringEquals": {"kms:EncryptionContext:app": "gates"}},
                     [({"app": "gates"}, True), ({}, False), ({"app": "other"}, False),
                      ({"app": "gates", "extra": "1"}, True)]),
    "values are ORed": ({"StringEquals": {"kms:EncryptionContext:app": ["gates", "tickets"]}},
                        [({"app": "tickets"}, True), ({"app": "gates"}, True), ({"app": "x"}, False)]),
    "keys are ANDed": ({"StringEquals": {"kms:EncryptionContext:app": "gates", "kms:EncryptionContext:env": "prod"}},
                       [({"app": "gates", "env": "prod"}, True), ({"app": "gates"}, False)]),
    "StringLike": ({"StringLike": {"kms:EncryptionContext:app": "gat*"}},
                   [({"app": "gates"}, True), ({"app": "gat"}, True), ({"app": "agates"}, False)]),
    "StringNotEquals": ({"StringNotEquals": {"kms:EncryptionContext:app": "blocked"}},
                        [({"app": "gates"}, True), ({"app": "blocked"}, False)]),
    "StringEqualsIfExists": ({"StringEqualsIfExists": {"kms:EncryptionContext:app": "gates"}},
                             [({}, True), ({"app": "gates"}, True), ({"app": "other"}, False)]),
    "ForAllValues": ({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["app", "env"]}},
                     [({"app": "a"}, True), ({"app": "a", "env": "b"}, True), ({"app": "a", "x": "y"}, False),
                      ({}, True)]),
    "ForAnyValue": ({"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "app"}},
                    [({"app": "a", "x": "y"}, True), ({"x": "y"}, False), ({}, False)]),
}


@pytest.mark.parametrize("case", list(CONDITIONS))
def test_encryption_context_conditions(server, root_key, case):
    condition, expectations = CONDITIONS[case]
    user = make_user(server, allow("kms:Encrypt", root_key["Arn"], Condition=condition), prefix="cond")
    kms = user.client(server)
    for context, allowed in expectations:
        if allowed:
            kms.encrypt(KeyId=root_key["KeyId"], Plaintext=b"x", EncryptionContext=context)
        else:
            denial(kms.encrypt, KeyId=root_key["KeyId"], Plaintext=b"x", EncryptionContext=context)


# Global condition keys on kms:DescribeKey: (condition block, allowed?) — the user's name is `{user}`.
GLOBAL_CONDITIONS = {
    "DateLessThan future": ({"DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}}, True),
    "DateGreaterThan future": ({"DateGreaterThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}}, False),
    "NumericGreaterThan epoch": ({"NumericGreaterThan": {"aws:EpochTime": "1000"}}, True),
    "NumericLessThan epoch": ({"NumericLessThan": {"aws:EpochTime": "1000"}}, False),
    "aws:username": ({"StringEquals": {"aws:username": "{user}"}}, True),
    "aws:username other": ({"StringEquals": {"aws:username": "someone-else"}}, False),
    "aws:PrincipalArn": ({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/{user}"}}, True),
    "kms:CallerAccount": ({"StringEquals": {"kms:CallerAccount": ACCOUNT}}, True),
    "kms:CallerAccount other": ({"StringEquals": {"kms:CallerAccount": "111122223333"}}, False),
    "IpAddress loopback": ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, True),
    "IpAddress elsewhere": ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, False),
    "NotIpAddress elsewhere": ({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, True),
}


@pytest.mark.parametrize("case", list(GLOBAL_CONDITIONS))
def test_global_condition_keys(server, root_key, case):
    condition, allowed = GLOBAL_CONDITIONS[case]
    iam = server.client("iam")
    user = make_user(server, prefix="glob")
    text = json.dumps(condition).replace("{user}", user.name)
    iam.put_user_policy(UserName=user.name, PolicyName="cond",
                        PolicyDocument=document(allow("kms:DescribeKey", root_key["Arn"], Condition=json.loads(text))))
    kms = user.client(server)
    if allowed:
        kms.describe_key(KeyId=root_key["KeyId"])
    else:
        denial(kms.describe_key, KeyId=root_key["KeyId"])


def test_role_session_conditions_use_the_role_arn(server, root_key):
    role = make_role(server, allow("kms:DescribeKey", root_key["Arn"], Condition={
        "StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}))
    session = assume(server, role["Arn"], session="cond")
    session.client(server).describe_key(KeyId=root_key["KeyId"])


# --- SSM SecureStrings and kms:ViaService -------------------------------------------------------------

def test_secure_string_needs_kms_decrypt_on_a_customer_key(server, root_key):
    prefix = f"/{unique('gatekms')}"
    name = f"{prefix}/secret"
    server.client("ssm").put_parameter(Name=name, Value="s3cret", Type="SecureString", KeyId=root_key["KeyId"])
    reader = make_user(server, allow(["ssm:GetParameter"], f"arn:aws:ssm:eu-west-1:*:parameter{prefix}/*"),
                       prefix="ssmonly")
    ssm = reader.client(server, "ssm")
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] != "s3cret"
    # AWS answers AccessDeniedException (the KMS refusal passed through), whatever the message.
    code, message, _ = error_of(ssm.get_parameter, Name=name, WithDecryption=True)
    assert code == "AccessDeniedException", (code, message)


def test_kms_via_service_condition(server, root_key):
    prefix = f"/{unique('via')}"
    user = make_user(
        server,
        allow(["ssm:GetParameter", "ssm:PutParameter"], f"arn:aws:ssm:eu-west-1:*:parameter{prefix}/*"),
        allow(["kms:Encrypt", "kms:Decrypt"], root_key["Arn"],
              Condition={"StringEquals": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"}}),
        prefix="via")
    ssm, kms = user.client(server, "ssm"), user.client(server)
    ssm.put_parameter(Name=f"{prefix}/db", Value="pw", Type="SecureString", KeyId=root_key["KeyId"])
    assert ssm.get_parameter(Name=f"{prefix}/db", WithDecryption=True)["Parameter"]["Value"] == "pw"
    denial(kms.encrypt, KeyId=root_key["KeyId"], Plaintext=b"direct")
    ct = server.client("kms").encrypt(KeyId=root_key["KeyId"], Plaintext=b"direct")["CiphertextBlob"]
    denial(kms.decrypt, CiphertextBlob=ct)


def test_ssm_resource_is_the_parameter_arn(server):
    prefix = f"/{unique('app')}"
    root = server.client("ssm")
    root.put_parameter(Name=f"{prefix}/a", Value="a", Type="String")
    root.put_parameter(Name=f"{prefix}-sibling", Value="b", Type="String")
    user = make_user(server, allow(["ssm:GetParameter", "ssm:GetParametersByPath"],
                                   [f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter{prefix}",
                                    f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter{prefix}/*"]), prefix="ssmres")
    ssm = user.client(server, "ssm")
    assert ssm.get_parameter(Name=f"{prefix}/a")["Parameter"]["Value"] == "a"
    assert [p["Name"] for p in ssm.get_parameters_by_path(Path=prefix)["Parameters"]] == [f"{prefix}/a"]
    denial(ssm.get_parameter, Name=f"{prefix}-sibling")


def test_ssm_parameter_named_by_arn_is_checked_against_that_arn(server):
    prefix = f"/{unique('byarn')}"
    root = server.client("ssm")
    root.put_parameter(Name=f"{prefix}/a", Value="a", Type="String")
    root.put_parameter(Name=f"/{unique('elsewhere')}", Value="b", Type="String")
    user = make_user(server, allow("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter{prefix}/*"),
                     prefix="byarn")
    ssm = user.client(server, "ssm")
    arn = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter{prefix}/a"
    assert ssm.get_parameter(Name=arn)["Parameter"]["Value"] == "a"
    message = denial(ssm.get_parameter, Name=f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/other/b")
    assert f"on resource: arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/other/b" in message


def test_ssm_condition_keys_overwrite_and_recursive(server):
    import json
    import uuid

    iam = server.client("iam", region="us-east-1")
    name = f"ssm-cond-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ssm:PutParameter", "ssm:GetParametersByPath"], "Resource": "*"},
        {"Effect": "Deny", "Action": "ssm:PutParameter", "Resource": "*", "Condition": {"Bool": {"ssm:Overwrite": "true"}}},
        {"Effect": "Deny", "Action": "ssm:GetParametersByPath", "Resource": "*", "Condition": {"Bool": {"ssm:Recursive": "true"}}},
    ]}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    ssm = server.client("ssm", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    path = f"/cond/{name}"
    ssm.put_parameter(Name=f"{path}/x", Value="1", Type="String")
    expect_error("AccessDeniedException", ssm.put_parameter, Name=f"{path}/x", Value="2", Type="String", Overwrite=True)
    assert ssm.get_parameters_by_path(Path=path, Recursive=False)["Parameters"][0]["Value"] == "1"
    expect_error("AccessDeniedException", ssm.get_parameters_by_path, Path=path, Recursive=True)


# --- KMS condition keys from the request ------------------------------------------------------------

def test_request_condition_keys_of_asymmetric_and_hmac_operations(server):
    kms = server.client("kms")
    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    mac = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    symmetric = kms.create_key()["KeyMetadata"]
    user = make_user(
        server,
        allow("kms:Sign", signer["Arn"], Condition={"StringEquals": {"kms:SigningAlgorithm": "ECDSA_SHA_256",
                                                                     "kms:MessageType": "RAW"}}),
        allow("kms:Encrypt", rsa["Arn"], Condition={"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}}),
        allow("kms:GenerateMac", mac["Arn"], Condition={"StringEquals": {"kms:MacAlgorithm": "HMAC_SHA_256"}}),
        allow("kms:GenerateDataKeyPair", symmetric["Arn"],
              Condition={"StringEquals": {"kms:DataKeyPairSpec": "ECC_NIST_P256"}}),
        allow("kms:DescribeKey", "*", Condition={"Bool": {"kms:MultiRegion": "false"}}),
        prefix="reqkeys")
    ukms = user.client(server)
    ukms.sign(KeyId=signer["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    denial(ukms.sign, KeyId=signer["KeyId"], Message=b"\0" * 32, MessageType="DIGEST",
           SigningAlgorithm="ECDSA_SHA_256")
    ukms.encrypt(KeyId=rsa["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    denial(ukms.encrypt, KeyId=rsa["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    ukms.generate_mac(KeyId=mac["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")
    ukms.generate_data_key_pair(KeyId=symmetric["KeyId"], KeyPairSpec="ECC_NIST_P256")
    denial(ukms.generate_data_key_pair, KeyId=symmetric["KeyId"], KeyPairSpec="ECC_NIST_P384")
    ukms.describe_key(KeyId=symmetric["KeyId"])
    mrk = kms.create_key(MultiRegion=True)["KeyMetadata"]
    denial(ukms.describe_key, KeyId=mrk["KeyId"])
