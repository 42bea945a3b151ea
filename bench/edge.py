#!/usr/bin/env python3
"""The HTTPS edge against nginx, with the same certificate and key, in one run.

One m2sec serves a custom domain (`bench.fanops.com`, an imported ACM certificate: ECDSA P-256 leaf
under a bench CA) mapped to an API with two routes: GET /mock (a MOCK integration answering a fixed
JSON body) and ANY /proxy/{proxy+} (HTTP_PROXY to an upstream). nginx serves the same names with the
same certificate and key files: `return 200` for /mock and `proxy_pass` (with upstream keep-alive)
for /proxy/. The upstream is a separate one-worker nginx answering a fixed body, the same for both.

Cases, each run with wrk (-t THREADS -c CONNECTIONS) for BENCH_SECONDS after a warm-up:
  keep-alive   requests/s on persistent connections (TLS 1.3, one handshake per connection)
  handshake    a new TCP connection and a full TLS 1.3 handshake per request (`Connection: close`;
               wrk keeps no session tickets, so none is resumed)
Any non-2xx answer or socket error fails the run. wrk resolves `bench.fanops.com` through a private
mount namespace whose /etc/hosts maps it to 127.0.0.1 (`unshare -m`; the machine's file is not touched).

Usage: python3 bench/edge.py [SECONDS]   (M2SEC_BIN selects the binary; output in bench/out/edge/)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))
from conftest import Server, free_port  # noqa: E402

HOST = "bench.fanops.com"
BODY = '{"ok":true}'
SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
OUT = HERE / "out" / "edge"


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def make_certificates(d):
    """A bench CA and a P-256 leaf for HOST; returns (cert, key, chain) paths."""
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "30", "-subj", "/CN=m2sec bench CA",
       "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", f"{d}/leaf.key", "-out", f"{d}/leaf.csr", "-subj", f"/CN={HOST}")
    Path(f"{d}/ext.cnf").write_text(
        f"subjectAltName=DNS:{HOST}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    sh("openssl", "x509", "-req", "-in", f"{d}/leaf.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
       "-CAcreateserial", "-days", "30", "-extfile", f"{d}/ext.cnf", "-out", f"{d}/leaf.pem")
    # The key ACM gets and the key nginx reads are the same PKCS#8 file.
    sh("openssl", "pkcs8", "-topk8", "-nocrypt", "-in", f"{d}/leaf.key", "-out", f"{d}/leaf.p8.pem")
    Path(f"{d}/fullchain.pem").write_text(Path(f"{d}/leaf.pem").read_text() + Path(f"{d}/ca.pem").read_text())
    return f"{d}/leaf.pem", f"{d}/leaf.p8.pem", f"{d}/ca.pem"


def start_nginx(d, name, conf):
    path = Path(d) / f"{name}.conf"
    (Path(d) / name).mkdir(exist_ok=True)
    path.write_text(conf)
    proc = subprocess.Popen(["nginx", "-c", str(path), "-p", f"{d}/{name}", "-g", "daemon off;"],
                            stdout=open(OUT / f"{name}.log", "w"), stderr=subprocess.STDOUT)
    return proc


NGINX_COMMON = """
user root;
error_log {d}/{name}/error.log warn;
pid {d}/{name}/nginx.pid;
events {{ worker_connections 4096; }}
"""


def upstream_conf(d, port):
    return NGINX_COMMON.format(d=d, name="upstream") + f"""
worker_processes 1;
http {{
  access_log off;
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{port} reuseport;
    location / {{ default_type application/json; return 200 '{BODY}'; }}
  }}
}}
"""


def front_conf(d, port, upstream_port, cert_dir):
    # Logging like the edge's: one access line per request, to a file.
    return NGINX_COMMON.format(d=d, name="front") + f"""
