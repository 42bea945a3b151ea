"""KMS key policies and grants in authorization, as AWS evaluates them: the default policy delegates to
IAM; a policy that names principals directly allows them without IAM and locks everyone else out; a
Deny in the key policy beats an IAM Allow; grants allow their grantee (within constraints) until
retired or revoked."""
import json

import pytest

from conftest import expect_error
from iam_support import (ACCOUNT, ROOT_ARN, allow, assume, document, make_role, make_user, unique)


def key_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Id": unique("policy"), "Statement": list(statements)})


def principal_statement(effect, principal, actions="kms:*", sid=None):
    st = {"Effect": effect, "Principal": {"AWS": principal}, "Action": actions, "Resource": "*"}
    if sid:
        st["Sid"] = sid
    return st


DELEGATE_TO_IAM = principal_statement("Allow", ROOT_ARN, sid="Enable IAM User Permissions")
# The account keeps administering the key (and passes the lockout check) but uses it only through
# statements that name principals.
ADMIN_ONLY = principal_statement("Allow", ROOT_ARN, ["kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey",
                                                     "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                                 sid="Key administration by the account")


def denial(fn, **kwargs):
    return expect_error("AccessDeniedException", fn, status=400, **kwargs)


@pytest.fixture
def root_kms(server):
    return server.client("kms")


@pytest.fixture
def key(root_kms):
    return root_kms.create_key(Description=unique("grants-policies"))["KeyMetadata"]


# --- key policies ------------------------------------------------------------------------------------

def test_default_key_policy_delegates_to_the_account(root_kms, key):
    policy = json.loads(root_kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    assert policy["Version"] == "2012-10-17"
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": ROOT_ARN}
    assert statement["Action"] == "kms:*" and statement["Resource"] == "*"
    assert root_kms.list_key_policies(KeyId=key["KeyId"])["PolicyNames"] == ["default"]


def test_default_policy_needs_an_iam_policy(server, key):
    """With the default policy, IAM decides: a user without an identity policy is denied, one with it is allowed."""
    without = make_user(server, prefix="kp-none")
    with_policy = make_user(server, allow("kms:Encrypt", key["Arn"]), prefix="kp-iam")
    message = denial(without.client(server).encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    assert "because no identity-based policy allows the kms:Encrypt action" in message
    with_policy.client(server).encrypt(KeyId=key["KeyId"], Plaintext=b"x")


def test_key_policy_without_root_delegation_locks_out_iam_principals(server, root_kms, key):
    owner = make_user(server, prefix="kp-owner")            # no IAM policy at all
    outsider = make_user(server, allow("kms:*"), prefix="kp-outsider")
    outsider_kms = outsider.client(server)
    ct = outsider_kms.encrypt(KeyId=key["KeyId"], Plaintext=b"before")["CiphertextBlob"]

    root_kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                            Policy=key_policy(principal_statement("Allow", owner.arn)),
                            BypassPolicyLockoutSafetyCheck=True)

    owner_kms = owner.client(server)
    ct2 = owner_kms.encrypt(KeyId=key["KeyId"], Plaintext=b"owner")["CiphertextBlob"]
    assert owner_kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"before"
    owner_kms.describe_key(KeyId=key["KeyId"])

    message = denial(outsider_kms.decrypt, CiphertextBlob=ct2)
    assert (f"User: {outsider.arn} is not authorized to perform: kms:Decrypt on resource: {key['Arn']} "
            "because no resource-based policy allows the kms:Decrypt action") == message
    denial(outsider_kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    denial(outsider_kms.describe_key, KeyId=key["KeyId"])
    # The account root is subject to the key policy too.
    denial(root_kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")

    # The owner can give the account back its delegation; then IAM decides again.
    owner_kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                             Policy=key_policy(DELEGATE_TO_IAM, principal_statement("Allow", owner.arn)))
    outsider_kms.decrypt(CiphertextBlob=ct2)
    root_kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")


def test_key_policy_naming_a_user_allows_without_iam(server, root_kms, key):
    """A statement naming the user allows on its own, even next to the account's IAM delegation (the
    shape of the console's default policy with key users)."""
    direct = make_user(server, prefix="kp-direct")
    root_kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=key_policy(
        DELEGATE_TO_IAM, principal_statement("Allow", direct.arn, ["kms:Encrypt", "kms:DescribeKey"])))
    kms = direct.client(server)
    ct = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    kms.describe_key(KeyId=key["KeyId"])
    denial(kms.decrypt, CiphertextBlob=ct)


def test_key_policy_naming_a_role_allows_its_sessions(server, root_kms, key):
    role = make_role(server)
    root_kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=key_policy(
        ADMIN_ONLY, principal_statement("Allow", role["Arn"], ["kms:Encrypt"])))
    session = assume(server, role["Arn"], session="keypolicy")
    session.client(server).encrypt(KeyId=key["KeyId"], Plaintext=b"x")


def test_key_policy_deny_beats_iam_allow(server, root_kms, key):
    user = make_user(server, allow("kms:*"), prefix="kp-denied")
    root_kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=key_policy(
        DELEGATE_TO_IAM, principal_statement("Deny", user.arn, "kms:Decrypt")))
    kms = user.client(server)
    ct = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    message = denial(kms.decrypt, CiphertextBlob=ct)
    assert message == (f"User: {user.arn} is not authorized to perform: kms:Decrypt on resource: {key['Arn']} "
                       "with an explicit deny in a resource-based policy")
    assert root_kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"x"


def test_key_policy_conditions(server, root_kms, key):
    user = make_user(server, prefix="kp-cond")
    st = principal_statement("Allow", user.arn, "kms:Encrypt")
    st["Condition"] = {"StringEquals": {"kms:EncryptionContext:app": "gates"}}
    root_kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=key_policy(ADMIN_ONLY, st))
    kms = user.client(server)
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"app": "gates"})
    denial(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")


def test_put_key_policy_lockout_safety_check(root_kms, key):
    someone = f"arn:aws:iam::{ACCOUNT}:user/{unique('someone')}"
    message = expect_error("MalformedPolicyDocumentException", root_kms.put_key_policy, KeyId=key["KeyId"],
                           PolicyName="default", Policy=key_policy(principal_statement("Allow", someone)))
    assert "update the key policy" in message or "lock" in message.lower()
    # Nothing changed: the root still uses the key.
    root_kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")


MALFORMED_KEY_POLICIES = {
    "not JSON": "{not json",
    "no Principal": document({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}),
    "bad Effect": key_policy({"Effect": "Permit", "Principal": {"AWS": ROOT_ARN}, "Action": "kms:*",
                              "Resource": "*"}),
    "no Statement": json.dumps({"Version": "2012-10-17"}),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_KEY_POLICIES))
