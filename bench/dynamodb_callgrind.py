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
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))
import callgrind as C  # noqa: E402  (the server under callgrind, its counts and their table)
import dynamodb as D  # noqa: E402  (the table, its items and the signed requests)
from conftest import ACCESS_KEY, SECRET_KEY  # noqa: E402

CASES = ["get-item", "query", "put-item", "update-item"]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(HERE.parent / "target/release/m2sec")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    out = HERE / "out" / "dynamodb_callgrind"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("M2SEC_")}
    env.update(M2SEC_ADMIN_ACCESS_KEY_ID=ACCESS_KEY, M2SEC_ADMIN_SECRET_ACCESS_KEY=SECRET_KEY,
               M2SEC_LOG="info,sqlx=warn", M2SEC_DNS_LISTEN="off", M2SEC_HTTPS_LISTEN="off")
    with C.Callgrind(binary, out, env) as server:
        D.setup_kms_key(server.endpoint)
        D.setup_table(server.endpoint, {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": D.KMS_ALIAS})
        rows = []
        for case in CASES:
            headers, body = D.signed(case, server.endpoint)
            total, allocs = server.measure(("/", headers, body), 200, n, warmup=50)
            rows.append((case, total / n, (allocs["malloc"] + allocs["calloc"]) / n, allocs["realloc"] / n))
            print(f"  {case}: {total / n / 1000:.1f} k Ir/req, {allocs}", file=sys.stderr)
        print(C.table(rows))


if __name__ == "__main__":
    main()
