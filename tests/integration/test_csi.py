"""Client state indication (XEP-0352, urn:xmpp:csi:0; issue 14 point 3):
while alice's client is inactive the server holds presence updates (only
the latest per contact resource) and chat states, delivers anything urgent
at once (after what it held, in order), flushes on <active/> and when more
than plucs/csi/max are held. Raw protocol (xmpp_raw.RawIM)."""

import xml.etree.ElementTree as ET

import pytest

import plucs_harness as H
from xmpp_raw import NS_CLIENT, RawIM

NS_CSI = "urn:xmpp:csi:0"
NS_CS = "http://jabber.org/protocol/chatstates"
A, B = "alice@a.test", "bob@a.test"
PRES = "{%s}presence" % NS_CLIENT
MSG = "{%s}message" % NS_CLIENT


def status(e):
    s = e.find("{%s}status" % NS_CLIENT)
    return s.text if s is not None else None


def body(e):
    s = e.find("{%s}body" % NS_CLIENT)
    return s.text if s is not None else None


def from_bob(e, res="B"):
    return e.get("from") == "%s/%s" % (B, res)


@pytest.fixture
def pair(plucsd_factory):
    def make(**registry):
        d = plucsd_factory(**registry)
        a = RawIM(d.port, "alice", "A")
        b = RawIM(d.port, "bob", "B")
        # they see each other's presence (shared roster)
        assert a.has(lambda e: e.tag == PRES and from_bob(e)), [ET.tostring(g) for g in a.got]
        made.extend([a, b])
        return d, a, b
    made = []
    yield make
    for c in made:
        c.close()


def inactive(a):
    a.send("<inactive xmlns='%s'/>" % NS_CSI)
    a.ping()   # processed in order: the state is set before the ping answer


def after_mark(a, start):
    return a.got[start:]


def quiet(a, b):
    """Whatever b sent before has been routed (b's ping round trip goes
    after it through b's worker) and alice had time to receive it."""
    b.ping()
    a.ping()
    a.pump(0.5)


def test_stream_feature_and_disco(plucsd_factory):
    d = plucsd_factory()
    r, cond = H.raw_auth(d.port, H.jid("alice"), H.password("alice"))
    assert cond == "success"
    feats = r.open_stream()
    r.close()
    assert feats and "<csi xmlns='%s'/>" % NS_CSI in feats.replace('"', "'"), feats
    a = RawIM(d.port, "alice", "A", presence=False)
    q = a.iq("<query xmlns='http://jabber.org/protocol/disco#info'/>", to="a.test", type="get")
    a.close()
    assert q is not None
    assert NS_CSI in {f.get("var") for f in q.iter("{http://jabber.org/protocol/disco#info}feature")}


def test_hold_then_flush_on_active(pair):
    d, a, b = pair()
    inactive(a)
    start = len(a.got)
    for i in range(1, 6):
        b.send("<presence><status>s%d</status></presence>" % i)
    b.send("<message to='%s/A' type='chat'><composing xmlns='%s'/></message>" % (A, NS_CS))
    b.send("<presence><status>s6</status></presence>")
    quiet(a, b)
    held = [g for g in after_mark(a, start) if g.tag in (PRES, MSG)]
    assert not held, "delivered while inactive: %r" % [ET.tostring(g) for g in held]
    a.send("<active xmlns='%s'/>" % NS_CSI)
    assert a.has(lambda e: e.tag == PRES and status(e) == "s6")
    a.pump(0.3)
    got = [g for g in after_mark(a, start) if g.tag in (PRES, MSG)]
    # the chat state (held at its arrival) before the latest presence: in
    # arrival order, each presence replaced by its successor
    assert [(g.tag, status(g)) for g in got] == [(MSG, None), (PRES, "s6")], \
        [ET.tostring(g) for g in got]
    assert got[0].find("{%s}composing" % NS_CS) is not None
    # active again: presence arrives at once
    b.send("<presence><status>live</status></presence>")
    assert a.has(lambda e: e.tag == PRES and status(e) == "live")


