"""Privacy lists (XEP-0016) and blocking (XEP-0191) where the user is not
there to filter (issue 15 point 4):

- an account with no session: its default list decides before offline
  storage, push and the archive (XEP-0016 §2.2). A denied sender gets
  service-unavailable at once, the message is neither stored nor archived;
  an allowed sender's message is stored and archived as before. The same
  for a XEP-0191 block (the blocklist is the default list's block items).
- broadcast presence to a contact on another server (second plucsd over
  federation, plain text, on 127.0.26.1/.2 and a free port, never 5269)
  obeys presence-out and the blocklist; it flows again once allowed."""
import pytest

import plucs_harness as H
from test_mam import query, body
from test_privacy import item, set_list, default, active, block, login

A, B, N, C = "alice@a.test", "bob@a.test", "nora@a.test", "carol@a.test"
DAVE = "dave@b.test"
A_IP, B_IP = "127.0.26.1", "127.0.26.2"


def refused(sender, to, text, timeout=5):
    """Sends a chat message; its error condition, or None when none came."""
    sender.send(to, text)
    e = sender.wait_message(type="error", body=text, timeout=timeout)
    return e.condition if e else None


def logout_and_wait(c, watcher, full):
    c.close()
    watcher.expect_unavailable(full, timeout=10)


def archived_bodies(c):
    _, results, _ = query(c)
    return {body(m) for _, m, _ in results}


def check_offline(d, im, setup, denied_user):
    a = login(im, d, "alice", resource="desk")
    setup(a)
    bob = login(im, d, "bob", resource="b1")
    assert bob.wait_presence(frm=A + "/desk", timeout=10)
    logout_and_wait(a, bob, A + "/desk")
    x = login(im, d, denied_user, resource="x", presence=False)
    # the denied sender: an error at once, as for a user who is not there
    assert refused(x, A, "denied while offline") == "service-unavailable"
    # an allowed sender (nora or carol, whichever is not denied): stored
    other = "nora" if denied_user != "nora" else "carol"
    o = login(im, d, other, resource="o", presence=False)
    o.send(A, "allowed while offline")
    assert o.ping() == "result"
    assert refused(o, A, "allowed again", timeout=0.5) is None
    a2 = login(im, d, "alice", resource="back")
    assert a2.wait_message(body="allowed while offline", timeout=10), a2.all_messages
    assert a2.wait_message(body="allowed again", timeout=5)
    a2.quiet(0.3)
    assert not a2.saw_message(body="denied while offline"), a2.all_messages
    bodies = archived_bodies(a2)
    assert "allowed while offline" in bodies
    assert "denied while offline" not in bodies, bodies
    # the offline entry was dropped: a message while offline again is
    # judged again (loaded anew) with the same outcome
    logout_and_wait(a2, bob, A + "/back")
    assert refused(x, A, "denied twice") == "service-unavailable"


def test_default_list_applies_while_offline(plucsd, im):
    def setup(a):
        assert set_list(a, "away", [item("jid", N, "deny", 1, ["message"])]) == "result"
        assert default(a, "away") == "result"
    check_offline(plucsd, im, setup, "nora")


def test_blocklist_applies_while_offline(plucsd, im):
    def setup(a):
        assert block(a, C) == "result"
    check_offline(plucsd, im, setup, "carol")


def test_many_messages_while_lists_load(plucsd, im):
    """Messages that arrive while the offline account's lists are loading
    are held and judged in order: every denied one is refused, every
    allowed one stored, in order."""
    a = login(im, plucsd, "alice", resource="desk")
    assert set_list(a, "away", [item("jid", N, "deny", 1)]) == "result"
    assert default(a, "away") == "result"
    a.close()
    nora = login(im, plucsd, "nora", resource="x", presence=False)
    carol = login(im, plucsd, "carol", resource="y", presence=False)
    for i in range(20):
        nora.send(A, "n%d" % i)
        carol.send(A, "c%d" % i)
    for i in range(20):
        assert nora.wait_message(type="error", body="n%d" % i, timeout=10), i
    assert carol.ping() == "result"
    carol.quiet(0.3)
    assert not carol.saw_message(type="error")
    a2 = login(im, plucsd, "alice", resource="back")
    for i in range(20):
        assert a2.wait_message(body="c%d" % i, timeout=10), i
    a2.quiet(0.3)
    assert not [m for m in a2.all_messages if (m.body or "").startswith("n")]


# --- broadcast presence to a remote contact ---------------------------------------

