"""KMS key rotation (EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
ListKeyRotations) and how rotation and deletion windows interact, through boto3."""
import datetime
import struct
import uuid

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY, expect_error, unchecked  # noqa: F401

DAY = 86400


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def blob_version(blob):
    """The key version an m2sec ciphertext names (see crates/crypto/src/blob.rs)."""
    n = blob[1]
    return struct.unpack(">I", blob[2 + n:6 + n])[0]


@pytest.fixture
def key(kms):
    return kms.create_key(Description="rotation test key")["KeyMetadata"]


def test_rotation_off_by_default(kms, key):
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is False
    assert "NextRotationDate" not in status
    assert kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"] == []


def test_enable_key_rotation_default_period(kms, key):
    before = now()
    kms.enable_key_rotation(KeyId=key["KeyId"])
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is True
    assert status["RotationPeriodInDays"] == 365
    assert status["KeyId"] == key["Arn"]
    assert abs((status["NextRotationDate"] - before).total_seconds() - 365 * DAY) < 120


@pytest.mark.parametrize("days", [90, 2560, 180])
def test_enable_key_rotation_custom_period(kms, key, days):
    before = now()
    kms.enable_key_rotation(KeyId=key["Arn"], RotationPeriodInDays=days)
    status = kms.get_key_rotation_status(KeyId=key["Arn"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == days
    assert abs((status["NextRotationDate"] - before).total_seconds() - days * DAY) < 120


@pytest.mark.parametrize("days", [0, 89, 2561])
def test_enable_key_rotation_period_out_of_bounds(server, kms, key, days):
    msg = expect_error("ValidationException", unchecked(server).enable_key_rotation, KeyId=key["KeyId"],
                       RotationPeriodInDays=days)
    assert "rotationPeriodInDays" in msg
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False


def test_rotation_settings_accept_alias(kms, key):
    # Real KMS refuses an alias in EnableKeyRotation; m2sec accepts it on purpose (the seed guide uses one).
    alias = f"alias/rot-{uuid.uuid4().hex[:12]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    kms.enable_key_rotation(KeyId=alias, RotationPeriodInDays=120)
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["RotationPeriodInDays"] == 120
    assert kms.get_key_rotation_status(KeyId=alias)["KeyRotationEnabled"] is True
    kms.disable_key_rotation(KeyId=alias)
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False


def test_disable_and_reenable_rotation(kms, key):
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=100)
    kms.disable_key_rotation(KeyId=key["KeyId"])
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is False and "NextRotationDate" not in status
    kms.disable_key_rotation(KeyId=key["KeyId"])  # idempotent
    kms.enable_key_rotation(KeyId=key["KeyId"])
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 365


def test_rotation_not_found(kms):
    missing = str(uuid.uuid4())
    for op in (kms.enable_key_rotation, kms.disable_key_rotation, kms.get_key_rotation_status,
               kms.rotate_key_on_demand, kms.list_key_rotations):
        expect_error("NotFoundException", op, KeyId=missing)


def test_rotate_on_demand_keeps_old_ciphertext(kms, key):
    old = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"before", EncryptionContext={"c": "1"})["CiphertextBlob"]
    assert blob_version(old) == 1
    before = now()
    out = kms.rotate_key_on_demand(KeyId=key["KeyId"])
    assert out["KeyId"] in (key["KeyId"], key["Arn"])
    new = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"after", EncryptionContext={"c": "1"})["CiphertextBlob"]
    assert blob_version(new) == 2
    assert new[:2 + new[1]] == old[:2 + old[1]]  # same key id, only the version differs
    assert kms.decrypt(CiphertextBlob=old, EncryptionContext={"c": "1"})["Plaintext"] == b"before"
    assert kms.decrypt(CiphertextBlob=new, EncryptionContext={"c": "1"})["Plaintext"] == b"after"
    # ReEncrypt moves old ciphertext onto the current version.
    moved = kms.re_encrypt(CiphertextBlob=old, SourceEncryptionContext={"c": "1"},
                           DestinationKeyId=key["KeyId"], DestinationEncryptionContext={"c": "1"})
    assert blob_version(moved["CiphertextBlob"]) == 2
    rotations = kms.list_key_rotations(KeyId=key["KeyId"])
    assert rotations["Truncated"] is False
    [entry] = rotations["Rotations"]
    assert entry["RotationType"] == "ON_DEMAND"
    assert entry["KeyId"] in (key["KeyId"], key["Arn"])
    assert abs((entry["RotationDate"] - before).total_seconds()) < 60
    # Key metadata is unchanged by rotation.
    meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert meta["KeyId"] == key["KeyId"] and meta["KeyState"] == "Enabled"


