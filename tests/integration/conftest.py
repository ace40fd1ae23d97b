"""pytest fixtures for the PLUCS integration tests.

- ldap (session): a private slapd (scripts/ldap-env) with schema/plucs.ldif,
  ucs-compat.ldif and data.ldif. A test that stops it must use
  `ldap_outage` (which restarts it at teardown).
- plucsd_factory (function): start(**registry overrides) -> harness.Plucsd,
  started and ready (directory read; _ready=False: do not wait for that);
  every started daemon is stopped at teardown with SIGTERM and the test
  fails if it crashed, exited non-zero or (PLUCS_SANITIZED=1) logged a
  sanitizer report.
- plucsd (function): one daemon with the default test registry.
- client (function): client(user, password=None, tls="on", resource=None)
  -> harness.Client (not yet logged in); closed at teardown.
- raw (function): raw(port=None) -> harness.RawClient; closed at teardown.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plucs_harness as H  # noqa: E402


@pytest.fixture(scope="session")
def ldap(tmp_path_factory):
    d = tmp_path_factory.mktemp("ldap")
    env = H.LdapEnv(d, [os.path.join(H.HERE, "ucs-compat.ldif"),
                        os.path.join(H.HERE, "data.ldif")])
    env.start()
    yield env
    env.stop()


@pytest.fixture
def ldap_outage(ldap):
    """The session slapd, guaranteed running again after the test."""
    yield ldap
    if not ldap.running():
        ldap.start()


@pytest.fixture
def plucsd_factory(ldap, tmp_path):
    started = []
    n = [0]

    def start(_ready=True, _wrapper=None, **registry):
        n[0] += 1
        d = tmp_path / ("plucsd%d" % n[0])
        d.mkdir()
        # registry keys contain '/', which keyword arguments cannot:
        # pass them as start(**{"plucs/tls": "required"}).
        # _wrapper: a command prefix (e.g. a mount namespace with its own
        # /etc/resolv.conf, see test_s2s.py).
        p = H.Plucsd(d, ldap, **registry)
        p.wrapper = list(_wrapper or [])
        started.append(p)
        p.start(ready=_ready)
        return p

    yield start
    problems = []
    for p in started:
        for msg in p.problems():
            problems.append(msg)
    if problems:
        logs = "\n".join("--- %s ---\n%s" % (p.log_path, p.log()[-6000:]) for p in started)
        pytest.fail("; ".join(problems) + "\n" + logs, pytrace=False)


@pytest.fixture
def plucsd(plucsd_factory):
    return plucsd_factory()


@pytest.fixture
def client(plucsd_factory):
    made = []

    def make(user, pw=None, tls="on", resource=None, port=None, daemon=None):
        if port is None:
            assert daemon is not None, "client(): pass port= or daemon="
            port = daemon.port
        if "@" in user:
            j = user
            pw = pw if pw is not None else ""
        else:
            j = H.jid(user)
            pw = pw if pw is not None else H.password(user)
        c = H.Client(port, j, pw, tls=tls, resource=resource)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def raw():
    made = []

    def make(port):
        r = H.RawClient(port)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


# --- instant messaging (test_roster/presence/routing/offline/live_directory) ----

@pytest.fixture
def im(plucsd_factory):
    """im(user, pw=None, resource=None, daemon=..., tls="on") ->
    harness.IMClient (not yet logged in): records every message, presence
    and roster push, answers no subscription request by itself. Closed at
    teardown."""
    made = []

    def make(user, pw=None, tls="on", resource=None, port=None, daemon=None):
        if port is None:
            assert daemon is not None, "im(): pass port= or daemon="
            port = daemon.port
        if "@" in user:
            j = user
            pw = pw if pw is not None else ""
        else:
            j = H.jid(user)
            pw = pw if pw is not None else H.password(user)
        c = H.IMClient(port, j, pw, tls=tls, resource=resource)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def ldap_undo(ldap):
    """harness.LdapUndo on the session slapd: every change made through it
    is reverted at teardown (the directory is shared by all tests)."""
    u = H.LdapUndo(ldap)
    yield u
    errors = u.restore()
    if errors:
        pytest.fail("could not restore the directory: %s" % "; ".join(errors), pytrace=False)
