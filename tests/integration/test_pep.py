"""Personal eventing (XEP-0163) on every account, issue 15 point 1/2:
auto-create on publish, notifications to the owner's resources and to
contacts (shared roster counts) that advertise NODE+notify in their entity
capabilities (XEP-0115: one disco#info query per caps hash, counted in
/metrics), last published item on presence, access models (open, presence,
roster with shared groups, whitelist) with XEP-0060 errors, publish-options
(XEP-0223) preconditions, bookmarks 2 / OMEMO / avatars as clients store
them, persistence across a restart, quotas (item size, nodes, max_items
over 10,000 publishes), a 50 MB item refused by the stanza size limit."""

import re
import time
import xml.etree.ElementTree as ET

import plucs_harness as H
from pubsub_helpers import (CapsIM, NS_PS, NS_PS_EVENT, NS_PS_OWNER, NS_DISCO_INFO, error_of,
                            form, item_ids, items, publish, create)
from web_clients import http_request

A, B, C, E = "alice@a.test", "bob@a.test", "carol@a.test", "hugo@a.test"
TUNE = "http://jabber.org/protocol/tune"
BM = "urn:xmpp:bookmarks:1"
OMEMO = "eu.siacs.conversations.axolotl.devicelist"


def tune(title):
    return "<tune xmlns='%s'><title>%s</title></tune>" % (TUNE, title)


def metric(d, name):
    _, _, text = http_request(d.http_port, "GET", "/metrics")
    text = text.decode() if isinstance(text, bytes) else text
    m = re.search(r"^%s (\d+)" % re.escape(name), text, re.M)
    assert m, "no %s in /metrics" % name
    return int(m.group(1))


def test_notify_filtered_by_caps_and_caps_fetched_once(plucsd):
    q0 = metric(plucsd, "plucs_pubsub_caps_queries_total")
    a = CapsIM(plucsd.port, "alice", "pc", [TUNE + "+notify"])
    b1 = CapsIM(plucsd.port, "bob", "one", [TUNE + "+notify"])
    b2 = CapsIM(plucsd.port, "bob", "two", [TUNE + "+notify"])   # same hash: no query
    c = CapsIM(plucsd.port, "carol", "pc", ["urn:other"])        # no +notify
    assert H.wait_until(lambda: (a.pump(), b1.pump(), b2.pump(), c.pump())
                        and False or metric(plucsd, "plucs_pubsub_caps_queries_total") >= q0 + 2,
                        10)
    for x in (a, b1, b2, c):
        x.ping()
    asked = a.disco_asked + b1.disco_asked + b2.disco_asked
    assert asked == 1, "one disco#info per caps hash, got %d" % asked
    assert c.disco_asked == 1
    assert metric(plucsd, "plucs_pubsub_caps_queries_total") == q0 + 2
    a.iq_ok(publish(TUNE, tune("Song 1"), "current"))
    for x in (a, b1, b2):
        ev = x.wait_event(TUNE, frm=A)
        assert ev is not None, "%s got no event" % x.full
        assert ev.find(".//{%s}title" % TUNE).text == "Song 1"
        assert ev.get("type") == "headline"
    c.ping()
    assert not c.events(TUNE), "carol has no +notify and must get no event"
    # the account's disco#info shows the PEP identity
    r = c.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=A, type="get")
    ids = [(i.get("category"), i.get("type")) for i in r.iter("{%s}identity" % NS_DISCO_INFO)]
    assert ("pubsub", "pep") in ids, ET.tostring(r)
    feats = [f.get("var") for f in r.iter("{%s}feature" % NS_DISCO_INFO)]
    assert NS_PS + "#publish-options" in feats and NS_PS + "#access-whitelist" in feats


