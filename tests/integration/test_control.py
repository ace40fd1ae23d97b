"""test_control.py: the control socket <plucs/rundir>/control and the
commands that use it: `plucs status [--json]`, `plucs reload`, `plucs
explain FROM TO | --matrix [DOMAIN]` (against the running server and
--offline), `plucs config set` reloading through the socket, and the socket
itself (line protocol, limits, permissions, stale socket, removal at exit).

The directory is data.ldif; its groups staff / managers / interns are
directory.md's worked example (staff: alice bob carol, M=managers;
managers: alice, M=staff managers, P=staff; interns: carol, empty lists).
paren(s)* is an a.test account in no group; dave is in b.test; erin is
disabled."""
import json
import os
import re
import socket
import stat
import subprocess
import time

import pytest

import plucs_harness as H

PLUCS = os.path.join(H.BUILD, "plucs")


def plucs(daemon_or_registry, *args, check=None):
    reg = getattr(daemon_or_registry, "registry_path", daemon_or_registry)
    env = dict(os.environ)
    env.pop("PLUCS_REGISTRY", None)
    p = subprocess.run([PLUCS, "--registry", str(reg)] + list(args),
                       capture_output=True, text=True, env=env, timeout=60)
    if check is not None:
        assert p.returncode == check, (args, p.returncode, p.stdout, p.stderr)
    return p


def status(daemon):
    out = plucs(daemon, "status", check=0).stdout
    d = {}
    for line in out.splitlines():
        k, _, v = line.partition(": ")
        d[k.rstrip(":")] = v
    return d


def sock_path(daemon):
    return os.path.join(daemon.rundir, "control")


