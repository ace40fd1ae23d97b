"""The everyday XEPs against a real plucsd, with slixmpp's own plugins:
software version (XEP-0092), entity time (XEP-0202), last activity
(XEP-0012), private XML storage (XEP-0049), blocking command (XEP-0191),
entity capabilities of the server (XEP-0115), and message delivery receipts
(XEP-0184) / chat states (XEP-0085) passing through untouched."""

import asyncio
import datetime
import time
import xml.etree.ElementTree as ET

import pytest

import plucs_harness as H

NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_BLOCKING = "urn:xmpp:blocking"
NS_PRIVATE = "jabber:iq:private"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
CAPS_NODE = "https://plucs.example/caps"

EVERYDAY = {
    "jabber:iq:version", "urn:xmpp:time", "jabber:iq:last", "jabber:iq:private",
    "urn:xmpp:blocking", "http://jabber.org/protocol/caps",
}


def xclient(client, user, daemon, resource=None, plugins=()):
    """A logged-in client with extra slixmpp plugins."""
    c = client(user, daemon=daemon, resource=resource)
    for p in plugins:
        c.x.register_plugin(p)
    assert c.login().ok
    return c


def pump_until(c, pred, timeout=5, step=0.05):
    """Runs the (shared) event loop until pred() is truthy or timeout;
    returns pred()'s last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        c.pump(step)


def seconds_until(c, to, pred, timeout=5):
    """Asks TO's last activity (XEP-0012) until pred(result) holds; returns
    the last answer (the time being measured has to pass)."""
    end = time.monotonic() + timeout
    while True:
        r = last(c, to)
        if pred(r) or time.monotonic() >= end:
            return r
        c.pump(0.1)


def call(c, fut, timeout=5):
    """Runs a plugin call's future; returns the response iq (result or error)."""
    from slixmpp.exceptions import IqError
    try:
        return c.run(fut, timeout)
    except IqError as e:
        return e.iq


def condition(stanza):
    """The defined condition of a stanza error, or None."""
    err = stanza.xml.find("{jabber:client}error")
    if err is None:
        return None
    for child in err:
        if child.tag.startswith("{%s}" % NS_STANZAS) and not child.tag.endswith("}text"):
            return child.tag.split("}", 1)[1]
    return None


def error_children(stanza):
    err = stanza.xml.find("{jabber:client}error")
    return [] if err is None else [c.tag for c in err]


def next_message(c, timeout=5, want=None):
    """The next received message (optionally of type want), or None."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        m = c.wait_message(left)
        if m is None or want is None or m["type"] == want:
            return m


# --- disco -------------------------------------------------------------------

def test_features_advertised(plucsd, client):
    c = xclient(client, "alice", plucsd)
    feats = c.disco_info("a.test")
    assert EVERYDAY <= feats, EVERYDAY - feats


# --- XEP-0092 ------------------------------------------------------------------

def test_software_version(plucsd, client):
    c = xclient(client, "alice", plucsd, plugins=["xep_0092"])
    r = call(c, c.x["xep_0092"].get_version("a.test"))
    assert r["type"] == "result", r
    assert r["software_version"]["name"] == "PLUCS"
    assert r["software_version"]["version"] == "0.1.0"
    # not on behalf of a user: a bare JID is not the server
    r = call(c, c.x["xep_0092"].get_version("bob@a.test"))
    assert r["type"] == "error" and condition(r) == "service-unavailable", r


def test_software_version_of_client_reaches_client(plucsd, client):
    """A query to a full JID is the client's to answer."""
    a = xclient(client, "alice", plucsd, plugins=["xep_0092"])
    b = xclient(client, "bob", plucsd, resource="desk", plugins=["xep_0092"])
    r = call(a, a.x["xep_0092"].get_version("bob@a.test/desk"))
    assert r["type"] == "result", r
    assert str(r["from"]) == "bob@a.test/desk"
    assert r["software_version"]["name"] == "Slixmpp"     # bob's client answered


# --- XEP-0202 ------------------------------------------------------------------

