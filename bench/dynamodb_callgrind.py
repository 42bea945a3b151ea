#!/usr/bin/env python3
"""User-space instructions and heap allocations per DynamoDB request, under valgrind's callgrind: a
count that does not move with the machine's load, for comparing two builds of the item paths.

  python3 bench/dynamodb_callgrind.py [BINARY] [REQUESTS]     # defaults: target/release/m2sec, 1000

Starts BINARY under `valgrind --tool=callgrind` (fresh temp data dir), makes the table of
bench/dynamodb.py (`bench-items`, under a customer KMS key, its 100-item partition and its items), then
per case sends 50 warm-up requests, zeroes the counters, sends REQUESTS identical signed requests on one
keep-alive connection (each must answer 200) and dumps the counters. Instructions and allocations are
summed over all threads (the item writer's, the trail's and the checkpoint's included) and divided by
REQUESTS. Cases: GetItem, Query of 100 items, PutItem and conditional UpdateItem of one item. Takes a few
minutes; needs valgrind and a release build.
"""
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))
import callgrind as C  # noqa: E402  (dump parsing, sending)
import dynamodb as D  # noqa: E402  (the table, its items and the signed requests)
from conftest import ACCESS_KEY, SECRET_KEY, free_port  # noqa: E402

CASES = ["get-item", "query", "put-item", "update-item"]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(HERE.parent / "target/release/m2sec")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    out = HERE / "out" / "dynamodb_callgrind"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="m2sec-ddb-callgrind.")
    env = {k: v for k, v in os.environ.items() if not k.startswith("M2SEC_")}
    env.update(M2SEC_ADMIN_ACCESS_KEY_ID=ACCESS_KEY, M2SEC_ADMIN_SECRET_ACCESS_KEY=SECRET_KEY,
               M2SEC_LOG="info,sqlx=warn", M2SEC_DNS_LISTEN="off", M2SEC_HTTPS_LISTEN="off")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out.%p", binary, "serve",
         "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}"],
        stdout=open(out / "m2sec.log", "w"), stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.time() + 120
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=5).request("GET", "/health")
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    sys.exit(f"m2sec did not start under valgrind (see {out}/m2sec.log)")
                time.sleep(0.5)
        D.setup_kms_key(endpoint)
        D.setup_table(endpoint, {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": D.KMS_ALIAS})
        rows = []
        for case in CASES:
            headers, body = D.signed(case, endpoint)
            request = ("/", headers, body)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            C.send(conn, request, 200, 50)
            subprocess.run(["callgrind_control", "--zero", str(proc.pid)], check=True, capture_output=True)
            C.send(conn, request, 200, n)
            subprocess.run(["callgrind_control", "--dump", str(proc.pid)], check=True, capture_output=True)
            conn.close()
            dumps = sorted((p for p in os.listdir(out) if p.startswith(f"callgrind.out.{proc.pid}.")),
                           key=lambda p: int(p.rsplit(".", 1)[1]))
            total, allocs = C.parse_dump(out / dumps[-1])
            rows.append((case, total / n, (allocs["malloc"] + allocs["calloc"]) / n, allocs["realloc"] / n))
            print(f"  {case}: {total / n / 1000:.1f} k Ir/req, {allocs}", file=sys.stderr)
        print("| request | instructions/req | allocations/req |")
        print("|---|---:|---:|")
        for case, ir, a, r in rows:
            print(f"| {case} | {ir / 1000:.0f} k | {a:.0f}{f' (+{r:.0f} reallocs)' if r >= 0.5 else ''} |")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
