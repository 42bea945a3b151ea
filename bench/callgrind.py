#!/usr/bin/env python3
"""Per-request cost of m2sec's request path under valgrind's callgrind: user-space instructions and
heap allocations per request, for variants of one request that stop at successive points of the path.

  python3 bench/callgrind.py [BINARY] [REQUESTS]     # defaults: target/release/m2sec, 2000

Starts BINARY under `valgrind --tool=callgrind` on a free 127.0.0.1 port (fresh temp data dir), creates
the benchmark's key, alias and parameter (bench.py setup), then for each variant sends 100 warm-up
requests, zeroes the counters, sends REQUESTS identical requests on one keep-alive connection (each must
get the expected status), and dumps the counters. Instructions (Ir) and calls to malloc/calloc/realloc
are summed over all threads and divided by REQUESTS. Dumps stay in bench/out/callgrind/.
Takes about a minute; the counts do not depend on other load on the machine. Needs valgrind
(`apt-get install valgrind`) and a release build (`cargo build --release`).
"""
import http.client
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

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

ALLOC_FNS = ("malloc", "calloc", "realloc")
# Rust's allocations go to its global allocator (mimalloc in m2sec), not through malloc: counted as
# the C calls they stand for.
RUST_ALLOC_FNS = {
    "__rustc::__rust_alloc": "malloc",
    "__rustc::__rust_alloc_zeroed": "calloc",
    "__rustc::__rust_realloc": "realloc",
}


def signed(endpoint, service, target, body, path="/"):
    prefix, signing_name = bench.SERVICES[service]
    request = AWSRequest(
        method="POST",
        url=endpoint + "/",
        data=body,
        headers={"Content-Type": bench.CONTENT_TYPE, "X-Amz-Target": f"{prefix}.{target}"},
    )
    SigV4Auth(bench.credentials(), signing_name, bench.REGION).add_auth(request)
    headers = dict(request.headers.items())
    headers["Host"] = endpoint.split("//", 1)[1]
    return path, headers, request.body


def variants(endpoint, state):
    enc_body = bench.body_for("Encrypt", state)
    enc = signed(endpoint, "kms", "Encrypt", enc_body)
    unknown_prefix = (enc[0], {**enc[1], "X-Amz-Target": "NoSuchService.Encrypt"}, enc[2])
    sig = enc[1]["Authorization"]
    wrong_sig = (enc[0], {**enc[1], "Authorization": sig[:-1] + ("0" if sig[-1] != "0" else "1")}, enc[2])
    return [
        ("no-op route (Encrypt's headers/body)", (("/_m2sec/noop",) + enc[1:]), 200),
        ("`/`, unknown target prefix", unknown_prefix, 400),
        ("`/`, wrong signature", wrong_sig, 400),
        ("`/`, valid signature, unknown operation", signed(endpoint, "kms", "NoSuchOperation", enc_body), 400),
        ("Encrypt", enc, 200),
        ("Decrypt", signed(endpoint, "kms", "Decrypt", bench.body_for("Decrypt", state)), 200),
        ("SSM GetParameter, WithDecryption", signed(endpoint, "ssm", "GetParameter", bench.body_for("GetParameter", state)), 200),
    ]


def send(conn, request, status, count):
    path, headers, body = request
    for _ in range(count):
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != status:
            sys.exit(f"{path}: expected {status}, got {resp.status}: {data[:200]!r}")


def parse_dump(path):
    """Total Ir and the number of calls to the allocation functions (C's and Rust's) in one callgrind
    dump."""
    names, total, allocs, current_cfn = {}, 0, {f: 0 for f in ALLOC_FNS}, None
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
            m = re.match(r"c?fn=(?:\((\d+)\))?\s*(.*)", line)
            if m:
                fid, name = m.group(1), m.group(2).strip()
                if fid and name:
                    names[fid] = name
                name = name or names.get(fid)
                current_cfn = name if line.startswith("cfn=") else None
                continue
            counted = RUST_ALLOC_FNS.get(current_cfn, current_cfn)
            if line.startswith("calls=") and counted in ALLOC_FNS:
                allocs[counted] += int(line.split("=")[1].split()[0])
                current_cfn = None
    return total, allocs


