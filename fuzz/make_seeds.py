#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/TARGET/ (named NAME.EXT, so the
files libFuzzer adds, named by their SHA-1 without a dot, stay out of git).

Seeds are real inputs: the botocore requests captured in crates/proto/tests/fixtures (SigV4, awsQuery,
restXml), KMS awsJson bodies serialized by botocore itself, ciphertext blobs in the documented format,
keys and certificates from openssl, DNS query packets as dig sends them, and the policies the e2e tests
and the KMS defaults use.

Needs python3 with botocore and cryptography, openssl and dig (all on the development machine).
Run from anywhere: python3 fuzz/make_seeds.py
"""

import base64
import json
import os
import socket
import subprocess
import tempfile
import threading
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "crates/proto/tests/fixtures")
CORPUS = os.path.join(ROOT, "fuzz/corpus")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def http_text(method, path, query, headers, body):
    target = path + ("?" + query if query else "")
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    if isinstance(body, str):
        body = body.encode()
    return head.encode() + b"\r\n" + (body or b"")


def fixture(path):
    with open(os.path.join(FIXTURES, path)) as f:
        return json.load(f)


# ---- SigV4: every botocore and AWS test-suite request of the fixtures, as sent ----

def sigv4_seeds():
    for name in sorted(os.listdir(os.path.join(FIXTURES, "sigv4"))):
        if not name.endswith(".json"):
            continue
        for i, case in enumerate(fixture(f"sigv4/{name}")):
            req = case["request"]
            body = req.get("body") or ""
            label = case.get("name", f"{name[:-5]}-{i}").replace("/", "-")
            write("sigv4_claim", f"{label}.http",
                  http_text(req["method"], req["path"], req.get("query"), req["headers"], body))


# ---- awsQuery: IAM and STS bodies from botocore's serializer ----

def query_seeds():
    for i, case in enumerate(fixture("query/requests.json")["fixtures"]):
        if case["service"] not in ("iam", "sts"):
            continue
        write("query_form", f"{case['service']}-{case['operation']}-{i}.form", case["body"])


# ---- restXml: Route53 requests from botocore's serializer ----

def route53_seeds():
    for case in fixture("route53-requests.json")["fixtures"]:
        headers = [("Host", "route53.amazonaws.com")] + list(case["headers"].items())
        body = case.get("body") or ""
        write("rest_xml_request", f"{case['name']}.http",
              http_text(case["method"], case["path"], case.get("query"), headers, body))
        if body:
            write("rest_xml_body", f"{case['name']}.xml", body)


# ---- awsJson: KMS request bodies from botocore's serializer ----

def kms_json_seeds(blob):
    import botocore.session
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **_):
            yield b"{}"

    captured = []

    def before_send(request, **_):
        captured.append(request)
        return AWSResponse(request.url, 200, {}, Raw())

    client = botocore.session.get_session().create_client(
        "kms", region_name="us-east-1", endpoint_url="http://127.0.0.1:1",
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    client.meta.events.register("before-send", before_send)
    key = "1234abcd-12ab-34cd-56ef-1234567890ab"
    policy = kms_default_policy()
    calls = [
        ("CreateKey", dict(Description="can2025 gates", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY",
                           Policy=policy, Tags=[{"TagKey": "team", "TagValue": "gates"}], MultiRegion=False)),
        ("Encrypt", dict(KeyId="alias/gates", Plaintext=b"can2025-secret",
                         EncryptionContext={"app": "gates", "stage": "prod"})),
        ("Decrypt", dict(CiphertextBlob=blob, EncryptionContext={"app": "gates"}, KeyId=key)),
        ("GenerateDataKey", dict(KeyId=key, KeySpec="AES_256", GrantTokens=["t"])),
        ("Sign", dict(KeyId=key, Message=b"x" * 32, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")),
        ("ReEncrypt", dict(CiphertextBlob=blob, DestinationKeyId="alias/other",
                           DestinationEncryptionContext={"a": "b"})),
        ("CreateGrant", dict(KeyId=key, GranteePrincipal="arn:aws:iam::123456789012:role/app",
                             Operations=["Decrypt"], Constraints={"EncryptionContextSubset": {"app": "gates"}})),
        ("ImportKeyMaterial", dict(KeyId=key, ImportToken=b"token", EncryptedKeyMaterial=b"m" * 40,
                                   ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=1_800_000_000)),
        ("PutKeyPolicy", dict(KeyId=key, PolicyName="default", Policy=policy)),
        ("ListKeys", dict(Limit=10, Marker="m")),
    ]
    for operation, params in calls:
        method = getattr(client, botocore_name(operation))
        method(**params)
        write("json_body", f"{operation}.json", operation.encode() + b"\n" + captured[-1].body)


def botocore_name(operation):
    out = ""
    for c in operation:
        out += ("_" + c.lower()) if c.isupper() and out else c.lower()
    return out


# ---- KMS ciphertext blobs, in the format of crates/crypto/src/blob.rs ----

def blob(key_id, version, plaintext, key=bytes([7] * 32)):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    nonce = bytes(range(12))
    header = bytes([1, len(key_id)]) + key_id.encode() + version.to_bytes(4, "big") + nonce
    # An empty encryption context encodes as a zero pair count.
    aad = b"m2sec:blob:v1" + header + b"\0\0\0\0"
    return header + AESGCM(key).encrypt(nonce, plaintext, aad)


def blob_seeds():
    seeds = {
        "v1-uuid-key": blob(str(uuid.UUID(int=0x1234abcd12ab34cd56ef1234567890ab)), 1, b"can2025-secret"),
        "v3-rotated": blob("1234abcd-12ab-34cd-56ef-1234567890ab", 3, b"\0" * 32),
        "mrk-key": blob("mrk-1234abcd12ab34cd56ef1234567890ab", 1, b""),
    }
    for name, data in seeds.items():
        write("kms_blob", f"{name}.bin", data)
    return seeds["v1-uuid-key"]


# ---- DER: KMS ImportKeyMaterial and caller public keys; ACM ImportCertificate ----

def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


# Indexes into KeySpec::ALL (crates/crypto/src/keyspec.rs).
SPEC = {"RSA_2048": 0, "ECC_NIST_P256": 3, "ECC_NIST_P384": 4, "ECC_NIST_P521": 5, "ECC_SECG_P256K1": 6,
        "HMAC_256": 8, "ML_DSA_44": 11, "ECC_NIST_EDWARDS25519": 14}


def der_seeds():
    keys = {
        "RSA_2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "ECC_NIST_P256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "ECC_NIST_P384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "ECC_NIST_P521": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
        "ECC_SECG_P256K1": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
        "ECC_NIST_EDWARDS25519": ["-algorithm", "ED25519"],
    }
    for spec, args in keys.items():
        pem = openssl("genpkey", *args)
        der = openssl("pkcs8", "-topk8", "-nocrypt", "-outform", "DER", data=pem)
        write("kms_import_der", f"pkcs8-{spec}.der", bytes([SPEC[spec]]) + der)
        if spec != "RSA_2048":
            public = openssl("pkey", "-pubout", "-outform", "DER", data=pem)
            write("kms_import_der", f"spki-{spec}.der", bytes([SPEC[spec]]) + public)
    write("kms_import_der", "raw-HMAC_256.der", bytes([SPEC["HMAC_256"]]) + bytes(range(32)))
    # ML-DSA-44 PKCS#8 with the seed form of draft-ietf-lamps-dilithium-certificates (openssl 3.0 has
    # no ML-DSA): SEQUENCE { INTEGER 0, SEQUENCE { OID 2.16.840.1.101.3.4.3.17 }, OCTET STRING { [0] seed } }.
    oid = bytes([0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11])
    inner = bytes([0x80, 32]) + bytes(range(32))
    body = bytes([0x02, 0x01, 0x00, 0x30, len(oid)]) + oid + bytes([0x04, len(inner)]) + inner
    write("kms_import_der", "pkcs8-ML_DSA_44-seed.der", bytes([SPEC["ML_DSA_44"], 0x30, len(body)]) + body)


def acm_seeds():
    with tempfile.TemporaryDirectory() as tmp:
        p = lambda name: os.path.join(tmp, name)  # noqa: E731
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "36500", "-subj", "/C=MA/O=CAN 2025/CN=Gates CA")
        for kind, args in [("rsa", ["rsa:2048"]), ("ec", ["ec", "-pkeyopt", "ec_paramgen_curve:P-384"])]:
            openssl("req", "-newkey", *args, "-nodes", "-keyout", p(f"{kind}.key"), "-out", p(f"{kind}.csr"),
                    "-subj", "/CN=gates.fanops.com")
            with open(p("ext"), "w") as f:
                f.write("subjectAltName=DNS:gates.fanops.com,DNS:*.gates.fanops.com\n")
            openssl("x509", "-req", "-in", p(f"{kind}.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                    "-CAcreateserial", "-days", "36500", "-extfile", p("ext"), "-out", p(f"{kind}.pem"))
            cert, key, chain = (open(p(n), "rb").read() for n in (f"{kind}.pem", f"{kind}.key", "ca.pem"))
            write("acm_import", f"pem-{kind}-with-chain.pem", b"\0" + cert + b"\0" + key + b"\0" + chain)
            cert_der = openssl("x509", "-outform", "DER", "-in", p(f"{kind}.pem"))
            chain_der = openssl("x509", "-outform", "DER", "-in", p("ca.pem"))
            pkcs8_der = openssl("pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in", p(f"{kind}.key"))
            # Form byte: odd = DER; (byte >> 1) % 3 picks PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY.
            write("acm_import", f"der-{kind}-pkcs8.der", b"\x01" + der_fields(cert_der, pkcs8_der, chain_der))
            if kind == "rsa":
                pkcs1 = openssl("rsa", "-traditional", "-outform", "DER", "-in", p("rsa.key"))
                write("acm_import", "der-rsa-pkcs1.der", b"\x03" + der_fields(cert_der, pkcs1))
            else:
                sec1 = openssl("ec", "-outform", "DER", "-in", p("ec.key"))
                write("acm_import", "der-ec-sec1.der", b"\x05" + der_fields(cert_der, sec1))


def der_fields(certificate, key, chain=b""):
    """The DER form of the acm_import target: 16-bit lengths before the certificate and the key."""
    return len(certificate).to_bytes(2, "big") + certificate + len(key).to_bytes(2, "big") + key + chain


# ---- Route53 record values, as the e2e tests and Route53's documentation write them ----

def rdata_seeds():
    values = [
        ("A", "192.0.2.10"), ("AAAA", "2001:db8::10"), ("CNAME", "_def.xyz.acm-validations.aws."),
        ("NS", "ns-1.awsdns-01.org."), ("PTR", "api.fanops.com."), ("MX", "10 mx.fanops.com"),
        ("TXT", '"v=spf1 -all" "two"'), ("TXT", '"\\052 escaped \\"quote\\" \\\\"'), ("SPF", '"v=spf1 -all"'),
        ("SRV", "10 5 443 api.fanops.com."),
        ("SOA", "ns1.m2sec.internal. hostmaster.m2sec.internal. 1 7200 900 1209600 86400"),
        ("CAA", '0 issue "amazon.com"'), ("CAA", '128 iodef "mailto:security@fanops.com"'),
        ("DS", "12345 13 2 " + "49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE0E3B5C2A4E6D2E8D0F1A2B3C"),
        ("NAPTR", '100 10 "U" "E2U+sip" "!^.*$!sip:info@fanops.com!" .'),
        ("SSHFP", "4 2 " + "12" * 32), ("TLSA", "3 1 1 " + "AB" * 32),
        ("SVCB", "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1 ech=AEX+DQ== key65000=x"),
        ("HTTPS", '1 . alpn="h2" ipv6hint=2001:db8::1 mandatory=alpn no-default-alpn'),
        ("HTTPS", "0 svc.fanops.com."),
    ]
    for i, (kind, value) in enumerate(values):
        write("route53_rdata", f"{kind}-{i}.txt", f"{kind} {value}")


# ---- DNS: query packets exactly as dig sends them ----

def dns_seeds():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    port = sock.getsockname()[1]
    queries = [
        ("a-edns", ["api.fanops.com", "A"]), ("aaaa", ["api.fanops.com", "AAAA"]),
        ("any", ["fanops.com", "ANY"]), ("cname-chain", ["link.fanops.com", "A"]),
        ("alias", ["www.fanops.com", "A"]), ("txt", ["t.fanops.com", "TXT"]),
        ("https", ["svc.fanops.com", "TYPE65"]), ("tlsa", ["_443._tcp.fanops.com", "TLSA"]),
        ("nxdomain", ["nope.fanops.com", "A"]), ("wildcard", ["x.wild.fanops.com", "A"]),
        ("refused", ["example.org", "A"]), ("no-edns", ["mail.fanops.com", "MX", "+noedns"]),
        ("spf", ["t.fanops.com", "TYPE99"]), ("ds-delegation", ["sub.fanops.com", "DS"]),
    ]
    for name, args in queries:
        got = []
        listener = threading.Thread(target=lambda: got.append(sock.recvfrom(4096)[0]))
        listener.start()
        subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+notcp", "+tries=1", "+time=1", *args],
                       capture_output=True)
        listener.join()
        write("dns_answer", f"dig-{name}.dns", got[0])


# ---- IAM policies: the KMS defaults and the e2e tests' documents ----

def kms_default_policy():
    return json.dumps({"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]})


def policy_seeds():
    policies = {
        "kms-default": kms_default_policy(),
        "kms-aws-managed": {"Version": "2012-10-17", "Id": "auto-ssm", "Statement": [{
            "Sid": "Allow access through SSM", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*", "Condition": {"StringEquals": {
                "kms:ViaService": "ssm.us-east-1.amazonaws.com", "kms:CallerAccount": "123456789012"}}}]},
        "trust-ec2": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "identity-conditions": {"Version": "2012-10-17", "Statement": [
            {"Sid": "ctx", "Effect": "Allow", "Action": "kms:Decrypt",
             "Resource": "arn:aws:kms:*:123456789012:key/*",
             "Condition": {"StringEquals": {"kms:EncryptionContext:app": ["gates", "tickets"]},
                           "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["app", "stage"]},
                           "IpAddress": {"aws:SourceIp": "192.0.2.0/24"},
                           "DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"},
                           "NumericGreaterThan": {"aws:EpochTime": "1000"},
                           "BoolIfExists": {"aws:SecureTransport": "true"},
                           "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}},
            {"Sid": "deny", "Effect": "Deny", "NotAction": ["kms:Describe*", "kms:List*"],
             "NotResource": "arn:aws:kms:us-east-1:123456789012:key/${aws:username}",
             "Condition": {"StringNotLikeIfExists": {"aws:PrincipalTag/team": "plat?orm*"},
                           "Null": {"kms:GrantIsForAWSResource": "true"}}}]},
        "variables": {"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Action": "ssm:GetParameter*",
            "Resource": "arn:aws:ssm:*:*:parameter/users/${aws:username}/${*}${aws:userid, 'none'}"}},
        "key-policy-principals": {"Version": "2008-10-17", "Statement": [{
            "Effect": "Allow", "NotPrincipal": {"AWS": ["123456789012",
                                                        "arn:aws:sts::123456789012:assumed-role/Deployer/s1"]},
            "Action": "kms:*", "Resource": "*"}, {
            "Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}]},
    }
    for name, policy in policies.items():
        write("iam_policy", f"{name}.json", policy if isinstance(policy, str) else json.dumps(policy, indent=1))


def main():
    sigv4_seeds()
    query_seeds()
    route53_seeds()
    kms_json_seeds(blob_seeds())
    der_seeds()
    acm_seeds()
    rdata_seeds()
    dns_seeds()
    policy_seeds()


if __name__ == "__main__":
    main()