def test_malformed_key_policy(root_kms, key, case):
    before = root_kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    expect_error("MalformedPolicyDocumentException", root_kms.put_key_policy, status=400, KeyId=key["KeyId"],
                 PolicyName="default", Policy=MALFORMED_KEY_POLICIES[case])
    assert root_kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"] == before


def test_create_key_with_policy(server, root_kms):
    user = make_user(server, prefix="kp-create")
    created = root_kms.create_key(Policy=key_policy(ADMIN_ONLY, principal_statement("Allow", user.arn,
                                                                                     "kms:Encrypt")))
    key_id = created["KeyMetadata"]["KeyId"]
    user.client(server).encrypt(KeyId=key_id, Plaintext=b"x")
    denial(root_kms.encrypt, KeyId=key_id, Plaintext=b"x")  # the account itself may only administer it
    expect_error("MalformedPolicyDocumentException", root_kms.create_key, Policy="{not json")


# --- grants ------------------------------------------------------------------------------------------

def test_grant_allows_its_operations_until_revoked(server, root_kms, key):
    grantee = make_user(server, prefix="grantee")
    kms = grantee.client(server)
    denial(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")

    grant = root_kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee.arn,
                                  Operations=["Decrypt", "Encrypt"], Name=unique("grant"))
    assert grant["GrantId"] and grant["GrantToken"]
    ct = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"granted")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"granted"
    # Only the granted operations.
    denial(kms.describe_key, KeyId=key["KeyId"])
    denial(kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256")
    # Only this key.
    other = root_kms.create_key()["KeyMetadata"]["KeyId"]
    denial(kms.encrypt, KeyId=other, Plaintext=b"x")

    [listed] = root_kms.list_grants(KeyId=key["KeyId"])["Grants"]
    assert listed["GrantId"] == grant["GrantId"]
    assert listed["GranteePrincipal"] == grantee.arn
    assert sorted(listed["Operations"]) == ["Decrypt", "Encrypt"]
    assert listed["KeyId"] == key["Arn"]
    assert listed["IssuingAccount"] == ROOT_ARN
    assert listed["CreationDate"]

    root_kms.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    denial(kms.decrypt, CiphertextBlob=ct)
    assert root_kms.list_grants(KeyId=key["KeyId"])["Grants"] == []


def test_grant_with_encryption_context_subset(server, root_kms, key):
    grantee = make_user(server, prefix="grant-ctx")
    root_kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee.arn, Operations=["Encrypt", "Decrypt"],
                          Constraints={"EncryptionContextSubset": {"app": "gates"}})
    kms = grantee.client(server)
    ct = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"app": "gates"})["CiphertextBlob"]
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"app": "gates", "env": "prod"})
    kms.decrypt(CiphertextBlob=ct, EncryptionContext={"app": "gates"})
    denial(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    denial(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"app": "other"})
    [listed] = root_kms.list_grants(KeyId=key["KeyId"])["Grants"]
    assert listed["Constraints"] == {"EncryptionContextSubset": {"app": "gates"}}


