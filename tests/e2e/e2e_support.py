"""Helpers shared by the lifecycle, auth, protocol and scheduler end-to-end tests.

- `raw_call`: one awsJson1.1 request sent with urllib, signed by botocore's own SigV4 signers
  (`SigV4Auth` for the Authorization header, `SigV4QueryAuth` for the presigned query string).
- `Launch`: a `Server` whose command line is chosen by the test (to exercise `--config`,
  `M2SEC_LISTEN`, ... without the harness's `--listen`/`--data-dir`).
- `wait_for`, `set_key_column`, `data_dir_bytes`: polling and data-dir inspection.
"""
import datetime
import json
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import botocore.auth
import botocore.credentials
from botocore.awsrequest import AWSRequest

from conftest import ACCESS_KEY, BIN, REGION, SECRET_KEY, Server

JSON_CT = "application/x-amz-json-1.1"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else {}

    @property
    def error_type(self):
        return self.json().get("__type")

    def __repr__(self):
        return f"Response({self.status}, {self.body[:300]!r})"


def send(method, url, body=b"", headers=None, timeout=5):
    """Sends exactly these headers and body with urllib; returns a `Response` (also for 4xx/5xx)."""
    req = urllib.request.Request(url, data=body if body else None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())


def raw_call(
    endpoint,
    target="TrentService.ListKeys",
    body=b"{}",
    *,
    access_key=ACCESS_KEY,
    secret_key=SECRET_KEY,
    token=None,
    region=REGION,
    service="kms",
    sign=True,
    presign=False,
    at=None,
    extra_headers=None,
    tamper_body=None,
    timeout=5,
):
    """One POST / with the awsJson1.1 headers, signed by botocore (unless `sign=False`).

    `at` (a UTC datetime) signs with that timestamp instead of now, by patching botocore's clock.
    `presign=True` uses the query-string form (botocore moves a JSON body into the query, so the
    body sent is empty). `tamper_body` is sent instead of the body that was signed.
    """
    headers = {"Content-Type": JSON_CT}
    if target is not None:
        headers["X-Amz-Target"] = target
    headers.update(extra_headers or {})
    request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    if sign:
        creds = botocore.credentials.Credentials(access_key, secret_key, token)
        signer = (botocore.auth.SigV4QueryAuth if presign else botocore.auth.SigV4Auth)(creds, service, region)
        if at is not None:
            with mock.patch.object(botocore.auth, "get_current_datetime", return_value=at):
                signer.add_auth(request)
        else:
            signer.add_auth(request)
    prepared = request.prepare()
    data = prepared.body
    if isinstance(data, str):
        data = data.encode()
    if tamper_body is not None:
        data = tamper_body
    return send("POST", prepared.url, data or b"", dict(prepared.headers.items()), timeout=timeout)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def wait_for(predicate, timeout=8.0, interval=0.1, what="condition"):
    """Polls `predicate` until it returns a truthy value; fails after `timeout` seconds."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except AssertionError as e:  # a predicate may assert; keep polling
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def set_key_column(data_dir, key_id, column, value):
    """Sets one column of a KMS key row in DATA_DIR/m2sec.db (server stopped)."""
    assert column in {"deletion_date", "next_rotation_at"}
    with sqlite3.connect(Path(data_dir) / "m2sec.db") as db:
        n = db.execute(f"UPDATE kms_keys SET {column} = ? WHERE key_id = ?", (value, key_id)).rowcount
    db.close()
    assert n == 1, f"key {key_id} not found in the store"


def now_ms():
    return int(time.time() * 1000)


def data_dir_bytes(data_dir):
    """Every file under the data dir: path -> bytes."""
    return {p: p.read_bytes() for p in Path(data_dir).rglob("*") if p.is_file()}


class Launch(Server):
    """A `Server` started with exactly `argv` after `m2sec serve` (no implicit --listen/--data-dir).

    `port` is where the test configured it to listen (health is polled there).
    """

    def __init__(self, argv, port, data_dir=None, env=None, admin=True, cwd=None):
        super().__init__(data_dir=data_dir, env=env, admin=admin)
        self.argv = list(argv)
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.cwd = cwd

    def command(self):
        return [str(BIN), "serve", *self.argv]
