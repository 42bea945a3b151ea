#!/usr/bin/env python3
"""API Gateway (restJson1) and DynamoDB (awsJson 1.0) fixtures and checks, with botocore's own client.

Usage:
  python3 tools/json-fixtures.py apigateway gen        # writes crates/proto/tests/fixtures/apigateway-requests.json
  python3 tools/json-fixtures.py dynamodb gen          # writes crates/proto/tests/fixtures/dynamodb-requests.json
  python3 tools/json-fixtures.py SERVICE check DIR     # botocore reads the responses in DIR (from the Rust tests)
  python3 tools/json-fixtures.py SERVICE send DIR      # botocore writes the requests listed in DIR (from the Rust tests)

gen: for each case a real botocore client is called with the parameters; the HTTP request it would
send (method, path, query, headers, body) is captured before sending and stored with the value the
Rust side must parse it back to: the parameters, with blobs as base64 text and timestamps as epoch
seconds (the values m2sec's services work with), plus what botocore adds on its own (API Gateway's
`Accept: application/json` fills GetExport's `accepts`).

check: DIR/cases.json lists responses written by the Rust test:
  {"name", "operation", "params", "request_id", "status", "headers", "body_file",
   "expected": {...}}                                  # a successful response, or
   "expected_error": {"Code", "Message"}, "exception"}  # an error response
Each goes through a botocore client whose HTTP layer returns the file, so its parser, header
members, error codes and modeled exception classes are exercised. Timestamps are compared as
ISO 8601 UTC strings (milliseconds when present), blobs (and blob payloads, which botocore hands
back as streams) as base64 text. Exits non-zero listing
every failure.

send: DIR/requests.json lists {"name", "operation", "params"}; the requests botocore would send for
them are written to DIR/sent.json in gen's form (without "expected").

With check and send, a service model in DIR/models/SERVICE/VERSION/service-2.json is used in place
of botocore's own (the Rust tests' synthetic models).
"""

import base64
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
SOURCE = f"botocore {botocore.__version__} (tools/json-fixtures.py)"
API = "a1b2c3d4e5"
RESOURCE = "r0ot12"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b3c5c2f-4a6e-4f4e-9c41-6f1c2b0d9e77"

# (name, operation, params, additions-to-expected)
APIGATEWAY = [
    ("create-rest-api", "CreateRestApi", {
        "name": "secure-gates", "description": "Gates API: \"quoted\" & ünïcödé",
        "endpointConfiguration": {"types": ["REGIONAL"]}, "binaryMediaTypes": ["image/png", "*/*"],
        "apiKeySource": "HEADER", "disableExecuteApiEndpoint": False, "minimumCompressionSize": 1024,
        "tags": {"stage": "prod", "team": "gates"}}),
    ("get-rest-apis", "GetRestApis", {}),
    ("get-rest-apis-page", "GetRestApis", {"limit": 25, "position": "pos/+= &next"}),
    ("get-rest-api", "GetRestApi", {"restApiId": API}),
    ("get-resources", "GetResources", {"restApiId": API, "limit": 500}),
    ("get-resources-embed", "GetResources", {"restApiId": API, "embed": ["methods", "other"], "position": "p1"}),
    ("create-resource-proxy", "CreateResource", {"restApiId": API, "parentId": RESOURCE, "pathPart": "{proxy+}"}),
    ("put-method", "PutMethod", {
        "restApiId": API, "resourceId": "prx123", "httpMethod": "ANY", "authorizationType": "NONE",
        "apiKeyRequired": False, "requestParameters": {"method.request.path.proxy": True}}),
    ("put-integration", "PutIntegration", {
        "restApiId": API, "resourceId": "prx123", "httpMethod": "ANY", "type": "HTTP_PROXY",
        "integrationHttpMethod": "ANY", "uri": "http://backend.example.com:8080/{proxy}",
        "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"},
        "passthroughBehavior": "WHEN_NO_MATCH", "timeoutInMillis": 29000, "cacheKeyParameters": []}),
    ("put-integration-response", "PutIntegrationResponse", {
        "restApiId": API, "resourceId": "prx123", "httpMethod": "GET", "statusCode": "200",
        "responseTemplates": {"application/json": "{\"ok\": true}"}}),
    ("create-deployment", "CreateDeployment", {
        "restApiId": API, "stageName": "prod", "description": "first", "variables": {"backend": "blue"},
        "tracingEnabled": True}),
    ("get-deployment-embed", "GetDeployment", {"restApiId": API, "deploymentId": "dep1", "embed": ["apisummary"]}),
    ("update-stage", "UpdateStage", {"restApiId": API, "stageName": "prod", "patchOperations": [
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
        {"op": "replace", "path": "/variables/backend", "value": "green"}]}),
    ("create-domain-name", "CreateDomainName", {
        "domainName": "api.can2025.example", "regionalCertificateArn": CERT,
        "endpointConfiguration": {"types": ["REGIONAL"]}, "securityPolicy": "TLS_1_2",
        "tags": {"env": "prod"}}),
    ("get-domain-name", "GetDomainName", {"domainName": "api.can2025.example"}),
    ("get-domain-names", "GetDomainNames", {"limit": 10}),
    ("create-base-path-mapping", "CreateBasePathMapping", {
        "domainName": "api.can2025.example", "basePath": "v1", "restApiId": API, "stage": "prod"}),
    ("create-base-path-mapping-root", "CreateBasePathMapping", {
        "domainName": "api.can2025.example", "restApiId": API}),
    ("get-base-path-mapping-none", "GetBasePathMapping", {"domainName": "api.can2025.example", "basePath": "(none)"}),
    ("delete-base-path-mapping-nested", "DeleteBasePathMapping", {
        "domainName": "api.can2025.example", "basePath": "v1/admin users"}),
    ("tag-resource", "TagResource", {
        "resourceArn": f"arn:aws:apigateway:us-east-1::/restapis/{API}/stages/prod",
        "tags": {"cost-center": "42", "empty": ""}}),
    ("untag-resource", "UntagResource", {
        "resourceArn": f"arn:aws:apigateway:us-east-1::/restapis/{API}", "tagKeys": ["cost-center", "a b&c"]}),
    ("get-tags", "GetTags", {"resourceArn": f"arn:aws:apigateway:us-east-1::/restapis/{API}"}),
    ("get-export", "GetExport", {
        "restApiId": API, "stageName": "prod", "exportType": "oas30",
        "parameters": {"extensions": "integrations", "x y": "1&2"}, "accepts": "application/yaml"}),
    ("get-export-default-accept", "GetExport", {"restApiId": API, "stageName": "prod", "exportType": "swagger"},
        {"accepts": "application/json"}),
    ("import-rest-api", "ImportRestApi", {
        "failOnWarnings": True, "parameters": {"endpointConfigurationTypes": "REGIONAL"},
        "body": b'{"openapi": "3.0.1", "info": {"title": "gates"}}'}),
    ("put-rest-api", "PutRestApi", {"restApiId": API, "mode": "overwrite", "body": b"\x00\x01binary\xff"}),
    ("delete-rest-api", "DeleteRestApi", {"restApiId": API}),
]

