"""The AWS Encryption SDK for Python as an independent KMS client: its KMS master key providers get a
botocore session whose endpoint is the m2sec server; messages are encrypted under data keys from
GenerateDataKey (and Encrypt, for further keys) and decrypted through Decrypt.

Covers the strict and discovery providers with a symmetric key (one-shot and streaming, several
wrapping keys, signing and non-signing algorithm suites, refusals), and the MRK-aware providers with a
multi-Region key replicated into another Region.
"""
import io
import os
from pathlib import Path

import aws_encryption_sdk
import botocore.session
import pytest
from aws_encryption_sdk.exceptions import DecryptKeyError
from aws_encryption_sdk.identifiers import Algorithm, CommitmentPolicy
from aws_encryption_sdk.key_providers.kms import (
    DiscoveryFilter, MRKAwareDiscoveryAwsKmsMasterKeyProvider, MRKAwareStrictAwsKmsMasterKeyProvider,
)

from conftest import ACCESS_KEY, REGION, SECRET_KEY
from e2e_support import wait_for

OTHER = "us-east-1"


def session_for(server, region=REGION):
    """A botocore session whose KMS clients (made by the SDK) talk to the m2sec server.

    The session reads a shared config file of its own whose profile sets `endpoint_url` (botocore's
    configured endpoints), so the SDK's own `session.client("kms", region_name=...)` calls reach m2sec.
    """
    config = Path(server.data_dir).parent / f"{Path(server.data_dir).name}.sdk-config"
    if not config.exists():
        config.write_text(f"[default]\nendpoint_url = {server.endpoint}\n")
    session = botocore.session.Session()
    session.set_config_variable("config_file", str(config))
    session.set_config_variable("credentials_file", os.devnull)
    session.set_config_variable("profile", "default")
    session.set_credentials(ACCESS_KEY, SECRET_KEY)
    session.set_config_variable("region", region)
    return session


@pytest.fixture(scope="module")
def sdk():
    return aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)


@pytest.fixture(scope="module")
def key(server):
    return server.client("kms").create_key(Description="encryption sdk key")["KeyMetadata"]


@pytest.fixture(scope="module")
def second_key(server):
    return server.client("kms").create_key(Description="encryption sdk key 2")["KeyMetadata"]


def strict(server, *arns, region=REGION):
    return aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=list(arns),
                                                            botocore_session=session_for(server, region))


def account_of(arn):
    return arn.split(":")[4]


def test_round_trip_with_strict_provider(server, kms, sdk, key):
    provider = strict(server, key["Arn"])
    context = {"tenant": "t-1", "purpose": "e2e"}
    plaintext = os.urandom(10_000)
    ciphertext, header = sdk.encrypt(source=plaintext, key_provider=provider, encryption_context=context)
    assert plaintext not in ciphertext
    # The message's one encrypted data key names the KMS key ...
    [edk] = header.encrypted_data_keys
    assert edk.key_provider.provider_id == "aws-kms"
    assert edk.key_provider.key_info == key["Arn"].encode()
    # ... and is an ordinary KMS ciphertext: it decrypts with the message's encryption context.
    data_key = kms.decrypt(CiphertextBlob=edk.encrypted_data_key, EncryptionContext=header.encryption_context)
    assert data_key["KeyId"] == key["Arn"]
    assert len(data_key["Plaintext"]) == 32
    decrypted, decrypt_header = sdk.decrypt(source=ciphertext, key_provider=strict(server, key["Arn"]))
    assert decrypted == plaintext
    for k, v in context.items():
        assert decrypt_header.encryption_context[k] == v


@pytest.mark.parametrize("suite", [Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
                                   Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384])
def test_algorithm_suites(server, sdk, key, suite):
    provider = strict(server, key["Arn"])
    ciphertext, header = sdk.encrypt(source=b"suite " + suite.name.encode(), key_provider=provider, algorithm=suite)
    assert header.algorithm == suite
    assert sdk.decrypt(source=ciphertext, key_provider=provider)[0] == b"suite " + suite.name.encode()


def test_several_wrapping_keys(server, kms, sdk, key, second_key):
    provider = strict(server, key["Arn"], second_key["Arn"])
    ciphertext, header = sdk.encrypt(source=b"two keys", key_provider=provider)
    assert sorted(e.key_provider.key_info for e in header.encrypted_data_keys) == sorted(
        [key["Arn"].encode(), second_key["Arn"].encode()])
    # Either key alone decrypts the message.
    assert sdk.decrypt(source=ciphertext, key_provider=strict(server, second_key["Arn"]))[0] == b"two keys"
    assert sdk.decrypt(source=ciphertext, key_provider=strict(server, key["Arn"]))[0] == b"two keys"


