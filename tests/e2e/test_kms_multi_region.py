"""Multi-Region keys through boto3 (primary in eu-west-1, replicas in us-east-1 and eu-central-1):
CreateKey MultiRegion=true, ReplicateKey, cross-Region decryption, UpdatePrimaryRegion, shared and
independent properties, symmetric / RSA / HMAC / imported multi-Region keys, deletion of a primary with
replicas; and GetKeyLastUsage (independent per Region for multi-Region keys)."""
import datetime
import json
import os
import re
import uuid

import pytest

from conftest import REGION, expect_error, unchecked
from e2e_support import wait_for
from kms_asym_support import client_error, import_key_material, openssl_encrypt, utcnow

OTHER = "us-east-1"
THIRD = "eu-central-1"
MRK_ID = re.compile(r"^mrk-[0-9a-f]{32}$")


@pytest.fixture
def kms_third(server):
    return server.client("kms", region=THIRD)


def describe(client, key_id):
    return client.describe_key(KeyId=key_id)["KeyMetadata"]


def replicate(kms, kms_other, key_id, region=OTHER, **kw):
    """ReplicateKey, then wait until the replica leaves the transient Creating state."""
    out = kms.replicate_key(KeyId=key_id, ReplicaRegion=region, **kw)
    replica = out["ReplicaKeyMetadata"]
    wait_for(lambda: describe(kms_other, replica["Arn"])["KeyState"] != "Creating", timeout=15,
             what="the replica to be created")
    return out


def mrk(kms, **kw):
    return kms.create_key(MultiRegion=True, **kw)["KeyMetadata"]


# ---------------------------------------------------------------------------------------------
# Primary keys and replicas
# ---------------------------------------------------------------------------------------------

def test_create_multi_region_primary(kms):
    meta = mrk(kms, Description="primary")
    assert MRK_ID.match(meta["KeyId"]), meta["KeyId"]
    assert meta["Arn"].endswith(f":key/{meta['KeyId']}") and f":{REGION}:" in meta["Arn"]
    assert meta["MultiRegion"] is True
    config = meta["MultiRegionConfiguration"]
    assert config["MultiRegionKeyType"] == "PRIMARY"
    assert config["PrimaryKey"] == {"Arn": meta["Arn"], "Region": REGION}
    assert config.get("ReplicaKeys", []) == []
    assert describe(kms, meta["KeyId"])["MultiRegionConfiguration"] == config
    # A single-Region key says so.
    single = kms.create_key(MultiRegion=False)["KeyMetadata"]
    assert single["MultiRegion"] is False and "MultiRegionConfiguration" not in single
    assert not single["KeyId"].startswith("mrk-")


def test_replicate_key(kms, kms_us):
    primary = mrk(kms, Description="primary description", Tags=[{"TagKey": "side", "TagValue": "primary"}])
    out = replicate(kms, kms_us, primary["KeyId"], Description="replica description",
                    Tags=[{"TagKey": "side", "TagValue": "replica"}])
    replica = out["ReplicaKeyMetadata"]
    assert replica["KeyId"] == primary["KeyId"]
    assert replica["Arn"] == primary["Arn"].replace(f":{REGION}:", f":{OTHER}:")
    assert replica["KeyState"] in ("Creating", "Enabled")
    assert replica["MultiRegion"] is True
    assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert replica["MultiRegionConfiguration"]["PrimaryKey"] == {"Arn": primary["Arn"], "Region": REGION}
    assert {"Arn": replica["Arn"], "Region": OTHER} in replica["MultiRegionConfiguration"]["ReplicaKeys"]
    json.loads(out["ReplicaPolicy"])
    assert out["ReplicaTags"] == [{"TagKey": "side", "TagValue": "replica"}]
    # Shared properties are the primary's; description, tags and policy are the replica's own.
    seen = describe(kms_us, primary["KeyId"])
    assert seen["KeyState"] == "Enabled"
    for field in ("KeySpec", "KeyUsage", "Origin", "EncryptionAlgorithms"):
        assert seen[field] == primary[field], field
    assert seen["Description"] == "replica description"
    assert kms_us.list_resource_tags(KeyId=primary["KeyId"])["Tags"] == [{"TagKey": "side", "TagValue": "replica"}]
    assert kms.list_resource_tags(KeyId=primary["KeyId"])["Tags"] == [{"TagKey": "side", "TagValue": "primary"}]
    # The primary now lists the replica.
    config = describe(kms, primary["KeyId"])["MultiRegionConfiguration"]
    assert config["MultiRegionKeyType"] == "PRIMARY"
    assert config["ReplicaKeys"] == [{"Arn": replica["Arn"], "Region": OTHER}]
    listed = {k["KeyId"] for p in kms_us.get_paginator("list_keys").paginate() for k in p["Keys"]}
    assert primary["KeyId"] in listed


