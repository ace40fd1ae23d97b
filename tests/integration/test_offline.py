"""Offline messages (issue 3 point 5, RFC 6121 8.5.2.2, XEP-0160, XEP-0203):
chat and normal messages to a user without available resource are stored,
delivered at the next initial presence with a delay stamp, in order, within
plucs/offline/max, and durable once the sender's next iq was answered."""

import datetime
import time

import plucs_harness as H

A, B = "alice@a.test", "bob@a.test"


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def check_delay(m, t0, t1):
    """XEP-0203 stamp in UTC between t0 and t1 (1 s slack each side: stamps
    may be truncated to seconds)."""
    assert m.delay is not None, "offline message without <delay xmlns='urn:xmpp:delay'>: %r" % m
    try:
        t = m.delay_time()
    except ValueError as e:
        raise AssertionError(str(e))
    slack = datetime.timedelta(seconds=1)
    assert t0 - slack <= t <= t1 + slack, "delay stamp %s not within [%s, %s]" % (m.delay, t0, t1)


def test_stored_and_delivered_in_order_with_delay(plucsd, im):
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    t0 = now_utc()
    bodies = ["first", "second", "third"]
    for body in bodies:
        a.send(B, body)
    a.send(B, "a normal one", type="normal")
    assert a.ping() == "result"
    t1 = now_utc()
    a.quiet(0.3)
    assert not a.saw_message(type="error"), "sender got an error: %r" % a.all_messages

    b = im("bob", daemon=plucsd, resource="b1")
    assert b.login().ok
    b.quiet(0.8)
    mine = bodies + ["a normal one"]
    assert not [m for m in b.all_messages if m.body in mine], \
        "offline messages before initial presence: %r" % b.all_messages
    b.available()
    got = []
    for body in bodies + ["a normal one"]:
        m = b.wait_message(body=body)
        assert m, "offline message %r not delivered; got %r" % (body, b.all_messages)
        got.append(m)
    assert [m.body for m in b.all_messages if m.body in mine] == mine, \
        "order not kept: %r" % [m.body for m in b.all_messages]
    for m in got:
        check_delay(m, t0, t1)
        assert H.bare(m.frm) == A, m
    assert [m.type for m in got] == ["chat", "chat", "chat", "normal"]


def test_connected_without_presence_counts_as_offline(plucsd, im):
    b = im("bob", daemon=plucsd, resource="b1")
    assert b.login().ok          # connected, never available
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    a.send(B, "are you there?")
    assert a.ping() == "result"
    b.quiet(0.8)
    assert not b.saw_message(body="are you there?"), \
        "a bare-JID chat reached a resource without initial presence"
    b.available()
    m = b.wait_message(body="are you there?")
    assert m and m.delay is not None, b.all_messages


def test_delivered_once(plucsd, im):
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    a.send(B, "only once")
    assert a.ping() == "result"
    b = im("bob", daemon=plucsd, resource="b1")
    assert b.login().ok
    b.available()
    assert b.wait_message(body="only once")
    b.close()
    b2 = im("bob", daemon=plucsd, resource="b2")
    assert b2.login().ok
    b2.available()
    b2.quiet(1.0)
    assert not b2.saw_message(body="only once"), "offline message delivered twice"


def test_headline_and_groupchat_not_stored(plucsd, im):
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    a.send(B, "headline news", type="headline")
    a.send(B, "after the headline")
    assert a.ping() == "result"
    b = im("bob", daemon=plucsd, resource="b1")
    assert b.login().ok
    b.available()
    assert b.wait_message(body="after the headline")
    b.quiet(0.5)
    assert not b.saw_message(body="headline news"), \
        "headline stored for an offline user (RFC 6121 8.5.2.2.1: silently ignored)"


def test_offline_limit(plucsd_factory, im):
    d = plucsd_factory(**{"plucs/offline/max": "3"})
    a = im("alice", daemon=d, resource="desk")
    assert a.login().ok
    for i in range(1, 4):
        a.send(B, "m%d" % i, id="off%d" % i)
    assert a.ping() == "result"
    a.quiet(0.3)
    assert not a.saw_message(type="error"), "error within the limit: %r" % a.all_messages
    a.send(B, "m4", id="off4")
    e = a.wait_message(type="error", pred=lambda s: s.id == "off4")
    assert e, "no error for the message over plucs/offline/max: %r" % a.all_messages
    assert e.condition == "service-unavailable", e
    assert H.bare(e.frm) == B, e
    b = im("bob", daemon=d, resource="b1")
    assert b.login().ok
    b.available()
    for i in range(1, 4):
        assert b.wait_message(body="m%d" % i), b.all_messages
    b.quiet(0.5)
    assert not b.saw_message(body="m4"), "message over the limit was stored"
    # Delivered messages free the space again (bob is gone for good before
    # m5 is sent: test_message_right_after_logout_is_stored covers the
    # moment of logout itself).
    a.available()                 # to see bob's session end (shared contacts)
    b.close()
    a.expect_unavailable(B + "/b1")
    a.send(B, "m5", id="off5")
    assert a.ping() == "result"
    a.quiet(0.3)
    assert not a.saw_message(type="error", pred=lambda s: s.id == "off5"), a.all_messages


def test_offline_message_survives_sigkill(plucsd, im):
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    t0 = now_utc()
    a.send(B, "survives kill -9")
    # The iq answer proves the message before it on the same stream was
    # committed (issue 3 point 5).
    assert a.ping() == "result"
    t1 = now_utc()
    H.plucsd_kill9(plucsd)
    a.abort()
    H.plucsd_restart(plucsd)
    b = im("bob", daemon=plucsd, resource="b1")
    assert b.login().ok
    b.available()
    m = b.wait_message(body="survives kill -9")
    assert m, "offline message lost by SIGKILL: %r" % b.all_messages
    check_delay(m, t0, t1)
    assert H.bare(m.frm) == A


def test_message_right_after_logout_is_stored(plucsd, im):
    # RFC 6121 8.5.2.2: once the recipient's last session has ended
    # (the client saw its stream closed), a chat is stored, not refused.
    b = im("bob", daemon=plucsd, resource="b1")
    assert b.login().ok
    b.available()
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    b.close()
    a.send(B, "just missed you", id="late1")
    assert a.ping() == "result"
    a.quiet(0.5)
    assert not a.saw_message(type="error", pred=lambda s: s.id == "late1"), \
        "a message sent just after the recipient logged out was refused: %r" % a.all_messages
    b2 = im("bob", daemon=plucsd, resource="b2")
    assert b2.login().ok
    b2.available()
    m = b2.wait_message(body="just missed you")
    assert m and m.delay is not None, b2.all_messages
