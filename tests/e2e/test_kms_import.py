"""Imported key material through boto3: CreateKey Origin=EXTERNAL (PendingImport),
GetParametersForImport (every wrapping algorithm; RSA wrapping keys), ImportKeyMaterial (symmetric and
asymmetric material, wrapped with `cryptography` or the openssl CLI), reimport rules, import tokens
(other key, garbage, expired), ValidTo with KEY_MATERIAL_EXPIRES, DeleteImportedKeyMaterial.

The expired-token test runs a server of its own under libfaketime, 25 hours ahead (its requests are
signed with that clock too).
"""
import base64
import datetime
import os
import time
import uuid
from pathlib import Path
from unittest import mock

import botocore.auth
import pytest

from conftest import expect_error, unchecked
from e2e_support import wait_for
from kms_asym_support import (
    SIGNING_ALGORITHMS, assert_public_key_matches_spec, client_error, genpkey, import_key_material,
    openssl_decrypt, openssl_derive, openssl_encrypt, openssl_verify, utcnow, wrap_key_material,
)

WRAPPING_ALGORITHMS = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"]


def external_key(kms, **kw):
    return kms.create_key(Origin="EXTERNAL", Description="imported material", **kw)["KeyMetadata"]


def state(kms, key_id):
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]


# ---------------------------------------------------------------------------------------------
# A key without material
# ---------------------------------------------------------------------------------------------

def test_external_key_waits_for_material(kms):
    meta = external_key(kms)
    assert meta["Origin"] == "EXTERNAL"
    assert meta["KeyState"] == "PendingImport" and meta["Enabled"] is False
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT" and meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert "ValidTo" not in meta
    assert state(kms, meta["KeyId"])["KeyState"] == "PendingImport"
    expect_error("KMSInvalidStateException", kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x")
    expect_error("KMSInvalidStateException", kms.generate_data_key, KeyId=meta["KeyId"], KeySpec="AES_256")
    # Listed like any key.
    listed = {k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]}
    assert meta["KeyId"] in listed


@pytest.mark.parametrize("wrapping_spec,bits", [("RSA_2048", 2048), ("RSA_3072", 3072), ("RSA_4096", 4096)])
def test_get_parameters_for_import(kms, wrapping_spec, bits):
    meta = external_key(kms)
    before = utcnow()
    out = kms.get_parameters_for_import(KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                        WrappingKeySpec=wrapping_spec)
    assert out["KeyId"] == meta["Arn"]
    assert len(out["ImportToken"]) > 0
    assert_public_key_matches_spec(out["PublicKey"], f"RSA_{bits}")
    # Each public key and import token set is valid for 24 hours.
    valid_to = out["ParametersValidTo"]
    assert before + datetime.timedelta(hours=23, minutes=59) <= valid_to <= utcnow() + datetime.timedelta(hours=24,
                                                                                                           minutes=1)
    again = kms.get_parameters_for_import(KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                          WrappingKeySpec=wrapping_spec)
    assert again["ImportToken"] != out["ImportToken"]


def test_get_parameters_for_import_refusals(server, kms):
    meta = external_key(kms)
    # RSAES_PKCS1_V1_5 is no longer supported.
    client_error(kms.get_parameters_for_import, KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_PKCS1_V1_5",
                 WrappingKeySpec="RSA_2048")
    # SM2 wrapping is for the China Regions.
    client_error(kms.get_parameters_for_import, KeyId=meta["KeyId"], WrappingAlgorithm="SM2PKE",
                 WrappingKeySpec="SM2")
    raw = unchecked(server)
    expect_error("ValidationException", raw.get_parameters_for_import, KeyId=meta["KeyId"],
                 WrappingAlgorithm="RSAES_OAEP_SHA_512", WrappingKeySpec="RSA_2048")
    expect_error("ValidationException", raw.get_parameters_for_import, KeyId=meta["KeyId"],
                 WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_1024")
    # Only EXTERNAL keys take imported material.
    native = kms.create_key()["KeyMetadata"]
    expect_error("UnsupportedOperationException", kms.get_parameters_for_import, KeyId=native["KeyId"],
                 WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    expect_error("NotFoundException", kms.get_parameters_for_import, KeyId=str(uuid.uuid4()),
                 WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")


# ---------------------------------------------------------------------------------------------
# Symmetric material
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", WRAPPING_ALGORITHMS)
@pytest.mark.parametrize("cli", [False, True], ids=["cryptography", "openssl"])
def test_import_symmetric_material(kms, algorithm, cli):
    meta = external_key(kms)
    material = os.urandom(32)
    out, _ = import_key_material(kms, meta["KeyId"], material, algorithm=algorithm, cli=cli)
    assert out["KeyId"] == meta["Arn"]
    described = state(kms, meta["KeyId"])
    assert described["KeyState"] == "Enabled" and described["Enabled"] is True
    assert described["Origin"] == "EXTERNAL"
    assert described["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    assert "ValidTo" not in described
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"imported", EncryptionContext={"k": "v"})["CiphertextBlob"]
    back = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})
    assert back["Plaintext"] == b"imported" and back["KeyId"] == meta["Arn"]
    data_key = kms.generate_data_key(KeyId=meta["KeyId"], KeySpec="AES_256")
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]