def test_replica_defaults_and_second_replica(kms, kms_us, kms_third):
    primary = mrk(kms, Description="shared? no")
    replicate(kms, kms_us, primary["KeyId"])
    # Without Description the replica's is empty: the description is not shared.
    assert describe(kms_us, primary["KeyId"])["Description"] == ""
    replicate(kms, kms_third, primary["Arn"], region=THIRD)
    regions = sorted(r["Region"] for r in describe(kms, primary["KeyId"])["MultiRegionConfiguration"]["ReplicaKeys"])
    assert regions == sorted([OTHER, THIRD])
    for client in (kms_us, kms_third):
        config = describe(client, primary["KeyId"])["MultiRegionConfiguration"]
        assert config["MultiRegionKeyType"] == "REPLICA"
        assert config["PrimaryKey"]["Region"] == REGION


def test_ciphertext_decrypts_in_every_region(kms, kms_us, kms_third):
    primary = mrk(kms)
    replicate(kms, kms_us, primary["KeyId"])
    replicate(kms, kms_third, primary["KeyId"], region=THIRD)
    replica_arn = primary["Arn"].replace(f":{REGION}:", f":{OTHER}:")
    context = {"app": "mrk"}
    blob = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"from the primary", EncryptionContext=context)[
        "CiphertextBlob"]
    # In the other Region, with no key id, with the key id, with the replica's ARN.
    for kw in ({}, {"KeyId": primary["KeyId"]}, {"KeyId": replica_arn}):
        out = kms_us.decrypt(CiphertextBlob=blob, EncryptionContext=context, **kw)
        assert out["Plaintext"] == b"from the primary"
        assert out["KeyId"] == replica_arn
    expect_error("InvalidCiphertextException", kms_us.decrypt, CiphertextBlob=blob)
    # And the other way round, and between replicas.
    from_replica = kms_us.encrypt(KeyId=primary["KeyId"], Plaintext=b"from a replica")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=from_replica)["Plaintext"] == b"from a replica"
    assert kms_third.decrypt(CiphertextBlob=from_replica)["Plaintext"] == b"from a replica"
    data_key = kms_third.generate_data_key(KeyId=primary["KeyId"], KeySpec="AES_256")
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    # ReEncrypt in the replica's Region, from a primary's ciphertext.
    moved = kms_us.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=context,
                              DestinationKeyId=primary["KeyId"])
    assert moved["SourceKeyId"] == replica_arn and moved["KeyId"] == replica_arn
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"from the primary"