def test_grant_with_encryption_context_equals(server, root_kms, key):
    grantee = make_user(server, prefix="grant-eq")
    root_kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee.arn, Operations=["Encrypt"],
                          Constraints={"EncryptionContextEquals": {"app": "gates"}})
    kms = grantee.client(server)
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"app": "gates"})
    denial(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"app": "gates", "env": "prod"})


def test_retire_grant_by_the_retiring_principal(server, root_kms, key):
    grantee = make_user(server, prefix="ret-grantee")
    retirer = make_user(server, prefix="retirer")
    grant = root_kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee.arn, Operations=["Encrypt"],
                                  RetiringPrincipal=retirer.arn)
    kms = grantee.client(server)
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")

    retirable = root_kms.list_retirable_grants(RetiringPrincipal=retirer.arn)["Grants"]
    assert [g["GrantId"] for g in retirable] == [grant["GrantId"]]
    assert retirable[0]["RetiringPrincipal"] == retirer.arn and retirable[0]["KeyId"] == key["Arn"]

    # Someone else may not retire it.
    stranger = make_user(server, prefix="stranger")
    denial(stranger.client(server).retire_grant, GrantToken=grant["GrantToken"])

    retirer.client(server).retire_grant(GrantToken=grant["GrantToken"])
    denial(kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    assert root_kms.list_retirable_grants(RetiringPrincipal=retirer.arn)["Grants"] == []


def test_retire_grant_by_key_and_grant_id(server, root_kms, key):
    grantee = make_user(server, prefix="ret-id")
    grant = root_kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee.arn,
                                  Operations=["Encrypt", "RetireGrant"])
    grantee.client(server).retire_grant(KeyId=key["Arn"], GrantId=grant["GrantId"])
    denial(grantee.client(server).encrypt, KeyId=key["KeyId"], Plaintext=b"x")


def test_retire_grant_without_a_grant(server):
    expect_error("InvalidGrantTokenException", server.client("kms", validate=False).retire_grant, status=400)


def test_retire_grant_with_an_invalid_token(root_kms):
    expect_error("InvalidGrantTokenException", root_kms.retire_grant, status=400, GrantToken="not-a-grant-token")


def test_grant_to_a_role_covers_its_sessions(server, root_kms, key):
    role = make_role(server)
    root_kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=role["Arn"], Operations=["Encrypt"])
    session = assume(server, role["Arn"], session="granted")
    session.client(server).encrypt(KeyId=key["KeyId"], Plaintext=b"x")


