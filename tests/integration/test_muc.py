"""Group chat (XEP-0045) at conference.a.test: the service, joining and
leaving with the status codes, roles and affiliations, the configuration
form, subject, private messages (and the communication restrictions on
them), history, invitations, destruction, disco, self-ping, and the limits
against hostile input (issue 13, docs/muc.md).

Clients are harness.IMClient (slixmpp) sending the XEP-0045 stanzas as XML;
assertions follow XEP-0045, never the implementation."""

import time
import xml.etree.ElementTree as ET

import pytest

import plucs_harness as H
from muc_helpers import (NS_ADMIN, NS_DATA, NS_INFO, NS_ITEMS, NS_MUC, NS_OWNER,  # noqa: F401
                         NS_USER, admin, codes, esc, item, leave)

SVC = "conference.a.test"


def join(c, room, nick, password=None, history=None, expect=True, timeout=5):
    """Sends the join presence; returns the self-presence (110) or, with
    expect=False, the error presence."""
    inner = ""
    if password is not None:
        inner += "<password>%s</password>" % esc(password)
    if history is not None:
        inner += "<history %s/>" % " ".join("%s='%s'" % kv for kv in history.items())
    c.send_raw("<presence to='%s/%s'><x xmlns='%s'>%s</x></presence>" % (
        esc(room), esc(nick), NS_MUC, inner))
    full = "%s/%s" % (room, nick)
    if expect:
        p = c.wait_presence(frm=full, timeout=timeout, pred=lambda s: 110 in codes(s))
        assert p is not None, "%s: no self-presence from %s; got %r" % (c.jid, full,
                                                                       c.all_presences[-5:])
        return p
    return c.wait_presence(frm=room, type="error", timeout=timeout)


def instant(c, room):
    r = c.iq_el(room, "set", "<query xmlns='%s'><x xmlns='%s' type='submit'/></query>" % (
        NS_OWNER, NS_DATA))
    assert r is not None and r.get("type") == "result", ET.tostring(r) if r is not None else r


def configure(c, room, **fields):
    f = "".join("<field var='muc#roomconfig_%s'><value>%s</value></field>" % (k, esc(str(v)))
                for k, v in fields.items())
    r = c.iq_el(room, "set", "<query xmlns='%s'><x xmlns='%s' type='submit'>"
                "<field var='FORM_TYPE'><value>%s#roomconfig</value></field>%s</x></query>" % (
                    NS_OWNER, NS_DATA, NS_MUC, f))
    return r


def make_room(c, room, nick, **fields):
    p = join(c, room, nick)
    assert 201 in codes(p), "a new room says 201: %r" % codes(p)
    if fields:
        r = configure(c, room, **fields)
        assert r.get("type") == "result", ET.tostring(r)
    else:
        instant(c, room)
    c.wait_message(frm=room, timeout=2, pred=lambda s: s.el.find("{%s}subject" % H.NS_CLIENT)
                   is not None)
    return p


def gc(c, room, body, extra=""):
    c.send_raw("<message to='%s' type='groupchat'><body>%s</body>%s</message>" % (
        esc(room), esc(body), extra))


def occupants(c, room):
    info = c.iq_el(room, "get", "<query xmlns='%s'/>" % NS_INFO, timeout=10)
    f = [f for f in info.iter("{%s}field" % NS_DATA) if f.get("var") == "muc#roominfo_occupants"]
    return int(f[0].find("{%s}value" % NS_DATA).text)


@pytest.fixture
def three(plucsd, im):
    cs = []
    for u in ("alice", "bob", "carol"):
        c = im(u, daemon=plucsd)
        assert c.login()
        c.available()
        cs.append(c)
    return cs


