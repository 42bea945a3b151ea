"""The guide's last mile through m2sec's HTTPS edge: a custom domain name with its ACM certificate, a base
path mapping to the API's stage, a Route53 alias answered by m2sec's DNS server, then curl (HTTP/1.1 and
h2) and openssl s_client against the edge; API Gateway's 403/500/504 answers, MOCK integrations,
AWS_IAM methods, security policies and certificate swaps without restart."""
import http.server
import json
import subprocess
import threading
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests

from conftest import ACCESS_KEY, SECRET_KEY, Server, free_port
from e2e_support import wait_for
from test_acm import Ctx, dig, request_and_validate


class Upstream(http.server.BaseHTTPRequestHandler):
    """Echoes what it got as JSON; /slow answers after 3 s."""

    def handle_one(self):
        if self.path.startswith("/slow"):
            time.sleep(3)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        out = json.dumps({"method": self.command, "path": self.path, "body": body,
                          "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("x-upstream", "yes")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = handle_one

    def log_message(self, *args):
        pass


def private_hosts_work():
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


class HostsServer(Server):
    """m2sec in a mount namespace of its own whose /etc/hosts maps `up.fanops.com` to 127.0.0.1, so
    integrations can name an HTTPS upstream by a name its certificate holds."""

    def command(self):
        cmd = super().command()
        if not private_hosts_work():
            return cmd
        hosts = self.data_dir.parent / f"{self.data_dir.name}.hosts"
        hosts.write_text("127.0.0.1 localhost\n127.0.0.1 up.fanops.com\n")
        return ["unshare", "-m", "sh", "-c", f'mount --bind "{hosts}" /etc/hosts && exec "$0" "$@"', *cmd]


@pytest.fixture(scope="module")
def edge():
    dns_port, https_port = free_port(), free_port()
    s = HostsServer(env={"M2SEC_DNS_LISTEN": f"127.0.0.1:{dns_port}",
                         "M2SEC_HTTPS_LISTEN": f"127.0.0.1:{https_port}"}).start()
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    c = Ctx(s)
    c.dns_port, c.https_port = dns_port, https_port
    c.upstream = f"http://127.0.0.1:{upstream.server_address[1]}"
    c.apigw = s.client("apigateway")
    c.root_pem = s.tmp / "m2sec-root.pem" if hasattr(s, "tmp") else None
    pem = requests.get(f"{s.endpoint}/_m2sec/ca.pem", timeout=5)
    assert pem.status_code == 200 and pem.text.startswith("-----BEGIN CERTIFICATE-----")
    import tempfile
    root = tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False)
    root.write(pem.text)
    root.close()
    c.root_pem = root.name
    c.server = s
    yield c
    upstream.shutdown()
    s.stop()
    s.cleanup()


def curl(ctx, host, path, *extra, method="GET"):
    out = subprocess.run(
        ["curl", "-sS", "--cacert", ctx.root_pem, "--resolve", f"{host}:{ctx.https_port}:127.0.0.1",
         "-X", method, "-o", "-", "-w", "\n%{http_code} %{http_version}", *extra,
         f"https://{host}:{ctx.https_port}{path}"],
        capture_output=True, text=True, timeout=30)
    assert proc_ok(out), out.stderr
    body, _, status = out.stdout.rpartition("\n")
    code, version = status.split()
    return int(code), version, body


def proc_ok(out):
    return out.returncode == 0


def s_client(ctx, name, *extra):
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{ctx.https_port}", "-servername", name,
         "-CAfile", ctx.root_pem, *extra],
        input="", capture_output=True, text=True, timeout=20)


