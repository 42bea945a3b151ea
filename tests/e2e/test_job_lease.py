"""Background jobs on several nodes sharing one PostgreSQL store: each job (ACM's issuance and renewal,
KMS's rotation and deletion) runs only on the node holding its lease in the store, so two nodes
renew a certificate once and rotate a key once; when the holder stops (or dies), another node takes
over. scripts/test starts a throwaway PostgreSQL and exports M2SEC_TEST_POSTGRES_URL."""
import os
import re
import subprocess
import time
import uuid

import pytest

from e2e_support import wait_for

PG = os.environ.get("M2SEC_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not PG, reason="M2SEC_TEST_POSTGRES_URL not set (scripts/test sets it)")

NODE = re.compile(r"node id for background job leases node=(node-[0-9a-f]{12})")


def fresh_database():
    """A new empty database on the test cluster, so each test starts like a new deployment."""
    name = "m2sec_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", PG, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return PG.rsplit("/", 1)[0] + "/" + name


def psql(db, sql):
    subprocess.run(["psql", db, "-q", "-c", sql], check=True, capture_output=True)


def node_of(server):
    return NODE.search(server.logs()).group(1)


def lines(server, *needles):
    return [line for line in server.logs().splitlines() if all(n in line for n in needles)]


def sibling(fresh_server, tmp_path, first, db, env, name):
    """Another node on the same store: its own data dir with the first node's root key."""
    d = tmp_path / name
    d.mkdir()
    (d / "root-key.dev").write_bytes((first.data_dir / "root-key.dev").read_bytes())
    os.chmod(d / "root-key.dev", 0o600)
    return fresh_server(data_dir=d, args=["--store", db], env=env)


def test_two_nodes_renew_each_certificate_and_rotate_each_key_once(fresh_server, tmp_path):
    db = fresh_database()
    # One node issues one-day certificates (its renewal window is 0 days: it renews nothing).
    first = fresh_server(args=["--store", db], env={
        "M2SEC_SCHEDULER_INTERVAL_SECS": "1", "M2SEC_ACM_VALIDITY_DAYS": "1", "M2SEC_ACM_RENEW_BEFORE_DAYS": "0",
    }).start()
    acm, r53 = first.client("acm"), first.client("route53", region="us-east-1")
    zone = r53.create_hosted_zone(Name="lease.fanops.com", CallerReference="lease")["HostedZone"]["Id"]
    arns = [acm.request_certificate(DomainName=f"app{i}.lease.fanops.com")["CertificateArn"] for i in range(3)]
    changes = []
    for arn in arns:
        rr = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][0]["ResourceRecord"]
        changes.append({"Action": "UPSERT", "ResourceRecordSet": {
            "Name": rr["Name"], "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": rr["Value"]}]}})
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
    first_serials = {}
    for arn in arns:
        d = wait_for(lambda: (c := acm.describe_certificate(CertificateArn=arn)["Certificate"])["Status"] == "ISSUED"
                     and c, timeout=10, what="issued")
        first_serials[arn] = d["Serial"]
    kms = first.client("kms")
    key = kms.create_key(Description="lease rotation")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
    assert first.stop() == 0
    # The key's rotation is due now.
    psql(db, f"UPDATE kms_keys SET next_rotation_at = {int(time.time() * 1000) - 1000} WHERE key_id = '{key}'")

    # Two nodes with three-day certificates renewed within two days of expiry: the one-day certificates
    # are due once; their successors are not.
    env = {"M2SEC_SCHEDULER_INTERVAL_SECS": "1", "M2SEC_ACM_VALIDITY_DAYS": "3", "M2SEC_ACM_RENEW_BEFORE_DAYS": "2"}
    a = sibling(fresh_server, tmp_path, first, db, env, "node-a").start()
    b = sibling(fresh_server, tmp_path, first, db, env, "node-b").start()
    acm = a.client("acm")

    def renewed():
        out = {}
        for arn in arns:
            d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            if d["Serial"] == first_serials[arn] or d.get("RenewalSummary", {}).get("RenewalStatus") != "SUCCESS":
                return None
            out[arn] = d
        return out

    done = wait_for(renewed, timeout=15, interval=0.3, what="every certificate renewed")
    for d in done.values():
        lifetime = d["NotAfter"] - d["NotBefore"]
        assert abs(lifetime.total_seconds() - 3 * 86400) < 120
    rotations = wait_for(lambda: a.client("kms").list_key_rotations(KeyId=key)["Rotations"], timeout=10,
                         what="the key rotated")
    # Several more ticks on both nodes.
    time.sleep(4)

    for arn in arns:
        found = lines(a, "renewed ACM certificate", arn) + lines(b, "renewed ACM certificate", arn)
        assert len(found) == 1, (arn, found)
        assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Serial"] == done[arn]["Serial"]
    assert len(a.client("kms").list_key_rotations(KeyId=key)["Rotations"]) == len(rotations) == 1
    rotated = lines(a, "KMS scheduled jobs", "rotated=1") + lines(b, "KMS scheduled jobs", "rotated=1")
    assert len(rotated) == 1, rotated

    # The log says which node ran them: the node that holds the lease, named in its own lines.
    holder, other = (a, b) if lines(a, "renewed ACM certificate") else (b, a)
    for line in lines(holder, "renewed ACM certificate"):
        assert f"node={node_of(holder)}" in line, line
    assert lines(holder, "this node runs ACM's background jobs", node_of(holder))
    assert not lines(other, "this node runs ACM's background jobs")
    assert node_of(a) != node_of(b)

    # The holder stops (releasing its leases): the other node takes the jobs over at its next tick.
    assert holder.stop() == 0
    wait_for(lambda: lines(other, "this node runs ACM's background jobs", node_of(other))
             and lines(other, "this node runs KMS's scheduled jobs", node_of(other)),
             timeout=5, what="the other node taking the jobs over")


def test_a_holder_that_dies_is_replaced_once_its_lease_lapses(fresh_server, tmp_path):
    db = fresh_database()
    env = {"M2SEC_SCHEDULER_INTERVAL_SECS": "1"}
    a = fresh_server(args=["--store", db], env=env).start()
    wait_for(lambda: lines(a, "this node runs ACM's background jobs"), timeout=5, what="a holding the lease")
    b = sibling(fresh_server, tmp_path, a, db, env, "node-b").start()
    time.sleep(2)
    assert not lines(b, "this node runs ACM's background jobs")
    # Killed: nothing is released; the lease (three intervals, at least 3 s) lapses and b takes it.
    a.kill()
    started = time.time()
    wait_for(lambda: lines(b, "this node runs ACM's background jobs"), timeout=10, what="b taking over")
    assert time.time() - started < 6