def test_service_disco(plucsd, three):
    alice = three[0]
    items = alice.iq_el("a.test", "get", "<query xmlns='%s'/>" % NS_ITEMS)
    jids = [i.get("jid") for i in items.iter("{%s}item" % NS_ITEMS)]
    assert SVC in jids, "the domain's disco#items lists the MUC service: %r" % jids
    info = alice.iq_el(SVC, "get", "<query xmlns='%s'/>" % NS_INFO)
    ids = [(i.get("category"), i.get("type")) for i in info.iter("{%s}identity" % NS_INFO)]
    feats = {f.get("var") for f in info.iter("{%s}feature" % NS_INFO)}
    assert ("conference", "text") in ids and NS_MUC in feats
    assert alice.ping(SVC) == "result"


def test_join_presence_codes_and_leave(plucsd, three):
    alice, bob, carol = three
    room = "team@" + SVC
    p = make_room(alice, room, "Al")
    it = item(p)
    assert it.get("affiliation") == "owner" and it.get("role") == "moderator"
    bp = join(bob, room, "Bob")
    assert item(bp).get("role") == "participant" and item(bp).get("affiliation") == "none"
    # bob saw alice first, alice sees bob join
    assert bob.saw_presence(frm=room + "/Al") or bob.wait_presence(frm=room + "/Al")
    pb = alice.wait_presence(frm=room + "/Bob")
    assert pb is not None and 110 not in codes(pb)
    # semi-anonymous by default: bob does not see alice's real JID, alice (moderator) sees bob's
    assert item(pb).get("jid", "").startswith("bob@a.test/")
    # nick conflict
    e = join(carol, room, "Bob", expect=False)
    assert e is not None and e.condition == "conflict"
    # nick change: 303 then the new presence
    bob.send_raw("<presence to='%s/Robert'/>" % room)
    u = alice.wait_presence(frm=room + "/Bob", type="unavailable")
    assert u is not None and 303 in codes(u) and item(u).get("nick") == "Robert"
    assert alice.wait_presence(frm=room + "/Robert") is not None
    # leave
    leave(bob, room, "Robert")
    assert bob.wait_presence(frm=room + "/Robert", type="unavailable",
                             pred=lambda s: 110 in codes(s)) is not None
    assert alice.wait_presence(frm=room + "/Robert", type="unavailable") is not None


def test_groupchat_subject_history(plucsd, three):
    alice, bob, carol = three
    room = "talk@" + SVC
    make_room(alice, room, "Al")
    join(bob, room, "Bob")
    for i in range(5):
        gc(alice, room, "msg %d" % i)
    for i in range(5):
        m = bob.wait_message(frm=room + "/Al", body="msg %d" % i, type="groupchat")
        assert m is not None, "bob got msg %d" % i
        sid = m.el.find("{urn:xmpp:sid:0}stanza-id")
        assert sid is not None and sid.get("by") == room
    alice.send_raw("<message to='%s' type='groupchat'><subject>Plans</subject></message>" % room)
    s = bob.wait_message(frm=room + "/Al", pred=lambda s: s.el.find(
        "{%s}subject" % H.NS_CLIENT) is not None)
    assert s is not None
    # history: carol asks for the last 2
    join(carol, room, "Carol", history={"maxstanzas": "2"})
    got = [carol.wait_message(frm=room + "/Al", type="groupchat",
                              pred=lambda s: s.body is not None) for _ in range(2)]
    assert [g.body for g in got if g] == ["msg 3", "msg 4"]
    assert all(g.delay for g in got)
    subj = carol.wait_message(frm=room + "/Al", pred=lambda s: s.el.find(
        "{%s}subject" % H.NS_CLIENT) is not None)
    assert subj is not None and subj.el.find("{%s}subject" % H.NS_CLIENT).text == "Plans"
    assert not carol.saw_message(body="msg 2")
    # seconds=0 -> no history; huge maxstanzas is bounded by the room's history
    leave(carol, room, "Carol")
    carol.wait_presence(frm=room + "/Carol", type="unavailable")
    carol.forget()
    join(carol, room, "Carol", history={"maxstanzas": "99999999999"})
    carol.wait_for(lambda: len(carol.saw_message(type="groupchat",
                                                 pred=lambda s: s.body is not None)) >= 5, 3)
    assert len(carol.saw_message(type="groupchat", pred=lambda s: s.body is not None)) == 5
    leave(carol, room, "Carol")
    carol.wait_presence(frm=room + "/Carol", type="unavailable")
    carol.forget()
    join(carol, room, "Carol", history={"seconds": "0"})
    carol.quiet(0.5)
    assert not carol.saw_message(type="groupchat", pred=lambda s: s.body is not None)
    # a non-occupant cannot speak
    leave(carol, room, "Carol")
    carol.wait_presence(frm=room + "/Carol", type="unavailable")
    gc(carol, room, "intruder")
    e = carol.wait_message(frm=room, type="error")
    assert e is not None and e.condition == "not-acceptable"


