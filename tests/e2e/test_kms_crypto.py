"""KMS cryptographic operations through boto3: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
GenerateDataKeyWithoutPlaintext, GenerateRandom."""
import os
import uuid

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY, expect_error, unchecked  # noqa: F401


@pytest.fixture
def key(kms):
    return kms.create_key(Description="crypto test key")["KeyMetadata"]


@pytest.fixture
def other_key(kms):
    return kms.create_key(Description="crypto test key 2")["KeyMetadata"]


@pytest.mark.parametrize("size", [1, 4096])
def test_encrypt_decrypt_round_trip(kms, key, size):
    plaintext = os.urandom(size)
    out = kms.encrypt(KeyId=key["KeyId"], Plaintext=plaintext)
    assert out["KeyId"] == key["Arn"]
    assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = out["CiphertextBlob"]
    assert len(blob) > size + 16  # header, nonce and tag
    if size >= 16:
        assert plaintext not in blob
    back = kms.decrypt(CiphertextBlob=blob)
    assert back["Plaintext"] == plaintext
    assert back["KeyId"] == key["Arn"]
    assert back["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"


def test_encrypt_twice_differs(kms, key):
    a = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"same")["CiphertextBlob"]
    b = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"same")["CiphertextBlob"]
    assert a != b


def test_encrypt_with_every_key_form(kms, key):
    alias = f"alias/crypto-{uuid.uuid4().hex[:12]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    alias_arn = key["Arn"].split(":key/")[0] + ":" + alias
    for key_id in (key["KeyId"], key["Arn"], alias, alias_arn):
        out = kms.encrypt(KeyId=key_id, Plaintext=b"hello")
        assert out["KeyId"] == key["Arn"], key_id
        assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"], KeyId=key_id)["Plaintext"] == b"hello"


def test_plaintext_too_long_and_empty(server, kms, key):
    raw = unchecked(server)
    msg = expect_error("ValidationException", raw.encrypt, KeyId=key["KeyId"], Plaintext=b"a" * 4097)
    assert "plaintext" in msg
    expect_error("ValidationException", raw.encrypt, KeyId=key["KeyId"], Plaintext=b"")


def test_encryption_context_must_match(kms, key):
    ctx = {"purpose": "test", "tenant": "t-1"}
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"ctx", EncryptionContext=ctx)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["Plaintext"] == b"ctx"
    # Key order does not matter.
    reordered = dict(reversed(list(ctx.items())))
    assert list(reordered) != list(ctx)
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=reordered)["Plaintext"] == b"ctx"
    for wrong in ({}, {"purpose": "test"}, {"purpose": "test", "tenant": "t-2"},
                  {"purpose": "test", "tenant": "t-1", "extra": "x"}, {"Purpose": "test", "tenant": "t-1"}):
        expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext=wrong)
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob)
    # And the other way: blob made without a context refuses one.
    plain = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"none")["CiphertextBlob"]
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=plain, EncryptionContext={"a": "b"})


def test_decrypt_with_wrong_key_id(kms, key, other_key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"mine")["CiphertextBlob"]
    expect_error("IncorrectKeyException", kms.decrypt, CiphertextBlob=blob, KeyId=other_key["KeyId"])
    expect_error("IncorrectKeyException", kms.decrypt, CiphertextBlob=blob, KeyId=other_key["Arn"])
    expect_error("NotFoundException", kms.decrypt, CiphertextBlob=blob, KeyId=str(uuid.uuid4()))
    assert kms.decrypt(CiphertextBlob=blob, KeyId=key["Arn"])["Plaintext"] == b"mine"


def test_every_sampled_byte_flip_is_invalid(kms, key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"tamper-evident payload",
                       EncryptionContext={"k": "v"})["CiphertextBlob"]
    n = len(blob)
    key_id_len = blob[1]
    assert blob[2:2 + key_id_len] == key["KeyId"].encode()  # blob names its key
    positions = {0, 1, 2 + key_id_len - 1} | set(range(2, 2 + key_id_len, 6))  # format, id length, key id
    positions |= set(range(2 + key_id_len, 2 + key_id_len + 4))  # key version
    positions |= {2 + key_id_len + 4, 2 + key_id_len + 10}  # nonce
    positions |= {2 + key_id_len + 16 + i for i in range(0, n - (2 + key_id_len + 16) - 16, 4)}  # body
    positions |= set(range(n - 16, n, 2)) | {n - 1}  # tag
    assert len(positions) >= 30
    for pos in sorted(positions):
        for mask in (0x01, 0x80):
            bad = bytearray(blob)
            bad[pos] ^= mask
            expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=bytes(bad),
                         EncryptionContext={"k": "v"})
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})["Plaintext"] == b"tamper-evident payload"


def test_truncated_and_garbage_ciphertext(kms, key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"truncate me")["CiphertextBlob"]
    for cut in (1, 2, 10, len(blob) // 2, len(blob) - 17, len(blob) - 1):
        expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob[:cut])
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob + b"\x00")
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=os.urandom(80))


def test_ciphertext_is_regional(kms, kms_us, key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"eu only")["CiphertextBlob"]
    with pytest.raises(ClientError) as e:
        kms_us.decrypt(CiphertextBlob=blob)
    assert e.value.response["Error"]["Code"] in ("InvalidCiphertextException", "NotFoundException")
    expect_error("NotFoundException", kms_us.decrypt, CiphertextBlob=blob, KeyId=key["Arn"])


