"""Asymmetric KMS keys through boto3, checked against the openssl CLI and `cryptography`:
CreateKey/DescribeKey for every KeySpec and KeyUsage, GetPublicKey, Sign/Verify (RAW, DIGEST,
EXTERNAL_MU), RSA Encrypt/Decrypt (RSAES_OAEP_SHA_1/256) and DeriveSharedSecret (ECDH).

Keys are module-scoped (one per KeySpec and KeyUsage, made on first use); RSA_4096 is made once.
"""
import base64
import hashlib
import os
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import expect_error, unchecked
from kms_asym_support import (
    INVALID_COMBINATIONS, ML_DSA_SPECS, NIST_EC_SPECS, RSA_ENCRYPTION, SIGNING_ALGORITHMS, VALID_USAGES,
    KeyCache, assert_public_key_matches_spec, client_error, digest, ed25519ph_verify, expected_algorithms,
    genpkey, mldsa_external_mu, mldsa_verify, openssl_derive, openssl_encrypt, openssl_verify, raw_public_key,
)

# Documented maximum plaintext per RSA key spec and algorithm (Encrypt's documentation).
RSA_MAX_PLAINTEXT = {
    ("RSA_2048", "RSAES_OAEP_SHA_1"): 214, ("RSA_2048", "RSAES_OAEP_SHA_256"): 190,
    ("RSA_3072", "RSAES_OAEP_SHA_1"): 342, ("RSA_3072", "RSAES_OAEP_SHA_256"): 318,
    ("RSA_4096", "RSAES_OAEP_SHA_1"): 470, ("RSA_4096", "RSAES_OAEP_SHA_256"): 446,
}

# Every (KeySpec, KeyUsage) AWS allows outside the China Regions, except RSA_4096 ENCRYPT_DECRYPT
# (one RSA_4096 key per module: its encryption is covered by the multi-Region tests).
VALID = [(spec, usage) for spec, usages in VALID_USAGES.items() if spec != "SYMMETRIC_DEFAULT"
         for usage in usages if (spec, usage) != ("RSA_4096", "ENCRYPT_DECRYPT")]
PUBLIC = [(spec, usage) for spec, usage in VALID if usage != "GENERATE_VERIFY_MAC"]
SIGNING_CASES = [(spec, alg) for spec, algs in SIGNING_ALGORITHMS.items() for alg in algs]
OPENSSL_SIGNING_CASES = [(s, a) for s, a in SIGNING_CASES if a not in ("ED25519_PH_SHA_512", "ML_DSA_SHAKE_256")]


@pytest.fixture(scope="module")
def kms_module(server):
    return server.client("kms")


@pytest.fixture(scope="module")
def keys(kms_module):
    return KeyCache(kms_module)


@pytest.fixture(scope="module")
def public_keys(kms_module, keys):
    cache = {}

    def get(spec, usage):
        if (spec, usage) not in cache:
            cache[(spec, usage)] = kms_module.get_public_key(KeyId=keys.get(spec, usage)["KeyId"])["PublicKey"]
        return cache[(spec, usage)]

    return get


# ---------------------------------------------------------------------------------------------
# CreateKey / DescribeKey / GetPublicKey
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,usage", VALID)
def test_describe_key_fields(kms, keys, spec, usage):
    created = keys.get(spec, usage)
    for meta in (created, kms.describe_key(KeyId=created["KeyId"])["KeyMetadata"]):
        assert meta["KeySpec"] == spec
        if not spec.startswith(("ML_DSA", "ECC_NIST_EDWARDS")):  # CustomerMasterKeySpec predates those specs
            assert meta["CustomerMasterKeySpec"] == spec
        assert meta["KeyUsage"] == usage
        assert meta["Origin"] == "AWS_KMS"
        assert meta["MultiRegion"] is False
        assert "MultiRegionConfiguration" not in meta
        assert meta["KeyState"] == "Enabled" and meta["Enabled"] is True
        assert meta["KeyManager"] == "CUSTOMER"
        field, algorithms = expected_algorithms(spec, usage)
        assert sorted(meta[field]) == algorithms, meta
        for other in ("EncryptionAlgorithms", "SigningAlgorithms", "MacAlgorithms", "KeyAgreementAlgorithms"):
            if other != field:
                assert other not in meta or meta[other] == [], (other, meta)
        # Asymmetric keys have no automatic rotation and no symmetric key material id.
        assert "CurrentKeyMaterialId" not in meta
        assert "ExpirationModel" not in meta and "ValidTo" not in meta


