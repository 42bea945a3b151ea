"""ACM (AWS Certificate Manager, awsJson1.1 `CertificateManager.<Op>`) with the aws CLI and boto3:
public certificates requested with DNS validation and validated for real by a CNAME in a Route53
hosted zone of m2sec, their PEMs checked with openssl (chain, SANs, key usages), listing and its
filters, tags, deletion, export (encrypted PKCS#8), import, the account configuration, regions and
the trail.

The first test is the guide's flow with the aws CLI and dig. The other tests share one server
(`acm_server`, with the hosted zone `fanops.com`) and each uses names of its own under fanops.com,
because one domain has one validation record per account: a CNAME written by one test would validate
another test's certificate for the same name.
"""
import datetime
import json
import re
import subprocess
import time
import uuid

import botocore.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import Server, expect_error, free_port, unchecked
from e2e_support import wait_for

ACCOUNT = "000000000000"
ACM = "acm.amazonaws.com"
ARN = re.compile(
    r"^arn:aws:acm:(?P<region>[a-z0-9-]+):" + ACCOUNT
    + r":certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RECORD_VALUE = re.compile(r"^_[0-9a-f]{32}\.[a-z]{10}\.acm-validations\.aws\.$")
SERIAL = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2})+$", re.I)
PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----\n.+?\n-----END CERTIFICATE-----", re.S)
SERVER_AUTH = {"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"}
UTC = datetime.timezone.utc


# ----------------------------------------------------------------------------------------------
# Helpers


def record_name_pattern(domain):
    """`_<32 hex>.<domain>.`; a wildcard's record is its base domain's."""
    base = domain[2:] if domain.startswith("*.") else domain
    return re.compile(r"^_[0-9a-f]{32}\." + re.escape(base) + r"\.$")


def unique(label):
    """A name of this test's own under fanops.com."""
    return f"{label}-{uuid.uuid4().hex[:8]}.fanops.com"


def dig(port, *args):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+time=2", "+tries=1", *args],
                         capture_output=True, text=True, timeout=20)
    return out.stdout


def run(*args, input=None, check=True):
    proc = subprocess.run(list(args), capture_output=True, text=True, input=input, timeout=30)
    if check:
        assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}): {proc.stdout}{proc.stderr}"
    return proc


def pem_certs(text):
    return PEM_CERT.findall(text.replace("\r\n", "\n"))


def same_pem(a, b):
    return "".join(a.split()) == "".join(b.split())


def verify_chain(tmp_path, certificate, chain, name="leaf"):
    """`openssl verify` of the certificate with the chain's last block as the root and the others
    as intermediates; returns the leaf's file."""
    blocks = pem_certs(chain)
    assert len(blocks) >= 2, f"chain is not intermediate + root: {chain!r}"
    leaf = tmp_path / f"{name}.pem"
    root = tmp_path / f"{name}-root.pem"
    inter = tmp_path / f"{name}-intermediate.pem"
    leaf.write_text(certificate)
    root.write_text(blocks[-1] + "\n")
    inter.write_text("\n".join(blocks[:-1]) + "\n")
    out = run("openssl", "verify", "-CAfile", str(root), "-untrusted", str(inter), str(leaf))
    assert out.stdout.strip() == f"{leaf}: OK", out.stdout + out.stderr
    return leaf


def x509_text(path):
    return run("openssl", "x509", "-in", str(path), "-noout", "-text").stdout


def batch(*changes):
    return {"Changes": [{"Action": a, "ResourceRecordSet": s} for a, s in changes]}


def cname(name, value):
    return {"Name": name, "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": value}]}


def records(acm, arn):
    """The distinct validation CNAMEs of a certificate, as (name, value)."""
    detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    found = []
    for dvo in detail["DomainValidationOptions"]:
        rr = dvo["ResourceRecord"]
        if (rr["Name"], rr["Value"]) not in found:
            found.append((rr["Name"], rr["Value"]))
    return found


def publish(r53, zone_id, pairs):
    """UPSERTs the CNAMEs (UPSERT: another certificate of the same name may have written it)."""
    r53.change_resource_record_sets(HostedZoneId=zone_id,
                                    ChangeBatch=batch(*[("UPSERT", cname(n, v)) for n, v in pairs]))


def wait_issued(acm, arn, timeout=10.0):
    return wait_for(lambda: (d := acm.describe_certificate(CertificateArn=arn)["Certificate"])["Status"] == "ISSUED"
                    and d, timeout=timeout, interval=0.2, what=f"{arn} ISSUED")


def request_and_validate(ctx, acm=None, **kwargs):
    acm = acm or ctx.acm
    arn = acm.request_certificate(ValidationMethod="DNS", **kwargs)["CertificateArn"]
    publish(ctx.r53, ctx.zone_id, records(acm, arn))
    return arn, wait_issued(acm, arn)


class Ctx:
    def __init__(self, server):
        self.server = server
        self.acm = server.client("acm")
        self.acm_us = server.client("acm", region="us-east-1")
        self.r53 = server.client("route53", region="us-east-1")
        self.zone_id = self.r53.create_hosted_zone(Name="fanops.com", CallerReference="acm-e2e")["HostedZone"]["Id"]


@pytest.fixture(scope="module")
def acm_server():
    s = Server().start()
    yield Ctx(s)
    s.stop()
    s.cleanup()


@pytest.fixture
def dns_server(fresh_server):
    port = free_port()
    server = fresh_server(env={"M2SEC_DNS_LISTEN": f"127.0.0.1:{port}"}).start()
    server.dns_port = port
    return server


