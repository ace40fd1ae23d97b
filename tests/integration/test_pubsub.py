"""The PubSub service pubsub.DOMAIN (XEP-0060), issue 15 point 1: disco
(item of the domain, identity pubsub/service, features), node creation with
pubsub#node_config and instant nodes, publish with and without ids,
items (all, max_items, by id), retract with notify, purge and delete with
notifications to subscribers, subscribe / unsubscribe / subscriptions /
affiliations (owner queries too), owner-only operations, plucs/pubsub=false
(no service, no disco item, no PEP identity), and slixmpp's xep_0060 /
xep_0084 / xep_0163 / xep_0223 plugins against the service and PEP."""

import re
import xml.etree.ElementTree as ET

import plucs_harness as H
from pubsub_helpers import (CapsIM, NS_PS, NS_PS_EVENT, NS_PS_OWNER, NS_DISCO_INFO,
                            NS_DISCO_ITEMS, error_of, item_ids, items, publish, create, form)

A, B, C = "alice@a.test", "bob@a.test", "carol@a.test"
PS = "pubsub.a.test"


def disco(c, to, items_=False, node=None):
    return c.iq("<query xmlns='%s'%s/>" % (NS_DISCO_ITEMS if items_ else NS_DISCO_INFO,
                                            " node='%s'" % node if node else ""),
                to=to, type="get")


def test_service_disco(plucsd):
    a = CapsIM(plucsd.port, "alice", "pc")
    r = disco(a, "a.test", items_=True)
    assert PS in [i.get("jid") for i in r.iter("{%s}item" % NS_DISCO_ITEMS)], ET.tostring(r)
    r = disco(a, PS)
    assert r.get("type") == "result", ET.tostring(r)
    ids = [(i.get("category"), i.get("type")) for i in r.iter("{%s}identity" % NS_DISCO_INFO)]
    assert ids == [("pubsub", "service")]
    feats = {f.get("var") for f in r.iter("{%s}feature" % NS_DISCO_INFO)}
    for f in ("publish", "create-nodes", "auto-create", "publish-options", "persistent-items",
              "retract-items", "purge-nodes", "delete-nodes", "retrieve-items", "subscribe",
              "access-open", "access-presence", "access-roster", "access-whitelist",
              "last-published", "item-ids", "config-node"):
        assert NS_PS + "#" + f in feats, f
    assert NS_PS + "#multi-items" not in feats
    a.iq_ok(create("listed", {"pubsub#title": "Listed node"}), to=PS)
    r = disco(a, PS, items_=True)
    its = [(i.get("node"), i.get("name")) for i in r.iter("{%s}item" % NS_DISCO_ITEMS)]
    assert ("listed", "Listed node") in its
    r = disco(a, PS, node="listed")
    assert [(i.get("category"), i.get("type")) for i in
            r.iter("{%s}identity" % NS_DISCO_INFO)] == [("pubsub", "leaf")]
    assert error_of(disco(a, PS, node="nosuch"))[1] == "item-not-found"


