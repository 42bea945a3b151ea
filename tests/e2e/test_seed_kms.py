"""The seed guide's KMS commands, run with the aws CLI exactly as written (with the endpoint)."""


def test_seed_walkthrough(server):
    key = server.aws("kms", "create-key", "--description", "M2 Security JWT Secret Key", "--region", "eu-west-1")
    meta = key["KeyMetadata"]
    assert meta["Description"] == "M2 Security JWT Secret Key"
    assert meta["Arn"] == f"arn:aws:kms:eu-west-1:000000000000:key/{meta['KeyId']}"
    assert meta["KeyState"] == "Enabled" and meta["Enabled"] is True

    server.aws("kms", "create-alias", "--alias-name", "alias/can2025-jwt-secret",
               "--target-key-id", meta["KeyId"], "--region", "eu-west-1")
    ct = server.aws("kms", "encrypt", "--key-id", "alias/can2025-jwt-secret", "--plaintext",
                    "can2025-secret-key-production", "--region", "eu-west-1", "--output", "text",
                    "--query", "CiphertextBlob")
    assert ct and "can2025" not in ct
    out = server.bash(
        f'aws kms decrypt --ciphertext-blob fileb://<(echo "{ct}" | base64 -d) --region eu-west-1 '
        f'--output text --query Plaintext | base64 -d'
    )
    assert out.stdout == "can2025-secret-key-production"

    # The guide passes an alias here; real KMS refuses it, m2sec accepts it.
    server.aws("kms", "enable-key-rotation", "--key-id", "alias/can2025-jwt-secret", "--region", "eu-west-1")
    status = server.aws("kms", "get-key-rotation-status", "--key-id", "alias/can2025-jwt-secret",
                        "--region", "eu-west-1")
    assert status["KeyRotationEnabled"] is True
    assert status["RotationPeriodInDays"] == 365
    assert "NextRotationDate" in status