# ----------------------------------------------------------------------------------------------
# The guide's flow, with the aws CLI


def test_the_guides_certificate_is_validated_by_route53(dns_server, tmp_path):
    s = dns_server
    out = s.aws("acm", "request-certificate", "--domain-name", "api.fanops.com",
                "--subject-alternative-names", "*.api.fanops.com", "--validation-method", "DNS",
                region="eu-west-1")
    arn = out["CertificateArn"]
    m = ARN.match(arn)
    assert m and m["region"] == "eu-west-1", arn

    detail = s.aws("acm", "describe-certificate", "--certificate-arn", arn)["Certificate"]
    assert detail["CertificateArn"] == arn
    assert detail["DomainName"] == "api.fanops.com"
    assert detail["SubjectAlternativeNames"] == ["api.fanops.com", "*.api.fanops.com"]
    assert detail["Status"] == "PENDING_VALIDATION"
    assert detail["Type"] == "AMAZON_ISSUED"
    dvos = detail["DomainValidationOptions"]
    assert [d["DomainName"] for d in dvos] == ["api.fanops.com", "*.api.fanops.com"]
    for d in dvos:
        assert d["ValidationMethod"] == "DNS"
        assert d["ValidationStatus"] == "PENDING_VALIDATION"
        assert d["ValidationDomain"] == d["DomainName"]
        rr = d["ResourceRecord"]
        assert rr["Type"] == "CNAME"
        assert record_name_pattern("api.fanops.com").match(rr["Name"]), rr
        assert RECORD_VALUE.match(rr["Value"]), rr
    # The wildcard is validated by its base domain's record.
    assert dvos[0]["ResourceRecord"] == dvos[1]["ResourceRecord"]

    # The guide reads the record with --query.
    name = s.aws("acm", "describe-certificate", "--certificate-arn", arn, "--query",
                 "Certificate.DomainValidationOptions[0].ResourceRecord.Name", "--output", "text")
    value = s.aws("acm", "describe-certificate", "--certificate-arn", arn, "--query",
                  "Certificate.DomainValidationOptions[0].ResourceRecord.Value", "--output", "text")
    assert (name, value) == (dvos[0]["ResourceRecord"]["Name"], dvos[0]["ResourceRecord"]["Value"])
    # Not issued yet: no certificate to get.
    pending = s.aws("acm", "get-certificate", "--certificate-arn", arn, check=False)
    assert pending.returncode != 0 and "RequestInProgressException" in pending.stderr, pending.stderr

    zone_id = s.aws("route53", "create-hosted-zone", "--name", "fanops.com",
                    "--caller-reference", "guide-1")["HostedZone"]["Id"]
    change = tmp_path / "acm-validation.json"
    change.write_text(json.dumps(batch(("UPSERT", cname(name, value)))))
    s.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone_id,
          "--change-batch", f"file://{change}")
    assert dig(s.dns_port, name, "CNAME", "+short").strip() == value

    wait_for(lambda: s.aws("acm", "describe-certificate", "--certificate-arn", arn, "--query",
                           "Certificate.Status", "--output", "text") == "ISSUED",
             timeout=10, interval=0.3, what="the guide's certificate ISSUED")
    # The CLI's waiter agrees at its first poll (its next poll would be a minute later).
    waited = subprocess.run(["aws", "acm", "wait", "certificate-validated", "--certificate-arn", arn],
                            env=s.cli_env(), capture_output=True, text=True, timeout=30)
    assert waited.returncode == 0, waited.stderr

    got = s.aws("acm", "get-certificate", "--certificate-arn", arn)
    leaf = verify_chain(tmp_path, got["Certificate"], got["CertificateChain"])
    text = x509_text(leaf)
    assert "DNS:api.fanops.com" in text and "DNS:*.api.fanops.com" in text, text
    assert "TLS Web Server Authentication" in text, text
    assert "CN=api.fanops.com" in text.replace(" = ", "=")

    statuses = s.aws("acm", "list-certificates", "--query", "CertificateSummaryList[].[CertificateArn,Status]")
    assert [arn, "ISSUED"] in statuses


# ----------------------------------------------------------------------------------------------
# Requesting


def test_request_shows_pending_validation_details(acm_server):
    acm = acm_server.acm
    domain = unique("pending")
    arn = acm.request_certificate(DomainName=domain, SubjectAlternativeNames=[f"www.{domain}", f"*.{domain}"])[
        "CertificateArn"]
    assert ARN.match(arn)["region"] == "eu-west-1"
    d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert d["DomainName"] == domain
    assert d["SubjectAlternativeNames"] == [domain, f"www.{domain}", f"*.{domain}"]
    assert d["Status"] == "PENDING_VALIDATION"
    assert d["Type"] == "AMAZON_ISSUED"
    assert d["KeyAlgorithm"] == "RSA-2048"  # RSA_2048 by default, in the detail's spelling
    assert d["InUseBy"] == []
    age = datetime.datetime.now(UTC) - d["CreatedAt"]
    assert abs(age.total_seconds()) < 120
    assert "IssuedAt" not in d and "Serial" not in d and "NotAfter" not in d
    assert d["Options"]["CertificateTransparencyLoggingPreference"] == "ENABLED"
    by_name = {x["DomainName"]: x for x in d["DomainValidationOptions"]}
    assert list(by_name) == [domain, f"www.{domain}", f"*.{domain}"]
    for name, x in by_name.items():
        assert x["ValidationMethod"] == "DNS"
        assert x["ValidationStatus"] == "PENDING_VALIDATION"
        assert x["ValidationDomain"] == name
        assert x["ResourceRecord"]["Type"] == "CNAME"
        assert record_name_pattern(name).match(x["ResourceRecord"]["Name"]), x
        assert RECORD_VALUE.match(x["ResourceRecord"]["Value"]), x
    assert by_name[f"*.{domain}"]["ResourceRecord"] == by_name[domain]["ResourceRecord"]
    assert by_name[f"www.{domain}"]["ResourceRecord"]["Name"] != by_name[domain]["ResourceRecord"]["Name"]
    expect_error("RequestInProgressException", acm.get_certificate, CertificateArn=arn)


