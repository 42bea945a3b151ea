"""Route53 hosted zones and record sets over restXml, with the aws CLI and boto3, and m2sec's DNS server
answering them (queried with dig, over UDP and TCP)."""
import json
import subprocess

import botocore.exceptions
import pytest

from conftest import expect_error, free_port


def dig(port, *args):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+time=2", "+tries=1", *args],
                         capture_output=True, text=True, timeout=20)
    return out.stdout


@pytest.fixture
def dns_server(fresh_server):
    port = free_port()
    server = fresh_server(env={"M2SEC_DNS_LISTEN": f"127.0.0.1:{port}"}).start()
    server.dns_port = port
    return server


def batch(*changes):
    return {"Changes": [{"Action": a, "ResourceRecordSet": s} for a, s in changes]}


def rrset(name, kind, values, ttl=300):
    return {"Name": name, "Type": kind, "TTL": ttl, "ResourceRecords": [{"Value": v} for v in values]}


def test_the_guides_validation_record_is_served(dns_server, tmp_path):
    s = dns_server
    out = s.aws("route53", "create-hosted-zone", "--name", "fanops.com", "--caller-reference", "1")
    zone_id = out["HostedZone"]["Id"]
    assert zone_id.startswith("/hostedzone/Z")
    assert out["HostedZone"]["Name"] == "fanops.com."
    assert out["ChangeInfo"]["Status"] == "INSYNC"
    assert out["DelegationSet"]["NameServers"]
    assert out["Location"].endswith(zone_id.split("/")[-1])

    change = tmp_path / "cname.json"
    change.write_text(json.dumps(batch(("CREATE", rrset("_a79865eb4cd1a6ab990a45779b4e0b96.api.fanops.com", "CNAME",
                                                        ["_424c7224e9b0146f9a8808af955727d0.hkmpvcwbzw.acm-validations.aws."])))))
    done = s.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone_id,
                 "--change-batch", f"file://{change}")
    change_id = done["ChangeInfo"]["Id"]
    assert s.aws("route53", "get-change", "--id", change_id)["ChangeInfo"]["Status"] == "INSYNC"

    answer = dig(s.dns_port, "_a79865eb4cd1a6ab990a45779b4e0b96.api.fanops.com", "CNAME", "+short")
    assert answer.strip() == "_424c7224e9b0146f9a8808af955727d0.hkmpvcwbzw.acm-validations.aws."
    # The same over TCP, and the name is case-insensitive.
    answer = dig(s.dns_port, "+tcp", "_A79865EB4CD1A6AB990A45779B4E0B96.api.FANOPS.com", "CNAME", "+short")
    assert answer.strip() == "_424c7224e9b0146f9a8808af955727d0.hkmpvcwbzw.acm-validations.aws."
    # Authoritative NXDOMAIN with the zone's SOA; names of no zone are refused.
    full = dig(s.dns_port, "nothing.fanops.com", "A")
    assert "status: NXDOMAIN" in full and "flags: qr aa" in full and "SOA" in full
    assert "status: REFUSED" in dig(s.dns_port, "example.org", "A")