def test_service_node_lifecycle(plucsd):
    a = CapsIM(plucsd.port, "alice", "pc")
    b = CapsIM(plucsd.port, "bob", "pc")
    c = CapsIM(plucsd.port, "carol", "pc")
    # the nodes mod_pepdata fills from the directory (nicknames, carol's photo) are there
    # first: count from there (carol's avatar is the last to come: a directory read)
    import web_clients as W

    def counts():
        text = W.http_request(plucsd.http_port, "GET", "/metrics")[2]
        text = text.decode() if isinstance(text, bytes) else text
        return [int(re.search(r"^plucs_pubsub_%s (\d+)" % k, text, re.M).group(1))
                for k in ("nodes", "items")]
    assert H.wait_until(lambda: c.iq(items("urn:xmpp:avatar:metadata"), to=C, type="get")
                        .get("type") == "result", 10)
    n0, i0 = counts()
    a.iq_ok(create("news", {"pubsub#title": "News", "pubsub#max_items": "3",
                            "pubsub#notify_retract": "true"}), to=PS)
    assert error_of(a.iq(create("news"), to=PS)) == ("cancel", "conflict", None)
    # instant node: the service names it
    r = a.iq_ok("<pubsub xmlns='%s'><create/></pubsub>" % NS_PS, to=PS)
    instant = r.find(".//{%s}create" % NS_PS).get("node")
    assert instant
    r = b.iq_ok("<pubsub xmlns='%s'><subscribe node='news' jid='%s'/></pubsub>" % (NS_PS, B),
                to=PS)
    sub = r.find(".//{%s}subscription" % NS_PS)
    assert sub.get("subscription") == "subscribed" and sub.get("subid")
    assert error_of(c.iq("<pubsub xmlns='%s'><subscribe node='news' jid='%s'/></pubsub>"
                         % (NS_PS, B), to=PS)) == ("modify", "bad-request", "invalid-jid")
    ids = []
    for i in range(5):
        r = a.iq_ok(publish("news", "<entry xmlns='urn:t'>%d</entry>" % i,
                            "fixed%d" % i if i < 2 else None), to=PS)
        ids.append(r.find(".//{%s}item" % NS_PS).get("id"))
        ev = b.wait_event("news", frm=PS)
        assert ev is not None, "bob got no event for item %d" % i
        assert ev.find(".//{urn:t}entry").text == str(i)
    assert ids[:2] == ["fixed0", "fixed1"] and all(ids[2:]) and len(set(ids)) == 5
    assert item_ids(b.iq_ok(items("news"), to=PS, type="get")) == ids[2:]   # max_items 3
    assert item_ids(b.iq_ok(items("news", max_items=2), to=PS, type="get")) == ids[3:]
    assert item_ids(b.iq_ok(items("news", ids=[ids[3]]), to=PS, type="get")) == [ids[3]]
    # publishing needs the publisher affiliation
    assert error_of(b.iq(publish("news", "<entry xmlns='urn:t'/>"), to=PS))[1] == "forbidden"
    a.iq_ok("<pubsub xmlns='%s'><retract node='news' notify='true'><item id='%s'/></retract>"
            "</pubsub>" % (NS_PS, ids[4]), to=PS)
    ev = b.wait_event("news", frm=PS,
                      pred=lambda e: e.find(".//{%s}retract" % NS_PS_EVENT) is not None)
    assert ev is not None and ev.find(".//{%s}retract" % NS_PS_EVENT).get("id") == ids[4]
    assert error_of(a.iq("<pubsub xmlns='%s'><retract node='news'><item id='%s'/></retract>"
                         "</pubsub>" % (NS_PS, ids[4]), to=PS))[1] == "item-not-found"
    # the requester's subscriptions and affiliations; the owner's view
    r = b.iq_ok("<pubsub xmlns='%s'><subscriptions/></pubsub>" % NS_PS, to=PS, type="get")
    assert [(s.get("node"), s.get("jid")) for s in r.iter("{%s}subscription" % NS_PS)] == \
        [("news", B)]
    r = a.iq_ok("<pubsub xmlns='%s'><affiliations/></pubsub>" % NS_PS, to=PS, type="get")
    affs = {(s.get("node"), s.get("affiliation")) for s in r.iter("{%s}affiliation" % NS_PS)}
    assert ("news", "owner") in affs and (instant, "owner") in affs
    r = a.iq_ok("<pubsub xmlns='%s'><subscriptions node='news'/></pubsub>" % NS_PS_OWNER,
                to=PS, type="get")
    assert [s.get("jid") for s in r.iter("{%s}subscription" % NS_PS_OWNER)] == [B]
    assert error_of(b.iq("<pubsub xmlns='%s'><subscriptions node='news'/></pubsub>"
                         % NS_PS_OWNER, to=PS, type="get"))[1] == "forbidden"
    # make carol a publisher
    a.iq_ok("<pubsub xmlns='%s'><affiliations node='news'><affiliation jid='%s' "
            "affiliation='publisher'/></affiliations></pubsub>" % (NS_PS_OWNER, C), to=PS)
    c.iq_ok(publish("news", "<entry xmlns='urn:t'>carol</entry>"), to=PS)
    # purge and delete: owner only, subscribers notified
    assert error_of(b.iq("<pubsub xmlns='%s'><purge node='news'/></pubsub>" % NS_PS_OWNER,
                         to=PS))[1] == "forbidden"
    a.iq_ok("<pubsub xmlns='%s'><purge node='news'/></pubsub>" % NS_PS_OWNER, to=PS)
    assert b.wait_event("news", frm=PS, pred=lambda e: e.find(
        ".//{%s}purge" % NS_PS_EVENT) is not None) is not None
    assert item_ids(b.iq_ok(items("news"), to=PS, type="get")) == []
    a.iq_ok("<pubsub xmlns='%s'><delete node='news'/></pubsub>" % NS_PS_OWNER, to=PS)
    assert b.wait_event("news", frm=PS, pred=lambda e: e.find(
        ".//{%s}delete" % NS_PS_EVENT) is not None) is not None
    assert error_of(b.iq(items("news"), to=PS, type="get")) == ("cancel", "item-not-found", None)
    assert error_of(b.iq("<pubsub xmlns='%s'><unsubscribe node='%s' jid='%s'/></pubsub>"
                         % (NS_PS, instant, B), to=PS)) == \
        ("cancel", "unexpected-request", "not-subscribed")
    # publishing to a missing node auto-creates it for an account of the domain
    a.iq_ok(publish("auto", "<entry xmlns='urn:t'/>", "x"), to=PS)
    assert item_ids(b.iq_ok(items("auto"), to=PS, type="get")) == ["x"]
    # `plucs status` and /metrics count nodes and items (instant node, auto: 2 nodes, 1 item)
    import os
    import subprocess
    import web_clients as W
    out = subprocess.run([os.path.join(H.BUILD, "plucs"), "--registry", plucsd.registry_path,
                          "status"], capture_output=True, text=True, timeout=30).stdout
    assert "pubsub/nodes: %d" % (n0 + 2) in out and "pubsub/items: %d" % (i0 + 1) in out, out
    assert counts() == [n0 + 2, i0 + 1]
    # unknown pubsub operation
    assert error_of(a.iq("<pubsub xmlns='%s'><frob node='x'/></pubsub>" % NS_PS,
                         to=PS))[1] == "feature-not-implemented"


