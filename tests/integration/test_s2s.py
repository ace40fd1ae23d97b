"""test_s2s.py: federation between two plucsd instances (RFC 6120 with
jabber:server, XEP-0220 dialback, STARTTLS), from the same slapd: one serves
a.test on 127.0.12.1, the other b.test on 127.0.12.2, each with a
plucs/s2s/route to the other. Also the failures a sender sees (peer
unreachable, peer silent, TLS mode mismatch), a hostile incoming stream
(stanza before authentication, spoofed 'from' after dialback done by hand
against a fake authoritative server), idle close and `plucs status`.

The harness's certificates are self-signed, so TLS here is always followed
by dialback; SASL EXTERNAL and required_trusted need a test CA."""
import os
import re
import socket
import subprocess
import threading
import time

import pytest

import plucs_harness as H
import web_clients as W

A_IP, B_IP, FAKE_IP = "127.0.12.1", "127.0.12.2", "127.0.12.3"


def _start(plucsd_factory, domain, ip, s2s_port, peer, peer_route, **extra):
    reg = {
        "plucs/domains": domain,
        "plucs/c2s/address": ip,
        "plucs/s2s": "true",
        "plucs/s2s/address": ip,
        "plucs/s2s/port": str(s2s_port),
        "plucs/s2s/route/" + peer: peer_route,
        "plucs/s2s/timeout": "5",
    }
    reg.update(extra)
    return plucsd_factory(**reg)


def start_pair(plucsd_factory, a_extra=None, b_extra=None, **both):
    pa, pb = H.free_port(), H.free_port()
    a = _start(plucsd_factory, "a.test", A_IP, pa, "b.test", "%s:%d" % (B_IP, pb),
               **dict(both, **(a_extra or {})))
    b = _start(plucsd_factory, "b.test", B_IP, pb, "a.test", "%s:%d" % (A_IP, pa),
               **dict(both, **(b_extra or {})))
    a.s2s_port, b.s2s_port = pa, pb
    return a, b


@pytest.fixture
def login():
    made = []

    def make(daemon, user, tls="on"):
        c = H.Client(daemon.port, H.jid(user), H.password(user), tls=tls, host=daemon.c2s_host)
        made.append(c)
        r = c.login()
        assert r.ok, r
        c.send_presence()
        return c

    yield make
    for c in made:
        c.close()