class Callgrind:
    """BINARY serving on a free 127.0.0.1 port under `valgrind --tool=callgrind` (a fresh temp data
    dir, the admin keys of `env`), its dumps in `out`; stopped (SIGTERM) on leaving the `with`."""

    def __init__(self, binary, out, env):
        if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
            sys.exit("valgrind is not installed (apt-get install valgrind)")
        if not os.path.exists(binary):
            sys.exit(f"{binary} does not exist (cargo build --release)")
        self.binary, self.out, self.env = binary, str(out), env
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.data_dir = tempfile.mkdtemp(prefix="m2sec-callgrind.")
        log = open(os.path.join(self.out, "m2sec.log"), "w")
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={self.out}/callgrind.out.%p", self.binary,
             "serve", "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}"],
            stdout=log, stderr=subprocess.STDOUT, env=self.env,
        )
        deadline = time.time() + 120
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", self.port, timeout=5).request("GET", "/health")
                return self
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.__exit__(None, None, None)
                    sys.exit(f"m2sec did not start under valgrind (see {self.out}/m2sec.log)")
                time.sleep(0.5)

    def measure(self, request, status, n, warmup=100):
        """Instructions and allocation calls (C's and Rust's) of all threads while `n` copies of
        `request` are served on one keep-alive connection, after `warmup` more."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        send(conn, request, status, warmup)
        subprocess.run(["callgrind_control", "--zero", str(self.proc.pid)], check=True, capture_output=True)
        send(conn, request, status, n)
        subprocess.run(["callgrind_control", "--dump", str(self.proc.pid)], check=True, capture_output=True)
        conn.close()
        dumps = sorted(
            (p for p in os.listdir(self.out) if p.startswith(f"callgrind.out.{self.proc.pid}.")),
            key=lambda p: int(p.rsplit(".", 1)[1]),
        )
        return parse_dump(os.path.join(self.out, dumps[-1]))

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def table(rows):
    """The Markdown table of (name, instructions, allocations, reallocations) per request."""
    lines = ["| request | instructions/req | allocations/req |", "|---|---:|---:|"]
    for name, ir, a, r in rows:
        lines.append(f"| {name} | {ir / 1000:.0f} k | {a:.0f}{f' (+{r:.0f} reallocs)' if r >= 0.5 else ''} |")
    return "\n".join(lines)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "target/release/m2sec")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    out = os.path.join(root, "bench/out/callgrind")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    os.environ.setdefault("BENCH_ACCESS_KEY_ID", "AKIAM2SECBENCHADMIN01")
    os.environ.setdefault("BENCH_SECRET_ACCESS_KEY", "m2sec-bench-admin-secret-0123456789abcdef")
    env = dict(
        os.environ,
        M2SEC_ADMIN_ACCESS_KEY_ID=os.environ["BENCH_ACCESS_KEY_ID"],
        M2SEC_ADMIN_SECRET_ACCESS_KEY=os.environ["BENCH_SECRET_ACCESS_KEY"],
        M2SEC_LOG="info,sqlx=warn",
    )
    with Callgrind(binary, out, env) as server:
        state_path = os.path.join(out, "state.json")
        bench.setup(server.endpoint, state_path)
        with open(state_path) as f:
            state = json.load(f)
        rows = []
        for name, request, status in variants(server.endpoint, state):
            total, allocs = server.measure(request, status, n)
            rows.append((name, total / n, allocs["malloc"] / n + allocs["calloc"] / n, allocs["realloc"] / n))
            print(f"  {name}: {total / n / 1000:.1f} k Ir/req, {allocs}", file=sys.stderr)
        print(table(rows).replace("| request |", "| request (same headers/body) |", 1))


if __name__ == "__main__":
    main()
