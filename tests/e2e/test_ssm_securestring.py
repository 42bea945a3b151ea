"""SecureString parameters encrypted by m2sec's own KMS, as AWS does it: a KMS Encrypt under the chosen key
(default: the AWS-managed alias/aws/ssm) with the encryption context {"PARAMETER_ARN": <parameter ARN>}."""
import base64
import json
import uuid

import pytest

from e2e_support import data_dir_bytes
from ssm_support import (  # noqa: F401  (fixtures)
    error_code,
    expect_error,
    param_arn,
    region,
    ssm,
    unique,
)


def kms_decrypt_cli(server, blob_b64, region, context=None):
    """`aws kms decrypt` of a base64 ciphertext, with an optional encryption context; returns the process."""
    args = ["kms", "decrypt", "--ciphertext-blob", f"fileb://{write_blob(server, blob_b64)}", "--region", region]
    if context:
        args += ["--encryption-context", json.dumps(context)]
    return server.aws(*args, check=False, region=region)


def write_blob(server, blob_b64):
    path = server.data_dir.parent / f"blob-{uuid.uuid4().hex}.bin"
    path.write_bytes(base64.b64decode(blob_b64))
    return path


def test_default_key_is_aws_managed(server, region):
    c = server.client("ssm", region=region)
    before = server.aws("kms", "list-aliases", "--region", region, region=region)["Aliases"]
    assert "alias/aws/ssm" not in [a["AliasName"] for a in before]

    c.put_parameter(Name="/default/one", Value="first secret", Type="SecureString")
    aliases = {a["AliasName"]: a for a in server.aws("kms", "list-aliases", "--region", region,
                                                     region=region)["Aliases"]}
    assert "alias/aws/ssm" in aliases
    target = aliases["alias/aws/ssm"]["TargetKeyId"]
    meta = server.aws("kms", "describe-key", "--key-id", "alias/aws/ssm", "--region", region,
                      region=region)["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    assert meta["KeyId"] == target
    assert meta["KeyState"] == "Enabled"
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert meta["Arn"].startswith(f"arn:aws:kms:{region}:000000000000:key/")

    # A second parameter uses the same key; no other key appears.
    c.put_parameter(Name="/default/two", Value="second secret", Type="SecureString")
    after = server.aws("kms", "list-aliases", "--region", region, region=region)["Aliases"]
    assert [a["TargetKeyId"] for a in after if a["AliasName"] == "alias/aws/ssm"] == [target]
    assert [k["KeyId"] for k in server.client("kms", region=region).list_keys()["Keys"]] == [target]

    described = {p["Name"]: p for p in c.describe_parameters()["Parameters"]}
    assert described["/default/one"]["KeyId"] == "alias/aws/ssm"
    assert described["/default/two"]["KeyId"] == "alias/aws/ssm"
    # Same key when named explicitly.
    c.put_parameter(Name="/default/three", Value="third", Type="SecureString", KeyId="alias/aws/ssm")
    assert c.get_parameter(Name="/default/three", WithDecryption=True)["Parameter"]["Value"] == "third"


def test_ciphertext_opens_only_with_the_parameter_arn_context(server, region):
    c = server.client("ssm", region=region)
    kms = server.client("kms", region=region)
    for name in ("/ctx/nested/secret", "flat-secret"):
        c.put_parameter(Name=name, Value="open sesame", Type="SecureString")
        value = c.get_parameter(Name=name)["Parameter"]["Value"]
        assert "open sesame" not in value
        blob = base64.b64decode(value, validate=True)
        arn = param_arn(name, region)
        out = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"PARAMETER_ARN": arn})
        assert out["Plaintext"] == b"open sesame"
        default_key = kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]["Arn"]
        assert out["KeyId"] == default_key
        expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob)
        expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob,
                     EncryptionContext={"PARAMETER_ARN": arn + "x"})
        # The same with the aws CLI.
        ok = kms_decrypt_cli(server, value, region, {"PARAMETER_ARN": arn})
        assert ok.returncode == 0, ok.stderr
        assert "InvalidCiphertextException" in kms_decrypt_cli(server, value, region).stderr


def test_custom_key(server, region):
    c = server.client("ssm", region=region)
    kms = server.client("kms", region=region)
    key = kms.create_key(Description="M2 Security JWT Secret Key")["KeyMetadata"]
    kms.create_alias(AliasName="alias/can2025-jwt-secret", TargetKeyId=key["KeyId"])
    name = "/can2025/prod/jwt-secret"
    out = c.put_parameter(Name=name, Value="your-production-secret-key", Type="SecureString",
                          KeyId="alias/can2025-jwt-secret")
    assert out["Version"] == 1
    p = c.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert (p["Type"], p["Value"]) == ("SecureString", "your-production-secret-key")
    blob = base64.b64decode(c.get_parameter(Name=name)["Parameter"]["Value"])
    opened = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"PARAMETER_ARN": param_arn(name, region)})
    assert opened["KeyId"] == key["Arn"]
    assert opened["Plaintext"] == b"your-production-secret-key"
    # The KMS key named in DescribeParameters is that key.
    meta = c.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"][0]
    assert meta["KeyId"]
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["Arn"] == key["Arn"]
    # Every key form works.
    for i, key_id in enumerate((key["KeyId"], key["Arn"], f"arn:aws:kms:{region}:000000000000:alias/can2025-jwt-secret")):
        n = f"/can2025/forms/k{i}"
        c.put_parameter(Name=n, Value=f"form {i}", Type="SecureString", KeyId=key_id)
        assert c.get_parameter(Name=n, WithDecryption=True)["Parameter"]["Value"] == f"form {i}"
        blob = base64.b64decode(c.get_parameter(Name=n)["Parameter"]["Value"])
        assert kms.decrypt(CiphertextBlob=blob,
                           EncryptionContext={"PARAMETER_ARN": param_arn(n, region)})["KeyId"] == key["Arn"]