class Ctl:
    """A raw connection to the control socket."""

    def __init__(self, daemon, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(sock_path(daemon))
        self.data = b""

    def send(self, raw):
        self.s.sendall(raw)

    def answer(self):
        """Reads one answer: (status line, body lines)."""
        while True:
            m = re.search(rb"\n\.\n", self.data)
            if self.data.startswith(b".\n"):
                m = None
            if m:
                text = self.data[:m.end()].decode()
                self.data = self.data[m.end():]
                lines = text.split("\n")[:-2]
                body = [l[1:] if l.startswith(".") else l for l in lines[1:]]
                return lines[0], body
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("closed; got %r" % self.data)
            self.data += chunk

    def ask(self, line):
        self.send(line.encode() + b"\n")
        return self.answer()

    def closed(self, timeout=5):
        self.s.settimeout(timeout)
        try:
            while True:
                c = self.s.recv(65536)
                if not c:
                    return True
                self.data += c
        except socket.timeout:
            return False
        except ConnectionResetError:       # closed with our unread bytes in its buffer
            return True

    def close(self):
        self.s.close()


def block(text, head):
    """The verdict line starting with HEAD and the indented lines below it."""
    lines = text.splitlines()
    for i, l in enumerate(lines):
        if l.startswith(head):
            out = [l]
            for n in lines[i + 1:]:
                if not n.startswith("  "):
                    break
                out.append(n)
            return "\n".join(out)
    raise AssertionError("no %r in:\n%s" % (head, text))


def without_ignored(line):
    return re.sub(r" \(ignored, not XMPP groups: [^)]*\)", "", line)


def verdict(text, head):
    return block(text, head).splitlines()[0].rsplit(": ", 1)[1]


# --- status ---------------------------------------------------------------------

def test_status_fields_and_sessions(plucsd_factory, client):
    p = plucsd_factory()
    st = status(p)
    assert re.match(r"^\d+\.\d+", st["version"]) or st["version"] == "unknown"
    assert int(st["pid"]) == p.proc.pid
    assert 0 <= int(st["uptime"]) < 120
    assert st["workers"] == "2"
    assert st["sessions"] == "0"
    assert st["domains"] == "a.test b.test"
    assert st["sessions/domain/a.test"] == "0" and st["sessions/domain/b.test"] == "0"
    assert st["sessions/worker/0"] == "0" and st["sessions/worker/1"] == "0"
    assert st["directory/complete"] == "yes"
    assert int(st["directory/snapshot"]) >= 1
    assert int(st["directory/accounts"]) >= 5      # alice bob carol dave paren(s)*
    assert int(st["directory/groups"]) >= 4        # staff managers interns bstaff
    assert st["directory/pending"] == "0"
    assert p.ldap.env["LDAPS_URI"] in st["directory/servers"]
    assert "directory/connected" in st
    assert st["restart/listener"] == "true"
    assert st["filter"] == "off"
    assert st["filter/message_policy"] == "deny" and st["filter/presence_policy"] == "deny"
    assert st["registry"] == p.registry_path

    a = client("alice", daemon=p)
    assert a.login()
    d = client("dave", daemon=p)
    assert d.login()
    st = status(p)
    assert st["sessions"] == "2"
    assert st["sessions/domain/a.test"] == "1" and st["sessions/domain/b.test"] == "1"
    assert int(st["sessions/worker/0"]) + int(st["sessions/worker/1"]) == 2
    assert int(st["connections"]) >= 2
    # an unauthenticated stream is a connection, not a session
    r = H.RawClient(p.port)
    r.open_stream()
    assert H.wait_until(lambda: int(status(p)["connections"]) >= 3, 5)
    assert status(p)["sessions"] == "2"
    r.close()

    js = json.loads(plucs(p, "status", "--json", check=0).stdout)
    assert js["pid"] == p.proc.pid and js["sessions"] == 2
    assert js["domains"] == "a.test b.test" and js["filter"] == "off"
    assert isinstance(js["directory/snapshot"], int)
    d.close()
    assert H.wait_until(lambda: status(p)["sessions"] == "1", 5)


def test_no_daemon(tmp_path):
    reg = tmp_path / "registry.conf"
    run = tmp_path / "run"
    run.mkdir()
    reg.write_text("ldap/base: dc=x\nldap/hostdn: cn=x\nldap/server/name: localhost\n"
                   "plucs/rundir: %s\n" % run)
    for args in (("status",), ("status", "--json"), ("reload",)):
        p = plucs(reg, *args, check=1)
        assert p.stdout == ""
        assert p.stderr == "plucs: plucsd is not running (nothing answers on %s/control)\n" % run
    # a stale socket file (daemon killed) is the same as none
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(run / "control"))
    s.close()
    assert "plucsd is not running" in plucs(reg, "status", check=1).stderr
    plucs(reg, "status", "--bogus", check=2)
    plucs(reg, "reload", "now", check=2)


# --- reload -----------------------------------------------------------------------

def test_reload_applies_and_keeps_sessions(plucsd_factory, client):
    p = plucsd_factory()
    a = client("alice", daemon=p)
    assert a.login()
    p.write_registry({"plucs/mod/filter": "true", "plucs/mod/filter/presence_policy": "allow"})
    off = p.log_size()
    out = plucs(p, "reload", check=0)
    assert "registry %s applied" % p.registry_path in out.stdout
    assert p.wait_log(r"control: reload requested", 5, off)
    assert p.wait_log(r"reload: registry '.*' applied", 5, off)
    assert H.wait_until(lambda: status(p)["filter"] == "on", 5)
    st = status(p)
    assert st["filter/presence_policy"] == "allow" and st["filter/message_policy"] == "deny"
    assert st["sessions"] == "1"
    assert a.ping(), "the session did not survive the reload"


def test_reload_broken_registry(plucsd_factory, client):
    p = plucsd_factory()
    a = client("alice", daemon=p)
    assert a.login()
    p.write_registry({"plucs/tls": "maybe", "plucs/loglevel": "9"})
    r = plucs(p, "reload", check=1)
    assert "plucs: reload refused: the registry is invalid; plucsd keeps its running configuration" in r.stderr
    assert "plucs: plucs/tls: invalid value 'maybe' (allowed: true, false, required)" in r.stderr
    assert re.search(r"plucs: plucs/loglevel: invalid value '9'", r.stderr)
    assert p.alive()
    st = status(p)
    assert st["sessions"] == "1"
    assert a.ping()
    # the raw answer: "error: ..." then one line per problem
    c = Ctl(p)
    head, body = c.ask("reload")
    assert head.startswith("error: the registry is invalid")
    assert "plucs/tls: invalid value 'maybe' (allowed: true, false, required)" in body
    c.close()
    # fixed again: ok
    p.write_registry()
    plucs(p, "reload", check=0)