def test_entity_time(plucsd, client):
    c = xclient(client, "alice", plucsd, plugins=["xep_0202"])
    r = call(c, c.x["xep_0202"].get_entity_time("a.test"))
    assert r["type"] == "result", r
    t = r.xml.find("{urn:xmpp:time}time")
    utc = t.find("{urn:xmpp:time}utc").text
    tzo = t.find("{urn:xmpp:time}tzo").text
    assert utc.endswith("Z"), utc
    assert len(tzo) == 6 and tzo[0] in "+-" and tzo[3] == ":", tzo
    when = datetime.datetime.strptime(utc[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - when).total_seconds()) < 60
    r = call(c, c.x["xep_0202"].get_entity_time("bob@a.test"))
    assert r["type"] == "error" and condition(r) == "service-unavailable", r


# --- XEP-0012 ------------------------------------------------------------------

def last(c, to):
    return call(c, c.x["xep_0012"].get_last_activity(to))


def test_last_activity_server_uptime(plucsd, client):
    c = xclient(client, "alice", plucsd, plugins=["xep_0012"])
    r1 = last(c, "a.test")
    assert r1["type"] == "result", r1
    s1 = int(r1["last_activity"]["seconds"])
    assert 0 <= s1 < 120
    r2 = seconds_until(c, "a.test", lambda r: int(r["last_activity"]["seconds"]) >= s1 + 1)
    assert int(r2["last_activity"]["seconds"]) >= s1 + 1, (s1, r2)


def test_last_activity_of_users(plucsd, client):
    a = xclient(client, "alice", plucsd, plugins=["xep_0012"])
    b = xclient(client, "bob", plucsd, plugins=["xep_0012"])
    b.send_presence()
    # online (available resource): 0
    r = last(a, "bob@a.test")
    assert r["type"] == "result", r
    assert int(r["last_activity"]["seconds"]) == 0
    # logs out with a status text
    b.send_presence_stanza(b.x.make_presence(ptype="unavailable", pstatus="Gone fishing"))
    b.close()
    # (right after the logout the answer may still be item-not-found until
    # the logout is recorded: asked again until a result at least 2 s old)
    r = seconds_until(a, "bob@a.test", lambda r: r["type"] == "result" and
                      int(r["last_activity"]["seconds"]) >= 2, timeout=8)
    assert r["type"] == "result", r
    assert int(r["last_activity"]["seconds"]) >= 2
    assert r["last_activity"]["status"] == "Gone fishing"
    # another domain may not ask; an unknown account does not exist
    d = xclient(client, "dave", plucsd, plugins=["xep_0012"])
    r = last(d, "bob@a.test")
    assert r["type"] == "error" and condition(r) == "forbidden", r
    r = last(a, "nobody@a.test")
    assert r["type"] == "error" and condition(r) == "service-unavailable", r


def test_last_activity_survives_restart(plucsd_factory, client):
    p = plucsd_factory()
    b = xclient(client, "bob", p, plugins=["xep_0012"])
    b.send_presence()
    b.send_presence_stanza(b.x.make_presence(ptype="unavailable", pstatus="See you"))
    b.close()
    # plucsd has recorded the logout (asked before the restart)
    w = xclient(client, "carol", p, plugins=["xep_0012"])
    r = seconds_until(w, "bob@a.test", lambda r: r["type"] == "result" and
                      r["last_activity"]["status"] == "See you")
    assert r["type"] == "result" and r["last_activity"]["status"] == "See you", r
    w.close()
    assert p.terminate() == 0
    p.start()
    a = xclient(client, "alice", p, plugins=["xep_0012"])
    r = last(a, "bob@a.test")
    assert r["type"] == "result", r
    assert r["last_activity"]["status"] == "See you"


# --- XEP-0049 ------------------------------------------------------------------

def private_iq(c, itype, children, to=None):
    iq = c.x.make_iq_get(ito=to) if itype == "get" else c.x.make_iq_set(ito=to)
    q = ET.Element("{%s}query" % NS_PRIVATE)
    for ch in children:
        q.append(ch)
    iq.append(q)
    return c.iq(iq)