def test_nonexistent_key(server, region):
    c = server.client("ssm", region=region)
    for key_id in ("alias/no-such-key", str(uuid.uuid4()),
                   f"arn:aws:kms:{region}:000000000000:key/{uuid.uuid4()}"):
        expect_error("InvalidKeyId", c.put_parameter, Name="/nokey/secret", Value="x", Type="SecureString",
                     KeyId=key_id)
    expect_error("ParameterNotFound", c.get_parameter, Name="/nokey/secret")


def test_get_parameters_with_decryption(ssm):
    root = unique()
    ssm.put_parameter(Name=root + "/plain", Value="plain", Type="String")
    ssm.put_parameter(Name=root + "/secret", Value="the secret", Type="SecureString")
    out = ssm.get_parameters(Names=[root + "/plain", root + "/secret"], WithDecryption=True)
    assert {p["Name"]: p["Value"] for p in out["Parameters"]} == {root + "/plain": "plain",
                                                                 root + "/secret": "the secret"}
    out = ssm.get_parameters(Names=[root + "/plain", root + "/secret"])
    values = {p["Name"]: p["Value"] for p in out["Parameters"]}
    assert values[root + "/plain"] == "plain"
    assert values[root + "/secret"] != "the secret"


def test_overwrite_is_encrypted_again(ssm):
    name = unique() + "/rotated"
    ssm.put_parameter(Name=name, Value="old secret", Type="SecureString")
    ssm.put_parameter(Name=name, Value="new secret", Type="SecureString", Overwrite=True)
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "new secret"
    assert ssm.get_parameter(Name=f"{name}:1", WithDecryption=True)["Parameter"]["Value"] == "old secret"


@pytest.mark.parametrize("how", ["disable", "schedule-deletion"])
def test_unusable_key(server, region, how):
    c = server.client("ssm", region=region)
    kms = server.client("kms", region=region)
    key = kms.create_key(Description="soon unusable")["KeyMetadata"]
    c.put_parameter(Name="/unusable/secret", Value="locked away", Type="SecureString", KeyId=key["KeyId"])
    c.put_parameter(Name="/unusable/plain", Value="still here", Type="String")
    if how == "disable":
        server.aws("kms", "disable-key", "--key-id", key["KeyId"], "--region", region, region=region)
    else:
        kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)

    expect_error("InvalidKeyId", c.get_parameter, Name="/unusable/secret", WithDecryption=True)
    # Without decryption SSM does not call KMS: the ciphertext is still returned.
    hidden = c.get_parameter(Name="/unusable/secret")["Parameter"]
    assert hidden["Type"] == "SecureString" and "locked away" not in hidden["Value"]
    # A request that needs the key for one parameter is refused with a named error too, never a 5xx.
    assert error_code(c.get_parameters, Names=["/unusable/secret", "/unusable/plain"], WithDecryption=True) == (
        "InvalidKeyId")
    assert error_code(c.get_parameter_history, Name="/unusable/secret", WithDecryption=True) == "InvalidKeyId"
    assert error_code(c.get_parameters_by_path, Path="/unusable", WithDecryption=True) == "InvalidKeyId"
    # Encrypting a new version under the key fails with a named error, and nothing changes.
    error_code(c.put_parameter, Name="/unusable/secret", Value="new", Type="SecureString", Overwrite=True,
               KeyId=key["KeyId"])
    assert c.get_parameter(Name="/unusable/secret")["Parameter"]["Version"] == 1
    assert c.get_parameter(Name="/unusable/plain", WithDecryption=True)["Parameter"]["Value"] == "still here"

    if how == "disable":
        kms.enable_key(KeyId=key["KeyId"])
    else:
        kms.cancel_key_deletion(KeyId=key["KeyId"])
        kms.enable_key(KeyId=key["KeyId"])
    assert c.get_parameter(Name="/unusable/secret", WithDecryption=True)["Parameter"]["Value"] == "locked away"


def test_plaintext_never_stored(fresh_server):
    server = fresh_server().start()
    c = server.client("ssm")
    secret = f"PLAINTEXT-{uuid.uuid4().hex}"
    visible = f"VISIBLE-{uuid.uuid4().hex}"
    c.put_parameter(Name="/stored/secret", Value=secret, Type="SecureString")
    c.put_parameter(Name="/stored/secret", Value=secret + "-v2", Type="SecureString", Overwrite=True)
    c.put_parameter(Name="/stored/plain", Value=visible, Type="String")
    kms = server.client("kms")
    key = kms.create_key()["KeyMetadata"]
    c.put_parameter(Name="/stored/own-key", Value=secret + "-own", Type="SecureString", KeyId=key["KeyId"])
    assert c.get_parameter(Name="/stored/secret", WithDecryption=True)["Parameter"]["Value"] == secret + "-v2"

    def scan():
        files = data_dir_bytes(server.data_dir)
        assert files, "the data dir holds no files"
        leaks = [str(p) for p, data in files.items() if secret.encode() in data]
        seen = [str(p) for p, data in files.items() if visible.encode() in data]
        return leaks, seen

    leaks, seen = scan()
    assert leaks == []
    assert seen, "the scan does not see stored values at all (a String value should be there)"
    server.stop()
    leaks, seen = scan()
    assert leaks == []
    assert seen