def test_replica_state_is_its_own(kms, kms_us):
    primary = mrk(kms)
    replicate(kms, kms_us, primary["KeyId"])
    kms_us.disable_key(KeyId=primary["KeyId"])
    assert describe(kms, primary["KeyId"])["KeyState"] == "Enabled"
    blob = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    expect_error("DisabledException", kms_us.decrypt, CiphertextBlob=blob)
    kms_us.enable_key(KeyId=primary["KeyId"])
    assert kms_us.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_replicate_key_refusals(server, kms, kms_us):
    primary = mrk(kms)
    replicate(kms, kms_us, primary["KeyId"])
    # One replica per Region.
    expect_error("AlreadyExistsException", kms.replicate_key, KeyId=primary["KeyId"], ReplicaRegion=OTHER)
    # Not into the primary's own Region.
    client_error(kms.replicate_key, KeyId=primary["KeyId"], ReplicaRegion=REGION)
    # Only a multi-Region primary key replicates.
    single = kms.create_key()["KeyMetadata"]
    client_error(kms.replicate_key, {"UnsupportedOperationException", "ValidationException"}, KeyId=single["KeyId"],
                 ReplicaRegion=OTHER)
    client_error(kms_us.replicate_key, KeyId=primary["KeyId"], ReplicaRegion="eu-west-2")
    # Not a Region ID (the model's pattern for RegionType).
    for region in ("EU_WEST_1", "eu-west", "eu-west-1-extra-long-name-beyond-32"):
        expect_error("ValidationException", unchecked(server).replicate_key, KeyId=primary["KeyId"],
                     ReplicaRegion=region)
    expect_error("NotFoundException", kms.replicate_key, KeyId="mrk-" + uuid.uuid4().hex, ReplicaRegion=OTHER)


def test_disabled_primary_is_not_replicated(kms):
    # ReplicateKey's errors include DisabledException: the primary key is not enabled.
    disabled = mrk(kms)
    kms.disable_key(KeyId=disabled["KeyId"])
    expect_error("DisabledException", kms.replicate_key, KeyId=disabled["KeyId"], ReplicaRegion=OTHER)


def test_update_primary_region(kms, kms_us, kms_third):
    primary = mrk(kms)
    replicate(kms, kms_us, primary["KeyId"])
    blob = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"before the swap")["CiphertextBlob"]
    kms.update_primary_region(KeyId=primary["Arn"], PrimaryRegion=OTHER)
    new_primary_arn = primary["Arn"].replace(f":{REGION}:", f":{OTHER}:")

    def swapped():
        us = describe(kms_us, primary["KeyId"])
        eu = describe(kms, primary["KeyId"])
        return (us["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
                and eu["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
                and us["KeyState"] == "Enabled" and eu["KeyState"] == "Enabled") and (us, eu)

    us, eu = wait_for(swapped, timeout=15, what="the primary Region to change")
    for meta in (us, eu):
        assert meta["MultiRegionConfiguration"]["PrimaryKey"] == {"Arn": new_primary_arn, "Region": OTHER}
        assert meta["MultiRegionConfiguration"]["ReplicaKeys"] == [{"Arn": primary["Arn"], "Region": REGION}]
    # Old ciphertexts still decrypt on both sides; the new primary replicates, the old one no longer does.
    assert kms_us.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before the swap"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before the swap"
    client_error(kms.replicate_key, KeyId=primary["KeyId"], ReplicaRegion=THIRD)
    replicate(kms_us, kms_third, primary["KeyId"], region=THIRD)
    replicas = describe(kms_us, primary["KeyId"])["MultiRegionConfiguration"]["ReplicaKeys"]
    assert sorted(r["Region"] for r in replicas) == sorted([REGION, THIRD])
    assert describe(kms_third, primary["KeyId"])["MultiRegionConfiguration"]["PrimaryKey"]["Region"] == OTHER


def test_update_primary_region_refusals(kms, kms_us):
    primary = mrk(kms)
    # No replica in that Region yet.
    client_error(kms.update_primary_region, KeyId=primary["KeyId"], PrimaryRegion=OTHER)
    replicate(kms, kms_us, primary["KeyId"])
    # Asked of the replica, which is not the primary.
    client_error(kms_us.update_primary_region, KeyId=primary["KeyId"], PrimaryRegion=REGION)
    # A single-Region key has no primary Region.
    single = kms.create_key()["KeyMetadata"]
    client_error(kms.update_primary_region, {"UnsupportedOperationException", "ValidationException",
                                             "InvalidArnException"}, KeyId=single["KeyId"], PrimaryRegion=OTHER)
    expect_error("NotFoundException", kms.update_primary_region, KeyId="mrk-" + uuid.uuid4().hex,
                 PrimaryRegion=OTHER)
    assert describe(kms, primary["KeyId"])["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_primary_with_replicas_waits_for_them_to_be_deleted(kms, kms_us):
    primary = mrk(kms)
    replicate(kms, kms_us, primary["KeyId"])
    out = kms.schedule_key_deletion(KeyId=primary["KeyId"], PendingWindowInDays=7)
    meta = describe(kms, primary["KeyId"])
    assert meta["KeyState"] == "PendingReplicaDeletion"
    assert meta["PendingDeletionWindowInDays"] == 7
    assert "DeletionDate" not in meta
    assert out["KeyState"] == "PendingReplicaDeletion"
    # The replica is untouched and keeps working.
    assert describe(kms_us, primary["KeyId"])["KeyState"] == "Enabled"
    blob = kms_us.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert kms_us.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    kms.cancel_key_deletion(KeyId=primary["KeyId"])
    assert describe(kms, primary["KeyId"])["KeyState"] == "Disabled"
    # A replica's own deletion is an ordinary one.
    replica = kms_us.schedule_key_deletion(KeyId=primary["KeyId"], PendingWindowInDays=7)
    assert replica["KeyState"] == "PendingDeletion" and "DeletionDate" in replica


def test_rotation_is_shared_and_set_on_the_primary(kms, kms_us):
    primary = mrk(kms)
    replicate(kms, kms_us, primary["KeyId"])
    kms.enable_key_rotation(KeyId=primary["KeyId"])
    # The automatic rotation status is a shared property: the replica follows the primary.
    wait_for(lambda: kms_us.get_key_rotation_status(KeyId=primary["KeyId"])["KeyRotationEnabled"] is True,
             timeout=8, what="the replica's rotation status")
    # It is set on the primary key only.
    client_error(kms_us.disable_key_rotation, KeyId=primary["KeyId"])
    # The key material is shared too: after an on-demand rotation of the primary, new ciphertexts
    # still decrypt in the replica's Region, and old ones everywhere.
    old = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"old material")["CiphertextBlob"]
    kms.rotate_key_on_demand(KeyId=primary["KeyId"])
    wait_for(lambda: len(kms.list_key_rotations(KeyId=primary["KeyId"])["Rotations"]) >= 1, timeout=15,
             what="the on-demand rotation")

    def round_trips():
        new = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"new material")["CiphertextBlob"]
        return kms_us.decrypt(CiphertextBlob=new)["Plaintext"] == b"new material"

    wait_for(round_trips, timeout=15, what="the replica to decrypt under the rotated material")
    assert kms_us.decrypt(CiphertextBlob=old)["Plaintext"] == b"old material"
    replica_new = kms_us.encrypt(KeyId=primary["KeyId"], Plaintext=b"from the replica")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=replica_new)["Plaintext"] == b"from the replica"


