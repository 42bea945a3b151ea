"""GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext through boto3, checked with openssl:
every DataKeyPairSpec, PKCS#8 private keys that match the SPKI public key, the encrypted private key
decrypting (with its encryption context) to the same PKCS#8, refusals."""
import base64
import os
import uuid

import pytest

from conftest import expect_error, unchecked
from kms_asym_support import (
    SIGNING_ALGORITHMS, assert_public_key_matches_spec, client_error, openssl, openssl_decrypt, openssl_encrypt,
    openssl_sign, openssl_verify, public_from_private,
)

PAIR_SPECS = ["RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
              "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"]
# RSA_4096 pairs are slow to make: WithoutPlaintext covers the others.
WITHOUT_PLAINTEXT_SPECS = [s for s in PAIR_SPECS if s != "RSA_4096"]


@pytest.fixture(scope="module")
def wrapping_key(server):
    return server.client("kms").create_key(Description="data key pair wrapping key")["KeyMetadata"]


def assert_pkcs8_for(private_der, public_der, spec):
    """The private key is a PKCS#8 PrivateKeyInfo that openssl reads, of the spec's type, matching the public key."""
    text = openssl("pkey", "-inform", "DER", "-text", "-noout", input=private_der).stdout.decode()
    if spec.startswith("RSA_"):
        assert f"Private-Key: ({spec.split('_')[1]} bit" in text, text[:200]
    elif spec == "ECC_NIST_EDWARDS25519":
        assert "ED25519 Private-Key" in text, text[:200]
    # A PKCS#8 structure (RFC 5958: SEQUENCE { INTEGER version, AlgorithmIdentifier, OCTET STRING ... }),
    # not a bare RSAPrivateKey / ECPrivateKey.
    asn1 = openssl("asn1parse", "-inform", "DER", input=private_der).stdout.decode()
    first_lines = asn1.splitlines()[:3]
    assert "SEQUENCE" in first_lines[0] and "INTEGER" in first_lines[1], asn1[:300]
    assert first_lines[1].rstrip().endswith((":00", ":01")), asn1[:300]
    assert "SEQUENCE" in first_lines[2], asn1[:300]
    assert public_from_private(private_der) == public_der
    assert_public_key_matches_spec(public_der, spec)


@pytest.mark.parametrize("spec", PAIR_SPECS)
def test_generate_data_key_pair(kms, wrapping_key, spec):
    context = {"purpose": "data key pair", "spec": spec}
    out = kms.generate_data_key_pair(KeyId=wrapping_key["KeyId"], KeyPairSpec=spec, EncryptionContext=context)
    assert out["KeyId"] == wrapping_key["Arn"]
    assert out["KeyPairSpec"] == spec
    private_der, public_der = out["PrivateKeyPlaintext"], out["PublicKey"]
    assert_pkcs8_for(private_der, public_der, spec)
    # The encrypted copy decrypts, with the same encryption context, to the same PKCS#8 bytes.
    back = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext=context)
    assert back["Plaintext"] == private_der
    assert back["KeyId"] == wrapping_key["Arn"]
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=out["PrivateKeyCiphertextBlob"])
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=out["PrivateKeyCiphertextBlob"],
                 EncryptionContext={**context, "spec": "other"})
    # The pair works outside KMS.
    algorithm = SIGNING_ALGORITHMS[spec][0]
    message = b"signed with a data key pair"
    assert openssl_verify(public_der, message, openssl_sign(private_der, message, algorithm), algorithm)
    if spec.startswith("RSA_"):
        assert openssl_decrypt(private_der, openssl_encrypt(public_der, b"sealed", "RSAES_OAEP_SHA_256"),
                               "RSAES_OAEP_SHA_256") == b"sealed"


@pytest.mark.parametrize("spec", WITHOUT_PLAINTEXT_SPECS)
def test_generate_data_key_pair_without_plaintext(kms, wrapping_key, spec):
    out = kms.generate_data_key_pair_without_plaintext(KeyId=wrapping_key["Arn"], KeyPairSpec=spec,
                                                       EncryptionContext={"k": spec})
    assert "PrivateKeyPlaintext" not in out
    assert out["KeyId"] == wrapping_key["Arn"] and out["KeyPairSpec"] == spec
    private_der = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext={"k": spec})[
        "Plaintext"]
    assert_pkcs8_for(private_der, out["PublicKey"], spec)