def test_reimport_rules(kms):
    meta = external_key(kms)
    material = os.urandom(32)
    import_key_material(kms, meta["KeyId"], material)
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"durable")["CiphertextBlob"]
    # Different material into a key that already has material.
    expect_error("IncorrectKeyMaterialException", import_key_material, kms=kms, key_id=meta["KeyId"],
                 material=os.urandom(32))
    expect_error("IncorrectKeyMaterialException", import_key_material, kms=kms, key_id=meta["KeyId"],
                 material=os.urandom(32), ImportType="EXISTING_KEY_MATERIAL")
    # The same material again (with another wrapping) is accepted and changes nothing.
    import_key_material(kms, meta["KeyId"], material, algorithm="RSA_AES_KEY_WRAP_SHA_1", wrapping_spec="RSA_3072")
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"durable"
    # Keys with imported material have no automatic rotation.
    client_error(kms.enable_key_rotation, {"UnsupportedOperationException"}, KeyId=meta["KeyId"])


def test_imported_material_is_named(kms):
    meta = external_key(kms)
    material = os.urandom(32)
    out, _ = import_key_material(kms, meta["KeyId"], material)
    # KMS names the imported material with a 64-character id, derived from the key and the material.
    material_id = out["KeyMaterialId"]
    assert len(material_id) == 64
    again, _ = import_key_material(kms, meta["KeyId"], material, algorithm="RSA_AES_KEY_WRAP_SHA_256")
    assert again["KeyMaterialId"] == material_id
    # It is the key's current material ...
    assert state(kms, meta["KeyId"])["CurrentKeyMaterialId"] == material_id
    # ... listed with its import state.
    listed = kms.list_key_rotations(KeyId=meta["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    [entry] = [r for r in listed if r["KeyMaterialId"] == material_id]
    assert entry["ImportState"] == "IMPORTED" and entry["KeyMaterialState"] == "CURRENT"
    assert entry["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    assert kms.delete_imported_key_material(KeyId=meta["KeyId"])["KeyMaterialId"] == material_id
    listed = kms.list_key_rotations(KeyId=meta["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    assert [r["ImportState"] for r in listed if r["KeyMaterialId"] == material_id] == ["PENDING_IMPORT"]


def test_symmetric_material_must_be_256_bits(kms):
    meta = external_key(kms)
    for size in (16, 31, 33, 64):
        client_error(import_key_material, {"IncorrectKeyMaterialException", "ValidationException"}, kms=kms,
                     key_id=meta["KeyId"], material=os.urandom(size))
    assert state(kms, meta["KeyId"])["KeyState"] == "PendingImport"


def test_delete_and_reimport_restores_the_key(kms):
    meta = external_key(kms)
    material = os.urandom(32)
    import_key_material(kms, meta["KeyId"], material)
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"before deletion")["CiphertextBlob"]
    out = kms.delete_imported_key_material(KeyId=meta["KeyId"])
    assert out.get("KeyId", meta["Arn"]) == meta["Arn"]
    described = state(kms, meta["KeyId"])
    assert described["KeyState"] == "PendingImport" and described["Enabled"] is False
    expect_error("KMSInvalidStateException", kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x")
    expect_error("KMSInvalidStateException", kms.decrypt, CiphertextBlob=blob)
    expect_error("KMSInvalidStateException", kms.generate_data_key, KeyId=meta["KeyId"], KeySpec="AES_256")
    # Only the same material brings it back.
    expect_error("IncorrectKeyMaterialException", import_key_material, kms=kms, key_id=meta["KeyId"],
                 material=os.urandom(32))
    import_key_material(kms, meta["KeyId"], material, algorithm="RSA_AES_KEY_WRAP_SHA_256")
    assert state(kms, meta["KeyId"])["KeyState"] == "Enabled"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before deletion"


def test_delete_imported_key_material_refusals(kms):
    native = kms.create_key()["KeyMetadata"]
    expect_error("UnsupportedOperationException", kms.delete_imported_key_material, KeyId=native["KeyId"])
    expect_error("NotFoundException", kms.delete_imported_key_material, KeyId=str(uuid.uuid4()))
    # A key pending deletion keeps its state.
    meta = external_key(kms)
    import_key_material(kms, meta["KeyId"], os.urandom(32))
    kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
    kms.delete_imported_key_material(KeyId=meta["KeyId"])
    assert state(kms, meta["KeyId"])["KeyState"] == "PendingDeletion"


def test_import_into_a_key_with_kms_material(kms):
    native = kms.create_key()["KeyMetadata"]
    external = external_key(kms)
    params = kms.get_parameters_for_import(KeyId=external["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    wrapped = wrap_key_material(params["PublicKey"], os.urandom(32), "RSAES_OAEP_SHA_256")
    client_error(kms.import_key_material, {"UnsupportedOperationException", "InvalidImportTokenException"},
                 KeyId=native["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                 ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")


# ---------------------------------------------------------------------------------------------
# Import tokens and wrapped material
# ---------------------------------------------------------------------------------------------

def test_import_token_belongs_to_its_key(kms):
    a = external_key(kms)
    b = external_key(kms)
    params = kms.get_parameters_for_import(KeyId=a["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    wrapped = wrap_key_material(params["PublicKey"], os.urandom(32), "RSAES_OAEP_SHA_256")
    expect_error("InvalidImportTokenException", kms.import_key_material, KeyId=b["KeyId"],
                 ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                 ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    garbage = bytearray(params["ImportToken"])
    garbage[len(garbage) // 2] ^= 0xFF
    expect_error("InvalidImportTokenException", kms.import_key_material, KeyId=a["KeyId"],
                 ImportToken=bytes(garbage), EncryptedKeyMaterial=wrapped,
                 ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    expect_error("InvalidImportTokenException", kms.import_key_material, KeyId=a["KeyId"],
                 ImportToken=os.urandom(200), EncryptedKeyMaterial=wrapped,
                 ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert state(kms, b["KeyId"])["KeyState"] == "PendingImport"
    kms.import_key_material(KeyId=a["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert state(kms, a["KeyId"])["KeyState"] == "Enabled"


def test_material_must_be_wrapped_with_the_tokens_public_key(kms):
    meta = external_key(kms)
    first = kms.get_parameters_for_import(KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                          WrappingKeySpec="RSA_2048")
    second = kms.get_parameters_for_import(KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    assert first["PublicKey"] != second["PublicKey"]
    material = os.urandom(32)
    expect_error("InvalidCiphertextException", kms.import_key_material, KeyId=meta["KeyId"],
                 ImportToken=second["ImportToken"],
                 EncryptedKeyMaterial=wrap_key_material(first["PublicKey"], material, "RSAES_OAEP_SHA_256"),
                 ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    # Wrapped with the right key but the other OAEP hash.
    expect_error("InvalidCiphertextException", kms.import_key_material, KeyId=meta["KeyId"],
                 ImportToken=first["ImportToken"],
                 EncryptedKeyMaterial=wrap_key_material(first["PublicKey"], material, "RSAES_OAEP_SHA_1"),
                 ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    expect_error("InvalidCiphertextException", kms.import_key_material, KeyId=meta["KeyId"],
                 ImportToken=first["ImportToken"], EncryptedKeyMaterial=os.urandom(256),
                 ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    kms.import_key_material(KeyId=meta["KeyId"], ImportToken=first["ImportToken"],
                            EncryptedKeyMaterial=wrap_key_material(first["PublicKey"], material, "RSAES_OAEP_SHA_256"),
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")


def test_expired_import_token(fresh_server):
    import libfaketime

    s = fresh_server().start()
    kms = s.client()
    meta = external_key(kms)
    params = kms.get_parameters_for_import(KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    wrapped = wrap_key_material(params["PublicKey"], os.urandom(32), "RSAES_OAEP_SHA_256")
    s.stop()
    # The same data dir, 25 hours later (the server's clock and the client's signing clock).
    _, env = libfaketime.get_reload_information()
    s.env.update(env)
    s.env["FAKETIME"] = "+25h"
    s.restart()
    later = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(hours=25)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=later):
        kms = s.client()
        expect_error("ExpiredImportTokenException", kms.import_key_material, KeyId=meta["KeyId"],
                     ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                     ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        assert state(kms, meta["KeyId"])["KeyState"] == "PendingImport"
        # Fresh parameters work.
        import_key_material(kms, meta["KeyId"], os.urandom(32))
        assert state(kms, meta["KeyId"])["KeyState"] == "Enabled"


# ---------------------------------------------------------------------------------------------
# Expiration
# ---------------------------------------------------------------------------------------------

def test_expiration_model_rules(kms):
    meta = external_key(kms)
    material = os.urandom(32)
    now = utcnow()
    # KEY_MATERIAL_EXPIRES (the default) needs ValidTo; KEY_MATERIAL_DOES_NOT_EXPIRE refuses it.
    expect_error("ValidationException", import_key_material, kms=kms, key_id=meta["KeyId"], material=material,
                 ExpirationModel="KEY_MATERIAL_EXPIRES")
    expect_error("ValidationException", import_key_material, kms=kms, key_id=meta["KeyId"], material=material,
                 ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE", ValidTo=now + datetime.timedelta(days=1))
    # ValidTo is in the future, at most 365 days away.
    expect_error("ValidationException", import_key_material, kms=kms, key_id=meta["KeyId"], material=material,
                 ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=now - datetime.timedelta(minutes=5))
    expect_error("ValidationException", import_key_material, kms=kms, key_id=meta["KeyId"], material=material,
                 ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=now + datetime.timedelta(days=366))
    assert state(kms, meta["KeyId"])["KeyState"] == "PendingImport"
    valid_to = (now + datetime.timedelta(days=30)).replace(microsecond=0)
    import_key_material(kms, meta["KeyId"], material, ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=valid_to)
    described = state(kms, meta["KeyId"])
    assert described["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert abs((described["ValidTo"] - valid_to).total_seconds()) < 1
    # Omitting ExpirationModel means KEY_MATERIAL_EXPIRES.
    other = external_key(kms)
    params = kms.get_parameters_for_import(KeyId=other["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    wrapped = wrap_key_material(params["PublicKey"], os.urandom(32), "RSAES_OAEP_SHA_256")
    expect_error("ValidationException", kms.import_key_material, KeyId=other["KeyId"],
                 ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped)
    kms.import_key_material(KeyId=other["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ValidTo=valid_to)
    assert state(kms, other["KeyId"])["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"


def test_material_expires_at_valid_to(fresh_server):
    s = fresh_server(env={"M2SEC_SCHEDULER_INTERVAL_SECS": "1"}).start()
    kms = s.client()
    meta = external_key(kms)
    material = os.urandom(32)
    valid_to = utcnow() + datetime.timedelta(seconds=4)
    import_key_material(kms, meta["KeyId"], material, ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=valid_to)
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"short-lived")["CiphertextBlob"]
    assert state(kms, meta["KeyId"])["KeyState"] == "Enabled"
    time.sleep(max(0.0, (valid_to - utcnow()).total_seconds()))
    # KMS deletes the material at ValidTo: the key waits for it again.
    wait_for(lambda: state(kms, meta["KeyId"])["KeyState"] == "PendingImport", timeout=15,
             what="the key to be PendingImport after ValidTo")
    expect_error("KMSInvalidStateException", kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x")
    expect_error("KMSInvalidStateException", kms.decrypt, CiphertextBlob=blob)
    # Reimporting the same material (now without expiry) restores it.
    import_key_material(kms, meta["KeyId"], material)
    described = state(kms, meta["KeyId"])
    assert described["KeyState"] == "Enabled" and described["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    assert "ValidTo" not in described
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"short-lived"


# ---------------------------------------------------------------------------------------------
# Asymmetric material (PKCS#8 DER from openssl genpkey)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,algorithm", [
    ("ECC_NIST_P256", "RSA_AES_KEY_WRAP_SHA_256"), ("ECC_NIST_P384", "RSAES_OAEP_SHA_256"),
    ("ECC_NIST_P521", "RSA_AES_KEY_WRAP_SHA_1"), ("ECC_SECG_P256K1", "RSAES_OAEP_SHA_1"),
    ("ECC_NIST_EDWARDS25519", "RSA_AES_KEY_WRAP_SHA_256"), ("RSA_2048", "RSA_AES_KEY_WRAP_SHA_256"),
])
def test_import_signing_key_pair(kms, spec, algorithm):
    private_der, public_der = genpkey(spec)
    meta = external_key(kms, KeySpec=spec, KeyUsage="SIGN_VERIFY")
    assert meta["KeyState"] == "PendingImport"
    expect_error("KMSInvalidStateException", kms.get_public_key, KeyId=meta["KeyId"])
    import_key_material(kms, meta["KeyId"], private_der, algorithm=algorithm, wrapping_spec="RSA_3072")
    assert state(kms, meta["KeyId"])["KeyState"] == "Enabled"
    # GetPublicKey gives back openssl's public key, byte for byte.
    assert kms.get_public_key(KeyId=meta["KeyId"])["PublicKey"] == public_der
    signing = SIGNING_ALGORITHMS[spec][0]
    message = b"signed by imported material"
    signature = kms.sign(KeyId=meta["KeyId"], Message=message, SigningAlgorithm=signing)["Signature"]
    assert openssl_verify(public_der, message, signature, signing)
    # The material of an asymmetric key cannot change.
    other_private, _ = genpkey(spec)
    expect_error("IncorrectKeyMaterialException", import_key_material, kms=kms, key_id=meta["KeyId"],
                 material=other_private, algorithm="RSA_AES_KEY_WRAP_SHA_256", wrapping_spec="RSA_3072")


def test_import_rsa_encryption_key_pair(kms):
    private_der, public_der = genpkey("RSA_2048")
    meta = external_key(kms, KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    import_key_material(kms, meta["KeyId"], private_der, algorithm="RSA_AES_KEY_WRAP_SHA_1", cli=True)
    assert kms.get_public_key(KeyId=meta["KeyId"])["PublicKey"] == public_der
    for algorithm in ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"):
        # openssl encrypts with the local public key, KMS decrypts ...
        ciphertext = openssl_encrypt(public_der, b"to kms", algorithm)
        assert kms.decrypt(KeyId=meta["KeyId"], CiphertextBlob=ciphertext,
                           EncryptionAlgorithm=algorithm)["Plaintext"] == b"to kms"
        # ... and KMS encrypts for the local private key.
        blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"from kms", EncryptionAlgorithm=algorithm)["CiphertextBlob"]
        assert openssl_decrypt(private_der, blob, algorithm) == b"from kms"


def test_import_key_agreement_key_pair(kms):
    private_der, public_der = genpkey("ECC_NIST_P384")
    meta = external_key(kms, KeySpec="ECC_NIST_P384", KeyUsage="KEY_AGREEMENT")
    import_key_material(kms, meta["KeyId"], private_der, algorithm="RSA_AES_KEY_WRAP_SHA_256")
    peer_private, peer_public = genpkey("ECC_NIST_P384")
    out = kms.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer_public)
    assert out["KeyOrigin"] == "EXTERNAL"
    assert out["SharedSecret"] == openssl_derive(peer_private, public_der) == openssl_derive(private_der, peer_public)


def test_asymmetric_material_must_match_key_spec(kms):
    meta = external_key(kms, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    p384_private, _ = genpkey("ECC_NIST_P384")
    client_error(import_key_material, {"IncorrectKeyMaterialException", "ValidationException"}, kms=kms,
                 key_id=meta["KeyId"], material=p384_private, algorithm="RSA_AES_KEY_WRAP_SHA_256")
    client_error(import_key_material, {"IncorrectKeyMaterialException", "ValidationException"}, kms=kms,
                 key_id=meta["KeyId"], material=os.urandom(32), algorithm="RSA_AES_KEY_WRAP_SHA_256")
    assert state(kms, meta["KeyId"])["KeyState"] == "PendingImport"


def test_delete_asymmetric_material(kms):
    private_der, public_der = genpkey("ECC_NIST_P256")
    meta = external_key(kms, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    import_key_material(kms, meta["KeyId"], private_der, algorithm="RSA_AES_KEY_WRAP_SHA_256")
    kms.delete_imported_key_material(KeyId=meta["KeyId"])
    assert state(kms, meta["KeyId"])["KeyState"] == "PendingImport"
    expect_error("KMSInvalidStateException", kms.sign, KeyId=meta["KeyId"], Message=b"m",
                 SigningAlgorithm="ECDSA_SHA_256")
    import_key_material(kms, meta["KeyId"], private_der, algorithm="RSA_AES_KEY_WRAP_SHA_1")
    assert kms.get_public_key(KeyId=meta["KeyId"])["PublicKey"] == public_der


def test_no_key_secret_reaches_the_data_dir_or_logs(fresh_server):
    """Imported material, generated key pairs, shared secrets, MAC and signature inputs stay out of
    the store (in the clear or base64), the trail and the server's log."""
    from kms_asym_support import genpkey, openssl_derive
    s = fresh_server().start()
    kms = s.client("kms")
    tag = uuid.uuid4().hex[:12]
    secrets = {}

    hmac_material = os.urandom(32)
    hmac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC", Origin="EXTERNAL")["KeyMetadata"]
    import_key_material(kms, hmac_key["KeyId"], hmac_material, algorithm="RSA_AES_KEY_WRAP_SHA_256")
    message = f"mac-message-{tag}-secret".encode()
    kms.generate_mac(KeyId=hmac_key["KeyId"], Message=message, MacAlgorithm="HMAC_SHA_256")
    secrets["imported HMAC material"] = hmac_material
    secrets["GenerateMac message"] = message

    symmetric_material = os.urandom(32)
    sym = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    import_key_material(kms, sym["KeyId"], symmetric_material)
    secrets["imported symmetric material"] = symmetric_material

    private_der, _ = genpkey("ECC_NIST_P256")
    ec = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT", Origin="EXTERNAL")["KeyMetadata"]
    import_key_material(kms, ec["KeyId"], private_der, algorithm="RSA_AES_KEY_WRAP_SHA_256")
    secrets["imported EC private key"] = private_der
    peer_private, peer_public = genpkey("ECC_NIST_P256")
    shared = kms.derive_shared_secret(KeyId=ec["KeyId"], KeyAgreementAlgorithm="ECDH",
                                      PublicKey=peer_public)["SharedSecret"]
    assert shared == openssl_derive(peer_private, kms.get_public_key(KeyId=ec["KeyId"])["PublicKey"])
    secrets["shared secret"] = shared

    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    sign_message = f"sign-message-{tag}-secret".encode()
    kms.sign(KeyId=signer["KeyId"], Message=sign_message, SigningAlgorithm="ECDSA_SHA_256")
    secrets["Sign message"] = sign_message

    wrapper = kms.create_key()["KeyMetadata"]
    pair = kms.generate_data_key_pair(KeyId=wrapper["KeyId"], KeyPairSpec="ECC_NIST_P256")
    secrets["data key pair private key"] = pair["PrivateKeyPlaintext"]
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    rsa_plaintext = f"rsa-plaintext-{tag}".encode()
    blob = kms.encrypt(KeyId=rsa["KeyId"], Plaintext=rsa_plaintext, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    kms.decrypt(KeyId=rsa["KeyId"], CiphertextBlob=blob["CiphertextBlob"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    secrets["RSA plaintext"] = rsa_plaintext
    assert s.stop() == 0

    files = {p: p.read_bytes() for p in Path(s.data_dir).rglob("*") if p.is_file()}
    logs = s.logs().encode()
    leaks = []
    for what, secret in secrets.items():
        for form in (secret, base64.b64encode(secret), base64.urlsafe_b64encode(secret).rstrip(b"=")):
            for path, data in list(files.items()) + [(Path("server log"), logs)]:
                if form in data:
                    leaks.append(f"{what} in {path.name}")
    assert leaks == []
