"""The secure-gates service deployed from the guide's own serverless.yml with `m2sec deploy`: tables
encrypted under the guide's key, the role of its iamRoleStatements, the REST API with its routes, the
custom domain with the ACM certificate, a Route53 alias, the first admin; then login over HTTPS through
the edge, running as the role (its calls in the trail as that assumed role), a statement removed and
redeployed, and `--remove`."""
import hashlib
import hmac
import json
import re
import subprocess
import time

import pytest

from e2e_support import wait_for
from gates_support import (EXAMPLE, JWT_SECRET, ROLE, SERVICE, admin_password, deploy, jwt_parts, login,
                           start)
from test_acm import dig
from test_apigateway_edge import curl



@pytest.fixture(scope="module")
def gates(tmp_path_factory):
    c = start(tmp_path_factory)
    yield c
    c.server.stop()
    c.server.cleanup()


def test_deploy_makes_what_the_file_asks_for(gates):
    s, out = gates.server, gates.first.stdout
    assert f"Deployed {SERVICE} (stage prod)" in out, out
    for table in (f"{SERVICE}-audit-prod", f"{SERVICE}-users-prod"):
        d = s.aws("dynamodb", "describe-table", "--table-name", table)["Table"]
        assert d["SSEDescription"]["Status"] == "ENABLED" and d["SSEDescription"]["SSEType"] == "KMS"
        key = s.aws("kms", "describe-key", "--key-id", "alias/can2025-dynamodb")["KeyMetadata"]["Arn"]
        assert d["SSEDescription"]["KMSMasterKeyArn"] == key
    policy = s.aws("iam", "get-role-policy", "--role-name", ROLE, "--policy-name", f"{SERVICE}-prod-lambda")
    actions = [a for st in policy["PolicyDocument"]["Statement"] for a in st["Action"]]
    assert "dynamodb:PutItem" in actions and "ssm:GetParameter" in actions
    apis = s.aws("apigateway", "get-rest-apis")["items"]
    api = next(a for a in apis if a["name"] == f"prod-{SERVICE}")
    paths = {r["path"] for r in s.aws("apigateway", "get-resources", "--rest-api-id", api["id"])["items"]}
    assert "/auth/login" in paths
    mapping = s.aws("apigateway", "get-base-path-mappings", "--domain-name", "api.fanops.com")["items"]
    assert mapping == [{"basePath": "(none)", "restApiId": api["id"], "stage": "prod"}]
    # The alias record points the name at the edge, as serverless-domain-manager's does on AWS.
    assert "127.0.0.1" in dig(gates.dns_port, "api.fanops.com", "A", "+short")
    # The first admin's password was generated into a SecureString, never printed.
    password = admin_password(gates)
    assert len(password) >= 20 and password not in out
    assert "/can2025/prod/admin-initial-password" in out


def test_login_over_https_signs_the_guides_jwt(gates):
    code, body = login(gates, "admin", admin_password(gates))
    assert code == 200 and body["ok"] is True, body
    header, claims, signature, signed = jwt_parts(body["token"])
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims["sub"] == "admin" and claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 8 * 3600 and abs(claims["iat"] - time.time()) < 60
    # Signed with the SSM secret, as auth.js signs it.
    assert hmac.compare_digest(signature, hmac.new(JWT_SECRET.encode(), signed.encode(), hashlib.sha256).digest())
    for user, password in [("admin", "wrong"), ("nobody", "x")]:
        code, body = login(gates, user, password)
        assert (code, body) == (401, {"ok": False, "message": "Invalid credentials"})
    code, _, body = curl(gates, "api.fanops.com", "/auth/login", "--data", "{not json", method="POST")
    assert code == 400 and json.loads(body)["ok"] is False


def test_cors_preflight_answers_as_the_framework_configures_it(gates):
    code, _, _ = curl(gates, "api.fanops.com", "/auth/login", "-D", str(gates.tmp / "h.txt"), method="OPTIONS")
    headers = (gates.tmp / "h.txt").read_text().lower()
    assert code == 200
    assert "access-control-allow-origin: *" in headers
    assert "access-control-allow-methods: options,post" in headers


