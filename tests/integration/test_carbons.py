"""Message carbons (XEP-0280, urn:xmpp:carbons:2; issue 14 point 2): three
resources of alice, A1 and A2 with carbons enabled, A3 without; bob sends
to the bare JID and to A1, A1 sends to bob; every resource must see each
message exactly once (itself or as a carbon), A3 never a carbon. Private
and no-copy hints, groupchat, disable, disco and /metrics. Raw protocol
(xmpp_raw.RawIM) so every byte is seen; one slixmpp xep_0280 check."""

import re
import time
import xml.etree.ElementTree as ET

import pytest

import plucs_harness as H
import web_clients as W
from xmpp_raw import NS_CLIENT, RawIM

NS_C = "urn:xmpp:carbons:2"
NS_F = "urn:xmpp:forward:0"
A, B = "alice@a.test", "bob@a.test"
MSG = "{%s}message" % NS_CLIENT
HTTP = {"plucs/http/address": "127.0.0.1"}


def body_of(m):
    b = m.find("{%s}body" % NS_CLIENT)
    return b.text if b is not None else None


def carbon(m):
    """(kind, inner message) of a carbon, or (None, None)."""
    for kind in ("sent", "received"):
        w = m.find("{%s}%s" % (NS_C, kind))
        if w is not None:
            f = w.find("{%s}forwarded" % NS_F)
            inner = f.find(MSG) if f is not None else None
            return kind, inner
    return None, None


def seen(c, body):
    """[(kind, message)] of everything c got carrying body: kind None for the
    message itself, 'sent'/'received' for carbons."""
    out = []
    for m in c.messages():
        kind, inner = carbon(m)
        if kind is None and body_of(m) == body:
            out.append((None, m))
        elif inner is not None and body_of(inner) == body:
            out.append((kind, m))
    return out


def enable(c, on=True):
    r = c.iq("<%s xmlns='%s'/>" % ("enable" if on else "disable", NS_C))
    assert r is not None and r.get("type") == "result", ET.tostring(r) if r is not None else r


@pytest.fixture
def three(plucsd_factory):
    d = plucsd_factory(**HTTP)
    a1, a2, a3 = (RawIM(d.port, "alice", r) for r in ("A1", "A2", "A3"))
    b = RawIM(d.port, "bob", "B")
    enable(a1)
    enable(a2)
    yield d, a1, a2, a3, b
    for c in (a1, a2, a3, b):
        c.close()


def settle(*clients):
    """A ping round trip on each: what was routed before has arrived (copies
    go through the same worker inboxes), then a short extra pump."""
    for c in clients:
        c.ping()
    for c in clients:
        c.pump(0.2)


def check_once(c, body, want):
    got = seen(c, body)
    assert [k for k, _ in got] == want, "%s: want %r for %r, got %r" % (
        c.full, want, body, [(k, ET.tostring(m)) for k, m in got])
    return got


def test_disco_on_server_and_account(three):
    d, a1, a2, a3, b = three
    for to in ("a.test", A):
        r = a1.iq("<query xmlns='http://jabber.org/protocol/disco#info'/>", to=to, type="get")
        assert r is not None and r.get("type") == "result"
        feats = {f.get("var") for f in r.iter("{http://jabber.org/protocol/disco#info}feature")}
        assert NS_C in feats, (to, feats)


def test_received_to_bare_jid(three):
    d, a1, a2, a3, b = three
    b.send("<message to='%s' type='chat'><body>to-bare</body></message>" % A)
    assert a1.has(lambda m: m.tag == MSG and body_of(m) == "to-bare")
    settle(b, a1, a2, a3)
    # all three are available at priority 0: each gets the message itself,
    # nobody needs a carbon
    for c in (a1, a2, a3):
        check_once(c, "to-bare", [None])
    assert not seen(b, "to-bare")


def test_received_to_full_jid(three):
    d, a1, a2, a3, b = three
    b.send("<message to='%s/A1' type='chat' id='m1'><body>to-a1</body></message>" % A)
    assert a2.has(lambda m: m.tag == MSG and carbon(m)[0] == "received")
    settle(b, a1, a2, a3)
    check_once(a1, "to-a1", [None])
    (_, m), = check_once(a2, "to-a1", ["received"])
    assert m.get("from") == A and m.get("to") == A + "/A2", ET.tostring(m)
    inner = carbon(m)[1]
    assert inner.get("from") == B + "/B" and inner.get("to") == A + "/A1", ET.tostring(m)
    assert inner.get("id") == "m1"
    check_once(a3, "to-a1", [])


