"""Foundation: resource binding, basic iq services and message routing
(RFC 6120 section 7, RFC 6121 section 8, XEP-0199, XEP-0030)."""

import plucs_harness as H


def test_two_resources_bound(plucsd, client):
    a1 = client("alice", daemon=plucsd, resource="one")
    a2 = client("alice", daemon=plucsd, resource="two")
    assert a1.login().ok
    assert a2.login().ok
    assert a1.jid == "alice@a.test/one"
    assert a2.jid == "alice@a.test/two"
    # a second resource does not replace the first (a conflict would have
    # ended a1's stream while a2 bound): both answer a ping
    assert a1.is_connected() and a2.is_connected()
    assert a1.ping() == "result"
    assert a2.ping() == "result"


def test_resource_conflict_first_gets_conflict(plucsd, client):
    first = client("alice", daemon=plucsd, resource="same")
    assert first.login().ok
    second = client("alice", daemon=plucsd, resource="same")
    assert second.login().ok
    err = first.wait_disconnect(timeout=10)
    assert err is not None and err[0] == "conflict", err
    assert second.is_connected()
    assert second.ping() == "result"


def test_server_generated_resource(plucsd, client):
    c = client("bob", daemon=plucsd)
    assert c.login().ok
    bare, _, res = c.jid.partition("/")
    assert bare == "bob@a.test"
    assert res != ""


def test_ping_server(plucsd, client):
    c = client("alice", daemon=plucsd)
    assert c.login().ok
    assert c.ping("a.test") == "result"


def test_disco_info_lists_ping(plucsd, client):
    c = client("alice", daemon=plucsd)
    assert c.login().ok
    feats = c.disco_info("a.test")
    assert "urn:xmpp:ping" in feats, feats
    assert "http://jabber.org/protocol/disco#info" in feats, feats


def test_legacy_session_iq(plucsd, client):
    c = client("alice", daemon=plucsd)
    assert c.login().ok
    assert c.session_iq() == "result"


def test_message_full_and_bare_jid(plucsd, client):
    a = client("alice", daemon=plucsd, resource="desk")
    b = client("bob", daemon=plucsd, resource="laptop")
    assert a.login().ok
    assert b.login().ok
    # RFC 6121 8.5.2.1.1: a bare-JID message goes to *available* resources.
    b.send_presence()
    a.send_message("bob@a.test/laptop", "hello full")
    m = b.wait_message(5)
    assert m is not None, "message to full JID not delivered"
    assert m["body"] == "hello full"
    assert str(m["from"]) == "alice@a.test/desk"
    a.send_message("bob@a.test", "hello bare")
    m = b.wait_message(5)
    assert m is not None, "message to bare JID not delivered"
    assert m["body"] == "hello bare"


def test_message_other_domain(plucsd, client):
    a = client("alice", daemon=plucsd)
    d = client("dave", daemon=plucsd, resource="r")
    assert a.login().ok and d.login().ok
    a.send_message("dave@b.test/r", "cross-domain")
    m = d.wait_message(5)
    assert m is not None and m["body"] == "cross-domain"


def test_whitespace_keepalive(plucsd, client):
    c = client("alice", daemon=plucsd)
    assert c.login().ok
    for _ in range(5):
        c.send_raw(" ")
        c.barrier()           # each keepalive on its own, answered in between
    c.send_raw("\n \n")
    assert c.is_connected()
    assert c.ping() == "result"
