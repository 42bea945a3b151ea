"""End-to-end harness: starts the real m2sec binary and drives it with the real aws CLI and boto3.

Every server gets its own data dir and a free port. The binary is the release build
(target/release/m2sec, or $M2SEC_BIN); scripts/test builds it first.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("M2SEC_BIN", ROOT / "target" / "release" / "m2sec"))
ACCESS_KEY = "AKIAM2SECTESTADMIN01"
SECRET_KEY = "m2sec-test-admin-secret-key-0123456789ab"
REGION = "eu-west-1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true the suite's command has installed every tool and service a test needs, so a test
    that skips itself (a missing tool, an unset database URL) fails instead of passing silently."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where nothing may be missing: {reason}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One m2sec process. `start()` waits for /health; `stop()` sends SIGTERM; `kill()` sends SIGKILL."""

    def __init__(self, data_dir=None, env=None, args=(), admin=True):
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="m2sec-e2e-"))
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("M2SEC_") and k != "M2SEC_BIN":
                del self.env[k]
        if admin:
            self.env["M2SEC_ADMIN_ACCESS_KEY_ID"] = ACCESS_KEY
            self.env["M2SEC_ADMIN_SECRET_ACCESS_KEY"] = SECRET_KEY
        self.env["M2SEC_LOG"] = "info,sqlx=warn"
        # Servers of the suite run side by side: no DNS server unless a test asks for one.
        self.env["M2SEC_DNS_LISTEN"] = "off"
        self.env.update(env or {})
        self.args = list(args)
        self.proc = None
        self.stdout = self.data_dir.parent / f"{self.data_dir.name}.stdout"
        self.stderr = self.data_dir.parent / f"{self.data_dir.name}.stderr"

    def command(self):
        return [str(BIN), "serve", "--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{self.port}", *self.args]

    def start(self, timeout=20, expect_exit=False):
        self.proc = subprocess.Popen(
            self.command(),
            env=self.env,
            cwd=getattr(self, "cwd", None),
            stdout=open(self.stdout, "w"),
            stderr=open(self.stderr, "w"),
        )
        if expect_exit:
            self.proc.wait(timeout=timeout)
            return self.proc.returncode
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"m2sec exited with {self.proc.returncode}: {self.logs()}")
            try:
                with urllib.request.urlopen(self.endpoint + "/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"m2sec did not become healthy: {self.logs()}")

    def logs(self):
        out = self.stdout.read_text() if self.stdout.exists() else ""
        err = self.stderr.read_text() if self.stderr.exists() else ""
        return out + err

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        return self.proc.returncode if self.proc else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self, **kw):
        self.stop()
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        return self.start(**kw)

    def client(self, service="kms", region=REGION, access_key=ACCESS_KEY, secret_key=SECRET_KEY, validate=True, **kw):
        """A boto3 client; `validate=False` sends values botocore itself would refuse, so the server judges them."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=botocore.config.Config(retries={"max_attempts": 1}, parameter_validation=validate),
            **kw,
        )

    def cli_env(self, region=REGION):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_DEFAULT_REGION=region,
            AWS_MAX_ATTEMPTS="1",
            AWS_PAGER="",
        )
        return env

    def aws(self, *args, check=True, region=REGION, input=None):
        """Runs the real aws CLI; returns parsed JSON output (or text with --output text)."""
        proc = subprocess.run(
            ["aws", *args], env=self.cli_env(region), capture_output=True, text=True, input=input, timeout=60
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        if not check:
            return proc
        out = proc.stdout.strip()
        if "--output" in args and args[args.index("--output") + 1] == "text":
            return out
        return json.loads(out) if out else {}

    def bash(self, script, check=True):
        """Runs a bash snippet (for the seed's process-substitution commands) with the CLI environment."""
        proc = subprocess.run(["bash", "-c", script], env=self.cli_env(), capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"bash failed ({proc.returncode}): {proc.stderr}")
        return proc

    def cleanup(self):
        """Kills the process and removes its data dir and its log files (a benchmark's access log
        alone runs to hundreds of megabytes)."""
        self.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        for log in (self.stdout, self.stderr):
            log.unlink(missing_ok=True)


def expect_error(code, fn, status=None, **kwargs):
    """Calls fn(**kwargs); asserts it fails with AWS error `code` (and HTTP `status` if given); returns the message."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kwargs)
    response = e.value.response
    assert response["Error"]["Code"] == code, response
    if status is not None:
        assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    return response["Error"].get("Message", "")


def unchecked(server, region=REGION, service="kms"):
    """A client without botocore's own parameter validation."""
    return server.client(service, region=region, validate=False)


@pytest.fixture(scope="session")
def server():
    """One shared server for tests that do not restart it."""
    s = Server().start()
    yield s
    s.stop()
    s.cleanup()


@pytest.fixture
def fresh_server():
    """A server of the test's own (for restarts, kills, config); started by the test."""
    servers = []

    def make(**kw):
        s = Server(**kw)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.cleanup()


@pytest.fixture
def kms(server):
    return server.client("kms")


@pytest.fixture
def kms_us(server):
    return server.client("kms", region="us-east-1")