def test_handlers_run_as_the_role_in_the_trail(gates):
    login(gates, "admin", admin_password(gates))
    ct = gates.server.client("cloudtrail")

    def found():
        events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetParameter"}],
                                  MaxResults=50)["Events"]
        for e in events:
            record = json.loads(e["CloudTrailEvent"])
            identity = record["userIdentity"]
            if identity.get("type") == "AssumedRole" and f"assumed-role/{ROLE}/" in identity.get("arn", ""):
                return record
        return None

    record = wait_for(found, timeout=10)
    assert record["requestParameters"]["name"] == "/can2025/prod/jwt-secret"
    assert JWT_SECRET not in json.dumps(record)


def test_a_second_deploy_converges(gates):
    out = deploy(gates, "--stage", "prod").stdout
    assert "created" not in out.replace("user admin: exists", ""), out
    assert "unchanged" in out
    apis = [a for a in gates.server.aws("apigateway", "get-rest-apis")["items"] if a["name"] == f"prod-{SERVICE}"]
    assert len(apis) == 1
    code, body = login(gates, "admin", admin_password(gates))
    assert code == 200, body


def test_a_removed_statement_fails_its_route(gates, tmp_path):
    text = EXAMPLE.read_text()
    cut = re.sub(r"\n    - Effect: Allow\n      Action:\n        - ssm:GetParameter\n        - ssm:GetParameters\n"
                 r"      Resource:\n        - [^\n]*\n", "\n", text)
    assert cut != text
    narrowed = tmp_path / "serverless.yml"
    narrowed.write_text(cut)
    try:
        deploy(gates, "--stage", "prod", file=narrowed)
        # The secret is cached for at most a minute; a new process would not have it at all.
        def refused():
            code, body = login(gates, "admin", admin_password(gates))
            return code == 500 and body
        assert wait_for(refused, timeout=75, interval=2) == {"ok": False, "message": "Internal error"}
        assert "AccessDenied" in gates.server.logs()
    finally:
        deploy(gates, "--stage", "prod")
    code, _ = login(gates, "admin", admin_password(gates))
    assert code == 200


def test_unknown_handlers_are_refused_with_the_known_ones(gates, tmp_path):
    bad = tmp_path / "serverless.yml"
    bad.write_text(EXAMPLE.read_text().replace("src/handlers/auth.login", "src/handlers/nope.handler"))
    proc = deploy(gates, "--stage", "prod", file=bad, check=False)
    assert proc.returncode != 0
    assert "src/handlers/nope.handler" in proc.stderr and "src/handlers/auth.login" in proc.stderr


def test_remove_takes_away_what_deploy_made(gates):
    out = deploy(gates, "--stage", "prod", "--remove").stdout
    assert "Removed" in out, out
    s = gates.server
    assert not [a for a in s.aws("apigateway", "get-rest-apis")["items"] if a["name"] == f"prod-{SERVICE}"]
    tables = s.aws("dynamodb", "list-tables")["TableNames"]
    assert f"{SERVICE}-users-prod" not in tables
    assert s.aws("iam", "get-role", "--role-name", ROLE, check=False).returncode != 0
    # The domain name is gone with its certificate binding: the edge refuses the name at TLS.
    out = subprocess.run(["curl", "-sS", "--cacert", gates.root_pem, "--resolve",
                          f"api.fanops.com:{gates.https_port}:127.0.0.1",
                          f"https://api.fanops.com:{gates.https_port}/auth/login"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "unrecognized name" in out.stderr
    # Deploying again brings everything back.
    deploy(gates, "--stage", "prod")
    code, body = wait_for(lambda: _try_login(gates), timeout=15, interval=0.5)
    assert code == 200, body


def _try_login(gates):
    try:
        return login(gates, "admin", admin_password(gates))
    except AssertionError:
        return None
