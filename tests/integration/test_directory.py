"""Foundation: the directory connection (directory.md "Connecting"):
outages, reconnection, failover, certificate verification."""

import os

import plucs_harness as H


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
    for _ in range(5):
        client("alice", daemon=plucsd).login()
    ldap.start()
    assert H.wait_until(lambda: client("alice", daemon=plucsd).login().ok, 15, 0.5)
    # "one line per state change, not one per attempt": five failed logins
    # must not produce five or more connection-error lines.
    lines = [l for l in plucsd.log()[start:].splitlines()
             if "ldap" in l.lower() and any(w in l.lower() for w in ("lost", "unreachable", "down", "cannot connect", "can't contact"))]
    assert len(lines) < 5, "\n".join(lines)


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
    d = plucsd_factory(**{"plucs/ldap/cacert": other + ".crt",
                          "plucs/domains": "a.test b.test"})
    r = client("alice", daemon=d).login()
    assert (r.kind, r.condition) == ("sasl", "temporary-auth-failure"), r


def test_domains_from_host_object(plucsd):
    m = plucsd.wait_log(r"serving domains:[^\n]*", 1)
    assert m
    line = m.group(0)
    assert "a.test" in line and "b.test" in line, line   # B.TEST normalised
    assert "c.test" not in line
