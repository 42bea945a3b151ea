"""HMAC KMS keys through boto3: CreateKey/DescribeKey for HMAC_224/256/384/512, GenerateMac and VerifyMac
(RFC 2104 HMACs, checked against Python's `hmac` with imported key material), KMSInvalidMacException,
key usage and algorithm refusals, limits."""
import base64
import hashlib
import hmac
import os
import uuid

import pytest

from conftest import expect_error, unchecked
from kms_asym_support import HMAC_SPECS, MAC_ALGORITHMS, KeyCache, client_error, import_key_material

DIGESTS = {"HMAC_224": "sha224", "HMAC_256": "sha256", "HMAC_384": "sha384", "HMAC_512": "sha512"}
MAC_LENGTH = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}


@pytest.fixture(scope="module")
def keys(server):
    return KeyCache(server.client("kms"))


def algorithm_of(spec):
    return MAC_ALGORITHMS[spec][0]


@pytest.fixture(scope="module")
def imported(server):
    """One EXTERNAL HMAC key per spec, with material made here: spec -> (metadata, material)."""
    kms = server.client("kms")
    made = {}
    for i, spec in enumerate(HMAC_SPECS):
        meta = kms.create_key(KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC", Origin="EXTERNAL",
                              Description=f"imported {spec}")["KeyMetadata"]
        material = os.urandom(MAC_LENGTH[spec])
        # Alternate the two wrapping families.
        algorithm = "RSAES_OAEP_SHA_256" if i % 2 == 0 else "RSA_AES_KEY_WRAP_SHA_256"
        import_key_material(kms, meta["KeyId"], material, algorithm=algorithm)
        made[spec] = (meta, material)
    return made


@pytest.mark.parametrize("spec", HMAC_SPECS)
def test_describe_hmac_key(kms, keys, spec):
    created = keys.get(spec, "GENERATE_VERIFY_MAC")
    for meta in (created, kms.describe_key(KeyId=created["KeyId"])["KeyMetadata"]):
        assert meta["KeySpec"] == spec and meta["CustomerMasterKeySpec"] == spec
        assert meta["KeyUsage"] == "GENERATE_VERIFY_MAC"
        assert meta["MacAlgorithms"] == MAC_ALGORITHMS[spec]
        assert "EncryptionAlgorithms" not in meta and "SigningAlgorithms" not in meta
        assert meta["Origin"] == "AWS_KMS" and meta["MultiRegion"] is False
        assert meta["KeyState"] == "Enabled"


@pytest.mark.parametrize("spec", HMAC_SPECS)
def test_generate_and_verify_mac(kms, keys, spec):
    meta = keys.get(spec, "GENERATE_VERIFY_MAC")
    algorithm = algorithm_of(spec)
    message = b"message to authenticate " + os.urandom(8)
    out = kms.generate_mac(KeyId=meta["KeyId"], Message=message, MacAlgorithm=algorithm)
    assert out["KeyId"] == meta["Arn"]
    assert out["MacAlgorithm"] == algorithm
    mac = out["Mac"]
    assert len(mac) == MAC_LENGTH[spec]
    # Deterministic: the same message and key give the same HMAC.
    assert kms.generate_mac(KeyId=meta["KeyId"], Message=message, MacAlgorithm=algorithm)["Mac"] == mac
    assert kms.generate_mac(KeyId=meta["KeyId"], Message=message + b".", MacAlgorithm=algorithm)["Mac"] != mac
    ok = kms.verify_mac(KeyId=meta["KeyId"], Message=message, MacAlgorithm=algorithm, Mac=mac)
    assert ok["MacValid"] is True and ok["KeyId"] == meta["Arn"] and ok["MacAlgorithm"] == algorithm
    # Another message, a changed MAC, a truncated MAC, another key of the same spec: KMSInvalidMacException.
    expect_error("KMSInvalidMacException", kms.verify_mac, KeyId=meta["KeyId"], Message=message + b"!",
                 MacAlgorithm=algorithm, Mac=mac)
    bad = bytearray(mac)
    bad[0] ^= 0x01
    expect_error("KMSInvalidMacException", kms.verify_mac, KeyId=meta["KeyId"], Message=message,
                 MacAlgorithm=algorithm, Mac=bytes(bad))
    expect_error("KMSInvalidMacException", kms.verify_mac, KeyId=meta["KeyId"], Message=message,
                 MacAlgorithm=algorithm, Mac=mac[:-1])
    other = keys.get(spec, "GENERATE_VERIFY_MAC", tag="other")
    expect_error("KMSInvalidMacException", kms.verify_mac, KeyId=other["KeyId"], Message=message,
                 MacAlgorithm=algorithm, Mac=mac)


