#!/usr/bin/env python3
"""ACM issuance: time from the Route53 change that adds a validation record to the certificate being
ISSUED, and issuances per second by key algorithm (each issuance is triggered by the first
DescribeCertificate of a certificate whose record is already in place; the same describe of an issued
certificate is timed too, so the issuance's own cost shows). Part of scripts/bench; one m2sec process,
boto3 in the same machine."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from conftest import Server  # noqa: E402

s = Server(env={"M2SEC_SCHEDULER_INTERVAL_SECS": "3600"}).start()
acm = s.client("acm")
r53 = s.client("route53", region="us-east-1")
zone = r53.create_hosted_zone(Name="fanops.com", CallerReference="b")["HostedZone"]["Id"]
# Time from the Route53 change to ISSUED.
arn = acm.request_certificate(DomainName="api.fanops.com", SubjectAlternativeNames=["*.api.fanops.com"])["CertificateArn"]
rec = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][0]["ResourceRecord"]
t0 = time.perf_counter()
r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {"Name": rec["Name"], "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": rec["Value"]}]}}]})
t1 = time.perf_counter()
while acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
    pass
t2 = time.perf_counter()
print(f"change-resource-record-sets call {1000*(t1-t0):.1f} ms; change answered -> ISSUED seen {1000*(t2-t1):.1f} ms")
for alg, n in [("EC_prime256v1", 100), ("EC_secp384r1", 50), ("RSA_2048", 20)]:
    arns = [acm.request_certificate(DomainName="api.fanops.com", KeyAlgorithm=alg)["CertificateArn"] for _ in range(n)]
    t = time.perf_counter()
    for a in arns:
        assert acm.describe_certificate(CertificateArn=a)["Certificate"]["Status"] == "ISSUED"
    dt = time.perf_counter() - t
    # The describe of an already issued certificate, for the baseline.
    t = time.perf_counter()
    for a in arns:
        acm.describe_certificate(CertificateArn=a)
    base = time.perf_counter() - t
    print(f"{alg}: {n} issuances via DescribeCertificate in {dt:.2f} s = {n/dt:.1f}/s (describe alone {1000*base/n:.1f} ms, issuance adds {1000*(dt-base)/n:.1f} ms each)")
s.stop(); s.cleanup()