def test_on_demand_rotation_limit_and_listing(kms, key):
    # RotateKeyOnDemand's documentation: "a maximum of 25 times per KMS key".
    blobs = [kms.encrypt(KeyId=key["KeyId"], Plaintext=b"v1")["CiphertextBlob"]]
    for i in range(25):
        kms.rotate_key_on_demand(KeyId=key["KeyId"])
        blobs.append(kms.encrypt(KeyId=key["KeyId"], Plaintext=f"v{i + 2}".encode())["CiphertextBlob"])
    expect_error("LimitExceededException", kms.rotate_key_on_demand, KeyId=key["KeyId"])
    assert [blob_version(b) for b in blobs] == list(range(1, 27))
    for i, blob in enumerate(blobs):
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == f"v{i + 1}".encode()
    rotations = [r for p in kms.get_paginator("list_key_rotations").paginate(KeyId=key["KeyId"])
                 for r in p["Rotations"]]
    assert len(rotations) == 25
    assert all(r["RotationType"] == "ON_DEMAND" for r in rotations)
    dates = [r["RotationDate"] for r in rotations]
    assert dates == sorted(dates)
    pages, marker = [], None
    while True:
        kw = {"KeyId": key["KeyId"], "Limit": 10}
        if marker:
            kw["Marker"] = marker
        page = kms.list_key_rotations(**kw)
        pages.append(len(page["Rotations"]))
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert pages == [10, 10, 5]
    expect_error("InvalidMarkerException", kms.list_key_rotations, KeyId=key["KeyId"], Marker="nope")


def test_on_demand_rotation_keeps_automatic_schedule(kms, key):
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=730)
    scheduled = kms.get_key_rotation_status(KeyId=key["KeyId"])["NextRotationDate"]
    kms.rotate_key_on_demand(KeyId=key["KeyId"])
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["NextRotationDate"] == scheduled and status["RotationPeriodInDays"] == 730


def test_rotation_on_disabled_key(kms, key):
    kms.disable_key(KeyId=key["KeyId"])
    expect_error("DisabledException", kms.rotate_key_on_demand, KeyId=key["KeyId"])
    expect_error("DisabledException", kms.enable_key_rotation, KeyId=key["KeyId"])
    expect_error("DisabledException", kms.disable_key_rotation, KeyId=key["KeyId"])
    # Reading the status of a disabled key is allowed.
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=key["KeyId"])
    kms.rotate_key_on_demand(KeyId=key["KeyId"])
    assert len(kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]) == 1


def test_disabling_key_keeps_rotation_status(kms, key):
    # Documented: "The key rotation status does not change when you disable a KMS key."
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=90)
    kms.disable_key(KeyId=key["KeyId"])
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90


def test_rotation_refuses_alias_where_aws_does(kms, key):
    alias = f"alias/rot-{uuid.uuid4().hex[:12]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    expect_error("NotFoundException", kms.rotate_key_on_demand, KeyId=alias)
    expect_error("NotFoundException", kms.list_key_rotations, KeyId=alias)


def test_rotation_on_key_pending_deletion(kms, key):
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    expect_error("KMSInvalidStateException", kms.rotate_key_on_demand, KeyId=key["KeyId"])
    expect_error("KMSInvalidStateException", kms.enable_key_rotation, KeyId=key["KeyId"])
    expect_error("KMSInvalidStateException", kms.disable_key_rotation, KeyId=key["KeyId"])
    # Documented: while a key is pending deletion its rotation status is false; cancelling the
    # deletion brings the original status back.
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 365


def test_deletion_window_blocks_crypto_until_cancelled(kms, key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"pending")["CiphertextBlob"]
    out = kms.schedule_key_deletion(KeyId=key["Arn"], PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7
    expect_error("KMSInvalidStateException", kms.decrypt, CiphertextBlob=blob)
    expect_error("KMSInvalidStateException", kms.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_128")
    expect_error("KMSInvalidStateException", kms.re_encrypt, CiphertextBlob=blob,
                 DestinationKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    expect_error("KMSInvalidStateException", kms.update_key_description, KeyId=key["KeyId"], Description="x")
    expect_error("KMSInvalidStateException", kms.put_key_policy, KeyId=key["KeyId"], PolicyName="default",
                 Policy='{"Version":"2012-10-17","Statement":[]}')
    # Read-only operations still answer.
    meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and meta["PendingDeletionWindowInDays"] == 7
    assert abs((meta["DeletionDate"] - now()).total_seconds() - 7 * DAY) < 120
    assert kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    kms.cancel_key_deletion(KeyId=key["Arn"])
    kms.enable_key(KeyId=key["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"pending"


def test_alias_of_key_pending_deletion_still_resolves(kms, key):
    alias = f"alias/del-{uuid.uuid4().hex[:12]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    expect_error("KMSInvalidStateException", kms.encrypt, KeyId=alias, Plaintext=b"x")
    kms.delete_alias(AliasName=alias)
