"""Federation with real servers we did not write (issue 12, "Interop").

Debian's Prosody 0.12 (p.test on 127.0.15.2) and ejabberd 23.01 (e.test on
127.0.15.3) run as private instances (tests/integration/s2s_peers.py); a
private dnsmasq on 127.0.15.53 answers for *.test and the peers see it as
their only resolver. Each pairing is run twice:

- "dialback": no TLS and no certificates anywhere; the receiving server
  verifies the sender by Server Dialback (XEP-0220);
- "certs": TLS required, every server has a certificate for its domain
  from the test CA and trusts that CA; peers are authenticated by their
  certificates (SASL EXTERNAL, XEP-0178; ejabberd has no dialback module
  then, Prosody has s2s_secure_auth).

In each: a chat message both ways, then a presence subscription both ways
(subscribe, subscribed, the roster pushes, the approver's presence), then a
presence change seen across. test_peers_* prove the fixtures between
Prosody and ejabberd, independently of PLUCS; test_plucs_* do the same
between plucsd (a.test on 127.0.15.1) and each peer.
"""

import pytest

import plucs_harness as H
import s2s_peers as S

TIMEOUT = 20          # first stanza to a domain: resolve, connect, TLS, auth

MODES = ["dialback", "certs"]
METHOD = {"dialback": "dialback", "certs": "EXTERNAL"}     # how streams authenticate


def federate(c1, c2, logs):
    """Message both ways, subscription both ways, presence seen across,
    between IMClients C1 and C2 of two federated servers. LOGS() gives
    the servers' logs for failure messages."""
    j1, j2 = H.bare(c1.jid), H.bare(c2.jid)
    for c in (c1, c2):
        assert c.roster_get().type == "result"
        c.available()

    for a, b, ja, jb in ((c1, c2, j1, j2), (c2, c1, j2, j1)):
        body = "s2s hello from %s to %s" % (ja, jb)
        a.send(jb, body)
        m = S.wait_delivery(a, b, ja, body, TIMEOUT)
        assert m is not None, "%s did not get the message from %s; %s got: %r; %s got: %r\n%s" % (
            jb, ja, jb, b.all_messages, ja, a.all_messages, logs())
        assert m.type == "chat"

    err = H.mutual_subscription(c1, c2, timeout=TIMEOUT)
    assert err is None, "%s\n%s" % (err, logs())
    assert c1.roster()[j2].subscription == "both"
    assert c2.roster()[j1].subscription == "both"

    for a, b, ja in ((c1, c2, j1), (c2, c1, j2)):
        status = "s2s status of %s" % ja
        a.available(status=status)
        p = b.wait_presence(frm=ja, type="available", timeout=TIMEOUT,
                            pred=lambda s, st=status: s.status == st)
        assert p is not None, "%s did not see %s's presence change: %r\n%s" % (
            H.bare(b.jid), ja, b.all_presences, logs())


def both_logs(*servers):
    def f():
        return "\n".join(s.log() if hasattr(s, "kind") else
                         "--- plucsd ---\n" + s.log()[-6000:] for s in servers)
    return f


# --- the fixtures, proven between Prosody and ejabberd ---------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_peers_prosody_ejabberd(mode, s2s_dns, s2s_peer, s2s_clients):
    dns = s2s_dns()
    p = s2s_peer("prosody", "p.test", S.ADDR_PROSODY, mode, dns.resolv_conf,
                 users={"pat": "pat-secret"})
    e = s2s_peer("ejabberd", "e.test", S.ADDR_EJABBERD, mode, dns.resolv_conf,
                 users={"eve": "eve-secret"})
    cp = S.login_peer_user(s2s_clients, p, "pat")
    ce = S.login_peer_user(s2s_clients, e, "eve")
    federate(cp, ce, both_logs(p, e))
    want = METHOD[mode]
    want = {"in": want, "out": want}
    assert e.wait_auth_methods("p.test", want) == want, both_logs(p, e)()
    assert p.wait_auth_methods("e.test", want) == want, both_logs(p, e)()


# --- plucsd with each peer ----------------------------------------------------------

