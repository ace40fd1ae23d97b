"""BOSH (XEP-0124/0206) at plucs/http/bind/url: session creation, SASL,
restart, bind, stanzas to and from a TCP client, rid window and
retransmission, sid checks, pause, terminate, inactivity timeout."""

import asyncio
import re
import time
import xml.etree.ElementTree as ET

import pytest

import web_clients as W

WEB = {"plucs/http/bind": "true", "plucs/http/address": "127.0.0.1",
       "plucs/http/bind/inactivity": "4"}


@pytest.fixture
def web(plucsd_factory):
    return plucsd_factory(**WEB)


def presence_watch(c):
    """A list that collects (from, type) of every presence c receives."""
    seen = []
    c.x.add_event_handler("presence", lambda p: seen.append((str(p["from"]), p["type"])))
    return seen


def pump_until(c, pred, timeout=5):
    """Runs C's event loop until pred() holds or timeout; returns pred()."""
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        c.pump(0.05)
    return pred()


def test_session_creation_attributes(web):
    b = W.Bosh(web.http_port, wait=5, hold=1)
    el, text = b.create(to="a.test")
    a = el.attrib
    assert a["sid"] and len(a["sid"]) >= 16
    assert int(a["wait"]) <= 5 and int(a["hold"]) == 1
    assert int(a["requests"]) >= 2
    assert int(a["inactivity"]) == 4
    assert "polling" in a and "maxpause" in a
    assert a.get("from") == "a.test"
    assert a.get("{%s}version" % W.NS_XBOSH) == "1.0"
    assert "authid" in a
    assert "PLAIN" in text and "stream:features" in text   # features in the first answer
    b.close()


def test_unknown_host_terminates(web):
    b = W.Bosh(web.http_port)
    el, _ = b.create(to="nowhere.test")
    assert el.get("type") == "terminate"
    assert el.get("condition") == "host-unknown"


def test_login_and_message_exchange_with_tcp_client(web, client):
    bob = client("bob", daemon=web)
    assert bob.login()
    bob.send_presence()
    b = W.Bosh(web.http_port, wait=2)
    full = b.login("alice", "alice-secret", resource="web")
    assert full == "alice@a.test/web"
    b.send("<presence xmlns='jabber:client'/>")
    # bosh -> tcp
    b.send("<message xmlns='jabber:client' to='bob@a.test' type='chat'><body>hi from bosh</body></message>")
    m = bob.wait_message(5)
    assert m is not None and m["body"] == "hi from bosh"
    assert str(m["from"]) == "alice@a.test/web"
    # tcp -> bosh: arrives in a held request's answer
    bob.send_message("alice@a.test/web", "hi from tcp")
    bob.barrier()             # sent and routed
    seen = b.until("hi from tcp", tries=4)
    assert seen and "jabber:client" in seen
    # metrics count the session
    _, _, metrics = W.http_request(web.http_port, "GET", "/metrics")
    assert 'plucs_sessions{transport="bosh",domain="a.test"} 1' in metrics
    assert "plucs_bosh_sessions 1" in metrics
    b.close()


def test_wrong_password(web):
    b = W.Bosh(web.http_port)
    b.create()
    _, t = b.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (W.NS_SASL, W.plain("alice", "nope")))
    if "failure" not in t:
        t = b.until("failure")
    assert "not-authorized" in t


def test_repeated_rid_gets_the_same_answer(web):
    b = W.Bosh(web.http_port, wait=1)
    b.create()
    b.rid += 1
    rid = b.rid
    status, first = b.raw(b.body("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (
        W.NS_SASL, W.plain("alice", "alice-secret")), rid=rid))
    assert status == 200
    if "success" not in first:
        first2 = b.until("success")
        # the answer to the newest request carried the success: repeat that rid
        rid, first = b.rid, first2
    status, again = b.raw(b.body(rid=rid))
    assert status == 200 and again == first


def test_rid_out_of_order_within_window(web):
    b = W.Bosh(web.http_port, wait=2, hold=1)
    b.create()
    base = b.rid
    # rid+2 first (held until rid+1 arrives), on its own connection
    import threading
    res = {}
    second = W.Bosh(web.http_port, wait=2)
    second.sid = b.sid

    def late():
        res["r"] = second.raw(second.body(rid=base + 2))
    t = threading.Thread(target=late)
    t.start()
    time.sleep(0.3)
    status, text = b.raw(b.body("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (
        W.NS_SASL, W.plain("alice", "alice-secret")), rid=base + 1))
    t.join(10)
    assert status == 200 and res["r"][0] == 200
    both = text + res["r"][1]
    assert "<success" in both, both
    for x in (text, res["r"][1]):
        assert ET.fromstring(x).get("type") != "terminate", x


