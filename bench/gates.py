#!/usr/bin/env python3
"""Ticket verification end to end: `POST /tickets/verify` over HTTPS keep-alive through m2sec's edge,
with durable decisions, against the edge's own MOCK route in the same run.

Set-up (not timed): one m2sec (release binary, SQLite, trail on) with the example serverless.yml
deployed as the tests deploy it (tests/e2e/gates_support.py), a steward's token, one match and TICKETS
tickets issued through `POST /tickets/bulk`. Then wrk (`-t THREADS -c CONNECTIONS`, BENCH_WARMUP s
warm-up, then SECONDS with --latency) replays, per wrk thread, its own slice of the tickets round robin,
each request with a fresh nonce: the first scan of a ticket is an `ok` entry (a conditional UpdateItem,
a scans item and an audit item, all committed before the answer), a later one is `already_redeemed`.
The split is read from `GET /security/metrics` afterwards. The baseline is the CORS preflight of the
same path (`OPTIONS /tickets/verify`, a MOCK integration): TLS, routing and the edge, no function.

wrk resolves api.fanops.com through a private mount namespace (`unshare -m` over a bind-mounted
/etc/hosts); the machine's own file is not touched.

Usage: python3 bench/gates.py [SECONDS]   (M2SEC_BIN selects the binary; output in bench/out/gates/)
Env: BENCH_SECONDS (10), BENCH_WARMUP (2), BENCH_THREADS (2), BENCH_CONNECTIONS (16),
     BENCH_GATES_TICKETS (20000).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(HERE))

import bench as B  # noqa: E402
import gates_support as G  # noqa: E402

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
TICKETS = int(os.environ.get("BENCH_GATES_TICKETS", "20000"))
OUT = HERE / "out" / "gates"
MATCH = "BENCH-M1"


class TmpFactory:
    """What gates_support.start needs of pytest's tmp_path_factory."""

    def __init__(self, base):
        self.base = Path(base)

    def mktemp(self, name):
        d = self.base / name
        d.mkdir(parents=True, exist_ok=True)
        return d


def lua_script(codes_path, token, now):
    return f"""
local codes = dofile("{codes_path}")
local threads = {THREADS}
local counter = 0
local first, span, i = 0, 0, 0
-- `tid` is a global: each wrk thread's copy is set by setup().
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  span = math.floor(#codes / threads)
  first = tid * span
  math.randomseed(os.time() * 100 + tid)
end
function request()
  i = i + 1
  local code = codes[first + (i % span) + 1]
  local body = '{{"code":"' .. code .. '","match_id":"{MATCH}","gate":"G1","device":"bench-' .. tid ..
    '","direction":"entry","scanned_at":{now},"nonce":"n' .. tid .. '-' .. i .. '-' .. math.random(1e9) .. '"}}'
  return wrk.format("POST", "/tickets/verify", {{["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer {token}"}}, body)
end
"""


def set_up(ctx, tickets, username="bench-steward"):
    """A steward, the match MATCH and `tickets` tickets issued in bulk: (admin token, steward token, codes,
    seconds the issuing took)."""
    admin = G.admin_token(ctx)
    code, body = G.call(ctx, "POST", "/users", {"username": username, "password": "bench-password-1",
                                                 "role": "steward"}, token=admin)
    assert code == 201, body
    steward = G.login(ctx, username, "bench-password-1")[1]["token"]
    kickoff = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    code, body = G.call(ctx, "POST", "/matches", {"match_id": MATCH, "stadium": "Grand Stade de Tanger",
                                                  "kickoff": kickoff, "gates": ["G1"], "sectors": {"A": ["G1"]},
                                                  "reentry": False}, token=admin)
    assert code == 201, body
    started = time.monotonic()
    codes = []
    while len(codes) < tickets:
        n = min(5000, tickets - len(codes))
        csv = "match_id,sector,seat\n" + "".join(f"{MATCH},A,{len(codes) + i}\n" for i in range(n))
        code, body = G.call(ctx, "POST", "/tickets/bulk", csv, token=admin, content_type="text/csv")
        assert code == 201, body
        codes += [t["code"] for t in body["tickets"]]
    return admin, steward, codes, time.monotonic() - started