def test_every_pair_is_new(kms, wrapping_key):
    a = kms.generate_data_key_pair(KeyId=wrapping_key["KeyId"], KeyPairSpec="ECC_NIST_P256")
    b = kms.generate_data_key_pair(KeyId=wrapping_key["KeyId"], KeyPairSpec="ECC_NIST_P256")
    assert a["PublicKey"] != b["PublicKey"] and a["PrivateKeyPlaintext"] != b["PrivateKeyPlaintext"]
    c = kms.generate_data_key_pair_without_plaintext(KeyId=wrapping_key["KeyId"], KeyPairSpec="ECC_NIST_P256")
    assert c["PublicKey"] not in (a["PublicKey"], b["PublicKey"])


def test_data_key_pair_through_alias_and_cli(server, kms, wrapping_key):
    alias = f"alias/pairs-{uuid.uuid4().hex[:10]}"
    kms.create_alias(AliasName=alias, TargetKeyId=wrapping_key["KeyId"])
    out = kms.generate_data_key_pair(KeyId=alias, KeyPairSpec="ECC_NIST_P384")
    assert out["KeyId"] == wrapping_key["Arn"]
    cli = server.aws("kms", "generate-data-key-pair", "--key-id", alias, "--key-pair-spec", "ECC_NIST_P256",
                     "--encryption-context", "app=cli")
    private_der = base64.b64decode(cli["PrivateKeyPlaintext"])
    assert public_from_private(private_der) == base64.b64decode(cli["PublicKey"])
    blob = base64.b64decode(cli["PrivateKeyCiphertextBlob"])
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "cli"})["Plaintext"] == private_der


def test_data_key_pair_refusals(server, kms, wrapping_key):
    # A symmetric encryption key encrypts the private key: no asymmetric or HMAC key.
    for spec, usage in (("RSA_2048", "ENCRYPT_DECRYPT"), ("ECC_NIST_P256", "SIGN_VERIFY"),
                        ("HMAC_256", "GENERATE_VERIFY_MAC")):
        other = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
        for op in (kms.generate_data_key_pair, kms.generate_data_key_pair_without_plaintext):
            expect_error("InvalidKeyUsageException", op, KeyId=other["KeyId"], KeyPairSpec="ECC_NIST_P256")
    # SM2 is for the China Regions.
    client_error(kms.generate_data_key_pair, {"UnsupportedOperationException", "ValidationException"},
                 KeyId=wrapping_key["KeyId"], KeyPairSpec="SM2")
    raw = unchecked(server)
    expect_error("ValidationException", raw.generate_data_key_pair, KeyId=wrapping_key["KeyId"],
                 KeyPairSpec="RSA_1024")
    expect_error("ValidationException", raw.generate_data_key_pair, KeyId=wrapping_key["KeyId"])
    expect_error("NotFoundException", kms.generate_data_key_pair, KeyId=str(uuid.uuid4()), KeyPairSpec="RSA_2048")
    expect_error("DryRunOperationException", kms.generate_data_key_pair, KeyId=wrapping_key["KeyId"],
                 KeyPairSpec="ECC_NIST_P256", DryRun=True)
    expect_error("DryRunOperationException", kms.generate_data_key_pair_without_plaintext,
                 KeyId=wrapping_key["KeyId"], KeyPairSpec="ECC_NIST_P256", DryRun=True)
    disabled = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    expect_error("DisabledException", kms.generate_data_key_pair, KeyId=disabled["KeyId"], KeyPairSpec="RSA_2048")
    expect_error("DisabledException", kms.generate_data_key_pair_without_plaintext, KeyId=disabled["KeyId"],
                 KeyPairSpec="RSA_2048")


def test_data_key_pair_under_imported_key(kms):
    from kms_asym_support import import_key_material

    meta = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    import_key_material(kms, meta["KeyId"], os.urandom(32))
    out = kms.generate_data_key_pair(KeyId=meta["KeyId"], KeyPairSpec="ECC_NIST_P521")
    assert kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"])["Plaintext"] == out["PrivateKeyPlaintext"]
