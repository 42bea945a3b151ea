#!/usr/bin/env python3
"""Route53 (restXml) fixtures and checks, with botocore's own client.

Usage:
  python3 tools/route53-fixtures.py gen          # writes crates/proto/tests/fixtures/route53-requests.json
  python3 tools/route53-fixtures.py check DIR    # botocore reads the responses in DIR (from tests/rest_xml_route53.rs)

gen: for each case a real botocore Route53 client is called with the parameters; the HTTP
request it would send (method, path, query, headers, body) is captured before sending and stored
with the value `rest_xml::parse_request` must produce (the parameters, after botocore's
Route53 customizations such as stripping `/hostedzone/` from ids).

check: DIR/cases.json lists responses written by the Rust test:
  {"name", "operation", "params", "status", "headers", "xml_file",
   "expected": {...}}                                          # a successful response, or
   "expected_error": {"Type", "Code", "Message"}, "exception"}   # an error response
Each goes through a botocore client whose HTTP layer returns the file, so its parser, header
members, error codes and modeled exception classes are exercised. Timestamps are compared as
ISO 8601 UTC strings (milliseconds when present). Exits non-zero listing every failure.
"""

import datetime
import json
import os
import sys
from urllib.parse import urlsplit

import botocore
import botocore.config
import botocore.exceptions
import botocore.session
from botocore.awsrequest import AWSResponse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates/proto/tests/fixtures/route53-requests.json")
SOURCE = f"botocore {botocore.__version__} (tools/route53-fixtures.py)"
ZONE = "Z0123456789ABCDEFGHIJ"


def rrset(name, kind, ttl, *values):
    return {"Name": name, "Type": kind, "TTL": ttl,
            "ResourceRecords": [{"Value": v} for v in values]}


ALIAS = {"Name": "www.example.com.", "Type": "A", "AliasTarget": {
    "HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": "dualstack.my-elb-123.us-east-1.elb.amazonaws.com.",
    "EvaluateTargetHealth": True}}
WEIGHTED = dict(rrset("api.example.com.", "CNAME", 60, "api-blue.example.net"),
                SetIdentifier="blue & <green>", Weight=70, HealthCheckId="0c2ba5f1-57bd-4d57-b1b4-1c59a3d1a1ff")

