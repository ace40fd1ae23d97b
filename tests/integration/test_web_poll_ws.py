"""HTTP polling (XEP-0025) and XMPP over WebSocket (RFC 7395): the same
session object as TCP, with each transport's framing edges."""

import socket
import time

import pytest

import web_clients as W

WEB = {"plucs/http/poll": "true", "plucs/http/websocket": "true",
       "plucs/http/address": "127.0.0.1", "plucs/http/bind/inactivity": "4"}

HDR = ("<stream:stream to='a.test' xmlns='jabber:client' "
       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")


@pytest.fixture
def web(plucsd_factory):
    return plucsd_factory(**WEB)


# --- polling -------------------------------------------------------------------

def poll_login(web, user="alice", pw="alice-secret", resource="poll", keys=True):
    p = W.Poll(web.http_port, keys=keys)

    def step(data, pattern):
        _, ident, body = p.post(data)
        assert ident and not ident.startswith("-"), (ident, body)
        if not __import__("re").search(pattern, body):
            body = p.until(pattern)
        assert body, "no %r" % pattern
        return body

    step(HDR, "PLAIN")
    step("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (W.NS_SASL, W.plain(user, pw)), "<success")
    step(HDR, "xmpp-bind")
    seen = step("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                "<resource>%s</resource></bind></iq>" % resource, "<jid>")
    assert ("%s@a.test/%s" % (user, resource)) in seen
    return p


def test_poll_login_and_exchange(web, client):
    bob = client("bob", daemon=web)
    assert bob.login()
    bob.send_presence()
    p = poll_login(web)
    p.post("<presence/><message to='bob@a.test' type='chat'><body>hi from poll</body></message>")
    m = bob.wait_message(5)
    assert m is not None and m["body"] == "hi from poll"
    bob.send_message("alice@a.test/poll", "hi back")
    bob.barrier()             # sent and routed
    assert p.until("hi back")


def test_poll_key_sequence_error(web):
    p = W.Poll(web.http_port)
    status, ident, _ = p.post(HDR)
    assert ident and not ident.startswith("-")
    status, ident, body = p.post("", key="bm90IHRoZSByaWdodCBrZXk=")
    assert ident == "-3:0"
    # the session is over: its identifier is not accepted again
    p.keys = p.keys[:-1]
    _, ident, _ = p.post("")
    assert ident in ("-2:0", "-3:0") or ident == p.id


def test_poll_rekey(web):
    p = W.Poll(web.http_port, nkeys=3)
    p.post(HDR)
    p.post("")
    # switch to a new key sequence: current key plus the new chain's last key
    fresh = W.Poll(web.http_port, nkeys=5)
    cur = p.keys.pop()
    status, ident, _ = p.post("", key=cur, newkey=fresh.keys.pop())
    assert ident == p.id
    p.keys = fresh.keys
    _, ident, _ = p.post("")
    assert ident == p.id


def test_poll_unknown_identifier_and_bad_body(web):
    status, headers, _ = W.http_request(web.http_port, "POST", "/http-poll/",
                                        body="00000000000000ff,<presence/>")
    assert "ID=-2:0" in headers.get("set-cookie", "")
    status, headers, _ = W.http_request(web.http_port, "POST", "/http-poll/", body="no comma")
    assert "ID=-2:0" in headers.get("set-cookie", "")


def test_poll_inactivity(web):
    p = poll_login(web, keys=False)
    assert web.wait_log(r"poll: .*had no request for 4 s, closing", 10)


# --- WebSocket -----------------------------------------------------------------

def test_ws_login_and_exchange(web, client):
    bob = client("bob", daemon=web)
    assert bob.login()
    bob.send_presence()
    ws = W.WebSocket(web.http_port)
    assert ws.status == 101 and ws.headers.get("sec-websocket-protocol") == "xmpp"
    assert ws.login("alice", "alice-secret") == "alice@a.test/ws"
    ws.send("<presence xmlns='jabber:client'/>")
    ws.send("<message xmlns='jabber:client' to='bob@a.test' type='chat'><body>hi from ws</body></message>")
    m = bob.wait_message(5)
    assert m is not None and m["body"] == "hi from ws"
    bob.send_message("alice@a.test/ws", "hi back")
    bob.barrier()             # sent and routed
    got = ws.recv_until("hi back")
    assert got and got.startswith("<message") and "xmlns='jabber:client'" in got
    _, _, metrics = W.http_request(web.http_port, "GET", "/metrics")
    assert 'plucs_sessions{transport="websocket",domain="a.test"} 1' in metrics
    # the close handshake: <close/> answered with <close/> and a close frame
    ws.send("<close xmlns='%s'/>" % W.NS_FRAMING)
    assert ws.recv_until("<close") is not None
    assert ws.recv() is None and ws.close_code == 1000
    ws.close()


def test_ws_features_and_open_attributes(web):
    ws = W.WebSocket(web.http_port)
    o, f = ws.open()
    assert "xmlns='urn:ietf:params:xml:ns:xmpp-framing'" in o and "from='a.test'" in o
    assert "version='1.0'" in o
    assert f.startswith("<stream:features") and "xmlns:stream=" in f
    assert "starttls" not in f      # TLS is the web server's job
    ws.close()


def test_ws_bad_subprotocol(web):
    ws = W.WebSocket(web.http_port, protocol="chat")
    assert ws.status == 400
    ws.close()
    ws = W.WebSocket(web.http_port, protocol=None)
    assert ws.status == 400
    ws.close()


def test_ws_plain_get_needs_upgrade(web):
    status, headers, _ = W.http_request(web.http_port, "GET", "/xmpp-websocket/")
    assert status == 426 and headers.get("upgrade") == "websocket"


def test_ws_fragmented_message(web):
    ws = W.WebSocket(web.http_port)
    msg = "<open xmlns='%s' to='a.test' version='1.0'/>" % W.NS_FRAMING
    ws.send_frame(0x1, msg[:10], fin=False)
    ws.send_frame(0x0, msg[10:25], fin=False)
    ws.send_frame(0x9, b"ping in between")        # control frames may interleave
    ws.send_frame(0x0, msg[25:], fin=True)
    # the pong for our ping, then <open/> and the features
    fin, op, payload = ws.recv_frame()
    while op != 0xA:
        fin, op, payload = ws.recv_frame()
    assert payload == b"ping in between"
    o = ws.recv()
    assert o.startswith("<open")
    ws.close()


def test_ws_oversized_message_is_closed(plucsd_factory):
    p = plucsd_factory(**dict(WEB, **{"plucs/max_stanza_size": "2048"}))
    ws = W.WebSocket(p.http_port)
    ws.open()
    ws.send("<message xmlns='jabber:client'><body>%s</body></message>" % ("x" * 5000))
    while True:
        m = ws.recv()
        if m is None:
            break
    assert ws.close_code == 1009


def test_ws_two_elements_in_one_message(web):
    ws = W.WebSocket(web.http_port)
    ws.open()
    ws.send("<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>")
    err = ws.recv_until("stream:error")
    assert err and "not-well-formed" in err and "xmlns:stream=" in err
    assert ws.recv_until("<close") is not None


def test_ws_binary_refused(web):
    ws = W.WebSocket(web.http_port)
    ws.open()
    ws.send_frame(0x2, b"\x00\x01")
    while ws.recv() is not None:
        pass
    assert ws.close_code == 1003


def test_ws_unknown_host(web):
    ws = W.WebSocket(web.http_port)
    ws.send("<open xmlns='%s' to='nowhere.test' version='1.0'/>" % W.NS_FRAMING)
    assert ws.recv().startswith("<open")
    err = ws.recv()
    assert "host-unknown" in err
    assert ws.recv().startswith("<close")


def test_ws_peer_disconnect_ends_session(web, client):
    bob = client("bob", daemon=web)
    assert bob.login()
    ws = W.WebSocket(web.http_port)
    ws.login("alice", "alice-secret", resource="gone")
    ws.sock.close()
    assert web.wait_log(r"websocket: alice@a.test/gone .* disconnected", 5)
