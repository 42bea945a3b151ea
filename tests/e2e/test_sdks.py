"""The AWS SDK for JavaScript v3 (tests/sdk-js) and the AWS SDK for Rust (tests/sdk-rust) against m2sec: one
scenario each over KMS, SSM, STS and CloudTrail (keys, an alias, Encrypt/Decrypt with an encryption context,
GenerateDataKey, ListKeys and GetParametersByPath paginated, a SecureString, GetCallerIdentity, LookupEvents
by attribute) and the exceptions those SDKs raise for a missing key, a disabled key, a wrong encryption
context and a missing parameter. Each program checks what its SDK parsed and prints a JSON summary; this file
checks that summary against what boto3 reads from the same server.

The JS project is installed with `npm ci` from its lock file (skipped while node_modules matches it); the
Rust one is built once per run in debug (target dir tests/sdk-rust/target, kept between runs)."""
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "tests" / "sdk-js"
RUST_DIR = ROOT / "tests" / "sdk-rust"
RUST_TARGET = RUST_DIR / "target"
# npm ci leaves this beside node_modules: the hash of the lock file it installed.
JS_STAMP = JS_DIR / "node_modules" / ".m2sec-lock-sha256"

EXPECTED_KMS_ERRORS = {
    "missingKey": {"name": "NotFoundException", "httpStatusCode": 400},
    "disabledKey": {"name": "DisabledException", "httpStatusCode": 400},
    "wrongContext": {"name": "InvalidCiphertextException", "httpStatusCode": 400},
}
EXPECTED_SSM_ERRORS = {"missingParameter": {"name": "ParameterNotFound", "httpStatusCode": 400}}


@pytest.fixture(scope="module")
def js_project():
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed: the JS SDK v3 test needs Node.js and npm")
    lock_hash = hashlib.sha256((JS_DIR / "package-lock.json").read_bytes()).hexdigest()
    if not (JS_STAMP.exists() and JS_STAMP.read_text() == lock_hash):
        proc = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, f"npm ci failed: {proc.stdout}\n{proc.stderr}"
        JS_STAMP.write_text(lock_hash)
    return JS_DIR


@pytest.fixture(scope="module")
def rust_program():
    if shutil.which("cargo") is None:
        pytest.skip("cargo not installed: the Rust SDK test needs it")
    proc = subprocess.run(
        ["cargo", "build", "--locked", "--manifest-path", str(RUST_DIR / "Cargo.toml"), "--target-dir",
         str(RUST_TARGET)],
        capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, f"cargo build failed:\n{proc.stderr[-20000:]}"
    return RUST_TARGET / "debug" / "m2sec-e2e-sdk-rust"


def sdk_env(server):
    env = server.cli_env()
    # Only the variables: no shared config or credentials file, no instance metadata.
    env.update(AWS_REGION=env["AWS_DEFAULT_REGION"], AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    return env


def run_scenario(command, server, cwd):
    proc = subprocess.run(command, cwd=cwd, env=sdk_env(server), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{' '.join(map(str, command))} exited {proc.returncode}:\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check_summary(server, summary):
    """The SDK's summary agrees with what boto3 reads from the server."""
    kms, ssm = server.client("kms"), server.client("ssm")
    key = kms.describe_key(KeyId=summary["kms"]["alias"])["KeyMetadata"]
    assert (key["KeyId"], key["Arn"]) == (summary["kms"]["keyId"], summary["kms"]["keyArn"])
    assert summary["kms"]["dataKeyBytes"] == 32
    keys = kms.list_keys()["Keys"]
    assert summary["kms"]["listKeys"] == {"pages": len(keys), "keys": len(keys)} and len(keys) == 3
    disabled = [k["KeyId"] for k in keys if not kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["Enabled"]]
    assert len(disabled) == 1 and disabled[0] != key["KeyId"]
    assert summary["kms"]["errors"] == EXPECTED_KMS_ERRORS

    [secret] = [p for p in ssm.describe_parameters()["Parameters"] if p["Type"] == "SecureString"]
    assert secret["KeyId"] == summary["kms"]["alias"]
    assert summary["ssm"]["parameterVersion"] == secret["Version"] == 1
    tree = ssm.get_parameters_by_path(Path=secret["Name"].rsplit("/", 1)[0] + "/tree", Recursive=True)["Parameters"]
    assert summary["ssm"]["byPath"] == {"pages": 3, "parameters": len(tree)} and len(tree) == 5
    assert summary["ssm"]["errors"] == EXPECTED_SSM_ERRORS

    me = server.client("sts").get_caller_identity()
    assert summary["sts"] == {"account": me["Account"], "arn": me["Arn"], "userId": me["UserId"]}

    events = server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateKey"}])["Events"]
    assert summary["cloudtrail"]["createKeyEvents"] == len(events) == 3
    [created] = [e for e in events if json.loads(e["CloudTrailEvent"])["responseElements"]["keyMetadata"]["keyId"]
                 == key["KeyId"]]
    assert summary["cloudtrail"]["createKeyEventId"] == created["EventId"]


def test_js_sdk_v3(js_project, fresh_server):
    server = fresh_server().start()
    summary = run_scenario(["node", "run.mjs"], server, js_project)
    assert summary["sdk"] == "aws-sdk-js-v3"
    check_summary(server, summary)


def test_rust_sdk(rust_program, fresh_server):
    server = fresh_server().start()
    summary = run_scenario([str(rust_program)], server, RUST_DIR)
    assert summary["sdk"] == "aws-sdk-rust"
    check_summary(server, summary)
