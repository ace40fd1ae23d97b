"""Privacy lists (issue 15 point 4, XEP-0016 1.7 jabber:iq:privacy) and
their consistency with the blocking command (XEP-0191 §4).

slixmpp 1.8.3's xep_0016 plugin exists, but its calls do not return the
answer (and edit_list never sends), so the iqs are written here as raw XML
and sent with IMClient.iq_el. Directory data (data.ldif): alice, bob and
carol share the directory group "staff" (shared roster, subscription
both); nora is in no group (not in alice's roster)."""

import os
import re
import subprocess
import time

import plucs_harness as H
import web_clients as W

NS_PRIV = "jabber:iq:privacy"
NS_BLOCKING = "urn:xmpp:blocking"
NS_VERSION = "jabber:iq:version"
A, B, N = "alice@a.test", "bob@a.test", "nora@a.test"


# --- helpers ---------------------------------------------------------------------

def item(type=None, value=None, action="deny", order=1, kinds=()):
    attrs = ""
    if type:
        attrs += " type='%s' value='%s'" % (type, H._xml_attr(value))
    attrs += " action='%s' order='%s'" % (action, order)
    return "<item%s>%s</item>" % (attrs, "".join("<%s/>" % k for k in kinds))


def set_list(c, name, items):
    r = c.iq_el(None, "set", "<query xmlns='%s'><list name='%s'>%s</list></query>"
                % (NS_PRIV, H._xml_attr(name), "".join(items)))
    return outcome(r)


def outcome(r):
    assert r is not None, "no answer"
    if r.get("type") == "result":
        return "result"
    return H.error_condition(r)


def priv(c, type, inner):
    return outcome(c.iq_el(None, type, "<query xmlns='%s'>%s</query>" % (NS_PRIV, inner)))


def active(c, name=None):
    return priv(c, "set", "<active name='%s'/>" % name if name else "<active/>")


def default(c, name=None):
    return priv(c, "set", "<default name='%s'/>" % name if name else "<default/>")


def remove(c, name):
    return priv(c, "set", "<list name='%s'/>" % name)


def names(c):
    r = c.iq_el(None, "get", "<query xmlns='%s'/>" % NS_PRIV)
    assert r is not None and r.get("type") == "result", r
    q = r.find("{%s}query" % NS_PRIV)
    act = q.find("{%s}active" % NS_PRIV)
    dfl = q.find("{%s}default" % NS_PRIV)
    return (act.get("name") if act is not None else None,
            dfl.get("name") if dfl is not None else None,
            sorted(l.get("name") for l in q.findall("{%s}list" % NS_PRIV)))


def get_list(c, name):
    """[(type, value, action, order, kinds)] or the error condition."""
    r = c.iq_el(None, "get", "<query xmlns='%s'><list name='%s'/></query>" % (NS_PRIV, name))
    assert r is not None
    if r.get("type") != "result":
        return H.error_condition(r)
    out = []
    for it in r.find("{%s}query/{%s}list" % (NS_PRIV, NS_PRIV)):
        out.append((it.get("type"), it.get("value"), it.get("action"), int(it.get("order")),
                    tuple(sorted(k.tag.split("}")[1] for k in it))))
    return out


def blocklist(c):
    r = c.iq_el(None, "get", "<blocklist xmlns='%s'/>" % NS_BLOCKING)
    assert r is not None and r.get("type") == "result", r
    return {i.get("jid") for i in r.find("{%s}blocklist" % NS_BLOCKING)}


def block(c, *jids, unblock=False):
    el = "unblock" if unblock else "block"
    r = c.iq_el(None, "set", "<%s xmlns='%s'>%s</%s>" % (
        el, NS_BLOCKING, "".join("<item jid='%s'/>" % j for j in jids), el))
    return outcome(r)


