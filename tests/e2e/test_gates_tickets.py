"""The secure-gates routes over HTTPS once deployed: users, matches, tickets (one, a CSV, QR images),
revoke/block, `POST /tickets/verify` with every reason in order, idempotent retries, exactly one `ok`
among 100 simultaneous scans of one ticket, exits and re-entry, annul, roles, metrics, and what the data
dir holds at rest."""
import concurrent.futures
import subprocess
import time
import uuid

import pytest

from gates_support import HOST, JWT_SECRET, admin_password, admin_token, call, login, start

KICKOFF = "2025-12-21T20:00:00Z"
KICKOFF_S = 1766347200
DURING = KICKOFF_S - 3600  # an hour before kick-off: inside the default window


@pytest.fixture(scope="module")
def gates(tmp_path_factory):
    c = start(tmp_path_factory)
    c.admin = admin_token(c)
    assert call(c, "POST", "/users", {"username": "steward7", "password": "gate-7-password", "role": "steward"},
                token=c.admin)[0] == 201
    assert call(c, "POST", "/users", {"username": "steward8", "password": "gate-8-password", "role": "steward"},
                token=c.admin)[0] == 201
    assert call(c, "POST", "/users", {"username": "audit1", "password": "auditor-password", "role": "auditor"},
                token=c.admin)[0] == 201
    c.steward = login(c, "steward7", "gate-7-password")[1]["token"]
    c.steward8 = login(c, "steward8", "gate-8-password")[1]["token"]
    c.auditor = login(c, "audit1", "auditor-password")[1]["token"]
    for match_id, reentry in [("CAN-M1", False), ("CAN-M2", True)]:
        code, body = call(c, "POST", "/matches", {
            "match_id": match_id, "stadium": "Grand Stade de Tanger", "kickoff": KICKOFF,
            "gates": ["G1", "G7", "G9"], "sectors": {"A": ["G7"], "B": ["G1", "G9"]}, "reentry": reentry},
            token=c.admin)
        assert code == 201, body
    yield c
    c.server.stop()
    c.server.cleanup()


def issue(c, match_id="CAN-M1", sector="A", **extra):
    code, body = call(c, "POST", "/tickets", {"match_id": match_id, "sector": sector, "seat": "12", **extra},
                      token=c.admin)
    assert code == 201, body
    return body["ticket_id"], body["code"]


def verify(c, code, match_id="CAN-M1", gate="G7", direction="entry", nonce=None, token=None, **extra):
    body = {"code": code, "match_id": match_id, "gate": gate, "device": "scanner-1", "direction": direction,
            "scanned_at": DURING, "nonce": nonce or uuid.uuid4().hex, **extra}
    status, answer = call(c, "POST", "/tickets/verify", body, token=token or c.steward)
    assert status == 200, answer
    return answer


def test_roles_and_bad_input(gates):
    assert call(gates, "POST", "/tickets", {"match_id": "CAN-M1", "sector": "A", "seat": "1"})[0] == 401
    assert call(gates, "POST", "/tickets", {"match_id": "CAN-M1", "sector": "A", "seat": "1"},
                token=gates.steward)[0] == 403
    assert call(gates, "POST", "/tickets/verify", {"code": "x"}, token=gates.auditor)[0] == 403
    assert call(gates, "POST", "/tickets/verify", {"code": "x"}, token="not.a.token")[0] == 401
    assert call(gates, "POST", "/tickets/verify", "{not json", token=gates.steward)[0] == 400
    assert call(gates, "POST", "/tickets", {"match_id": "CAN-M1", "sector": "Z", "seat": "1"}, token=gates.admin)[0] == 400
    assert call(gates, "POST", "/tickets", {"match_id": "NOPE", "sector": "A", "seat": "1"}, token=gates.admin)[0] == 404
    assert call(gates, "POST", "/users", {"username": "steward7", "password": "x" * 12, "role": "steward"},
                token=gates.admin)[0] == 409


