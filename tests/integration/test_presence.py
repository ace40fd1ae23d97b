"""Presence (RFC 6121 section 4, directory.md "Presence flows between
shared-roster contacts without any subscription handshake"): initial
presence, probes / current presence for a new resource, unavailable when a
session ends for any reason, directed presence and its clean-up.

alice, bob and carol share the group staff (shared contacts); dave is in
b.test (never a contact of a.test users); nora and oscar are in no group
(no relation unless they subscribe)."""

import plucs_harness as H

A, B, C, D = "alice@a.test", "bob@a.test", "carol@a.test", "dave@b.test"
N, O = "nora@a.test", "oscar@a.test"


def online(im, d, user, resource, **presence):
    c = im(user, daemon=d, resource=resource)
    assert c.login().ok, user
    c.roster()
    c.available(**presence)
    return c


def test_initial_presence_reaches_shared_contacts(plucsd, im):
    b = online(im, plucsd, "bob", "b1")
    c = online(im, plucsd, "carol", "c1")
    d = online(im, plucsd, "dave", "d1")
    for x in (b, c, d):
        x.forget()
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    a.available(status="hello")
    for x in (b, c):
        s = x.wait_presence(frm=A + "/desk", type="available")
        assert s, "%s did not get alice's initial presence: %r" % (x.jid, x.all_presences)
        assert s.status == "hello", s
    d.quiet(0.8)
    assert not d.saw_presence(frm=A), "presence crossed domains: %r" % d.presences
    # Updates are broadcast too.
    a.available(show="away", status="coffee")
    s = b.wait_presence(frm=A + "/desk", pred=lambda s: s.show == "away")
    assert s and s.status == "coffee", b.all_presences


def test_new_resource_receives_current_presence(plucsd, im):
    online(im, plucsd, "bob", "b1", show="dnd", status="busy", priority=3)
    online(im, plucsd, "carol", "c1")
    online(im, plucsd, "dave", "d1")
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    a.quiet(0.5)
    assert not a.saw_presence(frm=B) and not a.saw_presence(frm=C), \
        "presence sent before alice's initial presence: %r" % a.presences
    a.available()
    s = a.wait_presence(frm=B + "/b1", type="available")
    assert s, "alice did not get bob's current presence: %r" % a.all_presences
    assert (s.show, s.status, s.priority) == ("dnd", "busy", 3), s
    assert a.wait_presence(frm=C + "/c1", type="available"), a.all_presences
    a.quiet(0.5)
    assert not a.saw_presence(frm=D), a.presences


def test_own_resources_see_each_other(plucsd, im):
    r1 = online(im, plucsd, "alice", "r1")
    r1.forget()
    r2 = online(im, plucsd, "alice", "r2", status="second")
    s = r1.wait_presence(frm=A + "/r2", type="available")
    assert s and s.status == "second", r1.all_presences
    assert r2.wait_presence(frm=A + "/r1", type="available"), r2.all_presences
    r2.close()
    r1.expect_unavailable(A + "/r2")


def test_unavailable_presence_broadcast(plucsd, im):
    b = online(im, plucsd, "bob", "b1")
    a = online(im, plucsd, "alice", "desk")
    assert b.wait_presence(frm=A + "/desk", type="available")
    a.presence(type="unavailable", status="bye")
    s = b.expect_unavailable(A + "/desk")
    assert s, b.all_presences
    assert a.ping() == "result"


def test_unavailable_on_clean_logout(plucsd, im):
    b = online(im, plucsd, "bob", "b1")
    a = online(im, plucsd, "alice", "desk")
    assert b.wait_presence(frm=A + "/desk", type="available")
    a.close()
    b.expect_unavailable(A + "/desk")


def test_unavailable_on_tcp_reset(plucsd, im):
    b = online(im, plucsd, "bob", "b1")
    r = H.raw_login(plucsd.port, "alice", H.password("alice"), resource="raw")
    r.send("<presence/>")
    assert b.wait_presence(frm=A + "/raw", type="available"), b.all_presences
    H.rst_close(r)
    b.expect_unavailable(A + "/raw", 10)


def test_unavailable_on_abrupt_close(plucsd, im):
    b = online(im, plucsd, "bob", "b1")
    a = online(im, plucsd, "alice", "desk")
    assert b.wait_presence(frm=A + "/desk", type="available")
    a.drop()            # TCP closed without </stream:stream>
    b.expect_unavailable(A + "/desk", 10)


def test_unavailable_when_replaced_by_conflict(plucsd, im):
    b = online(im, plucsd, "bob", "b1")
    old = online(im, plucsd, "alice", "same")
    assert b.wait_presence(frm=A + "/same", type="available")
    new = im("alice", daemon=plucsd, resource="same")
    assert new.login().ok
    err = old.wait_disconnect(10)
    assert err is not None and err[0] == "conflict", err
    b.expect_unavailable(A + "/same")
    new.available(status="new one")
    s = b.wait_presence(frm=A + "/same", type="available", pred=lambda s: s.status == "new one")
    assert s, b.all_presences


def test_directed_presence_to_non_contact(plucsd, im):
    o = online(im, plucsd, "oscar", "o1")
    n = online(im, plucsd, "nora", "n1")
    o.quiet(0.5)
    assert not o.saw_presence(frm=N), "nora and oscar are no contacts: %r" % o.presences
    n.presence(to=O + "/o1", status="psst")
    s = o.wait_presence(frm=N + "/n1", type="available")
    assert s and s.status == "psst", "directed presence not delivered: %r" % o.all_presences
    n.close()
    o.expect_unavailable(N + "/n1")


def test_directed_presence_to_bare_jid_then_unavailable_broadcast(plucsd, im):
    o1 = online(im, plucsd, "oscar", "o1")
    o2 = online(im, plucsd, "oscar", "o2")
    n = online(im, plucsd, "nora", "n1")
    n.presence(to=O)
    for o in (o1, o2):
        assert o.wait_presence(frm=N + "/n1", type="available"), o.all_presences
    # An unavailable broadcast also goes to directed-presence recipients.
    n.presence(type="unavailable")
    for o in (o1, o2):
        o.expect_unavailable(N + "/n1")
    # Available again: a new broadcast does not reach oscar (the directed
    # presence ended with the unavailable).
    for o in (o1, o2):
        o.forget()
    n.available(status="broadcast only")
    o1.quiet(0.8)
    assert not o1.saw_presence(frm=N, type="available"), o1.presences
    assert not o2.saw_presence(frm=N, type="available"), o2.presences


def test_presence_between_subscribed_personal_contacts(plucsd, im):
    n = online(im, plucsd, "nora", "n1")
    o = online(im, plucsd, "oscar", "o1")
    failed = H.mutual_subscription(n, o)
    assert failed is None, failed
    o.close()
    n.expect_unavailable(O + "/o1")
    o2 = im("oscar", daemon=plucsd, resource="o2")
    assert o2.login().ok
    o2.available(status="back")
    s = n.wait_presence(frm=O + "/o2", type="available")
    assert s and s.status == "back", n.all_presences
    # The new resource gets nora's current presence (probe answered).
    assert o2.wait_presence(frm=N + "/n1", type="available"), o2.all_presences
