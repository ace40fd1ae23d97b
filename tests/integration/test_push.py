"""Push notifications (issue 14 point 5, XEP-0357 urn:xmpp:push:0).

The app server is a stub written here as an ordinary local account (carol)
whose client records the <iq type='set'><pubsub><publish/></pubsub></iq>
pushes the server sends and answers them (result, or an error to test that
the registration is then removed). bob is the phone that registers, alice
writes to him while he is away."""

import copy
import re
import time

import pytest

import plucs_harness as H
import web_clients as W

NS_PUSH = "urn:xmpp:push:0"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_XDATA = "jabber:x:data"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_SM = "urn:xmpp:sm:3"
A, B, C = "alice@a.test", "bob@a.test", "carol@a.test"
NODE = "node-bob-1"


def enable_xml(jid=C, node=NODE, fields=None, form_type=NS_PUBSUB + "#publish-options"):
    attrs = ""
    if jid is not None:
        attrs += " jid='%s'" % jid
    if node is not None:
        attrs += " node='%s'" % node
    form = ""
    if fields is not None:
        form = "<x xmlns='%s' type='submit'>" % NS_XDATA
        form += "<field var='FORM_TYPE'><value>%s</value></field>" % form_type
        for k, v in fields.items():
            form += "<field var='%s'><value>%s</value></field>" % (k, v)
        form += "</x>"
    return "<enable xmlns='%s'%s>%s</enable>" % (NS_PUSH, attrs, form)


def iq_ok(el):
    return el is not None and el.get("type") == "result"


class Push:
    """One push as the app server received it."""

    def __init__(self, el, t):
        self.el, self.t = el, t
        self.frm = el.get("from")
        pub = el.find("{%s}pubsub/{%s}publish" % (NS_PUBSUB, NS_PUBSUB))
        assert pub is not None, "push without <pubsub><publish/>: %s" % H._ET.tostring(el)
        self.node = pub.get("node")
        x = pub.find("{%s}item/{%s}notification/{%s}x" % (NS_PUBSUB, NS_PUSH, NS_XDATA))
        assert x is not None, "push without notification form: %s" % H._ET.tostring(el)
        self.fields = fields_of(x)
        po = el.find("{%s}pubsub/{%s}publish-options/{%s}x" % (NS_PUBSUB, NS_PUBSUB, NS_XDATA))
        self.options = fields_of(po) if po is not None else None

    @property
    def count(self):
        return int(self.fields["message-count"])

    def __repr__(self):
        return "Push(%s, %r, %r)" % (self.node, self.fields, self.options)


def fields_of(x):
    out = {}
    for f in x.findall("{%s}field" % NS_XDATA):
        v = f.find("{%s}value" % NS_XDATA)
        out[f.get("var")] = v.text if v is not None else None
    return out