def bookmarks(text):
    s = ET.Element("{storage:bookmarks}storage")
    conf = ET.SubElement(s, "{storage:bookmarks}conference",
                         {"jid": "room@conference.a.test", "autojoin": "true", "name": text})
    ET.SubElement(conf, "{storage:bookmarks}nick").text = "alice & co <3"
    return s


def test_private_storage_round_trip(plucsd, client):
    c = xclient(client, "alice", plucsd, plugins=["xep_0049"])
    # nothing stored yet: the empty element comes back
    r = private_iq(c, "get", [ET.Element("{storage:bookmarks}storage")])
    assert r["type"] == "result", r
    got = r.xml.find("{%s}query/{storage:bookmarks}storage" % NS_PRIVATE)
    assert got is not None and len(got) == 0
    # store, replace, read back
    assert private_iq(c, "set", [bookmarks("first")])["type"] == "result"
    assert private_iq(c, "set", [bookmarks("second")])["type"] == "result"
    r = private_iq(c, "get", [ET.Element("{storage:bookmarks}storage")])
    conf = r.xml.find("{%s}query/{storage:bookmarks}storage/{storage:bookmarks}conference"
                      % NS_PRIVATE)
    assert conf is not None, ET.tostring(r.xml)
    assert conf.get("name") == "second"
    assert conf.find("{storage:bookmarks}nick").text == "alice & co <3"
    # another namespace is another slot
    r = private_iq(c, "get", [ET.Element("{storage:rosternotes}storage")])
    assert len(r.xml.find("{%s}query/{storage:rosternotes}storage" % NS_PRIVATE)) == 0
    # kept across sessions; other users do not see it
    c.close()
    c2 = xclient(client, "alice", plucsd)
    r = private_iq(c2, "get", [ET.Element("{storage:bookmarks}storage")])
    assert r.xml.find("{%s}query/{storage:bookmarks}storage/{storage:bookmarks}conference"
                      % NS_PRIVATE) is not None
    b = xclient(client, "bob", plucsd)
    r = private_iq(b, "get", [ET.Element("{storage:bookmarks}storage")])
    assert len(r.xml.find("{%s}query/{storage:bookmarks}storage" % NS_PRIVATE)) == 0


def test_private_storage_refusals(plucsd, client):
    c = xclient(client, "alice", plucsd)
    # reserved namespaces
    for ns, name in (("jabber:iq:roster", "query"), ("vcard-temp", "vCard"),
                     ("jabber:client", "message"), ("jabber:iq:private", "query")):
        r = private_iq(c, "set", [ET.Element("{%s}%s" % (ns, name))])
        assert r["type"] == "error" and condition(r) == "not-acceptable", (ns, r)
        r = private_iq(c, "get", [ET.Element("{%s}%s" % (ns, name))])
        assert r["type"] == "error" and condition(r) == "not-acceptable", (ns, r)
    # somebody else's storage
    r = private_iq(c, "get", [ET.Element("{storage:bookmarks}storage")], to="bob@a.test")
    assert r["type"] == "error" and condition(r) == "forbidden", r
    r = private_iq(c, "set", [bookmarks("x")], to="bob@a.test")
    assert r["type"] == "error" and condition(r) == "forbidden", r
    # an empty query, and a get for two things at once
    r = private_iq(c, "get", [])
    assert r["type"] == "error" and condition(r) == "bad-request", r
    r = private_iq(c, "get", [ET.Element("{a:b}x"), ET.Element("{a:b}y")])
    assert r["type"] == "error" and condition(r) == "bad-request", r
    # own bare JID is fine
    r = private_iq(c, "get", [ET.Element("{storage:bookmarks}storage")], to="alice@a.test")
    assert r["type"] == "result", r


# --- XEP-0191 ------------------------------------------------------------------

