"""test_s2s_hostile.py: a hostile federation peer, by raw socket, against one
plucsd serving a.test on 127.0.19.1: malformed stream headers and restricted
XML get the right stream errors, a peer cannot claim one of our own domains,
SASL EXTERNAL refuses an authzid for another domain, a peer asking for
dialback of many domains at once is cut off with resource-constraint, and
one local user writing to more remote domains than the outgoing table holds
gets resource-constraint errors instead of an ever-growing table.

Remote domains are routed (plucs/s2s/route) to a listener on 127.0.19.9
that never accepts: outgoing streams stay in setup, no DNS is asked."""
import socket
import time

import pytest

import plucs_harness as H

A_IP, SINK_IP = "127.0.19.1", "127.0.19.9"
NS_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"

HDR = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
       "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
       "from='b.test' to='a.test' version='1.0'>")


@pytest.fixture
def sink():
    """A listener that never accepts (connections wait in its backlog)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((SINK_IP, 0))
    s.listen(4096)
    yield s.getsockname()[1]
    s.close()


def start(plucsd_factory, routes=(), sink_port=None, **extra):
    reg = {
        "plucs/domains": "a.test",
        "plucs/c2s/address": A_IP,
        "plucs/s2s": "true",
        "plucs/s2s/address": A_IP,
        "plucs/s2s/port": str(H.free_port()),
        "plucs/s2s/tls": "false",
        "plucs/s2s/timeout": "60",
    }
    for d in routes:
        reg["plucs/s2s/route/" + d] = "%s:%d" % (SINK_IP, sink_port)
    reg.update(extra)
    return plucsd_factory(**reg)


def raw(a):
    return H.RawClient(int(a.registry["plucs/s2s/port"]), host=A_IP)


def stream_error(r, cond, timeout=5):
    return r.read_until(r"<stream:error><%s xmlns='%s'/>" % (cond, NS_STREAMS), timeout)


@pytest.mark.parametrize("header,cond", [
    # wrong stream namespace, wrong default namespace
    (HDR.replace("http://etherx.jabber.org/streams", "urn:x"), "invalid-namespace"),
    (HDR.replace("xmlns='jabber:server'", "xmlns='jabber:client'"), "invalid-namespace"),
    # no 'to', a 'to' not served here
    (HDR.replace(" to='a.test'", ""), "host-unknown"),
    (HDR.replace("to='a.test'", "to='c.test'"), "host-unknown"),
    # a 'from' that is not a bare domain, or is one of ours
    (HDR.replace("from='b.test'", "from='x@b.test/r'"), "invalid-from"),
    (HDR.replace("from='b.test'", "from='a.test'"), "invalid-from"),
    (HDR.replace("from='b.test'", "from='%s.test'" % ("x" * 400)), "invalid-from"),
    (HDR.replace("version='1.0'", "version='2.0'"), "unsupported-version"),
    # restricted XML (RFC 6120 11.1), as for clients
    (HDR + "<!-- hello -->", "restricted-xml"),
    (HDR + "<?pi x?>", "restricted-xml"),
    ("<?xml version='1.0'?><!DOCTYPE s [<!ENTITY e 'x'>]>" + HDR, "restricted-xml"),
    (HDR + "<db:result from='b.test' to='a.test'>k</db:result></bad>", "not-well-formed"),
    # dialback elements without from/to, with a huge key
    (HDR + "<db:result to='a.test'>k</db:result>", "invalid-xml"),
    (HDR + "<db:result from='b.test'>k</db:result>", "invalid-xml"),
    (HDR + "<db:result from='b.test' to='a.test'>%s</db:result>" % ("k" * 5000), "invalid-xml"),
    (HDR + "<db:verify from='b.test' to='a.test'>k</db:verify>", "invalid-xml"),
    # a peer claiming one of our domains by dialback
    (HDR + "<db:result from='a.test' to='a.test'>k</db:result>", "invalid-from"),
    (HDR + "<db:result from='x@b.test' to='a.test'>k</db:result>", "invalid-from"),
])
def test_malformed_peer_input(plucsd_factory, header, cond):
    a = start(plucsd_factory)
    r = raw(a)
    try:
        r.send(header)
        assert stream_error(r, cond), r.buf
        assert r.wait_closed(5)
    finally:
        r.close()
    # the server is fine afterwards
    r = raw(a)
    try:
        r.send(HDR)
        assert r.read_until(r"</stream:features>", 5)
    finally:
        r.close()


def test_db_verify_for_unknown_id_is_invalid(plucsd_factory):
    a = start(plucsd_factory)
    r = raw(a)
    try:
        r.send(HDR + "<db:verify from='b.test' to='a.test' id='no-such-stream'>%s</db:verify>"
               % ("0" * 64))
        assert r.read_until(r"<db:verify from='a\.test' to='b\.test' id='no-such-stream' "
                            r"type='invalid'/>", 5)
        r.send("<db:verify from='b.test' to='c.test' id='x'>k</db:verify>")
        assert r.read_until(r"type='invalid'/>", 5)
    finally:
        r.close()


def test_sasl_external_authzid_for_another_domain(plucsd_factory):
    a = start(plucsd_factory)
    r = raw(a)
    try:
        r.send(HDR)
        assert r.read_until(r"</stream:features>", 5)
        # base64("c.test"): b.test's stream asks to be c.test
        r.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>"
               "Yy50ZXN0</auth>")
        assert r.read_until(r"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                            r"<invalid-authzid/></failure>", 5), r.buf
        # refused attempts are counted: the fifth ends the stream, as for clients
        for i in range(3):
            r.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>")
            assert r.read_until(r"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                                r"<not-authorized/></failure>", 5), r.buf
        r.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>")
        assert stream_error(r, "policy-violation"), r.buf
        assert r.wait_closed(5)
    finally:
        r.close()
    assert a.wait_log(r"SASL EXTERNAL for another domain refused", 5)


def test_starttls_twice(plucsd_factory):
    a = start(plucsd_factory, **{"plucs/s2s/tls": "optional"})
    r = raw(a)
    try:
        r.send(HDR)
        assert r.read_until(r"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>.*"
                            r"</stream:features>", 5)
        r.starttls()
        r.send(HDR)
        feats = r.read_until(r"<stream:features>.*?</stream:features>", 5)
        assert feats and b"starttls" not in feats.group(0)
        r.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        assert r.read_until(r"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 5)
        assert r.wait_closed(5)
    finally:
        r.close()


def test_many_dialback_requests_on_one_stream(plucsd_factory, sink):
    domains = ["d%d.test" % i for i in range(70)]
    a = start(plucsd_factory, routes=domains, sink_port=sink)
    r = raw(a)
    try:
        r.send(HDR)
        assert r.read_until(r"</stream:features>", 5)
        # the same pair twice counts once
        r.send("".join("<db:result from='%s' to='a.test'>k</db:result>" % d
                       for d in domains[:10] + domains[:10]))
        assert a.wait_log(r"verifying d9\.test by dialback", 5)
        assert r.read_all(0.5) == b""
        r.send("".join("<db:result from='%s' to='a.test'>k</db:result>" % d
                       for d in domains[10:]))
        assert stream_error(r, "resource-constraint"), r.buf
        assert r.wait_closed(5)
    finally:
        r.close()
    assert a.wait_log(r"64 dialback verifications pending .* closing with resource-constraint", 5)
    assert not a.wait_log(r"verifying d64\.test", 0.5)


def test_outgoing_table_is_bounded(plucsd_factory, sink):
    """1000 outgoing streams at most (S2S_TABLE_MAX): the 1001st remote
    domain gets resource-constraint at once, the table does not grow."""
    n = 1000
    domains = ["r%d.test" % i for i in range(n + 3)]
    a = start(plucsd_factory, routes=domains, sink_port=sink)
    alice = H.Client(a.port, H.jid("alice"), H.password("alice"), host=a.c2s_host)
    try:
        assert alice.login().ok
        for d in domains[:n]:
            alice.send_message("x@" + d, "hello")
        # the client's loop runs while it waits: that is when it writes
        end = time.monotonic() + 60
        while (not a.wait_log(r"outgoing a\.test -> r%d\.test: resolving" % (n - 1), 0)
               and time.monotonic() < end):
            assert alice.wait_message(0.2) is None
        assert a.wait_log(r"outgoing a\.test -> r%d\.test: resolving" % (n - 1), 0)
        alice.send_message("x@" + domains[n], "one too many")
        end = time.monotonic() + 15
        got = None
        while got is None and time.monotonic() < end:
            m = alice.wait_message(max(0.1, end - time.monotonic()))
            if m is not None and m["type"] == "error":
                got = m
        assert got is not None, "no error for the stanza over the limit"
        assert got["error"]["condition"] == "resource-constraint", got
        assert got["from"].bare == "x@" + domains[n]
        assert a.wait_log(r"1000 outgoing streams already, none more for a\.test -> r%d\.test"
                          % n, 5)
        assert not a.wait_log(r"outgoing a\.test -> r%d\.test: resolving" % n, 0.5)
    finally:
        alice.close()


@pytest.mark.parametrize("stanza", [
    "<message to='alice@a.test'><body>no from</body></message>",
    "<message from='dave@b.test/x'><body>no to</body></message>",
])
def test_stanza_without_to_or_from_after_dialback(plucsd_factory, stanza):
    import test_s2s
    test_s2s.FAKE_IP = "127.0.19.3"          # our own address range
    fake = test_s2s.FakeAuthoritative()
    try:
        a = start(plucsd_factory, **{"plucs/s2s/route/b.test": "127.0.19.3:%d" % fake.port})
        r = raw(a)
        try:
            r.send(HDR)
            assert r.read_until(r"</stream:features>", 5)
            r.send("<db:result from='b.test' to='a.test'>somekey</db:result>")
            assert r.read_until(r"<db:result[^>]*type='valid'", 10), r.buf
            r.send(stanza)
            assert stream_error(r, "improper-addressing"), r.buf
            assert r.wait_closed(5)
        finally:
            r.close()
    finally:
        fake.close()
