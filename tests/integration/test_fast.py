"""FAST tokens (XEP-0484) on SASL2 (issue 15 point 5): a password login
asks for a token, later logins use HT-SHA-256-* with channel binding and
cost no LDAP bind (proved with slapd stopped); rotation, invalidation,
expiry, revocation after a password change or xmppEnabled=FALSE in the
directory, channel-binding mismatch and wrong tokens (throttled) refused,
counters in `plucs status` and /metrics.

Each test adds its own accounts before plucsd starts (the slapd is shared
by the session) and deletes them at the end."""

import base64
import os
import re
import sqlite3
import subprocess
import time

import pytest

import plucs_harness as H
import sasl2_client as S

PLUCS = os.path.join(H.BUILD, "plucs")
REQ = "<request-token xmlns='%s' mechanism='%%s'/>" % S.NS_FAST


@pytest.fixture
def users(ldap):
    made = []

    def make(uid, pw, n):
        made.append(S.add_user(ldap, uid, pw, n))
        return uid

    yield make
    for dn in made:
        try:
            ldap.delete(dn)
        except RuntimeError:
            pass


def get_token(p, user, pw, mech="HT-SHA-256-ENDP", agent="agent-1", tls="auto"):
    c = S.Sasl2Client(p.port, tls=tls)
    try:
        ans = c.plain(user, pw, agent=agent, extra=REQ % mech)
        assert S.outcome(ans) == "success", ans
        tok, expiry = S.token_of(ans)
        assert tok, ans
        return tok, expiry
    finally:
        c.close()


def fast_login(p, user, tok, mech="HT-SHA-256-ENDP", agent="agent-1", extra=None, tls="auto",
               cb=None, bind=None):
    c = S.Sasl2Client(p.port, tls=tls)
    try:
        kw = {"agent": agent, "bind": bind}
        if extra is not None:
            kw["extra"] = extra
        ans = c.ht(mech, user, tok, cb=cb, **kw)
        if S.outcome(ans) == "success":
            m = re.search(r"<additional-data>([^<]+)</additional-data>", ans)
            assert m and m.group(1) == c.last_expected_responder, ans   # mutual auth
        return ans
    finally:
        c.close()


