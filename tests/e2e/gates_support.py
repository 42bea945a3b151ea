"""What the secure-gates tests share: a server with DNS and the edge, the guide's keys, JWT secret and
certificate, `m2sec deploy` of the example file, and HTTPS calls to the deployed routes."""
import base64
import json
import subprocess

from conftest import BIN, ROOT, Server, free_port
from test_acm import Ctx, request_and_validate
from test_apigateway_edge import curl

EXAMPLE = ROOT / "examples" / "can2025" / "serverless.yml"
SERVICE = "can2025-secure-gates"
ROLE = f"{SERVICE}-prod-eu-west-1-lambdaRole"
JWT_SECRET = "prod-jwt-secret-0123456789"
HOST = "api.fanops.com"


def deploy(ctx, *args, file=EXAMPLE, check=True):
    env = ctx.server.cli_env()
    proc = subprocess.run([str(BIN), "deploy", str(file), *args], env=env, capture_output=True,
                          text=True, timeout=120)
    if check:
        assert proc.returncode == 0, f"deploy failed: {proc.stdout}{proc.stderr}"
    return proc


def start(tmp_path_factory, server_cls=Server, env=None):
    """A deployed secure-gates service; the caller stops the server."""
    dns_port, https_port = free_port(), free_port()
    s = server_cls(env={"M2SEC_DNS_LISTEN": f"127.0.0.1:{dns_port}",
                        "M2SEC_HTTPS_LISTEN": f"127.0.0.1:{https_port}", **(env or {})}).start()
    c = Ctx(s)
    c.dns_port, c.https_port = dns_port, https_port
    root = tmp_path_factory.mktemp("gates") / "m2sec-root.pem"
    subprocess.run(["curl", "-sS", "-o", str(root), f"{s.endpoint}/_m2sec/ca.pem"], check=True)
    c.root_pem = str(root)
    c.tmp = root.parent
    # The guide's deployment steps 1–3: keys, the JWT secret, the certificate; and the tickets' key.
    for alias, description in [("alias/can2025-jwt-secret", "M2 JWT Secret"),
                               ("alias/can2025-dynamodb", "M2 DynamoDB Encryption")]:
        key = s.aws("kms", "create-key", "--description", description)["KeyMetadata"]["KeyId"]
        s.aws("kms", "create-alias", "--alias-name", alias, "--target-key-id", key)
    key = s.aws("kms", "create-key", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    s.aws("kms", "create-alias", "--alias-name", "alias/can2025-tickets", "--target-key-id", key)
    s.aws("ssm", "put-parameter", "--name", "/can2025/prod/jwt-secret", "--value", JWT_SECRET,
          "--type", "SecureString", "--key-id", "alias/can2025-jwt-secret")
    request_and_validate(c, DomainName=HOST)
    c.server = s
    c.first = deploy(c, "--stage", "prod")
    return c


def call(ctx, method, path, body=None, token=None, content_type="application/json", raw=False):
    """An HTTPS call through the edge: (status, parsed JSON body or text)."""
    extra = []
    if token:
        extra += ["-H", f"authorization: Bearer {token}"]
    if body is not None:
        data = body if isinstance(body, str) else json.dumps(body)
        extra += ["-H", f"content-type: {content_type}", "--data-binary", data]
    code, _, text = curl(ctx, HOST, path, *extra, method=method)
    if raw:
        return code, text
    try:
        return code, json.loads(text) if text else None
    except ValueError:
        return code, text


def login(ctx, username, password):
    return call(ctx, "POST", "/auth/login", {"username": username, "password": password})


def admin_password(ctx):
    return ctx.server.aws("ssm", "get-parameter", "--name", "/can2025/prod/admin-initial-password",
                          "--with-decryption", "--query", "Parameter.Value", "--output", "text")


def admin_token(ctx):
    code, body = login(ctx, "admin", admin_password(ctx))
    assert code == 200, body
    return body["token"]


def jwt_parts(token):
    def b64(part):
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    header, payload, signature = token.split(".")
    return json.loads(b64(header)), json.loads(b64(payload)), b64(signature), f"{header}.{payload}"