@pytest.fixture
def fed(plucsd_factory):
    return H.federated_pair(plucsd_factory, A_IP, B_IP)


def online(im, user, daemon):
    c = im(user, daemon=daemon)
    assert c.login().ok
    c.roster()
    c.available()
    return c


def subscribe_mutually(alice, dave):
    alice.subscribe(DAVE)
    assert dave.wait_presence(frm=A, type="subscribe", timeout=15)
    dave.subscribed(A)
    dave.subscribe(A)
    assert alice.wait_presence(frm=DAVE, type="subscribe", timeout=15)
    alice.subscribed(DAVE)
    assert dave.wait_presence(frm=alice.jid, type="available", timeout=15)
    assert alice.wait_presence(frm=dave.jid, type="available", timeout=15)


def status_seen(dave, alice, status):
    return dave.saw_presence(frm=alice.jid, pred=lambda p: p.status == status)


def test_broadcast_to_remote_contact(fed, im):
    a, b = fed
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    subscribe_mutually(alice, dave)
    alice.available(status="visible 1")
    assert dave.wait_presence(frm=alice.jid, timeout=15, pred=lambda p: p.status == "visible 1")

    # presence-out denied for dave: he sees alice go offline, then nothing
    assert set_list(alice, "hide", [item("jid", DAVE, "deny", 1, ["presence-out"])]) == "result"
    assert active(alice, "hide") == "result"
    assert dave.wait_presence(frm=alice.jid, type="unavailable", timeout=15)
    alice.available(status="hidden 1")
    alice.send(DAVE, "barrier 1")      # one stream, in order: after the presence
    assert dave.wait_message(body="barrier 1", timeout=15)
    assert not status_seen(dave, alice, "hidden 1"), dave.all_presences

    # allowed again: the current presence, then every update
    assert active(alice) == "result"
    alice.available(status="visible 2")
    assert dave.wait_presence(frm=alice.jid, timeout=15, pred=lambda p: p.status == "visible 2")

    # blocked (XEP-0191): nothing but the unavailable
    assert block(alice, DAVE) == "result"
    assert dave.wait_presence(frm=alice.jid, type="unavailable", timeout=15)
    alice.available(status="hidden 2")
    bob = login(im, a, "bob", resource="b1")
    bob.send(DAVE, "barrier 2")
    assert dave.wait_message(body="barrier 2", timeout=15)
    dave.quiet(0.5)
    assert not status_seen(dave, alice, "hidden 2"), dave.all_presences
    # a probe from dave's server (dave's new resource) gets nothing either
    dave2 = online(im, "dave", b)
    bob.send(dave2.jid, "barrier 3")
    assert dave2.wait_message(body="barrier 3", timeout=15)
    dave2.quiet(0.5)
    assert not dave2.saw_presence(frm=alice.jid, pred=lambda p: p.type != "unavailable")

    # unblocked: presence flows again
    assert block(alice, DAVE, unblock=True) == "result"
    alice.available(status="visible 3")
    assert dave.wait_presence(frm=alice.jid, timeout=15, pred=lambda p: p.status == "visible 3")


def test_group_rules_use_the_roster_while_offline(plucsd, im):
    """A default list with a personal roster group rule: the offline user's
    roster is read for it (nora is in the personal group "friends"; carol
    shares only the directory group "staff" with alice)."""
    a = login(im, plucsd, "alice", resource="desk")
    assert a.roster_set(N, groups=["friends"]) == ("result", None)
    assert set_list(a, "friends only", [
        item("group", "friends", "allow", 1, ["message"]),
        item(None, None, "deny", 2, ["message"])]) == "result"
    assert default(a, "friends only") == "result"
    bob = login(im, plucsd, "bob", resource="b1")
    assert bob.wait_presence(frm=A + "/desk", timeout=10)
    logout_and_wait(a, bob, A + "/desk")
    nora = login(im, plucsd, "nora", resource="x", presence=False)
    carol = login(im, plucsd, "carol", resource="y", presence=False)
    assert refused(carol, A, "not a friend") == "service-unavailable"
    nora.send(A, "a friend")
    assert refused(nora, A, "a friend again", timeout=1) is None
    assert not nora.saw_message(type="error")
    a2 = login(im, plucsd, "alice", resource="back")
    assert a2.wait_message(body="a friend", timeout=10), a2.all_messages
    assert a2.wait_message(body="a friend again", timeout=5)
    a2.quiet(0.3)
    assert not a2.saw_message(body="not a friend")