def test_every_reason_in_order(gates):
    ticket, code = issue(gates, fan_id="FAN-123")
    assert verify(gates, code[:-4] + "AAAA")["result"] == "invalid"
    assert verify(gates, "garbage")["result"] == "invalid"
    assert verify(gates, code, scanned_at=KICKOFF_S + 7 * 86400)["result"] == "invalid_time"
    assert verify(gates, code, match_id="CAN-M2")["result"] == "wrong_match"
    assert verify(gates, code, gate="G1")["result"] == "wrong_gate"
    assert verify(gates, code, fan_id="FAN-999")["result"] == "fan_id_mismatch"
    first = verify(gates, code, fan_id="FAN-123")
    assert first["ok"] is True and first["result"] == "ok" and first["ticket_id"] == ticket, first
    again = verify(gates, code)
    assert again["ok"] is False and again["result"] == "already_redeemed"
    assert again["first_scan"]["gate"] == "G7"
    # Blocked, then unblocked; revoked for good.
    ticket2, code2 = issue(gates)
    assert call(gates, "POST", f"/tickets/{ticket2}/block", {"reason": "reported stolen"}, token=gates.admin)[0] == 200
    assert verify(gates, code2)["result"] == "blocked"
    assert call(gates, "POST", f"/tickets/{ticket2}/unblock", {}, token=gates.admin)[0] == 200
    assert call(gates, "POST", f"/tickets/{ticket2}/revoke", {}, token=gates.admin)[0] == 200
    assert verify(gates, code2)["result"] == "revoked"
    assert call(gates, "POST", f"/tickets/{ticket2}/unblock", {}, token=gates.admin)[0] == 409


def test_a_retry_gets_the_first_answer(gates):
    _, code = issue(gates)
    nonce = uuid.uuid4().hex
    first = verify(gates, code, nonce=nonce)
    assert first["result"] == "ok"
    assert verify(gates, code, nonce=nonce) == first


def test_one_ok_among_simultaneous_scans(gates):
    _, code = issue(gates)
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda i: verify(gates, code, gate="G7"), range(100)))
    results = [a["result"] for a in answers]
    assert results.count("ok") == 1, results
    assert results.count("already_redeemed") == 99


def test_exit_and_reentry_follow_the_match(gates):
    _, code = issue(gates, match_id="CAN-M2", sector="B")
    assert verify(gates, code, match_id="CAN-M2", gate="G1")["result"] == "ok"
    assert verify(gates, code, match_id="CAN-M2", gate="G9", direction="exit")["ok"] is True
    assert verify(gates, code, match_id="CAN-M2", gate="G9")["result"] == "ok"  # re-entry allowed here
    _, code = issue(gates, match_id="CAN-M1")
    assert verify(gates, code)["result"] == "ok"
    assert verify(gates, code, direction="exit")["ok"] is True
    assert verify(gates, code)["result"] == "already_redeemed"  # CAN-M1 allows no re-entry
    _, code = issue(gates)
    assert verify(gates, code, direction="exit")["ok"] is False  # never entered


def test_annul(gates):
    _, code = issue(gates)
    nonce = uuid.uuid4().hex
    assert verify(gates, code, nonce=nonce)["result"] == "ok"
    assert call(gates, "POST", "/tickets/annul", {"device": "scanner-1", "nonce": nonce}, token=gates.steward8)[0] == 403
    assert call(gates, "POST", "/tickets/annul", {"device": "scanner-1", "nonce": nonce}, token=gates.steward)[0] == 200
    assert call(gates, "POST", "/tickets/annul", {"device": "scanner-1", "nonce": nonce}, token=gates.steward)[0] == 409
    assert verify(gates, code)["result"] == "ok"  # the turnstile did not turn: the fan may enter
    assert call(gates, "POST", "/tickets/annul", {"device": "scanner-1", "nonce": "never"}, token=gates.steward)[0] == 404