def test_one_domain_has_one_record_per_account(acm_server):
    """A second certificate for a name gets the first one's record, and is validated by it."""
    acm = acm_server.acm
    domain = unique("shared")
    first = acm.request_certificate(DomainName=domain, SubjectAlternativeNames=[f"*.{domain}"])["CertificateArn"]
    second = acm.request_certificate(DomainName=domain)["CertificateArn"]
    assert first != second
    assert records(acm, first) == records(acm, second)
    assert len(records(acm, first)) == 1
    publish(acm_server.r53, acm_server.zone_id, records(acm, first))
    wait_issued(acm, first)
    wait_issued(acm, second)


def test_idempotency_token(acm_server):
    acm = acm_server.acm
    domain = unique("idem")
    a = acm.request_certificate(DomainName=domain, IdempotencyToken="deploy42")["CertificateArn"]
    b = acm.request_certificate(DomainName=domain, IdempotencyToken="deploy42")["CertificateArn"]
    c = acm.request_certificate(DomainName=domain, IdempotencyToken="deploy43")["CertificateArn"]
    d = acm.request_certificate(DomainName=domain)["CertificateArn"]
    e = acm.request_certificate(DomainName=domain)["CertificateArn"]
    assert a == b
    assert len({a, c, d, e}) == 4


def test_request_refusals(acm_server):
    acm = acm_server.acm
    domain = unique("refused")
    msg = expect_error("ValidationException", acm.request_certificate, DomainName=domain, ValidationMethod="EMAIL")
    assert "EMAIL" in msg.upper(), msg
    for algorithm in ("RSA_4096", "RSA_1024", "EC_secp521r1"):
        expect_error("ValidationException", acm.request_certificate, DomainName=domain, KeyAlgorithm=algorithm)
    # Nothing was created by the refused requests.
    listed = acm.list_certificates(Includes={"keyTypes": ["RSA_1024", "RSA_2048", "RSA_4096", "EC_secp521r1"]})
    assert domain not in [c["DomainName"] for c in listed["CertificateSummaryList"]]


# ----------------------------------------------------------------------------------------------
# Validation and issuance


def test_issued_certificate_details(acm_server, tmp_path):
    acm = acm_server.acm
    domain = unique("issued")
    arn = acm.request_certificate(DomainName=domain, SubjectAlternativeNames=[f"*.{domain}"])["CertificateArn"]
    publish(acm_server.r53, acm_server.zone_id, records(acm, arn))
    # Checked when read: the very next DescribeCertificate sees the record.
    d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert d["Status"] == "ISSUED", d
    assert [x["ValidationStatus"] for x in d["DomainValidationOptions"]] == ["SUCCESS", "SUCCESS"]
    assert SERIAL.match(d["Serial"]), d["Serial"]
    assert d["Subject"] == f"CN={domain}"
    assert d["Issuer"]
    now = datetime.datetime.now(UTC)
    assert abs((now - d["IssuedAt"]).total_seconds()) < 120
    assert d["NotBefore"] <= now + datetime.timedelta(seconds=5)
    lifetime = d["NotAfter"] - d["NotBefore"]
    assert datetime.timedelta(days=197) <= lifetime <= datetime.timedelta(days=199), lifetime
    assert d["KeyAlgorithm"] == "RSA-2048"
    # As in ACM, an RSA leaf is signed by an RSA intermediate.
    assert d["SignatureAlgorithm"] == "SHA256WITHRSA", d["SignatureAlgorithm"]
    assert d["KeyUsages"] and all(set(k) == {"Name"} for k in d["KeyUsages"])
    assert {"Name": "DIGITAL_SIGNATURE"} in d["KeyUsages"]
    assert SERVER_AUTH in d["ExtendedKeyUsages"]
    assert d["InUseBy"] == []
    assert d["RenewalEligibility"] in ("ELIGIBLE", "INELIGIBLE")
    assert d["Type"] == "AMAZON_ISSUED"

    got = acm.get_certificate(CertificateArn=arn)
    leaf = verify_chain(tmp_path, got["Certificate"], got["CertificateChain"])
    text = x509_text(leaf)
    assert f"DNS:{domain}" in text and f"DNS:*.{domain}" in text, text
    assert "TLS Web Server Authentication" in text
    assert "rsaEncryption" in text and "2048 bit" in text
    # The details describe this certificate.
    cert = x509.load_pem_x509_certificate(got["Certificate"].encode())
    assert int(d["Serial"].replace(":", ""), 16) == cert.serial_number
    assert d["NotAfter"].replace(microsecond=0) == cert.not_valid_after_utc
    assert d["NotBefore"].replace(microsecond=0) == cert.not_valid_before_utc
    # The chain's root is not repeated as the leaf's issuer: the leaf is signed by the intermediate.
    chain = pem_certs(got["CertificateChain"])
    assert len(chain) == 2
    inter = x509.load_pem_x509_certificate(chain[0].encode())
    root = x509.load_pem_x509_certificate(chain[-1].encode())
    assert cert.issuer == inter.subject and inter.issuer == root.subject and root.issuer == root.subject
    # The RSA intermediate: an RSA-2048 key, and it signed the leaf with SHA-256.
    assert isinstance(inter.public_key(), rsa.RSAPublicKey) and inter.public_key().key_size == 2048
    assert "RSA Intermediate CA" in inter.subject.rfc4514_string(), inter.subject
    assert cert.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.11"  # sha256WithRSAEncryption
    assert "Signature Algorithm: sha256WithRSAEncryption" in text