def test_pubsub_off(plucsd_factory):
    p = plucsd_factory(**{"plucs/pubsub": "false"})
    a = CapsIM(p.port, "alice", "pc")
    r = disco(a, "a.test", items_=True)
    assert PS not in [i.get("jid") for i in r.iter("{%s}item" % NS_DISCO_ITEMS)]
    r = disco(a, A)
    ids = [(i.get("category"), i.get("type")) for i in r.iter("{%s}identity" % NS_DISCO_INFO)]
    assert ("pubsub", "pep") not in ids
    feats = {f.get("var") for f in r.iter("{%s}feature" % NS_DISCO_INFO)}
    assert NS_PS not in feats
    assert error_of(a.iq(publish("x", "<x xmlns='urn:t'/>")))[1] == "service-unavailable"
    r = a.iq(items("x"), to=PS, type="get")
    assert r is not None and r.get("type") == "error", ET.tostring(r)


def test_slixmpp_plugins(plucsd, client):
    a = client("alice", daemon=plucsd, resource="slix")
    b = client("bob", daemon=plucsd, resource="slix")
    assert a.login().ok and b.login().ok
    for c in (a, b):
        for p in ("xep_0060", "xep_0163", "xep_0084", "xep_0223"):
            c.x.register_plugin(p)
    from slixmpp.jid import JID
    from slixmpp.xmlstream import ET as SET
    ps = JID(PS)
    a.run(a.x["xep_0060"].create_node(ps, "slixnode"), 10)
    payload = SET.fromstring("<entry xmlns='urn:slix'>hello</entry>")
    a.run(a.x["xep_0060"].publish(ps, "slixnode", id="one", payload=payload), 10)
    r = b.run(b.x["xep_0060"].get_items(ps, "slixnode"), 10)
    got = [i["id"] for i in r["pubsub"]["items"]]
    assert got == ["one"], got
    r = b.run(b.x["xep_0060"].get_item(ps, "slixnode", "one"), 10)
    assert [i["id"] for i in r["pubsub"]["items"]] == ["one"]
    # XEP-0084 avatar on the account's PEP (auto-created by publish)
    a.run(a.x["xep_0084"].publish_avatar(b"\x89PNG fake"), 10)
    r = b.run(b.x["xep_0060"].get_items(JID(A), "urn:xmpp:avatar:data"), 10)
    assert len(r["pubsub"]["items"]) == 1
    # XEP-0223 helper: store private data with publish-options, read it back
    from slixmpp.xmlstream import ElementBase

    class Priv(ElementBase):
        name, namespace, plugin_attrib, interfaces = "query", "urn:slix:private", "slixpriv", set()
    priv = Priv()
    priv.xml.text = "secret"
    a.run(a.x["xep_0223"].store(priv, node="urn:slix:private", id="current"), 10)
    r = a.run(a.x["xep_0223"].retrieve("urn:slix:private", id="current"), 10)
    assert r["pubsub"]["items"]
    from slixmpp.exceptions import IqError
    try:
        b.run(b.x["xep_0060"].get_items(JID(A), "urn:slix:private"), 10)
        raise AssertionError("bob read alice's private XEP-0223 node")
    except IqError as e:
        assert e.condition in ("not-allowed", "forbidden"), e.condition