def test_reserved_room_locked_until_configured(plucsd, three):
    alice, bob, _ = three
    room = "locked@" + SVC
    p = join(alice, room, "Al")
    assert 201 in codes(p)
    e = join(bob, room, "Bob", expect=False)
    assert e is not None and e.condition == "item-not-found", "locked room refuses others"
    form = alice.iq_el(room, "get", "<query xmlns='%s'/>" % NS_OWNER)
    vars_ = {f.get("var") for f in form.iter("{%s}field" % NS_DATA)}
    for v in ("roomname", "roomdesc", "persistentroom", "publicroom", "membersonly",
              "moderatedroom", "passwordprotectedroom", "roomsecret", "maxusers", "whois",
              "allowpm", "allowinvites", "changesubject"):
        assert "muc#roomconfig_" + v in vars_, v
    r = configure(alice, room, roomname="Locked Room", whois="anyone")
    assert r.get("type") == "result"
    bp = join(bob, room, "Bob")
    assert 100 in codes(bp), "non-anonymous room says 100"
    info = bob.iq_el(room, "get", "<query xmlns='%s'/>" % NS_INFO)
    feats = {f.get("var") for f in info.iter("{%s}feature" % NS_INFO)}
    assert {"muc_nonanonymous", "muc_temporary", "muc_open", "muc_unmoderated", "muc_unsecured",
            "muc_public"} <= feats
    fields = {f.get("var") for f in info.iter("{%s}field" % NS_DATA)}
    assert "muc#roominfo_occupants" in fields
    items = alice.iq_el(SVC, "get", "<query xmlns='%s'/>" % NS_ITEMS)
    assert room in [i.get("jid") for i in items.iter("{%s}item" % NS_ITEMS)]
    occ = bob.iq_el(room, "get", "<query xmlns='%s'/>" % NS_ITEMS)
    assert len(list(occ.iter("{%s}item" % NS_ITEMS))) == 2


def test_password_members_only_ban_kick_voice(plucsd, three):
    alice, bob, carol = three
    room = "secret@" + SVC
    make_room(alice, room, "Al", passwordprotectedroom="1", roomsecret="s3cret")
    e = join(bob, room, "Bob", expect=False)
    assert e.condition == "not-authorized"
    join(bob, room, "Bob", password="s3cret")
    # kick
    r = admin(alice, room, "<item nick='Bob' role='none'><reason>bye</reason></item>")
    assert r.get("type") == "result"
    k = bob.wait_presence(frm=room + "/Bob", type="unavailable", pred=lambda s: 307 in codes(s))
    assert k is not None and 110 in codes(k)
    # ban
    join(bob, room, "Bob", password="s3cret")
    r = admin(alice, room, "<item jid='bob@a.test' affiliation='outcast'/>")
    assert r.get("type") == "result"
    assert bob.wait_presence(frm=room + "/Bob", type="unavailable",
                             pred=lambda s: 301 in codes(s)) is not None
    e = join(bob, room, "Bob", password="s3cret", expect=False)
    assert e.condition == "forbidden"
    lst = admin(alice, room, "<item affiliation='outcast'/>", type="get")
    assert "bob@a.test" in [i.get("jid") for i in lst.iter("{%s}item" % NS_ADMIN)]
    # a participant may not kick
    join(carol, room, "Carol", password="s3cret")
    r = admin(carol, room, "<item nick='Al' role='none'/>")
    assert r.get("type") == "error"
    # members-only: carol is removed with 322, joins again only as a member
    r = configure(alice, room, membersonly="1")
    assert r.get("type") == "result"
    assert carol.wait_presence(frm=room + "/Carol", type="unavailable",
                               pred=lambda s: 322 in codes(s)) is not None
    e = join(carol, room, "Carol", password="s3cret", expect=False)
    assert e.condition == "registration-required"
    admin(alice, room, "<item jid='carol@a.test' affiliation='member'/>")
    join(carol, room, "Carol", password="s3cret")
    # removing membership: 321
    admin(alice, room, "<item jid='carol@a.test' affiliation='none'/>")
    assert carol.wait_presence(frm=room + "/Carol", type="unavailable",
                               pred=lambda s: 321 in codes(s)) is not None