def test_config_set_reloads_through_socket(plucsd_factory):
    p = plucsd_factory()
    off = p.log_size()
    r = plucs(p, "config", "set", "plucs/mod/filter=true", check=0)
    assert "plucsd reloaded the registry" in r.stderr
    assert p.wait_log(r"control: reload requested", 5, off)
    assert H.wait_until(lambda: status(p)["filter"] == "on", 5)


def test_restart_listener_false_pending_until_reload(plucsd_factory, ldap):
    p = plucsd_factory(**{"plucs/restart/listener": "false"})
    st = status(p)
    assert st["restart/listener"] == "false" and st["directory/pending"] == "0"
    serial = int(st["directory/snapshot"])
    dn = ldap.user_dn("bob")
    ldap.replace(dn, "gecos", "Robert Brown")
    try:
        assert H.wait_until(lambda: int(status(p)["directory/pending"]) >= 1, 10), status(p)
        time.sleep(0.5)              # held, not published
        st = status(p)
        assert int(st["directory/snapshot"]) == serial
        off = p.log_size()
        out = plucs(p, "reload", check=0)
        assert re.search(r"directory: applying \d+ waiting change", out.stdout), out.stdout
        assert p.wait_log(r"directory: applying \d+ waiting change", 5, off)
        assert H.wait_until(lambda: int(status(p)["directory/snapshot"]) > serial, 5)
        assert status(p)["directory/pending"] == "0"
    finally:
        ldap.replace(dn, "gecos", "Bob Brown")


def test_restart_listener_false_sighup_applies_too(plucsd_factory, ldap):
    p = plucsd_factory(**{"plucs/restart/listener": "false"})
    serial = int(status(p)["directory/snapshot"])
    dn = ldap.user_dn("carol")
    ldap.replace(dn, "gecos", "Caroline Clark")
    try:
        assert H.wait_until(lambda: int(status(p)["directory/pending"]) >= 1, 10), status(p)
        off = p.log_size()
        p.sighup()
        assert p.wait_log(r"directory: applying \d+ waiting change", 5, off)
        assert H.wait_until(lambda: int(status(p)["directory/snapshot"]) > serial, 5)
        assert status(p)["directory/pending"] == "0"
    finally:
        ldap.replace(dn, "gecos", "Carol Clark")


# --- explain ----------------------------------------------------------------------

def explain(p, *args, check=0):
    return plucs(p, "explain", *args, check=check)