class Watch:
    """Records presence and blocking pushes a client receives."""

    def __init__(self, c):
        self.c = c
        self.unavailable = []
        self.available = []
        self.pushes = []
        c.x.add_event_handler("presence_unavailable",
                              lambda p: self.unavailable.append(str(p["from"])))
        c.x.add_event_handler("presence_available",
                              lambda p: self.available.append(str(p["from"])))
        c.x.add_event_handler("blocked", lambda iq: self.pushes.append(("block", iq)))
        c.x.add_event_handler("unblocked", lambda iq: self.pushes.append(("unblock", iq)))

    def wait(self, pred, timeout=5):
        end = time.monotonic() + timeout
        while not pred() and time.monotonic() < end:
            self.c.pump(0.1)
        return pred()


def blocklist(c):
    r = call(c, c.x["xep_0191"].get_blocked())
    assert r["type"] == "result", r
    return {str(j) for j in r["blocklist"]["items"]}


def test_blocking(plucsd, client):
    a = xclient(client, "alice", plucsd, resource="desk", plugins=["xep_0191", "xep_0092"])
    a2 = xclient(client, "alice", plucsd, resource="phone", plugins=["xep_0191"])
    b = xclient(client, "bob", plucsd, resource="laptop", plugins=["xep_0092"])
    wa, wa2, wb = Watch(a), Watch(a2), Watch(b)
    for c in (a, a2, b):
        c.send_presence()
    assert wb.wait(lambda: "alice@a.test/desk" in wb.available)
    assert wa.wait(lambda: "bob@a.test/laptop" in wa.available)

    assert blocklist(a) == set()
    assert blocklist(a2) == set()
    r = call(a, a.x["xep_0191"].block("bob@a.test"))
    assert r["type"] == "result", r
    # pushed to both resources that asked for the list
    assert wa.wait(lambda: wa.pushes) and wa2.wait(lambda: wa2.pushes)
    kind, push = wa2.pushes[0]
    assert kind == "block" and {str(j) for j in push["block"]["items"]} == {"bob@a.test"}
    # they see each other go offline
    assert wb.wait(lambda: "alice@a.test/desk" in wb.unavailable), wb.unavailable
    assert wa.wait(lambda: "bob@a.test/laptop" in wa.unavailable), wa.unavailable

    # bob's messages do not arrive; he gets what an offline user would give
    b.send_message("alice@a.test/desk", "can you hear me?")
    b.send_message("alice@a.test", "hello?")
    for body in ("can you hear me?", "hello?"):
        err = next_message(b, 5, want="error")
        assert err is not None and condition(err) == "service-unavailable", err
        assert err["body"] == body
    assert next_message(a, 1.5) is None
    assert next_message(a2, 0.2) is None
    # bob's iq to alice: service-unavailable
    r = call(b, b.x["xep_0092"].get_version("alice@a.test/desk"))
    assert r["type"] == "error" and condition(r) == "service-unavailable", r
    # alice's own message to bob: not-acceptable + <blocked/>
    a.send_message("bob@a.test", "psst")
    err = next_message(a, 5, want="error")
    assert err is not None, "no error for a message to a blocked contact"
    assert condition(err) == "not-acceptable"
    assert "{urn:xmpp:blocking:errors}blocked" in error_children(err)
    assert err.xml.find("{jabber:client}error").get("type") == "cancel"
    assert next_message(b, 1, want="chat") is None
    # alice's iq to bob too
    r = call(a, a.x["xep_0092"].get_version("bob@a.test/laptop"))
    assert r["type"] == "error" and condition(r) == "not-acceptable", r
    # bob's presence updates do not reach alice
    n = len(wa.available)
    b.x.send_presence(pstatus="still here")
    b.pump(0.8)
    assert len(wa.available) == n

    # the list survives logging out and in again
    a2.close()
    a.close()
    a3 = xclient(client, "alice", plucsd, resource="desk", plugins=["xep_0191"])
    wa3 = Watch(a3)
    a3.send_presence()
    assert blocklist(a3) == {"bob@a.test"}
    b.send_message("alice@a.test/desk", "still blocked?")
    assert next_message(a3, 1.5) is None

    # unblock restores delivery and presence
    r = call(a3, a3.x["xep_0191"].unblock("bob@a.test"))
    assert r["type"] == "result", r
    assert wa3.wait(lambda: any(k == "unblock" for k, _ in wa3.pushes))
    assert wa3.wait(lambda: "bob@a.test/laptop" in wa3.available), wa3.available
    assert wb.wait(lambda: wb.available.count("alice@a.test/desk") >= 2), wb.available
    b.send_message("alice@a.test/desk", "back again")
    m = next_message(a3, 5, want="chat")
    assert m is not None and m["body"] == "back again"
    assert blocklist(a3) == set()