class Iqs:
    """Records privacy and blocking pushes (iq set from the server)."""

    def __init__(self, c):
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath
        self.privacy, self.blocking = [], []
        c.x.register_handler(Callback(
            "privacy push", MatchXPath("{jabber:client}iq/{%s}query" % NS_PRIV),
            lambda iq: self._rec(self.privacy, iq)))
        for el in ("block", "unblock"):
            c.x.register_handler(Callback(
                "blocking push " + el, MatchXPath("{jabber:client}iq/{%s}%s" % (NS_BLOCKING, el)),
                lambda iq, el=el: self._rec(self.blocking, iq, el)))

    @staticmethod
    def _rec(lst, iq, el=None):
        if iq["type"] != "set":
            return
        if el is None:
            lst.append([l.get("name") for l in iq.xml.find("{%s}query" % NS_PRIV)])
        else:
            lst.append((el, {i.get("jid") for i in iq.xml.find("{%s}%s" % (NS_BLOCKING, el))}))
        iq.reply().send()


def login(im, d, user, resource="r", presence=True, plugins=()):
    c = im(user, daemon=d, resource=resource)
    for p in plugins:
        c.x.register_plugin(p)
    assert c.login().ok
    if presence:
        c.available()
    return c


def version(c, to, timeout=5):
    """An iq get to TO: 'result', the error condition, or 'timeout'."""
    r = c.iq_el(to, "get", "<query xmlns='%s'/>" % NS_VERSION, timeout=timeout)
    return "timeout" if r is None else outcome(r)


def delivered(sender, to, receiver, body, timeout=3):
    """Sends a chat message; True when RECEIVER got it, False when the
    sender got an error for it instead (the error's condition in .last)."""
    sender.send(to, body)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if receiver.saw_message(body=body, type="chat"):
            receiver.wait_message(body=body, type="chat", timeout=0)
            return True
        errs = sender.saw_message(type="error", body=body)
        if errs:
            sender.wait_message(type="error", body=body, timeout=0)
            delivered.last = H.error_condition(errs[0].el)
            return False
        receiver.pump(0.05)
    delivered.last = "timeout"
    return None


# --- the protocol ------------------------------------------------------------------