def test_record_sets_with_boto3(dns_server):
    s = dns_server
    r53 = s.client("route53", region="us-east-1")
    zone = r53.create_hosted_zone(Name="api.fanops.com", CallerReference="ref-api",
                                  HostedZoneConfig={"Comment": "gates API", "PrivateZone": False})["HostedZone"]
    zid = zone["Id"]
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=batch(
        ("CREATE", rrset("api.fanops.com", "A", ["192.0.2.10"], ttl=60)),
        ("CREATE", rrset("*.api.fanops.com", "A", ["192.0.2.20"])),
        ("CREATE", rrset("txt.api.fanops.com", "TXT", ['"v=spf1 -all"'])),
        ("CREATE", rrset("mail.api.fanops.com", "MX", ["10 mx.api.fanops.com"])),
        ("CREATE", {"Name": "www.api.fanops.com", "Type": "A",
                    "AliasTarget": {"HostedZoneId": zid.split("/")[-1], "DNSName": "api.fanops.com",
                                    "EvaluateTargetHealth": False}}),
    ))
    sets = r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    assert [(x["Name"], x["Type"]) for x in sets] == [
        ("api.fanops.com.", "A"), ("api.fanops.com.", "NS"), ("api.fanops.com.", "SOA"),
        ("\\052.api.fanops.com.", "A"),
        ("mail.api.fanops.com.", "MX"), ("txt.api.fanops.com.", "TXT"), ("www.api.fanops.com.", "A"),
    ]
    assert dig(s.dns_port, "anything.api.fanops.com", "A", "+short").strip() == "192.0.2.20"
    assert dig(s.dns_port, "www.api.fanops.com", "A", "+short").strip() == "192.0.2.10"
    assert dig(s.dns_port, "txt.api.fanops.com", "TXT", "+short").strip() == '"v=spf1 -all"'
    page = r53.list_resource_record_sets(HostedZoneId=zid, StartRecordName="mail.api.fanops.com", MaxItems="1")
    assert page["ResourceRecordSets"][0]["Type"] == "MX" and page["IsTruncated"]
    assert page["NextRecordName"] == "txt.api.fanops.com."

    # UPSERT changes what DNS answers at once; DELETE needs the exact current values.
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=batch(
        ("UPSERT", rrset("api.fanops.com", "A", ["192.0.2.11"], ttl=60))))
    assert dig(s.dns_port, "api.fanops.com", "A", "+short").strip() == "192.0.2.11"
    expect_error("InvalidChangeBatch", lambda: r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=batch(
        ("DELETE", rrset("api.fanops.com", "A", ["192.0.2.99"], ttl=60)))))
    # A refused batch changes nothing, even its valid changes.
    expect_error("InvalidChangeBatch", lambda: r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=batch(
        ("CREATE", rrset("new.api.fanops.com", "A", ["192.0.2.1"])),
        ("CREATE", rrset("outside.example.com", "A", ["192.0.2.1"])))))
    names = [x["Name"] for x in r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]]
    assert "new.api.fanops.com." not in names

    got = r53.get_hosted_zone(Id=zid)
    assert got["HostedZone"]["Config"]["Comment"] == "gates API"
    assert got["HostedZone"]["ResourceRecordSetCount"] == 7
    expect_error("HostedZoneNotEmpty", lambda: r53.delete_hosted_zone(Id=zid))
    expect_error("NoSuchHostedZone", lambda: r53.get_hosted_zone(Id="/hostedzone/ZNOSUCHZONE123"), status=404)
    expect_error("HostedZoneAlreadyExists",
                 lambda: r53.create_hosted_zone(Name="other.fanops.com", CallerReference="ref-api"))
    expect_error("InvalidDomainName",
                 lambda: r53.create_hosted_zone(Name="bad name.com", CallerReference="ref-bad"))


def test_zone_listing_and_deletion(dns_server):
    r53 = dns_server.client("route53", region="us-east-1")
    ids = [r53.create_hosted_zone(Name=n, CallerReference=f"r{i}")["HostedZone"]["Id"]
           for i, n in enumerate(["b.example.com", "a.example.com", "fanops.com"])]
    names = [z["Name"] for z in r53.list_hosted_zones_by_name()["HostedZones"]]
    assert names == ["a.example.com.", "b.example.com.", "fanops.com."]
    assert r53.get_hosted_zone_count()["HostedZoneCount"] == 3
    first = r53.list_hosted_zones(MaxItems="2")
    assert first["IsTruncated"] and len(first["HostedZones"]) == 2
    rest = r53.list_hosted_zones(Marker=first["NextMarker"])
    assert len(rest["HostedZones"]) == 1 and not rest["IsTruncated"]
    assert r53.delete_hosted_zone(Id=ids[2])["ChangeInfo"]["Status"] == "INSYNC"
    assert "REFUSED" in dig(dns_server.dns_port, "fanops.com", "SOA")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        r53.list_health_checks()
    assert e.value.response["Error"]["Code"] == "UnsupportedOperationException"
    # Calls are in the trail, as global events in us-east-1.
    ct = dns_server.client("cloudtrail", region="us-east-1")
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "route53.amazonaws.com"}])
    assert "DeleteHostedZone" in [e["EventName"] for e in events["Events"]]


RARER = {
    # type: (name, values as Route53 takes them, what `dig +short` prints)
    "CAA": ("rare.fanops.com", ['0 issue "amazon.com"', '0 issuewild ";"', '128 iodef "mailto:security@fanops.com"'],
            ['0 issue "amazon.com"', '0 issuewild ";"', '128 iodef "mailto:security@fanops.com"']),
    "DS": ("child.rare.fanops.com", ["60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"],
           ["60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"]),
    "NAPTR": ("sip.rare.fanops.com", ['100 10 "U" "E2U+sip" "!^.*$!sip:info@fanops.com!" .'],
              ['100 10 "U" "E2U+sip" "!^.*$!sip:info@fanops.com!" .']),
    "SPF": ("rare.fanops.com", ['"v=spf1 include:_spf.fanops.com -all"'],
            ['"v=spf1 include:_spf.fanops.com -all"']),
    "SSHFP": ("host.rare.fanops.com", ["4 2 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"],
              ["4 2 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"]),
    "TLSA": ("_443._tcp.rare.fanops.com", ["3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"],
             ["3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"]),
    "HTTPS": ("rare.fanops.com", ['1 . alpn="h3,h2" port=443 ipv4hint=192.0.2.10'],
              ['1 . alpn="h3,h2" port=443 ipv4hint=192.0.2.10']),
    "SVCB": ("_dns.rare.fanops.com", ["1 dns.fanops.com. alpn=dot port=853"],
             ['1 dns.fanops.com. alpn="dot" port=853']),
    "PTR": ("10.2.0.192.rare.fanops.com", ["api.fanops.com."], ["api.fanops.com."]),
    "SRV": ("_sip._tcp.rare.fanops.com", ["10 60 5060 sip.fanops.com"], ["10 60 5060 sip.fanops.com."]),
    "AAAA": ("v6.rare.fanops.com", ["2001:db8::10"], ["2001:db8::10"]),
}