def test_get_certificate_validates_on_read(acm_server, tmp_path):
    acm = acm_server.acm
    domain = unique("onget")
    arn = acm.request_certificate(DomainName=domain)["CertificateArn"]
    publish(acm_server.r53, acm_server.zone_id, records(acm, arn))
    got = acm.get_certificate(CertificateArn=arn)
    verify_chain(tmp_path, got["Certificate"], got["CertificateChain"])


def listed_status(acm, arn):
    summaries = acm.list_certificates(MaxItems=1000)["CertificateSummaryList"]
    mine = [c for c in summaries if c["CertificateArn"] == arn]
    assert len(mine) == 1, mine
    return mine[0]["Status"]


def test_a_route53_change_validates_at_once_and_listing_validates_nothing(fresh_server):
    """With the background job's next tick an hour away, the Route53 change itself wakes it: a pending
    certificate is ISSUED within moments, seen by ListCertificates (which only shows what is stored)."""
    s = fresh_server(env={"M2SEC_SCHEDULER_INTERVAL_SECS": "3600"}).start()
    acm, r53 = s.client("acm"), s.client("route53", region="us-east-1")
    zone = r53.create_hosted_zone(Name="wake.fanops.com", CallerReference="wake")["HostedZone"]["Id"]
    arn = acm.request_certificate(DomainName="app.wake.fanops.com")["CertificateArn"]
    time.sleep(0.5)
    assert listed_status(acm, arn) == "PENDING_VALIDATION"
    publish(r53, zone, records(acm, arn))
    started = time.time()
    wait_for(lambda: listed_status(acm, arn) == "ISSUED", timeout=3, interval=0.1,
             what="ISSUED through ListCertificates alone")
    assert time.time() - started < 3
    assert "issued ACM certificate" in s.logs()

    # ListCertificates itself validates nothing: a second certificate for the same name (same record,
    # already in place, so no Route53 change wakes the job) stays pending in the listing until a read
    # that validates (DescribeCertificate) sees it.
    again = acm.request_certificate(DomainName="app.wake.fanops.com")["CertificateArn"]
    deadline = time.time() + 1.5
    while time.time() < deadline:
        assert listed_status(acm, again) == "PENDING_VALIDATION"
        time.sleep(0.2)
    assert acm.describe_certificate(CertificateArn=again)["Certificate"]["Status"] == "ISSUED"
    assert listed_status(acm, again) == "ISSUED"


def test_wrong_record_value_does_not_validate(acm_server):
    acm, r53, zone = acm_server.acm, acm_server.r53, acm_server.zone_id
    domain = unique("wrong")
    arn = acm.request_certificate(DomainName=domain)["CertificateArn"]
    [(name, value)] = records(acm, arn)
    wrong = "_00000000000000000000000000000000.abcdefghij.acm-validations.aws."
    assert wrong != value
    publish(r53, zone, [(name, wrong)])
    deadline = time.time() + 1.5
    while time.time() < deadline:
        d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        assert d["Status"] == "PENDING_VALIDATION", d
        assert d["DomainValidationOptions"][0]["ValidationStatus"] == "PENDING_VALIDATION"
        time.sleep(0.3)
    expect_error("RequestInProgressException", acm.get_certificate, CertificateArn=arn)
    # Corrected, it validates.
    publish(r53, zone, [(name, value)])
    wait_issued(acm, arn)


def test_a_name_without_its_record_keeps_the_certificate_pending(acm_server):
    """Every name must be validated: the record of one of two names is not enough."""
    acm = acm_server.acm
    domain = unique("partial")
    other = unique("partial-other")
    arn = acm.request_certificate(DomainName=domain, SubjectAlternativeNames=[other])["CertificateArn"]
    recs = records(acm, arn)
    assert len(recs) == 2
    mine = [r for r in recs if r[0].endswith(f".{domain}.")]
    publish(acm_server.r53, acm_server.zone_id, mine)
    time.sleep(0.5)
    d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert d["Status"] == "PENDING_VALIDATION", d
    status = {x["DomainName"]: x["ValidationStatus"] for x in d["DomainValidationOptions"]}
    assert status == {domain: "SUCCESS", other: "PENDING_VALIDATION"}
    publish(acm_server.r53, acm_server.zone_id, recs)
    wait_issued(acm, arn)


