"""Foundation: authentication against the directory and stream negotiation
(RFC 6120 sections 4-6, directory.md "Accounts" and "Hosted domains")."""

import pytest

import plucs_harness as H


def test_login_ok_over_starttls(plucsd, client):
    c = client("alice", daemon=plucsd, tls="required")
    r = c.login()
    assert r.ok, r
    assert c.jid.startswith("alice@a.test/")


def test_login_other_domain_user(plucsd, client):
    r = client("dave", daemon=plucsd).login()
    assert r.ok, r


def test_login_uid_with_filter_metacharacters(plucsd):
    # uid "paren(s)*" exists: its escaped filter must match exactly it.
    r, cond = H.raw_auth(plucsd.port, "paren(s)*", H.password("paren(s)*"))
    r.close()
    assert cond == "success"


@pytest.mark.parametrize("user,pw", [
    ("alice", "wrong-password"),
    ("alice", "bob-secret"),
    ("nosuchuser", "whatever"),
])
def test_bad_credentials_not_authorized(plucsd, client, user, pw):
    j = user + "@a.test"
    r = client(j, pw, daemon=plucsd).login()
    assert not r.ok
    assert (r.kind, r.condition) == ("sasl", "not-authorized"), r


def test_empty_password_not_authorized(plucsd):
    r, cond = H.raw_auth(plucsd.port, "alice", "")
    r.close()
    # RFC 4616's grammar has passwd = 1*SAFE, so malformed-request is an
    # acceptable answer too; what matters is the refusal.
    assert cond in ("not-authorized", "malformed-request"), cond


def test_disabled_user_not_authorized(plucsd, client):
    r = client("erin", daemon=plucsd).login()
    assert (r.kind, r.condition) == ("sasl", "not-authorized"), r


def test_user_of_other_domain_not_authorized(plucsd, client):
    # dave's xmppDomain is b.test
    r = client("dave@a.test", H.password("dave"), daemon=plucsd).login()
    assert (r.kind, r.condition) == ("sasl", "not-authorized"), r
    r = client("alice@b.test", H.password("alice"), daemon=plucsd).login()
    assert (r.kind, r.condition) == ("sasl", "not-authorized"), r


def test_user_without_domain_or_class_not_authorized(plucsd):
    for user, pw in (("nodomain", "nodomain-secret"), ("plainuser", "plain-secret")):
        r, cond = H.raw_auth(plucsd.port, user, pw)
        r.close()
        assert cond == "not-authorized", user


@pytest.mark.parametrize("user", ["*", "alice)(uid=*", "a*", "alice)(|(uid=*", "*)(xmppEnabled=*"])
def test_filter_injection_not_authorized(plucsd, user):
    # alice's password: an injected filter that matched alice would succeed.
    r, cond = H.raw_auth(plucsd.port, user, H.password("alice"))
    r.close()
    assert cond == "not-authorized", (user, cond)


def test_server_keeps_working_after_failures(plucsd, client):
    for _ in range(3):
        r, cond = H.raw_auth(plucsd.port, "alice", "nope")
        r.close()
        assert cond == "not-authorized"
    assert client("alice", daemon=plucsd).login().ok


def _stream_error_for(plucsd, raw, header):
    r = raw(plucsd.port)
    r.send(header)
    data = r.read_all(timeout=5)
    return H.stream_error_condition(data), data


def test_unknown_domain_host_unknown(plucsd, raw):
    cond, data = _stream_error_for(plucsd, raw, H.stream_header(to="unknown.test"))
    assert cond == "host-unknown", data
    assert b"</stream:stream>" in data


def test_wrong_stream_namespace_invalid_namespace(plucsd, raw):
    cond, data = _stream_error_for(plucsd, raw,
                                   H.stream_header(stream_ns="http://example.com/not-streams"))
    assert cond == "invalid-namespace", data


def test_unsupported_version(plucsd, raw):
    cond, data = _stream_error_for(plucsd, raw, H.stream_header(version="2.0"))
    assert cond == "unsupported-version", data


def test_stream_header_and_features(plucsd, raw):
    r = raw(plucsd.port)
    feats = r.open_stream()
    assert feats is not None
    assert H.NS_TLS in feats, feats          # plucs/tls defaults to true
    assert _starttls_required(feats) is False, feats


def _starttls_required(feats):
    """None when no <starttls/> offered, else whether it has <required/>."""
    i = feats.find("<starttls")
    if i < 0:
        return None
    part = feats[i:]
    head = part[:part.index(">") + 1]
    if head.endswith("/>"):
        return False
    return "<required" in part[:part.find("</starttls>")]


def test_tls_required(plucsd_factory, raw):
    d = plucsd_factory(**{"plucs/tls": "required"})
    r = raw(d.port)
    feats = r.open_stream()
    assert feats is not None
    assert _starttls_required(feats) is True, feats
    # A client that tries SASL without TLS is refused.
    ans = r.auth_plain("alice", H.password("alice"))
    cond = H.sasl_condition(ans)
    assert cond is not None and cond != "success", ans
    assert cond == "encryption-required" or cond.startswith("stream:"), ans
    # With STARTTLS the same login works.
    r2, cond = H.raw_auth(d.port, "alice", H.password("alice"))
    r2.close()
    assert cond == "success"


def test_tls_required_slixmpp_plain_refused(plucsd_factory, client):
    d = plucsd_factory(**{"plucs/tls": "required"})
    r = client("alice", daemon=d, tls="off").login()
    assert not r.ok, r


def test_tls_false_plain_login(plucsd_factory, client, raw):
    d = plucsd_factory(**{"plucs/tls": "false"})
    r = raw(d.port)
    feats = r.open_stream()
    assert feats is not None
    assert H.NS_TLS not in feats, feats
    assert "PLAIN" in feats
    res = client("alice", daemon=d, tls="off").login()
    assert res.ok, res
