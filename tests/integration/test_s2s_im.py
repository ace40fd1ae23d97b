"""IM semantics for remote parties (issue 12 point 5; RFC 6121 server rules
for federation): two plucsd instances share the test directory, one serving
a.test (s2s on 127.0.14.1), the other b.test (127.0.14.2), federating in
plain text (plucs/s2s/tls=false) through plucs/s2s/route/<domain>.

Covered: messages both ways; subscriptions both ways through the personal
roster (with roster pushes of remote items), also to an offline user
(stored, delivered at login); presence after mutual subscription, probes at
login, unavailable at logout; disco#info, version and ping of the remote
server, ping and vCard of a remote account's bare JID (the vCard only for a
contact the account shares presence with), someone else's roster refused;
offline storage of a message from remote; a blocked remote sender
(XEP-0191); iq errors routed back (gone resource, unknown namespace);
plucs/mod/filter with a remote party counting as a user in no group."""
import pytest

import plucs_harness as H

A_IP, B_IP = "127.0.14.1", "127.0.14.2"
S2S_PORT = 5269
ALICE, BOB, DAVE = H.jid("alice"), H.jid("bob"), H.jid("dave")

NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_VERSION = "jabber:iq:version"
NS_VCARD = "vcard-temp"
NS_BLOCKING = "urn:xmpp:blocking"


def _registry(domain, own_ip, other, other_ip, extra):
    reg = {
        "plucs/domains": domain,
        "plucs/s2s": "true",
        "plucs/s2s/tls": "false",
        "plucs/s2s/address": own_ip,
        "plucs/s2s/port": str(S2S_PORT),
        "plucs/s2s/route/" + other: "%s:%d" % (other_ip, S2S_PORT),
        "plucs/s2s/timeout": "10",
    }
    reg.update(extra)
    return reg


@pytest.fixture
def fed(plucsd_factory):
    """fed(extra_a=None, extra_b=None) -> (daemon for a.test, for b.test)."""
    def start(extra_a=None, extra_b=None):
        a = plucsd_factory(**_registry("a.test", A_IP, "b.test", B_IP, extra_a or {}))
        b = plucsd_factory(**_registry("b.test", B_IP, "a.test", A_IP, extra_b or {}))
        return a, b
    return start


def online(im, user, daemon, available=True, roster=True):
    c = im(user, daemon=daemon)
    c.login()
    if roster:
        c.roster()            # interested: gets roster pushes
    if available:
        c.available()
    return c


def subscribe_mutually(a_client, d_client):
    """alice and dave see each other (subscription both), both online."""
    a_client.subscribe(DAVE)
    assert d_client.wait_presence(frm=ALICE, type="subscribe", timeout=15), \
        "dave got no subscription request from alice"
    d_client.subscribed(ALICE)
    assert a_client.wait_push(DAVE, timeout=10,
                              pred=lambda p: p.item.subscription == "to"), \
        "alice's roster did not show subscription 'to' for dave"
    d_client.subscribe(ALICE)
    assert a_client.wait_presence(frm=DAVE, type="subscribe", timeout=10)
    a_client.subscribed(DAVE)
    assert d_client.wait_push(ALICE, timeout=10,
                              pred=lambda p: p.item.subscription == "both"), \
        "dave's roster did not reach 'both' for alice"
    assert a_client.wait_push(DAVE, timeout=10,
                              pred=lambda p: p.item.subscription == "both")


def iq(client, to, type, payload, timeout=15):
    r = client.iq_el(to, type, payload, timeout)
    assert r is not None, "no answer from %s to %s" % (to, payload)
    return r


