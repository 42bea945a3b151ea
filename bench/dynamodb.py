#!/usr/bin/env python3
"""DynamoDB on m2sec against dynalite (DynamoDB on LevelDB, Node.js) and moto, in one run.

Servers, each on a free 127.0.0.1 port, all started at the start and measured one case at a time:
  m2sec             table without an SSESpecification (items sealed under the AWS owned key)
  m2sec-kms         a second m2sec whose table has SSESpecification KMS `alias/bench-ddb` (a customer
                    key made on that server first)
  dynalite          `node bench/node/node_modules/dynalite/cli.js` (in memory)
  dynalite-leveldb  the same with `--path` (a LevelDB store in a temp dir)
  moto              `moto_server`
The peers encrypt nothing; m2sec encrypts every item.

Each gets the table `bench-items` (HASH `pk` S, RANGE `sk` N, PAY_PER_REQUEST), 100 items of about 200
bytes in partition `p100` (sk 0..99) and one item `pk=g, sk=0`. Cases (awsJson 1.0,
`X-Amz-Target: DynamoDB_20120810.<Op>`, signed with botocore's SigV4Auth; dynalite and moto accept any
signature but get a signed request all the same):
  get-item     GetItem of g/0
  put-item     PutItem of a ~200-byte item (the same key every time)
  update-item  UpdateItem of g/0: SET n = if_not_exists(n, :z) + :one, ConditionExpression
               attribute_exists(pk)
  query        Query of partition p100, all 100 items in one page
  put-item-keys, update-item-keys
               the same writes spread over POOL items (w<i>/0 put, u<i>/0 loaded at setup and updated):
               each wrk thread replays its own POOL_PER_THREAD pre-signed requests round robin, so no two
               requests in flight touch the same item: writes without contention, where put-item and
               update-item measure 16 connections writing one item.
Each request is sent once first and must answer 200 with the expected content; then wrk replays it
(-t THREADS -c CONNECTIONS --timeout 10s, BENCH_WARMUP s warm-up, then SECONDS with --latency). A non-2xx
answer or socket error fails the case: it is marked in the table and the script exits 1 after reporting
everything. Before each run the script waits for the machine to go quiet (as scripts/bench does) and
reruns a case that other processes disturbed.

Usage: python3 bench/dynamodb.py [SECONDS]   (M2SEC_BIN selects the binary; output in bench/out/dynamodb/)
Env: BENCH_SECONDS, BENCH_WARMUP (2), BENCH_THREADS (2), BENCH_CONNECTIONS (16), BENCH_QUIET_WAIT (180),
     BENCH_RETRIES (2), BENCH_DDB_SERVERS (comma-separated subset of the servers above),
     BENCH_DDB_CASES (comma-separated subset of the cases above).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(HERE))
from conftest import ACCESS_KEY, BIN, REGION, SECRET_KEY, Server, free_port  # noqa: E402

import bench as B  # noqa: E402  (wrk measurement, quiet-waiting and wrk-output parsing)
import boto3  # noqa: E402
import botocore.config  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))  # or the first argument
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "180"))
RETRIES = int(os.environ.get("BENCH_RETRIES", "2"))
OUT = HERE / "out" / "dynamodb"
DYNALITE = HERE / "node" / "node_modules" / "dynalite" / "cli.js"

TABLE = "bench-items"
KMS_ALIAS = "alias/bench-ddb"
CONTENT_TYPE = "application/x-amz-json-1.0"
SERVERS = ["m2sec", "m2sec-kms", "dynalite", "dynalite-leveldb", "moto"]
# The same-item write cases go last.
CASES = [c for c in os.environ.get(
    "BENCH_DDB_CASES", "get-item,query,put-item-keys,update-item-keys,put-item,update-item").split(",") if c]
# The "-keys" cases send each request to another item: a pool of POOL_PER_THREAD pre-signed requests per
# wrk thread, replayed round robin, so no two requests in flight share an item.
POOL_PER_THREAD = 256
POOL = POOL_PER_THREAD * THREADS
# Targets: m2sec (either table key) against in-memory dynalite and moto.
TARGET_VS = {"dynalite": 2.0, "moto": 50.0}
TARGET_P99_MS = 5.0


def payload(n):
    """A printable filler string of n bytes."""
    return ("m2sec-dynamodb-benchmark-" * (n // 25 + 1))[:n]


# DynamoDB's item size: attribute name lengths plus value sizes (strings: UTF-8 bytes; numbers: about
# one byte per two digits plus one). pk "p100" + sk up to 2 digits + d (180 bytes) ~ 196 bytes.
def item(pk, sk):
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, "d": {"S": payload(180)}, "v": {"N": "1"}}


def request_body(case, i=0):
    if case == "put-item-keys":
        return "PutItem", {"TableName": TABLE, "Item": item(f"w{i}", 0)}
    if case == "update-item-keys":
        return "UpdateItem", {
            "TableName": TABLE,
            "Key": {"pk": {"S": f"u{i}"}, "sk": {"N": "0"}},
            "UpdateExpression": "SET n = if_not_exists(n, :z) + :one",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":z": {"N": "0"}, ":one": {"N": "1"}},
        }
    if case == "get-item":
        return "GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "g"}, "sk": {"N": "0"}}}
    if case == "put-item":
        return "PutItem", {"TableName": TABLE, "Item": item("put", 0)}
    if case == "update-item":
        return "UpdateItem", {
            "TableName": TABLE,
            "Key": {"pk": {"S": "g"}, "sk": {"N": "0"}},
            "UpdateExpression": "SET n = if_not_exists(n, :z) + :one",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":z": {"N": "0"}, ":one": {"N": "1"}},
        }
    if case == "query":
        return "Query", {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p100"}},
        }
    raise ValueError(case)


def client(endpoint, service="dynamodb"):
    B.check_local(endpoint)
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def wait_answering(ddb, proc, what, timeout=60):
    deadline = time.time() + timeout
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}; see {OUT}/{what}.log")
        try:
            ddb.list_tables()
            return
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def setup_table(endpoint, sse=None):
    ddb = client(endpoint)
    args = dict(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if sse:
        args["SSESpecification"] = sse
    desc = ddb.create_table(**args)["TableDescription"]
    deadline = time.time() + 30
    while desc["TableStatus"] != "ACTIVE":
        if time.time() > deadline:
            raise SystemExit(f"{endpoint}: table still {desc['TableStatus']}")
        time.sleep(0.1)
        desc = ddb.describe_table(TableName=TABLE)["Table"]
    if sse:
        got = desc.get("SSEDescription", {})
        if got.get("Status") != "ENABLED" or got.get("SSEType") != "KMS":
            raise SystemExit(f"{endpoint}: table has no KMS SSEDescription: {desc}")
    # p100/0..99, then the items of the update-item-keys case (u0..u{POOL-1}, sort key 0).
    loads = [item("p100", sk) for sk in range(100)] + [item(f"u{i}", 0) for i in range(POOL)]
    for start in range(0, len(loads), 25):
        batch = [{"PutRequest": {"Item": it}} for it in loads[start:start + 25]]
        left = {TABLE: batch}
        while left:
            left = ddb.batch_write_item(RequestItems=left).get("UnprocessedItems") or {}
    ddb.put_item(TableName=TABLE, Item=item("g", 0))
    n = ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": "p100"}}, Select="COUNT")["Count"]
    if n != 100:
        raise SystemExit(f"{endpoint}: partition p100 holds {n} items, not 100")


def setup_kms_key(endpoint):
    kms = client(endpoint, "kms")
    key_id = kms.create_key(Description="DynamoDB benchmark table key")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=KMS_ALIAS, TargetKeyId=key_id)
    return key_id


def signed(case, endpoint, i=0):
    operation, body = request_body(case, i)
    data = json.dumps(body, separators=(",", ":")).encode()
    request = AWSRequest(method="POST", url=endpoint + "/", data=data, headers={
        "Content-Type": CONTENT_TYPE, "X-Amz-Target": f"DynamoDB_20120810.{operation}"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "dynamodb", REGION).add_auth(request)
    headers = dict(request.headers.items())
    headers["Host"] = urllib.parse.urlsplit(endpoint).netloc
    return headers, data


def post(endpoint, headers, body):
    import http.client
    u = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("POST", "/", body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def counter(endpoint, pk="g"):
    got = client(endpoint).get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"N": "0"}})["Item"]
    return int(got.get("n", {"N": "0"})["N"])


def preflight(case, endpoint, headers, body):
    """Sends the signed request once: it must answer 200 with what the operation returns."""
    counted = {"update-item": "g", "update-item-keys": "u0"}.get(case)
    before = counter(endpoint, counted) if counted else None
    status, data = post(endpoint, headers, body)
    if status != 200:
        raise SystemExit(f"{case} on {endpoint} answered {status}: {data[:300]!r}")
    parsed = json.loads(data)
    if case == "get-item":
        ok = parsed.get("Item") == item("g", 0) or (
            {k: v for k, v in parsed.get("Item", {}).items() if k != "n"} == item("g", 0))
    elif case == "put-item":
        ok = set(parsed) <= {"ConsumedCapacity"} and client(endpoint).get_item(
            TableName=TABLE, Key={"pk": {"S": "put"}, "sk": {"N": "0"}})["Item"] == item("put", 0)
    elif case == "put-item-keys":
        ok = set(parsed) <= {"ConsumedCapacity"} and client(endpoint).get_item(
            TableName=TABLE, Key={"pk": {"S": "w0"}, "sk": {"N": "0"}})["Item"] == item("w0", 0)
    elif case in ("update-item", "update-item-keys"):
        ok = set(parsed) <= {"ConsumedCapacity"} and counter(endpoint, counted) == before + 1
    elif case == "query":
        items = parsed.get("Items", [])
        ok = (parsed.get("Count") == 100 and "LastEvaluatedKey" not in parsed
              and [int(i["sk"]["N"]) for i in items] == list(range(100))
              and all(i == item("p100", int(i["sk"]["N"])) for i in items))
    if not ok:
        raise SystemExit(f"{case} on {endpoint} answered an unexpected body: {data[:300]!r}")


def write_lua(case, endpoint, path):
    """The wrk script: one signed request, or (the "-keys" cases) POOL of them, each thread replaying
    its own POOL_PER_THREAD round robin. The first request has been sent once by preflight()."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lines = [f"-- {case}: signed with botocore SigV4Auth at {stamp}; valid for 15 min.", 'wrk.method = "POST"',
             'wrk.path = "/"']
    if not case.endswith("-keys"):
        headers, body = signed(case, endpoint)
        lines.append(f"wrk.body = {B.lua_string(body.decode())}")
        lines += [f"wrk.headers[{B.lua_string(k)}] = {B.lua_string(v)}" for k, v in headers.items()]
        Path(path).write_text("\n".join(lines) + "\n")
        return headers, body
    first = None
    lines.append("local pool = {")
    for i in range(POOL):
        headers, body = signed(case, endpoint, i)
        first = first or (headers, body)
        hs = ", ".join(f"[{B.lua_string(k)}] = {B.lua_string(v)}" for k, v in headers.items())
        lines.append(f"  {{{{{hs}}}, {B.lua_string(body.decode())}}},")
    lines += [
        "}",
        "local next_id = 0",
        "function setup(thread) thread:set('id', next_id); next_id = next_id + 1 end",
        "local requests, n = {}, 0",
        "function init(args)",
        f"  for j = 1, {POOL_PER_THREAD} do",
        f"    local r = pool[id * {POOL_PER_THREAD} + j]",
        "    requests[j] = wrk.format('POST', '/', r[1], r[2])",
        "  end",
        "end",
        f"function request() n = n % {POOL_PER_THREAD} + 1; return requests[n] end",
    ]
    Path(path).write_text("\n".join(lines) + "\n")
    return first