def expect_body(c, body, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = c.wait_message(max(0.1, end - time.monotonic()))
        if m is None:
            break
        if m["body"] == body:
            assert m["type"] != "error", m
            return m
    raise AssertionError("message %r not received within %s s" % (body, timeout))


def expect_error(c, condition, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = c.wait_message(max(0.1, end - time.monotonic()))
        if m is None:
            break
        if m["type"] == "error":
            assert m["error"]["condition"] == condition, m
            return m
    raise AssertionError("no %s error within %s s" % (condition, timeout))


def status(daemon):
    out = subprocess.run([os.path.join(H.BUILD, "plucs"), "--registry", daemon.registry_path,
                          "status"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def exchange(a, b, login):
    alice = login(a, "alice")
    dave = login(b, "dave")
    alice.send_message("dave@b.test", "hello dave")
    expect_body(dave, "hello dave")
    dave.send_message("alice@a.test", "hello alice")
    expect_body(alice, "hello alice")
    return alice, dave


# --- messages both ways --------------------------------------------------------

def test_plain_dialback_status_and_idle_close(plucsd_factory, login):
    a, b = start_pair(plucsd_factory, **{"plucs/s2s/tls": "false", "plucs/s2s/idle": "10"})
    exchange(a, b, login)
    for d, local, remote in ((a, "a.test", "b.test"), (b, "b.test", "a.test")):
        assert d.wait_log(r"s2s: outgoing %s -> %s: authenticated by dialback without TLS"
                          % (local, remote), 5), d.log()
        assert d.wait_log(r"s2s: incoming %s -> %s .*authenticated by dialback" % (remote, local),
                          5), d.log()
    st = status(a)
    assert re.search(r"^s2s/stream/\d+: peer=b\.test local=a\.test direction=out tls=no "
                     r"auth=dialback idle=\d+$", st, re.M), st
    assert re.search(r"^s2s/stream/\d+: peer=b\.test local=a\.test direction=in tls=no "
                     r"auth=dialback idle=\d+$", st, re.M), st
    _, _, metrics = W.http_request(a.http_port, "GET", "/metrics")
    assert 'plucs_s2s_streams{direction="in"} 1' in metrics, metrics
    assert 'plucs_s2s_streams{direction="out"} 1' in metrics, metrics
    # no stanza for plucs/s2s/idle seconds: closed, with a log line
    # (whichever side's timer fires first closes; the other sees the peer close)
    idle = r"s2s: (outgoing|incoming) stream [ab]\.test -> [ab]\.test closed idle"
    assert H.wait_until(lambda: re.search(idle, a.log()) or re.search(idle, b.log()), 25), \
        a.log()[-3000:] + b.log()[-3000:]
    assert H.wait_until(lambda: "peer=b.test" not in status(a), 10), status(a)
    assert H.wait_until(lambda: "peer=a.test" not in status(b), 10), status(b)
    _, _, metrics = W.http_request(a.http_port, "GET", "/metrics")
    assert 'plucs_s2s_streams{direction="out"} 0' in metrics, metrics


def test_optional_starttls_then_dialback(plucsd_factory, login):
    a, b = start_pair(plucsd_factory, **{"plucs/s2s/tls": "optional"})
    exchange(a, b, login)
    assert a.wait_log(r"s2s: outgoing a\.test -> b\.test: TLS established", 5), a.log()
    assert a.wait_log(r"s2s: outgoing a\.test -> b\.test: authenticated by dialback over TLS",
                      5), a.log()
    assert b.wait_log(r"s2s: outgoing b\.test -> a\.test: authenticated by dialback over TLS",
                      5), b.log()
    st = status(b)
    assert re.search(r"peer=a\.test local=b\.test direction=out tls=yes auth=dialback", st), st


def test_required_refuses_plain_peer_both_ways(plucsd_factory, login):
    a, b = start_pair(plucsd_factory, a_extra={"plucs/s2s/tls": "required"},
                      b_extra={"plucs/s2s/tls": "false"})
    alice = login(a, "alice")
    dave = login(b, "dave")
    alice.send_message("dave@b.test", "never")
    expect_error(alice, "remote-server-not-found")
    assert a.wait_log(r"outgoing a\.test -> b\.test failed: the peer does not offer TLS", 5)
    dave.send_message("alice@a.test", "never either")
    expect_error(dave, "remote-server-not-found")
    assert b.wait_log(r"outgoing b\.test -> a\.test failed: the peer requires TLS", 5), b.log()


# --- unreachable and silent peers ----------------------------------------------

def test_unreachable_peer_bounces(plucsd_factory, login):
    a = _start(plucsd_factory, "a.test", A_IP, H.free_port(), "b.test",
               "%s:%d" % (B_IP, H.dead_port()))
    alice = login(a, "alice")
    t0 = time.monotonic()
    alice.send_message("dave@b.test", "nobody there")
    m = expect_error(alice, "remote-server-not-found", 10)
    assert m["from"].bare == "dave@b.test"
    assert time.monotonic() - t0 < 5
    assert a.wait_log(r"outgoing a\.test -> b\.test: connecting to %s" % re.escape(B_IP), 5)
    assert a.wait_log(r"outgoing a\.test -> b\.test failed", 5)
    # presence is never bounced
    alice.x.send_presence(pto="dave@b.test", ptype="subscribe")
    alice.send_message("dave@b.test", "second")
    expect_error(alice, "remote-server-not-found", 10)


def test_silent_peer_times_out(plucsd_factory, login):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((FAKE_IP, 0))
    srv.listen(5)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])   # accepts and says nothing
            except OSError:
                pass
    th = threading.Thread(target=accept, daemon=True)
    th.start()
    try:
        a = _start(plucsd_factory, "a.test", A_IP, H.free_port(), "b.test",
                   "%s:%d" % (FAKE_IP, srv.getsockname()[1]), **{"plucs/s2s/timeout": "3"})
        alice = login(a, "alice")
        t0 = time.monotonic()
        alice.send_message("dave@b.test", "anyone?")
        expect_error(alice, "remote-server-timeout", 10)
        took = time.monotonic() - t0
        assert 2.5 <= took < 6, took
        assert held, "plucsd never connected to the silent peer"
        assert a.wait_log(r"outgoing a\.test -> b\.test failed: no answer within 3 s", 5)

        # the queue is bounded: 1000 stanzas wait, the rest bounce at once
        for i in range(1005):
            alice.send_message("dave@b.test", "q%d" % i)
        seen = {}
        end = time.monotonic() + 20
        while sum(seen.values()) < 1005 and time.monotonic() < end:
            m = alice.wait_message(max(0.1, end - time.monotonic()))
            if m is None:
                break
            if m["type"] == "error":
                c = m["error"]["condition"]
                seen[c] = seen.get(c, 0) + 1
        assert seen == {"resource-constraint": 5, "remote-server-timeout": 1000}, seen
        assert a.wait_log(r"queue full \(1000 stanzas\)", 5)
    finally:
        stop.set()
        th.join(2)
        srv.close()
        for c in held:
            c.close()


# --- hostile incoming streams --------------------------------------------------

HDR = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
       "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
       "from='b.test' to='a.test' version='1.0'>")


def test_stanza_before_authentication(plucsd_factory):
    a = _start(plucsd_factory, "a.test", A_IP, H.free_port(), "b.test", "%s:%d" % (
        B_IP, H.dead_port()), **{"plucs/s2s/tls": "false"})
    port = int(a.registry["plucs/s2s/port"])
    r = H.RawClient(port, host=A_IP)
    try:
        r.send(HDR)
        assert r.read_until(r"<stream:features>.*</stream:features>", 5)
        # dialback for a domain not served here: a dialback error (XEP-0220 2.4)
        r.send("<db:result from='b.test' to='c.test'>k</db:result>")
        assert r.read_until(r"<db:result from='c\.test' to='b\.test' type='error'><error "
                            r"type='cancel'><item-not-found ", 5)
        r.send("<message from='dave@b.test' to='alice@a.test'><body>x</body></message>")
        assert r.read_until(r"<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", 5)
        assert r.wait_closed(5)
    finally:
        r.close()
    # a stream to a domain not served here
    r = H.RawClient(port, host=A_IP)
    try:
        r.send(HDR.replace("to='a.test'", "to='c.test'"))
        assert r.read_until(r"<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", 5)
    finally:
        r.close()


class FakeAuthoritative:
    """b.test's authoritative server for dialback: accepts plucsd's
    outgoing stream, offers dialback and answers every db:verify 'valid'."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((FAKE_IP, 0))
        self.srv.listen(5)
        self.port = self.srv.getsockname()[1]
        self.verified = threading.Event()
        self.conns = []
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        self.srv.settimeout(10)
        try:
            c, _ = self.srv.accept()
        except OSError:
            return
        self.conns.append(c)
        c.settimeout(10)
        data = b""
        answered = False
        try:
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    return
                data += chunk
                if not answered and b"<stream:stream" in data and b">" in data:
                    c.sendall(("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                               "xmlns:stream='http://etherx.jabber.org/streams' "
                               "xmlns:db='jabber:server:dialback' from='b.test' to='a.test' "
                               "id='fake1' version='1.0'><stream:features><dialback "
                               "xmlns='urn:xmpp:features:dialback'/></stream:features>").encode())
                    answered = True
                m = re.search(rb"<db:verify[^>]*id='([^']*)'[^>]*>[^<]*</db:verify>", data)
                if m:
                    # set before answering: the answer lets the test go on
                    self.verified.set()
                    c.sendall(("<db:verify from='b.test' to='a.test' id='%s' type='valid'/>"
                               % m.group(1).decode()).encode())
                    data = data[m.end():]
        except OSError:
            return

    def close(self):
        self.srv.close()
        for c in self.conns:
            c.close()


def test_spoofed_from_after_dialback(plucsd_factory, login):
    fake = FakeAuthoritative()
    try:
        a = _start(plucsd_factory, "a.test", A_IP, H.free_port(), "b.test",
                   "%s:%d" % (FAKE_IP, fake.port), **{"plucs/s2s/tls": "false"})
        alice = login(a, "alice")
        port = int(a.registry["plucs/s2s/port"])
        r = H.RawClient(port, host=A_IP)
        try:
            r.send(HDR)
            assert r.read_until(r"<stream:features>.*</stream:features>", 5)
            r.send("<db:result from='b.test' to='a.test'>somekey</db:result>")
            assert r.read_until(r"<db:result[^>]*type='valid'", 10), r.buf
            assert fake.verified.is_set()
            r.send("<message from='dave@b.test/x' to='alice@a.test' type='chat'>"
                   "<body>via dialback</body></message>")
            expect_body(alice, "via dialback", 10)
            r.send("<message from='mallory@c.test' to='alice@a.test'><body>spoof</body></message>")
            assert r.read_until(r"<invalid-from xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", 5)
            assert r.wait_closed(5)
        finally:
            r.close()
        assert a.wait_log(r"not authenticated on this stream \(spoofed\?\)", 5)
    finally:
        fake.close()


# --- certificates: SASL EXTERNAL and required_trusted ----------------------------

def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, text=True)


def make_ca(d):
    """A test CA in directory d; returns (ca.pem, sign) where sign(name)
    writes a key+certificate PEM for DNS name `name` signed by the CA."""
    d = str(d)
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=plucs test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def sign(name):
        key, csr = os.path.join(d, name + ".key"), os.path.join(d, name + ".csr")
        crt, pem = os.path.join(d, name + ".crt"), os.path.join(d, name + ".pem")
        ext = os.path.join(d, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n" % name)
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
        _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                 "-out", crt, "-days", "2", "-extfile", ext)
        with open(pem, "w") as f:
            f.write(open(key).read() + open(crt).read())
        return pem
    return ca, sign


def test_required_trusted_sasl_external_both_ways(plucsd_factory, login, tmp_path):
    ca, sign = make_ca(tmp_path)
    a, b = start_pair(plucsd_factory,
                      a_extra={"plucs/s2s/certfile": sign("a.test")},
                      b_extra={"plucs/s2s/certfile": sign("b.test")},
                      **{"plucs/s2s/tls": "required_trusted", "plucs/s2s/cafile": ca})
    exchange(a, b, login)
    for d, local, remote in ((a, "a.test", "b.test"), (b, "b.test", "a.test")):
        assert d.wait_log(r"s2s: outgoing %s -> %s: authenticated by SASL EXTERNAL over TLS"
                          % (local, remote), 5), d.log()
        assert d.wait_log(r"s2s: incoming %s -> %s .*authenticated by SASL EXTERNAL"
                          % (remote, local), 5), d.log()
        assert "dialback" not in d.log()
    st = status(a)
    assert re.search(r"peer=b\.test local=a\.test direction=out tls=yes auth=external", st), st
    assert re.search(r"peer=b\.test local=a\.test direction=in tls=yes auth=external", st), st


def test_optional_with_trusted_certs_uses_external(plucsd_factory, login, tmp_path):
    ca, sign = make_ca(tmp_path)
    a, b = start_pair(plucsd_factory,
                      a_extra={"plucs/s2s/certfile": sign("a.test")},
                      b_extra={"plucs/s2s/certfile": sign("b.test")},
                      **{"plucs/s2s/tls": "optional", "plucs/s2s/cafile": ca})
    exchange(a, b, login)
    assert a.wait_log(r"outgoing a\.test -> b\.test: authenticated by SASL EXTERNAL", 5), a.log()


def test_required_trusted_refuses_self_signed_peer(plucsd_factory, login, tmp_path):
    ca, sign = make_ca(tmp_path)
    # b keeps the harness's self-signed certificate (names a.test and b.test)
    a, b = start_pair(plucsd_factory,
                      a_extra={"plucs/s2s/certfile": sign("a.test"), "plucs/s2s/cafile": ca,
                               "plucs/s2s/tls": "required_trusted"},
                      b_extra={"plucs/s2s/tls": "optional"})
    alice = login(a, "alice")
    dave = login(b, "dave")
    alice.send_message("dave@b.test", "not to an untrusted peer")
    expect_error(alice, "remote-server-not-found")
    assert a.wait_log(r"outgoing a\.test -> b\.test failed: peer certificate not trusted", 5), \
        a.log()
    dave.send_message("alice@a.test", "no dialback for me")
    expect_error(dave, "remote-server-not-found")
    assert b.wait_log(r"outgoing b\.test -> a\.test failed: dialback refused by the peer: "
                      r"policy-violation", 5), b.log()


def test_required_trusted_refuses_wrong_name(plucsd_factory, login, tmp_path):
    ca, sign = make_ca(tmp_path)
    a, b = start_pair(plucsd_factory,
                      a_extra={"plucs/s2s/certfile": sign("a.test")},
                      b_extra={"plucs/s2s/certfile": sign("c.test")},   # wrong name
                      **{"plucs/s2s/tls": "required_trusted", "plucs/s2s/cafile": ca})
    alice = login(a, "alice")
    alice.send_message("dave@b.test", "not to c.test's certificate")
    expect_error(alice, "remote-server-not-found")
    assert a.wait_log(r"outgoing a\.test -> b\.test failed: peer certificate not trusted", 5), \
        a.log()


def test_incoming_limits(plucsd_factory):
    """plucs/s2s/max_per_ip, an unauthenticated stream timing out after
    plucs/s2s/timeout, and a stanza over plucs/s2s/max_stanza_size."""
    a = _start(plucsd_factory, "a.test", A_IP, H.free_port(), "b.test",
               "%s:%d" % (B_IP, H.dead_port()),
               **{"plucs/s2s/tls": "false", "plucs/s2s/max_per_ip": "2",
                  "plucs/s2s/timeout": "3", "plucs/s2s/max_stanza_size": "1024"})
    port = int(a.registry["plucs/s2s/port"])
    held = [H.RawClient(port, host=A_IP) for _ in range(2)]
    try:
        for r in held:
            r.send(HDR)
            assert r.read_until(r"</stream:features>", 5)
        third = H.RawClient(port, host=A_IP)
        try:
            assert third.wait_closed(5)        # over max_per_ip: closed at once
        finally:
            third.close()
        assert a.wait_log(r"plucs/s2s/max_per_ip", 5)
        t0 = time.monotonic()
        for r in held:                         # never authenticated: timed out
            assert r.read_until(r"<connection-timeout xmlns='urn:ietf:params:xml:ns:"
                                r"xmpp-streams'/>", 8)
            assert r.wait_closed(5)
        assert 2 <= time.monotonic() - t0 < 7
    finally:
        for r in held:
            r.close()
    # the slots are free again; an oversized stanza ends the stream
    r = H.RawClient(port, host=A_IP)
    try:
        r.send(HDR)
        assert r.read_until(r"</stream:features>", 5)
        r.send("<message from='dave@b.test' to='alice@a.test'><body>%s</body></message>"
               % ("x" * 2048))
        assert r.read_until(r"<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", 5)
        assert r.wait_closed(5)
    finally:
        r.close()


# --- DNS: SRV, XEP-0368 direct TLS, names that do not resolve --------------------

DNS_IP = "127.0.12.53"


@pytest.fixture
def dns(tmp_path):
    """dns(*dnsmasq_options) -> a command prefix that runs a process with
    /etc/resolv.conf pointing at a private dnsmasq on DNS_IP (answering
    only for .test) in its own mount namespace; the machine's file is
    never touched."""
    procs = []

    def start(*records):
        resolv = tmp_path / "resolv.conf"
        resolv.write_text("nameserver %s\n" % DNS_IP)
        p = subprocess.Popen(["dnsmasq", "-k", "--no-resolv", "--no-hosts", "--bind-interfaces",
                              "--listen-address=" + DNS_IP, "--port=53", "--local=/test/",
                              "--log-facility=" + str(tmp_path / "dnsmasq.log")] + list(records))
        procs.append(p)

        def answering():
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(0.3)
                # a minimal query for "x.test" A
                s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01x\x04test\x00"
                         b"\x00\x01\x00\x01", (DNS_IP, 53))
                s.recv(512)
                return True
            except OSError:
                return False
            finally:
                s.close()
        assert H.wait_until(answering, 5), "dnsmasq does not answer"
        return ["unshare", "-m", "sh", "-c",
                'mount --bind "%s" /etc/resolv.conf && exec "$0" "$@"' % resolv]

    yield start
    for p in procs:
        p.terminate()
        p.wait(5)


def test_srv_direct_tls_and_unresolvable(plucsd_factory, login, dns):
    """a.test finds b.test only through DNS: _xmpps-server._tcp (XEP-0368,
    direct TLS to b's plucs/s2s/tls/port) before _xmpp-server._tcp; b
    reaches a through its route. A domain without records bounces."""
    pa, pb, pb_tls = H.free_port(), H.free_port(), H.free_port()
    wrap = dns("--host-record=b.test,%s" % B_IP,
               "--srv-host=_xmpps-server._tcp.b.test,b.test,%d,0,5" % pb_tls,
               "--srv-host=_xmpp-server._tcp.b.test,b.test,%d,0,5" % pb)
    a = plucsd_factory(_wrapper=wrap, **{
        "plucs/domains": "a.test", "plucs/c2s/address": A_IP, "plucs/s2s": "true",
        "plucs/s2s/address": A_IP, "plucs/s2s/port": str(pa), "plucs/s2s/timeout": "5"})
    b = _start(plucsd_factory, "b.test", B_IP, pb, "a.test", "%s:%d" % (A_IP, pa),
               **{"plucs/s2s/tls/port": str(pb_tls)})
    assert b.wait_log(r"listening on \[%s\]:%d \(s2s direct TLS\)" % (re.escape(B_IP), pb_tls), 5)
    exchange(a, b, login)
    assert a.wait_log(r"outgoing a\.test -> b\.test: connecting to b\.test:%d \(direct TLS\)"
                      % pb_tls, 5), a.log()
    assert a.wait_log(r"outgoing a\.test -> b\.test: TLS established", 5), a.log()
    assert a.wait_log(r"outgoing a\.test -> b\.test: authenticated by dialback over TLS", 5)
    assert "<starttls" not in a.log()
    assert re.search(r"peer=b\.test local=a\.test direction=out tls=yes", status(a)), status(a)

    alice = login(a, "alice")
    t0 = time.monotonic()
    alice.send_message("nobody@nowhere.test", "does not resolve")
    expect_error(alice, "remote-server-not-found", 10)
    assert time.monotonic() - t0 < 5
    assert a.wait_log(r"outgoing a\.test -> nowhere\.test failed: cannot resolve", 5), a.log()


# --- hostile peers do not reach client users -------------------------------------

def test_half_open_flood_and_stalled_dialback_leave_clients_alone(plucsd_factory, login):
    """200 inbound connections that never finish a stream header, and a
    peer whose dialback is never answered (its authoritative server accepts
    and stays silent): c2s users log in and federate as before, and the
    stalled stream is cut after plucs/s2s/timeout."""
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind((FAKE_IP, 0))
    silent.listen(5)
    held_silent = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held_silent.append(silent.accept()[0])
            except OSError:
                pass
    th = threading.Thread(target=accept, daemon=True)
    th.start()
    flood = []
    try:
        a, b = start_pair(plucsd_factory, a_extra={
            "plucs/s2s/max_per_ip": "0", "plucs/s2s/timeout": "4",
            "plucs/s2s/route/c.test": "%s:%d" % (FAKE_IP, silent.getsockname()[1])},
            **{"plucs/s2s/tls": "false"})
        for i in range(200):
            s = socket.create_connection((A_IP, a.s2s_port), timeout=5)
            if i % 2:
                s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:ser")
            flood.append(s)
        # a peer claiming c.test whose verification never comes back
        r = H.RawClient(a.s2s_port, host=A_IP)
        try:
            r.send(HDR.replace("from='b.test'", "from='c.test'"))
            assert r.read_until(r"</stream:features>", 5)
            r.send("<db:result from='c.test' to='a.test'>stalled</db:result>")
            # meanwhile client users are served and federation works
            alice, dave = exchange(a, b, login)
            assert alice.ping(timeout=5) == "result"
            t0 = time.monotonic()
            assert r.wait_closed(12), r.buf
            assert time.monotonic() - t0 < 12
        finally:
            r.close()
        assert b"type='valid'" not in r.buf, r.buf
        bob = login(a, "bob")
        bob.send_message("dave@b.test", "still fine")
        expect_body(dave, "still fine")
        assert a.alive()
    finally:
        stop.set()
        th.join(5)
        for s in flood + held_silent:
            s.close()
        silent.close()