def test_streaming_large_message(server, sdk, key):
    provider = strict(server, key["Arn"])
    plaintext = os.urandom(3 * 1024 * 1024 + 17)
    encrypted = io.BytesIO()
    with sdk.stream(mode="e", source=io.BytesIO(plaintext), key_provider=provider, frame_length=64 * 1024) as enc:
        for chunk in enc:
            encrypted.write(chunk)
    decrypted = io.BytesIO()
    with sdk.stream(mode="d", source=io.BytesIO(encrypted.getvalue()), key_provider=provider) as dec:
        for chunk in dec:
            decrypted.write(chunk)
    assert decrypted.getvalue() == plaintext


def test_discovery_provider(server, sdk, key):
    ciphertext, _ = sdk.encrypt(source=b"discover me", key_provider=strict(server, key["Arn"]))
    discovery = aws_encryption_sdk.DiscoveryAwsKmsMasterKeyProvider(
        botocore_session=session_for(server),
        discovery_filter=DiscoveryFilter(account_ids=[account_of(key["Arn"])], partition="aws"))
    assert sdk.decrypt(source=ciphertext, key_provider=discovery)[0] == b"discover me"
    # A filter for another account refuses to use the key.
    assert account_of(key["Arn"]) != "111122223333"
    elsewhere = aws_encryption_sdk.DiscoveryAwsKmsMasterKeyProvider(
        botocore_session=session_for(server),
        discovery_filter=DiscoveryFilter(account_ids=["111122223333"], partition="aws"))
    with pytest.raises(Exception):
        sdk.decrypt(source=ciphertext, key_provider=elsewhere)


def test_refusals_reach_the_sdk(server, kms, sdk, key, second_key):
    ciphertext, _ = sdk.encrypt(source=b"only for the first key", key_provider=strict(server, key["Arn"]))
    # Another key cannot decrypt it.
    with pytest.raises(DecryptKeyError):
        sdk.decrypt(source=ciphertext, key_provider=strict(server, second_key["Arn"]))
    # A disabled key neither encrypts nor decrypts.
    disabled = kms.create_key(Description="disabled sdk key")["KeyMetadata"]
    message, _ = sdk.encrypt(source=b"before", key_provider=strict(server, disabled["Arn"]))
    kms.disable_key(KeyId=disabled["KeyId"])
    with pytest.raises(DecryptKeyError):
        sdk.decrypt(source=message, key_provider=strict(server, disabled["Arn"]))
    with pytest.raises(Exception):
        sdk.encrypt(source=b"after", key_provider=strict(server, disabled["Arn"]))
    kms.enable_key(KeyId=disabled["KeyId"])
    assert sdk.decrypt(source=message, key_provider=strict(server, disabled["Arn"]))[0] == b"before"
    # A tampered message fails to decrypt.
    bad = bytearray(ciphertext)
    bad[-40] ^= 1
    with pytest.raises(Exception):
        sdk.decrypt(source=bytes(bad), key_provider=strict(server, key["Arn"]))


def test_mrk_aware_providers_across_regions(server, kms, kms_us, sdk):
    primary = kms.create_key(MultiRegion=True, Description="sdk multi-Region key")["KeyMetadata"]
    replica_arn = kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion=OTHER)["ReplicaKeyMetadata"]["Arn"]
    wait_for(lambda: kms_us.describe_key(KeyId=replica_arn)["KeyMetadata"]["KeyState"] == "Enabled", timeout=15,
             what="the replica")
    encrypt_with = MRKAwareStrictAwsKmsMasterKeyProvider(
        key_ids=[primary["Arn"]], botocore_session=session_for(server))
    ciphertext, header = sdk.encrypt(source=b"multi-Region message", key_provider=encrypt_with)
    [edk] = header.encrypted_data_keys
    assert edk.key_provider.key_info == primary["Arn"].encode()
    # Decrypted in the other Region with the replica, without a call to the primary's Region.
    decrypt_with = MRKAwareStrictAwsKmsMasterKeyProvider(
        key_ids=[replica_arn], botocore_session=session_for(server, OTHER))
    assert sdk.decrypt(source=ciphertext, key_provider=decrypt_with)[0] == b"multi-Region message"
    discovery = MRKAwareDiscoveryAwsKmsMasterKeyProvider(
        discovery_region=OTHER, botocore_session=session_for(server, OTHER),
        discovery_filter=DiscoveryFilter(account_ids=[account_of(primary["Arn"])], partition="aws"))
    assert sdk.decrypt(source=ciphertext, key_provider=discovery)[0] == b"multi-Region message"
    # The plain strict provider does not treat the replica as the same key.
    with pytest.raises(DecryptKeyError):
        sdk.decrypt(source=ciphertext, key_provider=strict(server, replica_arn, region=OTHER))
