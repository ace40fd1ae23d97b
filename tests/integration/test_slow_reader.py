"""Hostile input: a client that stops reading its stream must not hurt the
server. Once more than 4 MiB wait for it, its stream ends with one log line
(and a policy-violation stream error it will not read); everybody else,
the sender included, goes on."""

import socket
import time

import plucs_harness as H


def login_plain(port, user, pw, resource):
    r, cond = H.raw_auth(port, user, pw, tls=False)
    assert cond == "success", cond
    assert r.open_stream(to="a.test") is not None
    r.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
           "<resource>%s</resource></bind></iq><presence/>" % resource)
    assert r.read_until(rb"id=['\"]b1['\"]"), "bind failed"
    return r


def test_slow_reader_is_cut_off_once(plucsd_factory):
    d = plucsd_factory(**{"plucs/tls": "false"})
    bob = login_plain(d.port, "bob", "bob-secret", resource="slow")
    bob.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    alice = login_plain(d.port, "alice", "alice-secret", resource="fast")
    msg = ("<message to='bob@a.test/slow' type='headline'><body>%s</body></message>" % ("x" * 400)).encode()
    deadline = time.time() + 60
    sent = 0
    while sent < 20000 and time.time() < deadline:   # about 9 MB for bob
        alice.sock.sendall(msg)
        sent += 1
    alice.send("<iq type='get' id='alive'><ping xmlns='urn:xmpp:ping'/></iq>")
    m = alice.read_until(rb"<iq[^>]*id=['\"]alive['\"]", timeout=30)
    assert m, "the sender is not served any more"
    assert d.alive()
    assert H.wait_until(lambda: d.log().count("does not read its stream") >= 1, 10, 0.2)
    time.sleep(0.5)
    assert d.log().count("does not read its stream") == 1, "one line per slow client"


# --- every transport: the 4 MiB cap holds by construction, RSS stays bounded ------

import os
import re

import pytest

import web_clients as W

SANITIZED = bool(os.environ.get("PLUCS_SANITIZED"))
HDR = ("<stream:stream to='a.test' xmlns='jabber:client' "
       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
CUT = {
    "plain": r"c2s: .*: client does not read its stream, closing",
    "starttls": r"c2s: .*: client does not read its stream, closing",
    "websocket": r"websocket: .*: client does not read, closing",
    "bosh": r"bosh: .*: session \w+ does not fetch its stanzas, closing",
    "poll": r"poll: .*: session \w+ does not poll, closing",
}


def rss_kb(d):
    with open("/proc/%d/status" % d.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def victim(d, transport):
    """bob logged in as bob@a.test/slow over transport; reads nothing after."""
    if transport in ("plain", "starttls"):
        r, cond = H.raw_auth(d.port, "bob", "bob-secret", tls=transport == "starttls")
        assert cond == "success", cond
        assert r.open_stream(to="a.test") is not None
        r.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
               "<resource>slow</resource></bind></iq><presence/>")
        assert r.read_until(rb"id=['\"]b1['\"]"), "bind failed"
        r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        return r
    if transport == "websocket":
        ws = W.WebSocket(d.http_port)
        assert ws.login("bob", "bob-secret", resource="slow") == "bob@a.test/slow"
        ws.send("<presence xmlns='jabber:client'/>")
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        return ws
    if transport == "bosh":
        b = W.Bosh(d.http_port)
        assert b.login("bob", "bob-secret", resource="slow") == "bob@a.test/slow"
        b.send("<presence xmlns='jabber:client'/>")
        return b                                     # and never asks again
    p = W.Poll(d.http_port, keys=False)
    for data, pattern in ((HDR, "PLAIN"),
                          ("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                           % (W.NS_SASL, W.plain("bob", "bob-secret")), "<success"),
                          (HDR, "xmpp-bind"),
                          ("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                           "<resource>slow</resource></bind></iq><presence/>", "<jid>")):
        _, ident, body = p.post(data)
        assert ident and not ident.startswith("-"), (ident, body)
        if not re.search(pattern, body):
            assert p.until(pattern), pattern
    return p                                         # and never polls again


@pytest.mark.parametrize("transport", ["plain", "starttls", "websocket", "bosh", "poll"])
def test_non_reading_client_is_cut_rss_bounded(plucsd_factory, transport):
    d = plucsd_factory(**{"plucs/tls": "true", "plucs/http/address": "127.0.0.1",
                          "plucs/http/bind": "true", "plucs/http/poll": "true",
                          "plucs/http/websocket": "true", "plucs/http/bind/inactivity": "60"})
    bob = victim(d, transport)
    alice = login_plain(d.port, "alice", "alice-secret", resource="fast")
    alice.send("<iq type='get' id='warm'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert alice.read_until(rb"<iq[^>]*id=['\"]warm['\"]", timeout=10)
    rss0 = rss_kb(d)
    msg = ("<message to='bob@a.test/slow' type='headline'><body>%s</body></message>"
           % ("x" * 400)).encode() * 50
    deadline = time.time() + 60
    sent = 0
    while sent < 30000 and time.time() < deadline:   # about 14 MB for bob
        alice.sock.sendall(msg)
        sent += 50
        if sent % 5000 == 0 and re.search(CUT[transport], d.log()):
            break
    assert d.wait_log(CUT[transport], 20), "a client reading nothing was not cut (%s)" % transport
    alice.send("<iq type='get' id='alive'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert alice.read_until(rb"<iq[^>]*id=['\"]alive['\"]", timeout=30), "sender not served"
    growth = rss_kb(d) - rss0
    print("RSS growth (%s): %d KiB after %d stanzas" % (transport, growth, sent))
    # 4 MiB of queued output plus the parser and stanza copies in flight;
    # under ASan freed memory sits in its quarantine (256 MiB by default),
    # so RSS there follows the traffic, not what is held: a loose bound
    bound = (200 if SANITIZED else 24) * 1024
    assert growth < bound, "%s: RSS grew by %d KiB" % (transport, growth)
    # more for the cut client, then a round trip as a barrier: whatever the
    # server logs about it has been logged by then
    alice.sock.sendall(msg)
    alice.send("<iq type='get' id='after'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert alice.read_until(rb"<iq[^>]*id=['\"]after['\"]", timeout=30)
    assert len(re.findall(CUT[transport], d.log())) == 1, "one log line per slow client"
    assert d.alive()
