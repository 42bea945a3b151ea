#!/usr/bin/env python3
"""Encrypt throughput of two m2sec builds, measured alternately in one run (the machine is shared and
noisy: only the ratio of runs made side by side means anything).

  python3 bench/compare_builds.py BIN_BEFORE BIN_AFTER [ROUNDS] [SECONDS] [CASE]

Starts both binaries on free 127.0.0.1 ports with their own data dirs (trail on, default settings),
sets each up with `bench.py setup`, signs Encrypt with `bench.py sign` and replays it with
`wrk -t2 -c16` for SECONDS (default 8) after a 2 s warm-up, alternating BEFORE and AFTER for ROUNDS
(default 4). CASE is one of `bench.py cases` (default m2sec-encrypt; m2sec-noop measures HTTP alone).
Prints each round's req/s and the AFTER/BEFORE ratio, then the mean ratio.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACCESS = "AKIAM2SECBENCHADMIN01"
SECRET = "m2sec-bench-admin-secret-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, tmp, name):
    port = free_port()
    env = dict(os.environ, M2SEC_ADMIN_ACCESS_KEY_ID=ACCESS, M2SEC_ADMIN_SECRET_ACCESS_KEY=SECRET,
               M2SEC_LOG="warn", M2SEC_DNS_LISTEN="off")
    proc = subprocess.Popen([binary, "serve", "--data-dir", f"{tmp}/{name}", "--listen", f"127.0.0.1:{port}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/{name}.log", "w"))
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{binary} did not start: {Path(tmp, name + '.log').read_text()}")


def wrk(lua, url, seconds):
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", lua, url], capture_output=True, text=True,
                         check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    before, after = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    seconds = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    case = sys.argv[5] if len(sys.argv) > 5 else "m2sec-encrypt"
    tmp = tempfile.mkdtemp(prefix="m2sec-ab-")
    procs = []
    try:
        servers = {}
        for name, binary in (("before", before), ("after", after)):
            proc, url = start(binary, tmp, name)
            procs.append(proc)
            state = f"{tmp}/{name}-state.json"
            subprocess.run([sys.executable, HERE / "bench.py", "setup", url, state], check=True,
                           env=dict(os.environ, BENCH_ACCESS_KEY_ID=ACCESS, BENCH_SECRET_ACCESS_KEY=SECRET))
            servers[name] = (url, state)
        ratios = []
        for r in range(rounds):
            rates = {}
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for name in order:
                url, state = servers[name]
                lua = f"{tmp}/{name}.lua"
                subprocess.run([sys.executable, HERE / "bench.py", "sign", case, url, state, lua],
                               check=True, env=dict(os.environ, BENCH_ACCESS_KEY_ID=ACCESS,
                                                    BENCH_SECRET_ACCESS_KEY=SECRET))
                wrk(lua, url, 2)
                rates[name] = wrk(lua, url, seconds)
            ratios.append(rates["after"] / rates["before"])
            print(f"round {r + 1}: before {rates['before']:.0f} req/s, after {rates['after']:.0f} req/s, "
                  f"ratio {ratios[-1]:.3f}", flush=True)
        print(f"mean ratio after/before: {sum(ratios) / len(ratios):.3f}")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)


if __name__ == "__main__":
    main()