# ---------------------------------------------------------------------------------------------
# Other kinds of multi-Region keys
# ---------------------------------------------------------------------------------------------

RSA_4096_LIMITS = {"RSAES_OAEP_SHA_1": 470, "RSAES_OAEP_SHA_256": 446}


def test_rsa_4096_multi_region_key(kms, kms_us):
    # The module's one RSA_4096 key: an asymmetric multi-Region encryption key.
    primary = mrk(kms, KeySpec="RSA_4096", KeyUsage="ENCRYPT_DECRYPT")
    assert sorted(primary["EncryptionAlgorithms"]) == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    replicate(kms, kms_us, primary["KeyId"])
    public = kms.get_public_key(KeyId=primary["KeyId"])["PublicKey"]
    # Same key material: same public key in both Regions.
    assert kms_us.get_public_key(KeyId=primary["KeyId"])["PublicKey"] == public
    assert describe(kms_us, primary["KeyId"])["KeySpec"] == "RSA_4096"
    for algorithm, limit in RSA_4096_LIMITS.items():
        plaintext = os.urandom(limit)
        ciphertext = openssl_encrypt(public, plaintext, algorithm)
        assert len(ciphertext) == 512
        out = kms_us.decrypt(KeyId=primary["KeyId"], CiphertextBlob=ciphertext, EncryptionAlgorithm=algorithm)
        assert out["Plaintext"] == plaintext and out["EncryptionAlgorithm"] == algorithm
        blob = kms_us.encrypt(KeyId=primary["KeyId"], Plaintext=plaintext, EncryptionAlgorithm=algorithm)[
            "CiphertextBlob"]
        assert kms.decrypt(KeyId=primary["Arn"], CiphertextBlob=blob, EncryptionAlgorithm=algorithm)[
            "Plaintext"] == plaintext
        client_error(kms.encrypt, KeyId=primary["KeyId"], Plaintext=os.urandom(limit + 1),
                     EncryptionAlgorithm=algorithm)