def test_names_lists_and_errors(plucsd, im):
    a = login(im, plucsd, "alice", presence=False)
    info = a.iq_el("a.test", "get", "<query xmlns='http://jabber.org/protocol/disco#info'/>")
    feats = {f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")}
    assert NS_PRIV in feats
    assert names(a) == (None, None, [])
    assert get_list(a, "nope") == "item-not-found"
    assert set_list(a, "public", [
        item("jid", "Tybalt@Capulet.com", "deny", 3, ["message", "presence-in"]),
        item("group", "staff", "allow", 1),
        item("subscription", "none", "deny", 2, ["presence-out"]),
        item(None, None, "allow", 4294967295)]) == "result"
    assert get_list(a, "public") == [
        ("group", "staff", "allow", 1, ()),
        ("subscription", "none", "deny", 2, ("presence-out",)),
        ("jid", "tybalt@capulet.com", "deny", 3, ("message", "presence-in")),
        (None, None, "allow", 4294967295, ())]
    assert set_list(a, "private", [item("jid", B, "deny", 1)]) == "result"
    assert names(a) == (None, None, ["private", "public"])
    assert active(a, "public") == "result"
    assert default(a, "private") == "result"
    assert names(a) == ("public", "private", ["private", "public"])
    assert active(a, "ghost") == "item-not-found"
    assert default(a, "ghost") == "item-not-found"
    assert remove(a, "ghost") == "item-not-found"
    assert active(a) == "result"          # decline
    assert names(a)[0] is None
    # two lists in one get, two elements in one set: bad-request
    assert priv(a, "get", "<list name='public'/><list name='private'/>") == "bad-request"
    assert priv(a, "set", "<active name='public'/><default name='public'/>") == "bad-request"
    assert priv(a, "set", "") == "bad-request"
    # a group that is in neither the personal nor the shared roster
    assert set_list(a, "g", [item("group", "no such group", "deny", 1)]) == "item-not-found"
    # someone else's lists
    r = a.iq_el("carol@a.test", "get", "<query xmlns='%s'/>" % NS_PRIV)
    assert H.error_condition(r) == "forbidden"
    # removal of the default by its only user
    assert default(a) == "result"
    assert remove(a, "private") == "result"
    assert names(a) == (None, None, ["public"])


def test_malformed_and_hostile(plucsd_factory, im):
    d = plucsd_factory(**{"plucs/max_stanza_size": "2000000"})
    a = login(im, d, "alice", presence=False)
    bad = [
        [item("jid", B, "block", 1)],                           # action
        [item("jid", B, "deny", -1)],                           # order
        [item("jid", B, "deny", "99999999999999999999")],       # huge order
        [item("jid", B, "deny", 4294967296)],                   # just over xs:unsignedInt
        [item("jid", B, "deny", 1), item("jid", N, "deny", 1)],  # same order twice
        [item("colour", "red", "deny", 1)],                     # type
        [item("subscription", "sometimes", "deny", 1)],
        [item("jid", "a@b@c", "deny", 1)],                      # not a JID
        ["<item action='deny' order='1' value='x'/>"],          # value without type
        ["<item type='jid' action='deny' order='1'/>"],         # type without value
        ["<item action='deny'/>"],                              # no order
        [item("jid", B, "deny", 1, ["chat"])],                  # unknown kind
        ["<rule/>"],
    ]
    for items in bad:
        assert set_list(a, "bad", items) == "bad-request", items
    assert priv(a, "set", "<list/>") == "bad-request"         # no name
    assert names(a) == (None, None, [])
    assert plucsd_factory and d.wait_log(r"privacy: alice@a\.test/r sent list 'bad' with a ", 5)
    # 10,000 items: refused as a whole
    many = [item("jid", "u%d@x.test" % i, "deny", i) for i in range(10000)]
    assert set_list(a, "huge", many) == "not-acceptable"
    assert d.wait_log(r"privacy list items", 5)
    assert get_list(a, "huge") == "item-not-found"
    # the limit itself (1000) is fine
    assert set_list(a, "big", many[:1000]) == "result"
    assert len(get_list(a, "big")) == 1000
    assert set_list(a, "big", many[:1001]) == "not-acceptable"
    # lists per account: 50
    for i in range(49):
        assert set_list(a, "l%d" % i, [item("jid", B, "deny", 1)]) == "result"
    assert set_list(a, "one-too-many", [item("jid", B, "deny", 1)]) == "resource-constraint"
    assert set_list(a, "l0", [item("jid", N, "deny", 1)]) == "result"    # replacing is fine
    assert len(names(a)[2]) == 50
    assert d.alive()


def test_each_kind_by_jid(plucsd, im):
    a = login(im, plucsd, "alice", plugins=["xep_0092"])
    b = login(im, plucsd, "bob", plugins=["xep_0092"])
    assert b.wait_presence(frm=A + "/r")
    assert a.wait_presence(frm=B + "/r")
    assert set_list(a, "m", [item("jid", B, "deny", 1, ["message"])]) == "result"
    assert active(a, "m") == "result"
    assert delivered(b, A + "/r", a, "m1") is False and delivered.last == "service-unavailable"
    assert version(b, A + "/r") == "result"
    assert delivered(a, B, b, "m2") is True            # only incoming messages
    # iq
    assert set_list(a, "m", [item("jid", B + "/r", "deny", 1, ["iq"])]) == "result"
    assert version(b, A + "/r") == "service-unavailable"
    assert delivered(b, A + "/r", a, "m3") is True
    # alice's iq goes out, but bob's answer is an incoming iq: blocked too
    assert version(a, B + "/r", timeout=1.5) == "timeout"
    # presence-in: at once bob looks offline to alice (the list changed)
    assert set_list(a, "m", [item("jid", B, "deny", 1, ["presence-in"])]) == "result"
    assert a.wait_presence(frm=B + "/r", type="unavailable")
    a.forget()
    b.presence(status="in 1")
    assert b.barrier() is not False
    a.quiet(0.8)
    assert not a.saw_presence(frm=B + "/r")
    assert delivered(b, A + "/r", a, "m4") is True
    # presence-out: alice's broadcast does not reach bob, bob's reaches alice
    # (the change itself: bob sees alice go offline, alice sees bob again)
    assert set_list(a, "m", [item("jid", "a.test", "deny", 1, ["presence-out"])]) == "result"
    assert b.wait_presence(frm=A + "/r", type="unavailable")
    assert a.wait_presence(frm=B + "/r", type="available")
    b.forget()
    a.presence(status="out 1")
    b.quiet(0.8)
    assert not b.saw_presence(frm=A + "/r")
    b.presence(status="in 2")
    assert a.wait_presence(frm=B + "/r")
    # directed presence is blocked too
    a.presence(to=B, status="directed")
    b.quiet(0.5)
    assert not b.saw_presence(frm=A + "/r")
    # every kind: incoming refused, outgoing not-acceptable
    assert set_list(a, "m", [item("jid", B, "allow", 1, ["iq"]), item("jid", B, "deny", 2)]) \
        == "result"
    assert delivered(b, A + "/r", a, "m5") is False and delivered.last == "service-unavailable"
    # order 1 lets bob's iq in, but alice's answer is an outgoing stanza to a
    # contact blocked for every kind: not sent (§2.14)
    assert version(b, A + "/r", timeout=1.5) == "timeout"
    assert delivered(a, B, b, "m6") is False and delivered.last == "not-acceptable"
    assert version(a, B + "/r") == "not-acceptable"
    # declining the active list lifts everything (no default); bob sees
    # alice's presence again at once
    b.forget()
    assert active(a) == "result"
    assert b.wait_presence(frm=A + "/r", type="available")
    assert delivered(b, A + "/r", a, "m7") is True
    assert delivered(a, B, b, "m8") is True
    # counted for plucs status and /metrics
    out = subprocess.run([os.path.join(H.BUILD, "plucs"), "--registry", plucsd.registry_path,
                          "status"], capture_output=True, text=True, timeout=30).stdout
    assert "privacy/lists: 1" in out, out
    m = re.search(r"privacy/refused: (\d+)", out)
    assert m and int(m.group(1)) >= 8, out
    _, _, metrics = W.http_request(plucsd.http_port, "GET", "/metrics")
    assert "plucs_privacy_lists 1" in metrics
    m = re.search(r"plucs_privacy_refused_total (\d+)", metrics)
    assert m and int(m.group(1)) >= 8, metrics


def test_group_and_subscription(plucsd, im):
    a = login(im, plucsd, "alice", plugins=["xep_0092"])
    b = login(im, plucsd, "bob")
    n = login(im, plucsd, "nora")
    # a directory group (shared roster)
    assert set_list(a, "g", [item("group", "staff", "deny", 1, ["message"])]) == "result"
    assert active(a, "g") == "result"
    assert delivered(b, A, a, "g1") is False and delivered.last == "service-unavailable"
    assert delivered(n, A, a, "g2") is True
    # a personal group
    assert a.roster_set(N, groups=["pals"]) == ("result", None)
    assert set_list(a, "g", [item("group", "pals", "deny", 1, ["message"])]) == "result"
    assert delivered(n, A, a, "g3") is False
    assert delivered(b, A, a, "g4") is True
    # subscription: shared contacts count as both, nora (no subscription) as none
    assert set_list(a, "g", [item("subscription", "both", "deny", 1, ["message"])]) == "result"
    assert delivered(b, A, a, "g5") is False
    assert delivered(n, A, a, "g6") is True
    assert set_list(a, "g", [item("subscription", "none", "deny", 1, ["message"])]) == "result"
    assert delivered(n, A, a, "g7") is False
    assert delivered(b, A, a, "g8") is True
    # other kinds by group and subscription: presence-in, iq
    assert set_list(a, "g", [item("group", "staff", "deny", 1, ["presence-in"]),
                             item("subscription", "both", "deny", 2, ["iq"])]) == "result"
    assert a.wait_presence(frm=B + "/r", type="unavailable")
    a.forget()
    b.presence(status="by group")
    n.presence(status="nora here", to=A)
    assert a.wait_presence(frm=N + "/r")
    assert not a.saw_presence(frm=B + "/r")
    assert version(b, A + "/r") == "service-unavailable"
    assert version(n, A + "/r") == "result"            # nora: subscription none
    # allow-list: only staff, everything else refused
    assert set_list(a, "g", [item("group", "staff", "allow", 1),
                             item(None, None, "deny", 2, ["message"])]) == "result"
    assert delivered(b, A, a, "g9") is True
    assert delivered(n, A, a, "g10") is False


def test_active_default_conflicts_and_pushes(plucsd, im):
    a1 = login(im, plucsd, "alice", resource="one")
    p1 = Iqs(a1)
    a2 = login(im, plucsd, "alice", resource="two")
    p2 = Iqs(a2)
    b = login(im, plucsd, "bob")
    assert set_list(a1, "dflt", [item("jid", B, "deny", 1, ["message"])]) == "result"
    # pushed to both resources (§2.6)
    assert a1.wait_for(lambda: ["dflt"] in p1.privacy)
    assert a2.wait_for(lambda: ["dflt"] in p2.privacy)
    assert set_list(a1, "open", [item(None, None, "allow", 1)]) == "result"
    assert default(a1, "dflt") == "result"        # nobody used a default yet
    assert active(a1, "open") == "result"
    assert delivered(b, A + "/one", a1, "c1") is True
    assert delivered(b, A + "/two", a2, "c2") is False
    # a2 uses the default: a1 may neither change nor decline it, nor remove it
    assert default(a1, "open") == "conflict"
    assert default(a1) == "conflict"
    assert remove(a1, "dflt") == "conflict"
    # a1's active list cannot be removed by a2
    assert remove(a2, "open") == "conflict"
    # editing a list in use applies at once to every session using it
    p2.privacy.clear()
    assert set_list(a1, "dflt", [item("jid", B, "deny", 1, ["iq"])]) == "result"
    assert a2.wait_for(lambda: ["dflt"] in p2.privacy)
    assert delivered(b, A + "/two", a2, "c3") is True
    # once a2 has its own active list, the default is a1's to change
    assert active(a2, "dflt") == "result"
    assert default(a1, "open") == "result"
    assert names(a2) == ("dflt", "open", ["dflt", "open"])
    assert names(a1) == ("open", "open", ["dflt", "open"])
    # a session that ends releases its active list
    a2.close()
    assert a1.wait_for(lambda: remove(a1, "dflt") == "result", timeout=5)


def test_interplay_with_blocking(plucsd, im):
    a1 = login(im, plucsd, "alice", resource="one")
    p1 = Iqs(a1)
    a2 = login(im, plucsd, "alice", resource="two")
    p2 = Iqs(a2)
    b = login(im, plucsd, "bob")
    assert blocklist(a1) == set() and blocklist(a2) == set()   # both get blocklist pushes
    # XEP-0191 block -> an item of the default list (created: "blocklist")
    assert block(a1, B) == "result"
    assert names(a1) == (None, "blocklist", ["blocklist"])
    assert get_list(a1, "blocklist") == [("jid", B, "deny", 0, ())]
    assert a2.wait_for(lambda: ["blocklist"] in p2.privacy)
    assert delivered(b, A + "/one", a1, "b1") is False
    # editing the default list shows up in the blocklist, with pushes
    p2.blocking.clear()
    assert set_list(a1, "blocklist", [
        item("jid", N, "deny", 1), item("jid", "x.test", "deny", 2, ["message"]),
        item("jid", "y.test", "allow", 3)]) == "result"
    assert blocklist(a1) == {N}
    assert a2.wait_for(lambda: ("block", {N}) in p2.blocking and ("unblock", {B}) in p2.blocking)
    assert delivered(b, A + "/one", a1, "b2") is True
    # XEP-0191 block puts the new item on top, keeping the others
    assert block(a2, B) == "result"
    items = get_list(a1, "blocklist")
    assert items[0][:3] == ("jid", B, "deny") and len(items) == 4
    assert [i[1] for i in items[1:]] == [N, "x.test", "y.test"]
    # XEP-0191 unblock removes only the block items
    assert block(a1, N, unblock=True) == "result"
    assert [i[1] for i in get_list(a1, "blocklist")] == [B, "x.test", "y.test"]
    assert blocklist(a2) == {B}
    # another list made the default: the blocklist follows it
    assert set_list(a1, "other", [item("jid", N, "deny", 5)]) == "result"
    assert active(a2, "other") == "result"       # a2 no longer uses the default
    assert default(a1, "other") == "result"
    assert blocklist(a1) == {N}
    assert default(a1) == "result"               # no default: empty blocklist
    assert blocklist(a1) == set()
    # unblock all with a default list
    assert default(a1, "blocklist") == "result"
    assert blocklist(a1) == {B}
    assert block(a1, unblock=True) == "result"
    assert [i[1] for i in get_list(a1, "blocklist")] == ["x.test", "y.test"]
    assert blocklist(a1) == set()


def test_persistence_across_restart(plucsd, im):
    a = login(im, plucsd, "alice")
    assert set_list(a, "dflt", [item("jid", B, "deny", 7, ["message"]),
                                item("group", "staff", "allow", 9)]) == "result"
    assert set_list(a, "spare", [item("subscription", "none", "deny", 1)]) == "result"
    assert default(a, "dflt") == "result"
    assert block(a, N) == "result"
    expect = get_list(a, "dflt")
    assert expect[0] == ("jid", N, "deny", 6, ())
    a.close()
    plucsd.terminate()
    # a XEP-0191 blocklist from before privacy lists existed (carol has no
    # privacy list): it becomes her default list at her next login
    import sqlite3
    db = sqlite3.connect(plucsd.registry["plucs/store"].split(":", 1)[1])
    db.execute("INSERT INTO blocklist (user, item) VALUES ('carol@a.test', 'bob@a.test')")
    db.commit()
    db.close()
    H.plucsd_restart(plucsd)
    a = login(im, plucsd, "alice")
    b = login(im, plucsd, "bob")
    assert names(a) == (None, "dflt", ["dflt", "spare"])
    assert get_list(a, "dflt") == expect
    assert blocklist(a) == {N}
    assert delivered(b, A, a, "after restart") is False
    assert delivered.last == "service-unavailable"
    c = login(im, plucsd, "carol")
    assert names(c) == (None, "blocklist", ["blocklist"])
    assert get_list(c, "blocklist") == [("jid", B, "deny", 0, ())]
    assert blocklist(c) == {B}
    assert delivered(b, "carol@a.test", c, "to carol") is False
    assert plucsd.wait_log(r"carol@a\.test's blocklist \(1 JIDs\) becomes the default", 5)
    # while alice is offline her default list (read from the store for it)
    # refuses bob's message at once: nothing is stored for her next login
    a.close()
    c.expect_unavailable(A + "/r")
    b.send(A, "while you were away")
    e = b.wait_message(type="error", body="while you were away", timeout=5)
    assert e and e.condition == "service-unavailable", b.all_messages
    since = plucsd.log_size()
    a = login(im, plucsd, "alice")
    assert not plucsd.wait_log(r"offline: delivered \d+ stored message", 1, since)
    a.quiet(0.3)
    assert not a.saw_message(body="while you were away")