@pytest.mark.parametrize("spec", HMAC_SPECS)
def test_imported_material_matches_python_hmac(kms, imported, spec):
    meta, material = imported[spec]
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["Origin"] == "EXTERNAL" and described["KeyState"] == "Enabled"
    assert described["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    algorithm = algorithm_of(spec)
    for message in (b"a", b"hello world", os.urandom(4096)):
        expected = hmac.new(material, message, DIGESTS[spec]).digest()
        assert kms.generate_mac(KeyId=meta["KeyId"], Message=message, MacAlgorithm=algorithm)["Mac"] == expected
        # An HMAC computed outside KMS verifies inside it.
        assert kms.verify_mac(KeyId=meta["KeyId"], Message=message, MacAlgorithm=algorithm,
                              Mac=expected)["MacValid"] is True
    wrong = hmac.new(material[::-1], b"hello world", DIGESTS[spec]).digest()
    expect_error("KMSInvalidMacException", kms.verify_mac, KeyId=meta["KeyId"], Message=b"hello world",
                 MacAlgorithm=algorithm, Mac=wrong)


@pytest.mark.parametrize("wrapping", ["RSAES_OAEP_SHA_1", "RSA_AES_KEY_WRAP_SHA_1"])
def test_hmac_material_wrapped_with_openssl(kms, wrapping):
    meta = kms.create_key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC", Origin="EXTERNAL")["KeyMetadata"]
    material = os.urandom(48)
    import_key_material(kms, meta["KeyId"], material, algorithm=wrapping, wrapping_spec="RSA_3072", cli=True)
    mac = kms.generate_mac(KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_384")["Mac"]
    assert mac == hmac.new(material, b"m", hashlib.sha384).digest()


def test_hmac_import_refusals(kms, imported):
    meta = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC", Origin="EXTERNAL")["KeyMetadata"]
    assert meta["KeyState"] == "PendingImport" and meta["Enabled"] is False
    assert meta["MacAlgorithms"] == ["HMAC_SHA_256"]
    expect_error("KMSInvalidStateException", kms.generate_mac, KeyId=meta["KeyId"], Message=b"m",
                 MacAlgorithm="HMAC_SHA_256")
    # Material shorter than the HMAC_256 minimum.
    client_error(import_key_material, {"IncorrectKeyMaterialException", "ValidationException"}, kms=kms,
                 key_id=meta["KeyId"], material=os.urandom(16))
    # The material of an HMAC key cannot be changed after the first import.
    existing, material = imported["HMAC_256"]
    expect_error("IncorrectKeyMaterialException", import_key_material, kms=kms, key_id=existing["KeyId"],
                 material=os.urandom(32))
    # Reimporting the same material is allowed.
    import_key_material(kms, existing["KeyId"], material)
    assert kms.describe_key(KeyId=existing["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_mac_algorithm_must_match_key_spec(kms, keys):
    meta = keys.get("HMAC_384", "GENERATE_VERIFY_MAC")
    for algorithm in ("HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_512"):
        expect_error("InvalidKeyUsageException", kms.generate_mac, KeyId=meta["KeyId"], Message=b"m",
                     MacAlgorithm=algorithm)
        expect_error("InvalidKeyUsageException", kms.verify_mac, KeyId=meta["KeyId"], Message=b"m",
                     MacAlgorithm=algorithm, Mac=b"\x00" * 48)


def test_hmac_keys_only_do_macs(kms, keys):
    meta = keys.get("HMAC_256", "GENERATE_VERIFY_MAC")
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x")
    expect_error("InvalidKeyUsageException", kms.generate_data_key, KeyId=meta["KeyId"], KeySpec="AES_256")
    expect_error("InvalidKeyUsageException", kms.generate_data_key_pair, KeyId=meta["KeyId"],
                 KeyPairSpec="ECC_NIST_P256")
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=meta["KeyId"], Message=b"x",
                 SigningAlgorithm="ECDSA_SHA_256")
    client_error(kms.enable_key_rotation, {"UnsupportedOperationException", "ValidationException"},
                 KeyId=meta["KeyId"])
    # And other keys do no MACs.
    symmetric = kms.create_key()["KeyMetadata"]
    expect_error("InvalidKeyUsageException", kms.generate_mac, KeyId=symmetric["KeyId"], Message=b"m",
                 MacAlgorithm="HMAC_SHA_256")
    expect_error("InvalidKeyUsageException", kms.verify_mac, KeyId=symmetric["KeyId"], Message=b"m",
                 MacAlgorithm="HMAC_SHA_256", Mac=b"\x00" * 32)
    signer = keys.get("ECC_NIST_P256", "SIGN_VERIFY")
    expect_error("InvalidKeyUsageException", kms.generate_mac, KeyId=signer["KeyId"], Message=b"m",
                 MacAlgorithm="HMAC_SHA_256")


def test_mac_message_limits(server, kms, keys):
    meta = keys.get("HMAC_512", "GENERATE_VERIFY_MAC")
    mac = kms.generate_mac(KeyId=meta["KeyId"], Message=b"x" * 4096, MacAlgorithm="HMAC_SHA_512")["Mac"]
    assert kms.verify_mac(KeyId=meta["KeyId"], Message=b"x" * 4096, MacAlgorithm="HMAC_SHA_512",
                          Mac=mac)["MacValid"] is True
    raw = unchecked(server)
    expect_error("ValidationException", raw.generate_mac, KeyId=meta["KeyId"], Message=b"x" * 4097,
                 MacAlgorithm="HMAC_SHA_512")
    expect_error("ValidationException", raw.verify_mac, KeyId=meta["KeyId"], Message=b"x" * 4097,
                 MacAlgorithm="HMAC_SHA_512", Mac=mac)
    expect_error("ValidationException", raw.generate_mac, KeyId=meta["KeyId"], Message=b"",
                 MacAlgorithm="HMAC_SHA_512")
    expect_error("ValidationException", raw.generate_mac, KeyId=meta["KeyId"], Message=b"x",
                 MacAlgorithm="HMAC_SHA_1")
    expect_error("ValidationException", raw.generate_mac, KeyId=meta["KeyId"], Message=b"x")


def test_mac_key_forms_states_and_dry_run(kms):
    meta = kms.create_key(KeySpec="HMAC_224", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    alias = f"alias/mac-{uuid.uuid4().hex[:10]}"
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    macs = {kms.generate_mac(KeyId=k, Message=b"m", MacAlgorithm="HMAC_SHA_224")["Mac"]
            for k in (meta["KeyId"], meta["Arn"], alias)}
    assert len(macs) == 1
    mac = macs.pop()
    expect_error("DryRunOperationException", kms.generate_mac, KeyId=meta["KeyId"], Message=b"m",
                 MacAlgorithm="HMAC_SHA_224", DryRun=True)
    expect_error("DryRunOperationException", kms.verify_mac, KeyId=meta["KeyId"], Message=b"m",
                 MacAlgorithm="HMAC_SHA_224", Mac=mac, DryRun=True)
    kms.disable_key(KeyId=meta["KeyId"])
    expect_error("DisabledException", kms.generate_mac, KeyId=meta["KeyId"], Message=b"m",
                 MacAlgorithm="HMAC_SHA_224")
    expect_error("DisabledException", kms.verify_mac, KeyId=meta["KeyId"], Message=b"m",
                 MacAlgorithm="HMAC_SHA_224", Mac=mac)
    kms.enable_key(KeyId=meta["KeyId"])
    assert kms.verify_mac(KeyId=alias, Message=b"m", MacAlgorithm="HMAC_SHA_224", Mac=mac)["MacValid"] is True
    expect_error("NotFoundException", kms.generate_mac, KeyId=str(uuid.uuid4()), Message=b"m",
                 MacAlgorithm="HMAC_SHA_224")


def test_cli_generate_and_verify_mac(server, imported, tmp_path):
    meta, material = imported["HMAC_256"]
    message = b"through the aws CLI"
    (tmp_path / "message.bin").write_bytes(message)
    out = server.aws("kms", "generate-mac", "--key-id", meta["KeyId"], "--mac-algorithm", "HMAC_SHA_256",
                     "--message", f"fileb://{tmp_path / 'message.bin'}")
    mac = base64.b64decode(out["Mac"])
    assert mac == hmac.new(material, message, hashlib.sha256).digest()
    (tmp_path / "mac.bin").write_bytes(mac)
    ok = server.aws("kms", "verify-mac", "--key-id", meta["KeyId"], "--mac-algorithm", "HMAC_SHA_256",
                    "--message", f"fileb://{tmp_path / 'message.bin'}", "--mac", f"fileb://{tmp_path / 'mac.bin'}")
    assert ok["MacValid"] is True