class AppServer:
    """The push app-server stub: carol's client, available, answering pushes."""

    def __init__(self, im, daemon, answer="result", user="carol"):
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath
        self.c = im(user, daemon=daemon, resource="app")
        assert self.c.login().ok
        self.c.available()
        self.answer = answer
        self.pushes = []
        self.c.x.register_handler(Callback(
            "push stub", MatchXPath("{jabber:client}iq/{%s}pubsub" % NS_PUBSUB), self._on))

    def _on(self, st):
        el = copy.deepcopy(st.xml)
        if el.get("type") != "set":
            return
        self.pushes.append(Push(el, time.monotonic()))
        if self.answer == "result":
            reply = "<iq type='result' id='%s' to='%s'/>" % (el.get("id"), el.get("from"))
        else:
            reply = ("<iq type='error' id='%s' to='%s'><error type='cancel'>"
                     "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                     % (el.get("id"), el.get("from")))
        self.c.x.send_raw(reply)

    def wait(self, n, timeout=5):
        return self.c.wait_for(lambda: len(self.pushes) >= n, timeout)


def register(im, daemon, xml=None):
    """bob logs in, enables push, logs out; returns the answer."""
    b = im("bob", daemon=daemon, resource="phone")
    assert b.login().ok
    r = b.iq_el(None, "set", xml or enable_xml(fields={"secret": "s3cr3t"}))
    b.close()
    return r


def metric(daemon, name):
    _, _, text = W.http_request(daemon.http_port, "GET", "/metrics")
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def disco_features(client, to):
    r = client.iq_el(to, "get", "<query xmlns='%s'/>" % NS_DISCO_INFO)
    assert r is not None and r.get("type") == "result", r
    return {f.get("var") for f in r.iter("{%s}feature" % NS_DISCO_INFO)}


def test_enable_disable_and_limits(plucsd, im):
    app = AppServer(im, plucsd)
    b = im("bob", daemon=plucsd, resource="phone")
    assert b.login().ok
    assert NS_PUSH in disco_features(b, B), "account disco lacks urn:xmpp:push:0"
    assert iq_ok(b.iq_el(None, "set", enable_xml()))
    # bad requests: no jid, no node, a form of another type
    for xml in (enable_xml(jid=None), enable_xml(node=None),
                enable_xml(fields={}, form_type="urn:example:other")):
        r = b.iq_el(None, "set", xml)
        assert r is not None and H.error_condition(r) == "bad-request", (xml, r)
    # at most 5 registrations per account; re-enabling the same one replaces it
    for i in range(2, 6):
        assert iq_ok(b.iq_el(None, "set", enable_xml(node="n%d" % i)))
    assert iq_ok(b.iq_el(None, "set", enable_xml(node="n5")))
    r = b.iq_el(None, "set", enable_xml(node="n6"))
    assert r is not None and H.error_condition(r) == "resource-constraint", r
    # disable one node, then the whole app server
    assert iq_ok(b.iq_el(None, "set", "<disable xmlns='%s' jid='%s' node='n2'/>" % (NS_PUSH, C)))
    assert iq_ok(b.iq_el(None, "set", enable_xml(node="n6")))
    assert iq_ok(b.iq_el(None, "set", "<disable xmlns='%s' jid='%s'/>" % (NS_PUSH, C)))
    b.close()
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    a.send(B, "nobody to wake")
    assert a.ping() == "result"
    app.c.quiet(1.0)
    assert not app.pushes, "push after disable: %r" % app.pushes


def test_offline_push_count_sender_no_body(plucsd, im):
    app = AppServer(im, plucsd)
    assert iq_ok(register(im, plucsd))
    before = metric(plucsd, "plucs_push_notifications_total")
    assert before == 0, before
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    a.send(B, "wake up")
    assert app.wait(1), "no push for a message to offline bob"
    p = app.pushes[0]
    assert H.bare(p.frm) == "a.test", "push not sent from the served domain: %s" % p.frm
    assert p.node == NODE
    assert p.fields.get("FORM_TYPE") == "urn:xmpp:push:summary", p
    assert p.count == 1, p
    assert p.fields.get("last-message-sender") == A, p
    assert "last-message-body" not in p.fields, "body pushed without include-body: %r" % p
    assert p.options is not None and p.options.get("secret") == "s3cr3t", \
        "publish-options not sent back: %r" % p
    assert metric(plucsd, "plucs_push_notifications_total") == 1
    # offline storage still ran
    b = im("bob", daemon=plucsd, resource="phone")
    assert b.login().ok
    b.available()
    assert b.wait_message(body="wake up"), b.all_messages
    b.close()
    # a login resets the count: the next absence starts at 1
    b2 = im("bob", daemon=plucsd, resource="phone2")
    assert b2.login().ok
    b2.close()
    a.send(B, "again")
    assert app.wait(2), "no push for the next absence"
    assert app.pushes[1].count == 1, app.pushes


def test_body_with_include_body(plucsd, im):
    app = AppServer(im, plucsd)
    assert iq_ok(register(im, plucsd, enable_xml(
        fields={"secret": "x", "include-body": "true", "include-sender": "false"})))
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    a.send(B, "the body text")
    assert app.wait(1)
    p = app.pushes[0]
    assert p.fields.get("last-message-body") == "the body text", p
    assert "last-message-sender" not in p.fields, "include-sender=false ignored: %r" % p
    assert p.options.get("include-body") == "true"


def test_blocked_sender_wakes_nobody(plucsd, im):
    app = AppServer(im, plucsd)
    b = im("bob", daemon=plucsd, resource="phone")
    assert b.login().ok
    assert iq_ok(b.iq_el(None, "set", "<block xmlns='urn:xmpp:blocking'><item jid='%s'/></block>"
                         % A))
    assert iq_ok(b.iq_el(None, "set", enable_xml()))
    b.close()
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    a.send(B, "blocked one")
    assert a.ping() == "result"
    app.c.quiet(1.0)
    assert not app.pushes, "a blocked sender woke the phone: %r" % app.pushes
    app.c.send(B, "not blocked")
    assert app.wait(1), "no push for a sender that is not blocked"
    assert app.pushes[0].fields.get("last-message-sender") == C
    assert app.pushes[0].count == 1, "the blocked message was counted: %r" % app.pushes


def test_rate_limit_coalesces_with_trailing_push(plucsd_factory, im):
    d = plucsd_factory(**{"plucs/push/interval": "2"})
    app = AppServer(im, d)
    assert iq_ok(register(im, d))
    a = im("alice", daemon=d, resource="desk")
    assert a.login().ok
    for i in range(3):
        a.send(B, "m%d" % i)
    assert a.ping() == "result"
    assert app.wait(1), "no first push"
    assert app.pushes[0].count == 1, app.pushes
    assert app.wait(2, timeout=6), "no trailing push after the interval: %r" % app.pushes
    assert app.pushes[1].count == 3, "trailing push must carry the total: %r" % app.pushes
    gap = app.pushes[1].t - app.pushes[0].t
    assert gap >= 1.5, "trailing push %.2f s after the first (interval 2 s)" % gap
    app.c.quiet(2.5)
    assert len(app.pushes) == 2, "more pushes than first + trailing: %r" % app.pushes


def test_registration_survives_restart(plucsd, im):
    assert iq_ok(register(im, plucsd))
    plucsd.terminate()
    H.plucsd_restart(plucsd)
    app = AppServer(im, plucsd)
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    a.send(B, "after restart")
    assert app.wait(1), "registration lost across the restart"
    assert app.pushes[0].node == NODE and app.pushes[0].count == 1
    # within plucs/push/interval (10 s): held for a trailing push, which is
    # still pending when the daemon stops at teardown (freed, not leaked)
    a.send(B, "held")
    assert a.ping() == "result"
    app.c.quiet(0.5)
    assert len(app.pushes) == 1, app.pushes


def test_app_server_error_removes_registration(plucsd_factory, im):
    d = plucsd_factory(**{"plucs/push/interval": "0"})
    app = AppServer(im, d, answer="error")
    assert iq_ok(register(im, d))
    start = d.log_size()
    a = im("alice", daemon=d, resource="desk")
    assert a.login().ok
    a.send(B, "first")
    assert app.wait(1)
    assert d.wait_log(r"push: app server carol@a.test answered item-not-found .*"
                      r"registration removed", start=start), "no log line for the removal"
    a.send(B, "second")
    assert a.ping() == "result"
    app.c.quiet(1.5)
    assert len(app.pushes) == 1, "push after the app server refused: %r" % app.pushes


FED_A, FED_B = "127.0.23.1", "127.0.23.2"


def fed_registry(domain, own_ip, other, other_ip):
    return {
        "plucs/domains": domain,
        "plucs/s2s": "true",
        "plucs/s2s/tls": "false",
        "plucs/s2s/address": own_ip,
        "plucs/s2s/port": "5269",
        "plucs/s2s/route/" + other: "%s:5269" % other_ip,
        "plucs/s2s/timeout": "10",
        "plucs/push/interval": "0",
    }


def test_remote_app_server(plucsd_factory, im):
    """The app server on another domain (dave@b.test/app on a second plucsd,
    federation in plain text): pushes go out through s2s, and its error
    answer comes back and removes the registration."""
    da = plucsd_factory(**fed_registry("a.test", FED_A, "b.test", FED_B))
    db = plucsd_factory(**fed_registry("b.test", FED_B, "a.test", FED_A))
    app = AppServer(im, db, user="dave")
    remote = "dave@b.test/app"
    assert iq_ok(register(im, da, enable_xml(jid=remote, fields={"secret": "r"})))
    a = im("alice", daemon=da, resource="desk")
    assert a.login().ok
    a.send(B, "over federation")
    assert app.wait(1, timeout=15), "no push reached the remote app server"
    p = app.pushes[0]
    assert p.frm == "a.test" and p.count == 1 and p.options.get("secret") == "r", p
    app.answer = "error"
    start = da.log_size()
    a.send(B, "refused")
    assert app.wait(2, timeout=10)
    assert da.wait_log(r"push: app server dave@b\.test/app answered item-not-found .*"
                       r"registration removed", start=start), "remote error not handled"
    a.send(B, "no more")
    assert a.ping() == "result"
    app.c.quiet(1.5)
    assert len(app.pushes) == 2, "push after the remote app server refused: %r" % app.pushes


def test_push_off(plucsd_factory, im):
    d = plucsd_factory(**{"plucs/push": "false"})
    app = AppServer(im, d)
    b = im("bob", daemon=d, resource="phone")
    assert b.login().ok
    assert NS_PUSH not in disco_features(b, B)
    r = b.iq_el(None, "set", enable_xml())
    assert r is not None and H.error_condition(r) == "service-unavailable", r
    b.close()
    a = im("alice", daemon=d, resource="desk")
    assert a.login().ok
    a.send(B, "no push please")
    assert a.ping() == "result"
    app.c.quiet(1.0)
    assert not app.pushes
    assert metric(d, "plucs_push_notifications_total") == 0


def test_detached_session_triggers_push(plucsd, im):
    """XEP-0198: bob's only session loses its TCP connection and waits for
    resumption; a message for him then wakes the phone. Runs once the server
    offers stream management (urn:xmpp:sm:3)."""
    r, cond = H.raw_auth(plucsd.port, B, H.password("bob"))
    assert cond == "success"
    feats = r.open_stream()
    assert feats is not None
    if NS_SM not in feats:
        r.close()
        pytest.skip("the server does not offer urn:xmpp:sm:3 yet")
    app = AppServer(im, plucsd)
    r.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
           "<resource>phone</resource></bind></iq>")
    assert r.read_until(rb"<iq[^>]*id=['\"]bind1['\"]")
    r.send("<enable xmlns='%s' resume='true'/>" % NS_SM)
    assert r.read_until(rb"<enabled[^>]*>"), "SM not enabled"
    r.send("<iq type='set' id='push1'>%s</iq>" % enable_xml())
    m = r.read_until(rb"<iq[^>]*id=['\"]push1['\"][^>]*>")
    assert m and b"result" in m.group(0), m and m.group(0)
    r.send("<presence/>")
    r.send("<iq type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert r.read_until(rb"<iq[^>]*id=['\"]ping1['\"]")
    H.rst_close(r)
    a = im("alice", daemon=plucsd, resource="desk")
    assert a.login().ok
    # the server notices the lost connection on its own time: a few tries
    for i in range(10):
        a.send(B, "are you there %d" % i)
        if app.wait(1, timeout=0.5):
            break
    assert app.pushes, "no push while bob's only session was detached"
    assert app.pushes[0].fields.get("last-message-sender") == A