@pytest.mark.parametrize("spec,usage", PUBLIC)
def test_get_public_key(kms, keys, spec, usage):
    meta = keys.get(spec, usage)
    out = kms.get_public_key(KeyId=meta["KeyId"])
    assert out["KeyId"] == meta["Arn"]
    assert out["KeySpec"] == spec
    assert out["KeyUsage"] == usage
    field, algorithms = expected_algorithms(spec, usage)
    assert sorted(out[field]) == algorithms, out
    for other in ("EncryptionAlgorithms", "SigningAlgorithms", "KeyAgreementAlgorithms"):
        if other != field:
            assert other not in out, (other, out)
    der = out["PublicKey"]
    if spec.startswith("ML_DSA"):
        # The openssl CLI of the test machine predates ML-DSA: parse with `cryptography`.
        key = serialization.load_der_public_key(der)
        assert type(key).__name__ == f"MLDSA{spec.split('_')[2]}PublicKey"
    else:
        assert_public_key_matches_spec(der, spec)
    # The same key through its ARN and through an alias.
    alias = f"alias/pub-{uuid.uuid4().hex[:10]}"
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    assert kms.get_public_key(KeyId=alias)["PublicKey"] == der
    assert kms.get_public_key(KeyId=meta["Arn"])["PublicKey"] == der


def test_cli_get_public_key_is_base64_der(server, keys):
    meta = keys.get("ECC_NIST_P256", "SIGN_VERIFY")
    out = server.aws("kms", "get-public-key", "--key-id", meta["KeyId"])
    der = base64.b64decode(out["PublicKey"])
    assert_public_key_matches_spec(der, "ECC_NIST_P256")
    assert out["SigningAlgorithms"] == ["ECDSA_SHA_256"]


def test_each_key_has_its_own_key_pair(kms):
    a = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    b = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert kms.get_public_key(KeyId=a["KeyId"])["PublicKey"] != kms.get_public_key(KeyId=b["KeyId"])["PublicKey"]


def test_get_public_key_of_symmetric_and_hmac_keys(kms, keys):
    symmetric = kms.create_key()["KeyMetadata"]
    client_error(kms.get_public_key, {"UnsupportedOperationException", "InvalidKeyUsageException"},
                 KeyId=symmetric["KeyId"])
    hmac_key = keys.get("HMAC_256", "GENERATE_VERIFY_MAC")
    client_error(kms.get_public_key, {"UnsupportedOperationException", "InvalidKeyUsageException"},
                 KeyId=hmac_key["KeyId"])
    expect_error("NotFoundException", kms.get_public_key, KeyId=str(uuid.uuid4()))


@pytest.mark.parametrize("spec,usage", INVALID_COMBINATIONS)
def test_incompatible_key_spec_and_usage(kms, spec, usage):
    expect_error("ValidationException", kms.create_key, KeySpec=spec, KeyUsage=usage)


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "ECC_SECG_P256K1", "ML_DSA_44", "HMAC_256"])
def test_key_usage_is_required_beyond_encryption(kms, spec):
    # KeyUsage defaults to ENCRYPT_DECRYPT, which these specs do not support.
    expect_error("ValidationException", kms.create_key, KeySpec=spec)