def deploy_proxy(ctx, name, uri_path="/{proxy}", auth="NONE", timeout=None):
    a = ctx.apigw
    api = a.create_rest_api(name=name, endpointConfiguration={"types": ["REGIONAL"]})
    root = a.get_resources(restApiId=api["id"])["items"][0]["id"]
    res = a.create_resource(restApiId=api["id"], parentId=root, pathPart="{proxy+}")
    a.put_method(restApiId=api["id"], resourceId=res["id"], httpMethod="ANY", authorizationType=auth,
                 requestParameters={"method.request.path.proxy": True})
    extra = {"timeoutInMillis": timeout} if timeout else {}
    a.put_integration(restApiId=api["id"], resourceId=res["id"], httpMethod="ANY", type="HTTP_PROXY",
                      integrationHttpMethod="ANY", uri=ctx.upstream + uri_path,
                      requestParameters={"integration.request.path.proxy": "method.request.path.proxy"}, **extra)
    a.create_deployment(restApiId=api["id"], stageName="prod")
    return api["id"]


def custom_domain(ctx, domain, api, policy="TLS_1_2"):
    arn, _ = request_and_validate(ctx, DomainName=domain)
    d = ctx.apigw.create_domain_name(domainName=domain, regionalCertificateArn=arn,
                                     endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy=policy)
    ctx.apigw.create_base_path_mapping(domainName=domain, restApiId=api, stage="prod")
    return arn, d


def test_the_guides_flow_over_https(edge):
    api = deploy_proxy(edge, "fan-api")
    arn, d = custom_domain(edge, "api.fanops.com", api)
    edge.r53.change_resource_record_sets(HostedZoneId=edge.zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {"Name": "api.fanops.com", "Type": "A", "AliasTarget": {
            "HostedZoneId": d["regionalHostedZoneId"], "DNSName": d["regionalDomainName"],
            "EvaluateTargetHealth": False}}}]})
    assert dig(edge.dns_port, "api.fanops.com", "A", "+short").strip() == "127.0.0.1"
    assert dig(edge.dns_port, d["regionalDomainName"], "A", "+short").strip() == "127.0.0.1"

    code, version, body = curl(edge, "api.fanops.com", "/security/metrics?day=1", "-H", "X-Forwarded-For: 10.0.0.9")
    assert (code, version) == (200, "2")
    seen = json.loads(body)
    assert seen["path"] == "/security/metrics?day=1"
    assert seen["headers"]["x-forwarded-for"] == "10.0.0.9, 127.0.0.1"
    assert seen["headers"]["x-forwarded-proto"] == "https"
    assert seen["headers"]["x-amzn-trace-id"].startswith("Root=1-")
    code, version, body = curl(edge, "api.fanops.com", "/tickets/verify", "--http1.1", "-d", '{"code":"T1"}',
                               method="POST")
    assert (code, version) == (200, "1.1")
    assert json.loads(body)["body"] == '{"code":"T1"}' and json.loads(body)["method"] == "POST"

    # openssl sees the ACM certificate and its chain up to m2sec's root.
    out = s_client(edge, "api.fanops.com")
    assert "CN = api.fanops.com" in out.stdout and "Verify return code: 0 (ok)" in out.stdout, out.stdout
    assert "m2sec" in out.stdout
    # A name m2sec has no certificate for gets an alert, never another domain's certificate.
    out = s_client(edge, "other.fanops.com")
    assert "CN = api.fanops.com" not in out.stdout
    assert "alert" in out.stderr.lower() or out.returncode != 0

    # The default endpoint answers the same stage with a certificate of m2sec's CA.
    host = f"{api}.execute-api.eu-west-1.amazonaws.com"
    assert dig(edge.dns_port, host, "A", "+short").strip() == "127.0.0.1"
    code, _, body = curl(edge, host, "/prod/a/b")
    assert code == 200 and json.loads(body)["path"] == "/a/b"
    code, _, body = curl(edge, host, "/nostage/a")
    assert code == 403 and json.loads(body) == {"message": "Forbidden"}