def test_persist_items_false_and_lowered_max_items(plucsd_factory):
    p = plucsd_factory()
    a = CapsIM(p.port, "alice", "pc")
    a.iq_ok(create("volatile", {"pubsub#persist_items": "false", "pubsub#max_items": "10"}),
            to=PS)
    a.iq_ok(create("kept", {"pubsub#max_items": "10"}), to=PS)
    for i in range(4):
        a.iq_ok(publish("volatile", "<e xmlns='urn:t'>%d</e>" % i, "v%d" % i), to=PS)
        a.iq_ok(publish("kept", "<e xmlns='urn:t'>%d</e>" % i, "k%d" % i), to=PS)
    # a node that does not persist items keeps only the last one, in memory
    assert item_ids(a.iq_ok(items("volatile"), to=PS, type="get")) == ["v3"]
    assert item_ids(a.iq_ok(items("kept"), to=PS, type="get")) == ["k0", "k1", "k2", "k3"]
    # lowering max_items drops the oldest at once
    a.iq_ok("<pubsub xmlns='%s'><configure node='kept'>%s</configure></pubsub>"
            % (NS_PS_OWNER, form({"pubsub#max_items": "2"}, NS_PS + "#node_config")), to=PS)
    assert item_ids(a.iq_ok(items("kept"), to=PS, type="get")) == ["k2", "k3"]
    a.close()
    p.terminate()
    H.plucsd_restart(p)
    a = CapsIM(p.port, "alice", "pc2")
    assert item_ids(a.iq_ok(items("volatile"), to=PS, type="get")) == []
    assert item_ids(a.iq_ok(items("kept"), to=PS, type="get")) == ["k2", "k3"]
    r = a.iq_ok("<pubsub xmlns='%s'><configure node='kept'/></pubsub>" % NS_PS_OWNER, to=PS,
                type="get")
    vals = {f.get("var"): [v.text for v in f.findall("{jabber:x:data}value")]
            for f in r.iter("{jabber:x:data}field")}
    assert vals["pubsub#max_items"] == ["2"]
