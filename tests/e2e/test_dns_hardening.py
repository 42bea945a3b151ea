"""The DNS server against hostile clients: idle and half-sent TCP connections are closed after
dns_tcp_idle_timeout_secs, ANY gets one RRset (RFC 8482) rather than an amplified answer, and connections
beyond the cap or beyond the file descriptor limit neither spin the CPU nor starve the HTTP API."""
import os
import select
import shutil
import socket
import struct
import subprocess
import time
import urllib.request

import pytest

from conftest import Server, free_port
from e2e_support import wait_for
from test_route53_dns import batch, dig, rrset

IDLE_TIMEOUT = 2
TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 15: "MX", 16: "TXT", 28: "AAAA", 41: "OPT", 255: "ANY", 257: "CAA"}
ANY = 255


def start(fresh_server, env=None, wrapper=()):
    port = free_port()
    server = fresh_server(env={"M2SEC_DNS_LISTEN": f"127.0.0.1:{port}", **(env or {})})
    if wrapper:
        server.command = lambda: [*wrapper, *Server.command(server)]
    server.start()
    server.dns_port = port
    return server


@pytest.fixture
def dns_server(fresh_server):
    return start(fresh_server, env={"M2SEC_DNS_TCP_IDLE_TIMEOUT_SECS": str(IDLE_TIMEOUT)})


def create_zone(server):
    """fanops.com with many RRsets at its apex (the amplifier an ANY query is after)."""
    r53 = server.client("route53", region="us-east-1")
    zid = r53.create_hosted_zone(Name="fanops.com", CallerReference="hardening")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=batch(
        ("CREATE", rrset("fanops.com", "TXT", [f'"{i}{"v" * 150}"' for i in range(3)])),
        ("CREATE", rrset("fanops.com", "MX", ["10 mx1.fanops.com", "20 mx2.fanops.com"])),
        ("CREATE", rrset("fanops.com", "AAAA", ["2001:db8::1"])),
        ("CREATE", rrset("fanops.com", "CAA", ['0 issue "amazon.com"'])),
        ("CREATE", rrset("fanops.com", "A", ["192.0.2.1"])),
        ("CREATE", rrset("api.fanops.com", "A", ["192.0.2.10"])),
        ("CREATE", rrset("link.fanops.com", "CNAME", ["api.fanops.com"])),
        ("CREATE", rrset("_sip._tcp.fanops.com", "SRV", ["10 60 5060 sip.fanops.com"])),
    ))


def query(name, qtype, qid=0x4242, edns=None):
    """A DNS query in wire form; `edns`: the UDP payload size offered in an OPT record."""
    qname = b"".join(bytes([len(label)]) + label.encode() for label in name.strip(".").split(".")) + b"\0"
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    opt = b"\0" + struct.pack("!HHIH", 41, edns, 0, 0) if edns else b""
    return header + qname + struct.pack("!HH", qtype, 1) + opt


def read_name(msg, at):
    labels = []
    while True:
        n = msg[at]
        if n >= 0xC0:
            name, _ = read_name(msg, ((n & 0x3F) << 8) | msg[at + 1])
            return ".".join(labels + [name]).strip("."), at + 2
        at += 1
        if n == 0:
            return ".".join(labels), at
        labels.append(msg[at:at + n].decode())
        at += n


def parse(msg):
    """(id, flags, rcode, [(name, type) of each answer], [type of each authority record])."""
    qid, flags, qd, an, ns, _ = struct.unpack("!HHHHHH", msg[:12])
    at = 12
    for _ in range(qd):
        _, at = read_name(msg, at)
        at += 4
    sections = []
    for count in (an, ns):
        records = []
        for _ in range(count):
            name, at = read_name(msg, at)
            kind, _, _, length = struct.unpack("!HHIH", msg[at:at + 10])
            records.append((name, TYPES.get(kind, kind)))
            at += 10 + length
        sections.append(records)
    return qid, flags, flags & 0xF, sections[0], [kind for _, kind in sections[1]]


def ask_udp(port, message):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(message, ("127.0.0.1", port))
        return s.recv(65535)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed by the server")
        data += chunk
    return data