def test_messages_both_ways(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    alice.send(DAVE, "hello from a")
    m = dave.wait_message(frm=ALICE, body="hello from a", timeout=15)
    assert m, "dave did not get alice's message over federation"
    assert m.frm == alice.jid
    dave.send(alice.jid, "hello from b")
    assert alice.wait_message(frm=DAVE, body="hello from b", timeout=15)


def test_subscription_both_ways_presence_and_pushes(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    # a personal roster item for a remote contact: pushed like any other
    assert alice.roster_set(DAVE, name="Dave") == ("result", None)
    p = alice.wait_push(DAVE, timeout=5)
    assert p and p.item.subscription == "none" and p.item.name == "Dave"
    alice.subscribe(DAVE)
    p = alice.wait_push(DAVE, timeout=5, pred=lambda p: p.item.ask == "subscribe")
    assert p, "no push with ask='subscribe'"
    s = dave.wait_presence(frm=ALICE, type="subscribe", timeout=15)
    assert s, "dave got no subscription request"
    assert s.frm == ALICE                       # from the bare JID (RFC 6121 3.1.2)
    dave.subscribed(ALICE)
    assert alice.wait_push(DAVE, timeout=15, pred=lambda p: p.item.subscription == "to")
    assert dave.wait_push(ALICE, timeout=5, pred=lambda p: p.item.subscription == "from")
    # approving sends dave's current presence to alice (RFC 6121 3.1.5)
    assert alice.wait_presence(frm=dave.jid, type="available", timeout=15), \
        "alice did not get dave's presence after he approved"
    # and the other way round
    dave.subscribe(ALICE)
    assert alice.wait_presence(frm=DAVE, type="subscribe", timeout=15)
    alice.subscribed(DAVE)
    assert dave.wait_push(ALICE, timeout=15, pred=lambda p: p.item.subscription == "both")
    assert alice.wait_push(DAVE, timeout=5, pred=lambda p: p.item.subscription == "both")
    assert dave.wait_presence(frm=alice.jid, type="available", timeout=15)
    # presence changes reach the remote contact
    dave.forget()
    alice.available(show="away", status="lunch")
    s = dave.wait_presence(frm=alice.jid, timeout=15, pred=lambda s: s.show == "away")
    assert s and s.status == "lunch"
    # unavailable at logout
    alice.close()
    dave.expect_unavailable(alice.jid, timeout=15)


def test_subscribe_to_offline_user_delivered_at_login(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    alice.subscribe(DAVE)
    alice.barrier()
    # dave is not online: the request is stored on b.test and shown at login
    dave = im("dave", daemon=b)
    dave.login()
    dave.roster()
    assert not dave.saw_presence(frm=ALICE, type="subscribe")
    dave.available()
    assert dave.wait_presence(frm=ALICE, type="subscribe", timeout=15), \
        "the stored subscription request from alice was not delivered at login"
    dave.subscribed(ALICE)
    assert alice.wait_push(DAVE, timeout=15, pred=lambda p: p.item.subscription == "to")


def test_probe_at_login_and_presence_only_to_subscribers(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    subscribe_mutually(alice, dave)
    dave.available(show="dnd", status="busy")
    assert alice.wait_presence(frm=dave.jid, timeout=15, pred=lambda s: s.show == "dnd")
    alice.close()
    dave.expect_unavailable(alice.jid, timeout=15)
    # a new login of alice probes dave's server, which answers from his roster
    alice2 = online(im, "alice", a)
    s = alice2.wait_presence(frm=dave.jid, timeout=15, pred=lambda s: s.show == "dnd")
    assert s, "no answer to alice's probe: %r" % alice2.all_presences
    assert s.status == "busy"
    # dave's presence does not reach bob on a.test (no subscription): bob
    # even probing by hand gets nothing but 'unsubscribed'
    bob = online(im, "bob", a)
    bob.presence(to=DAVE, type="probe")
    dave.available(show="chat")
    assert alice2.wait_presence(frm=dave.jid, timeout=15, pred=lambda s: s.show == "chat")
    bob.quiet(0.5)
    assert not bob.saw_presence(frm=DAVE, type="available")


def test_iq_to_remote_server_and_accounts(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    feats = alice.disco_info("b.test", timeout=15)
    assert "urn:xmpp:ping" in feats and NS_VERSION in feats, feats
    r = iq(alice, "b.test", "get", "<query xmlns='%s'/>" % NS_VERSION)
    assert r.get("type") == "result"
    name = r.find("{%s}query/{%s}name" % (NS_VERSION, NS_VERSION))
    assert name is not None and name.text == "PLUCS"
    assert alice.ping("b.test", timeout=15) == "result"
    assert alice.ping(DAVE, timeout=15) == "result"       # on dave's behalf
    # a user's disco identity (account/registered)
    r = iq(alice, DAVE, "get", "<query xmlns='%s'/>" % NS_DISCO_INFO)
    assert r.get("type") == "result"
    ident = r.find("{%s}query/{%s}identity" % (NS_DISCO_INFO, NS_DISCO_INFO))
    assert ident is not None and ident.get("category") == "account"
    # vCard: a stranger elsewhere gets what a stranger gets
    r = iq(alice, DAVE, "get", "<vCard xmlns='%s'/>" % NS_VCARD)
    assert r.get("type") == "error"
    assert H.error_condition(r) == "service-unavailable"
    # someone else's roster, private data, blocklist: forbidden
    r = iq(alice, DAVE, "get", "<query xmlns='jabber:iq:roster'/>")
    assert (r.get("type"), H.error_condition(r)) == ("error", "forbidden")
    r = iq(alice, DAVE, "get", "<blocklist xmlns='%s'/>" % NS_BLOCKING)
    assert (r.get("type"), H.error_condition(r)) == ("error", "forbidden")
    # no such account, unknown namespace, gone resource: service-unavailable
    r = iq(alice, "nobody@b.test", "get", "<ping xmlns='urn:xmpp:ping'/>")
    assert (r.get("type"), H.error_condition(r)) == ("error", "service-unavailable")
    r = iq(alice, "b.test", "get", "<query xmlns='urn:example:none'/>")
    assert (r.get("type"), H.error_condition(r)) == ("error", "service-unavailable")
    r = iq(alice, DAVE + "/gone", "get", "<ping xmlns='urn:xmpp:ping'/>")
    assert (r.get("type"), H.error_condition(r)) == ("error", "service-unavailable")
    # to a live resource: delivered, the client's answer routed back
    r = iq(alice, dave.jid, "get", "<ping xmlns='urn:xmpp:ping'/>")
    assert r.get("type") == "result"
    # once dave shares his presence with alice, she may read his vCard
    subscribe_mutually(alice, dave)
    r = iq(alice, DAVE, "get", "<vCard xmlns='%s'/>" % NS_VCARD)
    assert r.get("type") == "result", H.error_condition(r)
    assert r.find("{%s}vCard" % NS_VCARD) is not None


def test_offline_message_from_remote(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    alice.send(DAVE, "while you were out", id="off1")
    alice.barrier()
    dave = im("dave", daemon=b)
    dave.login()
    # stored durably before dave is online: wait for it at login
    dave.available()
    m = dave.wait_message(frm=ALICE, body="while you were out", timeout=15)
    assert m, "the message from remote was not stored for dave"
    assert m.delay is not None and m.delay_from == "b.test"
    assert not alice.saw_message(type="error")
    # a groupchat message from remote to a bare JID: refused as for local senders
    alice.send(DAVE, "gc", type="groupchat")
    e = alice.wait_message(frm=DAVE, type="error", timeout=15)
    assert e and e.condition == "service-unavailable"


def test_blocked_remote_sender(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    r = iq(dave, None, "set",
           "<block xmlns='%s'><item jid='%s'/></block>" % (NS_BLOCKING, ALICE))
    assert r.get("type") == "result"
    alice.send(DAVE, "let me in", id="blk1")
    e = alice.wait_message(frm=DAVE, type="error", timeout=15)
    assert e and e.condition == "service-unavailable", alice.all_messages
    dave.quiet(0.3)
    assert not dave.saw_message(body="let me in")
    # presence from the blocked remote JID is not delivered either; the
    # next refused message is the barrier (one stream, in order)
    alice.presence(to=dave.jid)
    alice.send(DAVE, "again", id="blk2")
    e = alice.wait_message(frm=DAVE, type="error", timeout=15)
    assert e and e.condition == "service-unavailable"
    assert not dave.saw_presence(frm=ALICE)
    assert not dave.saw_message(body="again")


def test_error_from_remote_is_delivered_not_answered(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    # dave's client answers a message with an error: it reaches alice, and
    # nothing answers the error
    dave.x.send_raw("<message to='%s' type='error' id='e1'><error type='cancel'>"
                    "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                    "</message>" % alice.jid)
    e = alice.wait_message(frm=dave.jid, type="error", timeout=15)
    assert e and e.condition == "item-not-found"
    dave.barrier()
    dave.quiet(0.5)
    assert not dave.saw_message(type="error")


def test_filter_remote_party_in_no_group(fed, im):
    # a.test filters with deny: nobody's lists reach a party in no group,
    # neither going out nor coming in; b.test does not filter
    a, b = fed(extra_a={"plucs/mod/filter": "true",
                        "plucs/mod/filter/message_policy": "deny",
                        "plucs/mod/filter/presence_policy": "deny"})
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    alice.send(DAVE, "filtered", id="f1")
    e = alice.wait_message(frm=DAVE, type="error", timeout=15)
    assert e and e.condition == "policy-violation"
    dave.send(ALICE, "filtered too", id="f2")
    e = dave.wait_message(frm=ALICE, type="error", timeout=15)
    assert e and e.condition == "policy-violation", dave.all_messages
    assert not alice.saw_message(body="filtered too")
    assert not dave.saw_message(body="filtered")


def test_presence_from_non_contact_and_roster_removal(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    # availability from someone alice did not subscribe to: not to her
    # bare JID; directed to her full JID it goes through (RFC 6121 4.6)
    dave.presence(to=ALICE)
    dave.presence(to=alice.jid, status="direct")
    s = alice.wait_presence(frm=dave.jid, timeout=15)
    assert s and s.status == "direct"
    assert not alice.saw_presence(frm=DAVE)
    # probe answers: an offline contact with subscription from/both is
    # reported unavailable
    subscribe_mutually(alice, dave)
    dave.close()
    alice.expect_unavailable(dave.jid, timeout=15)
    alice.close()
    alice2 = online(im, "alice", a)
    s = alice2.wait_presence(frm=DAVE, type="unavailable", timeout=15)
    assert s, "no unavailable answer to the probe for offline dave: %r" % alice2.all_presences
    # removing the remote item cancels both directions on the remote side
    dave2 = online(im, "dave", b)
    assert alice2.roster_remove(DAVE) == ("result", None)
    p = dave2.wait_push(ALICE, timeout=15, pred=lambda p: p.item.subscription == "none")
    assert p, "dave's roster still subscribed after alice removed him: %r" % dave2.all_pushes
    dave2.expect_unavailable(alice2.jid, timeout=15)


def test_last_activity_of_remote_contact(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    q = "<query xmlns='jabber:iq:last'/>"
    r = iq(alice, DAVE, "get", q)
    assert (r.get("type"), H.error_condition(r)) == ("error", "forbidden")
    r = iq(alice, "b.test", "get", q)          # the server's uptime: public
    assert r.get("type") == "result"
    subscribe_mutually(alice, dave)
    r = iq(alice, DAVE, "get", q)
    assert r.get("type") == "result"
    assert r.find("{jabber:iq:last}query").get("seconds") == "0"   # online


def test_blocked_prober_learns_nothing(fed, im):
    a, b = fed()
    alice = online(im, "alice", a)
    dave = online(im, "dave", b)
    subscribe_mutually(alice, dave)
    r = iq(dave, None, "set",
           "<block xmlns='%s'><item jid='%s'/></block>" % (NS_BLOCKING, ALICE))
    assert r.get("type") == "result"
    dave.close()
    alice.close()
    # dave is offline, his blocklist only in the store: alice's probe at
    # login gets no answer at all (an unblocked contact gets 'unavailable',
    # see test_presence_from_non_contact_and_roster_removal)
    alice2 = online(im, "alice", a)
    assert alice2.ping(DAVE, timeout=15) == "result"   # the probe went first
    alice2.quiet(1.0)
    assert not alice2.saw_presence(frm=DAVE), alice2.all_presences