def test_api_gateway_answers_for_what_fails(edge):
    a = edge.apigw
    api = a.create_rest_api(name="answers", endpointConfiguration={"types": ["REGIONAL"]})
    root = a.get_resources(restApiId=api["id"])["items"][0]["id"]

    def route(part, kind, **integration):
        r = a.create_resource(restApiId=api["id"], parentId=root, pathPart=part)
        a.put_method(restApiId=api["id"], resourceId=r["id"], httpMethod="GET", authorizationType="NONE")
        a.put_integration(restApiId=api["id"], resourceId=r["id"], httpMethod="GET", type=kind, **integration)
        return r

    mock = route("mock", "MOCK", requestTemplates={"application/json": '{"statusCode": 201}'})
    a.put_method_response(restApiId=api["id"], resourceId=mock["id"], httpMethod="GET", statusCode="201")
    a.put_integration_response(restApiId=api["id"], resourceId=mock["id"], httpMethod="GET", statusCode="201",
                               selectionPattern="2\\d\\d",
                               responseTemplates={"application/json": '{"gate": "${stageVariables.gate}"}'},
                               responseParameters={"method.response.header.X-Gate": "'open'"})
    route("down", "HTTP_PROXY", integrationHttpMethod="GET", uri=f"http://127.0.0.1:{free_port()}/")
    route("slow", "HTTP_PROXY", integrationHttpMethod="GET", uri=edge.upstream + "/slow", timeoutInMillis=1000)
    a.create_deployment(restApiId=api["id"], stageName="prod", variables={"gate": "G7"})
    host = f"{api['id']}.execute-api.eu-west-1.amazonaws.com"

    code, _, body = curl(edge, host, "/prod/mock", "-D", "/dev/stderr")
    assert code == 201 and json.loads(body) == {"gate": "G7"}
    code, _, body = curl(edge, host, "/prod/nothing")
    assert code == 403 and json.loads(body) == {"message": "Missing Authentication Token"}
    code, _, body = curl(edge, host, "/prod/mock", method="POST")
    assert code == 403 and json.loads(body) == {"message": "Missing Authentication Token"}
    code, _, body = curl(edge, host, "/prod/down")
    assert code == 500 and json.loads(body) == {"message": "Internal server error"}
    started = time.monotonic()
    code, _, body = curl(edge, host, "/prod/slow")
    assert code == 504 and json.loads(body) == {"message": "Endpoint request timed out"}
    assert time.monotonic() - started < 2.9


def signed(url, region="eu-west-1", key=ACCESS_KEY, secret=SECRET_KEY):
    request = botocore.awsrequest.AWSRequest(method="GET", url=url)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), "execute-api", region).add_auth(request)
    return dict(request.headers)


def test_aws_iam_methods_need_a_signature_and_the_right(edge):
    api = deploy_proxy(edge, "iam-api", auth="AWS_IAM")
    host = f"{api}.execute-api.eu-west-1.amazonaws.com"
    url = f"https://{host}:{edge.https_port}/prod/tickets"
    code, _, body = curl(edge, host, "/prod/tickets")
    assert code == 403 and json.loads(body) == {"message": "Missing Authentication Token"}
    headers = signed(url)
    args = [x for k, v in headers.items() for x in ("-H", f"{k}: {v}")]
    code, _, body = curl(edge, host, "/prod/tickets", *args)
    assert code == 200, body
    bad = signed(url, secret="wrong" + SECRET_KEY[5:])
    args = [x for k, v in bad.items() for x in ("-H", f"{k}: {v}")]
    code, _, body = curl(edge, host, "/prod/tickets", *args)
    assert code == 403, body

    # A user without execute-api:Invoke is refused; with it, let in.
    iam = edge.server.client("iam", region="us-east-1")
    iam.create_user(UserName="steward")
    key = iam.create_access_key(UserName="steward")["AccessKey"]
    user_headers = lambda: [x for k, v in signed(url, key=key["AccessKeyId"], secret=key["SecretAccessKey"]).items()
                            for x in ("-H", f"{k}: {v}")]
    code, _, body = curl(edge, host, "/prod/tickets", *user_headers())
    assert code == 403 and "execute-api:Invoke" in body
    iam.put_user_policy(UserName="steward", PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
                                                "Resource": f"arn:aws:execute-api:eu-west-1:*:{api}/prod/GET/*"}]}))
    code, _, body = wait_for_status(edge, host, "/prod/tickets", user_headers, 200)
    assert code == 200, body