def test_explain_worked_example(plucsd_factory):
    p = plucsd_factory(**{"plucs/mod/filter": "true"})
    for mode in ((), ("--offline",)):
        t = explain(p, *mode, "alice@a.test", "bob@a.test").stdout
        assert "filter: on; message_policy: deny; presence_policy: deny" in t
        assert "alice@a.test: groups managers, staff" in t
        b = block(t, "message: alice@a.test -> bob@a.test: ")
        assert b.startswith("message: alice@a.test -> bob@a.test: allowed")
        assert "+ managers: its message list names managers, staff; bob@a.test is in staff" in b
        assert verdict(t, "message: bob@a.test -> alice@a.test: ") == "allowed"
        b = block(t, "presence: alice@a.test sees bob@a.test: ")
        assert b.splitlines()[0].endswith(": allowed")
        assert "+ managers: its presence list names staff; bob@a.test is in staff" in b
        b = block(t, "presence: bob@a.test sees alice@a.test: ")
        assert b.splitlines()[0].endswith(": refused")
        assert "- staff: its presence list is empty; presence_policy deny: nobody" in b

        t = explain(p, *mode, "bob@a.test", "carol@a.test").stdout
        b = block(t, "message: bob@a.test -> carol@a.test: ")
        assert b.splitlines()[0].endswith(": refused")
        assert "- staff: its message list names managers; carol@a.test is in none of them" in b
        assert verdict(t, "message: carol@a.test -> bob@a.test: ") == "refused"
        assert verdict(t, "presence: bob@a.test sees carol@a.test: ") == "refused"   # bob sees nobody

        t = explain(p, *mode, "carol", "alice").stdout       # uids: one domain each
        b = block(t, "message: carol@a.test -> alice@a.test: ")
        assert b.splitlines()[0].endswith(": allowed")          # through staff (union)
        assert "+ staff: its message list names managers; alice@a.test is in managers" in b
        assert "- interns: its message list is empty; message_policy deny: nobody" in b

    # the running server and the offline compiler say the same (but the first
    # line, and the ignored names only the offline compiler knows)
    on = explain(p, "alice@a.test", "bob@a.test").stdout.splitlines()
    off = explain(p, "--offline", "alice@a.test", "bob@a.test").stdout.splitlines()
    assert "(running server, directory snapshot" in on[0]
    assert "(compiled from the directory by plucs, directory snapshot" in off[0]
    assert on[1:] == [without_ignored(l) for l in off[1:]]


def test_explain_ignored_names(plucsd_factory, ldap):
    """A list naming only non-XMPP groups counts as empty; --offline names them."""
    p = plucsd_factory(**{"plucs/mod/filter": "true"})
    dn = ldap.group_dn("interns")
    off = p.log_size()
    ldap.replace(dn, "xmppMessageGroups", "nosuchgroup", "plaingroup", "oldgroup")
    try:
        # The resolved lists do not change, so the server publishes nothing
        # new; it has taken the change once it built a snapshot from it
        # (logged at debug, the harness's level).
        assert p.wait_log(r"directory: built a snapshot", 5, off), p.log()[off:]
        off = explain(p, "--offline", "carol@a.test", "bob@a.test")
        assert ("  - interns: its message list is empty (ignored, not XMPP groups: nosuchgroup, "
                "plaingroup, oldgroup); message_policy deny: nobody") in off.stdout
        assert "interns: xmppMessageGroups names 'plaingroup', which is not an XMPP group" in off.stderr
        on = explain(p, "carol@a.test", "bob@a.test").stdout
        assert "  - interns: its message list is empty; message_policy deny: nobody" in on
        assert verdict(on, "message: carol@a.test -> bob@a.test: ") == "refused"
    finally:
        ldap.replace(dn, "xmppMessageGroups")


def test_explain_policies_allow(plucsd_factory):
    p = plucsd_factory(**{"plucs/mod/filter": "true"})
    t = explain(p, "carol@a.test", "bob@a.test").stdout
    assert verdict(t, "message: carol@a.test -> bob@a.test: ") == "refused"
    t = explain(p, "paren(s)*@a.test", "alice@a.test").stdout
    assert "paren(s)*@a.test: in no XMPP group" in t
    assert verdict(t, "message: paren(s)*@a.test -> alice@a.test: ") == "refused"

    plucs(p, "config", "set", "plucs/mod/filter/message_policy=allow",
          "plucs/mod/filter/presence_policy=allow", check=0)

    def flipped():
        return verdict(explain(p, "carol@a.test", "bob@a.test").stdout,
                       "message: carol@a.test -> bob@a.test: ") == "allowed"
    assert H.wait_until(flipped, 5)
    for mode in ((), ("--offline",)):
        t = explain(p, *mode, "carol@a.test", "bob@a.test").stdout
        assert "filter: on; message_policy: allow; presence_policy: allow" in t
        b = block(t, "message: carol@a.test -> bob@a.test: ")
        assert "+ interns: its message list is empty; message_policy allow: everyone" in b
        # staff names managers: bob -> carol stays refused
        assert verdict(t, "message: bob@a.test -> carol@a.test: ") == "refused"
        b = block(t, "presence: bob@a.test sees carol@a.test: ")
        assert b.splitlines()[0].endswith(": allowed")
        assert "+ staff: its presence list is empty; presence_policy allow: everyone" in b
        assert "note:" not in t
        t = explain(p, *mode, "paren(s)*@a.test", "alice@a.test").stdout
        assert verdict(t, "message: paren(s)*@a.test -> alice@a.test: ") == "allowed"