def run_wrk(hosts, url, extra, dest, server_pid):
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10s", "--latency", *extra, url]
    inner = " ".join(f"'{c}'" for c in cmd)
    if WARMUP:
        warm = [c if not c.startswith("-d") else f"-d{WARMUP}s" for c in cmd]
        subprocess.run(["unshare", "-m", "sh", "-c",
                        f"mount --bind {hosts} /etc/hosts && exec " + " ".join(f"'{c}'" for c in warm)],
                       capture_output=True, timeout=WARMUP + 60)
    failed = B.measure(server_pid, str(dest), ["unshare", "-m", "sh", "-c",
                                                f"mount --bind {hosts} /etc/hosts && exec {inner}",
                                                f"-d{SECONDS}s"])
    text = Path(dest).read_text()
    return B.parse_wrk(text), failed


def main():
    for tool in ("wrk", "unshare", "curl"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            raise SystemExit(f"{tool} is needed")
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="m2sec-bench-gates-"))
    ctx = G.start(TmpFactory(work))
    server = ctx.server
    try:
        admin, steward, codes, issue_s = set_up(ctx, TICKETS)
        codes_path = work / "codes.lua"
        codes_path.write_text("return {" + ",".join(f'"{c}"' for c in codes) + "}\n")
        script = work / "verify.lua"
        script.write_text(lua_script(codes_path, steward, int(time.time())))
        hosts = work / "hosts"
        hosts.write_text("127.0.0.1 localhost\n127.0.0.1 api.fanops.com\n")
        base = f"https://api.fanops.com:{ctx.https_port}/tickets/verify"
        pid = server.proc.pid
        B.wait_quiet(float(os.environ.get("BENCH_QUIET_WAIT", "60")))
        mock, mock_failed = run_wrk(hosts, base, ["-s", str(write_options(work))], OUT / "mock.txt", pid)
        verify, verify_failed = run_wrk(hosts, base, ["-s", str(script)], OUT / "verify.txt", pid)
        metrics = G.call(ctx, "GET", "/security/metrics", token=admin)[1]
        gate = metrics["matches"][MATCH]["gates"]["G1"]
        cpu = {name: json.loads(Path(f"{OUT / name}.txt.cpu.json").read_text()) for name in ("mock", "verify")}
        rows = [("OPTIONS (MOCK preflight)", mock, cpu["mock"]), ("POST /tickets/verify", verify, cpu["verify"])]
        print(f"tickets issued: {len(codes)} in {issue_s:.1f} s ({len(codes) / issue_s:.0f}/s, bulk CSV)")
        print("| route | req/s | p50 | p99 | ÷ MOCK | non-2xx | CPU server / wrk / other (cores) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, r, c in rows:
            print(f"| {name} | {r['rps']:,.0f} | {B.fmt_ms(r['p50_ms'])} | {B.fmt_ms(r['p99_ms'])} | "
                  f"{r['rps'] / mock['rps']:.2f} | {r['non2xx']} | {c['server_cores']} / {c['wrk_cores']} / {c['other_cores']} |")
        print(f"decisions during the run (metrics): scans {gate['scans']}, ok {gate['ok']}, "
              f"reasons {json.dumps(gate['reasons'])}, decision p50 {gate.get('p50_ms')} ms, p99 {gate.get('p99_ms')} ms")
        met = verify["rps"] >= 5000 and verify["p99_ms"] <= 20
        print(f"target ≥ 5,000/s with p99 ≤ 20 ms: {'met' if met else 'not met'}")
        if mock_failed or verify_failed or verify["non2xx"] or mock["non2xx"]:
            raise SystemExit("a run had errors (see bench/out/gates/)")
    finally:
        server.stop()
        server.cleanup()


def write_options(work):
    path = work / "options.lua"
    path.write_text('wrk.method = "OPTIONS"\n')
    return path


if __name__ == "__main__":
    main()
