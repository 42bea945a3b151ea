#!/usr/bin/env python3
"""User-space instructions per request through the HTTPS edge, under valgrind's callgrind.

  python3 bench/edge_callgrind.py [BINARY] [REQUESTS] [PATH]   # defaults: target/release/m2sec, 2000, /mock
  NEWCONN=1 python3 bench/edge_callgrind.py ...                 # a new TLS connection per request

Sets up what bench/edge.py sets up (an imported certificate for bench.fanops.com, a MOCK route /mock and
an HTTP_PROXY route /proxy/{proxy+} to a one-worker nginx upstream) on BINARY run under callgrind, sends
200 warm-up requests on one keep-alive HTTPS connection, zeroes the counters, sends REQUESTS more and
dumps them. Prints the dump's path and the instructions per request; `callgrind_annotate --inclusive=yes
DUMP` shows where they go. Crypto runs under valgrind without the CPU's SHA and wide-multiply
instructions, so handshake counts overstate their hashing and curve arithmetic. Needs valgrind and nginx.
"""
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))
_argv, sys.argv = sys.argv, sys.argv[:1]
import edge as E  # noqa: E402  (reads sys.argv at import)
sys.argv = _argv

import boto3  # noqa: E402

ACCESS_KEY, SECRET_KEY = "AKIAM2SECBENCHADMIN01", "m2sec-bench-admin-secret-0123456789abcdef"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(HERE.parent / "target/release/m2sec")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    path = sys.argv[3] if len(sys.argv) > 3 else "/mock"
    new_connections = bool(os.environ.get("NEWCONN"))
    out = HERE / "out" / "edge_callgrind"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    E.OUT.mkdir(parents=True, exist_ok=True)
    port, edge_port, upstream_port = free_port(), free_port(), free_port()
    d = tempfile.mkdtemp(prefix="m2sec-edge-callgrind-")
    os.chmod(d, 0o755)
    cert, key, chain = E.make_certificates(d)
    upstream = E.start_nginx(d, "upstream", E.upstream_conf(d, upstream_port))
    env = dict(os.environ, M2SEC_ADMIN_ACCESS_KEY_ID=ACCESS_KEY, M2SEC_ADMIN_SECRET_ACCESS_KEY=SECRET_KEY,
               M2SEC_DNS_LISTEN="off", M2SEC_HTTPS_LISTEN=f"127.0.0.1:{edge_port}", M2SEC_LOG="warn")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out.%p",
                             binary, "serve", "--data-dir", f"{d}/data", "--listen", f"127.0.0.1:{port}"],
                            stdout=open(out / "m2sec.log", "w"), stderr=subprocess.STDOUT, env=env)

    class Clients:
        def client(self, name):
            return boto3.client(name, endpoint_url=f"http://127.0.0.1:{port}", region_name="eu-west-1",
                                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    try:
        for _ in range(240):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=5).request("GET", "/health")
                break
            except OSError:
                time.sleep(0.5)
        E.set_up_m2sec(Clients(), upstream_port, cert, key, chain)
        time.sleep(3)  # the edge's site table refreshes within 2 s
        context = ssl.create_default_context(cafile=chain)

        class Connection(http.client.HTTPSConnection):
            def connect(self):
                self.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", edge_port)),
                                                server_hostname=E.HOST)

        conn = Connection(E.HOST, edge_port, timeout=120)

        def send(count):
            nonlocal conn
            for _ in range(count):
                headers = {"Host": E.HOST}
                if new_connections:
                    conn = Connection(E.HOST, edge_port, timeout=120)
                    headers["Connection"] = "close"
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                r.read()
                assert r.status == 200, r.status
                if new_connections:
                    conn.close()

        send(200)
        subprocess.run(["callgrind_control", "--zero", str(proc.pid)], check=True, capture_output=True)
        send(n)
        subprocess.run(["callgrind_control", "--dump", str(proc.pid)], check=True, capture_output=True)
        dumps = sorted(p for p in os.listdir(out) if p.startswith(f"callgrind.out.{proc.pid}."))
        dump = out / dumps[-1]
        totals = re.search(r"^(?:summary|totals):\s*(\d+)", dump.read_text(), re.M)
        print(dump)
        if totals:
            print(f"{path}{' (new connection each)' if new_connections else ''}: "
                  f"{int(totals.group(1)) / n / 1000:.1f} k instructions per request")
    finally:
        proc.terminate()
        proc.wait()
        upstream.terminate()
        upstream.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