# (name, operation, params, expected-if-different)
CASES = [
    ("create-hosted-zone", "CreateHostedZone", {
        "Name": "example.com.", "CallerReference": "2026-11-28T15:00:00Z-1",
        "HostedZoneConfig": {"Comment": "Prod zone: \"quoted\" & <angled> ünïcödé", "PrivateZone": False}}),
    ("create-private-hosted-zone", "CreateHostedZone", {
        "Name": "internal.example.", "CallerReference": "ref-2",
        "VPC": {"VPCRegion": "eu-west-1", "VPCId": "vpc-0abc"},
        "HostedZoneConfig": {"PrivateZone": True}, "DelegationSetId": "N1PA6795SAMPLE"}),
    ("get-hosted-zone", "GetHostedZone", {"Id": ZONE}),
    ("get-hosted-zone-prefixed-id", "GetHostedZone", {"Id": f"/hostedzone/{ZONE}"}, {"Id": ZONE}),
    ("list-hosted-zones", "ListHostedZones", {}),
    ("list-hosted-zones-page", "ListHostedZones", {"MaxItems": "2", "Marker": "Z2+/next page&x=y"}),
    ("list-hosted-zones-by-name", "ListHostedZonesByName", {"DNSName": "example.com.", "MaxItems": "10"}),
    ("list-hosted-zones-by-name-next", "ListHostedZonesByName", {"DNSName": "b.example.", "HostedZoneId": ZONE}),
    ("delete-hosted-zone", "DeleteHostedZone", {"Id": ZONE}),
    ("change-create", "ChangeResourceRecordSets", {"HostedZoneId": ZONE, "ChangeBatch": {
        "Comment": "initial records",
        "Changes": [
            {"Action": "CREATE", "ResourceRecordSet": rrset("example.com.", "A", 300, "192.0.2.1", "192.0.2.2")},
            {"Action": "CREATE", "ResourceRecordSet": rrset("www.example.com.", "CNAME", 3600, "example.com")},
            {"Action": "CREATE", "ResourceRecordSet": rrset(
                "example.com.", "TXT", 300, '"v=spf1 include:_spf.example.net ~all"',
                '"two words" "and <more> & more"')},
            {"Action": "CREATE", "ResourceRecordSet": rrset(
                "example.com.", "MX", 3600, "10 mail1.example.com.", "20 mail2.example.com.")},
        ]}}),
    ("change-upsert-alias", "ChangeResourceRecordSets", {"HostedZoneId": ZONE, "ChangeBatch": {
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": ALIAS},
                    {"Action": "UPSERT", "ResourceRecordSet": WEIGHTED}]}}),
    ("change-delete", "ChangeResourceRecordSets", {"HostedZoneId": f"/hostedzone/{ZONE}", "ChangeBatch": {
        "Changes": [{"Action": "DELETE", "ResourceRecordSet": rrset("www.example.com.", "CNAME", 0, "example.com")}]}},
        {"HostedZoneId": ZONE, "ChangeBatch": {
            "Changes": [{"Action": "DELETE",
                         "ResourceRecordSet": rrset("www.example.com.", "CNAME", 0, "example.com")}]}}),
    ("list-rrsets", "ListResourceRecordSets", {"HostedZoneId": ZONE}),
    ("list-rrsets-page", "ListResourceRecordSets", {
        "HostedZoneId": ZONE, "StartRecordName": "*.example.com.", "StartRecordType": "TXT",
        "StartRecordIdentifier": "blue & <green>", "MaxItems": "100"}),
    ("get-change", "GetChange", {"Id": "C2682N5HXP0BZ4"}),
    ("get-change-prefixed-id", "GetChange", {"Id": "/change/C2682N5HXP0BZ4"}, {"Id": "C2682N5HXP0BZ4"}),
    ("update-hosted-zone-comment", "UpdateHostedZoneComment", {"Id": ZONE, "Comment": "new comment"}),
    ("change-tags", "ChangeTagsForResource", {
        "ResourceType": "hostedzone", "ResourceId": ZONE,
        "AddTags": [{"Key": "team", "Value": "dns"}, {"Key": "env", "Value": ""}], "RemoveTagKeys": ["old", "older"]}),
    ("list-tags-for-resources", "ListTagsForResources", {
        "ResourceType": "hostedzone", "ResourceIds": [ZONE, "Z9"]}),
    ("get-hosted-zone-count", "GetHostedZoneCount", {}),
    ("get-hosted-zone-limit", "GetHostedZoneLimit", {"Type": "MAX_RRSETS_BY_ZONE", "HostedZoneId": ZONE}),
    ("list-hosted-zones-by-vpc", "ListHostedZonesByVPC", {
        "VPCId": "vpc-0abc", "VPCRegion": "us-east-1", "MaxItems": "5", "NextToken": "tok/+="}),
    ("delete-key-signing-key", "DeleteKeySigningKey", {"HostedZoneId": ZONE, "Name": "ksk name/1"}),
    ("test-dns-answer", "TestDNSAnswer", {
        "HostedZoneId": ZONE, "RecordName": "www.example.com", "RecordType": "A", "EDNS0ClientSubnetIP": "192.0.2.0",
        "EDNS0ClientSubnetMask": "24"}),
    ("create-health-check", "CreateHealthCheck", {"CallerReference": "hc-1", "HealthCheckConfig": {
        "Type": "HTTPS", "FullyQualifiedDomainName": "www.example.com", "Port": 443, "ResourcePath": "/health?x=1&y=2",
        "RequestInterval": 30, "FailureThreshold": 3, "EnableSNI": True, "Regions": ["us-east-1", "eu-west-1", "ap-southeast-1"],
        "Inverted": False}}),
]