def test_every_route53_type_is_stored_and_answered(dns_server):
    s = dns_server
    r53 = s.client("route53", region="us-east-1")
    zid = r53.create_hosted_zone(Name="rare.fanops.com", CallerReference="rare")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=batch(
        *[("CREATE", rrset(name, kind, values)) for kind, (name, values, _) in RARER.items()]))
    listed = {(x["Type"], x["Name"]): [r["Value"] for r in x["ResourceRecords"]]
              for x in r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]}
    for kind, (name, values, _) in RARER.items():
        assert listed[(kind, name + ".")] == values, (kind, listed)

    for kind, (name, _, shown) in RARER.items():
        for transport in ([], ["+tcp"]):
            out = dig(s.dns_port, *transport, name, kind, "+short")
            # dig splits long hex fields in blocks: compare without blanks.
            squeeze = lambda lines: sorted("".join(line.split()) for line in lines)  # noqa: E731
            assert squeeze(out.strip().splitlines()) == squeeze(shown), (kind, transport, out)
    # Authoritative, with the record type dig names.
    full = dig(s.dns_port, "rare.fanops.com", "CAA")
    assert "flags: qr aa" in full and "status: NOERROR" in full
    assert 'IN\tCAA\t0 issue "amazon.com"' in full, full
    # A type the name does not have: NODATA with the zone's SOA.
    full = dig(s.dns_port, "host.rare.fanops.com", "TLSA")
    assert "status: NOERROR" in full and "ANSWER: 0" in full and "SOA" in full


def test_record_values_are_checked_as_route53_does(dns_server):
    r53 = dns_server.client("route53", region="us-east-1")
    zid = r53.create_hosted_zone(Name="check.fanops.com", CallerReference="check")["HostedZone"]["Id"]
    bad = [
        ("CAA", "0 issue amazon.com", "InvalidCharacterString (Value should be enclosed in quotation marks)"),
        ("CAA", "300 issue \"amazon.com\"", "RRDATAIllegalNumber"),
        ("DS", "60485 5 2 2BB183AF5F22588179A53B0A98631FAD1A292118", "DSRRDATAIllegalLength"),
        ("SSHFP", "1 1 nothex", "RRDATAIllegalHex"),
        ("TLSA", "4 1 1 00", "TLSARRDATAIllegalUsage"),
        ("NAPTR", "100 10 U E2U+sip x .", "InvalidCharacterString"),
        ("SPF", "v=spf1 -all", "InvalidCharacterString"),
        ("HTTPS", "1 . colour=blue", "HTTPSRRDATAIllegalParams"),
        ("A", "192.0.2.300", "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)"),
        ("MX", "10", "RRDATATooFewFields"),
    ]
    for kind, value, reason in bad:
        msg = expect_error("InvalidChangeBatch", lambda: r53.change_resource_record_sets(
            HostedZoneId=zid, ChangeBatch=batch(("CREATE", rrset("x.check.fanops.com", kind, [value])))))
        assert "Invalid Resource Record: FATAL problem: " in msg and reason in msg, (kind, value, msg)
        assert f"encountered with '{value}'" in msg, msg
    # A DS record at the zone's apex is refused: it belongs to the parent zone.
    msg = expect_error("InvalidChangeBatch", lambda: r53.change_resource_record_sets(
        HostedZoneId=zid, ChangeBatch=batch(("CREATE", rrset("check.fanops.com", "DS",
                                                             ["60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"])))))
    assert "is not permitted at apex" in msg, msg
    # A type Route53 does not have is refused by the model.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        dns_server.client("route53", region="us-east-1", validate=False).change_resource_record_sets(
            HostedZoneId=zid, ChangeBatch=batch(("CREATE", rrset("x.check.fanops.com", "HINFO", ['"a" "b"']))))
    assert e.value.response["Error"]["Code"] == "InvalidInput", e.value.response
    names = [x["Name"] for x in r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]]
    assert names == ["check.fanops.com.", "check.fanops.com."]