def ask_on(sock, message):
    sock.sendall(struct.pack("!H", len(message)) + message)
    (length,) = struct.unpack("!H", recv_exact(sock, 2))
    return recv_exact(sock, length)


def ask_tcp(port, message):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        return ask_on(s, message)


def seconds_until_closed(socks, opened, limit):
    """Seconds from `opened` until the server closes each of `socks`; fails if one is open after `limit`."""
    waited = {}
    while len(waited) < len(socks):
        left = opened + limit - time.monotonic()
        if left <= 0:
            pytest.fail(f"the server kept a connection open more than {limit} s")
        readable, _, _ = select.select([x for x in socks if x not in waited], [], [], left)
        for sock in readable:
            try:
                data = sock.recv(1)
            except ConnectionResetError:
                data = b""
            assert data == b"", data
            waited[sock] = time.monotonic() - opened
    return [waited[sock] for sock in socks]


def is_closed(sock):
    """Whether the server has closed `sock` (without waiting)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


def cpu_seconds(pid):
    """User and system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_over(pid, seconds):
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - before


def try_tcp(port, message):
    """`ask_tcp`, or None if the server closed the connection or refused it."""
    try:
        return ask_tcp(port, message)
    except OSError:
        return None


def healthy(server):
    with urllib.request.urlopen(server.endpoint + "/health", timeout=3) as r:
        return r.status == 200


def test_idle_and_half_sent_tcp_connections_are_closed(dns_server):
    s = dns_server
    create_zone(s)
    opened = time.monotonic()
    idle = socket.create_connection(("127.0.0.1", s.dns_port))
    # A length prefix announcing 41 bytes, then one byte of them and nothing more.
    half_sent = socket.create_connection(("127.0.0.1", s.dns_port))
    half_sent.sendall(b"\x00\x29\x42")
    for waited in seconds_until_closed([idle, half_sent], opened, limit=IDLE_TIMEOUT + 4):
        assert IDLE_TIMEOUT * 0.9 <= waited, waited
    idle.close()
    half_sent.close()
    # A client asking every 1.2 s keeps its connection past the timeout: the time allowed is per message.
    opened = time.monotonic()
    with socket.create_connection(("127.0.0.1", s.dns_port), timeout=5) as steady:
        for _ in range(3):
            time.sleep(IDLE_TIMEOUT * 0.6)
            _, _, rcode, answers, _ = parse(ask_on(steady, query("api.fanops.com", 1)))
            assert (rcode, answers) == (0, [("api.fanops.com", "A")])
        assert time.monotonic() - opened > IDLE_TIMEOUT * 1.5
    # A query on a fresh connection is answered as before.
    _, _, rcode, answers, _ = parse(ask_tcp(s.dns_port, query("api.fanops.com", 1)))
    assert (rcode, answers) == (0, [("api.fanops.com", "A")])
    assert dig(s.dns_port, "+tcp", "api.fanops.com", "A", "+short").strip() == "192.0.2.10"


def test_any_is_answered_with_one_rrset(dns_server):
    s = dns_server
    create_zone(s)
    # The apex holds A, AAAA, MX, TXT, CAA, NS and SOA: ANY gets one RRset of them, over UDP (with the
    # EDNS size dig offers) and over TCP, hardly larger than the query.
    for transport, ask in (("udp", ask_udp), ("tcp", ask_tcp)):
        message = query("fanops.com", ANY, edns=4096)
        reply = ask(s.dns_port, message)
        qid, flags, rcode, answers, _ = parse(reply)
        assert (qid, rcode) == (0x4242, 0), transport
        assert flags & 0x0400 and not flags & 0x0200, (transport, hex(flags))  # aa, not truncated
        assert len(set(answers)) == 1, (transport, answers)
        assert len(reply) / len(message) < 2, (transport, len(reply), len(message))
    # That RRset is the real records of its type, as dig shows them.
    shown = dig(s.dns_port, "fanops.com", "ANY", "+noall", "+answer").strip().splitlines()
    assert len(shown) == 1 and shown[0].split()[3:] == ["A", "192.0.2.1"], shown
    # A CNAME is the answer to ANY, not followed.
    _, _, rcode, answers, _ = parse(ask_udp(s.dns_port, query("link.fanops.com", ANY)))
    assert (rcode, answers) == (0, [("link.fanops.com", "CNAME")])
    # NXDOMAIN and NODATA (a name with records below it only) as for any type, with the SOA.
    _, flags, rcode, answers, authority = parse(ask_udp(s.dns_port, query("nothing.fanops.com", ANY)))
    assert (rcode, answers, authority) == (3, [], ["SOA"]) and flags & 0x0400
    _, _, rcode, answers, authority = parse(ask_tcp(s.dns_port, query("_tcp.fanops.com", ANY)))
    assert (rcode, answers, authority) == (0, [], ["SOA"])
    # Names of no zone are refused.
    assert parse(ask_udp(s.dns_port, query("example.org", ANY)))[2] == 5


