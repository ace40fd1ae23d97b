"""SASL2 (XEP-0388) and Bind 2 (XEP-0386) on client streams (issue 15
point 5): the features of TLS streams, PLAIN through SASL2 checked by the
directory's bind, the challenge/response form, failures in the SASL2
namespace, Bind 2 with a tag and inline carbons / stream management, and
legacy SASL (raw and slixmpp) unchanged."""

import re

import plucs_harness as H
import sasl2_client as S


def test_features_only_on_tls_streams(plucsd):
    r = H.RawClient(plucsd.port)
    try:
        feats = r.open_stream()
        assert "urn:xmpp:sasl:2" not in feats, feats        # no SASL2 before TLS
    finally:
        r.close()
    c = S.Sasl2Client(plucsd.port)
    try:
        f = c.features.replace('"', "'")
        assert "<authentication xmlns='urn:xmpp:sasl:2'>" in f, f
        assert c.mechanisms()[:1] == ["PLAIN"], f
        assert "<bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:carbons:2'/>" in f
        assert "<feature var='urn:xmpp:sm:3'/>" in f
        fm = c.fast_mechanisms()
        assert "HT-SHA-256-ENDP" in fm and "HT-SHA-256-NONE" in fm, fm
        assert "HT-SHA-256-EXPR" in fm and "HT-SHA-256-UNIQ" not in fm, fm   # TLS 1.3
        assert "<channel-binding type='tls-server-end-point'/>" in f
        assert "<channel-binding type='tls-exporter'/>" in f
        # legacy SASL still offered next to it
        assert "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" in f
    finally:
        c.close()


def test_tls12_offers_tls_unique(plucsd):
    c = S.Sasl2Client(plucsd.port, tls="tls12")
    try:
        fm = c.fast_mechanisms()
        assert "HT-SHA-256-UNIQ" in fm and "HT-SHA-256-EXPR" not in fm, fm
        assert "tls-unique" in c.features
    finally:
        c.close()


def test_plain_with_bind2_tag_carbons_sm(plucsd):
    c = S.Sasl2Client(plucsd.port)
    try:
        start = plucsd.log_size()
        ans = c.plain("alice", "alice-secret",
                      bind="<tag>Phone</tag><enable xmlns='%s'/><enable xmlns='%s' resume='true'/>"
                      % (S.NS_CARBONS, S.NS_SM))
        assert S.outcome(ans) == "success", ans
        m = re.search(r"<authorization-identifier>alice@a\.test/Phone\.([0-9a-f]{8})"
                      r"</authorization-identifier>", ans)
        assert m, ans
        assert "<bound xmlns='urn:xmpp:bind:0'>" in ans.replace('"', "'"), ans
        assert re.search(r"<enabled xmlns=.urn:xmpp:sm:3. id='[^']+' resume='true'", ans), ans
        # no stream restart: the session works at once
        c.send("<iq xmlns='jabber:client' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
        assert c.read_until(rb"<iq[^>]*id=.p1.[^>]*type=.result.|<iq[^>]*type=.result.[^>]*id=.p1.")
        c.send("<r xmlns='urn:xmpp:sm:3'/>")
        assert c.read_until(rb"<a xmlns=.urn:xmpp:sm:3. h=.1./>"), "SM not enabled"
        assert plucsd.wait_log(r"alice@a\.test authenticated from .* \(SASL2\)", 5, start)
        assert plucsd.wait_log(r"carbons: alice@a\.test/Phone\.[0-9a-f]{8} enabled \(Bind 2\)", 5,
                               start)
    finally:
        c.close()


def test_plain_challenge_then_legacy_bind(plucsd):
    import base64
    c = S.Sasl2Client(plucsd.port)
    try:
        assert S.outcome(c.authenticate("PLAIN", None)) == "challenge"
        val = base64.b64encode(b"\0bob\0bob-secret").decode()
        c.send("<response xmlns='%s'>%s</response>" % (S.NS_SASL2, val))
        m = c.read_until(S.ANSWER)
        ans = m.group(0).decode()
        assert S.outcome(ans) == "success", ans
        assert "<authorization-identifier>bob@a.test</authorization-identifier>" in ans
        # features follow without a restart; RFC 6120 binding works
        assert c.read_until(rb"<stream:features>.*?urn:ietf:params:xml:ns:xmpp-bind.*?"
                            rb"</stream:features>")
        c.send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='%s'>"
               "<resource>desk</resource></bind></iq>" % "urn:ietf:params:xml:ns:xmpp-bind")
        assert c.read_until(rb"<jid>bob@a\.test/desk</jid>")
    finally:
        c.close()