def test_asymmetric_algorithm_on_symmetric_key(kms, key):
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x",
                 EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="SYMMETRIC_DEFAULT")["CiphertextBlob"]
    expect_error("InvalidKeyUsageException", kms.decrypt, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_1")


def test_dry_run(kms, key):
    expect_error("DryRunOperationException", kms.encrypt, KeyId=key["KeyId"], Plaintext=b"x", DryRun=True)
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", DryRun=False)["CiphertextBlob"]
    expect_error("DryRunOperationException", kms.decrypt, CiphertextBlob=blob, DryRun=True)
    expect_error("DryRunOperationException", kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256",
                 DryRun=True)
    # A dry run still checks the request: a missing key is NotFound, not DryRun.
    expect_error("NotFoundException", kms.encrypt, KeyId=str(uuid.uuid4()), Plaintext=b"x", DryRun=True)


@pytest.mark.parametrize("kw,length", [({"KeySpec": "AES_256"}, 32), ({"KeySpec": "AES_128"}, 16),
                                       ({"NumberOfBytes": 64}, 64), ({"NumberOfBytes": 1}, 1),
                                       ({"NumberOfBytes": 1024}, 1024)])
def test_generate_data_key(kms, key, kw, length):
    ctx = {"file": "a.bin"}
    out = kms.generate_data_key(KeyId=key["KeyId"], EncryptionContext=ctx, **kw)
    assert len(out["Plaintext"]) == length
    assert out["KeyId"] == key["Arn"]
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext=ctx)
    assert back["Plaintext"] == out["Plaintext"]
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=out["CiphertextBlob"])


def test_generate_data_key_spec_rules(server, kms, key):
    raw = unchecked(server)
    expect_error("ValidationException", kms.generate_data_key, KeyId=key["KeyId"])
    expect_error("ValidationException", kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256",
                 NumberOfBytes=32)
    expect_error("ValidationException", raw.generate_data_key, KeyId=key["KeyId"], NumberOfBytes=0)
    expect_error("ValidationException", raw.generate_data_key, KeyId=key["KeyId"], NumberOfBytes=1025)
    expect_error("ValidationException", raw.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_512")
    a = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")["Plaintext"]
    b = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")["Plaintext"]
    assert a != b


def test_generate_data_key_without_plaintext(kms, key):
    out = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], KeySpec="AES_256",
                                                  EncryptionContext={"x": "y"})
    assert "Plaintext" not in out
    assert out["KeyId"] == key["Arn"]
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"x": "y"})
    assert len(back["Plaintext"]) == 32
    out = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], NumberOfBytes=20)
    assert len(kms.decrypt(CiphertextBlob=out["CiphertextBlob"])["Plaintext"]) == 20
    expect_error("ValidationException", kms.generate_data_key_without_plaintext, KeyId=key["KeyId"])


def test_re_encrypt_to_another_key_with_new_context(kms, key, other_key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"move me", EncryptionContext={"v": "1"})["CiphertextBlob"]
    out = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"v": "1"},
                         DestinationKeyId=other_key["KeyId"], DestinationEncryptionContext={"v": "2"})
    assert out["SourceKeyId"] == key["Arn"]
    assert out["KeyId"] == other_key["Arn"]
    assert out["SourceEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert out["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    new = out["CiphertextBlob"]
    assert new != blob
    back = kms.decrypt(CiphertextBlob=new, EncryptionContext={"v": "2"})
    assert back["Plaintext"] == b"move me" and back["KeyId"] == other_key["Arn"]
    expect_error("IncorrectKeyException", kms.decrypt, CiphertextBlob=new, KeyId=key["KeyId"],
                 EncryptionContext={"v": "2"})
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=new, EncryptionContext={"v": "1"})


def test_re_encrypt_refusals(kms, key, other_key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p", EncryptionContext={"a": "1"})["CiphertextBlob"]
    expect_error("InvalidCiphertextException", kms.re_encrypt, CiphertextBlob=blob,
                 DestinationKeyId=other_key["KeyId"])
    expect_error("IncorrectKeyException", kms.re_encrypt, CiphertextBlob=blob, SourceKeyId=other_key["KeyId"],
                 SourceEncryptionContext={"a": "1"}, DestinationKeyId=other_key["KeyId"])
    expect_error("NotFoundException", kms.re_encrypt, CiphertextBlob=blob, SourceEncryptionContext={"a": "1"},
                 DestinationKeyId=str(uuid.uuid4()))
    kms.disable_key(KeyId=other_key["KeyId"])
    expect_error("DisabledException", kms.re_encrypt, CiphertextBlob=blob, SourceEncryptionContext={"a": "1"},
                 DestinationKeyId=other_key["KeyId"])
    expect_error("DryRunOperationException", kms.re_encrypt, CiphertextBlob=blob, SourceEncryptionContext={"a": "1"},
                 DestinationKeyId=key["KeyId"], DryRun=True)
    # Same key, explicit source key id: still works.
    out = kms.re_encrypt(CiphertextBlob=blob, SourceKeyId=key["Arn"], SourceEncryptionContext={"a": "1"},
                         DestinationKeyId=key["KeyId"])
    assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"])["Plaintext"] == b"p"


@pytest.mark.parametrize("n", [1, 32, 1024])
def test_generate_random_length(kms, n):
    assert len(kms.generate_random(NumberOfBytes=n)["Plaintext"]) == n


def test_generate_random_bounds_and_uniqueness(server, kms):
    raw = unchecked(server)
    for n in (0, 1025):
        msg = expect_error("ValidationException", raw.generate_random, NumberOfBytes=n)
        assert "numberOfBytes" in msg
    expect_error("ValidationException", kms.generate_random)
    a = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    b = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    assert a != b
