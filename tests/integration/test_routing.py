"""Routing of message and iq stanzas (RFC 6121 section 8, issue 3 point 1):
resource priority, negative priority, chat and normal to every resource at
the highest priority (as ejabberd and Prosody do), headline and groupchat to a bare JID, full JIDs that are
gone, and "never silence for an iq"."""

import plucs_harness as H

A, B = "alice@a.test", "bob@a.test"
PING = "<ping xmlns='urn:xmpp:ping'/>"


def online(im, d, user, resource, priority=None):
    """Logged in and available (returns once the server has processed the
    initial presence)."""
    c = im(user, daemon=d, resource=resource)
    assert c.login().ok, user
    c.available(priority=priority)
    return c


def sender(im, d):
    a = im("alice", daemon=d, resource="desk")
    assert a.login().ok
    return a


def got(c, body, timeout=5):
    return c.wait_message(timeout=timeout, body=body)


def test_bare_chat_goes_to_highest_priority(plucsd, im):
    high = online(im, plucsd, "bob", "high", priority=5)     # older
    low = online(im, plucsd, "bob", "low", priority=1)       # more recent
    a = sender(im, plucsd)
    a.send(B, "to the highest")
    assert got(high, "to the highest"), "highest-priority resource got nothing: %r" % high.all_messages
    low.quiet(0.8)
    assert not low.saw_message(body="to the highest"), \
        "lower-priority resource got a bare-JID chat: %r" % low.all_messages


def test_bare_chat_equal_priority_goes_to_every_top_resource(plucsd, im):
    """A desktop and a second client at equal priority both get the reply
    (RFC 6121 8.5.2.1.1 allows it; ejabberd and Prosody do it); a third one
    at a lower priority does not."""
    desk = online(im, plucsd, "bob", "desk", priority=2)
    phone = online(im, plucsd, "bob", "phone", priority=2)
    low = online(im, plucsd, "bob", "low", priority=1)
    a = sender(im, plucsd)
    for t in ("chat", "normal"):
        a.send(B, "to both " + t, type=t)
        assert got(desk, "to both " + t), "desk got nothing: %r" % desk.all_messages
        assert got(phone, "to both " + t), "phone got nothing: %r" % phone.all_messages
    low.quiet(0.8)
    assert not low.saw_message(pred=lambda s: (s.body or "").startswith("to both")), low.all_messages
    # exactly one copy each
    for c in (desk, phone):
        n = sum(1 for m in c.all_messages if m.body == "to both chat")
        assert n == 1, "%d copies at %s" % (n, c)


def test_negative_priority_never_gets_bare_jid_messages(plucsd, im):
    neg = online(im, plucsd, "bob", "neg", priority=-1)
    zero = online(im, plucsd, "bob", "zero", priority=0)
    a = sender(im, plucsd)
    for t in ("chat", "normal", "headline"):
        a.send(B, "bare " + t, type=t)
        assert got(zero, "bare " + t), "%s to bare JID not delivered: %r" % (t, zero.all_messages)
    # Full JID: delivered whatever the priority (RFC 6121 8.5.3.1).
    a.send(B + "/neg", "full to neg")
    assert got(neg, "full to neg"), neg.all_messages
    assert not neg.saw_message(pred=lambda s: (s.body or "").startswith("bare ")), neg.all_messages
    # Only a negative-priority resource left: a chat is not delivered to it
    # (no available resource: stored) and reaches the next resource with
    # non-negative initial presence.
    zero.close()
    neg.expect_unavailable(B + "/zero")     # the server has ended zero's session
    a.send(B, "while only negative")
    neg.quiet(1.0)
    assert not neg.saw_message(body="while only negative"), neg.all_messages
    r3 = im("bob", daemon=plucsd, resource="r3")
    assert r3.login().ok
    r3.available(priority=1)
    m = got(r3, "while only negative")
    assert m, "message for a user with only negative priority lost: %r" % r3.all_messages
    assert m.delay is not None, "stored message without delay stamp: %r" % m
    assert not neg.saw_message(body="while only negative")


def test_message_to_gone_full_jid_treated_as_bare(plucsd, im):
    b1 = online(im, plucsd, "bob", "b1")
    a = sender(im, plucsd)
    a.send(B + "/gone", "redirected")
    m = got(b1, "redirected")
    assert m, "chat to a gone full JID not delivered to the available resource: %r" % b1.all_messages
    assert H.bare(m.frm) == A


def test_iq_to_gone_full_jid_is_an_error(plucsd, im):
    online(im, plucsd, "bob", "b1")
    a = sender(im, plucsd)
    r = a.iq_el(B + "/gone", "get", PING, timeout=5)
    assert r is not None, "no answer to an iq for a gone full JID (never silence for an iq)"
    assert r.get("type") == "error" and H.error_condition(r) == "service-unavailable", \
        H._ET.tostring(r)
    # The same for a user with no session at all.
    r = a.iq_el("carol@a.test/nowhere", "get", PING, timeout=5)
    assert r is not None and r.get("type") == "error", r
    assert H.error_condition(r) == "service-unavailable", H._ET.tostring(r)
    # And an existing full JID gets the iq and answers it (slixmpp answers pings).
    r = a.iq_el(B + "/b1", "get", PING, timeout=5)
    assert r is not None and r.get("type") == "result", r


def test_iq_never_silent(plucsd, im):
    a = sender(im, plucsd)
    for to in ("nobody@a.test", "nobody@a.test/res", "erin@a.test/x"):
        r = a.iq_el(to, "get", PING, timeout=5)
        assert r is not None, "no answer to an iq for %s" % to
        assert r.get("type") == "error" and H.error_condition(r) == "service-unavailable", \
            (to, H._ET.tostring(r))
    # An unknown remote domain (no federation): some error, never silence.
    r = a.iq_el("someone@remote.invalid", "get", PING, timeout=8)
    assert r is not None, "no answer to an iq for a remote domain"
    assert r.get("type") == "error", H._ET.tostring(r)
    assert a.ping() == "result"


def test_groupchat_to_bare_jid_is_an_error(plucsd, im):
    b1 = online(im, plucsd, "bob", "b1")
    a = sender(im, plucsd)
    a.send(B, "not a room", type="groupchat", id="gc1")
    e = a.wait_message(type="error", pred=lambda s: s.id == "gc1")
    assert e, "no error for groupchat to a bare JID: %r" % a.all_messages
    assert e.condition == "service-unavailable", e
    b1.quiet(0.5)
    assert not b1.saw_message(body="not a room"), b1.all_messages
    # No available resource at all: also an error (RFC 6121 8.5.2.2.1).
    a.send("carol@a.test", "nobody home", type="groupchat", id="gc2")
    e = a.wait_message(type="error", pred=lambda s: s.id == "gc2")
    assert e and e.condition == "service-unavailable", a.all_messages


def test_headline_to_all_non_negative_resources(plucsd, im):
    b1 = online(im, plucsd, "bob", "b1", priority=1)
    b2 = online(im, plucsd, "bob", "b2", priority=0)
    b3 = online(im, plucsd, "bob", "b3", priority=-1)
    a = sender(im, plucsd)
    a.send(B, "news", type="headline")
    for c in (b1, b2):
        m = got(c, "news")
        assert m and m.type == "headline", "%s: %r" % (c.jid, c.all_messages)
    b3.quiet(0.8)
    assert not b3.saw_message(body="news"), b3.all_messages