def test_signing_multi_region_key(kms, kms_us):
    primary = mrk(kms, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    replicate(kms, kms_us, primary["KeyId"])
    signature = kms.sign(KeyId=primary["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    assert kms_us.verify(KeyId=primary["KeyId"], Message=b"m", Signature=signature,
                         SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True


def test_hmac_multi_region_key(kms, kms_us):
    primary = mrk(kms, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    replicate(kms, kms_us, primary["KeyId"])
    mac = kms.generate_mac(KeyId=primary["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert kms_us.generate_mac(KeyId=primary["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"] == mac
    assert kms_us.verify_mac(KeyId=primary["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256",
                             Mac=mac)["MacValid"] is True


def test_multi_region_key_with_imported_material(kms, kms_us):
    primary = kms.create_key(MultiRegion=True, Origin="EXTERNAL")["KeyMetadata"]
    assert MRK_ID.match(primary["KeyId"]) and primary["KeyState"] == "PendingImport"
    material = os.urandom(32)
    import_key_material(kms, primary["KeyId"], material)
    # The replica is created without material.
    out = kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion=OTHER)
    assert out["ReplicaKeyMetadata"]["Origin"] == "EXTERNAL"
    wait_for(lambda: describe(kms_us, primary["KeyId"])["KeyState"] == "PendingImport", timeout=15,
             what="the replica to wait for its material")
    blob = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"imported mrk")["CiphertextBlob"]
    expect_error("KMSInvalidStateException", kms_us.decrypt, CiphertextBlob=blob)
    # Other material is refused; the primary's material makes it work.
    expect_error("IncorrectKeyMaterialException", import_key_material, kms=kms_us, key_id=primary["KeyId"],
                 material=os.urandom(32))
    import_key_material(kms_us, primary["KeyId"], material)
    assert describe(kms_us, primary["KeyId"])["KeyState"] == "Enabled"
    assert kms_us.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported mrk"
    # Deleting the replica's material leaves the primary as it is.
    kms_us.delete_imported_key_material(KeyId=primary["KeyId"])
    assert describe(kms_us, primary["KeyId"])["KeyState"] == "PendingImport"
    assert describe(kms, primary["KeyId"])["KeyState"] == "Enabled"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported mrk"


# ---------------------------------------------------------------------------------------------
# GetKeyLastUsage
# ---------------------------------------------------------------------------------------------

def test_get_key_last_usage(server, kms):
    meta = kms.create_key(Description="usage")["KeyMetadata"]
    fresh = kms.get_key_last_usage(KeyId=meta["KeyId"])
    assert fresh["KeyId"] in (meta["KeyId"], meta["Arn"])
    assert abs((fresh["KeyCreationDate"] - meta["CreationDate"]).total_seconds()) < 1
    # Tracking starts when the key is created (or later).
    assert fresh["TrackingStartDate"] >= meta["CreationDate"] - datetime.timedelta(seconds=1)
    assert not fresh.get("KeyLastUsage")
    # Management calls are not cryptographic use.
    kms.describe_key(KeyId=meta["KeyId"])
    kms.tag_resource(KeyId=meta["KeyId"], Tags=[{"TagKey": "a", "TagValue": "b"}])
    assert not kms.get_key_last_usage(KeyId=meta["KeyId"]).get("KeyLastUsage")
    before = utcnow() - datetime.timedelta(seconds=1)
    out = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")
    usage = kms.get_key_last_usage(KeyId=meta["Arn"])["KeyLastUsage"]
    assert usage["Operation"] == "Encrypt"
    assert before <= usage["Timestamp"] <= utcnow() + datetime.timedelta(seconds=1)
    assert usage["KmsRequestId"] == out["ResponseMetadata"]["RequestId"]
    # CloudTrailEventId names the Encrypt event in the trail.
    trail = server.client("cloudtrail")
    events = wait_for(lambda: trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventId", "AttributeValue": usage["CloudTrailEventId"]}])["Events"], timeout=10,
        what="the Encrypt event in the trail")
    assert [e["EventName"] for e in events] == ["Encrypt"]
    # A failed operation is not a use.
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=out["CiphertextBlob"],
                 EncryptionContext={"wrong": "context"})
    assert kms.get_key_last_usage(KeyId=meta["KeyId"])["KeyLastUsage"]["Operation"] == "Encrypt"
    kms.generate_data_key_without_plaintext(KeyId=meta["KeyId"], KeySpec="AES_256")
    assert kms.get_key_last_usage(KeyId=meta["KeyId"])["KeyLastUsage"]["Operation"] == \
        "GenerateDataKeyWithoutPlaintext"
    # ReEncrypt records a use of both keys.
    other = kms.create_key()["KeyMetadata"]
    kms.re_encrypt(CiphertextBlob=out["CiphertextBlob"], DestinationKeyId=other["KeyId"])
    assert kms.get_key_last_usage(KeyId=meta["KeyId"])["KeyLastUsage"]["Operation"] == "ReEncrypt"
    assert kms.get_key_last_usage(KeyId=other["KeyId"])["KeyLastUsage"]["Operation"] == "ReEncrypt"


def test_get_key_last_usage_refusals(kms):
    meta = kms.create_key()["KeyMetadata"]
    alias = f"alias/usage-{uuid.uuid4().hex[:10]}"
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    # Alias names are not supported.
    client_error(kms.get_key_last_usage, KeyId=alias)
    expect_error("NotFoundException", kms.get_key_last_usage, KeyId=str(uuid.uuid4()))


def test_last_usage_is_tracked_per_region(kms, kms_us):
    primary = mrk(kms)
    replicate(kms, kms_us, primary["KeyId"])
    blob = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert kms.get_key_last_usage(KeyId=primary["KeyId"])["KeyLastUsage"]["Operation"] == "Encrypt"
    assert not kms_us.get_key_last_usage(KeyId=primary["KeyId"]).get("KeyLastUsage")
    kms_us.decrypt(CiphertextBlob=blob)
    assert kms_us.get_key_last_usage(KeyId=primary["KeyId"])["KeyLastUsage"]["Operation"] == "Decrypt"
    assert kms.get_key_last_usage(KeyId=primary["KeyId"])["KeyLastUsage"]["Operation"] == "Encrypt"


@pytest.mark.parametrize("operation", ["Sign", "Verify", "GenerateMac", "VerifyMac", "DeriveSharedSecret",
                                       "GenerateDataKeyPair"])
def test_last_usage_names_each_operation(kms, operation):
    if operation in ("Sign", "Verify"):
        meta = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        signature = kms.sign(KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        if operation == "Verify":
            kms.verify(KeyId=meta["KeyId"], Message=b"m", Signature=signature, SigningAlgorithm="ECDSA_SHA_256")
    elif operation in ("GenerateMac", "VerifyMac"):
        meta = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
        mac = kms.generate_mac(KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
        if operation == "VerifyMac":
            kms.verify_mac(KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256", Mac=mac)
    elif operation == "DeriveSharedSecret":
        meta = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
        kms.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH",
                                 PublicKey=kms.get_public_key(KeyId=meta["KeyId"])["PublicKey"])
    else:
        meta = kms.create_key()["KeyMetadata"]
        kms.generate_data_key_pair(KeyId=meta["KeyId"], KeyPairSpec="ECC_NIST_P256")
    assert kms.get_key_last_usage(KeyId=meta["KeyId"])["KeyLastUsage"]["Operation"] == operation