def test_grant_token_is_accepted_right_away(server, root_kms, key):
    grantee = make_user(server, prefix="token")
    grant = root_kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee.arn, Operations=["Encrypt"])
    grantee.client(server).encrypt(KeyId=key["KeyId"], Plaintext=b"x", GrantTokens=[grant["GrantToken"]])


def test_iam_deny_beats_a_grant(server, root_kms, key):
    grantee = make_user(server, {"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"}, prefix="grant-deny")
    root_kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee.arn, Operations=["Encrypt"])
    assert "explicit deny" in denial(grantee.client(server).encrypt, KeyId=key["KeyId"], Plaintext=b"x")


def test_create_grant_needs_permission(server, root_kms, key):
    user = make_user(server, prefix="no-create-grant")
    denial(user.client(server).create_grant, KeyId=key["KeyId"], GranteePrincipal=user.arn,
           Operations=["Decrypt"])
    granter = make_user(server, allow("kms:CreateGrant", key["Arn"]), prefix="granter")
    granter.client(server).create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn, Operations=["Decrypt"])
    assert [g["GranteePrincipal"] for g in root_kms.list_grants(KeyId=key["KeyId"])["Grants"]] == [user.arn]


def test_list_grants_filters(server, root_kms, key):
    a, b = make_user(server, prefix="lg-a"), make_user(server, prefix="lg-b")
    ga = root_kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=a.arn, Operations=["Encrypt"])
    root_kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=b.arn, Operations=["Decrypt"])
    assert len(root_kms.list_grants(KeyId=key["KeyId"])["Grants"]) == 2
    [only] = root_kms.list_grants(KeyId=key["KeyId"], GrantId=ga["GrantId"])["Grants"]
    assert only["GranteePrincipal"] == a.arn
    [by_grantee] = root_kms.list_grants(KeyId=key["KeyId"], GranteePrincipal=b.arn)["Grants"]
    assert by_grantee["Operations"] == ["Decrypt"]
    page = root_kms.list_grants(KeyId=key["KeyId"], Limit=1)
    assert page["Truncated"] and len(page["Grants"]) == 1
    rest = root_kms.list_grants(KeyId=key["KeyId"], Limit=1, Marker=page["NextMarker"])
    assert {page["Grants"][0]["GrantId"], rest["Grants"][0]["GrantId"]} == \
        {g["GrantId"] for g in root_kms.list_grants(KeyId=key["KeyId"])["Grants"]}


# (KeySpec, KeyUsage) -> (grant operations that fit, one that does not)
GRANT_FIT = {
    ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"): (["Encrypt", "Decrypt", "GenerateDataKeyPair", "DescribeKey"], "Sign"),
    ("RSA_2048", "ENCRYPT_DECRYPT"): (["Encrypt", "Decrypt", "GetPublicKey", "ReEncryptFrom"], "GenerateDataKey"),
    ("ECC_NIST_P256", "SIGN_VERIFY"): (["Sign", "Verify", "GetPublicKey", "RetireGrant"], "Encrypt"),
    ("HMAC_256", "GENERATE_VERIFY_MAC"): (["GenerateMac", "VerifyMac", "CreateGrant"], "Sign"),
    ("ECC_NIST_P384", "KEY_AGREEMENT"): (["DeriveSharedSecret", "GetPublicKey"], "Verify"),
}


@pytest.mark.parametrize("spec,usage", list(GRANT_FIT))
def test_grant_operations_must_fit_the_key(kms, spec, usage):
    key = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]
    fits, misfit = GRANT_FIT[(spec, usage)]
    kms.create_grant(KeyId=key, GranteePrincipal=ROOT_ARN, Operations=fits)
    expect_error("ValidationException", kms.create_grant, KeyId=key, GranteePrincipal=ROOT_ARN,
                 Operations=fits + [misfit])
    constraints = {"EncryptionContextSubset": {"app": "gates"}}
    if spec == "SYMMETRIC_DEFAULT":
        kms.create_grant(KeyId=key, GranteePrincipal=ROOT_ARN, Operations=["Decrypt"], Constraints=constraints)
    else:
        # Encryption context constraints exist for symmetric keys only.
        expect_error("ValidationException", kms.create_grant, KeyId=key, GranteePrincipal=ROOT_ARN,
                     Operations=fits, Constraints=constraints)