def test_moderated_voice(plucsd, three):
    alice, bob, _ = three
    room = "mod@" + SVC
    make_room(alice, room, "Al", moderatedroom="1")
    bp = join(bob, room, "Bob")
    assert item(bp).get("role") == "visitor"
    gc(bob, room, "may I?")
    e = bob.wait_message(frm=room, type="error")
    assert e is not None and e.condition == "forbidden"
    admin(alice, room, "<item nick='Bob' role='participant'/>")
    assert bob.wait_presence(frm=room + "/Bob", pred=lambda s: item(s) is not None and
                             item(s).get("role") == "participant") is not None
    gc(bob, room, "thanks")
    assert alice.wait_message(frm=room + "/Bob", body="thanks") is not None


def test_private_messages_and_filter(plucsd_factory, im):
    p = plucsd_factory(**{"plucs/mod/filter": "true"})
    alice, bob, carol = [im(u, daemon=p) for u in ("alice", "bob", "carol")]
    for c in (alice, bob, carol):
        assert c.login()
        c.available()
    room = "pm@" + SVC
    make_room(alice, room, "Al")
    join(bob, room, "Bob")
    join(carol, room, "Carol")
    # bob -> alice: allowed as a direct message would be
    bob.send(room + "/Al", "psst", type="chat")
    m = alice.wait_message(frm=room + "/Bob", body="psst")
    assert m is not None and m.el.find("{%s}x" % NS_USER) is not None
    # bob -> carol: the direct message is refused, so is the PM
    bob.send("carol@a.test", "direct", type="chat")
    d = bob.wait_message(frm="carol@a.test", type="error")
    assert d is not None and d.condition == "policy-violation"
    bob.send(room + "/Carol", "via room", type="chat")
    e = bob.wait_message(frm=room + "/Carol", type="error")
    assert e is not None and e.condition == "policy-violation"
    carol.quiet(0.3)
    assert not carol.saw_message(body="via room")
    # groupchat is not filtered
    gc(bob, room, "to all")
    assert carol.wait_message(frm=room + "/Bob", body="to all") is not None
    # allowpm none
    configure(alice, room, allowpm="none")
    bob.send(room + "/Al", "again", type="chat")
    e = bob.wait_message(frm=room + "/Al", type="error")
    assert e is not None and e.condition == "not-allowed"


def test_invite_decline_destroy(plucsd, three):
    alice, bob, carol = three
    room = "inv@" + SVC
    make_room(alice, room, "Al", membersonly="1", allowinvites="1")
    alice.send_raw("<message to='%s'><x xmlns='%s'><invite to='bob@a.test'><reason>come"
                   "</reason></invite></x></message>" % (room, NS_USER))
    inv = bob.wait_message(frm=room, pred=lambda s: s.el.find(
        "{%s}x/{%s}invite" % (NS_USER, NS_USER)) is not None)
    assert inv is not None
    assert inv.el.find("{%s}x/{%s}invite" % (NS_USER, NS_USER)).get("from").startswith(
        "alice@a.test")
    join(bob, room, "Bob")   # invited into a members-only room: now a member
    carol.send_raw("<message to='%s'><x xmlns='%s'><decline to='alice@a.test'><reason>busy"
                   "</reason></decline></x></message>" % (room, NS_USER))
    dec = alice.wait_message(frm=room, pred=lambda s: s.el.find(
        "{%s}x/{%s}decline" % (NS_USER, NS_USER)) is not None)
    assert dec is not None
    r = alice.iq_el(room, "set", "<query xmlns='%s'><destroy jid='new@%s'><reason>moved"
                    "</reason></destroy></query>" % (NS_OWNER, SVC))
    assert r.get("type") == "result"
    u = bob.wait_presence(frm=room + "/Bob", type="unavailable")
    d = u.el.find("{%s}x/{%s}destroy" % (NS_USER, NS_USER))
    assert d is not None and d.get("jid") == "new@" + SVC
    assert bob.iq_el(room, "get", "<query xmlns='%s'/>" % NS_INFO).get("type") == "error"