def test_issue_reuse_and_no_ldap(plucsd_factory, users, ldap_outage):
    users("fasta", "fasta-secret", 3101)
    p = plucsd_factory()
    tok, expiry = get_token(p, "fasta", "fasta-secret")
    days = (time.mktime(time.strptime(expiry, "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime()))
    assert 13.9 * 86400 < days < 14.1 * 86400, expiry          # plucs/fast/days default 14
    assert S.outcome(fast_login(p, "fasta", tok)) == "success"
    ans = fast_login(p, "fasta@a.test", tok, bind="<tag>Laptop</tag>")
    assert S.outcome(ans) == "success", ans
    assert "<authorization-identifier>fasta@a.test/Laptop." in ans, ans
    # the token is stored hashed: neither it nor its base64 appears in the database
    db = open(os.path.join(p.dir, "plucs.db"), "rb").read() + \
        (open(os.path.join(p.dir, "plucs.db-wal"), "rb").read()
         if os.path.exists(os.path.join(p.dir, "plucs.db-wal")) else b"")
    assert tok.encode() not in db and base64.b64decode(tok) not in db
    # no LDAP: with slapd stopped a FAST login still works, a password one cannot
    ldap_outage.stop()
    start = p.log_size()
    assert S.outcome(fast_login(p, "fasta", tok)) == "success"
    c = S.Sasl2Client(p.port)
    try:
        # the answer may take the directory's auth deadline (10 s, a held
        # login: test_directory.py): wait well beyond it
        assert S.outcome(c.plain("fasta", "fasta-secret", timeout=30)) == "temporary-auth-failure"
    finally:
        c.close()
    assert p.wait_log(r"fasta@a\.test authenticated from .* \(SASL2, FAST token\)", 5, start)
    ldap_outage.start()
    out = subprocess.run([PLUCS, "--registry", p.registry_path, "status"], capture_output=True,
                         text=True, timeout=30).stdout
    assert re.search(r"^fast/logins: 3$", out, re.M), out
    assert re.search(r"^fast/tokens_issued: 1$", out, re.M), out
    import web_clients as W
    _, _, text = W.http_request(p.http_port, "GET", "/metrics")
    text = text.decode() if isinstance(text, bytes) else text
    assert 'plucs_fast_logins_total{result="success"} 3' in text, text
    assert "plucs_fast_tokens_issued_total 1" in text


def test_mechanisms_and_channel_binding(plucsd_factory, users):
    users("fastb", "fastb-secret", 3102)
    p = plucsd_factory()
    tok, _ = get_token(p, "fastb", "fastb-secret")
    # the token works with every mechanism the connection can compute
    assert S.outcome(fast_login(p, "fastb", tok, mech="HT-SHA-256-NONE")) == "success"
    assert S.outcome(fast_login(p, "fastb", tok, mech="HT-SHA-256-UNIQ", tls="tls12")) == "success"
    try:
        import OpenSSL  # noqa: F401  (python3-openssl: tls-exporter)
        assert S.outcome(fast_login(p, "fastb", tok, mech="HT-SHA-256-EXPR",
                                    tls="pyopenssl")) == "success"
        assert S.outcome(fast_login(p, "fastb", tok, mech="HT-SHA-256-ENDP",
                                    tls="pyopenssl")) == "success"
    except ImportError:
        pass
    # channel-binding mismatch: wrong data for ENDP, tls-unique not on TLS 1.3
    start = p.log_size()
    assert S.outcome(fast_login(p, "fastb", tok, cb=b"\0" * 32)) == "not-authorized"
    assert S.outcome(fast_login(p, "fastb", tok, mech="HT-SHA-256-EXPR", cb=b"\1" * 32)) == \
        "not-authorized"
    c = S.Sasl2Client(p.port)   # TLS 1.3: UNIQ is not offered
    try:
        assert S.outcome(c.ht("HT-SHA-256-UNIQ", "fastb", tok, cb=b"")) == "invalid-mechanism"
    finally:
        c.close()
    assert p.wait_log(r"fast: token login of fastb@a\.test .* refused: no valid token", 5, start)
    # bound to the user agent
    assert S.outcome(fast_login(p, "fastb", tok, agent="other-agent")) == "not-authorized"
    # without a user agent: malformed
    assert S.outcome(fast_login(p, "fastb", tok, agent=None)) == "malformed-request"


def test_rotation_and_invalidate(plucsd_factory, users):
    users("fastc", "fastc-secret", 3103)
    p = plucsd_factory()
    t1, _ = get_token(p, "fastc", "fastc-secret")
    # a FAST login asking for a new token gets one; the old one stays valid
    ans = fast_login(p, "fastc", t1, extra="<fast xmlns='%s'/>" % S.NS_FAST + REQ % "HT-SHA-256-ENDP")
    assert S.outcome(ans) == "success", ans
    t2, _ = S.token_of(ans)
    assert t2 and t2 != t1
    assert S.outcome(fast_login(p, "fastc", t1)) == "success"
    # using the new one retires the old one
    assert S.outcome(fast_login(p, "fastc", t2)) == "success"
    assert S.outcome(fast_login(p, "fastc", t1)) == "not-authorized"
    # count must grow (replay protection)
    f = "<fast xmlns='%s' count='%%d'/>" % S.NS_FAST
    assert S.outcome(fast_login(p, "fastc", t2, extra=f % 5)) == "success"
    assert S.outcome(fast_login(p, "fastc", t2, extra=f % 5)) == "not-authorized"
    assert S.outcome(fast_login(p, "fastc", t2, extra=f % 6)) == "success"
    # invalidate='true': this login works, the token is gone afterwards
    inv = "<fast xmlns='%s' invalidate='true'/>" % S.NS_FAST
    assert S.outcome(fast_login(p, "fastc", t2, extra=inv)) == "success"
    assert S.outcome(fast_login(p, "fastc", t2)) == "not-authorized"


def test_expiry(plucsd_factory, users):
    users("fastd", "fastd-secret", 3104)
    p = plucsd_factory()
    tok, _ = get_token(p, "fastd", "fastd-secret")
    assert S.outcome(fast_login(p, "fastd", tok)) == "success"
    db = sqlite3.connect(os.path.join(p.dir, "plucs.db"), timeout=10)
    with db:
        n = db.execute("UPDATE fast_tokens SET expiry = strftime('%s','now') - 1 "
                       "WHERE user = 'fastd@a.test'").rowcount
    db.close()
    assert n == 1
    assert S.outcome(fast_login(p, "fastd", tok)) == "not-authorized"


def test_fast_days_zero_offers_no_fast(plucsd_factory, users):
    users("faste", "faste-secret", 3105)
    p = plucsd_factory(**{"plucs/fast/days": "0"})
    c = S.Sasl2Client(p.port)
    try:
        assert c.fast_mechanisms() == [] and "urn:xmpp:fast:0" not in c.features
        ans = c.plain("faste", "faste-secret", extra=REQ % "HT-SHA-256-ENDP")
        assert S.outcome(ans) == "success" and "<token" not in ans, ans
    finally:
        c.close()


def test_revoked_on_password_change_and_disable(plucsd_factory, users, ldap):
    users("fastf", "fastf-secret", 3106)
    users("fastg", "fastg-secret", 3107)
    p = plucsd_factory()
    tf, _ = get_token(p, "fastf", "fastf-secret")
    tg, _ = get_token(p, "fastg", "fastg-secret")
    assert S.outcome(fast_login(p, "fastf", tf)) == "success"
    start = p.log_size()
    ldap.replace(ldap.user_dn("fastf"), "userPassword", "fastf-new")
    assert p.wait_log(r"fast: fastf@a\.test: password changed in the directory; its FAST tokens "
                      r"are revoked", 10, start), p.log()[-3000:]
    assert S.outcome(fast_login(p, "fastf", tf)) == "not-authorized"
    c = S.Sasl2Client(p.port)
    try:
        assert S.outcome(c.plain("fastf", "fastf-new")) == "success"
    finally:
        c.close()
    start = p.log_size()
    ldap.replace(ldap.user_dn("fastg"), "xmppEnabled", "FALSE")
    assert p.wait_log(r"fast: fastg@a\.test: disabled or removed in the directory", 10, start)
    assert S.outcome(fast_login(p, "fastg", tg)) == "not-authorized"
    # enabled again: the revoked token stays revoked
    ldap.replace(ldap.user_dn("fastg"), "xmppEnabled", "TRUE")
    assert p.wait_log(r"directory: snapshot \d+: ", 10, p.log_size())
    assert S.outcome(fast_login(p, "fastg", tg)) == "not-authorized"


def test_wrong_tokens_are_throttled(plucsd_factory, users):
    users("fasth", "fasth-secret", 3108)
    p = plucsd_factory()
    tok, _ = get_token(p, "fasth", "fasth-secret")
    start = p.log_size()
    answers = []
    t0 = time.monotonic()
    for i in range(7):
        answers.append(S.outcome(fast_login(p, "fasth", "wrong-token-%d" % i)))
    assert all(a == "not-authorized" for a in answers), answers
    assert p.wait_log(r"auth: 127\.0\.0\.1: \d+ failed authentications from this address; "
                      r"answers delayed", 5, start), p.log()[-3000:]
    assert time.monotonic() - t0 >= 1.0          # the later attempts were delayed
    # the right token from this (now dirty) address still works after the delay
    assert S.outcome(fast_login(p, "fasth", tok)) == "success"
