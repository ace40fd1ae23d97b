"""Finding federation peers through DNS (issue 12, "Finding the peer").

plucsd (a.test, s2s on 127.0.15.1) runs in a private mount namespace whose
/etc/resolv.conf names a private dnsmasq on 127.0.15.53 that answers for
*.test only (s2s_peers.Dns); the peer is a private Prosody (p.test on
127.0.15.2, dialback over plain streams, plucs/s2s/tls=false). The DNS
records of each test decide where plucsd must connect:

- SRV _xmpp-server._tcp.p.test -> xmpp.p.test:5299 (no address record
  for p.test itself): plucsd must use the SRV target and port;
- SRV priorities: the lower priority value is tried first (a listener on
  the other target must see no connection) and a dead target is skipped;
- no SRV: fallback to the A record of p.test on port 5269;
- plucs/s2s/route/p.test beats DNS;
- a domain that does not resolve, a refused connection and a peer that
  never answers bounce the message to its sender with
  remote-server-not-found / remote-server-timeout within plucs/s2s/timeout.
"""

import time

import pytest

import s2s_peers as S

TIMEOUT = 20
S2S_TIMEOUT = 5           # plucs/s2s/timeout of these daemons
TRAP = "127.0.15.4"       # a silent listener (never answers)
DEAD = "127.0.15.9"       # nothing listens there: connections are refused

BASE_HOSTS = {"a.test": S.ADDR_PLUCS, "xmpp.p.test": S.ADDR_PROSODY}


def registry(**extra):
    r = {
        "plucs/domains": "a.test",
        "plucs/s2s": "true",
        "plucs/s2s/address": S.ADDR_PLUCS,
        "plucs/s2s/port": "5269",
        "plucs/s2s/tls": "false",
        "plucs/s2s/timeout": str(S2S_TIMEOUT),
    }
    r.update(extra)
    return r


def start_all(s2s_dns, s2s_peer, s2s_plucsd, hosts, srv, prosody_port=5269, **reg):
    dns = s2s_dns(hosts=hosts, srv=srv)
    peer = s2s_peer("prosody", "p.test", S.ADDR_PROSODY, "dialback", dns.resolv_conf,
                    users={"pat": "pat-secret"}, s2s_port=prosody_port)
    d = s2s_plucsd(resolv_conf=dns.resolv_conf, **registry(**reg))
    return dns, peer, d


def message_reaches(d, peer, clients):
    """alice@a.test -> pat@p.test and back; asserts both arrive."""
    alice = S.login_plucs_user(clients, d, "alice")
    pat = S.login_peer_user(clients, peer, "pat")
    for c in (alice, pat):
        c.available()         # else messages go to offline storage
    for a, b, ja, jb in ((alice, pat, "alice@a.test", "pat@p.test"),
                         (pat, alice, "pat@p.test", "alice@a.test")):
        body = "dns test %s -> %s" % (ja, jb)
        a.send(jb, body)
        m = S.wait_delivery(a, b, ja, body, TIMEOUT)
        assert m is not None, "%s got no message from %s; sender got %r\n%s\n--- plucsd ---\n%s" % (
            jb, ja, a.all_messages, peer.log(), d.log()[-6000:])


def test_srv_target_and_port(s2s_dns, s2s_peer, s2s_plucsd, s2s_clients):
    # p.test has no address record: only the SRV record leads to Prosody,
    # on a port that is not 5269.
    dns, peer, d = start_all(
        s2s_dns, s2s_peer, s2s_plucsd, BASE_HOSTS,
        [("_xmpp-server._tcp.p.test", "xmpp.p.test", 5299, 0, 5)], prosody_port=5299)
    assert dns.query("p.test")[1] == 0
    message_reaches(d, peer, s2s_clients)


def test_srv_priority_order(s2s_dns, s2s_peer, s2s_plucsd, s2s_clients, silent_listener):
    trap = silent_listener(TRAP, 5299)
    hosts = dict(BASE_HOSTS, **{"trap.p.test": TRAP})
    dns, peer, d = start_all(
        s2s_dns, s2s_peer, s2s_plucsd, hosts,
        [("_xmpp-server._tcp.p.test", "trap.p.test", 5299, 20, 100),
         ("_xmpp-server._tcp.p.test", "xmpp.p.test", 5299, 10, 1)], prosody_port=5299)
    message_reaches(d, peer, s2s_clients)
    assert trap.accepted() == 0, "plucsd connected to the SRV target of lower priority first"