def test_ec_certificates(acm_server, tmp_path):
    acm = acm_server.acm
    p256 = acm.request_certificate(DomainName=unique("p256"), KeyAlgorithm="EC_prime256v1")["CertificateArn"]
    p384 = acm.request_certificate(DomainName=unique("p384"), KeyAlgorithm="EC_secp384r1")["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=p256)["Certificate"]["KeyAlgorithm"] == "EC-prime256v1"
    publish(acm_server.r53, acm_server.zone_id, records(acm, p256) + records(acm, p384))
    for arn, spelling, curve in ((p256, "EC-prime256v1", "prime256v1"), (p384, "EC-secp384r1", "secp384r1")):
        d = wait_issued(acm, arn)
        assert d["KeyAlgorithm"] == spelling
        assert SERVER_AUTH in d["ExtendedKeyUsages"]
        # EC leaves keep the EC intermediate.
        assert d["SignatureAlgorithm"] == "SHA384WITHECDSA", d["SignatureAlgorithm"]
        got = acm.get_certificate(CertificateArn=arn)
        leaf = verify_chain(tmp_path, got["Certificate"], got["CertificateChain"], name=curve)
        text = x509_text(leaf)
        assert "id-ecPublicKey" in text and curve in text, text
        assert f"DNS:{d['DomainName']}" in text
        inter = x509.load_pem_x509_certificate(pem_certs(got["CertificateChain"])[0].encode())
        assert isinstance(inter.public_key(), ec.EllipticCurvePublicKey)
        assert "RSA" not in inter.subject.rfc4514_string()


def test_a_data_dir_from_before_rsa_intermediates_gets_one(fresh_server, tmp_path):
    """A CA stored with only its EC intermediate (as earlier versions kept it) gets an RSA intermediate,
    signed by the same root and sealed like the others, the first time it is used."""
    import sqlite3

    s = fresh_server().start()
    acm, r53 = s.client("acm"), s.client("route53", region="us-east-1")
    zone = r53.create_hosted_zone(Name="older.fanops.com", CallerReference="older")["HostedZone"]["Id"]
    ec_arn = acm.request_certificate(DomainName="ec.older.fanops.com", KeyAlgorithm="EC_prime256v1")["CertificateArn"]
    publish(r53, zone, records(acm, ec_arn))
    wait_issued(acm, ec_arn)
    ec_got = acm.get_certificate(CertificateArn=ec_arn)
    assert s.stop() == 0
    with sqlite3.connect(s.data_dir / "m2sec.db") as db:
        ca = json.loads(db.execute("SELECT value FROM settings WHERE name = 'ca.authority'").fetchone()[0])
        del ca["rsa_intermediate_certificate_pem"], ca["rsa_intermediate_key_wrapped"]
        db.execute("UPDATE settings SET value = ? WHERE name = 'ca.authority'", (json.dumps(ca),))
    db.close()

    s.restart()
    acm = s.client("acm")
    arn = acm.request_certificate(DomainName="rsa.older.fanops.com")["CertificateArn"]
    publish(s.client("route53", region="us-east-1"), zone, records(acm, arn))
    d = wait_issued(acm, arn)
    assert d["SignatureAlgorithm"] == "SHA256WITHRSA"
    got = acm.get_certificate(CertificateArn=arn)
    verify_chain(tmp_path, got["Certificate"], got["CertificateChain"], name="upgraded")
    rsa_chain, ec_chain = pem_certs(got["CertificateChain"]), pem_certs(ec_got["CertificateChain"])
    assert same_pem(rsa_chain[1], ec_chain[1]), "the same root"
    inter = x509.load_pem_x509_certificate(rsa_chain[0].encode())
    assert isinstance(inter.public_key(), rsa.RSAPublicKey)
    # Stored, its key sealed; the certificate issued before still verifies with its own chain.
    with sqlite3.connect(s.data_dir / "m2sec.db") as db:
        stored = db.execute("SELECT value FROM settings WHERE name = 'ca.authority'").fetchone()[0]
    db.close()
    assert same_pem(json.loads(stored)["rsa_intermediate_certificate_pem"], rsa_chain[0])
    assert "PRIVATE KEY" not in stored
    verify_chain(tmp_path, ec_got["Certificate"], ec_got["CertificateChain"], name="before")


# ----------------------------------------------------------------------------------------------
# Listing


def all_summaries(acm, **kwargs):
    out, token, pages = [], None, 0
    while True:
        page = acm.list_certificates(**kwargs, **({"NextToken": token} if token else {}))
        if "MaxItems" in kwargs:
            assert len(page["CertificateSummaryList"]) <= kwargs["MaxItems"]
        out.extend(page["CertificateSummaryList"])
        pages += 1
        token = page.get("NextToken")
        if not token:
            return out, pages
        assert pages < 500, "NextToken never ends"


def test_list_filters_and_pagination(acm_server):
    acm = acm_server.acm
    pending = acm.request_certificate(DomainName=unique("list-pending"))["CertificateArn"]
    issued, _ = request_and_validate(acm_server, DomainName=unique("list-issued"))
    ec = acm.request_certificate(DomainName=unique("list-ec"), KeyAlgorithm="EC_prime256v1")["CertificateArn"]

    everything = acm.list_certificates()["CertificateSummaryList"]
    by_arn = {c["CertificateArn"]: c for c in everything}
    assert pending in by_arn and issued in by_arn
    # The default keyTypes filter is RSA_1024 and RSA_2048: EC certificates are left out.
    assert ec not in by_arn
    s = by_arn[issued]
    assert s["Status"] == "ISSUED" and s["Type"] == "AMAZON_ISSUED"
    assert s["DomainName"] == acm.describe_certificate(CertificateArn=issued)["Certificate"]["DomainName"]
    assert s["KeyAlgorithm"] in ("RSA-2048", "RSA_2048"), s
    assert s["InUse"] is False
    assert by_arn[pending]["Status"] == "PENDING_VALIDATION"

    only_pending = [c["CertificateArn"] for c in
                    acm.list_certificates(CertificateStatuses=["PENDING_VALIDATION"])["CertificateSummaryList"]]
    assert pending in only_pending and issued not in only_pending
    only_issued = [c["CertificateArn"] for c in
                   acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"]]
    assert issued in only_issued and pending not in only_issued

    ec_only = [c["CertificateArn"] for c in
               acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]]
    assert ec in ec_only and pending not in ec_only and issued not in ec_only
    both = [c["CertificateArn"] for c in
            acm.list_certificates(Includes={"keyTypes": ["RSA_2048", "EC_prime256v1"]})["CertificateSummaryList"]]
    assert {ec, pending, issued} <= set(both)

    paged, pages = all_summaries(acm, MaxItems=1)
    arns = [c["CertificateArn"] for c in paged]
    assert len(arns) == len(set(arns)), "a certificate listed twice across pages"
    assert set(arns) == set(by_arn)
    assert pages >= len(arns)
    # boto3's paginator follows the same tokens.
    pager = acm.get_paginator("list_certificates").paginate(PaginationConfig={"PageSize": 2})
    assert {c["CertificateArn"] for p in pager for c in p["CertificateSummaryList"]} == set(by_arn)


# ----------------------------------------------------------------------------------------------
# Tags, deletion, errors


def test_tags(acm_server):
    acm = acm_server.acm
    arn = acm.request_certificate(DomainName=unique("tags"), Tags=[{"Key": "team", "Value": "gates"},
                                                                   {"Key": "env", "Value": "prod"}])[
        "CertificateArn"]

    def tags():
        return sorted((t["Key"], t.get("Value")) for t in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"])

    assert tags() == [("env", "prod"), ("team", "gates")]
    acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "cost", "Value": "42"},
                                                          {"Key": "env", "Value": "staging"}])
    assert tags() == [("cost", "42"), ("env", "staging"), ("team", "gates")]
    acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "team"}])
    assert tags() == [("cost", "42"), ("env", "staging")]
    # With a value, a tag is removed only if its value matches.
    acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "env", "Value": "prod"},
                                                               {"Key": "cost", "Value": "42"}])
    assert tags() == [("env", "staging")]


