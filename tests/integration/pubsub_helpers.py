"""Helpers of test_pep.py and test_pubsub.py: a raw-protocol client that
announces entity capabilities (XEP-0115) and answers the server's disco#info
query for them, and builders for PubSub (XEP-0060) requests."""

import base64
import hashlib
import xml.etree.ElementTree as ET

import plucs_harness as H
from xmpp_raw import RawIM, NS_CLIENT

NS_PS = "http://jabber.org/protocol/pubsub"
NS_PS_OWNER = NS_PS + "#owner"
NS_PS_EVENT = NS_PS + "#event"
NS_PS_ERRORS = NS_PS + "#errors"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_X = "jabber:x:data"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
CAPS_NODE = "https://plucs.test/client"


def caps_ver(features):
    """XEP-0115 §5.1 verification string (identity client/pc, no forms)."""
    s = "client/pc//plucs-test<" + "".join(f + "<" for f in sorted(features))
    return base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


class CapsIM(RawIM):
    """A RawIM whose available presence carries caps for `features` and
    which answers the server's disco#info query for them (counted in
    self.disco_asked)."""

    def __init__(self, port, user, resource, features=(), presence=True, domain="a.test"):
        if domain == "a.test":
            super().__init__(port, user, resource, presence=False)
        else:
            self._init_domain(port, user, resource, domain)
        self.features = [NS_DISCO_INFO] + list(features)
        self.ver = caps_ver(self.features)
        self.disco_asked = 0
        if presence:
            self.available()

    def _init_domain(self, port, user, resource, domain):
        self.r = H.raw_login(port, H.jid(user), H.password(user), domain=domain,
                             resource=resource)
        self.full = "%s/%s" % (H.jid(user), resource)
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.parser.feed("<root xmlns='%s' xmlns:stream='http://etherx.jabber.org/streams'>"
                         % NS_CLIENT)
        self.depth = 0
        self.got = []
        self.n = 0

    def available(self):
        self.send("<presence id='p0'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                  "node='%s' ver='%s'/></presence>" % (CAPS_NODE, self.ver))
        assert self.has(lambda e: e.tag == "{%s}presence" % NS_CLIENT
                        and e.get("from") == self.full), "%s: no presence echo" % self.full

    def pump(self, timeout=0.05):
        before = len(self.got)
        super().pump(timeout)
        for el in self.got[before:]:
            q = el.find("{%s}query" % NS_DISCO_INFO)
            if el.tag == "{%s}iq" % NS_CLIENT and el.get("type") == "get" and q is not None:
                self.disco_asked += 1
                feats = "".join("<feature var='%s'/>" % f for f in self.features)
                self.send("<iq type='result' id='%s' to='%s'><query xmlns='%s' node='%s'>"
                          "<identity category='client' type='pc' name='plucs-test'/>%s"
                          "</query></iq>" % (el.get("id"), el.get("from"), NS_DISCO_INFO,
                                             q.get("node"), feats))

    def iq_ok(self, payload, to=None, type="set"):
        r = self.iq(payload, to=to, type=type, timeout=10)
        assert r is not None, "%s: no answer to %s" % (self.full, payload[:200])
        assert r.get("type") == "result", "%s: %s -> %s" % (self.full, payload[:200],
                                                            ET.tostring(r)[:600])
        return r

    def events(self, node=None, frm=None):
        out = []
        for m in self.messages():
            ev = m.find("{%s}event" % NS_PS_EVENT)
            if ev is None or (frm and m.get("from") != frm):
                continue
            if node is not None:
                ch = list(ev)
                if not ch or ch[0].get("node") != node:
                    continue
            out.append(m)
        return out

    def wait_event(self, node, frm=None, timeout=5, pred=None):
        return self.wait(lambda e: e.tag == "{%s}message" % NS_CLIENT
                         and e.find("{%s}event" % NS_PS_EVENT) is not None
                         and (frm is None or e.get("from") == frm)
                         and any(c.get("node") == node for c in e.find("{%s}event" % NS_PS_EVENT))
                         and (pred is None or pred(e)), timeout)


def form(fields, form_type):
    x = "<x xmlns='%s' type='submit'><field var='FORM_TYPE' type='hidden'><value>%s</value>" \
        "</field>" % (NS_X, form_type)
    for k, v in fields.items():
        vals = v if isinstance(v, (list, tuple)) else [v]
        x += "<field var='%s'>%s</field>" % (k, "".join("<value>%s</value>" % i for i in vals))
    return x + "</x>"


def publish(node, payload, item_id=None, options=None):
    po = ""
    if options:
        po = "<publish-options>%s</publish-options>" % form(options, NS_PS + "#publish-options")
    return "<pubsub xmlns='%s'><publish node='%s'><item%s>%s</item></publish>%s</pubsub>" % (
        NS_PS, node, " id='%s'" % item_id if item_id else "", payload, po)


def items(node, max_items=None, ids=()):
    inner = "".join("<item id='%s'/>" % i for i in ids)
    return "<pubsub xmlns='%s'><items node='%s'%s>%s</items></pubsub>" % (
        NS_PS, node, " max_items='%d'" % max_items if max_items else "", inner)


def create(node, config=None):
    conf = ""
    if config is not None:
        conf = "<configure>%s</configure>" % form(config, NS_PS + "#node_config")
    return "<pubsub xmlns='%s'><create node='%s'/>%s</pubsub>" % (NS_PS, node, conf)


def error_of(r):
    """(type, condition, pubsub#errors condition or None) of an error answer."""
    assert r is not None, "no answer"
    assert r.get("type") == "error", ET.tostring(r)
    e = r.find("{%s}error" % NS_CLIENT)
    cond = [c.tag.split("}")[1] for c in e if c.tag.startswith("{%s}" % NS_STANZAS)
            and not c.tag.endswith("}text")]
    ps = [c.tag.split("}")[1] for c in e if c.tag.startswith("{%s}" % NS_PS_ERRORS)]
    return e.get("type"), cond[0] if cond else None, ps[0] if ps else None


def item_ids(r):
    its = r.find("{%s}pubsub/{%s}items" % (NS_PS, NS_PS))
    return [i.get("id") for i in its.findall("{%s}item" % NS_PS)]
