"""STS: GetCallerIdentity for each kind of principal, AssumeRole (trust policies, durations, session
names), and the temporary credentials it returns: accepted while valid, refused when altered or expired."""
import base64
import datetime
import json
import os
import time

import pytest

from conftest import expect_error
from iam_support import (ACCOUNT, ROOT_ARN, Identity, allow, assume, aws_as, document, error_of, make_role, make_user,
                         trust, unique)

SEED_STATEMENTS = [
    allow(["kms:Decrypt", "kms:DescribeKey"], ["arn:aws:kms:eu-west-1:*:key/*"]),
    allow(["ssm:GetParameter", "ssm:GetParameters"], ["arn:aws:ssm:eu-west-1:*:parameter/can2025/*"]),
]


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


# --- GetCallerIdentity -------------------------------------------------------------------------------

def test_caller_identity_of_root(server):
    me = server.client("sts").get_caller_identity()
    assert (me["Account"], me["Arn"], me["UserId"]) == (ACCOUNT, ROOT_ARN, ACCOUNT)


def test_caller_identity_of_a_user(server):
    alice = make_user(server, prefix="whoami")
    me = alice.client(server, "sts").get_caller_identity()
    user = server.client("iam").get_user(UserName=alice.name)["User"]
    assert (me["Account"], me["Arn"], me["UserId"]) == (ACCOUNT, user["Arn"], user["UserId"])


def test_caller_identity_of_an_assumed_role(server):
    role = make_role(server)
    session = assume(server, role["Arn"], session="verifyTicket")
    me = session.client(server, "sts").get_caller_identity()
    assert me["Account"] == ACCOUNT
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/verifyTicket"
    assert me["UserId"] == f"{role['RoleId']}:verifyTicket"


def test_caller_identity_needs_no_permission(server):
    """GetCallerIdentity works even when an explicit Deny covers everything."""
    alice = make_user(server, {"Effect": "Deny", "Action": "*", "Resource": "*"}, prefix="denyall")
    assert alice.client(server, "sts").get_caller_identity()["Arn"] == alice.arn


# --- AssumeRole ----------------------------------------------------------------------------------------

def test_assume_seed_role_with_the_cli(server, tmp_path):
    name = unique("can2025-secure-gates-lambda")
    (tmp_path / "trust.json").write_text(trust(ROOT_ARN))
    (tmp_path / "statements.json").write_text(document(*SEED_STATEMENTS))
    role = server.aws("iam", "create-role", "--role-name", name,
                      "--assume-role-policy-document", f"file://{tmp_path / 'trust.json'}")["Role"]
    server.aws("iam", "put-role-policy", "--role-name", name, "--policy-name", "kms-ssm",
               "--policy-document", f"file://{tmp_path / 'statements.json'}")
    before = utcnow()
    out = server.aws("sts", "assume-role", "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/{name}",
                     "--role-session-name", "verifyTicket")
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert creds["SecretAccessKey"] and creds["SessionToken"]
    expires = datetime.datetime.fromisoformat(creds["Expiration"].replace("Z", "+00:00"))
    assert abs((expires - before).total_seconds() - 3600) < 30
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/verifyTicket"
    assert out["AssumedRoleUser"] == {"Arn": arn, "AssumedRoleId": f"{role['RoleId']}:verifyTicket"}

    session = Identity(creds["AccessKeyId"], creds["SecretAccessKey"], arn, token=creds["SessionToken"])
    assert aws_as(server, session, "sts", "get-caller-identity")["Arn"] == arn


def test_duration_seconds_bounds(server):
    role = make_role(server)  # MaxSessionDuration 3600
    sts = server.client("sts", validate=False)
    for bad in (899, 3601):
        message = expect_error("ValidationError", sts.assume_role, status=400, RoleArn=role["Arn"],
                               RoleSessionName="bounds", DurationSeconds=bad)
        assert str(bad) in message or "DurationSeconds" in message
    assume(server, role["Arn"], DurationSeconds=3600)

    long_role = make_role(server, MaxSessionDuration=7200)
    assume(server, long_role["Arn"], DurationSeconds=7200)
    expect_error("ValidationError", sts.assume_role, RoleArn=long_role["Arn"], RoleSessionName="bounds",
                 DurationSeconds=7201)


def test_expiration_follows_duration_seconds(server):
    role = make_role(server)
    before = utcnow()
    out = server.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="short", DurationSeconds=900)
    remaining = (out["Credentials"]["Expiration"] - before).total_seconds()
    assert 890 <= remaining <= 910, remaining


def test_trust_policy_naming_another_principal_refuses(server):
    someone = f"arn:aws:iam::{ACCOUNT}:user/{unique('someone-else')}"
    role = make_role(server, trusted=someone)
    code, message, status = error_of(server.client("sts").assume_role, RoleArn=role["Arn"],
                                     RoleSessionName="nope")
    assert (code, status) == ("AccessDenied", 403)
    assert f"User: {ROOT_ARN} is not authorized to perform: sts:AssumeRole on resource: {role['Arn']}" in message


def test_unknown_role_or_bad_session_name(server):
    sts = server.client("sts", validate=False)
    code, _, status = error_of(sts.assume_role, RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{unique('ghost')}",
                               RoleSessionName="ghost")
    assert (code, status) == ("AccessDenied", 403)
    role = make_role(server)
    expect_error("ValidationError", sts.assume_role, status=400, RoleArn=role["Arn"],
                 RoleSessionName="has spaces!")


