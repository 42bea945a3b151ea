"""Scheduled work: the end of a key's deletion window and automatic rotation. The server runs its jobs
every second (M2SEC_SCHEDULER_INTERVAL_SECS=1); due dates are moved into the past in the SQLite store
while the server is stopped."""
import datetime
import time

import botocore.exceptions
import pytest

from e2e_support import now_ms, set_key_column, wait_for

DAY = datetime.timedelta(days=1)


@pytest.fixture
def sched_server(fresh_server):
    return fresh_server(env={"M2SEC_SCHEDULER_INTERVAL_SECS": "1"}).start()


def error_code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def gone(kms, key_id):
    try:
        kms.describe_key(KeyId=key_id)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] == "NotFoundException"
    return False


def test_deletion_window_end_deletes_the_key(sched_server):
    s = sched_server
    kms = s.client()
    doomed = kms.create_key(Description="doomed")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=doomed)
    blob = kms.encrypt(KeyId=doomed, Plaintext=b"soon unreadable")["CiphertextBlob"]
    waiting = kms.create_key(Description="still in its window")["KeyMetadata"]["KeyId"]
    kept = kms.create_key(Description="kept")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/kept", TargetKeyId=kept)
    for key_id in (doomed, waiting):
        out = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        assert out["KeyState"] == "PendingDeletion"
    assert s.stop() == 0

    set_key_column(s.data_dir, doomed, "deletion_date", now_ms() - 1000)
    s.start()
    kms = s.client()
    wait_for(lambda: gone(kms, doomed), timeout=6, what="the key to be deleted")
    assert "alias/doomed" not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    assert doomed not in {k["KeyId"] for k in kms.list_keys()["Keys"]}
    assert error_code(lambda: kms.decrypt(CiphertextBlob=blob)) in {
        "NotFoundException", "InvalidCiphertextException", "KMSInvalidStateException"}
    assert error_code(lambda: kms.encrypt(KeyId="alias/doomed", Plaintext=b"x")) == "NotFoundException"

    # Keys whose window has not ended, and other keys, are untouched.
    assert kms.describe_key(KeyId=waiting)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert kms.describe_key(KeyId="alias/kept")["KeyMetadata"]["KeyId"] == kept
    assert "deleted=1" in s.stderr.read_text()


def test_automatic_rotation_when_due(sched_server):
    s = sched_server
    kms = s.client()
    key_id = kms.create_key(Description="rotates")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"before rotation")["CiphertextBlob"]
    assert kms.list_key_rotations(KeyId=key_id)["Rotations"] == []
    assert s.stop() == 0

    set_key_column(s.data_dir, key_id, "next_rotation_at", now_ms() - 1000)
    s.start()
    kms = s.client()
    rotations = wait_for(lambda: kms.list_key_rotations(KeyId=key_id)["Rotations"], timeout=6,
                         what="an automatic rotation")
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
    assert rotations[0]["KeyId"] == key_id or rotations[0]["KeyId"].endswith(key_id)
    rotated_at = rotations[0]["RotationDate"]
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs(rotated_at - now) < datetime.timedelta(minutes=1)

    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    assert abs(status["NextRotationDate"] - (rotated_at + 90 * DAY)) < DAY

    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before rotation"
    new_blob = kms.encrypt(KeyId=key_id, Plaintext=b"after rotation")["CiphertextBlob"]
    assert new_blob != blob
    assert kms.decrypt(CiphertextBlob=new_blob)["Plaintext"] == b"after rotation"

    # The next date was stored: later ticks do not rotate again, and a restart keeps it.
    time.sleep(2.2)
    assert len(kms.list_key_rotations(KeyId=key_id)["Rotations"]) == 1
    s.restart()
    kms = s.client()
    assert kms.get_key_rotation_status(KeyId=key_id)["NextRotationDate"] == status["NextRotationDate"]
    assert len(kms.list_key_rotations(KeyId=key_id)["Rotations"]) == 1
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before rotation"


def test_disabled_key_rotates_once_enabled_again(sched_server):
    s = sched_server
    kms = s.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key_id)
    kms.disable_key(KeyId=key_id)
    assert s.stop() == 0

    set_key_column(s.data_dir, key_id, "next_rotation_at", now_ms() - 1000)
    s.start()
    kms = s.client()
    time.sleep(1.5)  # at least one tick
    assert kms.list_key_rotations(KeyId=key_id)["Rotations"] == []
    kms.enable_key(KeyId=key_id)
    rotations = wait_for(lambda: kms.list_key_rotations(KeyId=key_id)["Rotations"], timeout=6,
                         what="rotation after EnableKey")
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
