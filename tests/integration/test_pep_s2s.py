"""PEP across federation (XEP-0163 with remote contacts): two plucsd share
the test directory, one serving a.test (127.0.24.1), the other b.test
(127.0.24.2), federating in plain text on a free port (not 5269). A remote
contact reads an account's nodes by the access model (open always,
presence once subscribed), learns of publishes when its caps (fetched over
federation, once) carry NODE+notify, and gets the last item when a new
resource comes online."""
import pytest

import plucs_harness as H
from pubsub_helpers import CapsIM, NS_CLIENT, error_of, item_ids, items, publish

A_IP, B_IP = "127.0.24.1", "127.0.24.2"
ALICE, DAVE = "alice@a.test", "dave@b.test"
TUNE = "http://jabber.org/protocol/tune"


@pytest.fixture
def fed(plucsd_factory):
    return H.federated_pair(plucsd_factory, A_IP, B_IP)


def presence_from(c, frm, type_):
    return c.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT and e.get("type") == type_
                  and e.get("from", "").split("/")[0] == frm, 15)


def test_remote_contact_reads_and_gets_notified(fed):
    a, b = fed
    alice = CapsIM(a.port, "alice", "pc", [TUNE + "+notify"])
    dave = CapsIM(b.port, "dave", "pc", [TUNE + "+notify"], domain="b.test")
    alice.iq_ok(publish("urn:xmpp:omemo:2:devices", "<devices xmlns='urn:xmpp:omemo:2'>"
                        "<device id='1'/></devices>", "current", {"pubsub#access_model": "open"}))
    alice.iq_ok(publish(TUNE, "<tune xmlns='%s'><title>First</title></tune>" % TUNE, "t1"))
    # open: readable from another server; presence: not before a subscription
    r = dave.iq(items("urn:xmpp:omemo:2:devices"), to=ALICE, type="get", timeout=20)
    assert r is not None and item_ids(r) == ["current"], r
    assert error_of(dave.iq(items(TUNE), to=ALICE, type="get", timeout=20)) == \
        ("auth", "not-authorized", "presence-subscription-required")
    # mutual presence subscription over federation
    dave.send("<presence to='%s' type='subscribe'/>" % ALICE)
    assert presence_from(alice, DAVE, "subscribe") is not None
    alice.send("<presence to='%s' type='subscribed'/>" % DAVE)
    alice.send("<presence to='%s' type='subscribe'/>" % DAVE)
    assert presence_from(dave, ALICE, "subscribe") is not None
    dave.send("<presence to='%s' type='subscribed'/>" % ALICE)
    assert H.wait_until(lambda: (dave.pump(), alice.pump(), dave.disco_asked)[2] >= 1, 20), \
        "alice's server never asked dave's client for its caps"
    r = dave.iq(items(TUNE), to=ALICE, type="get", timeout=20)
    assert r is not None and r.get("type") == "result" and item_ids(r) == ["t1"], r
    alice.iq_ok(publish(TUNE, "<tune xmlns='%s'><title>Second</title></tune>" % TUNE, "t2"))
    ev = dave.wait_event(TUNE, frm=ALICE, timeout=20,
                         pred=lambda e: e.find(".//{%s}title" % TUNE).text == "Second")
    assert ev is not None, "dave got no notification over federation"
    # a new resource of dave gets the last item (its caps are known: no new query)
    dave2 = CapsIM(b.port, "dave", "second", [TUNE + "+notify"], domain="b.test")
    ev = dave2.wait_event(TUNE, frm=ALICE, timeout=20)
    assert ev is not None and ev.find(".//{%s}title" % TUNE).text == "Second"
    assert dave2.disco_asked == 0
