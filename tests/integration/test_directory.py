"""Foundation: the directory connection (directory.md "Connecting"):
outages, reconnection, failover, certificate verification."""

import os
import re
import time

import plucs_harness as H


def _start_not_ready(plucsd_factory):
    """A plucsd started while slapd is down: the domains come from the
    registry (the host object cannot be read), and start() does not wait
    for a directory snapshot."""
    return plucsd_factory(_ready=False, **{"plucs/domains": "a.test b.test"})


def test_ldap_outage_and_recovery(plucsd, client, ldap_outage):
    ldap = ldap_outage
    online = client("bob", daemon=plucsd)
    assert online.login().ok
    ldap.stop()
    r = client("alice", daemon=plucsd).login()
    assert (r.kind, r.condition) == ("sasl", "temporary-auth-failure"), r
    # The existing session survives the outage.
    assert online.ping() == "result"
    assert plucsd.alive()
    ldap.start()

    def works():
        return client("alice", daemon=plucsd).login().ok
    assert H.wait_until(works, 15, interval=0.5), \
        "login still failing 15 s after the directory came back"
    assert online.ping() == "result"


def test_ldap_outage_logs_state_changes_once(plucsd, client, ldap_outage):
    ldap = ldap_outage
    ldap.stop()
    start = plucsd.log_size()
    # Five logins at once: plucsd holds each until the directory is back or
    # its deadline (10 s) passes; all five fail as temporary-auth-failure.
    cs = [client("alice", daemon=plucsd) for _ in range(5)]
    for c in cs:
        c.login_start()
    results = [c.login_result(30) for c in cs]
    assert all((r.kind, r.condition) == ("sasl", "temporary-auth-failure") for r in results), \
        results
    ldap.start()
    assert H.wait_until(lambda: client("alice", daemon=plucsd).login().ok, 15, 0.5)
    # "one line per state change, not one per attempt": five failed logins
    # must not produce five or more connection-error lines.
    lines = [l for l in plucsd.log()[start:].splitlines()
             if "ldap" in l.lower() and any(w in l.lower() for w in ("lost", "unreachable", "down", "cannot connect", "can't contact"))]
    assert len(lines) < 5, "\n".join(lines)


def pump_until_log(c, daemon, pattern, timeout):
    """Runs C's event loop (its login is in progress) until PATTERN is in
    DAEMON's log; returns the match or None."""
    end = time.monotonic() + timeout
    while True:
        m = re.search(pattern, daemon.log())
        if m or time.monotonic() >= end or not daemon.alive():
            return m
        c.pump(0.05)


def test_login_held_until_directory_connects(plucsd_factory, client, ldap_outage):
    """A login while the directory is not connected yet (here: plucsd
    started while slapd is down) waits for the connection, bounded by the
    auth deadline, instead of failing at once with temporary-auth-failure."""
    ldap = ldap_outage
    ldap.stop()
    # the domains from the registry: the host object cannot be read yet
    d = _start_not_ready(plucsd_factory)
    c = client("alice", daemon=d)
    t0 = time.monotonic()
    c.login_start()
    assert pump_until_log(c, d, r"auth: directory not ready; holding alice@a\.test", 5), \
        "plucsd did not hold the login:\n" + d.log()[-3000:]
    assert not c.login_done(), "the login was answered while the directory was down"
    ldap.start()
    r = c.login_result(15)
    assert r.ok, "held login failed after the directory came back: %r\n%s" % (r, d.log()[-3000:])
    assert time.monotonic() - t0 < 10 + 1, "answered after the auth deadline"
    assert d.wait_log(r"auth: directory ready; starting \d+ held request", 1)
    assert c.ping() == "result"


def test_held_login_fails_at_deadline(plucsd_factory, client, ldap_outage):
    """A directory that stays down: the held login fails with
    temporary-auth-failure at the auth deadline (10 s), not later."""
    ldap = ldap_outage
    ldap.stop()
    d = _start_not_ready(plucsd_factory)
    t0 = time.monotonic()
    r = client("alice", daemon=d).login(30)
    dt = time.monotonic() - t0
    assert (r.kind, r.condition) == ("sasl", "temporary-auth-failure"), r
    assert 9 <= dt < 13, "held login answered after %.1f s (deadline 10 s)" % dt
    assert d.wait_log(r"auth: directory not available within 10 s for alice@a\.test", 1)

def test_failover_dead_server_first(plucsd_factory, client, ldap):
    dead = "ldaps://localhost:%d" % H.dead_port()
    d = plucsd_factory(**{"plucs/ldap/uri": "%s %s" % (dead, ldap.LDAPS_URI)})
    assert client("alice", daemon=d).login().ok
    assert client("dave", daemon=d).login().ok
    r = client("alice", "wrong", daemon=d).login()
    assert (r.kind, r.condition) == ("sasl", "not-authorized"), r


def test_plain_ldap_uri(plucsd_factory, client, ldap):
    d = plucsd_factory(**{"plucs/ldap/uri": ldap.LDAP_URI})
    assert client("alice", daemon=d).login().ok


def test_ldaps_wrong_ca_temporary_auth_failure(plucsd_factory, client, ldap, tmp_path):
    other = H.selfsigned(tmp_path / "other-ca.pem", ["Not the LDAP CA"])
    # The domains come from the registry: without a trusted directory the
    # host object cannot be read.
    d = plucsd_factory(_ready=False, **{"plucs/ldap/cacert": other + ".crt",
                                        "plucs/domains": "a.test b.test"})
    r = client("alice", daemon=d).login()
    assert (r.kind, r.condition) == ("sasl", "temporary-auth-failure"), r


def test_domains_from_host_object(plucsd):
    m = plucsd.wait_log(r"serving domains:[^\n]*", 1)
    assert m
    line = m.group(0)
    assert "a.test" in line and "b.test" in line, line   # B.TEST normalised
    assert "c.test" not in line
