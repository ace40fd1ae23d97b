"""Directory group rooms (issue 13 point 4, docs/muc.md): with
plucs/muc/grouprooms=true every XMPP group with members in a served domain
has a persistent members-only room GROUP@conference.DOMAIN named after the
group's label, whose members follow the directory live: a user added to the
group may join within 2 s, a removed user is removed from the room with
status 321 within 2 s, a disabled group's room is destroyed; members of
plucs/muc/grouprooms/owners own the rooms.

Directory (data.ldif): staff (alice bob carol, description "Staff"),
managers (alice: the owners group here), interns (carol, "Interns"), bstaff
(dave in b.test, "B Staff"). Every change goes through ldap_undo and is
reverted at teardown (the slapd is shared). Lags are printed ("LAG ...")."""

import time

import pytest

import plucs_harness as H
from muc_helpers import codes, config_form, configure, join, leave, ok, room_info, show, NS_USER

LIMIT = 2.0
REG = {"plucs/muc/grouprooms": "true", "plucs/grouplabel": "description",
       "plucs/muc/grouprooms/owners": "managers"}


@pytest.fixture
def gp(plucsd_factory):
    p = plucsd_factory(**REG)
    assert p.wait_log(r"muc: group room staff@conference\.a\.test", 10), "no group rooms made"
    return p


def login(im, p, user):
    c = im(user, daemon=p)
    assert c.login()
    c.available()
    return c


def lag(record_property, what, t0, t1):
    v = t1 - t0
    print("LAG %s: %.3f s" % (what, v))
    record_property("lag " + what, "%.3f" % v)
    return v


def test_group_rooms_exist(gp, im):
    alice = login(im, gp, "alice")
    for room, name in (("staff@conference.a.test", "Staff"),
                       ("interns@conference.a.test", "Interns"),
                       ("managers@conference.a.test", "Managers"),
                       ("bstaff@conference.b.test", "B Staff")):
        got, feats = room_info(alice, room)
        assert got == name, (room, got, feats)
        assert {"muc_membersonly", "muc_persistent"} <= feats, (room, feats)
    # no member of staff in b.test, no room for the disabled oldgroup
    assert room_info(alice, "staff@conference.b.test") == (None, "item-not-found")
    assert room_info(alice, "oldgroup@conference.a.test") == (None, "item-not-found")
    # a member joins, a non-member gets registration-required
    carol = login(im, gp, "carol")
    cp = join(carol, "interns@conference.a.test", "Carol")
    assert cp is not None and 110 in codes(cp), cp
    bob = login(im, gp, "bob")
    bp = join(bob, "interns@conference.a.test", "Bob")
    assert bp is not None and bp.type == "error" and bp.condition == "registration-required", bp


def test_added_member_joins_within_2s(gp, im, ldap, ldap_undo, record_property):
    bob = login(im, gp, "bob")
    room = "interns@conference.a.test"
    bp = join(bob, room, "Bob")
    assert bp is not None and bp.condition == "registration-required", bp
    t0 = ldap_undo.add_value(ldap.group_dn("interns"), "memberUid", "bob")
    joined = None
    deadline = time.monotonic() + LIMIT + 3
    while time.monotonic() < deadline:
        bp = join(bob, room, "Bob", timeout=2)
        if bp is not None and 110 in codes(bp):
            joined = time.monotonic()
            break
        bob.pump(0.05)
    assert joined is not None, "bob could not join %s after being added to interns" % room
    assert lag(record_property, "group room member added", t0, joined) < LIMIT


def test_removed_member_gets_321_within_2s(gp, im, ldap, ldap_undo, record_property):
    # staff keeps alice and bob in a.test: its room stays, carol leaves it
    room = "staff@conference.a.test"
    carol = login(im, gp, "carol")
    bob = login(im, gp, "bob")
    cp = join(carol, room, "Carol")
    assert cp is not None and 110 in codes(cp), cp
    bp = join(bob, room, "Bob")
    assert bp is not None and 110 in codes(bp), bp
    t0 = ldap_undo.delete_value(ldap.group_dn("staff"), "memberUid", "carol")
    gone = carol.wait_presence(frm=room + "/Carol", type="unavailable", timeout=LIMIT + 3)
    assert gone is not None, "carol was not removed from %s: %r" % (room, carol.all_presences)
    assert {110, 321} <= codes(gone), "removal for an affiliation change: 321, got %r" % codes(gone)
    assert lag(record_property, "group room member removed", t0, gone.t) < LIMIT
    seen = bob.wait_presence(frm=room + "/Carol", type="unavailable", timeout=2)
    assert seen is not None and 321 in codes(seen), "the others see 321 too: %r" % (seen,)
    again = join(carol, room, "Carol")
    assert again is not None and again.condition == "registration-required", again
    assert room_info(bob, room)[0] == "Staff"