def test_sent_carbons(three):
    d, a1, a2, a3, b = three
    a1.send("<message to='%s' type='chat'><body>from-a1</body></message>" % B)
    assert b.has(lambda m: m.tag == MSG and body_of(m) == "from-a1")
    settle(a1, a2, a3, b)
    check_once(a1, "from-a1", [])
    (_, m), = check_once(a2, "from-a1", ["sent"])
    assert m.get("from") == A and m.get("to") == A + "/A2", ET.tostring(m)
    inner = carbon(m)[1]
    assert inner.get("from") == A + "/A1" and inner.get("to") == B, ET.tostring(m)
    check_once(a3, "from-a1", [])
    check_once(b, "from-a1", [None])


def test_normal_with_body_and_chat_state(three):
    d, a1, a2, a3, b = three
    b.send("<message to='%s/A1'><body>normal-body</body></message>" % A)
    b.send("<message to='%s/A1' type='headline'><body>headline</body></message>" % A)
    b.send("<message to='%s/A1' type='normal'><subject>no body</subject></message>" % A)
    b.send("<message to='%s/A1' type='chat'><composing "
           "xmlns='http://jabber.org/protocol/chatstates'/></message>" % A)
    assert a1.has(lambda m: m.find("{http://jabber.org/protocol/chatstates}composing") is not None)
    settle(b, a1, a2)
    check_once(a2, "normal-body", ["received"])
    check_once(a2, "headline", [])
    kinds = [carbon(m)[0] for m in a2.messages()]
    assert kinds.count("received") == 2, [ET.tostring(m) for m in a2.messages()]
    assert any(carbon(m)[1] is not None and carbon(m)[1].find(
        "{http://jabber.org/protocol/chatstates}composing") is not None for m in a2.messages())


def test_private_and_no_copy(three):
    d, a1, a2, a3, b = three
    b.send("<message to='%s/A1' type='chat'><body>priv-in</body><private xmlns='%s'/></message>"
           % (A, NS_C))
    b.send("<message to='%s/A1' type='chat'><body>nocopy-in</body>"
           "<no-copy xmlns='urn:xmpp:hints'/></message>" % A)
    a1.send("<message to='%s' type='chat'><body>priv-out</body><private xmlns='%s'/></message>"
            % (B, NS_C))
    a1.send("<message to='%s' type='chat'><body>nocopy-out</body>"
            "<no-copy xmlns='urn:xmpp:hints'/></message>" % B)
    b.send("<message to='%s/A1' type='chat'><body>marker</body></message>" % A)
    assert a2.has(lambda m: carbon(m)[1] is not None and body_of(carbon(m)[1]) == "marker")
    assert b.has(lambda m: body_of(m) == "nocopy-out")
    settle(a1, a2, b)
    for body in ("priv-in", "nocopy-in"):
        check_once(a1, body, [None])
        check_once(a2, body, [])
    for body in ("priv-out", "nocopy-out"):
        check_once(b, body, [None])
        check_once(a2, body, [])


def test_groupchat_not_carbonized(three):
    d, a1, a2, a3, b = three
    b.send("<message to='%s/A1' type='groupchat'><body>gc</body></message>" % A)
    b.send("<message to='%s/A1' type='chat'><body>after-gc</body></message>" % A)
    assert a2.has(lambda m: carbon(m)[1] is not None and body_of(carbon(m)[1]) == "after-gc")
    settle(b, a1, a2)
    check_once(a1, "gc", [None])
    check_once(a2, "gc", [])


def test_to_own_other_resource_no_duplicates(three):
    d, a1, a2, a3, b = three
    # A1 to A2: A2 gets it itself, A1 sent it: neither gets a carbon
    a1.send("<message to='%s/A2' type='chat'><body>self-a2</body></message>" % A)
    # A1 to A3 (not enabled): A2 gets one sent carbon
    a1.send("<message to='%s/A3' type='chat'><body>self-a3</body></message>" % A)
    assert a3.has(lambda m: body_of(m) == "self-a3")
    assert a2.has(lambda m: carbon(m)[1] is not None and body_of(carbon(m)[1]) == "self-a3")
    settle(a1, a2, a3)
    check_once(a1, "self-a2", [])
    check_once(a2, "self-a2", [None])
    check_once(a3, "self-a2", [])
    check_once(a1, "self-a3", [])
    check_once(a2, "self-a3", ["sent"])
    check_once(a3, "self-a3", [None])


def test_carbon_never_carbonized(three):
    d, a1, a2, a3, b = three
    # bob forwards something that looks like a carbon: delivered as is to
    # A1 (clients check 'from'), never copied
    b.send("<message to='%s/A1' type='chat'><received xmlns='%s'><forwarded xmlns='%s'>"
           "<message xmlns='jabber:client' from='eve@a.test/x' to='%s/A1' type='chat'>"
           "<body>forged</body></message></forwarded></received></message>" % (A, NS_C, NS_F, A))
    b.send("<message to='%s/A1' type='chat'><body>after-forged</body></message>" % A)
    assert a2.has(lambda m: carbon(m)[1] is not None and body_of(carbon(m)[1]) == "after-forged")
    settle(b, a1, a2)
    got = check_once(a1, "forged", ["received"])
    assert got[0][1].get("from") == B + "/B"   # the true sender, not A
    check_once(a2, "forged", [])


