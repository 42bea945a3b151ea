"""Helpers shared by the IAM, STS, authorization and KMS grant/key-policy end-to-end tests.

- `unique`: a fresh name per test, so tests sharing the session server never collide.
- `document`, `allow`, `deny`, `trust`: policy documents as JSON text.
- `Identity`: credentials (an IAM user's access key or an assumed role's temporary credentials) that
  build boto3 clients and aws CLI environments.
- `make_user`, `make_role`, `assume`: the IAM/STS set-up most tests start with, done as the root.
- `eventually`: polls until a check passes (access-key caches expire after 1 s).
- `aws_as`: the real aws CLI with an identity's credentials.
"""
import json
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Optional

import botocore.exceptions
import pytest

from conftest import REGION

ACCOUNT = "000000000000"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def trust(*principals):
    """A role trust policy allowing sts:AssumeRole to these AWS principals (ARNs)."""
    principal = principals[0] if len(principals) == 1 else list(principals)
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}],
    })


@dataclass
class Identity:
    access_key: str
    secret_key: str
    arn: str
    token: Optional[str] = None
    name: Optional[str] = None

    def client(self, server, service="kms", region=REGION, validate=True):
        extra = {"aws_session_token": self.token} if self.token else {}
        return server.client(service, region=region, access_key=self.access_key, secret_key=self.secret_key,
                             validate=validate, **extra)

    def cli_env(self, server, region=REGION):
        env = server.cli_env(region)
        env["AWS_ACCESS_KEY_ID"] = self.access_key
        env["AWS_SECRET_ACCESS_KEY"] = self.secret_key
        env.pop("AWS_SESSION_TOKEN", None)
        if self.token:
            env["AWS_SESSION_TOKEN"] = self.token
        return env


def error_of(fn, **kwargs):
    """Calls fn(**kwargs), which must fail; returns (code, message, HTTP status)."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kwargs)
    r = e.value.response
    return r["Error"]["Code"], r["Error"].get("Message", ""), r["ResponseMetadata"]["HTTPStatusCode"]


def eventually(check, timeout=3.0, interval=0.1):
    """Retries `check()` until it returns without raising; returns its value."""
    deadline = time.time() + timeout
    while True:
        try:
            return check()
        except (AssertionError, botocore.exceptions.ClientError, pytest.fail.Exception):
            if time.time() > deadline:
                raise
            time.sleep(interval)


def wait_usable(server, identity):
    """A new access key is accepted for signing after at most a moment."""
    sts = identity.client(server, "sts")
    eventually(lambda: sts.get_caller_identity())
    return identity


def make_user(server, *statements, prefix="user", path=None):
    """A user with an inline policy of `statements` (none: no policy at all) and one access key."""
    iam = server.client("iam")
    name = unique(prefix)
    user = iam.create_user(UserName=name, **({"Path": path} if path else {}))["User"]
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=document(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return wait_usable(server, Identity(key["AccessKeyId"], key["SecretAccessKey"], user["Arn"], name=name))


def make_role(server, *statements, trusted=ROOT_ARN, prefix="role", **kw):
    """A role whose trust policy allows `trusted`, with an inline policy of `statements`; returns GetRole's Role."""
    iam = server.client("iam")
    name = unique(prefix)
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(trusted), **kw)["Role"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=document(*statements))
    return role


def assume(server, role_arn, session="session", as_identity=None, **kw):
    """AssumeRole as the root (or `as_identity`); returns the session's `Identity`."""
    sts = as_identity.client(server, "sts") if as_identity else server.client("sts")
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName=session, **kw)
    c = out["Credentials"]
    return Identity(c["AccessKeyId"], c["SecretAccessKey"], out["AssumedRoleUser"]["Arn"], token=c["SessionToken"])


def aws_as(server, identity, *args, check=True, region=REGION):
    """The aws CLI with `identity`'s credentials; parsed JSON output, or the process if check=False."""
    proc = subprocess.run(["aws", *args], env=identity.cli_env(server, region), capture_output=True, text=True,
                          timeout=60)
    if not check:
        return proc
    if proc.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    out = proc.stdout.strip()
    if "--output" in args and args[args.index("--output") + 1] == "text":
        return out
    return json.loads(out) if out else {}