def test_last_member_removed_destroys_room(gp, im, ldap, ldap_undo):
    # interns has carol only: without her it has no member in a.test
    room = "interns@conference.a.test"
    carol = login(im, gp, "carol")
    cp = join(carol, room, "Carol")
    assert cp is not None and 110 in codes(cp), cp
    ldap_undo.delete_value(ldap.group_dn("interns"), "memberUid", "carol")
    gone = carol.wait_presence(frm=room + "/Carol", type="unavailable", timeout=LIMIT + 3)
    assert gone is not None
    x = gone.el.find("{%s}x" % NS_USER)
    assert x is not None and x.find("{%s}destroy" % NS_USER) is not None, show(gone.el)
    assert H.wait_until(lambda: room_info(carol, room) == (None, "item-not-found"), 2)


def test_disabled_group_destroys_room(gp, im, ldap, ldap_undo, record_property):
    room = "staff@conference.a.test"
    bob = login(im, gp, "bob")
    bp = join(bob, room, "Bob")
    assert bp is not None and 110 in codes(bp), bp
    t0 = ldap_undo.replace(ldap.group_dn("staff"), "xmppEnabled", ["FALSE"], ["TRUE"])
    gone = bob.wait_presence(frm=room + "/Bob", type="unavailable", timeout=LIMIT + 3)
    assert gone is not None, "bob was not told the room went: %r" % bob.all_presences
    x = gone.el.find("{%s}x" % NS_USER)
    d = x.find("{%s}destroy" % NS_USER) if x is not None else None
    assert d is not None, "the room is destroyed (XEP-0045 10.9): %s" % show(gone.el)
    lag(record_property, "group room destroyed", t0, gone.t)
    assert room_info(bob, room) == (None, "item-not-found")


def test_owners_group_configures(gp, im):
    room = "staff@conference.a.test"
    alice = login(im, gp, "alice")          # in managers: owner
    r = config_form(alice, room)
    assert ok(r), show(r)
    bob = login(im, gp, "bob")              # a member only
    r = config_form(bob, room)
    assert r is not None and r.get("type") == "error" and H.error_condition(r) == "forbidden", \
        show(r)


def test_no_owners_nobody_configures(plucsd_factory, im):
    p = plucsd_factory(**dict(REG, **{"plucs/muc/grouprooms/owners": ""}))
    assert p.wait_log(r"muc: group room staff@conference\.a\.test", 10)
    alice = login(im, p, "alice")
    r = config_form(alice, "staff@conference.a.test")
    assert r is not None and H.error_condition(r) == "forbidden", show(r)


def test_switched_on_and_off_by_reload(plucsd_factory, im):
    # off: no group rooms (and a member's join would create an ordinary room)
    p = plucsd_factory(**{"plucs/grouplabel": "description"})
    alice = login(im, p, "alice")
    room = "staff@conference.a.test"
    assert room_info(alice, room) == (None, "item-not-found")
    # on by reload: the rooms appear
    since = p.log_size()
    p.write_registry({"plucs/muc/grouprooms": "true"})
    p.sighup()
    assert p.wait_log(r"muc: group room staff@conference\.a\.test", 10, since)
    assert H.wait_until(lambda: room_info(alice, room)[0] == "Staff", 3), room_info(alice, room)
    bob = login(im, p, "bob")
    bp = join(bob, room, "Bob")
    assert bp is not None and 110 in codes(bp), bp
    # off again: the rooms are destroyed, the occupant is told
    p.write_registry({"plucs/muc/grouprooms": "false"})
    p.sighup()
    gone = bob.wait_presence(frm=room + "/Bob", type="unavailable", timeout=5)
    assert gone is not None
    x = gone.el.find("{%s}x" % NS_USER)
    assert x is not None and x.find("{%s}destroy" % NS_USER) is not None, show(gone.el)
    assert H.wait_until(lambda: room_info(alice, room) == (None, "item-not-found"), 3)


def test_group_rooms_are_not_stored(gp, im):
    # the directory is their source: nothing in the store, even after an
    # owner's configuration change
    import sqlite3
    alice = login(im, gp, "alice")
    r = configure(alice, "staff@conference.a.test", roomdesc="changed by an owner")
    assert ok(r), show(r)
    db = sqlite3.connect(gp.registry["plucs/store"].split(":", 1)[1])
    try:
        assert db.execute("SELECT count(*) FROM muc_rooms").fetchone()[0] == 0
    finally:
        db.close()
