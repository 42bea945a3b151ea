#!/usr/bin/env python3
"""What policy evaluation costs on the hot path: KMS Encrypt signed by the account root (the key policy
allows it; no identity policies) against Encrypt signed by an assumed role that only the seed's
iamRoleStatements allow (key policy delegating to IAM, the role's inline policy, a session token), in
one run on one m2sec process.

Usage: bench/policy_cost.py [SECONDS]   (run by scripts/bench; needs wrk and target/release/m2sec)
Prints a Markdown table. Traffic goes to 127.0.0.1 only, bounded by SECONDS per case.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import botocore.auth
import botocore.config
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "target" / "release" / "m2sec"
AK, SK = "AKIAM2SECBENCHADMIN1", "m2sec-bench-admin-secret-key-0123456789"
REGION = "eu-west-1"
SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_lua(endpoint, creds, body, path):
    req = AWSRequest(method="POST", url=endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.Encrypt"})
    botocore.auth.SigV4Auth(creds, "kms", REGION).add_auth(req)
    check = urllib.request.Request(endpoint + "/", data=body, method="POST", headers=dict(req.headers.items()))
    with urllib.request.urlopen(check, timeout=5) as r:
        assert r.status == 200 and "CiphertextBlob" in json.loads(r.read())
    headers = "".join(f'wrk.headers["{k}"] = {json.dumps(v)}\n' for k, v in req.headers.items())
    Path(path).write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(body.decode())}\n{headers}')


def wrk(endpoint, lua):
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{SECONDS}s", "--latency", "-s", lua, endpoint + "/"],
                         capture_output=True, text=True, timeout=SECONDS + 60).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"wrk saw failed requests:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    return rate, p99


def main():
    data = Path(tempfile.mkdtemp(prefix="m2sec-bench-policy-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, M2SEC_ADMIN_ACCESS_KEY_ID=AK, M2SEC_ADMIN_SECRET_ACCESS_KEY=SK, M2SEC_LOG="warn")
    proc = subprocess.Popen([str(BIN), "serve", "--data-dir", str(data), "--listen", f"127.0.0.1:{port}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(endpoint + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        cfg = botocore.config.Config(retries={"max_attempts": 1})
        mk = lambda svc, region=REGION: boto3.client(svc, endpoint_url=endpoint, region_name=region,
                                                     aws_access_key_id=AK, aws_secret_access_key=SK, config=cfg)
        key = mk("kms").create_key()["KeyMetadata"]["KeyId"]
        mk("kms").create_alias(AliasName="alias/can2025-jwt-secret", TargetKeyId=key)
        iam = mk("iam", "us-east-1")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}
        statements = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"], "Resource": ["arn:aws:kms:eu-west-1:*:key/*"]},
            {"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"], "Resource": ["arn:aws:ssm:eu-west-1:*:parameter/can2025/*"]}]}
        iam.create_role(RoleName="can2025-secure-gates-lambda", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName="can2025-secure-gates-lambda", PolicyName="seed", PolicyDocument=json.dumps(statements))
        c = mk("sts", "us-east-1").assume_role(RoleArn="arn:aws:iam::000000000000:role/can2025-secure-gates-lambda",
                                               RoleSessionName="verifyTicket", DurationSeconds=3600)["Credentials"]
        body = json.dumps({"KeyId": "alias/can2025-jwt-secret", "Plaintext": "bTJzZWMgYmVuY2htYXJrIHBsYWludGV4dCwgMzBC"}).encode()
        out = Path(tempfile.mkdtemp(prefix="m2sec-bench-lua-"))
        signed_lua(endpoint, Credentials(AK, SK), body, out / "admin.lua")
        signed_lua(endpoint, Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]), body, out / "role.lua")
        wrk(endpoint, str(out / "admin.lua"))  # warm-up
        admin = wrk(endpoint, str(out / "admin.lua"))
        role = wrk(endpoint, str(out / "role.lua"))
        print(f"| case ({SECONDS} s, 16 connections) | req/s | p99 | vs root |")
        print("|---|---:|---:|---:|")
        print(f"| Encrypt as account root | {admin[0]:,.0f} | {admin[1]} | 1.00× |")
        print(f"| Encrypt as the seed's role (session token, IAM delegation) | {role[0]:,.0f} | {role[1]} | {role[0] / admin[0]:.2f}× |")
        shutil.rmtree(out, ignore_errors=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