def test_self_ping_and_multi_session(plucsd, three, im):
    alice, bob, _ = three
    room = "ping@" + SVC
    make_room(alice, room, "Al")
    assert alice.ping(room + "/Al") == "result"
    assert bob.ping(room + "/Al") == "error", "not an occupant: not-acceptable"
    join(bob, room, "Bob")
    bob2 = im("bob", resource="second", daemon=plucsd)
    assert bob2.login()
    bob2.available()
    join(bob2, room, "Bob")     # same user, same nick: the same occupant
    gc(alice, room, "both")
    assert bob.wait_message(body="both") is not None and bob2.wait_message(body="both")
    info = alice.iq_el(room, "get", "<query xmlns='%s'/>" % NS_INFO)
    occ = [f for f in info.iter("{%s}field" % NS_DATA)
           if f.get("var") == "muc#roominfo_occupants"][0]
    assert occ.find("{%s}value" % NS_DATA).text == "2"


def test_session_end_leaves_room(plucsd, three):
    alice, bob, _ = three
    room = "gone@" + SVC
    make_room(alice, room, "Al")
    join(bob, room, "Bob")
    bob.drop()
    assert alice.wait_presence(frm=room + "/Bob", type="unavailable", timeout=10) is not None


def test_hostile_limits(plucsd, three, im):
    alice, bob, carol = three
    room = "hostile@" + SVC
    make_room(alice, room, "Al")
    # a control character (tab, as a character reference so that attribute
    # normalisation keeps it) and a 2 KB nickname: refused as jid-malformed
    # (the error's 'from' is no valid JID for the client library, so the
    # room says it), nobody joins
    for c, nick in ((bob, "bad&#9;nick"), (carol, "x" * 2048)):
        c.send_raw("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (room, nick, NS_MUC))
        c.barrier()
    alice.quiet(0.3)
    assert not alice.saw_presence(pred=lambda s: s.frm.startswith(room + "/") and
                                  not s.frm.endswith("/Al"))
    assert occupants(alice, room) == 1
    # a subject over 1024 bytes is refused; a 1 MB one does not even fit a stanza
    alice.send_raw("<message to='%s' type='groupchat'><subject>%s</subject></message>" % (
        room, "s" * 2048))
    err = alice.wait_message(frm=room, type="error", timeout=5)
    assert err is not None and err.condition == "not-acceptable"
    carol = im("carol", resource="big", daemon=plucsd)
    assert carol.login()
    carol.available()
    join(carol, room, "Carol")
    carol.send_raw("<message to='%s' type='groupchat'><subject>%s</subject></message>" % (
        room, "s" * (1 << 20)))
    carol.wait_for(lambda: not carol.is_connected() or carol.saw_message(type="error"), 10)
    assert not alice.saw_message(pred=lambda s: s.el.find("{%s}subject" % H.NS_CLIENT)
                                 is not None and len(s.el.find("{%s}subject" % H.NS_CLIENT)
                                                     .text or "") > 1024)
    # rate: 100 messages at once -> some resource-constraint
    for i in range(100):
        gc(alice, room, "flood %d" % i)
    alice.wait_for(lambda: alice.saw_message(type="error", pred=lambda s:
                                             s.condition == "resource-constraint"), 5)
    assert alice.saw_message(type="error", pred=lambda s: s.condition == "resource-constraint")
    assert plucsd.alive()


def test_join_flood_bounded(plucsd, three):
    alice = three[0]
    room = "flood@" + SVC
    make_room(alice, room, "Al", maxusers="10")
    bob = three[1]
    for i in range(500):
        bob.send_raw("<presence to='%s/n%d'><x xmlns='%s'/></presence>" % (room, i, NS_MUC))
    bob.barrier(10)
    # one user is one occupant at a time: the later joins are nick changes
    info = alice.iq_el(room, "get", "<query xmlns='%s'/>" % NS_INFO, timeout=10)
    occ = [f for f in info.iter("{%s}field" % NS_DATA)
           if f.get("var") == "muc#roominfo_occupants"][0]
    assert int(occ.find("{%s}value" % NS_DATA).text) <= 10
    assert plucsd.alive()


def test_create_policy(plucsd_factory, im):
    p = plucsd_factory(**{"plucs/muc/create": "managers"})
    alice, bob = im("alice", daemon=p), im("bob", daemon=p)
    for c in (alice, bob):
        assert c.login()
        c.available()
    e = join(bob, "nope@" + SVC, "Bob", expect=False)
    assert e is not None and e.condition == "not-allowed"
    make_room(alice, "yes@" + SVC, "Al")
    join(bob, "yes@" + SVC, "Bob")


def test_status_and_metrics(plucsd, three):
    import subprocess
    import os
    import web_clients as W
    alice, bob, _ = three
    room = "count@" + SVC
    make_room(alice, room, "Al")
    join(bob, room, "Bob")
    gc(alice, room, "counted")
    assert bob.wait_message(body="counted") is not None
    out = subprocess.run([os.path.join(H.BUILD, "plucs"), "--registry", plucsd.registry_path,
                          "status"], capture_output=True, text=True, timeout=30).stdout
    assert "muc/rooms: 1" in out and "muc/occupants: 2" in out, out
    _, _, metrics = W.http_request(plucsd.http_port, "GET", "/metrics")
    assert "plucs_muc_rooms 1" in metrics and "plucs_muc_occupants 2" in metrics
    assert "plucs_muc_groupchat_messages_total 1" in metrics


# --- federation: a remote occupant -------------------------------------------

A_IP, B_IP = "127.0.16.1", "127.0.16.2"


def test_remote_occupant(plucsd_factory):
    pa, pb = H.free_port(), H.free_port()

    def start(domain, ip, port, routes):
        reg = {"plucs/domains": domain, "plucs/c2s/address": ip, "plucs/s2s": "true",
               "plucs/s2s/address": ip, "plucs/s2s/port": str(port),
               "plucs/s2s/timeout": "5", "plucs/s2s/tls": "false"}
        for peer, route in routes.items():
            reg["plucs/s2s/route/" + peer] = route
        return plucsd_factory(**reg)
    a = start("a.test", A_IP, pa, {"b.test": "%s:%d" % (B_IP, pb)})
    b = start("b.test", B_IP, pb, {"a.test": "%s:%d" % (A_IP, pa),
                                   SVC: "%s:%d" % (A_IP, pa)})
    alice = H.IMClient(a.port, "alice@a.test", H.password("alice"), host=a.c2s_host)
    dave = H.IMClient(b.port, "dave@b.test", H.password("dave"), host=b.c2s_host)
    try:
        for c in (alice, dave):
            assert c.login()
            c.available()
        room = "fed@" + SVC
        make_room(alice, room, "Al")
        join(dave, room, "Dave", timeout=20)
        assert alice.wait_presence(frm=room + "/Dave", timeout=10) is not None
        gc(dave, room, "from b")
        assert alice.wait_message(frm=room + "/Dave", body="from b", timeout=10) is not None
        gc(alice, room, "from a")
        assert dave.wait_message(frm=room + "/Al", body="from a", timeout=10) is not None
        leave(dave, room, "Dave")
        assert alice.wait_presence(frm=room + "/Dave", type="unavailable", timeout=10)
    finally:
        alice.close()
        dave.close()


def test_rooms_per_creator_limit(plucsd, three):
    alice = three[0]
    for i in range(100):
        join(alice, "r%d@%s" % (i, SVC), "Al")
    e = join(alice, "r100@" + SVC, "Al", expect=False)
    assert e is not None and e.condition == "resource-constraint"
    assert plucsd.wait_log(r"muc: alice@a.test has 100 rooms already", timeout=5)


def test_service_off(plucsd_factory, im):
    p = plucsd_factory(**{"plucs/muc": "false"})
    alice = im("alice", daemon=p)
    assert alice.login()
    alice.available()
    items = alice.iq_el("a.test", "get", "<query xmlns='%s'/>" % NS_ITEMS)
    assert not [i for i in items.iter("{%s}item" % NS_ITEMS) if i.get("jid") == SVC]
    e = join(alice, "x@" + SVC, "Al", expect=False, timeout=10)
    assert e is None or e.type == "error"
    assert not alice.saw_presence(pred=lambda s: 110 in codes(s))


def test_system_shutdown_332(plucsd, three):
    alice, bob, _ = three
    room = "bye@" + SVC
    make_room(alice, room, "Al")
    join(bob, room, "Bob")
    plucsd.signal(__import__("signal").SIGTERM)
    u = bob.wait_presence(frm=room + "/Bob", type="unavailable", timeout=10,
                          pred=lambda s: 332 in codes(s))
    assert u is not None and 110 in codes(u), (bob.all_presences[-3:], plucsd.log()[-2500:])
    assert alice.wait_presence(frm=room + "/Al", type="unavailable", timeout=10,
                               pred=lambda s: 332 in codes(s)) is not None
    assert H.wait_until(lambda: not plucsd.alive(), 20), "plucsd did not exit after SIGTERM"
    assert plucsd.terminate() == 0


def test_iq_between_occupants_and_maxchars(plucsd, three):
    alice, bob, carol = three
    room = "iq@" + SVC
    make_room(alice, room, "Al")
    join(bob, room, "Bob")
    # an iq to an occupant reaches its client and the answer comes back
    # from the occupant JID (XEP-0045 §7.2.x, vCard and disco lookups)
    r = bob.iq_el(room + "/Al", "get", "<query xmlns='%s'/>" % NS_INFO, timeout=10)
    assert r is not None and r.get("type") == "result" and r.get("from") == room + "/Al", \
        ET.tostring(r) if r is not None else r
    # maxchars: 0 -> no history at all
    gc(alice, room, "one")
    assert bob.wait_message(body="one") is not None
    join(carol, room, "Carol", history={"maxchars": "0"})
    carol.quiet(0.5)
    assert not carol.saw_message(body="one")


def test_session_end_without_initial_presence_leaves(plucsd, three, im):
    alice = three[0]
    room = "quiet@" + SVC
    make_room(alice, room, "Al")
    dave = im("bob", resource="noinitial", daemon=plucsd)
    assert dave.login()          # joins without ever sending initial presence
    join(dave, room, "Shy")
    assert alice.wait_presence(frm=room + "/Shy") is not None
    dave.drop()
    assert alice.wait_presence(frm=room + "/Shy", type="unavailable", timeout=10) is not None


def test_reserved_nick(plucsd, three):
    alice, bob, carol = three
    room = "nicks@" + SVC
    make_room(alice, room, "Al")
    r = admin(alice, room, "<item jid='bob@a.test' affiliation='member' nick='Bobby'/>")
    assert r.get("type") == "result"
    q = bob.iq_el(room, "get", "<query xmlns='%s' node='x-roomuser-item'/>" % NS_INFO)
    names = [i.get("name") for i in q.iter("{%s}identity" % NS_INFO)]
    assert names == ["Bobby"], ET.tostring(q)
    e = join(carol, room, "Bobby", expect=False)
    assert e is not None and e.condition == "conflict", "a member's reserved nick"
    join(bob, room, "Bobby")