def test_delete_and_unknown_certificates(acm_server):
    acm = acm_server.acm
    arn = acm.request_certificate(DomainName=unique("delete"))["CertificateArn"]
    acm.delete_certificate(CertificateArn=arn)
    expect_error("ResourceNotFoundException", acm.describe_certificate, CertificateArn=arn)
    expect_error("ResourceNotFoundException", acm.get_certificate, CertificateArn=arn)
    expect_error("ResourceNotFoundException", acm.delete_certificate, CertificateArn=arn)
    listed = [c["CertificateArn"] for c in acm.list_certificates(MaxItems=1000)["CertificateSummaryList"]]
    assert arn not in listed

    unknown = f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/{uuid.uuid4()}"
    for op in (acm.describe_certificate, acm.get_certificate, acm.delete_certificate, acm.list_tags_for_certificate):
        expect_error("ResourceNotFoundException", op, CertificateArn=unknown)
    expect_error("ResourceNotFoundException", acm.add_tags_to_certificate, CertificateArn=unknown,
                 Tags=[{"Key": "k", "Value": "v"}])

    raw = unchecked(acm_server.server, service="acm")
    for bad in ("not-an-arn-at-all-but-long-enough", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{uuid.uuid4()}"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            raw.describe_certificate(CertificateArn=bad)
        code = e.value.response["Error"]["Code"]
        assert code in ("InvalidArnException", "ValidationException"), (bad, e.value.response)


# ----------------------------------------------------------------------------------------------
# Export and import


def test_export_of_an_exportable_certificate(acm_server, tmp_path):
    acm = acm_server.acm
    arn, d = request_and_validate(acm_server, DomainName=unique("export"), Options={"Export": "ENABLED"})
    assert d["Options"].get("Export") == "ENABLED"
    passphrase = "correct horse battery"
    out = acm.export_certificate(CertificateArn=arn, Passphrase=passphrase.encode())
    got = acm.get_certificate(CertificateArn=arn)
    assert same_pem(out["Certificate"], got["Certificate"])
    assert same_pem(out["CertificateChain"], got["CertificateChain"])
    key = out["PrivateKey"]
    assert key.lstrip().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), key[:60]
    key_file = tmp_path / "key.pem"
    key_file.write_text(key)
    leaf = verify_chain(tmp_path, out["Certificate"], out["CertificateChain"])
    plain = run("openssl", "pkcs8", "-in", str(key_file), "-passin", f"pass:{passphrase}").stdout
    assert "PRIVATE KEY-----" in plain and "ENCRYPTED" not in plain
    (tmp_path / "plain.pem").write_text(plain)
    key_pub = run("openssl", "pkey", "-in", str(tmp_path / "plain.pem"), "-pubout").stdout
    cert_pub = run("openssl", "x509", "-in", str(leaf), "-pubkey", "-noout").stdout
    assert key_pub == cert_pub
    wrong = run("openssl", "pkcs8", "-in", str(key_file), "-passin", "pass:not the passphrase", check=False)
    assert wrong.returncode != 0


def test_export_needs_export_enabled(acm_server):
    acm = acm_server.acm
    arn, d = request_and_validate(acm_server, DomainName=unique("noexport"))
    expect_error("ValidationException", acm.export_certificate, CertificateArn=arn, Passphrase=b"passphrase")
    disabled, _ = request_and_validate(acm_server, DomainName=unique("disabled"), Options={"Export": "DISABLED"})
    expect_error("ValidationException", acm.export_certificate, CertificateArn=disabled, Passphrase=b"passphrase")


def self_signed(tmp_path, name, cn="import.fanops.com"):
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
        "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}", "-days", "30")
    return cert.read_bytes(), key.read_bytes()