def test_blocking_domain_and_unblock_all(plucsd, client):
    a = xclient(client, "alice", plucsd, resource="r", plugins=["xep_0191"])
    d = xclient(client, "dave", plucsd, resource="r")
    c = xclient(client, "carol", plucsd, resource="r")
    for x in (a, d, c):
        x.send_presence()
    r = call(a, a.x["xep_0191"].block(["b.test", "carol@a.test/r"]))
    assert r["type"] == "result", r
    assert blocklist(a) == {"b.test", "carol@a.test/r"}
    d.send_message("alice@a.test/r", "from b.test")
    c.send_message("alice@a.test/r", "from carol/r")
    assert next_message(a, 1.5, want="chat") is None
    # unblock everything at once (empty <unblock/>)
    iq = a.x.make_iq_set()
    iq.append(ET.Element("{%s}unblock" % NS_BLOCKING))
    assert a.iq(iq)["type"] == "result"
    assert blocklist(a) == set()
    d.send_message("alice@a.test/r", "hello again")
    m = next_message(a, 5, want="chat")
    assert m is not None and m["body"] == "hello again"


def test_blocking_bad_requests(plucsd, client):
    a = xclient(client, "alice", plucsd, plugins=["xep_0191"])
    iq = a.x.make_iq_set()
    iq.append(ET.Element("{%s}block" % NS_BLOCKING))
    r = a.iq(iq)
    assert r["type"] == "error" and condition(r) == "bad-request", r
    iq = a.x.make_iq_set()
    blk = ET.SubElement(iq.xml, "{%s}block" % NS_BLOCKING)
    ET.SubElement(blk, "{%s}item" % NS_BLOCKING, {"jid": "a@b@c"})
    r = a.iq(iq)
    assert r["type"] == "error" and condition(r) == "jid-malformed", r
    # someone else's list
    iq = a.x.make_iq_get(ito="bob@a.test")
    iq.append(ET.Element("{%s}blocklist" % NS_BLOCKING))
    r = a.iq(iq)
    assert r["type"] == "error" and condition(r) == "forbidden", r


def test_blocked_contact_cannot_see_last_activity(plucsd, client):
    b = xclient(client, "bob", plucsd, plugins=["xep_0191"])
    a = xclient(client, "alice", plucsd, plugins=["xep_0012"])
    c = xclient(client, "carol", plucsd, plugins=["xep_0012"])
    gone = []          # carol (a shared contact, not blocked) sees bob leave
    c.x.add_event_handler("presence_unavailable", lambda p: gone.append(str(p["from"])))
    c.send_presence()
    b.send_presence()
    assert call(b, b.x["xep_0191"].block("alice@a.test"))["type"] == "result"
    r = call(a, a.x["xep_0012"].get_last_activity("bob@a.test"))
    assert r["type"] == "error" and condition(r) == "service-unavailable", r
    bob = b.jid
    b.close()          # offline now: the stored list decides
    assert pump_until(c, lambda: bob in gone), "carol did not see bob's session end"
    r = call(a, a.x["xep_0012"].get_last_activity("bob@a.test"))
    assert r["type"] == "error" and condition(r) == "service-unavailable", r
    c = xclient(client, "carol", plucsd, plugins=["xep_0012"])
    r = call(c, c.x["xep_0012"].get_last_activity("bob@a.test"))
    assert r["type"] == "result", r