def test_explain_filter_off(plucsd_factory):
    p = plucsd_factory()
    t = explain(p, "bob@a.test", "carol@a.test").stdout
    assert "filter: off (plucs/mod/filter is false): everything is allowed" in t
    b = block(t, "message: bob@a.test -> carol@a.test: ")
    assert b.splitlines()[0].endswith(": allowed")
    assert "with the filter on it would be refused:" in b


def matrix_cells(text):
    """{(row, column): cell} of the table in `explain --matrix` output."""
    lines = text.splitlines()
    i = next(n for n, l in enumerate(lines) if l.startswith(" ") and "(no group)" in l)
    cols = lines[i].split()
    cols = cols[:-2] + ["(no group)"]          # "(no group)" is two words
    cells = {}
    for l in lines[i + 1:]:
        if not l.strip():
            break
        if l.startswith("(no group)"):
            row, rest = "(no group)", l[len("(no group)"):].split()
        else:
            row, rest = l.split()[0], l.split()[1:]
        for c, v in zip(cols, rest):
            cells[(row, c)] = v
    return cells


def test_explain_matrix(plucsd_factory):
    p = plucsd_factory(**{"plucs/mod/filter": "true"})
    texts = [explain(p, "--matrix", "a.test").stdout,
             explain(p, "--offline", "--matrix", "a.test").stdout]
    for t in texts:
        c = matrix_cells(t)
        assert c[("managers", "staff")] == "mp"
        assert c[("managers", "managers")] == "m"
        assert c[("managers", "interns")] == "-"
        assert c[("staff", "managers")] == "m"
        assert c[("staff", "staff")] == "-"          # not implicitly in its own list
        assert c[("interns", "staff")] == "-" and c[("interns", "interns")] == "-"
        assert c[("(no group)", "staff")] == "-" and c[("(no group)", "(no group)")] == "-"
        assert ("bstaff", "staff") not in c             # b.test only
        assert "  managers (1 member in a.test): messages to: managers, staff; sees presence of: staff" in t
    assert texts[0].splitlines()[1:] == [without_ignored(l) for l in texts[1].splitlines()[1:]]
    # every domain: bstaff appears
    c = matrix_cells(explain(p, "--matrix").stdout)
    assert c[("bstaff", "bstaff")] == "-"
    r = explain(p, "--matrix", "c.test", check=1)
    assert "c.test: not a domain this server serves (served: a.test, b.test)" in r.stderr


def test_explain_errors(plucsd_factory):
    p = plucsd_factory(**{"plucs/mod/filter": "true"})
    for mode in ((), ("--offline",)):
        r = explain(p, *mode, "nosuch@a.test", "alice@a.test", check=1)
        assert "plucs: nosuch@a.test: not an account (no entry with uid nosuch" in r.stderr
        assert r.stdout == ""
        r = explain(p, *mode, "alice@a.test", "erin@a.test", check=1)       # disabled
        assert "erin@a.test: not an account" in r.stderr
        r = explain(p, *mode, "dave@a.test", "alice@a.test", check=1)       # other domain
        assert "dave@a.test: not an account in a.test (but dave@b.test is)" in r.stderr
        r = explain(p, *mode, "alice@c.test", "alice@a.test", check=1)
        assert "this server does not serve c.test" in r.stderr
        r = explain(p, *mode, "plainuser", "alice", check=1)
        assert "plainuser: not an account in any served domain" in r.stderr
    explain(p, "alice@a.test", check=2)
    explain(p, "--matrix", "a.test", "b.test", check=2)
    explain(p, "--frobnicate", "a", "b", check=2)
    explain(p, "alice@a.test", "bob@a.test\nstatus", check=2)