def wait_for_status(ctx, host, path, headers, status, timeout=8):
    deadline = time.monotonic() + timeout
    while True:
        code, version, body = curl(ctx, host, path, *headers())
        if code == status or time.monotonic() > deadline:
            return code, version, body
        time.sleep(0.3)


def test_security_policies_and_certificate_swaps(edge):
    api = deploy_proxy(edge, "policies")
    arn, _ = custom_domain(edge, "tls.fanops.com", api)
    assert "Protocol  : TLSv1.2" in s_client(edge, "tls.fanops.com", "-tls1_2").stdout
    assert s_client(edge, "tls.fanops.com", "-tls1_1").returncode != 0
    edge.apigw.update_domain_name(domainName="tls.fanops.com", patchOperations=[
        {"op": "replace", "path": "/securityPolicy", "value": "SecurityPolicy_TLS13_1_3_2025_09"}])
    wait_for(lambda: s_client(edge, "tls.fanops.com", "-tls1_2").returncode != 0, what="TLS 1.2 refused")
    assert "TLSv1.3" in s_client(edge, "tls.fanops.com", "-tls1_3").stdout

    def serial():
        out = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=s_client(edge, "tls.fanops.com").stdout,
                             capture_output=True, text=True)
        return out.stdout.strip()

    before = serial()
    # Renewal reissues the certificate: the edge serves the new one without a restart, and requests keep
    # being answered meanwhile.
    failures = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            code, _, _ = curl(edge, "tls.fanops.com", "/x")
            if code != 200:
                failures.append(code)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        edge.acm.renew_certificate(CertificateArn=arn)
        wait_for(lambda: serial() != before, timeout=10, what="the renewed certificate served")
    finally:
        stop.set()
        worker.join()
    assert failures == []


