"""What m2sec does when clients, disks and operators misbehave: slow and idle connections, unsigned
large bodies, too many sockets for the open-file limit, SIGTERM while a client holds a half-sent
request, a full disk, a trail with a size limit, services left out of the trail, and the request
forms that Smithy-based SDKs and Vault send (the short CloudTrail target, a presigned STS URL).

Each test drives the real binary over real sockets; timeouts are shortened through M2SEC_* variables
so the suite stays fast.
"""
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import botocore.auth
import botocore.config
import botocore.credentials
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSRequest

from conftest import ACCESS_KEY, BIN, REGION, SECRET_KEY
from e2e_support import JSON_CT, raw_call, send, wait_for

FAST = {
    "M2SEC_HTTP_HEADER_TIMEOUT_SECS": "2",
    "M2SEC_HTTP_BODY_TIMEOUT_SECS": "2",
    "M2SEC_SHUTDOWN_DRAIN_SECS": "2",
}


def connect(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return s


def closed_within(sock, seconds, trickle=None):
    """True when the server closes `sock` within `seconds` (a read returns EOF or the connection is
    reset). `trickle` bytes are sent one per second meanwhile, as a slowloris client does."""
    deadline = time.time() + seconds
    sock.settimeout(0.5)
    trickle = list(trickle or b"")
    while time.time() < deadline:
        try:
            data = sock.recv(65536)
            if data == b"":
                return True
            # A response (408/413/400) before the close counts as being cut off too; keep reading.
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return True
        if trickle:
            try:
                sock.send(bytes([trickle.pop(0)]))
            except (ConnectionResetError, BrokenPipeError):
                return True
            time.sleep(0.5)
    return False


def signed_headers(server, target, body, service="kms", extra=None):
    headers = {"Content-Type": JSON_CT, "X-Amz-Target": target, **(extra or {})}
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=headers)
    creds = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY)
    botocore.auth.SigV4Auth(creds, service, REGION).add_auth(request)
    return request.prepare().headers