def test_rid_outside_window_terminates(web):
    b = W.Bosh(web.http_port, wait=1)
    b.create()
    el, _ = b.send(rid=b.rid + 50)
    assert el.get("type") == "terminate" and el.get("condition") == "item-not-found"
    # the session is gone
    el, _ = b.send()
    assert el.get("type") == "terminate"


def test_wrong_sid(web):
    b = W.Bosh(web.http_port, wait=1)
    b.create()
    b.sid = "0123456789abcdef"
    el, _ = b.send()
    assert el.get("type") == "terminate" and el.get("condition") == "item-not-found"
    b.sid = "not-a-sid"
    el, _ = b.send()
    assert el.get("condition") == "item-not-found"


def test_missing_rid_is_bad_request(web):
    status, _, body = W.http_request(web.http_port, "POST", "/http-bind/",
                                     body="<body xmlns='%s' to='a.test'/>" % W.NS_BIND)
    assert status == 200 and "bad-request" in body


def test_empty_answer_when_wait_expires(web):
    b = W.Bosh(web.http_port, wait=1)
    b.login("alice", "alice-secret")
    t0 = time.monotonic()
    el, text = b.send()
    dt = time.monotonic() - t0
    assert 0.7 <= dt < 5, dt
    assert len(list(el)) == 0 and el.get("type") is None, text


def test_stanzas_queued_while_no_request_is_held(web, client):
    bob = client("bob", daemon=web)
    assert bob.login()
    b = W.Bosh(web.http_port, wait=1)
    b.login("alice", "alice-secret", resource="q")
    b.send("<presence xmlns='jabber:client'/>")
    for i in range(3):
        bob.send_message("alice@a.test/q", "queued %d" % i)
    bob.barrier()           # routed; nothing held now: the server queues them
    seen = b.until("queued 2", tries=3)
    assert seen and all(("queued %d" % i) in seen for i in range(3))
    assert seen.index("queued 0") < seen.index("queued 1") < seen.index("queued 2")


def test_terminate_by_client(web, client):
    bob = client("bob", daemon=web)
    assert bob.login()
    bob.send_presence()
    seen = presence_watch(bob)
    b = W.Bosh(web.http_port, wait=1)
    b.login("alice", "alice-secret", resource="t")
    b.send("<presence xmlns='jabber:client'/>")
    assert pump_until(bob, lambda: ("alice@a.test/t", "available") in seen), seen
    el, _ = b.send("<presence xmlns='jabber:client' type='unavailable'/>", type="terminate")
    assert el.get("type") == "terminate"
    assert web.wait_log(r"bosh: .* terminated by the client", 5)
    el, _ = b.send()
    assert el.get("type") == "terminate"


def test_inactivity_timeout_ends_session_with_unavailable(web, client):
    bob = client("bob", daemon=web)
    assert bob.login()
    bob.send_presence()
    seen = presence_watch(bob)
    b = W.Bosh(web.http_port, wait=1)
    b.login("alice", "alice-secret", resource="idle")
    b.send("<presence xmlns='jabber:client'/>")
    assert pump_until(bob, lambda: ("alice@a.test/idle", "available") in seen), seen
    # no more requests: inactivity is 4 s
    assert web.wait_log(r"bosh: .*had no request for 4 s, closing", 10)
    end = time.monotonic() + 5
    while ("alice@a.test/idle", "unavailable") not in seen and time.monotonic() < end:
        bob.pump(0.2)
    assert ("alice@a.test/idle", "unavailable") in seen, seen
    el, _ = b.send()
    assert el.get("type") == "terminate"


def test_pause_extends_inactivity(web):
    b = W.Bosh(web.http_port, wait=1)
    b.login("alice", "alice-secret", resource="p")
    el, _ = b.send(pause="8")
    time.sleep(5.5)           # longer than inactivity (4 s), shorter than the pause
    el, text = b.send()
    assert el.get("type") != "terminate", text


def test_restart_and_bind_behave_as_tcp(web):
    b = W.Bosh(web.http_port, wait=1)
    b.login("carol", "carol-secret", resource="same")
    # binding twice is refused as on TCP
    _, t = b.send("<iq xmlns='jabber:client' type='set' id='b2'><bind xmlns="
                  "'urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    if "b2" not in t:
        t = b.until("b2")
    assert "not-allowed" in t