def https_upstream(tmp_path, cert_pem, key_pem):
    """The echoing upstream over TLS with the given certificate chain and key."""
    import ssl
    (tmp_path / "up.pem").write_text(cert_pem)
    (tmp_path / "up.key").write_text(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "up.pem", tmp_path / "up.key")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_https_upstreams_are_verified(edge, tmp_path):
    if not private_hosts_work():
        pytest.skip("unshare -m is not available to give m2sec a private /etc/hosts")
    # A certificate m2sec issued (exported with its key) is trusted through m2sec's own root.
    arn, _ = request_and_validate(edge, DomainName="up.fanops.com", Options={"Export": "ENABLED"})
    out = edge.acm.export_certificate(CertificateArn=arn, Passphrase=b"upstream passphrase")
    (tmp_path / "enc.key").write_text(out["PrivateKey"])
    key = subprocess.run(["openssl", "pkey", "-in", str(tmp_path / "enc.key"), "-passin", "pass:upstream passphrase"],
                         capture_output=True, text=True, check=True).stdout
    trusted = https_upstream(tmp_path, out["Certificate"] + out["CertificateChain"], key)
    # A self-signed one is not.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(tmp_path / "self.key"), "-out", str(tmp_path / "self.pem"), "-days", "2",
                    "-subj", "/CN=up.fanops.com", "-addext", "subjectAltName=DNS:up.fanops.com"],
                   capture_output=True, check=True)
    untrusted = https_upstream(tmp_path, (tmp_path / "self.pem").read_text(),
                               (tmp_path / "self.key").read_text())
    a = edge.apigw
    api = a.create_rest_api(name="tls-upstreams", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = a.get_resources(restApiId=api)["items"][0]["id"]
    for part, server in (("trusted", trusted), ("untrusted", untrusted)):
        r = a.create_resource(restApiId=api, parentId=root, pathPart=part)["id"]
        a.put_method(restApiId=api, resourceId=r, httpMethod="GET", authorizationType="NONE")
        a.put_integration(restApiId=api, resourceId=r, httpMethod="GET", type="HTTP_PROXY", integrationHttpMethod="GET",
                          uri=f"https://up.fanops.com:{server.server_address[1]}/over-tls?x=1")
    a.create_deployment(restApiId=api, stageName="prod")
    host = f"{api}.execute-api.eu-west-1.amazonaws.com"
    try:
        code, _, body = curl(edge, host, "/prod/trusted")
        assert code == 200, body
        assert json.loads(body)["path"] == "/over-tls?x=1"
        code, _, body = curl(edge, host, "/prod/untrusted")
        assert code == 500 and json.loads(body) == {"message": "Internal server error"}
        wait_for(lambda: "the integration's upstream failed" in edge.server.logs(), timeout=5)
    finally:
        trusted.shutdown()
        untrusted.shutdown()


def test_every_call_gets_an_access_log_line(edge):
    api = deploy_proxy(edge, "logged-api")
    host = f"{api}.execute-api.eu-west-1.amazonaws.com"
    code, _, _ = curl(edge, host, "/prod/gates/G7?x=1", "--http1.1")
    assert code == 200

    def line():
        for text in edge.server.logs().splitlines():
            if text.startswith("{") and '"domainName":"' + host + '"' in text:
                return json.loads(text)
        return None

    wait_for(line, timeout=5)
    entry = line()
    assert entry["stage"] == "prod" and entry["httpMethod"] == "GET" and entry["path"] == "/prod/gates/G7"
    assert entry["route"] == "ANY /{proxy+}" and entry["status"] == 200 and entry["protocol"] == "HTTP/1.1"
    assert entry["ip"] == "127.0.0.1" and entry["responseLength"] > 0 and entry["requestId"]


class KeepAliveUpstream(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; records the client port of each request; closes a connection idle
    for 1 s, as upstreams' own idle timeouts do."""
    protocol_version = "HTTP/1.1"
    timeout = 1
    ports = []

    def do_GET(self):
        KeepAliveUpstream.ports.append(self.client_address[1])
        out = b'{"ok":true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def test_upstream_connections_are_kept_and_reused(edge):
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), KeepAliveUpstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        a = edge.apigw
        api = a.create_rest_api(name="keepalive", endpointConfiguration={"types": ["REGIONAL"]})["id"]
        root = a.get_resources(restApiId=api)["items"][0]["id"]
        res = a.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")["id"]
        a.put_method(restApiId=api, resourceId=res, httpMethod="ANY", authorizationType="NONE",
                     requestParameters={"method.request.path.proxy": True})
        a.put_integration(restApiId=api, resourceId=res, httpMethod="ANY", type="HTTP_PROXY",
                          integrationHttpMethod="ANY",
                          uri=f"http://127.0.0.1:{upstream.server_address[1]}/{{proxy}}",
                          requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})
        a.create_deployment(restApiId=api, stageName="prod")
        host = f"{api}.execute-api.{a.meta.region_name}.amazonaws.com"
        # Sequential requests from one client connection reuse one upstream connection.
        urls = [f"https://{host}:{edge.https_port}/prod/n/{i}" for i in range(6)]
        out = subprocess.run(["curl", "-sS", "--cacert", edge.root_pem, "--resolve",
                              f"{host}:{edge.https_port}:127.0.0.1", "-w", " %{http_code}\n", *urls],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert out.stdout.count(" 200") == 6, out.stdout
        assert len(KeepAliveUpstream.ports) == 6
        assert len(set(KeepAliveUpstream.ports)) < 6, KeepAliveUpstream.ports
        # The upstream closes the idle connection: the next request still gets through.
        time.sleep(1.5)
        code, _, body = curl(edge, host, "/prod/after-idle")
        assert code == 200 and json.loads(body) == {"ok": True}
    finally:
        upstream.shutdown()