def head_bytes(server, headers, content_length):
    lines = [f"POST / HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    for k, v in headers.items():
        if k.lower() not in ("host", "content-length"):
            lines.append(f"{k}: {v}")
    lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def health(server, timeout=2):
    return send("GET", server.endpoint + "/health", timeout=timeout)


# --- connection timeouts --------------------------------------------------------------------------


def test_slowloris_head_is_cut_off(fresh_server):
    s = fresh_server(env=FAST).start()
    sock = connect(s)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
    started = time.time()
    assert closed_within(sock, 8, trickle=b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "a 1-byte/s head was never cut off"
    assert time.time() - started < 6
    assert health(s).status == 200


def test_idle_keep_alive_connection_is_closed(fresh_server):
    s = fresh_server(env=FAST).start()
    sock = connect(s)
    # One complete request, then silence.
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(5)
    assert b"200 OK" in sock.recv(65536)
    assert closed_within(sock, 6), "an idle keep-alive connection stayed open"


def test_slow_body_of_a_signed_request_is_cut_off(fresh_server):
    s = fresh_server(env=FAST).start()
    body = json.dumps({"Limit": 10}).encode() + b" " * 100
    headers = signed_headers(s, "TrentService.ListKeys", body)
    sock = connect(s)
    sock.sendall(head_bytes(s, headers, len(body)))
    sock.sendall(body[:5])
    started = time.time()
    sock.settimeout(0.5)
    received = b""
    trickle = list(body[5:])
    while time.time() - started < 8:
        try:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            break
        if trickle:
            try:
                sock.send(bytes([trickle.pop(0)]))
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.5)
    elapsed = time.time() - started
    assert elapsed < 6, "a 2-byte/s body was never cut off"
    assert received.startswith(b"HTTP/1.1 408"), received[:200]
    assert b"RequestTimeoutException" in received


def test_a_request_in_progress_outlives_the_head_timeout(fresh_server):
    # The head timeout closes connections waiting for a request, never one whose request is being read.
    s = fresh_server(env=FAST | {"M2SEC_HTTP_BODY_TIMEOUT_SECS": "10"}).start()
    body = json.dumps({"Limit": 10}).encode()
    headers = signed_headers(s, "TrentService.ListKeys", body)
    sock = connect(s)
    sock.sendall(head_bytes(s, headers, len(body)))
    for b in body[:-1]:
        sock.sendall(bytes([b]))
        time.sleep(4.0 / len(body))
    sock.sendall(body[-1:])
    sock.settimeout(5)
    received = sock.recv(65536)
    assert received.startswith(b"HTTP/1.1 200"), received[:300]
    assert b"Keys" in received


def test_idle_sockets_beyond_the_file_limit_do_not_stop_health(fresh_server):
    """2,000 idle sockets against a server whose open-file limit is 1,024 (hard): /health still
    answers, the oldest idle connections are closed to make room, and the log says so."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096
    if hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            pytest.skip("cannot raise this test's own open-file limit")
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if shutil.which("prlimit") is None:
        pytest.skip("prlimit not installed")
    s = fresh_server(env={"M2SEC_HTTP_HEADER_TIMEOUT_SECS": "60"})
    s.command_prefix = ["prlimit", "--nofile=1024:1024", "--"]
    original = s.command
    s.command = lambda: s.command_prefix + original()
    s.start()
    socks = []
    try:
        for _ in range(2000):
            try:
                socks.append(socket.create_connection(("127.0.0.1", s.port), timeout=5))
            except OSError:
                break
        assert len(socks) >= 1500
        time.sleep(1)
        for _ in range(5):
            started = time.time()
            r = health(s, timeout=3)
            assert r.status == 200, r
            assert time.time() - started < 3
        r = s.client().list_keys()
        assert "Keys" in r
        assert "connection limit reached" in s.logs()
        # The server never used more descriptors than its limit allowed it to, and it does not spin.
        stat = Path(f"/proc/{s.proc.pid}/stat").read_text().split()
        busy_before = int(stat[13]) + int(stat[14])
        time.sleep(2)
        stat = Path(f"/proc/{s.proc.pid}/stat").read_text().split()
        busy_after = int(stat[13]) + int(stat[14])
        ticks = os.sysconf("SC_CLK_TCK")
        assert (busy_after - busy_before) / ticks < 0.5, "the server spins while at its connection limit"
    finally:
        for sock in socks:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# --- bodies: authenticate before reading -----------------------------------------------------------


def test_unsigned_request_is_refused_before_its_body_is_read(fresh_server):
    s = fresh_server().start()
    sock = connect(s)
    sock.sendall(
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.Encrypt\r\n"
        b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 1048576\r\n\r\n"
    )
    # No body is sent: the answer must not wait for it.
    sock.settimeout(3)
    answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400") or answer.startswith(b"HTTP/1.1 403"), answer[:200]
    assert b"MissingAuthenticationToken" in answer


def test_unsigned_large_bodies_do_not_pin_memory(fresh_server):
    s = fresh_server().start()
    before = rss_kib(s.proc.pid)
    head = (
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.Encrypt\r\n"
        b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 1048576\r\n\r\n"
    )
    chunk = b"A" * 65536

    def flood():
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        try:
            sock.sendall(head)
            for _ in range(16):
                sock.sendall(chunk)
        except OSError:
            pass  # the server closed the connection: exactly what it should do
        finally:
            time.sleep(0.5)
            sock.close()

    threads = [threading.Thread(target=flood) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    time.sleep(1)
    grown_mib = (rss_kib(s.proc.pid) - before) / 1024
    assert grown_mib < 60, f"RSS grew by {grown_mib:.0f} MiB for 200 unsigned 1 MiB bodies"
    assert health(s).status == 200


def test_oversized_content_length_is_refused_before_100_continue(fresh_server):
    s = fresh_server().start()
    body = b"{}"
    headers = signed_headers(s, "TrentService.ListKeys", body)
    sock = connect(s)
    head = head_bytes(s, headers, 2 * 1024 * 1024).replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n")
    sock.sendall(head)
    sock.settimeout(3)
    started = time.time()
    answer = sock.recv(65536)
    assert time.time() - started < 2
    assert not answer.startswith(b"HTTP/1.1 100"), answer[:100]
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"RequestEntityTooLargeException" in answer


def test_oversized_body_of_a_signed_request_is_refused_at_once(fresh_server):
    """The 413 comes as soon as the head is read: the client has sent 64 KiB of its 17 MiB."""
    s = fresh_server().start()
    body = b"{}"
    headers = signed_headers(s, "TrentService.ListKeys", body)
    sock = connect(s)
    sock.sendall(head_bytes(s, headers, 17 * 1024 * 1024))
    sock.sendall(b"A" * 65536)
    sock.settimeout(3)
    answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"connection: close" in answer.lower()


# --- shutdown -------------------------------------------------------------------------------------


def test_sigterm_with_a_half_sent_request_stops_within_the_drain(fresh_server):
    s = fresh_server(env=FAST | {"M2SEC_HTTP_HEADER_TIMEOUT_SECS": "120", "M2SEC_HTTP_BODY_TIMEOUT_SECS": "120"}).start()
    kms = s.client()
    key_id = kms.create_key(Description="before-sigterm")["KeyMetadata"]["KeyId"]
    kms.encrypt(KeyId=key_id, Plaintext=b"x")  # a read: its record is committed after the answer
    half_head = connect(s)
    half_head.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.ListKeys\r\n")
    body = b'{"Limit": 5}'
    half_body = connect(s)
    half_body.sendall(head_bytes(s, signed_headers(s, "TrentService.ListKeys", body), len(body)) + body[:3])
    time.sleep(0.5)
    started = time.time()
    s.proc.send_signal(signal.SIGTERM)
    code = s.proc.wait(timeout=15)
    elapsed = time.time() - started
    assert code == 0, s.logs()
    assert elapsed < 6, f"SIGTERM took {elapsed:.1f}s with a half-sent request"
    logs = s.logs()
    assert "draining" in logs and "m2sec stopped" in logs
    # The trail holds the read made before the signal and ends with a digest that verifies.
    proc = subprocess.run([str(BIN), "trail", "verify", "--data-dir", str(s.data_dir)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    export = subprocess.run([str(BIN), "trail", "export", "--data-dir", str(s.data_dir)], capture_output=True, text=True, timeout=60)
    names = [json.loads(line)["eventName"] for line in export.stdout.splitlines() if line.strip()]
    assert "Encrypt" in names, names
    half_head.close()
    half_body.close()


# --- a full disk ----------------------------------------------------------------------------------


@pytest.fixture
def small_tmpfs():
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = Path(tempfile.mkdtemp(prefix="m2sec-tmpfs-"))
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)
    shutil.rmtree(mount, ignore_errors=True)


def fill(path):
    """Fills the file system of `path` completely; returns the filler file."""
    filler = path / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
        except OSError:
            pass
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def test_full_disk_fails_fast_reports_and_recovers(fresh_server, small_tmpfs):
    s = fresh_server(data_dir=small_tmpfs / "data").start()
    kms = s.client()
    key_id = kms.create_key(Description="before-full")["KeyMetadata"]["KeyId"]
    filler = fill(small_tmpfs)
    client = boto3.client(
        "kms",
        endpoint_url=s.endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(retries={"max_attempts": 1}, read_timeout=10, connect_timeout=5),
    )
    outcomes = []
    for i in range(40):
        started = time.time()
        try:
            if i % 2:
                client.create_key(Description=f"during-full-{i}" + "x" * 4000)
            else:
                client.encrypt(KeyId=key_id, Plaintext=b"y" * 4000)
            outcomes.append(("ok", time.time() - started))
        except botocore.exceptions.ClientError as e:
            outcomes.append((e.response["Error"]["Code"], time.time() - started, e.response["ResponseMetadata"]["HTTPStatusCode"]))
        except botocore.exceptions.ReadTimeoutError:
            outcomes.append(("timeout", time.time() - started))
    assert not [o for o in outcomes if o[0] == "timeout"], outcomes
    assert all(o[1] < 6 for o in outcomes), outcomes
    failures = [o for o in outcomes if o[0] != "ok"]
    assert failures, "no call failed on a full disk"
    assert all(o[2] >= 500 for o in failures), failures
    assert {o[0] for o in failures} <= {"KMSInternalException", "ServiceUnavailableException", "DependencyTimeoutException"}, failures
    try:
        wait_for(lambda: health(s).status == 503, timeout=10, what="/health to report the failure")
    except Exception as e:
        raise AssertionError(f"{e!r}; server exit={s.proc.poll()}; log tail:\n{s.logs()[-3000:]}") from e
    body = health(s).json()
    assert body["status"] == "failing"
    assert "disk" in s.logs().lower() or "full" in s.logs().lower()
    # Space returns: calls succeed again, /health is 200, nothing acknowledged was lost.
    filler.unlink()
    wait_for(lambda: health(s).status == 200, timeout=20, what="/health to recover")

    def works():
        try:
            return client.create_key(Description="after-full")["KeyMetadata"]["KeyId"]
        except botocore.exceptions.ClientError:
            return None

    after = wait_for(works, timeout=20, what="calls to succeed again")
    assert kms.describe_key(KeyId=after)["KeyMetadata"]["Description"] == "after-full"
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "before-full"
    assert s.stop() == 0
    proc = subprocess.run([str(BIN), "trail", "verify", "--data-dir", str(s.data_dir)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the trail's size and its exclusions ----------------------------------------------------------


def test_trail_max_bytes_prunes_the_oldest_records(fresh_server):
    s = fresh_server(env={"M2SEC_TRAIL_MAX_BYTES": "60000", "M2SEC_TRAIL_DIGEST_INTERVAL_SECS": "1"}).start()
    kms = s.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(400):
        kms.encrypt(KeyId=key_id, Plaintext=b"z")

    def pruned():
        # Pruning stops at a digest old enough: calls that keep coming move the chain past one.
        kms.encrypt(KeyId=key_id, Plaintext=b"z")
        export = subprocess.run([str(BIN), "trail", "export", "--data-dir", str(s.data_dir)], capture_output=True, text=True, timeout=60)
        lines = [l for l in export.stdout.splitlines() if l.strip()]
        return len(lines) < 300 and sum(len(l) for l in lines) < 2 * 60000 and lines

    wait_for(pruned, timeout=20, what="the trail to be pruned to its size")
    assert "trail_max_bytes" in s.logs()
    assert s.stop() == 0
    proc = subprocess.run([str(BIN), "trail", "verify", "--data-dir", str(s.data_dir)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_kms_events_can_be_left_out_of_the_trail(fresh_server):
    s = fresh_server(env={"M2SEC_TRAIL_EXCLUDE_EVENT_SOURCES": "kms.amazonaws.com"}).start()
    kms = s.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.encrypt(KeyId=key_id, Plaintext=b"z")
    s.client("ssm").put_parameter(Name="/hardening/p", Value="v", Type="String")
    trail = s.client("cloudtrail")

    def events():
        return trail.lookup_events()["Events"]

    wait_for(lambda: any(e["EventName"] == "PutParameter" for e in events()), what="the SSM call to be recorded")
    names = {e["EventName"] for e in events()}
    assert not names & {"CreateKey", "Encrypt"}, names
    assert "calls to these services are not recorded" in s.logs()


# --- request forms of other clients ----------------------------------------------------------------


def test_short_cloudtrail_target_of_smithy_sdks(server):
    r = raw_call(server.endpoint, "CloudTrail_20131101.LookupEvents", b'{"MaxResults": 1}', service="cloudtrail")
    assert r.status == 200, r
    assert "Events" in r.json()
    long_form = raw_call(
        server.endpoint, "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", b'{"MaxResults": 1}', service="cloudtrail"
    )
    assert long_form.status == 200, long_form


def test_presigned_sts_get_caller_identity(server):
    sts = server.client("sts")
    # The GET form, as EKS tokens and aws-iam-authenticator presign it.
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    assert "X-Amz-Signature=" in url
    r = send("GET", url)
    assert r.status == 200, r
    root = ET.fromstring(r.body)
    ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
    assert root.tag.endswith("GetCallerIdentityResponse")
    arn = root.find(".//s:Arn", ns).text
    assert arn == sts.get_caller_identity()["Arn"]
    # botocore's default presigns the operation's own method, POST, with an empty body.
    r = send("POST", sts.generate_presigned_url("get_caller_identity", ExpiresIn=60))
    assert r.status == 200, r
    # A URL signed for POST is not good for GET.
    r = send("GET", sts.generate_presigned_url("get_caller_identity", ExpiresIn=60))
    assert r.status == 403 and b"SignatureDoesNotMatch" in r.body, r
    # A tampered presigned URL is refused the STS way.
    bad = url.replace("Action=GetCallerIdentity", "Action=GetCallerIdentity&Extra=1")
    r = send("GET", bad)
    assert r.status == 403, r
    assert b"SignatureDoesNotMatch" in r.body