def plucs_registry(ca, mode):
    """Registry of plucsd for a.test on 127.0.15.1 (c2s stays on
    127.0.0.1, where the harness expects it)."""
    _cert, _key, pem = ca.leaf("a.test-plucs-%s" % mode, ["a.test"], ["a.test"])
    return {
        "plucs/domains": "a.test",
        "plucs/s2s": "true",
        "plucs/s2s/address": S.ADDR_PLUCS,
        "plucs/s2s/port": "5269",
        "plucs/s2s/tls": "false" if mode == "dialback" else "required_trusted",
        "plucs/s2s/certfile": pem,
        "plucs/s2s/cafile": ca.cert,
        "plucs/s2s/timeout": "15",
        "plucs/s2s/route/p.test": "%s:5269" % S.ADDR_PROSODY,
        "plucs/s2s/route/e.test": "%s:5269" % S.ADDR_EJABBERD,
    }


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind,domain,address,user", [
    ("prosody", "p.test", S.ADDR_PROSODY, "pat"),
    ("ejabberd", "e.test", S.ADDR_EJABBERD, "eve"),
])
def test_plucs_with_peer(kind, domain, address, user, mode, s2s_dns, s2s_peer, s2s_ca,
                         s2s_plucsd, s2s_clients):
    dns = s2s_dns()
    peer = s2s_peer(kind, domain, address, mode, dns.resolv_conf,
                    users={user: user + "-secret"})
    d = s2s_plucsd(resolv_conf=dns.resolv_conf, **plucs_registry(s2s_ca, mode))
    logs = both_logs(d, peer)
    ca = S.login_plucs_user(s2s_clients, d, "alice")
    cr = S.login_peer_user(s2s_clients, peer, user)
    federate(ca, cr, logs)
    # The peer's own log says how each direction was authenticated:
    # certificates (SASL EXTERNAL) in "certs", dialback otherwise.
    want = METHOD[mode]
    want = {"in": want, "out": want}
    got = peer.wait_auth_methods("a.test", want)
    assert got == want, "%s authenticated a.test by %r, expected %s\n%s" % (
        kind, got, want, logs())


# --- required_trusted refuses a real peer whose certificate does not verify -----------

@pytest.mark.parametrize("cert_kind", ["self", "wrong"])
def test_plucs_refuses_untrusted_prosody(cert_kind, s2s_dns, s2s_peer, s2s_ca, s2s_plucsd,
                                         s2s_clients):
    # Prosody trusts the test CA and plucsd's certificate, but its own
    # certificate is self-signed or names other domains: plucsd
    # (required_trusted) must not federate in either direction.
    dns = s2s_dns()
    peer = s2s_peer("prosody", "p.test", S.ADDR_PROSODY, "certs", dns.resolv_conf,
                    users={"pat": "pat-secret"}, cert_kind=cert_kind)
    d = s2s_plucsd(resolv_conf=dns.resolv_conf, **plucs_registry(s2s_ca, "certs"))
    alice = S.login_plucs_user(s2s_clients, d, "alice")
    pat = S.login_peer_user(s2s_clients, peer, "pat")
    for c in (alice, pat):
        c.available()
    alice.send("pat@p.test", "must not arrive", id="untrusted-1")
    m = alice.wait_message(frm="pat@p.test", type="error", timeout=TIMEOUT)
    assert m is not None and m.condition == "remote-server-not-found", (
        "no remote-server-not-found bounce: %r\n%s" % (alice.all_messages, both_logs(d, peer)()))
    pat.send("alice@a.test", "must not arrive either", id="untrusted-2")
    e = pat.wait_message(frm="alice@a.test", type="error", timeout=TIMEOUT)
    assert e is not None, "Prosody got no error for its message to a.test: %r\n%s" % (
        pat.all_messages, both_logs(d, peer)())
    assert not pat.saw_message(frm="alice@a.test", body="must not arrive")
    assert not alice.saw_message(frm="pat@p.test", body="must not arrive either")
    assert peer.auth_methods("a.test") == {"in": None, "out": None}
