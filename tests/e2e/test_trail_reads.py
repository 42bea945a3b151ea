"""Reading the trail right after the calls it records, and the cost report over HTTP
(`GET /_m2sec/usage`, SigV4-signed for the service `cloudtrail`)."""
import json
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, REGION, SECRET_KEY


def signed_get(server, path, access_key=ACCESS_KEY, secret_key=SECRET_KEY, service="cloudtrail"):
    request = AWSRequest(method="GET", url=server.endpoint + path)
    SigV4Auth(Credentials(access_key, secret_key), service, REGION).add_auth(request)
    prepared = urllib.request.Request(server.endpoint + path, headers=dict(request.headers), method="GET")
    try:
        with urllib.request.urlopen(prepared) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_usage_route_prices_the_recorded_calls(fresh_server):
    server = fresh_server().start()
    kms = server.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(3):
        kms.encrypt(KeyId=key, Plaintext=b"x")
    server.client("ssm").put_parameter(Name="/usage/p", Value="v", Type="String")

    status, report = signed_get(server, "/_m2sec/usage")
    assert status == 200, report
    [month] = report["months"]
    assert report["account"] == "000000000000" or report["account"].isdigit()
    assert month["requests"]["kms.amazonaws.com"] == {"CreateKey": 1, "Encrypt": 3}
    assert month["requests"]["ssm.amazonaws.com"] == {"PutParameter": 1}
    assert month["kmsRequests"] == 4
    assert month["kmsKeyMonths"] >= 0

    # A bad period is a validation error; an unsigned or wrongly signed request is refused.
    status, body = signed_get(server, "/_m2sec/usage?since=2026-13-01")
    assert status == 400 and body["__type"] == "ValidationException"
    status, body = signed_get(server, "/_m2sec/usage", secret_key="wrong" * 8)
    assert status in (400, 403) and "Signature" in body["__type"]
    req = urllib.request.Request(server.endpoint + "/_m2sec/usage")
    try:
        urllib.request.urlopen(req)
        raise AssertionError("unsigned usage request accepted")
    except urllib.error.HTTPError as e:
        assert e.code in (400, 403)


def test_a_lookup_sees_every_call_answered_before_it(fresh_server):
    server = fresh_server().start()
    kms = server.client("kms")
    ct = server.client("cloudtrail")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for i in range(20):
        # A read's record is written in the background; a lookup still sees it at once.
        kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"i": str(i)})
        [latest] = ct.lookup_events(MaxResults=1)["Events"]
        assert latest["EventName"] == "Encrypt"
        assert json.loads(latest["CloudTrailEvent"])["requestParameters"]["encryptionContext"] == {"i": str(i)}