def run_wrk(pid, seconds, lua, url, dest, latency):
    # --timeout 10s: moto's slowest answers exceed wrk's default 2 s, which would count as socket errors.
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s",
           *(["--latency"] if latency else []),
           "-s", str(lua), url]
    if B.measure(pid, str(dest), cmd) != 0:
        err = Path(f"{dest}.err")
        raise SystemExit(f"wrk failed for {lua}: {err.read_text() if err.exists() else ''}")


def start_servers(tmp, names, stops):
    """Returns {name: (endpoint, pid)}; appends what it starts to stops (also when it fails midway)."""
    servers = {}
    for name in names:
        if name.startswith("m2sec"):
            s = Server(data_dir=Path(tmp) / name,
                       env={"M2SEC_DNS_LISTEN": "off", "M2SEC_HTTPS_LISTEN": "off"}).start()
            stops.append(("m2sec", name, s))
            servers[name] = (s.endpoint, s.proc.pid)
            if name == "m2sec-kms":
                setup_kms_key(s.endpoint)
                setup_table(s.endpoint, {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": KMS_ALIAS})
            else:
                setup_table(s.endpoint)
            continue
        port = free_port()
        if name.startswith("dynalite"):
            cmd = ["node", str(DYNALITE), "--host", "127.0.0.1", "--port", str(port), "--createTableMs", "0"]
            if name == "dynalite-leveldb":
                cmd += ["--path", str(Path(tmp) / "dynalite-leveldb")]
        else:
            cmd = ["moto_server", "-H", "127.0.0.1", "-p", str(port)]
        proc = subprocess.Popen(cmd, stdout=open(OUT / f"{name}.log", "w"), stderr=subprocess.STDOUT)
        stops.append(("proc", name, proc))
        endpoint = f"http://127.0.0.1:{port}"
        wait_answering(client(endpoint), proc, name)
        setup_table(endpoint)
        servers[name] = (endpoint, proc.pid)
    return servers


def versions():
    moto = subprocess.run([sys.executable, "-c", "import moto; print(moto.__version__)"], capture_output=True,
                          text=True).stdout.strip()
    dyn = json.loads((DYNALITE.parent / "package.json").read_text())["version"]
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                 cwd=ROOT).stdout.strip(),
        "binary": str(BIN),
        "cpu": f"{os.cpu_count()} cores",
        "wrk": f"{(wrk.stdout + wrk.stderr).split()[1] if (wrk.stdout + wrk.stderr).split() else '?'}, "
               f"-t{THREADS} -c{CONNECTIONS} -d{SECONDS}s --latency after {WARMUP}s warm-up",
        "dynalite": f"{dyn} on node {node}",
        "moto": moto,
    }