@pytest.mark.skipif(not shutil.which("prlimit"), reason="needs prlimit (util-linux)")
def test_connections_beyond_the_cap_under_a_small_file_limit(fresh_server):
    # 64 descriptors: the DNS server keeps at most an eighth for TCP clients, the rest for HTTP and the store.
    s = start(fresh_server, wrapper=("prlimit", "--nofile=64:64", "--"))
    create_zone(s)
    held = []
    try:
        for _ in range(120):
            held.append(socket.create_connection(("127.0.0.1", s.dns_port), timeout=5))
        time.sleep(0.5)
        open_ = [sock for sock in held if not is_closed(sock)]
        assert 1 <= len(open_) <= 8, len(open_)
        # With the rest held open: no spinning, DNS over UDP and the HTTP API still answer.
        assert cpu_over(s.proc.pid, 3) < 0.3
        _, _, rcode, answers, _ = parse(ask_udp(s.dns_port, query("api.fanops.com", 1)))
        assert (rcode, answers) == (0, [("api.fanops.com", "A")])
        assert healthy(s)
        assert s.client("route53", region="us-east-1").list_hosted_zones()["HostedZones"]
        # One warning for the burst, not one per connection.
        warnings = [line for line in s.logs().splitlines() if "connection cap reached" in line]
        assert 1 <= len(warnings) <= 2, warnings
    finally:
        for sock in held:
            sock.close()
    # Once the clients are gone, TCP is answered again.
    reply = wait_for(lambda: try_tcp(s.dns_port, query("api.fanops.com", 1)), timeout=5,
                     what="a TCP answer once the connections are closed")
    assert parse(reply)[3] == [("api.fanops.com", "A")]


@pytest.mark.skipif(not shutil.which("prlimit"), reason="needs prlimit (util-linux)")
def test_accept_backs_off_when_out_of_file_descriptors(fresh_server):
    s = start(fresh_server)
    create_zone(s)
    pid = s.proc.pid
    limits = subprocess.run(["prlimit", "--pid", str(pid), "--nofile", "--raw", "--noheadings",
                             "--output=SOFT,HARD"], capture_output=True, text=True, check=True).stdout.split()
    # A few descriptors left, then none: the DNS listener fails to accept, over and over.
    in_use = len(os.listdir(f"/proc/{pid}/fd"))
    subprocess.run(["prlimit", "--pid", str(pid), f"--nofile={in_use + 3}:{limits[1]}"], check=True)
    held = []
    try:
        for _ in range(20):
            held.append(socket.create_connection(("127.0.0.1", s.dns_port), timeout=5))
        time.sleep(0.5)
        assert cpu_over(pid, 3) < 0.3
        # UDP needs no descriptor: still answered.
        _, _, rcode, answers, _ = parse(ask_udp(s.dns_port, query("api.fanops.com", 1)))
        assert (rcode, answers) == (0, [("api.fanops.com", "A")])
        warnings = [line for line in s.logs().splitlines() if "accepting a connection failed" in line]
        assert 1 <= len(warnings) <= 2, warnings
    finally:
        subprocess.run(["prlimit", "--pid", str(pid), f"--nofile={limits[0]}:{limits[1]}"], check=True)
        for sock in held:
            sock.close()
    # Descriptors back: accepting resumes within the longest pause.
    reply = wait_for(lambda: try_tcp(s.dns_port, query("api.fanops.com", 1)), timeout=5,
                     what="a TCP answer once descriptors are free")
    assert parse(reply)[3] == [("api.fanops.com", "A")]
    assert healthy(s)