def test_failures(plucsd):
    c = S.Sasl2Client(plucsd.port)
    try:
        start = plucsd.log_size()
        ans = c.plain("alice", "wrong")
        assert S.outcome(ans) == "not-authorized", ans
        assert "<failure xmlns='urn:xmpp:sasl:2'><not-authorized " \
               "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" in ans.replace('"', "'")
        assert plucsd.wait_log(r"authentication of alice@a\.test .* failed: not-authorized", 5,
                               start)
        assert S.outcome(c.authenticate("SCRAM-SHA-1", "biws")) == "invalid-mechanism"
        assert S.outcome(c.authenticate("", "x")) == "malformed-request"
        # a retry on the same stream works
        assert S.outcome(c.plain("alice", "alice-secret")) == "success"
    finally:
        c.close()


def test_unknown_user_and_authzid(plucsd):
    c = S.Sasl2Client(plucsd.port)
    try:
        assert S.outcome(c.plain("erin", "erin-secret")) == "not-authorized"   # disabled
        assert S.outcome(c.plain("nobody", "x")) == "not-authorized"
    finally:
        c.close()


def test_legacy_sasl_unchanged(plucsd):
    r = H.RawClient(plucsd.port)
    try:
        r.open_stream()
        r.starttls()
        r.open_stream()
        assert H.sasl_condition(r.auth_plain("alice", "alice-secret")) == "success"
    finally:
        r.close()
    res = H.try_login(plucsd.port, "carol@a.test", "carol-secret")
    assert res.ok, res


def test_websocket_sasl2_and_fast_none(plucsd_factory):
    """WebSocket (TLS is Apache's there): SASL2 + Bind 2, and FAST with
    HT-SHA-256-NONE only (no channel binding of ours to offer); BOSH keeps
    legacy SASL."""
    import base64
    import hashlib
    import hmac
    import web_clients as W
    p = plucsd_factory(**{"plucs/http/websocket": "true", "plucs/http/bind": "true",
                          "plucs/http/address": "127.0.0.1"})
    ws = W.WebSocket(p.http_port)
    try:
        _, f = ws.open()
        f = (f or "").replace('"', "'")
        assert "<authentication xmlns='urn:xmpp:sasl:2'>" in f, f
        assert "<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism></fast>" in f, f
        assert "sasl-channel-binding" not in f
        val = base64.b64encode(b"\0alice\0alice-secret").decode()
        ws.send("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>%s"
                "</initial-response><user-agent id='ws-agent'/><bind xmlns='urn:xmpp:bind:0'>"
                "<tag>web</tag></bind><request-token xmlns='urn:xmpp:fast:0' "
                "mechanism='HT-SHA-256-NONE'/></authenticate>" % val)
        r = ws.recv_until("</success>|</failure>")
        assert r and "<authorization-identifier>alice@a.test/web." in r, r
        tok = re.search(r"token='([^']+)'", r.replace('"', "'")).group(1)
    finally:
        ws.close()
    ws = W.WebSocket(p.http_port)
    try:
        ws.open()
        mac = hmac.new(tok.encode(), b"Initiator", hashlib.sha256).digest()
        val = base64.b64encode(b"alice\0" + mac).decode()
        ws.send("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='HT-SHA-256-NONE'>"
                "<initial-response>%s</initial-response><user-agent id='ws-agent'/>"
                "<fast xmlns='urn:xmpp:fast:0'/></authenticate>" % val)
        r = ws.recv_until("</success>|</failure>")
        assert r and "<success" in r and "<authorization-identifier>alice@a.test<" in r, r
    finally:
        ws.close()
    b = W.Bosh(p.http_port)
    try:
        _, feats = b.create()
        assert "PLAIN" in feats, feats
        assert "urn:xmpp:sasl:2" not in feats, feats
    finally:
        b.close()


def test_hostile_input(plucsd):
    """Malformed SASL2 input gets malformed-request (logged), and the
    connection's failure limit applies to SASL2 as to legacy SASL."""
    c = S.Sasl2Client(plucsd.port)
    try:
        start = plucsd.log_size()
        assert S.outcome(c.authenticate("PLAIN", "!!notbase64")) == "malformed-request"
        assert S.outcome(c.authenticate("HT-SHA-256-NONE", "QUJD",
                                        extra="<fast xmlns='urn:xmpp:fast:0'/>")) == \
            "malformed-request"                       # no NUL + 32-byte HMAC
        assert S.outcome(c.authenticate("HT-SHA-256-NONE", None)) == "malformed-request"
        c.send("<response xmlns='urn:xmpp:sasl:2'>AAAA</response>")   # nothing asked
        assert S.outcome(c.read_until(S.ANSWER).group(0).decode()) == "malformed-request"
        assert plucsd.wait_log(r"malformed HT-SHA-256-NONE message", 5, start)
        ans = c.authenticate("PLAIN", "AGFsaWNlAHdyb25n")              # 5th failure
        assert ans is not None
        data = (ans + c.read_all(5).decode("utf-8", "replace"))
        assert "policy-violation" in data, data
        assert c.wait_closed(5)
    finally:
        c.close()
