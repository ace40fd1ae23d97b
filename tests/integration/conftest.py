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
        if _wrapper:
            p.wrap = lambda argv, pre=list(_wrapper): pre + argv
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


# --- federation (test_s2s_interop.py, test_s2s_dns.py) -------------------------

import s2s_peers as S2S  # noqa: E402

# The interop tests' DNS: every test domain on its own 127.0.15.x address,
# with _xmpp-server._tcp SRV records pointing at port 5269.
S2S_HOSTS = {"a.test": S2S.ADDR_PLUCS, "p.test": S2S.ADDR_PROSODY, "e.test": S2S.ADDR_EJABBERD}
S2S_SRV = [("_xmpp-server._tcp.%s" % d, d, 5269, 0, 5) for d in S2S_HOSTS]


@pytest.fixture(scope="session")
def s2s_ca(tmp_path_factory):
    """s2s_peers.TestCA (session): signs the peers' and plucsd's certificates."""
    return S2S.TestCA(tmp_path_factory.mktemp("s2s-ca"))


@pytest.fixture
def s2s_dns(tmp_path):
    """s2s_dns(hosts=S2S_HOSTS, srv=S2S_SRV) -> started s2s_peers.Dns on
    127.0.15.53 (one at a time); stopped at teardown."""
    made = []

    def start(hosts=None, srv=None):
        d = S2S.Dns(tmp_path / ("dns%d" % len(made)), S2S_HOSTS if hosts is None else hosts,
                    S2S_SRV if srv is None else srv)
        made.append(d)
        return d.start()

    yield start
    for d in made:
        d.stop()


@pytest.fixture
def s2s_peer(tmp_path, s2s_ca):
    """s2s_peer(kind, domain, address, mode="dialback", resolv_conf=None,
    users=None, cert_kind="ca", s2s_port=5269) -> a started ProsodyPeer
    ("prosody") or EjabberdPeer ("ejabberd"); in mode "certs" with a
    certificate for DOMAIN from s2s_ca (cert_kind "ca"), a self-signed one
    ("self") or one from s2s_ca for other names ("wrong").
    The test fails at teardown when a peer died on its own."""
    made = []

    def start(kind, domain, address, mode="dialback", resolv_conf=None, users=None,
              cert_kind="ca", **kw):
        cls = {"prosody": S2S.ProsodyPeer, "ejabberd": S2S.EjabberdPeer}[kind]
        cert = key = None
        if mode == "certs":
            name = "%s-%d-%s" % (domain, len(made), cert_kind)
            cert, key, _pem = {
                "ca": lambda: s2s_ca.leaf(name, [domain], [domain]),
                "self": lambda: s2s_ca.self_signed(name, [domain]),
                "wrong": lambda: s2s_ca.wrong_name(name, domain),
            }[cert_kind]()
        p = cls(tmp_path / ("%s-%s" % (kind, domain)), domain, address, ca=s2s_ca.cert,
                cert=cert, key=key, mode=mode, resolv_conf=resolv_conf, users=users, **kw)
        made.append(p)
        return p.start()

    yield start
    dead = [p for p in made if p.proc is not None and p.proc.poll() is not None]
    for p in made:
        p.stop()
    if dead:
        pytest.fail("peer(s) exited during the test: %s\n%s" % (
            ", ".join("%s (%s)" % (p.domain, p.proc.returncode) for p in dead),
            "\n".join(p.log() for p in dead)), pytrace=False)


@pytest.fixture
def s2s_plucsd(ldap, tmp_path):
    """s2s_plucsd(resolv_conf=None, **registry) -> a started harness.Plucsd
    for federation tests; with RESOLV_CONF plucsd runs in a private mount
    namespace that sees that file as /etc/resolv.conf. Checked like
    plucsd_factory's daemons at teardown."""
    started = []

    def start(resolv_conf=None, **registry):
        d = tmp_path / ("s2s-plucsd%d" % len(started))
        d.mkdir()
        p = H.Plucsd(d, ldap, **registry)
        if resolv_conf:
            p.wrap = lambda argv: S2S.in_namespace(argv, resolv_conf)
        started.append(p)
        p.start()
        return p

    yield start
    problems = []
    for p in started:
        problems += p.problems()
    if problems:
        logs = "\n".join("--- %s ---\n%s" % (p.log_path, p.log()[-6000:]) for p in started)
        pytest.fail("; ".join(problems) + "\n" + logs, pytrace=False)


@pytest.fixture
def silent_listener():
    """silent_listener(address, port=5269) -> s2s_peers.SilentListener
    (accepts, never answers); closed at teardown."""
    made = []

    def make(address, port=5269):
        s = S2S.SilentListener(address, port)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def s2s_clients():
    """A list to append IMClients to; every one is closed at teardown (see
    s2s_peers.login_peer_user / login_plucs_user)."""
    made = []
    yield made
    for c in made:
        c.close()


# make check runs the test files two at a time (pytest-xdist, --dist
# loadgroup): every test is grouped with the rest of its file, so module
# fixtures start once. Files whose servers listen on the federation port
# 5269 (of named 127.0.x.y addresses, or of every address) or use the
# shared dnsmasq on 127.0.15.53 share one group and so never run at the
# same time.
FEDERATION_PORT = {"test_s2s", "test_inert_settings", "test_s2s_dns", "test_s2s_interop",
                   "test_s2s_im", "test_s2s_hostile", "test_muc", "test_push"}


@pytest.hookimpl(tryfirst=True)   # before xdist reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.module.__name__.rsplit(".", 1)[-1]
        item.add_marker(pytest.mark.xdist_group("port-5269" if name in FEDERATION_PORT else name))