def test_last_item_on_presence_and_presence_access(plucsd):
    a = CapsIM(plucsd.port, "alice", "pc", [TUNE + "+notify"])
    a.iq_ok(publish(TUNE, tune("Old"), "1"))
    a.iq_ok(publish(TUNE, tune("Newest"), "2"))
    b = CapsIM(plucsd.port, "bob", "late", [TUNE + "+notify"])
    ev = b.wait_event(TUNE, frm=A)
    assert ev is not None, "bob got no last item on presence"
    assert ev.find(".//{%s}title" % TUNE).text == "Newest"
    # default access model presence: bob (shared roster) reads, dave does not
    r = b.iq_ok(items(TUNE), to=A, type="get")
    assert item_ids(r) == ["2"]     # PEP default max_items 1
    e = CapsIM(plucsd.port, "dave", "pc", [TUNE + "+notify"], domain="b.test")   # not a contact
    assert error_of(e.iq(items(TUNE), to=A, type="get")) == \
        ("auth", "not-authorized", "presence-subscription-required")
    assert error_of(e.iq(items("nosuch"), to=A, type="get"))[1] == "item-not-found"
    # others may not publish on alice's PEP
    assert error_of(e.iq(publish(TUNE, tune("x")), to=A))[1] == "forbidden"


def test_access_models_roster_whitelist_open(plucsd):
    a = CapsIM(plucsd.port, "alice", "pc")
    b = CapsIM(plucsd.port, "bob", "pc")
    e = CapsIM(plucsd.port, "dave", "pc", domain="b.test")   # a stranger to alice
    a.iq_ok(create("n-roster", {"pubsub#access_model": "roster",
                                "pubsub#roster_groups_allowed": "staff"}))
    a.iq_ok(publish("n-roster", "<x xmlns='urn:t'/>", "i"))
    assert item_ids(b.iq_ok(items("n-roster"), to=A, type="get")) == ["i"]
    assert error_of(e.iq(items("n-roster"), to=A, type="get")) == \
        ("auth", "not-authorized", "not-in-roster-group")
    a.iq_ok(create("n-white", {"pubsub#access_model": "whitelist"}))
    a.iq_ok(publish("n-white", "<x xmlns='urn:t'/>", "i"))
    assert error_of(b.iq(items("n-white"), to=A, type="get")) == \
        ("cancel", "not-allowed", "closed-node")
    # the owner may whitelist bob (member affiliation)
    a.iq_ok("<pubsub xmlns='%s'><affiliations node='n-white'><affiliation jid='%s' "
            "affiliation='member'/></affiliations></pubsub>" % (NS_PS_OWNER, B))
    assert item_ids(b.iq_ok(items("n-white"), to=A, type="get")) == ["i"]
    a.iq_ok(publish(OMEMO, "<list xmlns='eu.siacs.conversations.axolotl'><device id='1'/></list>",
                    "current", {"pubsub#access_model": "open"}))
    r = e.iq_ok(items(OMEMO), to=A, type="get")
    assert item_ids(r) == ["current"], "a stranger reads an open OMEMO device list"
    a.iq_ok(publish("urn:xmpp:omemo:2:devices", "<devices xmlns='urn:xmpp:omemo:2'>"
                    "<device id='7'/></devices>", "current", {"pubsub#access_model": "open"}))
    assert item_ids(e.iq_ok(items("urn:xmpp:omemo:2:devices"), to=A, type="get")) == ["current"]