def test_bulk_issue_and_qr_images(gates):
    csv = "match_id,sector,seat,fan_id,valid_from,valid_until\n" + "".join(
        f"CAN-M1,B,{i},FAN-{i},,\n" for i in range(20))
    status, body = call(gates, "POST", "/tickets/bulk", csv, token=gates.admin, content_type="text/csv")
    assert status == 201, body
    assert len(body["tickets"]) == 20
    bad = csv + "CAN-M1,NOPE,1,,,\n"
    status, body = call(gates, "POST", "/tickets/bulk", bad, token=gates.admin, content_type="text/csv")
    assert status == 400 and ("22" in body["message"] or "21" in body["message"]), body
    ticket = call(gates, "POST", "/tickets/bulk", "match_id,sector,seat\nCAN-M1,A,1\n",
                  token=gates.admin, content_type="text/csv")[1]["tickets"][0]["ticket_id"]
    status, svg = call(gates, "GET", f"/tickets/{ticket}/qr.svg", token=gates.admin, raw=True)
    assert status == 200 and "<svg" in svg
    png = gates.tmp / "qr.png"
    out = subprocess.run(["curl", "-sS", "--cacert", gates.root_pem, "--resolve",
                          f"{HOST}:{gates.https_port}:127.0.0.1", "-H", f"authorization: Bearer {gates.admin}",
                          "-o", str(png), "-w", "%{http_code} %{content_type}",
                          f"https://{HOST}:{gates.https_port}/tickets/{ticket}/qr.png"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout == "200 image/png", out
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert call(gates, "GET", "/tickets/TNOPE/qr.svg", token=gates.admin)[0] == 404


def test_metrics_count_decisions(gates):
    _, code = issue(gates, sector="B")
    verify(gates, code, gate="G9")
    verify(gates, code, gate="G9")
    assert call(gates, "GET", "/security/metrics", token=gates.steward)[0] == 403
    assert call(gates, "GET", "/security/metrics")[0] == 401
    status, body = call(gates, "GET", "/security/metrics", token=gates.auditor)
    assert status == 200, body
    g9 = body["matches"]["CAN-M1"]["gates"]["G9"]
    assert g9["scans"] >= 2 and g9["ok"] >= 1 and g9["reasons"].get("already_redeemed", 0) >= 1
    assert body["matches"]["CAN-M1"]["inside"] >= 1


NODE_DIR = __import__("pathlib").Path(__file__).resolve().parent / "node"


def node_jwt(script, **env):
    """Runs `script` with Node and the npm `jsonwebtoken` package the guide's auth.js uses."""
    import os
    import shutil

    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the jsonwebtoken check")
    if not (NODE_DIR / "node_modules" / "jsonwebtoken" / "package.json").exists():
        proc = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"npm install failed: {proc.stdout}\n{proc.stderr}"
    out = subprocess.run(["node", "-e", script], cwd=NODE_DIR, env={**os.environ, **env},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_tokens_of_the_guides_node_code_are_accepted_and_ours_verify_there(gates):
    # auth.js: jwt.sign({sub, role}, cachedSecret, {expiresIn: '8h'}).
    token = node_jwt("const jwt = require('jsonwebtoken');"
                     "console.log(jwt.sign({sub: 'steward7', role: 'steward'}, process.env.S, {expiresIn: '8h'}))",
                     S=JWT_SECRET)
    _, code = issue(gates)
    assert verify(gates, code, token=token)["result"] == "ok"
    forged = node_jwt("const jwt = require('jsonwebtoken');"
                      "console.log(jwt.sign({sub: 'steward7', role: 'admin'}, 'another-secret', {expiresIn: '8h'}))")
    assert call(gates, "POST", "/tickets/verify", {"code": code}, token=forged)[0] == 401
    claims = node_jwt("const jwt = require('jsonwebtoken');"
                      "console.log(JSON.stringify(jwt.verify(process.env.T, process.env.S, {algorithms: ['HS256']})))",
                      S=JWT_SECRET, T=gates.steward)
    assert __import__("json").loads(claims)["sub"] == "steward7"


def test_nothing_personal_rests_in_clear(gates):
    _, code = issue(gates, fan_id="FAN-SECRET-4242")
    verify(gates, code, fan_id="FAN-SECRET-4242")
    time.sleep(0.5)
    needles = [b"FAN-SECRET-4242", b"gate-7-password", JWT_SECRET.encode(), admin_password(gates).encode(),
               code.encode(), b"$argon2id$", gates.steward.encode()]
    for path in gates.server.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in needles:
                assert needle not in data, f"{needle!r} in {path}"


PG = __import__("os").environ.get("M2SEC_TEST_POSTGRES_URL")


@pytest.mark.skipif(not PG, reason="M2SEC_TEST_POSTGRES_URL not set (scripts/test sets it)")
def test_one_ok_among_simultaneous_scans_on_postgres(tmp_path_factory):
    from conftest import Server
    from test_postgres_store import fresh_database

    db = fresh_database()

    class OnPostgres(Server):
        def command(self):
            return [*super().command(), "--store", db]

    c = start(tmp_path_factory, server_cls=OnPostgres)
    try:
        c.admin = admin_token(c)
        assert call(c, "POST", "/users", {"username": "steward7", "password": "gate-7-password", "role": "steward"},
                    token=c.admin)[0] == 201
        c.steward = login(c, "steward7", "gate-7-password")[1]["token"]
        assert call(c, "POST", "/matches", {"match_id": "CAN-M1", "stadium": "Grand Stade", "kickoff": KICKOFF,
                                            "gates": ["G7"], "sectors": {"A": ["G7"]}, "reentry": False},
                    token=c.admin)[0] == 201
        test_one_ok_among_simultaneous_scans(c)
    finally:
        c.server.stop()
        c.server.cleanup()