def report(results, env):
    """Prints the Markdown tables; returns the failed cases."""
    lines = [f"{k}: {v}" for k, v in env.items()] + [""]
    lines += [
        "| case | server | req/s | p50 | p99 | m2sec ÷ dynalite | m2sec ÷ moto | non-2xx | CPU server / wrk / other (cores) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    targets, failures = [], []
    for case in CASES:
        for name in SERVERS:
            r = results.get((case, name))
            if not r:
                continue
            if r.get("failed"):
                failures.append(f"{case} on {name}: {r['failed']}")
            ratios = []
            for peer in ("dynalite", "moto"):
                p = results.get((case, peer))
                ratios.append(r["rps"] / p["rps"] if name.startswith("m2sec") and p and p["rps"] else None)
            errors = f"**{r['non2xx'] / r['requests'] * 100:.1f} %**" if r["non2xx"] else "0"
            lines.append(
                f"| {case} | {name} | {r['rps']:,.0f} | {B.fmt_ms(r['p50_ms'])} | {B.fmt_ms(r['p99_ms'])} "
                f"| {B.fmt_ratio(ratios[0])} | {B.fmt_ratio(ratios[1])} | {errors} | {B.fmt_cpu(r.get('cpu'))} |")
            if name.startswith("m2sec"):
                failed = " (case failed)" if r.get("failed") else ""
                for peer, x in zip(("dynalite", "moto"), ratios):
                    if x is not None:
                        targets.append((f"{case} ({name}) ≥ {TARGET_VS[peer]:g}× {peer}", B.fmt_ratio(x) + failed,
                                        x >= TARGET_VS[peer] and not failed))
                targets.append((f"{case} ({name}) p99 ≤ {TARGET_P99_MS:g} ms", B.fmt_ms(r["p99_ms"]) + failed,
                                r["p99_ms"] <= TARGET_P99_MS and not failed))
    lines += ["", "| target | measured | met |", "|---|---:|:---:|"]
    lines += [f"| {n} | {v} | {'yes' if ok else '**no**'} |" for n, v, ok in targets]
    busy = [f"{c}/{n}" for (c, n), r in results.items() if r.get("cpu") and r["cpu"]["other_cores"] > 0.15]
    if busy:
        lines += ["", f"WARNING: other processes used > 0.15 cores during {', '.join(busy)}; "
                      "those numbers are disturbed."]
    if failures:
        lines += ["", "FAILED cases (non-2xx answers or socket errors): " + "; ".join(failures)]
    text = "\n".join(lines) + "\n"
    print(text)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(json.dumps(
        {"env": env, "results": {f"{c} {n}": r for (c, n), r in results.items()},
         "targets": [{"target": n, "measured": v, "met": ok} for n, v, ok in targets]}, indent=1))
    return failures


def main():
    global SECONDS
    if len(sys.argv) > 1:
        SECONDS = int(sys.argv[1])
    for tool in ("wrk", "node", "moto_server"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed")
    names = [n for n in os.environ.get("BENCH_DDB_SERVERS", ",".join(SERVERS)).split(",") if n]
    if any(n.startswith("dynalite") for n in names) and not DYNALITE.exists():
        subprocess.run(["npm", "install", "--prefix", str(HERE / "node"), "--no-audit", "--no-fund"],
                       check=True, stdout=sys.stderr)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    tmp = tempfile.mkdtemp(prefix="m2sec-ddb-bench-")
    stops = []
    try:
        print(f"== starting {', '.join(names)} and loading {TABLE}", file=sys.stderr)
        servers = start_servers(tmp, names, stops)
        env = versions()
        results, preflight_failures = {}, []
        for i, case in enumerate(CASES):
            # Alternate the order so that no server always runs first.
            order = names if i % 2 == 0 else names[::-1]
            for name in order:
                endpoint, pid = servers[name]
                lua = OUT / f"{name}-{case}.lua"
                dest = OUT / f"{name}-{case}.txt"
                for attempt in range(RETRIES + 1):
                    busy = B.wait_quiet(QUIET_WAIT)
                    if busy > 0.15:
                        print(f"   still busy after {QUIET_WAIT:.0f} s ({busy:.2f} cores); measuring anyway",
                              file=sys.stderr)
                    try:
                        headers, body = write_lua(case, endpoint, lua)
                        preflight(case, endpoint, headers, body)
                    except (Exception, SystemExit) as e:  # noqa: BLE001 - the case fails, the run goes on
                        print(f"   FAILED: {name} {case}: preflight: {e}", file=sys.stderr)
                        preflight_failures.append(f"{case} on {name}: preflight: {str(e)[:200]}")
                        break
                    if WARMUP:
                        run_wrk(pid, WARMUP, lua, endpoint, OUT / f"{name}-{case}.warmup.txt", False)
                    run_wrk(pid, SECONDS, lua, endpoint, dest, True)
                    r = B.parse_wrk(dest.read_text())
                    r["cpu"] = json.loads(Path(f"{dest}.cpu.json").read_text())
                    if r["non2xx"] or any(r["socket_errors"].values()) or not r["requests"]:
                        # The case fails; the run goes on so the other numbers are still reported.
                        r["failed"] = (f"{r['non2xx']} of {r['requests']} answers non-2xx"
                                       + (f", socket errors {r['socket_errors']}"
                                          if any(r["socket_errors"].values()) else ""))
                        print(f"   FAILED: {r['failed']}", file=sys.stderr)
                    print(f"== {case} {name}: {r['rps']:,.0f} req/s, p99 {B.fmt_ms(r['p99_ms'])}"
                          f" (server {r['cpu']['server_cores']} cores, other {r['cpu']['other_cores']})",
                          file=sys.stderr)
                    results[(case, name)] = r
                    if r["cpu"]["other_cores"] <= 0.15:
                        break
                    print("   other processes disturbed the run; again", file=sys.stderr)
        failures = report(results, env) + preflight_failures
        if preflight_failures:
            print("Cases not measured: " + "; ".join(preflight_failures))
        if failures:
            print("FAILED: " + "; ".join(failures), file=sys.stderr)
            return 1
        return 0
    finally:
        for kind, name, thing in stops:
            if kind == "m2sec":
                try:
                    thing.stop()
                except subprocess.TimeoutExpired:
                    print(f"   {name} did not stop within 10 s of SIGTERM; killed", file=sys.stderr)
                    thing.kill()
                if Path(thing.stderr).exists():
                    shutil.copy(thing.stderr, OUT / f"{name}.log")
                thing.cleanup()
            else:
                thing.terminate()
                try:
                    thing.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    thing.kill()
                    thing.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