def test_explain_without_daemon(plucsd_factory):
    p = plucsd_factory(**{"plucs/mod/filter": "true"})
    p.terminate()
    r = explain(p, "alice@a.test", "bob@a.test")
    assert "plucsd is not running; compiling the rules from the directory" in r.stderr
    assert "(compiled from the directory by plucs" in r.stdout
    assert verdict(r.stdout, "message: alice@a.test -> bob@a.test: ") == "allowed"
    # no readable secret: a clear line
    bad = os.path.join(p.dir, "bad.conf")
    with open(p.registry_path) as f, open(bad, "w") as g:
        g.write(f.read() + "plucs/ldap/secretfile: /nonexistent/secret\n")
    r = plucs(bad, "explain", "--offline", "alice@a.test", "bob@a.test", check=1)
    assert "plucs: cannot read the directory: cannot read the secret file /nonexistent/secret" in r.stderr


# --- the socket itself ------------------------------------------------------------------

def test_socket_protocol_and_limits(plucsd_factory):
    p = plucsd_factory()
    path = sock_path(p)
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
    c = Ctl(p)
    head, body = c.ask("help")
    assert head == "ok" and any(l.startswith("explain FROM TO") for l in body)
    assert c.ask("frobnicate")[0] == "error: unknown command 'frobnicate' (try: help)"
    assert c.ask("explain alice")[0] == "error: usage: explain FROM TO"
    c.send(b"\n\n")                             # empty lines: no answer
    head, body = c.ask("status")                # several requests on one connection
    assert head == "ok" and any(l.startswith("pid: ") for l in body)
    # pipelined requests are answered in order
    c.send(b"help\nstatus\nmatrix\n")
    assert c.answer()[0] == "ok"
    assert any(l.startswith("pid: ") for l in c.answer()[1])
    assert c.answer()[0] == "ok"
    # a line that is too long: error, then the connection is closed
    c.send(b"x" * 5000)
    head, _ = c.answer()
    assert head.startswith("error: request longer than")
    assert c.closed()
    c.close()
    # the last line without its newline is answered at EOF
    c = Ctl(p)
    c.send(b"status")
    c.s.shutdown(socket.SHUT_WR)
    assert c.answer()[0] == "ok"
    assert c.closed()
    c.close()
    # too many clients: refused with an error, the others keep working
    conns = [Ctl(p) for _ in range(16)]
    extra = Ctl(p)
    assert extra.answer()[0].startswith("error: too many control connections")
    extra.close()
    assert conns[0].ask("help")[0] == "ok"
    for k in conns:
        k.close()
    assert H.wait_until(lambda: plucs(p, "status").returncode == 0, 5)
    # an idle client is closed after a while
    idle = Ctl(p, timeout=20)
    assert idle.closed(timeout=20)
    idle.close()
    # removed at exit
    assert p.terminate() == 0
    assert not os.path.exists(path)


def test_stale_socket_replaced_live_one_kept(ldap, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    p = H.Plucsd(d, ldap)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(sock_path(p))
    stale.close()                      # a socket file nobody listens on
    d2 = tmp_path / "d2"
    d2.mkdir()
    p2 = H.Plucsd(d2, ldap, **{"plucs/rundir": p.rundir})   # same rundir, own pid file
    problems = []
    try:
        p.start()
        assert p.wait_log(r"control: listening on ", 5)
        pid = int(status(p)["pid"])
        assert pid == p.proc.pid
        p2.start()
        assert p2.wait_log(r"control: another plucsd answers on .*; not replacing it", 5)
        assert int(status(p)["pid"]) == p.proc.pid
        problems += p2.problems()              # stops p2: p's socket stays
        assert os.path.exists(sock_path(p))
        assert int(status(p)["pid"]) == p.proc.pid
    finally:
        problems += p2.problems() + p.problems()
    assert not problems, problems
    assert not os.path.exists(sock_path(p))