def test_bookmarks2_private_and_precondition(plucsd):
    opts = {"pubsub#persist_items": "true", "pubsub#max_items": "max",
            "pubsub#send_last_published_item": "never", "pubsub#access_model": "whitelist"}
    a = CapsIM(plucsd.port, "alice", "pc", [BM + "+notify"])
    b = CapsIM(plucsd.port, "bob", "pc", [BM + "+notify"])
    conf = "<conference xmlns='%s' name='Room' autojoin='true'><nick>al</nick></conference>" % BM
    a.iq_ok(publish(BM, conf, "room1@conference.a.test", opts))
    a.iq_ok(publish(BM, conf, "room2@conference.a.test", opts))
    assert a.wait_event(BM, frm=A) is not None, "the owner's own resource is notified"
    assert sorted(item_ids(a.iq_ok(items(BM), type="get"))) == \
        ["room1@conference.a.test", "room2@conference.a.test"]
    assert error_of(b.iq(items(BM), to=A, type="get")) == ("cancel", "not-allowed", "closed-node")
    b.ping()
    assert not b.events(BM), "bookmarks must not reach contacts"
    # disco#items on the account lists the nodes the requester may read
    a.iq_ok(publish(TUNE, tune("x"), "t"))
    # (mod_pepdata's nodes aside: the nickname from the directory, the XEP-0048
    # bookmarks it keeps in step with XEP-0402; see test_pep_data.py)
    pepdata = {"http://jabber.org/protocol/nick", "storage:bookmarks"}

    def nodes(c):
        r = c.iq("<query xmlns='http://jabber.org/protocol/disco#items'/>", to=A, type="get")
        return {i.get("node") for i in r.iter("{http://jabber.org/protocol/disco#items}item")} \
            - pepdata
    assert nodes(a) == {BM, TUNE}
    assert nodes(b) == {TUNE}
    # precondition mismatch on the existing node
    bad = dict(opts, **{"pubsub#access_model": "open"})
    assert error_of(a.iq(publish(BM, conf, "room3", bad))) == \
        ("cancel", "conflict", "precondition-not-met")
    assert "room3" not in item_ids(a.iq_ok(items(BM), type="get"))
    # a new session of bob gets no last item (send_last never, whitelist)
    b2 = CapsIM(plucsd.port, "bob", "second", [BM + "+notify"])
    b2.ping()
    assert not b2.events(BM)
    # configuration form shows what publish-options set
    r = a.iq_ok("<pubsub xmlns='%s'><configure node='%s'/></pubsub>" % (NS_PS_OWNER, BM),
                type="get")
    vals = {f.get("var"): [v.text for v in f.findall("{jabber:x:data}value")]
            for f in r.iter("{jabber:x:data}field")}
    assert vals["pubsub#access_model"] == ["whitelist"]
    assert vals["pubsub#max_items"] == ["1000"]
    assert vals["pubsub#send_last_published_item"] == ["never"]


def test_avatar_retract_and_persistence_across_restart(plucsd_factory):
    p = plucsd_factory()
    a = CapsIM(p.port, "alice", "pc", ["urn:xmpp:avatar:metadata+notify"])
    b = CapsIM(p.port, "bob", "pc", ["urn:xmpp:avatar:metadata+notify"])
    data = "<data xmlns='urn:xmpp:avatar:data'>aGVsbG8=</data>"
    meta = ("<metadata xmlns='urn:xmpp:avatar:metadata'><info id='abc' bytes='5' "
            "type='image/png'/></metadata>")
    a.iq_ok(publish("urn:xmpp:avatar:data", data, "abc"))
    a.iq_ok(publish("urn:xmpp:avatar:metadata", meta, "abc"))
    assert b.wait_event("urn:xmpp:avatar:metadata", frm=A) is not None
    a.iq_ok(publish("urn:xmpp:avatar:data", data, "gone"))
    a.iq_ok("<pubsub xmlns='%s'><retract node='urn:xmpp:avatar:data' notify='true'>"
            "<item id='gone'/></retract></pubsub>" % NS_PS)
    a.close()
    b.close()
    p.terminate()
    H.plucsd_restart(p)
    b = CapsIM(p.port, "bob", "pc2", ["urn:xmpp:avatar:metadata+notify"])
    ev = b.wait_event("urn:xmpp:avatar:metadata", frm=A)
    assert ev is not None, "the last metadata item survives a restart"
    r = b.iq_ok(items("urn:xmpp:avatar:data"), to=A, type="get")
    assert item_ids(r) == [], "the retracted item stays retracted (max_items 1 kept abc? %s)" \
        % item_ids(r)


