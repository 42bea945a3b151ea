"""The AWS SDK for JavaScript v3 (tests/sdk-js) and the AWS SDK for Rust (tests/sdk-rust) against m2sec: one
scenario each over KMS, SSM, STS and CloudTrail (keys, an alias, Encrypt/Decrypt with an encryption context,
GenerateDataKey, ListKeys and GetParametersByPath paginated, a SecureString, GetCallerIdentity, LookupEvents
by attribute) and the exceptions those SDKs raise for a missing key, a disabled key, a wrong encryption
context and a missing parameter. Each program checks what its SDK parsed and prints a JSON summary; this file
checks that summary against what boto3 reads from the same server.

DynamoDB with both JavaScript document clients: the v3 DynamoDBDocumentClient (tests/sdk-js/dynamodb.mjs,
@aws-sdk/lib-dynamodb) and aws-sdk v2's AWS.DynamoDB.DocumentClient (tests/e2e/node/dynamodb.js, the project
of test_ssm_node_sdk.py). One scenario in each: a table encrypted under a KMS key made in the same run,
the table waiters, put/get/update with conditions and ALL_NEW, query paged by Limit + ExclusiveStartKey,
scan with a filter, batchWrite, a transactWrite cancelled with CancellationReasons, delete and deleteTable;
numbers, sets and nested maps.

The JS project is installed with `npm ci` from its lock file (skipped while node_modules matches it); the
Rust one is built once per run in debug (target dir tests/sdk-rust/target, kept between runs)."""
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dynamodb_support import table_arn
from test_ssm_node_sdk import node_project  # noqa: F401 (a fixture)

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
    return RUST_TARGET / "debug"


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
    summary = run_scenario([str(rust_program / "m2sec-e2e-sdk-rust")], server, RUST_DIR)
    assert summary["sdk"] == "aws-sdk-rust"
    check_summary(server, summary)


# ----------------------------------------------------------------------------------------------
# DynamoDB with the JavaScript document clients and the Rust SDK

def js_set(*values):
    """How the scenarios print a set: its values, sorted."""
    return {"$set": sorted(values)}


DDB_ITEM = {
    "pk": "user#1", "sk": 0, "name": "Ada", "n": 41, "price": 3.25, "delta": -7, "zero": 0,
    "tags": js_set("admin", "dev"), "scores": js_set(1, 2.5, 30),
    "profile": {"address": {"city": "Paris", "zip": "75001"}, "langs": ["en", "fr", {"level": 2}], "active": True,
                "none": None},
}


def check_dynamodb_summary(server, summary, seen):
    """The scenario's summary agrees with what boto3 reads from the server: the KMS key it made, the table's
    encryption under it (DynamoDB used the key, as CloudTrail shows), the items it wrote, the table gone."""
    table = summary["table"]
    assert summary["tableArn"] == table_arn(table)
    key = server.client("kms").describe_key(KeyId=summary["keyId"])["KeyMetadata"]
    assert key["Arn"] == summary["keyArn"] and key["Enabled"]
    assert summary["sse"] == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key["Arn"]}
    events = server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GenerateDataKey"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    for_table = [r for r in records if (r.get("requestParameters") or {}).get("encryptionContext", {})
                 .get("aws:dynamodb:tableName") == table]
    assert for_table, "DynamoDB made no GenerateDataKey under the table's key"
    assert all(r["userIdentity"]["invokedBy"] == "dynamodb.amazonaws.com" for r in for_table), for_table
    assert all(key["Arn"] in [x["ARN"] for x in r.get("resources", [])] for r in for_table), for_table

    assert summary["item"] == DDB_ITEM
    updated = {k: v for k, v in DDB_ITEM.items() if k != "price"}
    updated.update(n=42, tags=js_set("admin", "dev", "ops"), seen=[seen],
                   profile={**DDB_ITEM["profile"], "address": {"city": "Lyon", "zip": "75001"}})
    assert summary["updated"] == updated
    assert summary["big"] == "12345678901234567890123"
    assert summary["query"] == {"pages": 3, "sortKeys": [2, 3, 4, 5, 6]}
    assert summary["scan"] == {"count": 2, "scannedCount": 8}
    assert summary["batchWrite"] == {"unprocessed": 0}
    assert summary["errors"] == {
        "putAgain": "ConditionalCheckFailedException",
        "updateFailed": "ConditionalCheckFailedException",
        "deleteMissing": "ConditionalCheckFailedException",
        "transaction": {"name": "TransactionCanceledException", "reasons": ["None", "ConditionalCheckFailed"]},
    }
    # big, orders 1-6 and the committed transaction's item.
    assert summary["remaining"] == 8
    assert summary["deletedStatus"] == "DELETING"
    ddb = server.client("dynamodb")
    assert table not in ddb.list_tables()["TableNames"]
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName=table)


def test_js_sdk_v3_dynamodb_document_client(js_project, fresh_server):
    server = fresh_server().start()
    summary = run_scenario(["node", "dynamodb.mjs"], server, js_project)
    assert (summary["sdk"], summary["client"]) == ("aws-sdk-js-v3", "DynamoDBDocumentClient")
    check_dynamodb_summary(server, summary, "v3")


def test_rust_sdk_dynamodb(rust_program, fresh_server):
    server = fresh_server().start()
    summary = run_scenario([str(rust_program / "dynamodb")], server, RUST_DIR)
    assert (summary["sdk"], summary["client"]) == ("aws-sdk-rust", "aws_sdk_dynamodb::Client")
    check_dynamodb_summary(server, summary, "rust")


def test_js_sdk_v2_dynamodb_document_client(node_project, fresh_server):
    server = fresh_server().start()
    env = sdk_env(server)
    env["AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE"] = "1"
    proc = subprocess.run(["node", "dynamodb.js"], cwd=node_project, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"node dynamodb.js exited {proc.returncode}:\n{proc.stderr}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (summary["sdk"], summary["client"]) == ("aws-sdk-js-v2", "DocumentClient")
    assert summary["version"].startswith("2.")
    check_dynamodb_summary(server, summary, "v2")