def test_body_is_urgent_and_comes_after_held(pair):
    d, a, b = pair()
    inactive(a)
    start = len(a.got)
    b.send("<presence><status>p1</status></presence>")
    b.send("<presence><status>p2</status></presence>")
    b.send("<message to='%s/A' type='chat'><paused xmlns='%s'/></message>" % (A, NS_CS))
    quiet(a, b)
    assert not [g for g in after_mark(a, start) if g.tag in (PRES, MSG)]
    b.send("<message to='%s' type='chat'><body>hello</body><active xmlns='%s'/></message>"
           % (A, NS_CS))
    assert a.has(lambda e: e.tag == MSG and body(e) == "hello")
    got = [g for g in after_mark(a, start) if g.tag in (PRES, MSG)]
    assert [(g.tag, status(g), body(g)) for g in got] == [
        (PRES, "p2", None), (MSG, None, None), (MSG, None, "hello")], \
        [ET.tostring(g) for g in got]
    # still inactive: the next presence is held again
    mark = len(a.got)
    b.send("<presence><status>p3</status></presence>")
    quiet(a, b)
    assert not [g for g in a.got[mark:] if g.tag == PRES], [ET.tostring(g) for g in a.got[mark:]]


def test_iq_is_urgent(pair):
    d, a, b = pair()
    inactive(a)
    start = len(a.got)
    b.send("<presence><status>q1</status></presence>")
    b.send("<iq type='get' id='v1' to='%s/A'><query xmlns='jabber:iq:version'/></iq>" % A)
    assert a.has(lambda e: e.tag == "{%s}iq" % NS_CLIENT and e.get("id") == "v1")
    got = [g for g in after_mark(a, start) if g.get("from") == B + "/B"]
    assert [g.tag for g in got] == [PRES, "{%s}iq" % NS_CLIENT], [ET.tostring(g) for g in got]


def test_latest_presence_per_resource_and_unavailable(pair):
    d, a, b = pair()
    b2 = RawIM(d.port, "bob", "B2")
    try:
        assert a.has(lambda e: e.tag == PRES and from_bob(e, "B2"))
        inactive(a)
        start = len(a.got)
        b.send("<presence><status>b-1</status></presence>")
        b2.send("<presence><status>b2-1</status></presence>")
        b.send("<presence><status>b-2</status></presence>")
        b2.send("<presence type='unavailable'/>")
        quiet(a, b)
        b2.ping()
        a.pump(0.3)
        assert not [g for g in after_mark(a, start) if g.tag == PRES]
        a.send("<active xmlns='%s'/>" % NS_CSI)
        assert a.has(lambda e: e.tag == PRES and from_bob(e, "B2") and e.get("type") == "unavailable")
        a.pump(0.3)
        got = [(g.get("from"), status(g), g.get("type"))
               for g in after_mark(a, start) if g.tag == PRES]
        assert sorted(got, key=str) == sorted([(B + "/B", "b-2", None),
                                               (B + "/B2", None, "unavailable")], key=str), got
    finally:
        b2.close()


def test_held_queue_is_bounded(pair):
    d, a, b = pair(**{"plucs/csi/max": "3"})
    inactive(a)
    start = len(a.got)
    for st in ("composing", "paused", "composing"):
        b.send("<message to='%s/A' type='chat'><%s xmlns='%s'/></message>" % (A, st, NS_CS))
    quiet(a, b)
    assert not [g for g in after_mark(a, start) if g.tag == MSG]
    # the fourth goes over plucs/csi/max=3: all four are delivered
    b.send("<message to='%s/A' type='chat'><gone xmlns='%s'/></message>" % (A, NS_CS))
    assert a.has(lambda e: e.tag == MSG and e.find("{%s}gone" % NS_CS) is not None)
    got = [g for g in after_mark(a, start) if g.tag == MSG]
    assert [list(g)[0].tag.split("}")[1] for g in got] == ["composing", "paused", "composing",
                                                           "gone"], [ET.tostring(g) for g in got]


def test_other_top_level_elements(plucsd_factory):
    d = plucsd_factory()
    a = RawIM(d.port, "alice", "A", presence=False)
    try:
        # an unknown element of the CSI namespace is ignored...
        a.send("<sleepy xmlns='%s'/>" % NS_CSI)
        a.ping()
        # ...any other non-stanza element still ends the stream (RFC 6120 §8)
        a.send("<frobnicate xmlns='urn:example:nothing'/>")
        data = a.r.read_all(5)
        assert H.stream_error_condition(data) == "unsupported-stanza-type", data
    finally:
        a.close()