def test_disable_stops_and_metrics(three):
    d, a1, a2, a3, b = three

    def count():
        _, _, text = W.http_request(d.http_port, "GET", "/metrics")
        m = re.search(r'plucs_carbons_total\{direction="received"\} (\d+)', text)
        assert m, text
        return int(m.group(1))
    before = count()
    b.send("<message to='%s/A1' type='chat'><body>on</body></message>" % A)
    assert a2.has(lambda m: carbon(m)[1] is not None and body_of(carbon(m)[1]) == "on")
    assert count() == before + 1
    enable(a2, False)
    b.send("<message to='%s/A1' type='chat'><body>off</body></message>" % A)
    b.send("<message to='%s/A2' type='chat'><body>to-a2</body></message>" % A)
    assert a1.has(lambda m: carbon(m)[1] is not None and body_of(carbon(m)[1]) == "to-a2")
    settle(b, a1, a2)
    check_once(a1, "off", [None])
    check_once(a2, "off", [])
    check_once(a2, "to-a2", [None])
    assert count() == before + 2


def test_bad_requests(three):
    d, a1, a2, a3, b = three
    r = a3.iq("<enable xmlns='%s'/>" % NS_C, type="get")
    assert r is not None and r.get("type") == "error"
    r = a3.iq("<enable xmlns='%s'/>" % NS_C, to=B)
    assert r is not None and r.get("type") == "error"
    b.send("<message to='%s/A1' type='chat'><body>still-off</body></message>" % A)
    assert a1.has(lambda m: body_of(m) == "still-off")
    settle(b, a1, a3)
    check_once(a3, "still-off", [])


def test_slixmpp_xep_0280(plucsd, im):
    a = im("alice", daemon=plucsd, resource="slix")
    a.x.register_plugin("xep_0280")
    got = []
    a.x.add_event_handler("carbon_received", lambda m: got.append(m))
    assert a.login().ok
    a.available()
    a.run(a.x.plugin["xep_0280"].enable(), 5)
    other = RawIM(plucsd.port, "alice", "other")
    b = RawIM(plucsd.port, "bob", "B")
    try:
        b.send("<message to='%s/other' type='chat'><body>slix</body></message>" % A)
        assert other.has(lambda m: body_of(m) == "slix")
        assert a.wait_for(lambda: got, 5), a.all_messages
        fwd = got[0]["carbon_received"]
        assert fwd["body"] == "slix" and str(fwd["from"]) == B + "/B"
    finally:
        other.close()
        b.close()


def test_muc_groupchat_and_private_messages(three):
    d, a1, a2, a3, b = three
    room = "carbons@conference.a.test"
    muc = "http://jabber.org/protocol/muc"
    user = muc + "#user"

    def joined(c, nick):
        c.send("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (room, nick, muc))
        p = c.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT
                   and e.get("from") == "%s/%s" % (room, nick)
                   and any(s.get("code") == "110" for s in e.iter("{%s}status" % user)))
        assert p is not None, [ET.tostring(g) for g in c.got[-5:]]
        if any(s.get("code") == "201" for s in p.iter("{%s}status" % user)):
            r = c.iq("<query xmlns='%s#owner'><x xmlns='jabber:x:data' type='submit'/></query>"
                     % muc, to=room)
            assert r is not None and r.get("type") == "result", ET.tostring(r)
    joined(a1, "al")
    joined(b, "bo")
    b.send("<message to='%s' type='groupchat'><body>gc-room</body></message>" % room)
    assert a1.has(lambda m: body_of(m) == "gc-room")
    a1.send("<message to='%s/bo' type='chat'><body>pm-out</body><x xmlns='%s'/></message>"
            % (room, user))
    assert b.has(lambda m: body_of(m) == "pm-out")
    b.send("<message to='%s/al' type='chat'><body>pm-in</body><x xmlns='%s'/></message>"
           % (room, user))
    assert a1.has(lambda m: body_of(m) == "pm-in")
    assert a2.has(lambda m: carbon(m)[1] is not None and body_of(carbon(m)[1]) == "pm-in")
    settle(a1, a2, b)
    check_once(a2, "gc-room", [])
    check_once(a2, "pm-out", ["sent"])
    check_once(a2, "pm-in", ["received"])
    check_once(a1, "pm-in", [None])
    check_once(a1, "pm-out", [])
    check_once(a3, "pm-in", [])