def test_quotas(plucsd_factory):
    p = plucsd_factory(**{"plucs/pubsub/max_item_size": "2000", "plucs/pubsub/max_nodes": "3",
                          "plucs/pubsub/max_items": "50"})
    a = CapsIM(p.port, "alice", "pc")
    assert error_of(a.iq(publish("big", "<x xmlns='urn:t'>%s</x>" % ("y" * 3000)))) == \
        ("modify", "not-acceptable", "payload-too-big")
    assert error_of(a.iq(create("n5", {"pubsub#max_items": "51"})))[1] == "not-acceptable"
    for i in range(3):
        a.iq_ok(create("n%d" % i))
    assert error_of(a.iq(create("n3")))[1] == "resource-constraint"
    assert error_of(a.iq(publish("n4", "<x xmlns='urn:t'/>")))[1] == "resource-constraint"
    a.iq_ok("<pubsub xmlns='%s'><configure node='n0'>%s</configure></pubsub>"
            % (NS_PS_OWNER, form({"pubsub#max_items": "max"}, NS_PS + "#node_config")))
    items0 = metric(p, "plucs_pubsub_items")
    # 10,000 publishes in bounded batches: the node keeps max_items (50)
    total, batch = 10000, 500
    for start in range(0, total, batch):
        for i in range(start, start + batch):
            a.send("<iq type='set' id='p%d'>%s</iq>" % (i, publish("n0", "<x xmlns='urn:t'>%d</x>"
                                                                     % i)))
        last = "p%d" % (start + batch - 1)
        assert a.wait(lambda e: e.get("id") == last, 30) is not None, "no answer to %s" % last
        del a.got[:]
        a.n = 0
    r = a.iq_ok(items("n0"), type="get")
    assert len(item_ids(r)) == 50
    assert r.find(".//{urn:t}x").text == "9950"
    assert metric(p, "plucs_pubsub_items") - items0 <= 50


def test_50mb_item_closes_stream(plucsd):
    a = CapsIM(plucsd.port, "alice", "pc")
    a.send("<iq type='set' id='big'><pubsub xmlns='%s'><publish node='huge'><item>"
           "<x xmlns='urn:t'>" % NS_PS)
    chunk = "z" * (1 << 20)
    closed = False
    for _ in range(50):
        try:
            a.send(chunk)
        except OSError:
            closed = True
            break
    if not closed:
        closed = a.r.wait_closed(10)
    assert closed, "a 50 MB stanza must end the stream"
    b = CapsIM(plucsd.port, "bob", "pc")
    r = b.iq(items("huge"), to=A, type="get")
    assert error_of(r)[1] == "item-not-found"


def test_roster_access_with_owner_offline(plucsd):
    """Personal roster groups count, and the owner's roster is loaded from
    the store when the owner is offline (asynchronously)."""
    a = CapsIM(plucsd.port, "alice", "pc")
    a.iq_ok("<query xmlns='jabber:iq:roster'><item jid='%s'><group>Friends</group></item>"
            "</query>" % "dave@b.test")
    a.iq_ok(create("friends-only", {"pubsub#access_model": "roster",
                                    "pubsub#roster_groups_allowed": ["Friends", "Family"]}))
    a.iq_ok(publish("friends-only", "<x xmlns='urn:t'>hi</x>", "i1"))
    a.close()
    assert plucsd.wait_log(r"alice@a.test/pc \(.*\) disconnected", 10)
    h = CapsIM(plucsd.port, "dave", "pc", domain="b.test")
    c = CapsIM(plucsd.port, "carol", "pc")
    r = h.iq(items("friends-only"), to=A, type="get", timeout=10)
    assert r is not None and r.get("type") == "result", ET.tostring(r) if r is not None else r
    assert item_ids(r) == ["i1"]
    assert plucsd.wait_log("pubsub: loading the roster of alice@a.test to answer dave", 5)
    assert error_of(c.iq(items("friends-only"), to=A, type="get")) == \
        ("auth", "not-authorized", "not-in-roster-group")