# --- XEP-0115 ------------------------------------------------------------------

def server_ver(c):
    """The server's caps ver as a client computes it from disco#info."""
    iq = c.x.make_iq_get(queryxmlns=NS_DISCO_INFO, ito="a.test")
    info = c.iq(iq)
    assert info["type"] == "result"
    ver = c.x["xep_0115"].generate_verstring(info["disco_info"], "sha-1")
    assert ver
    return ver, info


def test_caps_node_answers_disco(plucsd, client):
    c = xclient(client, "alice", plucsd, plugins=["xep_0115"])
    ver, info = server_ver(c)
    iq = c.x.make_iq_get(queryxmlns=NS_DISCO_INFO, ito="a.test")
    iq["disco_info"]["node"] = CAPS_NODE + "#" + ver
    r = c.iq(iq)
    assert r["type"] == "result", r
    assert r["disco_info"]["node"] == CAPS_NODE + "#" + ver
    assert set(r["disco_info"]["features"]) == set(info["disco_info"]["features"])
    assert r["disco_info"]["identities"] == info["disco_info"]["identities"]
    iq = c.x.make_iq_get(queryxmlns=NS_DISCO_INFO, ito="a.test")
    iq["disco_info"]["node"] = CAPS_NODE + "#not-the-ver"
    r = c.iq(iq)
    assert r["type"] == "error" and condition(r) == "item-not-found", r


def test_caps_in_stream_features(plucsd, client):
    c = xclient(client, "alice", plucsd, plugins=["xep_0115"])
    ver, _ = server_ver(c)
    r = H.RawClient(plucsd.port)
    try:
        r.open_stream()
        r.starttls()
        r.open_stream()
        assert H.sasl_condition(r.auth_plain("alice", H.password("alice"))) == "success"
        feats = r.open_stream()
        assert "http://jabber.org/protocol/caps" in feats, feats
        assert "ver='%s'" % ver in feats or 'ver="%s"' % ver in feats, feats
    finally:
        r.close()


# --- XEP-0184 / XEP-0085 -------------------------------------------------------

def test_receipts_and_chat_states_pass_through(plucsd, client):
    a = xclient(client, "alice", plucsd, resource="desk", plugins=["xep_0184", "xep_0085"])
    b = xclient(client, "bob", plucsd, resource="laptop", plugins=["xep_0085"])
    received = []
    a.x.add_event_handler("receipt_received", lambda m: received.append(m))
    msg = a.x.make_message(mto="bob@a.test/laptop", mbody="with receipt", mtype="chat")
    msg["id"] = "msg-184-1"
    msg["request_receipt"] = True
    msg["chat_state"] = "active"
    msg.send()
    m = next_message(b, 5, want="chat")
    assert m is not None, "message not delivered"
    assert m["id"] == "msg-184-1"
    assert m["body"] == "with receipt"
    req = m.xml.find("{urn:xmpp:receipts}request")
    assert req is not None and len(req) == 0 and not req.attrib
    st = m.xml.find("{http://jabber.org/protocol/chatstates}active")
    assert st is not None and len(st) == 0
    assert m["chat_state"] == "active"
    # bob's receipt goes back untouched too
    ack = b.x.make_message(mto="alice@a.test/desk", mtype="chat")
    ET.SubElement(ack.xml, "{urn:xmpp:receipts}received", {"id": "msg-184-1"})
    ack.send()
    end = time.monotonic() + 5
    while not received and time.monotonic() < end:
        a.pump(0.1)
    assert received and received[0]["receipt"] == "msg-184-1"
    # a chat state notification alone (no body) arrives too
    states = []
    b.x.add_event_handler("chatstate_composing", lambda m: states.append(m))
    n = a.x.make_message(mto="bob@a.test/laptop", mtype="chat")
    n["chat_state"] = "composing"
    n.send()
    end = time.monotonic() + 5
    while not states and time.monotonic() < end:
        b.pump(0.1)
    assert states and str(states[0]["from"]) == "alice@a.test/desk"
