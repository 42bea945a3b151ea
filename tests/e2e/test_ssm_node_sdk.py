"""The seed's Node helper (tests/e2e/node/src/utils/kmsHelper.js, verbatim from the guide) with the npm package
aws-sdk v2 against m2sec: getJWTSecret() reads the SecureString with WithDecryption, encryptData() and
decryptData() go through KMS. tests/e2e/node/run.js only points the SDK at the server first.
The first run installs aws-sdk with npm (into tests/e2e/node/node_modules)."""
import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
NAME = "/can2025/prod/jwt-secret"


@pytest.fixture(scope="module")
def node_project():
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed: the aws-sdk v2 test needs Node.js and npm")
    if not (NODE_DIR / "node_modules" / "aws-sdk" / "package.json").exists():
        proc = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"npm install failed: {proc.stdout}\n{proc.stderr}"
    version = json.loads((NODE_DIR / "node_modules" / "aws-sdk" / "package.json").read_text())["version"]
    assert version.startswith("2."), version
    return NODE_DIR


def run_helper(server, *args, env=None):
    full_env = server.cli_env()
    full_env["AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE"] = "1"
    full_env.update(env or {})
    return subprocess.run(["node", "run.js", *args], cwd=NODE_DIR, env=full_env, capture_output=True, text=True,
                          timeout=60)


def test_seed_kms_helper(node_project, fresh_server):
    server = fresh_server().start()
    key = server.aws("kms", "create-key", "--description", "M2 Security JWT Secret Key", "--region",
                     "eu-west-1")["KeyMetadata"]
    server.aws("kms", "create-alias", "--alias-name", "alias/can2025-jwt-secret", "--target-key-id", key["KeyId"],
               "--region", "eu-west-1")
    server.aws("ssm", "put-parameter", "--name", NAME, "--value", "your-production-secret-key", "--type",
               "SecureString", "--key-id", "alias/can2025-jwt-secret", "--region", "eu-west-1")

    proc = run_helper(server, "can2025-secret-key-production")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["secret"] == "your-production-secret-key"
    assert out["decrypted"] == "can2025-secret-key-production"
    # encryptData() used the seed's key: the ciphertext opens with boto3 too, under that key.
    kms = server.client("kms")
    opened = kms.decrypt(CiphertextBlob=base64.b64decode(out["ciphertext"]))
    assert opened["Plaintext"] == b"can2025-secret-key-production"
    assert opened["KeyId"] == key["Arn"]

    # JWT_SECRET_PARAM (the guide's serverless.yml environment) picks another parameter.
    server.client("ssm").put_parameter(Name="/can2025/staging/jwt-secret", Value="staging-secret",
                                       Type="SecureString")
    proc = run_helper(server, env={"JWT_SECRET_PARAM": "/can2025/staging/jwt-secret"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["secret"] == "staging-secret"


def test_seed_kms_helper_missing_parameter(node_project, fresh_server):
    server = fresh_server().start()
    proc = run_helper(server, env={"JWT_SECRET_PARAM": "/can2025/prod/not-there"})
    assert proc.returncode == 1
    error = json.loads(proc.stderr.strip().splitlines()[-1])
    assert error["code"] == "ParameterNotFound"
    assert error["statusCode"] == 400
    assert "Failed to get JWT secret" in proc.stderr
