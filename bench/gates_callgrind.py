#!/usr/bin/env python3
"""User-space instructions per ticket verification under valgrind's callgrind.

  python3 bench/gates_callgrind.py [SCANS]     # default 400; M2SEC_BIN selects the binary

Sets up what bench/gates.py sets up (the example serverless.yml deployed, a steward, one match and
SCANS tickets issued in bulk) on a normal run of the binary, stops it, and starts it again on the
same data dir under `valgrind --tool=callgrind`. Then, on one keep-alive HTTPS connection through the
edge: 20 warm-up scans, counters zeroed, every ticket scanned once (each an `ok` entry: a conditional
update, a scans item and an audit item, committed before the answer) and once more (each an
`already_redeemed`), counters dumped. Prints instructions and allocations per scan, summed over all
threads (the item writer's, the sync's and the checkpoint's included); `callgrind_annotate
--inclusive=yes DUMP` shows where they go. The kernel's share (reads of pages, writes, syncs) is not
counted. Crypto runs under valgrind without the CPU's SHA and wide-multiply instructions, so the
ECDSA verification and TLS records are overstated. Needs valgrind.
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))

import callgrind as C  # noqa: E402
import gates_support as G  # noqa: E402
from gates import MATCH, TmpFactory, set_up  # noqa: E402

SCANS = int(sys.argv[1]) if len(sys.argv) > 1 else 400
OUT = HERE / "out" / "gates_callgrind"


def connect(ctx):
    tls = ssl.create_default_context(cafile=ctx.root_pem)
    conn = http.client.HTTPSConnection(G.HOST, ctx.https_port, context=tls, timeout=300)
    sock = socket.create_connection(("127.0.0.1", ctx.https_port), timeout=300)
    conn.sock = tls.wrap_socket(sock, server_hostname=G.HOST)
    return conn


def scan(conn, token, code, expected):
    body = json.dumps({"code": code, "match_id": MATCH, "gate": "G1", "device": "callgrind",
                       "direction": "entry", "scanned_at": int(time.time()), "nonce": uuid.uuid4().hex})
    conn.request("POST", "/tickets/verify", body=body,
                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    if resp.status != 200 or data.get("result") != expected:
        sys.exit(f"scan: expected {expected}, got {resp.status} {data}")


def main():
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="m2sec-gates-callgrind-"))
    ctx = G.start(TmpFactory(work))
    server = ctx.server
    try:
        _, steward, codes, _ = set_up(ctx, SCANS + 20, "cg-steward")
        server.stop()
        plain = server.command
        server.command = lambda: ["valgrind", "--tool=callgrind", f"--callgrind-out-file={OUT}/callgrind.out.%p",
                                  *plain()]
        server.start(timeout=180)
        pid = server.proc.pid
        conn = connect(ctx)
        for c in codes[:20]:
            scan(conn, steward, c, "ok")
        subprocess.run(["callgrind_control", "--zero", str(pid)], check=True, capture_output=True)
        for c in codes[20:]:
            scan(conn, steward, c, "ok")
        for c in codes[20:]:
            scan(conn, steward, c, "already_redeemed")
        subprocess.run(["callgrind_control", "--dump", str(pid)], check=True, capture_output=True)
        conn.close()
        dumps = sorted((p for p in os.listdir(OUT) if p.startswith(f"callgrind.out.{pid}.")),
                       key=lambda p: int(p.rsplit(".", 1)[1]))
        total, allocs = C.parse_dump(OUT / dumps[-1])
        n = 2 * SCANS
        print(f"dump: {OUT / dumps[-1]}")
        print(f"{n} scans (half ok, half already_redeemed): {total / n / 1000:.0f} k instructions/scan, "
              f"{(allocs['malloc'] + allocs['calloc']) / n:.0f} allocations/scan "
              f"(+{allocs['realloc'] / n:.0f} reallocs)")
    finally:
        server.stop(timeout=120)
        server.cleanup() if hasattr(server, "cleanup") else None
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