def test_import_certificate(acm_server, tmp_path):
    acm = acm_server.acm
    cert, key = self_signed(tmp_path, "one")
    arn = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    assert ARN.match(arn)["region"] == "eu-west-1"
    d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert d["Type"] == "IMPORTED"
    assert d["Status"] == "ISSUED"
    assert d["DomainName"] == "import.fanops.com"
    assert d["Subject"] == "CN=import.fanops.com"
    assert abs((datetime.datetime.now(UTC) - d["ImportedAt"]).total_seconds()) < 120
    assert d["KeyAlgorithm"] == "RSA-2048"
    parsed = x509.load_pem_x509_certificate(cert)
    assert d["NotAfter"].replace(microsecond=0) == parsed.not_valid_after_utc
    assert same_pem(acm.get_certificate(CertificateArn=arn)["Certificate"], cert.decode())
    summaries = {c["CertificateArn"]: c for c in acm.list_certificates(MaxItems=1000)["CertificateSummaryList"]}
    assert summaries[arn]["Type"] == "IMPORTED" and summaries[arn]["Status"] == "ISSUED"

    # Re-imported into the same ARN.
    cert2, key2 = self_signed(tmp_path, "two")
    assert acm.import_certificate(CertificateArn=arn, Certificate=cert2, PrivateKey=key2)["CertificateArn"] == arn
    assert same_pem(acm.get_certificate(CertificateArn=arn)["Certificate"], cert2.decode())

    # A key of another certificate is refused.
    expect_error("ValidationException", acm.import_certificate, Certificate=cert, PrivateKey=key2)
    # An imported certificate is not renewed by ACM.
    expect_error("ValidationException", acm.renew_certificate, CertificateArn=arn)


# ----------------------------------------------------------------------------------------------
# Account configuration, regions, trail


def test_account_configuration(fresh_server):
    s = fresh_server().start()
    acm = s.client("acm")
    assert acm.get_account_configuration()["ExpiryEvents"]["DaysBeforeExpiry"] == 45
    acm.put_account_configuration(ExpiryEvents={"DaysBeforeExpiry": 30}, IdempotencyToken="cfg1")
    assert acm.get_account_configuration()["ExpiryEvents"]["DaysBeforeExpiry"] == 30


def test_regions_are_separate(acm_server):
    acm_eu, acm_us = acm_server.acm, acm_server.acm_us
    # The guide's CloudFront certificate (us-east-1) and its API certificate (eu-west-1).
    us = acm_us.request_certificate(DomainName="fanops.com", SubjectAlternativeNames=["www.fanops.com"],
                                    ValidationMethod="DNS")["CertificateArn"]
    eu = acm_eu.request_certificate(DomainName="api.fanops.com", SubjectAlternativeNames=["*.api.fanops.com"],
                                    ValidationMethod="DNS")["CertificateArn"]
    assert ARN.match(us)["region"] == "us-east-1" and ARN.match(eu)["region"] == "eu-west-1"
    us_list = [c["CertificateArn"] for c in acm_us.list_certificates(MaxItems=1000)["CertificateSummaryList"]]
    eu_list = [c["CertificateArn"] for c in acm_eu.list_certificates(MaxItems=1000)["CertificateSummaryList"]]
    assert us in us_list and eu not in us_list
    assert eu in eu_list and us not in eu_list
    for client, arn in ((acm_eu, us), (acm_us, eu)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client.describe_certificate(CertificateArn=arn)
        assert e.value.response["Error"]["Code"] in ("ResourceNotFoundException", "InvalidArnException"), \
            e.value.response
    # Route53 is global: the one zone validates the us-east-1 certificate too.
    publish(acm_server.r53, acm_server.zone_id, records(acm_us, us))
    d = wait_issued(acm_us, us)
    assert d["SubjectAlternativeNames"] == ["fanops.com", "www.fanops.com"]


def test_calls_are_in_the_trail(acm_server):
    s = acm_server.server
    arn = acm_server.acm.request_certificate(DomainName=unique("trail"))["CertificateArn"]
    acm_server.acm.describe_certificate(CertificateArn=arn)

    def names():
        out = s.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                    f"AttributeKey=EventSource,AttributeValue={ACM}", "--max-results", "50")
        found = {e["EventName"] for e in out["Events"]}
        return {"RequestCertificate", "DescribeCertificate"} <= found and out["Events"]

    events = wait_for(names, timeout=5, what="ACM events in the trail")
    request = next(e for e in events if e["EventName"] == "RequestCertificate")
    rec = json.loads(request["CloudTrailEvent"])
    assert rec["eventSource"] == ACM
    assert rec["awsRegion"] == "eu-west-1"


# ----------------------------------------------------------------------------------------------
# Background validation and managed renewal (short validity, fast scheduler)