ITEM = {
    "pk": {"S": "match#2025-12-21"}, "sk": {"S": "ticket#000042"}, "price": {"N": "125.50"},
    "qr": {"B": b"\x00\x01\xfe\xff"}, "seats": {"SS": ["A1", "A2"]}, "codes": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"x", b"\xff"]}, "valid": {"BOOL": True}, "note": {"NULL": True},
    "history": {"L": [{"S": "issued"}, {"N": "1"}, {"M": {"by": {"S": "gate 3"}}}]},
    "holder": {"M": {"name": {"S": "Amina \"A\" <B>"}, "age": {"N": "30"}}},
}

DYNAMODB = [
    ("create-table", "CreateTable", {
        "TableName": "tickets", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"},
                                 {"AttributeName": "gate", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{"IndexName": "by-gate", "KeySchema": [{"AttributeName": "gate", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/gates-data"},
        "Tags": [{"Key": "app", "Value": "gates"}]}),
    ("describe-table", "DescribeTable", {"TableName": "tickets"}),
    ("put-item", "PutItem", {
        "TableName": "tickets", "Item": ITEM, "ConditionExpression": "attribute_not_exists(#pk)",
        "ExpressionAttributeNames": {"#pk": "pk"}, "ReturnValues": "NONE"}),
    ("get-item", "GetItem", {
        "TableName": "tickets", "Key": {"pk": ITEM["pk"], "sk": ITEM["sk"]}, "ConsistentRead": True,
        "ProjectionExpression": "pk, sk, #v", "ExpressionAttributeNames": {"#v": "valid"}}),
    ("query", "Query", {
        "TableName": "tickets", "IndexName": "by-gate", "KeyConditionExpression": "gate = :g",
        "ExpressionAttributeValues": {":g": {"S": "gate 3"}}, "Limit": 50, "ScanIndexForward": False,
        "ExclusiveStartKey": {"pk": ITEM["pk"], "sk": ITEM["sk"], "gate": {"S": "gate 3"}}}),
    ("batch-write-item", "BatchWriteItem", {"RequestItems": {"tickets": [
        {"PutRequest": {"Item": ITEM}},
        {"DeleteRequest": {"Key": {"pk": {"S": "match#2025-12-21"}, "sk": {"S": "ticket#000041"}}}}]},
        "ReturnConsumedCapacity": "TOTAL"}),
    ("update-item", "UpdateItem", {
        "TableName": "tickets", "Key": {"pk": ITEM["pk"], "sk": ITEM["sk"]},
        "UpdateExpression": "SET #s = :s ADD scans :one", "ExpressionAttributeNames": {"#s": "state"},
        "ExpressionAttributeValues": {":s": {"S": "used"}, ":one": {"N": "1"}}, "ReturnValues": "ALL_NEW"}),
    ("delete-table", "DeleteTable", {"TableName": "tickets"}),
]

SERVICES = {"apigateway": APIGATEWAY, "dynamodb": DYNAMODB}


def client(service, directory=None):
    session = botocore.session.get_session()
    endpoint = None
    if directory and os.path.isdir(os.path.join(directory, "models")):
        session.get_component("data_loader").search_paths.insert(0, os.path.join(directory, "models"))
        endpoint = f"https://{service}.example"
    return session.create_client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


class Raw:
    """The part of urllib3's response that AWSResponse reads."""

    def __init__(self, body):
        self.body = body
        self.unread = True

    def stream(self, **_):
        yield self.body

    def read(self, *_, **__):
        """For streamed payloads: the whole body once, then nothing."""
        body, self.body = (self.body, b"") if self.unread else (b"", b"")
        self.unread = False
        return body


class Captured(Exception):
    pass


def as_values(value):
    """Parameters as m2sec's services see them: blobs as base64 text, timestamps as epoch seconds."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: as_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_values(v) for v in value]
    return value


def capture(c, name, operation, params):
    """The request botocore would send for the call, in the fixtures' form."""
    seen = {}

    def stop(request, **_):
        seen["request"] = request
        raise Captured()

    c.meta.events.register("before-send", stop)
    try:
        getattr(c, botocore.xform_name(operation))(**params)
    except Captured:
        pass
    finally:
        c.meta.events.unregister("before-send", stop)
    request = seen["request"]
    url = urlsplit(request.url)
    body = request.body or b""
    if not isinstance(body, bytes):
        body = body.read() if hasattr(body, "read") else body.encode()
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
               if k.lower() not in ("authorization", "x-amz-date", "user-agent", "amz-sdk-invocation-id",
                                    "amz-sdk-request", "x-amz-content-sha256")}
    return {
        "name": name, "operation": operation,
        "method": request.method, "path": url.path, "query": url.query or None,
        "headers": headers, "body_base64": base64.b64encode(body).decode(),
    }


def gen(service):
    c = client(service)
    fixtures = []
    for case in SERVICES[service]:
        name, operation, params = case[:3]
        expected = as_values(params)
        expected.update(case[3] if len(case) > 3 else {})
        fixture = capture(c, name, operation, params)
        fixture["expected"] = expected
        fixtures.append(fixture)
    out = os.path.join(ROOT, f"crates/proto/tests/fixtures/{service}-requests.json")
    with open(out, "w") as f:
        json.dump({"source": SOURCE, "fixtures": fixtures}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(fixtures)} fixtures to {out}")


def normalize(value):
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.timezone.utc)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += ".%03d" % (value.microsecond // 1000)
        return text + "Z"
    if hasattr(value, "read"):  # a blob payload arrives as a stream
        value = value.read()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def run(c, case, body):
    def respond(request, **_):
        headers = dict(case.get("headers", {}))
        headers["x-amzn-RequestId"] = case["request_id"]
        return AWSResponse(request.url, case["status"], headers, Raw(body))

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
    else:
        if "result" not in outcome:
            return [f"unexpected error {outcome['error']!r}"]
        result = dict(outcome["result"])
        metadata = result.pop("ResponseMetadata", {})
        got = normalize(result)
        if got != case["expected"]:
            problems.append(f"parsed {got!r}\n      expected {case['expected']!r}")
    if metadata.get("RequestId") != case["request_id"]:
        problems.append(f"RequestId {metadata.get('RequestId')!r} != {case['request_id']!r}")
    status = metadata.get("HTTPStatusCode")
    if status != case["status"]:
        problems.append(f"HTTP status {status} != {case['status']}")
    return problems


def send(service, directory):
    with open(os.path.join(directory, "requests.json")) as f:
        cases = json.load(f)
    c = client(service, directory)
    sent = [capture(c, case["name"], case["operation"], case["params"]) for case in cases]
    with open(os.path.join(directory, "sent.json"), "w") as f:
        json.dump({"source": SOURCE, "fixtures": sent}, f, indent=1)


def check(service, directory):
    with open(os.path.join(directory, "cases.json")) as f:
        cases = json.load(f)
    c = client(service, directory)
    failures = []
    for case in cases:
        with open(os.path.join(directory, case["body_file"]), "rb") as f:
            body = f.read()
        try:
            problems = compare(case, run(c, case, body))
        except Exception as e:  # a parser failure is a failed case, not a crash
            problems = [f"{type(e).__name__}: {e}"]
        failures += [f"{case['name']}: {p}" for p in problems]
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"botocore {botocore.__version__} parsed {len(cases)} {service} responses as expected")


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 2 and args[0] in SERVICES and args[1] == "gen":
        gen(args[0])
    elif len(args) == 3 and args[1] == "check":
        check(args[0], args[2])
    elif len(args) == 3 and args[1] == "send":
        send(args[0], args[2])
    else:
        sys.exit(__doc__)