worker_processes {os.cpu_count() or 2};
http {{
  access_log {d}/front/access.log;
  keepalive_requests 100000;
  ssl_protocols TLSv1.2 TLSv1.3;
  upstream app {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port} ssl http2;
    server_name {HOST};
    ssl_certificate {cert_dir}/fullchain.pem;
    ssl_certificate_key {cert_dir}/leaf.p8.pem;
    location = /mock {{ default_type application/json; return 200 '{BODY}'; }}
    location /proxy/ {{
      proxy_pass http://app/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_read_timeout 29s;
    }}
  }}
}}
"""


def wait_port(port, proc, what):
    import socket
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited: {(OUT / (what + '.log')).read_text() if (OUT / (what + '.log')).exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not listen on {port}")


def set_up_m2sec(s, upstream_port, cert, key, chain):
    acm, apigw = s.client("acm"), s.client("apigateway")
    arn = acm.import_certificate(Certificate=Path(cert).read_bytes(), PrivateKey=Path(key).read_bytes(),
                                 CertificateChain=Path(chain).read_bytes())["CertificateArn"]
    api = apigw.create_rest_api(name="bench", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    mock = apigw.create_resource(restApiId=api, parentId=root, pathPart="mock")["id"]
    apigw.put_method(restApiId=api, resourceId=mock, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=mock, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=api, resourceId=mock, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(restApiId=api, resourceId=mock, httpMethod="GET", statusCode="200",
                                   responseTemplates={"application/json": BODY})
    proxy = apigw.create_resource(restApiId=api, parentId=root, pathPart="proxy")["id"]
    greedy = apigw.create_resource(restApiId=api, parentId=proxy, pathPart="{proxy+}")["id"]
    apigw.put_method(restApiId=api, resourceId=greedy, httpMethod="ANY", authorizationType="NONE",
                     requestParameters={"method.request.path.proxy": True})
    apigw.put_integration(restApiId=api, resourceId=greedy, httpMethod="ANY", type="HTTP_PROXY",
                          integrationHttpMethod="ANY", uri=f"http://127.0.0.1:{upstream_port}/{{proxy}}",
                          requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})
    apigw.create_deployment(restApiId=api, stageName="prod")
    apigw.create_domain_name(domainName=HOST, regionalCertificateArn=arn, securityPolicy="TLS_1_2",
                             endpointConfiguration={"types": ["REGIONAL"]})
    apigw.create_base_path_mapping(domainName=HOST, restApiId=api, stage="prod")


def check(url, cafile):
    """One request with the bench CA (as a client that trusts it would), before measuring."""
    out = subprocess.run(["curl", "-sS", "--cacert", cafile, "--resolve", f"{HOST}:{url.split(':')[2].split('/')[0]}:127.0.0.1",
                          url], capture_output=True, text=True, timeout=10)
    if out.returncode != 0 or out.stdout.strip() != BODY:
        raise SystemExit(f"{url}: unexpected answer {out.stdout!r} {out.stderr!r}")


def wrk(url, seconds, hosts, extra, dest):
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", *extra, url]
    script = f"mount --bind {hosts} /etc/hosts && exec {' '.join(repr(c) if ' ' in c else c for c in cmd)}"
    out = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
    Path(dest).write_text(out.stdout + out.stderr)
    if out.returncode != 0 or out.stderr.strip():
        raise SystemExit(f"wrk failed for {url}: {out.stderr}")
    if re.search(r"Non-2xx|Socket errors", out.stdout):
        raise SystemExit(f"errors during {url}:\n{out.stdout}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    return float(m.group(1))


def main():
    for tool in ("nginx", "wrk", "openssl", "unshare", "curl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (Debian packages: nginx-light, wrk, openssl, util-linux, curl)")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    d = tempfile.mkdtemp(prefix="m2sec-edge-bench-")
    os.chmod(d, 0o755)
    procs = []
    s = None
    try:
        cert, key, chain = make_certificates(d)
        hosts = Path(d) / "hosts"
        hosts.write_text(f"127.0.0.1 localhost\n127.0.0.1 {HOST}\n")
        upstream_port, nginx_port, edge_port = free_port(), free_port(), free_port()
        procs.append(start_nginx(d, "upstream", upstream_conf(d, upstream_port)))
        wait_port(upstream_port, procs[-1], "upstream")
        procs.append(start_nginx(d, "front", front_conf(d, nginx_port, upstream_port, d)))
        wait_port(nginx_port, procs[-1], "front")
        s = Server(env={"M2SEC_HTTPS_LISTEN": f"127.0.0.1:{edge_port}"}).start()
        set_up_m2sec(s, upstream_port, cert, key, chain)
        time.sleep(2.5)  # the edge's site table refreshes within 2 s

        targets = {"m2sec": edge_port, "nginx": nginx_port}
        paths = {"MOCK": "/mock", "HTTP_PROXY": "/proxy/gates/G7"}
        modes = {"keep-alive": [], "handshake": ["-H", "Connection: close"]}
        for port in targets.values():
            for path in paths.values():
                check(f"https://{HOST}:{port}{path}", chain)
        env = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                     cwd=HERE).stdout.strip(),
            "cpu": f"{os.cpu_count()} cores",
            "nginx": sh("nginx", "-v").stderr.strip(),
            "wrk": f"-t{THREADS} -c{CONNECTIONS} -d{SECONDS}s after {WARMUP}s warm-up",
        }
        results = {}
        for mode, extra in modes.items():
            for kind, path in paths.items():
                # Alternate the order so neither server always runs second.
                order = list(targets.items())
                if (mode, kind) in (("keep-alive", "HTTP_PROXY"), ("handshake", "MOCK")):
                    order.reverse()
                for name, port in order:
                    url = f"https://{HOST}:{port}{path}"
                    if WARMUP:
                        wrk(url, WARMUP, hosts, extra, OUT / f"{name}-{kind}-{mode}.warmup.txt")
                    rps = wrk(url, SECONDS, hosts, extra + ["--latency"], OUT / f"{name}-{kind}-{mode}.txt")
                    results[(mode, kind, name)] = rps
                    print(f"== {name} {kind} {mode}: {rps:.0f} req/s", file=sys.stderr)
        print("\n".join(f"{k}: {v}" for k, v in env.items()))
        print()
        print("| case | m2sec edge req/s | nginx req/s | m2sec / nginx |")
        print("|------|-----------------:|------------:|--------------:|")
        for mode in modes:
            for kind in paths:
                m, n = results[(mode, kind, "m2sec")], results[(mode, kind, "nginx")]
                print(f"| {kind} {mode} | {m:.0f} | {n:.0f} | {m / n:.2f} |")
        (OUT / "results.json").write_text(json.dumps({" ".join(k): v for k, v in results.items()}, indent=1))
    finally:
        if s:
            shutil.copy(s.stderr, OUT / "m2sec.log")
            s.stop()
            s.cleanup()
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