def test_background_issuance_and_managed_renewal(fresh_server):
    import time as _time

    s = fresh_server(env={
        "M2SEC_SCHEDULER_INTERVAL_SECS": "1",
        "M2SEC_ACM_VALIDITY_DAYS": "1",
        "M2SEC_ACM_RENEW_BEFORE_DAYS": "2",
    }).start()
    acm = s.client("acm")
    r53 = s.client("route53", region="us-east-1")
    zone = r53.create_hosted_zone(Name="renew.fanops.com", CallerReference="renew")["HostedZone"]["Id"]
    arn = acm.request_certificate(DomainName="app.renew.fanops.com", ValidationMethod="DNS")["CertificateArn"]
    record = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][0]["ResourceRecord"]

    def cname(action):
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
            "Action": action, "ResourceRecordSet": {"Name": record["Name"], "Type": "CNAME", "TTL": 300,
                                                    "ResourceRecords": [{"Value": record["Value"]}]}}]})

    cname("CREATE")
    # Nobody reads the certificate: the background job issues it.
    deadline = _time.time() + 10
    while "issued=1" not in s.logs() and _time.time() < deadline:
        _time.sleep(0.2)
    assert "issued=1" in s.logs(), s.logs()[-2000:]
    first = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert first["Status"] == "ISSUED"
    lifetime = first["NotAfter"] - first["NotBefore"]
    assert abs(lifetime.total_seconds() - 86400) < 120

    # Within 2 days of expiry and its record still in place: renewed, same ARN, a new serial.
    deadline = _time.time() + 10
    while _time.time() < deadline:
        renewed = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        if renewed["Serial"] != first["Serial"]:
            break
        _time.sleep(0.3)
    assert renewed["Serial"] != first["Serial"]
    assert renewed["CertificateArn"] == arn and renewed["Status"] == "ISSUED"
    assert renewed["RenewalSummary"]["RenewalStatus"] == "SUCCESS"

    # Without its record the renewal waits, visibly; the certificate in place stays.
    cname("DELETE")
    deadline = _time.time() + 10
    while _time.time() < deadline:
        waiting = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        if waiting["RenewalSummary"]["RenewalStatus"] == "PENDING_VALIDATION":
            break
        _time.sleep(0.3)
    assert waiting["RenewalSummary"]["RenewalStatus"] == "PENDING_VALIDATION"
    assert waiting["Status"] == "ISSUED"
    _time.sleep(1.5)
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Serial"] == waiting["Serial"]


# ----------------------------------------------------------------------------------------------
# Validation records at upstream DNS servers (names m2sec holds no zone for)


def test_records_are_found_at_an_upstream_dns_server(fresh_server):
    """Server B holds the zone and answers DNS; server A holds no zone for the names and asks B
    (M2SEC_DNS_UPSTREAM). A's certificate is issued; C, without upstream servers, keeps its own
    certificate for the same names pending."""
    dns_port = free_port()
    b = fresh_server(env={"M2SEC_DNS_LISTEN": f"127.0.0.1:{dns_port}"}).start()
    # A's job ticks once an hour: only the reads' nudge (and not a tick) makes it ask B.
    a = fresh_server(env={"M2SEC_DNS_UPSTREAM": f"127.0.0.1:{dns_port}",
                          "M2SEC_SCHEDULER_INTERVAL_SECS": "3600"}).start()
    c = fresh_server(env={"M2SEC_SCHEDULER_INTERVAL_SECS": "1"}).start()
    acm_a, acm_c = a.client("acm"), c.client("acm")
    assert a.client("route53", region="us-east-1").list_hosted_zones()["HostedZones"] == []

    names = dict(DomainName="app.upstream.example", SubjectAlternativeNames=["chained.upstream.example"])
    arn = acm_a.request_certificate(**names)["CertificateArn"]
    pending = acm_c.request_certificate(**names)["CertificateArn"]
    (app_name, app_value), (chained_name, chained_value) = records(acm_a, arn)
    # Same account, same names: the same records on every m2sec.
    assert records(acm_c, pending) == records(acm_a, arn)

    r53 = b.client("route53", region="us-east-1")
    zone = r53.create_hosted_zone(Name="upstream.example", CallerReference="up")["HostedZone"]["Id"]
    # One record directly, the other through a CNAME to a CNAME (followed as a resolver would).
    publish(r53, zone, [(app_name, app_value), (chained_name, "_hop.upstream.example."),
                        ("_hop.upstream.example.", chained_value)])
    assert dig(dns_port, app_name, "CNAME", "+short").strip() == app_value

    d = wait_issued(acm_a, arn, timeout=10)
    assert [x["ValidationStatus"] for x in d["DomainValidationOptions"]] == ["SUCCESS", "SUCCESS"]
    assert d["SignatureAlgorithm"] == "SHA256WITHRSA"
    assert "issued ACM certificate" in a.logs()

    # C has no upstream and no zone: its job runs every second and finds nothing.
    time.sleep(2.5)
    d = acm_c.describe_certificate(CertificateArn=pending)["Certificate"]
    assert d["Status"] == "PENDING_VALIDATION", d
    assert {x["ValidationStatus"] for x in d["DomainValidationOptions"]} == {"PENDING_VALIDATION"}


def test_a_dead_upstream_is_visible_and_stalls_nothing(fresh_server):
    """An upstream server that never answers: the job says so in the log, naming the certificate;
    the certificate stays pending; requests are answered at once all the while."""
    import socket

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]
        s = fresh_server(env={"M2SEC_DNS_UPSTREAM": f"127.0.0.1:{port}",
                              "M2SEC_SCHEDULER_INTERVAL_SECS": "1"}).start()
        acm = s.client("acm")
        arn = acm.request_certificate(DomainName="app.dead-upstream.example")["CertificateArn"]
        wait_for(lambda: "could not be looked up" in s.logs() and arn in s.logs(), timeout=10,
                 what="a warning naming the certificate")
        line = next(l for l in s.logs().splitlines() if "could not be looked up" in l)
        assert "WARN" in line and arn in line and f"127.0.0.1:{port}" in line, line
        for _ in range(5):
            started = time.time()
            d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            assert time.time() - started < 1.0
            assert d["Status"] == "PENDING_VALIDATION"
            time.sleep(0.3)
    finally:
        silent.close()