def client():
    return botocore.session.get_session().create_client(
        "route53",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


class Raw:
    """The part of urllib3's response that AWSResponse reads."""

    def __init__(self, body):
        self.body = body

    def stream(self, **_):
        yield self.body


class Captured(Exception):
    pass


def gen():
    c = client()
    fixtures = []
    for case in CASES:
        name, operation, params = case[:3]
        expected = case[3] if len(case) > 3 else params
        seen = {}

        def capture(request, **_):
            seen["request"] = request
            raise Captured()

        c.meta.events.register("before-send", capture)
        try:
            getattr(c, botocore.xform_name(operation))(**json.loads(json.dumps(params)))
        except Captured:
            pass
        finally:
            c.meta.events.unregister("before-send", capture)
        request = seen["request"]
        url = urlsplit(request.url)
        body = request.body or b""
        if not isinstance(body, bytes):
            body = body.read() if hasattr(body, "read") else body.encode()
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
                   if k.lower() not in ("authorization", "x-amz-date", "user-agent", "amz-sdk-invocation-id",
                                        "amz-sdk-request", "x-amz-content-sha256")}
        fixtures.append({
            "name": name, "operation": operation, "params": params, "expected": expected,
            "method": request.method, "path": url.path, "query": url.query or None,
            "headers": headers, "body": body.decode("utf-8"),
        })
    with open(OUT, "w") as f:
        json.dump({"source": SOURCE, "fixtures": fixtures}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(fixtures)} fixtures to {OUT}")


def normalize(value):
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.timezone.utc)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += ".%03d" % (value.microsecond // 1000)
        return text + "Z"
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def run(c, case, xml):
    def respond(request, **_):
        headers = {"Content-Type": "text/xml", **case.get("headers", {})}
        return AWSResponse(request.url, case["status"], headers, Raw(xml))

    c.meta.events.register("before-send", respond)
    try:
        method = getattr(c, botocore.xform_name(case["operation"]))
        try:
            return {"result": method(**case.get("params", {}))}
        except botocore.exceptions.ClientError as e:
            return {"error": e.response, "exception": type(e).__name__}
    finally:
        c.meta.events.unregister("before-send", respond)


def compare(case, outcome):
    problems = []
    if "expected_error" in case:
        if "error" not in outcome:
            return [f"expected an error, got {outcome['result']!r}"]
        error = outcome["error"]
        if error.get("Error") != case["expected_error"]:
            problems.append(f"Error {error.get('Error')!r} != {case['expected_error']!r}")
        if case.get("exception") and outcome["exception"] != case["exception"]:
            problems.append(f"exception {outcome['exception']} != {case['exception']}")
        metadata = error.get("ResponseMetadata", {})
        if metadata.get("RequestId") != case["request_id"]:
            problems.append(f"RequestId {metadata.get('RequestId')!r} != {case['request_id']!r}")
    else:
        if "result" not in outcome:
            return [f"unexpected error {outcome['error']!r}"]
        result = dict(outcome["result"])
        metadata = result.pop("ResponseMetadata", {})
        got = normalize(result)
        if got != case["expected"]:
            problems.append(f"parsed {got!r}\n      expected {case['expected']!r}")
    status = metadata.get("HTTPStatusCode")
    if status != case["status"]:
        problems.append(f"HTTP status {status} != {case['status']}")
    return problems


def check(directory):
    with open(os.path.join(directory, "cases.json")) as f:
        cases = json.load(f)
    c = client()
    failures = []
    for case in cases:
        with open(os.path.join(directory, case["xml_file"]), "rb") as f:
            xml = f.read()
        try:
            problems = compare(case, run(c, case, xml))
        except Exception as e:  # a parser failure is a failed case, not a crash
            problems = [f"{type(e).__name__}: {e}"]
        failures += [f"{case['name']}: {p}" for p in problems]
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"botocore {botocore.__version__} parsed {len(cases)} route53 responses as expected")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "gen":
        gen()
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        sys.exit(__doc__)