def test_user_needs_identity_policy_when_trust_names_only_the_account(server):
    alice = make_user(server, prefix="assumer")
    sts = alice.client(server, "sts")
    account_role = make_role(server)
    code, message, status = error_of(sts.assume_role, RoleArn=account_role["Arn"], RoleSessionName="try")
    assert (code, status) == ("AccessDenied", 403)
    assert alice.arn in message and "sts:AssumeRole" in message

    # Trust naming the user itself: no identity policy needed.
    direct_role = make_role(server, trusted=alice.arn)
    session = assume(server, direct_role["Arn"], session="direct", as_identity=alice)
    assert session.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/{direct_role['RoleName']}/direct"
    assert session.client(server, "sts").get_caller_identity()["Arn"] == session.arn

    # Trust naming the account plus an identity policy allowing sts:AssumeRole on that role.
    server.client("iam").put_user_policy(UserName=alice.name, PolicyName="assume",
                                         PolicyDocument=document(allow("sts:AssumeRole", account_role["Arn"])))
    assume(server, account_role["Arn"], session="withpolicy", as_identity=alice)
    # ... which does not extend to another role trusting the account.
    expect_error("AccessDenied", sts.assume_role, RoleArn=make_role(server)["Arn"], RoleSessionName="other")


def test_trust_policy_update_takes_effect(server):
    role = make_role(server)
    assume(server, role["Arn"])
    server.client("iam").update_assume_role_policy(
        RoleName=role["RoleName"], PolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:user/{unique('nobody')}"))
    expect_error("AccessDenied", server.client("sts").assume_role, RoleArn=role["Arn"], RoleSessionName="after")


def test_role_chaining(server):
    """A role session may assume a role whose trust policy names the first role."""
    first = make_role(server, prefix="first")
    second = make_role(server, trusted=first["Arn"], prefix="second")
    session = assume(server, first["Arn"], session="hop1")
    chained = assume(server, second["Arn"], session="hop2", as_identity=session)
    assert chained.client(server, "sts").get_caller_identity()["Arn"] == \
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{second['RoleName']}/hop2"


def test_session_uses_the_role_policies(server):
    role = make_role(server, allow("kms:ListKeys"))
    session = assume(server, role["Arn"])
    kms = session.client(server)
    assert "Keys" in kms.list_keys()
    message = expect_error("AccessDeniedException", kms.create_key)
    assert session.arn in message and "kms:CreateKey" in message


# --- temporary credentials that are not valid ---------------------------------------------------------

def tampered(token):
    """The token with one character in its middle changed."""
    i = len(token) // 2
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]


def test_tampered_session_token_is_refused(server):
    role = make_role(server, allow("kms:ListKeys"))
    session = assume(server, role["Arn"])
    session.client(server).list_keys()
    for bad in (tampered(session.token), session.token[:-4], "not-a-token"):
        session.token = bad
        expect_error("UnrecognizedClientException", session.client(server).list_keys, status=400)


def test_session_token_of_another_session_is_refused(server):
    role = make_role(server, allow("kms:ListKeys"))
    one, two = assume(server, role["Arn"], session="one"), assume(server, role["Arn"], session="two")
    one.token = two.token
    expect_error("UnrecognizedClientException", one.client(server).list_keys)
    # Temporary credentials without their token are unknown access keys.
    two.token = None
    expect_error("UnrecognizedClientException", two.client(server).list_keys)


def test_tampered_session_token_with_sts_uses_sts_error_code(server):
    """STS (awsQuery) names an invalid token InvalidClientTokenId (403), as AWS does."""
    role = make_role(server)
    session = assume(server, role["Arn"])
    session.token = tampered(session.token)
    expect_error("InvalidClientTokenId", session.client(server, "sts").get_caller_identity, status=403)


TOKEN_PREFIX = "m2sec-sts-1."
TOKEN_AAD = b"m2sec:sts-session:v1"


def resealed(server, token, **changes):
    """The session token with fields changed, sealed again with the server's development root key.

    An hour-long wait is not an option, so an expired session is made from a real one: m2sec's token
    is the session sealed (AES-256-GCM) under the root key, which the harness's data dir holds in the
    clear (`root-key.dev`).
    """
    aead = pytest.importorskip("cryptography.hazmat.primitives.ciphers.aead")
    key_file = server.data_dir / "root-key.dev"
    if not key_file.exists() or not token.startswith(TOKEN_PREFIX):
        pytest.skip("session tokens are not sealed with a development root key here")
    hex_key = next(line for line in key_file.read_text().splitlines() if line and not line.startswith("#"))
    aes = aead.AESGCM(bytes.fromhex(hex_key.strip()))
    body = token[len(TOKEN_PREFIX):]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    session = json.loads(aes.decrypt(raw[:12], raw[12:], TOKEN_AAD))
    session.update(changes)
    nonce = os.urandom(12)
    sealed = nonce + aes.encrypt(nonce, json.dumps(session).encode(), TOKEN_AAD)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def test_expired_session_token_is_refused(server):
    role = make_role(server, allow("kms:ListKeys"))
    session = assume(server, role["Arn"], DurationSeconds=900)
    now_ms = int(time.time() * 1000)
    original = session.token

    session.token = resealed(server, original, expires_at=now_ms + 600_000)  # control: still valid
    session.client(server).list_keys()

    session.token = resealed(server, original, expires_at=now_ms - 1000)
    message = expect_error("ExpiredTokenException", session.client(server).list_keys)
    assert "expired" in message
    cli = aws_as(server, session, "kms", "list-keys", check=False)
    assert cli.returncode != 0 and "ExpiredTokenException" in cli.stderr


def test_expired_session_token_with_sts_uses_sts_error_code(server):
    """STS (awsQuery) names an expired token ExpiredToken (403), as AWS does."""
    role = make_role(server)
    session = assume(server, role["Arn"], DurationSeconds=900)
    session.token = resealed(server, session.token, expires_at=int(time.time() * 1000) - 1000)
    expect_error("ExpiredToken", session.client(server, "sts").get_caller_identity, status=403)
