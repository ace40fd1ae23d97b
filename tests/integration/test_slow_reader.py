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
