"""Persistent group chat rooms (issue 13 point 3, docs/muc.md): a
persistent room's configuration and affiliations live in the store and
survive a clean restart and a SIGKILL right after a configuration or
affiliation change was acknowledged; a temporary room vanishes when its
last occupant leaves (and is not there after a restart either).

The daemon is restarted on the same store file (harness.plucsd_restart)."""

import pytest

import plucs_harness as H
from muc_helpers import (admin, affiliations, codes, configure, join, leave, ok, room_info,
                         show)

SVC = "conference.a.test"


def login(im, p, user):
    c = im(user, daemon=p)
    assert c.login()
    c.available()
    return c


def create(c, room, nick, **fields):
    p = join(c, room, nick)
    assert p is not None and 201 in codes(p), "a new room answers 201: %r" % (p,)
    r = configure(c, room, **fields)
    assert ok(r), show(r)


def test_persistent_room_survives_restart(plucsd_factory, im):
    p = plucsd_factory()
    alice = login(im, p, "alice")
    room = "kept@" + SVC
    create(alice, room, "Al", roomname="Kept room", roomdesc="tab\there", persistentroom=1,
           membersonly=1, historylength=5)
    r = admin(alice, room, "<item affiliation='member' jid='bob@a.test'/>"
              "<item affiliation='outcast' jid='carol@a.test'/>")
    assert ok(r), show(r)
    leave(alice, room, "Al")
    alice.barrier()
    alice.close()

    p.terminate()
    H.plucsd_restart(p)
    assert p.wait_log(r"muc: \d+ persistent room\(s\) loaded", 10)

    alice = login(im, p, "alice")
    name, feats = room_info(alice, room)
    assert name == "Kept room", (name, feats)
    assert "muc_persistent" in feats and "muc_membersonly" in feats, feats
    assert affiliations(alice, room, "member") == ["bob@a.test"]
    assert affiliations(alice, room, "outcast") == ["carol@a.test"]
    assert affiliations(alice, room, "owner") == ["alice@a.test"]
    # the member may join, the stranger may not, the owner still owns
    bob = login(im, p, "bob")
    bp = join(bob, room, "Bob")
    assert bp is not None and 110 in codes(bp), bp
    carol = login(im, p, "carol")
    cp = join(carol, room, "Carol")
    assert cp is not None and cp.type == "error" and cp.condition == "forbidden", cp
    ap = join(alice, room, "Al")
    assert ap is not None and 110 in codes(ap)
    assert 201 not in codes(ap), "the room existed: no 201 after the restart"


def test_sigkill_right_after_changes(plucsd_factory, im):
    p = plucsd_factory()
    alice = login(im, p, "alice")
    room = "durable@" + SVC
    create(alice, room, "Al", roomname="Before", persistentroom=1)
    # a configuration change, acknowledged, then SIGKILL at once
    r = configure(alice, room, roomname="After", persistentroom=1)
    assert ok(r), show(r)
    H.plucsd_kill9(p)
    H.plucsd_restart(p)
    alice = login(im, p, "alice")
    name, _ = room_info(alice, room)
    assert name == "After", "the acknowledged configuration survives SIGKILL: %r" % name
    # an affiliation change, acknowledged, then SIGKILL at once
    r = admin(alice, room, "<item affiliation='outcast' jid='bob@a.test'/>")
    assert ok(r), show(r)
    H.plucsd_kill9(p)
    H.plucsd_restart(p)
    alice = login(im, p, "alice")
    assert affiliations(alice, room, "outcast") == ["bob@a.test"]
    bob = login(im, p, "bob")
    bp = join(bob, room, "Bob")
    assert bp is not None and bp.type == "error" and bp.condition == "forbidden", bp


def test_not_persistent_any_more_and_destroyed(plucsd_factory, im):
    p = plucsd_factory()
    alice = login(im, p, "alice")
    gone, temp = "gone@" + SVC, "wasperm@" + SVC
    create(alice, gone, "Al", persistentroom=1)
    create(alice, temp, "Al", persistentroom=1)
    # destroyed: gone from the store; no longer persistent: too
    r = alice.iq_el(gone, "set", "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                    "<destroy><reason>bye</reason></destroy></query>")
    assert ok(r), show(r)
    r = configure(alice, temp, persistentroom=0)
    assert ok(r), show(r)
    leave(alice, temp, "Al")
    alice.barrier()
    H.plucsd_kill9(p)
    H.plucsd_restart(p)
    alice = login(im, p, "alice")
    for room in (gone, temp):
        name, cond = room_info(alice, room)
        assert name is None and cond == "item-not-found", (room, name, cond)


def test_temporary_room_vanishes_when_empty(plucsd_factory, im):
    p = plucsd_factory()
    alice = login(im, p, "alice")
    bob = login(im, p, "bob")
    room = "fleeting@" + SVC
    create(alice, room, "Al", roomname="Fleeting")
    bp = join(bob, room, "Bob")
    assert bp is not None and 110 in codes(bp)
    leave(alice, room, "Al")
    alice.barrier()
    name, _ = room_info(bob, room)
    assert name == "Fleeting", "still there while bob is in it"
    leave(bob, room, "Bob")
    bob.barrier()
    assert H.wait_until(lambda: room_info(alice, room)[1] == "item-not-found", 3), \
        room_info(alice, room)
    # and a restart does not bring it back
    p.terminate()
    H.plucsd_restart(p)
    alice = login(im, p, "alice")
    assert room_info(alice, room) == (None, "item-not-found")