def test_customer_master_key_spec_works_like_key_spec(kms):
    meta = kms.create_key(CustomerMasterKeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert meta["KeySpec"] == "ECC_NIST_P384" and meta["CustomerMasterKeySpec"] == "ECC_NIST_P384"
    assert meta["SigningAlgorithms"] == ["ECDSA_SHA_384"]


@pytest.mark.parametrize("usage", ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"])
def test_sm2_is_refused_cleanly(kms, usage):
    # SM2 key pairs exist only in the China Regions: a client error, never a server fault.
    client_error(kms.create_key, {"UnsupportedOperationException", "ValidationException"}, KeySpec="SM2",
                 KeyUsage=usage)


# ---------------------------------------------------------------------------------------------
# Sign / Verify
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,algorithm", SIGNING_CASES)
def test_sign_raw_and_verify_in_kms(kms, keys, spec, algorithm):
    meta = keys.get(spec, "SIGN_VERIFY")
    message = b"message to sign " + os.urandom(16)
    message_type = "DIGEST" if algorithm == "ED25519_PH_SHA_512" else "RAW"
    if message_type == "DIGEST":
        message = hashlib.sha512(message).digest()
    out = kms.sign(KeyId=meta["KeyId"], Message=message, MessageType=message_type, SigningAlgorithm=algorithm)
    assert out["KeyId"] == meta["Arn"]
    assert out["SigningAlgorithm"] == algorithm
    signature = out["Signature"]
    ok = kms.verify(KeyId=meta["KeyId"], Message=message, MessageType=message_type, Signature=signature,
                    SigningAlgorithm=algorithm)
    assert ok["SignatureValid"] is True
    assert ok["KeyId"] == meta["Arn"] and ok["SigningAlgorithm"] == algorithm
    # A changed message, a changed signature, another key: KMSInvalidSignatureException.
    tampered = bytearray(message)
    tampered[0] ^= 1
    expect_error("KMSInvalidSignatureException", kms.verify, KeyId=meta["KeyId"], Message=bytes(tampered),
                 MessageType=message_type, Signature=signature, SigningAlgorithm=algorithm)
    bad = bytearray(signature)
    bad[len(bad) // 2] ^= 0x10
    # A changed, truncated, extended or random signature (of any length) is an invalid signature.
    for wrong in (bytes(bad), signature[:-1], signature + b"\x00", os.urandom(len(signature)), os.urandom(64)):
        expect_error("KMSInvalidSignatureException", kms.verify, KeyId=meta["KeyId"], Message=message,
                     MessageType=message_type, Signature=wrong, SigningAlgorithm=algorithm)
    if spec != "RSA_4096":  # one RSA_4096 key per module
        other = keys.get(spec, "SIGN_VERIFY", tag="second")
        expect_error("KMSInvalidSignatureException", kms.verify, KeyId=other["KeyId"], Message=message,
                     MessageType=message_type, Signature=signature, SigningAlgorithm=algorithm)


@pytest.mark.parametrize("spec,algorithm", OPENSSL_SIGNING_CASES)
def test_signature_verifies_with_openssl(kms, keys, public_keys, spec, algorithm):
    meta = keys.get(spec, "SIGN_VERIFY")
    public = public_keys(spec, "SIGN_VERIFY")
    message = os.urandom(100)
    signature = kms.sign(KeyId=meta["KeyId"], Message=message, SigningAlgorithm=algorithm)["Signature"]
    assert openssl_verify(public, message, signature, algorithm), (spec, algorithm)
    assert not openssl_verify(public, message + b"x", signature, algorithm)
    if spec.startswith("RSA_"):
        assert len(signature) == int(spec.split("_")[1]) // 8
    if algorithm.startswith("ECDSA"):
        assert signature[0] == 0x30  # DER-encoded ECDSA-Sig-Value (RFC 3279)


@pytest.mark.parametrize("spec,algorithm", [c for c in OPENSSL_SIGNING_CASES if c[1] != "ED25519_SHA_512"])
def test_sign_digest(kms, keys, public_keys, spec, algorithm):
    meta = keys.get(spec, "SIGN_VERIFY")
    message = os.urandom(3000)
    d = digest(algorithm, message)
    signature = kms.sign(KeyId=meta["KeyId"], Message=d, MessageType="DIGEST", SigningAlgorithm=algorithm)["Signature"]
    # Verify accepts the digest, and the full message (a message and its digest are the same message) ...
    assert kms.verify(KeyId=meta["KeyId"], Message=d, MessageType="DIGEST", Signature=signature,
                      SigningAlgorithm=algorithm)["SignatureValid"] is True
    assert kms.verify(KeyId=meta["KeyId"], Message=message, Signature=signature,
                      SigningAlgorithm=algorithm)["SignatureValid"] is True
    # ... and openssl checks it over the full message.
    assert openssl_verify(public_keys(spec, "SIGN_VERIFY"), message, signature, algorithm)
    # The digest taken as a RAW message is hashed again: verification fails.
    expect_error("KMSInvalidSignatureException", kms.verify, KeyId=meta["KeyId"], Message=d, MessageType="RAW",
                 Signature=signature, SigningAlgorithm=algorithm)


def test_raw_and_digest_signatures_are_interchangeable(kms, keys):
    meta = keys.get("ECC_NIST_P384", "SIGN_VERIFY")
    message = b"the same message"
    raw_sig = kms.sign(KeyId=meta["KeyId"], Message=message, SigningAlgorithm="ECDSA_SHA_384")["Signature"]
    d = hashlib.sha384(message).digest()
    assert kms.verify(KeyId=meta["KeyId"], Message=d, MessageType="DIGEST", Signature=raw_sig,
                      SigningAlgorithm="ECDSA_SHA_384")["SignatureValid"] is True


@pytest.mark.parametrize("spec,algorithm,length", [
    ("RSA_2048", "RSASSA_PSS_SHA_256", 31), ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_384", 32),
    ("RSA_2048", "RSASSA_PSS_SHA_512", 48), ("ECC_NIST_P256", "ECDSA_SHA_256", 33),
    ("ECC_NIST_P384", "ECDSA_SHA_384", 32), ("ECC_NIST_P521", "ECDSA_SHA_512", 63),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256", 64), ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", 32),
])
def test_digest_of_the_wrong_length(kms, keys, spec, algorithm, length):
    meta = keys.get(spec, "SIGN_VERIFY")
    expect_error("ValidationException", kms.sign, KeyId=meta["KeyId"], Message=os.urandom(length),
                 MessageType="DIGEST", SigningAlgorithm=algorithm)
    expect_error("ValidationException", kms.verify, KeyId=meta["KeyId"], Message=os.urandom(length),
                 MessageType="DIGEST", Signature=b"\x30" * 64, SigningAlgorithm=algorithm)


def test_message_size_limit(server, kms, keys):
    meta = keys.get("ECC_NIST_P256", "SIGN_VERIFY")
    message = os.urandom(4096)
    signature = kms.sign(KeyId=meta["KeyId"], Message=message, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    assert kms.verify(KeyId=meta["KeyId"], Message=message, Signature=signature,
                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True
    raw = unchecked(server)
    expect_error("ValidationException", raw.sign, KeyId=meta["KeyId"], Message=os.urandom(4097),
                 SigningAlgorithm="ECDSA_SHA_256")
    expect_error("ValidationException", raw.verify, KeyId=meta["KeyId"], Message=os.urandom(4097),
                 Signature=signature, SigningAlgorithm="ECDSA_SHA_256")
    expect_error("ValidationException", raw.sign, KeyId=meta["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_1024")
    expect_error("ValidationException", raw.sign, KeyId=meta["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256", MessageType="HASHED")


def test_ed25519_message_types_are_not_interchangeable(kms, keys, public_keys):
    meta = keys.get("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    message = b"edwards"
    expect_error("ValidationException", kms.sign, KeyId=meta["KeyId"], Message=hashlib.sha512(message).digest(),
                 MessageType="DIGEST", SigningAlgorithm="ED25519_SHA_512")
    expect_error("ValidationException", kms.sign, KeyId=meta["KeyId"], Message=message, MessageType="RAW",
                 SigningAlgorithm="ED25519_PH_SHA_512")
    expect_error("ValidationException", kms.verify, KeyId=meta["KeyId"], Message=message, MessageType="RAW",
                 Signature=b"\x00" * 64, SigningAlgorithm="ED25519_PH_SHA_512")
    expect_error("ValidationException", kms.verify, KeyId=meta["KeyId"], Message=hashlib.sha512(message).digest(),
                 MessageType="DIGEST", Signature=b"\x00" * 64, SigningAlgorithm="ED25519_SHA_512")
    # ED25519_SHA_512 is pure Ed25519 (RFC 8032): openssl verifies it over the raw message.
    signature = kms.sign(KeyId=meta["KeyId"], Message=message, SigningAlgorithm="ED25519_SHA_512")["Signature"]
    assert len(signature) == 64
    assert openssl_verify(public_keys("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"), message, signature, "ED25519_SHA_512")


def test_ed25519ph_signature_is_rfc8032_hashed_eddsa(kms, keys, public_keys):
    # ED25519_PH_SHA_512 with a SHA-512 digest d: KMS still applies the prehash, so the signature
    # is Ed25519ph (RFC 8032, empty context) over d.
    meta = keys.get("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    public_raw = raw_public_key(public_keys("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"))
    d = hashlib.sha512(b"a long document" * 500).digest()
    signature = kms.sign(KeyId=meta["KeyId"], Message=d, MessageType="DIGEST",
                         SigningAlgorithm="ED25519_PH_SHA_512")["Signature"]
    assert len(signature) == 64
    assert ed25519ph_verify(public_raw, d, signature)
    assert not ed25519ph_verify(public_raw, hashlib.sha512(b"another").digest(), signature)
    # It is not a pure Ed25519 signature of d.
    assert not openssl_verify(public_keys("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"), d, signature, "ED25519_SHA_512")


def test_ed25519ph_reference_vector():
    # RFC 8032 section 7.3 (Ed25519ph, "abc"): checks the verifier the test above relies on.
    public = bytes.fromhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
    signature = bytes.fromhex("98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
                              "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406")
    assert ed25519ph_verify(public, b"abc", signature)
    assert not ed25519ph_verify(public, b"abd", signature)


@pytest.mark.parametrize("spec", ML_DSA_SPECS)
def test_ml_dsa_raw_signature_verifies_with_cryptography(kms, keys, public_keys, spec):
    meta = keys.get(spec, "SIGN_VERIFY")
    message = os.urandom(3000)
    signature = kms.sign(KeyId=meta["KeyId"], Message=message, MessageType="RAW",
                         SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    assert len(signature) == {"ML_DSA_44": 2420, "ML_DSA_65": 3309, "ML_DSA_87": 4627}[spec]
    public = public_keys(spec, "SIGN_VERIFY")
    assert mldsa_verify(public, message, signature)
    assert not mldsa_verify(public, message[:-1], signature)


@pytest.mark.parametrize("spec", ML_DSA_SPECS)
def test_ml_dsa_external_mu(kms, keys, public_keys, spec):
    # EXTERNAL_MU: the caller computes mu (FIPS 204 section 6.2); the signature is the one of the message.
    meta = keys.get(spec, "SIGN_VERIFY")
    public = public_keys(spec, "SIGN_VERIFY")
    message = os.urandom(10000)  # beyond the RAW limit
    mu = mldsa_external_mu(raw_public_key(public), message)
    signature = kms.sign(KeyId=meta["KeyId"], Message=mu, MessageType="EXTERNAL_MU",
                         SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    assert mldsa_verify(public, message, signature)
    assert kms.verify(KeyId=meta["KeyId"], Message=mu, MessageType="EXTERNAL_MU", Signature=signature,
                      SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"] is True
    # A RAW signature verifies through its mu too.
    short = b"short message"
    raw_sig = kms.sign(KeyId=meta["KeyId"], Message=short, SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    assert kms.verify(KeyId=meta["KeyId"], Message=mldsa_external_mu(raw_public_key(public), short),
                      MessageType="EXTERNAL_MU", Signature=raw_sig, SigningAlgorithm="ML_DSA_SHAKE_256")[
        "SignatureValid"] is True
    expect_error("KMSInvalidSignatureException", kms.verify, KeyId=meta["KeyId"], Message=os.urandom(64),
                 MessageType="EXTERNAL_MU", Signature=signature, SigningAlgorithm="ML_DSA_SHAKE_256")
    # mu is 64 bytes.
    for length in (32, 63, 65):
        expect_error("ValidationException", kms.sign, KeyId=meta["KeyId"], Message=os.urandom(length),
                     MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")


@pytest.mark.parametrize("spec,algorithm", [
    ("ECC_NIST_P256", "ECDSA_SHA_384"), ("ECC_NIST_P384", "ECDSA_SHA_256"), ("ECC_NIST_P521", "RSASSA_PSS_SHA_512"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_512"), ("RSA_2048", "ECDSA_SHA_256"), ("ECC_NIST_EDWARDS25519", "ECDSA_SHA_512"),
    ("ML_DSA_44", "ED25519_SHA_512"), ("RSA_3072", "ML_DSA_SHAKE_256"),
])
def test_signing_algorithm_incompatible_with_key_spec(kms, keys, spec, algorithm):
    meta = keys.get(spec, "SIGN_VERIFY")
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=meta["KeyId"], Message=b"m",
                 SigningAlgorithm=algorithm)
    expect_error("InvalidKeyUsageException", kms.verify, KeyId=meta["KeyId"], Message=b"m",
                 Signature=b"\x01" * 64, SigningAlgorithm=algorithm)


def test_signature_with_another_algorithm_does_not_verify(kms, keys):
    meta = keys.get("RSA_2048", "SIGN_VERIFY")
    signature = kms.sign(KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    for other in ("RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_384"):
        expect_error("KMSInvalidSignatureException", kms.verify, KeyId=meta["KeyId"], Message=b"m",
                     Signature=signature, SigningAlgorithm=other)


def test_sign_and_verify_need_a_sign_verify_key(kms, keys):
    symmetric = kms.create_key()["KeyMetadata"]
    for meta in (symmetric, keys.get("RSA_2048", "ENCRYPT_DECRYPT"), keys.get("ECC_NIST_P256", "KEY_AGREEMENT"),
                 keys.get("HMAC_256", "GENERATE_VERIFY_MAC")):
        expect_error("InvalidKeyUsageException", kms.sign, KeyId=meta["KeyId"], Message=b"m",
                     SigningAlgorithm="RSASSA_PSS_SHA_256" if meta["KeySpec"].startswith("RSA") else "ECDSA_SHA_256")
        expect_error("InvalidKeyUsageException", kms.verify, KeyId=meta["KeyId"], Message=b"m",
                     Signature=b"\x30" * 70, SigningAlgorithm="ECDSA_SHA_256")
    signer = keys.get("ECC_NIST_P256", "SIGN_VERIFY")
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=signer["KeyId"], Plaintext=b"x")
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=signer["KeyId"], Plaintext=b"x",
                 EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    expect_error("InvalidKeyUsageException", kms.generate_data_key, KeyId=signer["KeyId"], KeySpec="AES_256")
    expect_error("NotFoundException", kms.sign, KeyId=str(uuid.uuid4()), Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256")


def test_sign_with_alias_and_arn(kms, keys):
    meta = keys.get("ECC_SECG_P256K1", "SIGN_VERIFY")
    alias = f"alias/signer-{uuid.uuid4().hex[:10]}"
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    alias_arn = meta["Arn"].split(":key/")[0] + ":" + alias
    for key_id in (alias, alias_arn, meta["Arn"]):
        out = kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
        assert out["KeyId"] == meta["Arn"]
        assert kms.verify(KeyId=key_id, Message=b"m", Signature=out["Signature"],
                          SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True


def test_disabled_signing_key_and_dry_run(kms):
    meta = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    signature = kms.sign(KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    expect_error("DryRunOperationException", kms.sign, KeyId=meta["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256", DryRun=True)
    expect_error("DryRunOperationException", kms.verify, KeyId=meta["KeyId"], Message=b"m", Signature=signature,
                 SigningAlgorithm="ECDSA_SHA_256", DryRun=True)
    kms.disable_key(KeyId=meta["KeyId"])
    expect_error("DisabledException", kms.sign, KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    expect_error("DisabledException", kms.verify, KeyId=meta["KeyId"], Message=b"m", Signature=signature,
                 SigningAlgorithm="ECDSA_SHA_256")
    expect_error("DisabledException", kms.get_public_key, KeyId=meta["KeyId"])
    kms.enable_key(KeyId=meta["KeyId"])
    assert kms.verify(KeyId=meta["KeyId"], Message=b"m", Signature=signature,
                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True
    kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
    expect_error("KMSInvalidStateException", kms.sign, KeyId=meta["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256")


def test_asymmetric_keys_have_no_automatic_rotation(kms, keys):
    for spec, usage in (("RSA_2048", "ENCRYPT_DECRYPT"), ("ECC_NIST_P256", "SIGN_VERIFY")):
        meta = keys.get(spec, usage)
        client_error(kms.enable_key_rotation, {"UnsupportedOperationException", "ValidationException"},
                     KeyId=meta["KeyId"])


def test_cli_sign_and_verify(server, keys, public_keys, tmp_path):
    meta = keys.get("RSA_3072", "SIGN_VERIFY")
    message = b"signed through the aws CLI"
    (tmp_path / "message.bin").write_bytes(message)
    out = server.aws("kms", "sign", "--key-id", meta["KeyId"], "--message", f"fileb://{tmp_path / 'message.bin'}",
                     "--message-type", "RAW", "--signing-algorithm", "RSASSA_PSS_SHA_384")
    assert out["KeyId"] == meta["Arn"]
    signature = base64.b64decode(out["Signature"])
    assert openssl_verify(public_keys("RSA_3072", "SIGN_VERIFY"), message, signature, "RSASSA_PSS_SHA_384")
    (tmp_path / "signature.bin").write_bytes(signature)
    ok = server.aws("kms", "verify", "--key-id", meta["KeyId"], "--message", f"fileb://{tmp_path / 'message.bin'}",
                    "--signature", f"fileb://{tmp_path / 'signature.bin'}", "--signing-algorithm", "RSASSA_PSS_SHA_384")
    assert ok["SignatureValid"] is True


# ---------------------------------------------------------------------------------------------
# RSA Encrypt / Decrypt
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_3072"])
@pytest.mark.parametrize("algorithm", RSA_ENCRYPTION)
def test_openssl_encrypts_kms_decrypts(kms, keys, public_keys, spec, algorithm):
    meta = keys.get(spec, "ENCRYPT_DECRYPT")
    plaintext = os.urandom(RSA_MAX_PLAINTEXT[(spec, algorithm)])
    ciphertext = openssl_encrypt(public_keys(spec, "ENCRYPT_DECRYPT"), plaintext, algorithm)
    out = kms.decrypt(KeyId=meta["KeyId"], CiphertextBlob=ciphertext, EncryptionAlgorithm=algorithm)
    assert out["Plaintext"] == plaintext
    assert out["KeyId"] == meta["Arn"]
    assert out["EncryptionAlgorithm"] == algorithm


@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_3072"])
@pytest.mark.parametrize("algorithm", RSA_ENCRYPTION)
def test_kms_encrypt_decrypt_and_limits(server, kms, keys, spec, algorithm):
    meta = keys.get(spec, "ENCRYPT_DECRYPT")
    limit = RSA_MAX_PLAINTEXT[(spec, algorithm)]
    for size in (1, limit):
        plaintext = os.urandom(size)
        out = kms.encrypt(KeyId=meta["KeyId"], Plaintext=plaintext, EncryptionAlgorithm=algorithm)
        assert out["KeyId"] == meta["Arn"] and out["EncryptionAlgorithm"] == algorithm
        blob = out["CiphertextBlob"]
        assert len(blob) == int(spec.split("_")[1]) // 8  # a bare RSAES-OAEP ciphertext
        again = kms.encrypt(KeyId=meta["KeyId"], Plaintext=plaintext, EncryptionAlgorithm=algorithm)
        assert again["CiphertextBlob"] != blob  # OAEP is randomized
        back = kms.decrypt(KeyId=meta["Arn"], CiphertextBlob=blob, EncryptionAlgorithm=algorithm)
        assert back["Plaintext"] == plaintext and back["EncryptionAlgorithm"] == algorithm
    client_error(kms.encrypt, KeyId=meta["KeyId"], Plaintext=os.urandom(limit + 1), EncryptionAlgorithm=algorithm)


def test_decrypt_with_another_algorithm_or_key_fails(kms, keys):
    meta = keys.get("RSA_2048", "ENCRYPT_DECRYPT")
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"oaep", EncryptionAlgorithm="RSAES_OAEP_SHA_256")[
        "CiphertextBlob"]
    expect_error("InvalidCiphertextException", kms.decrypt, KeyId=meta["KeyId"], CiphertextBlob=blob,
                 EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    other = keys.get("RSA_3072", "ENCRYPT_DECRYPT")
    client_error(kms.decrypt, {"InvalidCiphertextException", "IncorrectKeyException"}, KeyId=other["KeyId"],
                 CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    bad = bytearray(blob)
    bad[-1] ^= 1
    for wrong in (bytes(bad), blob[:-1], blob + b"\x00", os.urandom(100), b"\xff" * len(blob)):
        expect_error("InvalidCiphertextException", kms.decrypt, KeyId=meta["KeyId"], CiphertextBlob=wrong,
                     EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    # An asymmetric ciphertext carries no key id: the key and the algorithm are required.
    client_error(kms.decrypt, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    client_error(kms.decrypt, KeyId=meta["KeyId"], CiphertextBlob=blob)
    assert kms.decrypt(KeyId=meta["KeyId"], CiphertextBlob=blob,
                       EncryptionAlgorithm="RSAES_OAEP_SHA_256")["Plaintext"] == b"oaep"


def test_symmetric_algorithm_on_rsa_key(kms, keys):
    meta = keys.get("RSA_2048", "ENCRYPT_DECRYPT")
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x",
                 EncryptionAlgorithm="SYMMETRIC_DEFAULT")
    # Without EncryptionAlgorithm the default is SYMMETRIC_DEFAULT, which an RSA key does not support.
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x")
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")["CiphertextBlob"]
    expect_error("InvalidKeyUsageException", kms.decrypt, KeyId=meta["KeyId"], CiphertextBlob=blob,
                 EncryptionAlgorithm="SYMMETRIC_DEFAULT")
    for op in (kms.generate_data_key, kms.generate_data_key_without_plaintext):
        expect_error("InvalidKeyUsageException", op, KeyId=meta["KeyId"], KeySpec="AES_256")
    # And the RSA algorithms on a symmetric key.
    symmetric = kms.create_key()["KeyMetadata"]
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=symmetric["KeyId"], Plaintext=b"x",
                 EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    # An RSA key made for signing does not encrypt.
    signer = keys.get("RSA_2048", "SIGN_VERIFY")
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=signer["KeyId"], Plaintext=b"x",
                 EncryptionAlgorithm="RSAES_OAEP_SHA_256")


def test_encryption_context_is_not_for_rsa(kms, keys):
    meta = keys.get("RSA_2048", "ENCRYPT_DECRYPT")
    client_error(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256",
                 EncryptionContext={"purpose": "test"})


def test_re_encrypt_between_rsa_and_symmetric_keys(kms, keys):
    rsa = keys.get("RSA_3072", "ENCRYPT_DECRYPT")
    symmetric = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=rsa["KeyId"], Plaintext=b"move me", EncryptionAlgorithm="RSAES_OAEP_SHA_256")[
        "CiphertextBlob"]
    out = kms.re_encrypt(CiphertextBlob=blob, SourceKeyId=rsa["KeyId"], SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256",
                         DestinationKeyId=symmetric["KeyId"], DestinationEncryptionContext={"to": "aes"})
    assert out["SourceKeyId"] == rsa["Arn"] and out["KeyId"] == symmetric["Arn"]
    assert out["SourceEncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    assert out["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"to": "aes"})["Plaintext"] == b"move me"
    back = kms.re_encrypt(CiphertextBlob=out["CiphertextBlob"], SourceEncryptionContext={"to": "aes"},
                          DestinationKeyId=rsa["KeyId"], DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert back["DestinationEncryptionAlgorithm"] == "RSAES_OAEP_SHA_1"
    assert kms.decrypt(KeyId=rsa["KeyId"], CiphertextBlob=back["CiphertextBlob"],
                       EncryptionAlgorithm="RSAES_OAEP_SHA_1")["Plaintext"] == b"move me"


def test_cli_encrypt_with_rsa(server, keys, public_keys, tmp_path):
    meta = keys.get("RSA_2048", "ENCRYPT_DECRYPT")
    ciphertext = openssl_encrypt(public_keys("RSA_2048", "ENCRYPT_DECRYPT"), b"cli secret", "RSAES_OAEP_SHA_256")
    (tmp_path / "ciphertext.bin").write_bytes(ciphertext)
    out = server.aws("kms", "decrypt", "--key-id", meta["KeyId"], "--encryption-algorithm", "RSAES_OAEP_SHA_256",
                     "--ciphertext-blob", f"fileb://{tmp_path / 'ciphertext.bin'}")
    assert base64.b64decode(out["Plaintext"]) == b"cli secret"


# ---------------------------------------------------------------------------------------------
# DeriveSharedSecret
# ---------------------------------------------------------------------------------------------

CURVES = {"ECC_NIST_P256": ec.SECP256R1(), "ECC_NIST_P384": ec.SECP384R1(), "ECC_NIST_P521": ec.SECP521R1()}


@pytest.mark.parametrize("spec", NIST_EC_SPECS)
def test_derive_shared_secret_matches_peer(kms, keys, public_keys, spec):
    meta = keys.get(spec, "KEY_AGREEMENT")
    kms_public = public_keys(spec, "KEY_AGREEMENT")
    # A peer with `cryptography` ...
    peer = ec.generate_private_key(CURVES[spec])
    peer_public = peer.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    out = kms.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer_public)
    expected = peer.exchange(ec.ECDH(), serialization.load_der_public_key(kms_public))
    assert out["SharedSecret"] == expected
    assert out["KeyId"] == meta["Arn"]
    assert out["KeyAgreementAlgorithm"] == "ECDH"
    assert out["KeyOrigin"] == "AWS_KMS"
    # ... and with openssl.
    private_der, public_der = genpkey(spec)
    secret = kms.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH",
                                      PublicKey=public_der)["SharedSecret"]
    assert secret == openssl_derive(private_der, kms_public)
    assert secret != expected


def test_two_kms_keys_agree(kms):
    a = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    b = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    pa = kms.get_public_key(KeyId=a["KeyId"])["PublicKey"]
    pb = kms.get_public_key(KeyId=b["KeyId"])["PublicKey"]
    s1 = kms.derive_shared_secret(KeyId=a["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=pb)["SharedSecret"]
    s2 = kms.derive_shared_secret(KeyId=b["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=pa)["SharedSecret"]
    assert s1 == s2 and len(s1) == 32


def test_derive_shared_secret_refusals(server, kms, keys):
    meta = keys.get("ECC_NIST_P256", "KEY_AGREEMENT")
    _, p384_public = genpkey("ECC_NIST_P384")
    client_error(kms.derive_shared_secret, KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=p384_public)
    # Not a DER SubjectPublicKeyInfo (e.g. Base64 encoded twice): ValidationException.
    _, p256_public = genpkey("ECC_NIST_P256")
    expect_error("ValidationException", kms.derive_shared_secret, KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH",
                 PublicKey=base64.b64encode(p256_public))
    # A bare uncompressed point is not an SPKI either.
    expect_error("ValidationException", kms.derive_shared_secret, KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH",
                 PublicKey=p256_public[-65:])
    expect_error("ValidationException", unchecked(server).derive_shared_secret, KeyId=meta["KeyId"],
                 KeyAgreementAlgorithm="X25519", PublicKey=p256_public)
    # Only KEY_AGREEMENT keys derive secrets.
    for other in (keys.get("ECC_NIST_P256", "SIGN_VERIFY"), kms.create_key()["KeyMetadata"]):
        expect_error("InvalidKeyUsageException", kms.derive_shared_secret, KeyId=other["KeyId"],
                     KeyAgreementAlgorithm="ECDH", PublicKey=p256_public)
    # A KEY_AGREEMENT key neither signs nor encrypts.
    expect_error("InvalidKeyUsageException", kms.sign, KeyId=meta["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256")
    expect_error("DryRunOperationException", kms.derive_shared_secret, KeyId=meta["KeyId"],
                 KeyAgreementAlgorithm="ECDH", PublicKey=p256_public, DryRun=True)