def test_srv_dead_target_skipped(s2s_dns, s2s_peer, s2s_plucsd, s2s_clients):
    hosts = dict(BASE_HOSTS, **{"dead.p.test": DEAD})
    dns, peer, d = start_all(
        s2s_dns, s2s_peer, s2s_plucsd, hosts,
        [("_xmpp-server._tcp.p.test", "dead.p.test", 5299, 0, 5),
         ("_xmpp-server._tcp.p.test", "xmpp.p.test", 5299, 10, 5)], prosody_port=5299)
    message_reaches(d, peer, s2s_clients)


def test_a_record_fallback(s2s_dns, s2s_peer, s2s_plucsd, s2s_clients):
    # No SRV record for p.test: its address on port 5269.
    hosts = {"a.test": S.ADDR_PLUCS, "p.test": S.ADDR_PROSODY}
    dns, peer, d = start_all(s2s_dns, s2s_peer, s2s_plucsd, hosts, [])
    assert dns.query("_xmpp-server._tcp.p.test", 33)[1] == 0
    message_reaches(d, peer, s2s_clients)


def test_route_beats_dns(s2s_dns, s2s_peer, s2s_plucsd, s2s_clients, silent_listener):
    trap = silent_listener(TRAP, 5269)
    hosts = {"a.test": S.ADDR_PLUCS, "p.test": TRAP}
    dns, peer, d = start_all(
        s2s_dns, s2s_peer, s2s_plucsd, hosts,
        [("_xmpp-server._tcp.p.test", "p.test", 5269, 0, 5)], prosody_port=5299,
        **{"plucs/s2s/route/p.test": "%s:5299" % S.ADDR_PROSODY})
    # Prosody itself finds a.test through DNS (dialback verification).
    message_reaches(d, peer, s2s_clients)
    assert trap.accepted() == 0, "plucsd asked DNS although plucs/s2s/route/p.test is set"


@pytest.mark.parametrize("target,condition", [
    ("nowhere.test", "remote-server-not-found"),     # NXDOMAIN
    ("refused.test", "remote-server-not-found"),     # connection refused
    ("silent.test", "remote-server-timeout"),        # accepts, never answers
])
def test_bounce(target, condition, s2s_dns, s2s_plucsd, s2s_clients, silent_listener):
    silent_listener(TRAP, 5269)
    dns = s2s_dns(hosts={"a.test": S.ADDR_PLUCS, "refused.test": DEAD, "silent.test": TRAP},
                  srv=[])
    assert dns.query("nowhere.test")[0] == 3          # NXDOMAIN
    d = s2s_plucsd(resolv_conf=dns.resolv_conf, **registry())
    alice = S.login_plucs_user(s2s_clients, d, "alice")
    to = "someone@%s" % target
    t0 = time.monotonic()
    alice.send(to, "to a domain that cannot be reached", id="bounce-1")
    m = alice.wait_message(frm=to, type="error", timeout=S2S_TIMEOUT + 10)
    took = time.monotonic() - t0
    assert m is not None, "no bounce from %s within %ss; got %r\n%s" % (
        to, S2S_TIMEOUT + 10, alice.all_messages, d.log()[-6000:])
    assert m.condition == condition, m
    assert m.id == "bounce-1", m
    assert took <= S2S_TIMEOUT + 3, "bounce after %.1fs, plucs/s2s/timeout is %ss" % (
        took, S2S_TIMEOUT)


def test_xmpps_server_direct_tls(s2s_dns, s2s_peer, s2s_plucsd, s2s_ca, s2s_clients):
    # XEP-0368: the only way to p.test is _xmpps-server._tcp -> direct TLS
    # on 5270 (no _xmpp-server record, no address record for p.test).
    dns = s2s_dns(hosts=BASE_HOSTS, srv=[("_xmpps-server._tcp.p.test", "xmpp.p.test", 5270, 0, 5)])
    peer = s2s_peer("prosody", "p.test", S.ADDR_PROSODY, "certs", dns.resolv_conf,
                    users={"pat": "pat-secret"}, direct_tls_port=5270)
    _cert, _key, pem = s2s_ca.leaf("a.test-dns-direct", ["a.test"], ["a.test"])
    d = s2s_plucsd(resolv_conf=dns.resolv_conf, **registry(**{
        "plucs/s2s/tls": "required_trusted", "plucs/s2s/certfile": pem,
        "plucs/s2s/cafile": s2s_ca.cert}))
    message_reaches(d, peer, s2s_clients)
