"""plucs_harness: helpers for the PLUCS integration tests.

The pieces (used through the fixtures in conftest.py):

- LdapEnv: a private slapd run by scripts/ldap-env (stop/start for outage
  tests, ldapmodify/ldapadd/ldapdelete as the rootdn).
- Plucsd: one build/plucsd process with a generated registry, its stderr in a
  log file; waits for "serving domains:", checks its exit at teardown
  (crash, exit status, sanitizer reports when PLUCS_SANITIZED=1).
- Client: a slixmpp client driven synchronously from the test thread (each
  call runs the thread's asyncio loop until the awaited thing or a timeout).
  Sending presence returns once the server has processed it (a barrier, no
  settle sleeps): available presence waits for the server's reflection of
  it to the sending resource (RFC 6121 4.2.2, 4.4.2), any other presence for
  the answer to a ping sent after it on the same stream.
- RawClient: a plain socket for protocol-level tests (send bytes, read until
  a pattern); can switch to TLS after <proceed/>.

Everything is written against the specs (RFC 6120, directory.md,
registry.md), never against the implementation.
"""

import asyncio
import errno
import itertools
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("PLUCS_BUILD") or os.path.join(TOP, "build")
LDAP_ENV = os.path.join(TOP, "scripts", "ldap-env")
SANITIZED = os.environ.get("PLUCS_SANITIZED") == "1"

HOSTNAME = "plucs-test"
DOMAINS = ("a.test", "b.test")
# Keep in sync with data.ldif.
USERS = {
    "alice": ("a.test", "alice-secret"),
    "bob": ("a.test", "bob-secret"),
    "carol": ("a.test", "carol-secret"),
    "dave": ("b.test", "dave-secret"),
    "erin": ("a.test", "erin-secret"),        # xmppEnabled FALSE
    "paren(s)*": ("a.test", "paren-secret"),  # filter metacharacters in uid
}

NS_STREAM = "http://etherx.jabber.org/streams"
NS_CLIENT = "jabber:client"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_STREAMS_ERR = "urn:ietf:params:xml:ns:xmpp-streams"


def jid(user):
    return "%s@%s" % (user, USERS[user][0])


def password(user):
    return USERS[user][1]


_ports_given = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port):
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            s = socket.socket(fam)
        except OSError:
            continue                    # no IPv6 here
        try:
            s.bind((addr, port))
        except OSError as e:
            if fam == socket.AF_INET6 and e.errno == errno.EADDRNOTAVAIL:
                continue
            return False
        finally:
            s.close()
    return True


def free_port():
    """A port for a test listener. Taken below the kernel's ephemeral range,
    so that no outgoing connection of any process (clients, LDAP, peers) can
    hold it as its local port by the time the listener binds it, from a
    slice of its own per pytest-xdist worker, never twice in one process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    idx = int(worker[2:]) if worker[2:].isdigit() else 0
    low = 10000
    size = (_ephemeral_low() - low) // 8
    if size >= 500:
        base = low + (idx % 8) * size
        for _ in range(500):
            p = random.randrange(base, base + size)
            if p not in _ports_given and _bindable(p):
                _ports_given.add(p)
                return p
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def federated_pair(plucsd_factory, a_ip, b_ip):
    """Two plucsd federating without TLS: a.test on a_ip, b.test on b_ip,
    both on one free port (not 5269), each routed to the other."""
    port = free_port()

    def reg(domain, own, other, other_ip):
        return {"plucs/domains": domain, "plucs/s2s": "true", "plucs/s2s/tls": "false",
                "plucs/s2s/address": own, "plucs/s2s/port": str(port),
                "plucs/s2s/route/" + other: "%s:%d" % (other_ip, port),
                "plucs/s2s/timeout": "10"}
    return (plucsd_factory(**reg("a.test", a_ip, "b.test", b_ip)),
            plucsd_factory(**reg("b.test", b_ip, "a.test", a_ip)))


def dead_port():
    """A port nothing listens on (bound and closed again)."""
    return free_port()


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL after timeout seconds; returns the exit status
    (None for no process)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def wait_until(pred, timeout, interval=0.1):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return v
        time.sleep(interval)


def selfsigned(path, names):
    """One PEM with key and certificate for NAMES (SAN); returns path."""
    subprocess.run([LDAP_ENV, "selfsigned", str(path)] + list(names),
                   check=True, capture_output=True, text=True)
    return str(path)


# --- LDAP ---------------------------------------------------------------------

class LdapEnv:
    def __init__(self, directory, ldifs, hostname=HOSTNAME):
        self.dir = str(directory)
        self.ldifs = list(ldifs)
        self.hostname = hostname
        self.env = {}

    def start(self):
        args = [LDAP_ENV, "start", self.dir, "--hostname", self.hostname]
        for f in self.ldifs:
            args += ["--ldif", f]
        if self.env:       # restart: ldap-env reuses data and ports
            args = [LDAP_ENV, "start", self.dir]
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("ldap-env start failed:\n" + r.stdout + r.stderr)
        self.env = self._read_env()

    def stop(self):
        subprocess.run([LDAP_ENV, "stop", self.dir], check=True,
                       capture_output=True, text=True)

    def running(self):
        return subprocess.run([LDAP_ENV, "status", self.dir]).returncode == 0

    def _read_env(self):
        env = {}
        with open(os.path.join(self.dir, "env.sh")) as f:
            for line in f:
                m = re.match(r"^([A-Z_]+)=(.*)$", line.strip())
                if m:
                    env[m.group(1)] = m.group(2).strip("'")
        return env

    def __getattr__(self, name):
        # ldap.BASE, ldap.LDAPS_URI, ... (the variables of env.sh)
        env = self.__dict__.get("env") or {}
        if name in env:
            return env[name]
        raise AttributeError(name)

    def _run(self, tool, ldif, extra=()):
        r = subprocess.run([tool, "-x", "-H", self.env["LDAP_URI"],
                            "-D", self.env["ROOTDN"], "-w", self.env["ROOTPW"]]
                           + list(extra), input=ldif, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s\n%s" % (tool, r.returncode, r.stderr, ldif))
        return r.stdout

    def modify(self, ldif):
        """ldapmodify as rootdn; LDIF with changetype lines."""
        return self._run("ldapmodify", ldif)

    def add(self, ldif):
        return self._run("ldapmodify", ldif, ["-a"])

    def delete(self, dn):
        return self._run("ldapdelete", "", [dn])

    def replace(self, dn, attr, *values):
        lines = ["dn: " + dn, "changetype: modify", "replace: " + attr]
        lines += ["%s: %s" % (attr, v) for v in values]
        return self.modify("\n".join(lines) + "\n")

    def user_dn(self, uid):
        return "uid=%s,cn=users,%s" % (uid, self.env["BASE"])

    def group_dn(self, cn):
        return "cn=%s,cn=groups,%s" % (cn, self.env["BASE"])

    def search(self, filt, *attrs):
        r = subprocess.run(["ldapsearch", "-LLL", "-x", "-H", self.env["LDAP_URI"],
                            "-D", self.env["ROOTDN"], "-w", self.env["ROOTPW"],
                            "-b", self.env["BASE"], filt] + list(attrs),
                           capture_output=True, text=True)
        return r.stdout


# --- plucsd -------------------------------------------------------------------

class Plucsd:
    """A plucsd process. registry: dict of variables (merged over defaults)."""

    def __init__(self, tmpdir, ldap, **overrides):
        self.dir = str(tmpdir)
        self.ldap = ldap
        self.port = free_port()
        self.http_port = free_port()
        self.certfile = os.path.join(self.dir, "plucs.pem")
        if not os.path.exists(self.certfile):
            selfsigned(self.certfile, list(DOMAINS) + ["localhost"])
        self.registry_path = os.path.join(self.dir, "registry.conf")
        self.log_path = os.path.join(self.dir, "plucsd.log")
        self.rundir = os.path.join(self.dir, "run")
        os.makedirs(self.rundir, exist_ok=True)
        self.registry = {
            "hostname": HOSTNAME,
            "domainname": "a.test",
            "ldap/base": ldap.env["BASE"],
            "ldap/hostdn": ldap.env["HOSTDN"],
            "plucs/ldap/uri": ldap.env["LDAPS_URI"],
            "plucs/ldap/cacert": ldap.env["CACERT"],
            "plucs/ldap/secretfile": ldap.env["SECRETFILE"],
            "plucs/certfile": self.certfile,
            "plucs/c2s/address": "127.0.0.1",
            "plucs/c2s/port": str(self.port),
            "plucs/http/port": str(self.http_port),
            "plucs/rundir": self.rundir,
            "plucs/store": "sqlite:" + os.path.join(self.dir, "plucs.db"),
            "plucs/threads": "2",
            "plucs/loglevel": "5",
        }
        self.registry.update({k: str(v) for k, v in overrides.items()})
        self.proc = None
        self.logf = None
        self.expect_exit = False
        self.wrap = None        # argv -> argv used to start plucsd (None: as is)

    def write_registry(self, extra=None, raw_lines=()):
        reg = dict(self.registry)
        if extra:
            reg.update({k: str(v) for k, v in extra.items()})
        tmp = self.registry_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("# generated by tests/integration/plucs_harness.py\n")
            for k, v in reg.items():
                f.write("%s: %s\n" % (k, v))
            for line in raw_lines:
                f.write(line + "\n")
        os.rename(tmp, self.registry_path)

    def start(self, timeout=15, ready=True):
        """Starts plucsd and waits until it serves its domains and accepts
        connections; with ready (the default) also until the directory's
        first full read is published (logins are answered from then on;
        before, plucsd holds them, see test_directory.py). ready=False for
        a start while the directory is down."""
        exe = os.path.join(BUILD, "plucsd")
        assert os.access(exe, os.X_OK), "%s is not built" % exe
        self.write_registry()
        since = self.log_size()          # a restart appends to the same log
        self.logf = open(self.log_path, "ab")
        env = dict(os.environ)
        env.pop("PLUCS_REGISTRY", None)
        argv = [exe, "--registry", self.registry_path,
                "--pidfile", os.path.join(self.rundir, "plucsd.pid")]
        if self.wrap is not None:       # e.g. a private mount namespace (s2s tests)
            argv = self.wrap(argv)
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf, env=env)
        if not self.wait_log("serving domains:", timeout, since):
            self.fail_with_log("plucsd did not log 'serving domains:' within %ss" % timeout)
        if ready and not self.wait_log(r"directory: snapshot \d+: ", timeout, since):
            self.fail_with_log("plucsd did not publish a complete directory snapshot within %ss"
                               % timeout)
        # The listener must accept connections too.
        if not wait_until(self._port_open, 5):
            self.fail_with_log("plucsd does not accept connections on port %d" % self.port)
        return self

    @property
    def c2s_host(self):
        """The first plucs/c2s/address, where clients connect (127.0.0.1
        for the catch-all addresses)."""
        a = (self.registry.get("plucs/c2s/address") or "127.0.0.1").split()[0]
        return "127.0.0.1" if a in ("::", "0.0.0.0") else a

    def _port_open(self):
        try:
            socket.create_connection((self.c2s_host, self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10, start=0):
        """Waits until REGEX pattern appears in the log after offset start;
        returns the match or None (also None when the process died)."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(), start)
            if m:
                return m
            if self.proc.poll() is not None or time.monotonic() >= end:
                return None
            time.sleep(0.05)

    def log_size(self):
        return len(self.log())

    def fail_with_log(self, msg):
        import pytest
        alive = self.proc is not None and self.proc.poll() is None
        self.reported = True      # teardown does not report it a second time
        if alive:
            self.proc.kill()
            self.proc.wait()
        pytest.fail("%s (exit status %s)\n--- plucsd log ---\n%s" % (
            msg, None if alive else self.proc.returncode, self.log()[-8000:]), pytrace=False)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def sighup(self):
        self.signal(signal.SIGHUP)

    def terminate(self, timeout=10):
        """SIGTERM and wait; returns the exit status (None if it hung)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def problems(self):
        """Reasons the run was not clean (empty list when fine)."""
        out = []
        if self.proc is None or getattr(self, "reported", False):
            return out
        rc = self.terminate()
        if rc is None:
            out.append("plucsd did not exit within 10 s of SIGTERM")
        elif rc < 0:
            out.append("plucsd died from signal %d" % -rc)
        elif rc != 0:
            out.append("plucsd exited with status %d" % rc)
        if SANITIZED:
            log = self.log()
            for needle in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                if needle in log:
                    out.append("sanitizer report in the log: %s" % needle)
        if self.logf:
            self.logf.close()
            self.logf = None
        return out


# --- slixmpp client -----------------------------------------------------------

class LoginResult:
    def __init__(self, ok, kind=None, condition=None, text=None):
        self.ok = ok
        self.kind = kind            # None, "sasl", "stream", "disconnected", "timeout", "connect"
        self.condition = condition  # e.g. "not-authorized"
        self.text = text

    def __repr__(self):
        return "LoginResult(ok=%r, kind=%r, condition=%r, text=%r)" % (
            self.ok, self.kind, self.condition, self.text)

    def __bool__(self):
        return self.ok


def get_loop():
    try:
        loop = asyncio.get_event_loop()
        if loop.is_closed():
            raise RuntimeError
    except RuntimeError:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


class Client:
    """A slixmpp client for one JID.

    tls: "on" (STARTTLS when offered), "required" (abort without STARTTLS),
    "off" (never STARTTLS; PLAIN allowed in the clear).
    """

    def __init__(self, port, user_jid, pw, tls="on", resource=None, host="127.0.0.1"):
        import slixmpp
        self.loop = get_loop()
        self.port = port
        self.host = host
        full = user_jid + ("/" + resource if resource else "")
        self.x = slixmpp.ClientXMPP(
            full, pw, plugin_config={"feature_mechanisms": {"unencrypted_plain": tls == "off"}})
        self.x.loop = self.loop
        self.tls = tls
        self.x.ssl_context.check_hostname = False
        self.x.ssl_context.verify_mode = ssl.CERT_NONE
        self.x.register_plugin("xep_0030")
        self.x.register_plugin("xep_0199")
        self.x.auto_reconnect = False

        async def no_dns(domain, port=None):
            return None
        self.x._pick_dns_answer = no_dns

        self.messages = asyncio.Queue()
        self.stream_error = None
        self.sasl_failure = None
        self.disconnected = False
        self._login = None
        self._disc = self.loop.create_future()
        x = self.x
        x.add_event_handler("session_start", self._on_session_start)
        x.add_event_handler("failed_auth", self._on_failed_auth)
        x.add_event_handler("failed_all_auth", self._on_failed_all_auth)
        x.add_event_handler("stream_error", self._on_stream_error)
        x.add_event_handler("disconnected", self._on_disconnected)
        x.add_event_handler("connection_failed", self._on_connection_failed)
        x.add_event_handler("message", lambda m: self.messages.put_nowait(m))
        # presence barriers: id -> future, resolved by the reflected presence
        self._echo_waits = {}
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath
        x.register_handler(Callback("plucs-test presence echo",
                                    MatchXPath("{%s}presence" % NS_CLIENT), self._on_echo))

    # event handlers
    def _on_echo(self, st):
        f = self._echo_waits.get(st.xml.get("id"))
        if f is not None and not f.done() and _same_jid(st.xml.get("from") or "", self.jid):
            f.set_result(True)

    def _finish(self, result):
        if self._login is not None and not self._login.done():
            self._login.set_result(result)

    def _on_session_start(self, _):
        self._finish(LoginResult(True))

    def _on_failed_auth(self, stanza):
        if self.sasl_failure is None:
            self.sasl_failure = (stanza["condition"], stanza["text"])

    def _on_failed_all_auth(self, _):
        cond, text = self.sasl_failure or (None, None)
        self._finish(LoginResult(False, "sasl", cond, text))

    def _on_stream_error(self, err):
        self.stream_error = (err["condition"], err["text"])
        self._finish(LoginResult(False, "stream", err["condition"], err["text"]))

    def _on_disconnected(self, reason):
        self.disconnected = True
        if self.sasl_failure:
            self._finish(LoginResult(False, "sasl", *self.sasl_failure))
        self._finish(LoginResult(False, "disconnected", None, str(reason)))
        if not self._disc.done():
            self._disc.set_result(self.stream_error)

    def _on_connection_failed(self, err):
        self.x.cancel_connection_attempt()
        self._finish(LoginResult(False, "connect", None, str(err)))

    def run(self, aw, timeout):
        return self.loop.run_until_complete(asyncio.wait_for(aw, timeout))

    # API
    def login_start(self):
        """Starts connecting and authenticating without waiting (several
        logins can run at once); login_result() collects the outcome."""
        self._login = self.loop.create_future()
        if self.tls == "off":
            kw = dict(force_starttls=False, disable_starttls=True)
        elif self.tls == "required":
            kw = dict(force_starttls=True, disable_starttls=False)
        else:
            kw = dict(force_starttls=None, disable_starttls=False)
        self.x.connect(address=(self.host, self.port), **kw)

    def login_done(self):
        return self._login is not None and self._login.done()

    def login_result(self, timeout=30):
        """The LoginResult of login_start(), waiting up to timeout."""
        try:
            res = self.run(asyncio.shield(self._login), timeout)
        except asyncio.TimeoutError:
            res = LoginResult(False, "timeout")
        if not res.ok:
            self.abort()
        return res

    def login(self, timeout=30):
        """Connects and authenticates; returns a LoginResult."""
        self.login_start()
        return self.login_result(timeout)

    @property
    def jid(self):
        """The bound full JID (after login)."""
        return str(self.x.boundjid)

    def send_presence(self, timeout=5, **kw):
        """Available presence (no arguments: initial presence, RFC 6121
        4.2; keyword arguments as slixmpp's make_presence: pshow, pstatus,
        ppriority); returns once the server has processed it."""
        self.send_presence_stanza(self.x.make_presence(**kw), timeout)

    def send_presence_stanza(self, p, timeout=5):
        """Sends the slixmpp presence P and waits until the server has
        processed it (the barrier described in the module docstring).
        Raises AssertionError when the server does not confirm in time."""
        broadcast = p.xml.get("to") is None and p.xml.get("type") in (None, "available")
        if not broadcast:
            p.send()
            self.barrier(timeout)
            return
        pid = "plucs-barrier-%d" % next(_barrier_ids)
        p["id"] = pid
        f = self.loop.create_future()
        self._echo_waits[pid] = f
        try:
            p.send()
            try:
                self.run(asyncio.shield(f), timeout)
            except asyncio.TimeoutError:
                raise AssertionError(
                    "%s: the server did not reflect its available presence to the sending "
                    "resource within %s s (RFC 6121 4.2.2)" % (self.jid, timeout)) from None
        finally:
            self._echo_waits.pop(pid, None)

    def barrier(self, timeout=5):
        """Returns once the server has processed everything this client
        sent before: a ping to the server is answered in order on the same
        stream. No-op when the stream is already closed."""
        if not self.is_connected():
            return
        from slixmpp.exceptions import IqError, IqTimeout
        iq = self.x.make_iq_get(ito=self.x.boundjid.domain)
        iq.enable("ping")
        try:
            self.run(iq.send(timeout=timeout), timeout + 1)
        except IqError:
            pass                  # an answer all the same
        except (IqTimeout, asyncio.TimeoutError):
            if self.is_connected():
                raise AssertionError("%s: no answer to a ping within %s s" % (self.jid, timeout)) \
                    from None

    def send_message(self, to, body, mtype="chat"):
        self.x.send_message(mto=to, mbody=body, mtype=mtype)

    def wait_message(self, timeout=5):
        """Next received message stanza, or None on timeout."""
        try:
            return self.run(self.messages.get(), timeout)
        except asyncio.TimeoutError:
            return None

    def ping(self, to=None, timeout=5):
        """XEP-0199 ping; returns the iq type ('result' / 'error')."""
        iq = self.x.make_iq_get(ito=to or self.x.boundjid.domain)
        iq.enable("ping")
        return self.iq(iq, timeout)["type"]

    def disco_info(self, to=None, timeout=5):
        """Returns the set of disco#info features of TO (default: the server)."""
        iq = self.x.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#info",
                                ito=to or self.x.boundjid.domain)
        r = self.iq(iq, timeout)
        q = r.xml.find("{http://jabber.org/protocol/disco#info}query")
        if q is None:
            return set()
        return {f.get("var") for f in q.findall("{http://jabber.org/protocol/disco#info}feature")}

    def iq(self, iq, timeout=5):
        """Sends an iq and returns the response (result or error) stanza."""
        from slixmpp.exceptions import IqError
        try:
            return self.run(iq.send(timeout=timeout), timeout + 1)
        except IqError as e:
            return e.iq

    def session_iq(self, timeout=5):
        """Legacy RFC 3921 session establishment; returns the iq type."""
        iq = self.x.make_iq_set(ito=self.x.boundjid.domain)
        from xml.etree import ElementTree as ET
        iq.append(ET.Element("{urn:ietf:params:xml:ns:xmpp-session}session"))
        return self.iq(iq, timeout)["type"]

    def send_raw(self, data):
        self.x.send_raw(data)

    def wait_disconnect(self, timeout=10):
        """Waits until the stream ends; returns (condition, text) of the
        stream error received, or None; raises TimeoutError."""
        return self.run(asyncio.shield(self._disc), timeout)

    def is_connected(self):
        return not self.disconnected and self.x.transport is not None

    def pump(self, seconds):
        """Lets the loop run (process incoming data) for a while."""
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def abort(self):
        try:
            self.x.cancel_connection_attempt()
            self.x.abort()
        except Exception:
            pass

    def close(self, timeout=3):
        if self.is_connected():
            try:
                self.run(self.x.disconnect(wait=1), timeout)
            except Exception:
                self.abort()
        else:
            self.abort()


_barrier_ids = itertools.count(1)


def try_login(port, user_jid, pw, tls="on", resource=None, timeout=10):
    """Logs in and out again; returns the LoginResult."""
    c = Client(port, user_jid, pw, tls=tls, resource=resource)
    try:
        return c.login(timeout)
    finally:
        c.close()


# --- raw socket client ----------------------------------------------------------

def stream_header(to="a.test", version="1.0", ns=NS_CLIENT, stream_ns=NS_STREAM, extra=""):
    return ("<?xml version='1.0'?><stream:stream xmlns='%s' xmlns:stream='%s' "
            "to='%s' version='%s'%s>" % (ns, stream_ns, to, version, extra)).encode()


class RawClient:
    def __init__(self, port, host="127.0.0.1", timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.closed = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def read_until(self, pattern, timeout=10):
        """Reads until REGEX (bytes or str) matches the data received since the
        last consumed match; returns the match or None (timeout or EOF).
        Consumes the data up to the end of the match."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        rx = re.compile(pattern, re.S)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.monotonic()
            if left <= 0 or self.closed:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except (ConnectionResetError, ssl.SSLError, OSError):
                chunk = b""
            if not chunk:
                self.closed = True
            self.buf += chunk

    def read_all(self, timeout=5):
        """Reads until EOF or timeout; returns everything unconsumed."""
        end = time.monotonic() + timeout
        while not self.closed and time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            except (ConnectionResetError, ssl.SSLError, OSError):
                chunk = b""
            if not chunk:
                self.closed = True
            self.buf += chunk
        data, self.buf = self.buf, b""
        return data

    def wait_closed(self, timeout=10):
        """True when the server closed the TCP connection within timeout."""
        self.read_all(timeout)
        return self.closed

    def open_stream(self, to="a.test", **kw):
        """Sends a header and returns the text of the features element."""
        self.send(stream_header(to=to, **kw))
        m = self.read_until(rb"<(?:stream:)?features.*?</(?:stream:)?features>|<(?:stream:)?features[^>]*/>")
        return m.group(0).decode() if m else None

    def starttls(self):
        """Sends <starttls/>, waits for <proceed/>, wraps the socket in TLS."""
        self.send("<starttls xmlns='%s'/>" % NS_TLS)
        assert self.read_until(rb"<proceed[^>]*/>"), "no <proceed/> after <starttls/>"
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock, server_hostname="a.test")
        self.buf = b""

    def auth_plain(self, user, pw):
        """Sends SASL PLAIN; returns the server's answer element text."""
        import base64
        val = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()
        self.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, val))
        m = self.read_until(rb"<success[^>]*/>|<success.*?</success>|<failure.*?</failure>|"
                            rb"<failure[^>]*/>|<stream:error>.*?</stream:error>")
        return m.group(0).decode() if m else None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def stream_error_condition(data):
    """The defined condition of a <stream:error/> in DATA (bytes/str), or None."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    m = re.search(r"<(?:stream:)?error[^>]*>(.*?)</(?:stream:)?error>", data, re.S)
    if not m:
        return None
    c = re.search(r"<([a-z-]+)[^>]*xmlns=['\"]%s['\"]" % re.escape(NS_STREAMS_ERR), m.group(1))
    return c.group(1) if c else None


def sasl_condition(answer):
    """'success', the SASL failure condition, 'stream:<cond>' or None."""
    if answer is None:
        return None
    if answer.startswith("<success"):
        return "success"
    if "<stream:error" in answer or "<error" in answer[:8]:
        return "stream:%s" % stream_error_condition(answer)
    m = re.search(r"<failure[^>]*>\s*<([a-z-]+)", answer)
    return m.group(1) if m else "failure"


def raw_auth(port, user, pw, domain="a.test", tls=True):
    """SASL PLAIN through a raw stream (STARTTLS first unless tls=False);
    returns (RawClient, sasl_condition(answer))."""
    r = RawClient(port)
    feats = r.open_stream(to=domain)
    assert feats is not None, "no stream features"
    if tls:
        r.starttls()
        assert r.open_stream(to=domain) is not None, "no features after STARTTLS"
    return r, sasl_condition(r.auth_plain(user, pw))


def raw_login(port, user, pw, domain="a.test", resource="raw"):
    """A complete raw login (STARTTLS, PLAIN, bind); returns the RawClient."""
    r, cond = raw_auth(port, user, pw, domain)
    assert cond == "success", "SASL answer: %r" % cond
    assert r.open_stream(to=domain) is not None, "no features after SASL"
    r.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
           "<resource>%s</resource></bind></iq>" % resource)
    m = r.read_until(rb"<iq[^>]*id=['\"]bind1['\"].*?</iq>|<iq[^>]*id=['\"]bind1['\"][^>]*/>")
    assert m and b"result" in m.group(0), "bind failed: %r" % (m and m.group(0))
    return r


# --- instant messaging: roster, presence, routing, offline ---------------------
#
# Added for test_roster.py, test_presence.py, test_routing.py, test_offline.py
# and test_live_directory.py (RFC 6121, XEP-0237, XEP-0203, directory.md).

import copy as _copy
import datetime as _dt
from xml.etree import ElementTree as _ET

USERS.update({
    # Keep in sync with the appended part of data.ldif.
    "hugo": ("a.test", "hugo-secret"),      # projects; displayName != gecos
    "ida": ("a.test", "ida-secret"),        # projects, mixed; no displayName
    "kai": ("a.test", "kai-secret"),        # unlabelled (group without description)
    "bea": ("b.test", "bea-secret"),        # mixed (group with members in two domains)
    "nora": ("a.test", "nora-secret"),      # in no group: personal roster tests
    "oscar": ("a.test", "oscar-secret"),    # in no group: personal roster tests
    "lena": ("a.test", "lena-secret"),      # in no group: live-directory tests
    "nils": ("new.test", "nils-secret"),    # new.test not served until added
})

NS_ROSTER = "jabber:iq:roster"
NS_DELAY = "urn:xmpp:delay"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_ROSTERVER = "urn:xmpp:features:rosterver"


def bare(j):
    """The bare JID of J (str), lower-cased domain and localpart."""
    j = str(j or "")
    return j.split("/", 1)[0].lower()


def _same_jid(got, want):
    """WANT with a resource matches exactly; a bare WANT matches any resource
    of that bare JID (and the bare JID itself)."""
    if want is None:
        return True
    got = str(got or "")
    if "/" in want:
        b, _, r = want.partition("/")
        g, _, gr = got.partition("/")
        return g.lower() == b.lower() and gr == r
    return bare(got) == want.lower()


class RosterItem:
    """One <item/> of jabber:iq:roster."""

    def __init__(self, el):
        self.el = el
        self.jid = bare(el.get("jid"))
        self.name = el.get("name")                    # None when absent
        self.subscription = el.get("subscription") or "none"
        self.ask = el.get("ask")
        self.approved = el.get("approved")
        self.groups = sorted((g.text or "") for g in el.findall("{%s}group" % NS_ROSTER))

    def __repr__(self):
        return "RosterItem(%s name=%r sub=%s ask=%s groups=%r)" % (
            self.jid, self.name, self.subscription, self.ask, self.groups)


class RosterResult:
    """Answer to a roster get: type 'result'/'error'/'timeout'; items
    (dict bare JID -> RosterItem) or None for an empty result (no <query/>,
    RFC 6121 2.6.3); ver; error condition."""

    def __init__(self, iq_el):
        self.el = iq_el
        self.items = None
        self.ver = None
        self.duplicates = []
        self.condition = None
        if iq_el is None:
            self.type = "timeout"
            return
        self.type = iq_el.get("type")
        if self.type == "error":
            self.condition = error_condition(iq_el)
            return
        q = iq_el.find("{%s}query" % NS_ROSTER)
        if q is None:
            return
        self.ver = q.get("ver")
        self.items = {}
        for el in q.findall("{%s}item" % NS_ROSTER):
            it = RosterItem(el)
            if it.jid in self.items:
                self.duplicates.append(it.jid)
            self.items[it.jid] = it

    def __repr__(self):
        return "RosterResult(type=%s ver=%r cond=%r items=%r)" % (
            self.type, self.ver, self.condition,
            None if self.items is None else sorted(self.items.values(), key=lambda i: i.jid))


class RosterPush:
    """A roster push received (iq type='set' with one item, RFC 6121 2.1.6)."""

    def __init__(self, el, t):
        self.el = el
        self.t = t
        self.frm = el.get("from")
        q = el.find("{%s}query" % NS_ROSTER)
        self.ver = q.get("ver") if q is not None else None
        items = q.findall("{%s}item" % NS_ROSTER) if q is not None else []
        self.nitems = len(items)
        self.item = RosterItem(items[0]) if items else None

    def __repr__(self):
        return "RosterPush(from=%r ver=%r n=%d %r)" % (self.frm, self.ver, self.nitems, self.item)


def error_condition(el):
    """The defined condition of the <error/> child of stanza element EL."""
    e = el.find("{%s}error" % NS_CLIENT)
    if e is None:
        e = el.find("error")
    if e is None:
        return None
    for c in e:
        if c.tag.startswith("{%s}" % NS_STANZAS) and not c.tag.endswith("}text"):
            return c.tag.split("}", 1)[1]
    return None


def error_type(el):
    e = el.find("{%s}error" % NS_CLIENT)
    return e.get("type") if e is not None else None


class Stanza:
    """A received message or presence, flattened for assertions."""

    def __init__(self, el, t):
        self.el = el
        self.t = t                           # time.monotonic() at receipt
        self.kind = el.tag.split("}", 1)[-1]
        self.frm = el.get("from") or ""
        self.to = el.get("to") or ""
        self.type = el.get("type") or ("available" if self.kind == "presence" else "normal")
        self.id = el.get("id")

        def text(name):
            c = el.find("{%s}%s" % (NS_CLIENT, name))
            return None if c is None else (c.text or "")
        self.body = text("body")
        self.show = text("show")
        self.status = text("status")
        p = text("priority")
        self.priority = int(p) if p not in (None, "") else None
        self.condition = error_condition(el) if self.type == "error" else None
        d = el.find("{%s}delay" % NS_DELAY)
        self.delay = None if d is None else d.get("stamp")
        self.delay_from = None if d is None else d.get("from")

    def delay_time(self):
        """The XEP-0203 stamp as an aware UTC datetime (None without one);
        raises ValueError when it is not an XEP-0082 DateTime in UTC."""
        if self.delay is None:
            return None
        s = self.delay
        m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", s)
        if not m:
            raise ValueError("not an XEP-0082 DateTime: %r" % s)
        base = _dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
        frac = float(m.group(2)) if m.group(2) else 0.0
        tz = m.group(3)
        off = _dt.timedelta(0)
        if tz != "Z":
            sign = 1 if tz[0] == "+" else -1
            off = sign * _dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
        return (base + _dt.timedelta(seconds=frac) - off).replace(tzinfo=_dt.timezone.utc)

    def __repr__(self):
        return "<%s from=%s to=%s type=%s body=%r show=%r status=%r prio=%r cond=%r delay=%r>" % (
            self.kind, self.frm, self.to, self.type, self.body, self.show, self.status,
            self.priority, self.condition, self.delay)


class IMClient(Client):
    """A Client that records every message, presence and roster push it
    receives (in order, with receive time) and never answers subscription
    requests by itself (slixmpp's auto_authorize/auto_subscribe are off).

    The wait_* methods consume the first matching recorded stanza, so a test
    can wait for several things in any order; saw_* only look."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath, StanzaPath
        self.x.roster.auto_authorize = None
        self.x.roster.auto_subscribe = False
        self.stanzas = []          # Stanza (messages, all types, with or without body)
        self.presences = []        # Stanza (presence)
        self.pushes = []           # RosterPush
        self.all_messages = []     # never consumed: every message in order
        self.all_presences = []    # never consumed
        self.all_pushes = []       # never consumed
        self.x.register_handler(Callback(
            "plucs-test messages", MatchXPath("{%s}message" % NS_CLIENT), self._rec_message))
        self.x.register_handler(Callback(
            "plucs-test presences", MatchXPath("{%s}presence" % NS_CLIENT), self._rec_presence))
        self.x.register_handler(Callback(
            "plucs-test roster pushes", StanzaPath("iq@type=set/roster"), self._rec_push))

    def _rec_message(self, st):
        s = Stanza(_copy.deepcopy(st.xml), time.monotonic())
        self.stanzas.append(s)
        self.all_messages.append(s)

    def _rec_presence(self, st):
        s = Stanza(_copy.deepcopy(st.xml), time.monotonic())
        self.presences.append(s)
        self.all_presences.append(s)

    def _rec_push(self, st):
        p = RosterPush(_copy.deepcopy(st.xml), time.monotonic())
        self.pushes.append(p)
        self.all_pushes.append(p)

    # -- waiting -------------------------------------------------------------

    def wait_for(self, pred, timeout=5, step=0.05):
        """Runs the event loop (all clients share it) until pred() is truthy
        or timeout; returns pred()'s last value."""
        end = time.monotonic() + timeout
        while True:
            v = pred()
            if v or time.monotonic() >= end or self.loop.is_closed():
                return v
            self.pump(step)

    @staticmethod
    def _take(lst, pred):
        for i, s in enumerate(lst):
            if pred(s):
                del lst[i]
                return s
        return None

    @staticmethod
    def _stanza_pred(frm=None, type=None, body=None, pred=None):
        def p(s):
            return (_same_jid(s.frm, frm)
                    and (type is None or s.type == type)
                    and (body is None or s.body == body)
                    and (pred is None or pred(s)))
        return p

    def wait_message(self, timeout=5, frm=None, type=None, body=None, pred=None):
        """Next recorded message matching (from: bare matches any resource;
        type: 'chat', 'error', ...); None on timeout. (Overrides Client's
        body-only queue; that queue is left as it is.)"""
        p = self._stanza_pred(frm, type, body, pred)
        return self.wait_for(lambda: self._take(self.stanzas, p), timeout)

    def saw_message(self, frm=None, type=None, body=None, pred=None):
        p = self._stanza_pred(frm, type, body, pred)
        return [s for s in self.stanzas if p(s)]

    def wait_presence(self, frm=None, type=None, timeout=5, pred=None):
        """Next recorded presence matching; type 'available' means no type
        attribute. None on timeout."""
        p = self._stanza_pred(frm, type, None, pred)
        return self.wait_for(lambda: self._take(self.presences, p), timeout)

    def expect_unavailable(self, full, timeout=5):
        """Waits for presence type='unavailable' from the full JID FULL and
        returns it; raises AssertionError otherwise, saying when an
        unavailable came from the bare JID instead (RFC 6121 sends it from
        each resource that was available: 3.2.2, 3.3.3, 4.5.2)."""
        s = self.wait_presence(frm=full, type="unavailable", timeout=timeout)
        if s:
            return s
        b = bare(full)
        hint = ""
        if [p for p in self.all_presences if p.frm.lower() == b and p.type == "unavailable"]:
            hint = (" (an unavailable came from the bare JID %s instead: RFC 6121 3.2.2, 3.3.3"
                    " and 4.5.2 send it from the full JID of each resource that was available;"
                    " clients track presence per resource)" % b)
        raise AssertionError("%s got no unavailable from %s within %ss%s; presences: %r" % (
            self.jid, full, timeout, hint, self.all_presences))

    def saw_presence(self, frm=None, type=None, pred=None):
        p = self._stanza_pred(frm, type, None, pred)
        return [s for s in self.presences if p(s)]

    def wait_push(self, jid=None, timeout=5, pred=None):
        """Next recorded roster push (for item JID) matching pred(push);
        None on timeout."""
        def p(push):
            return ((jid is None or (push.item is not None and push.item.jid == jid.lower()))
                    and (pred is None or pred(push)))
        return self.wait_for(lambda: self._take(self.pushes, p), timeout)

    def saw_push(self, jid=None):
        return [p for p in self.pushes if jid is None or (p.item and p.item.jid == jid.lower())]

    def forget(self):
        """Drops everything recorded so far (the all_* lists stay)."""
        del self.stanzas[:]
        del self.presences[:]
        del self.pushes[:]

    def quiet(self, seconds):
        """Lets the loop run for SECONDS (to prove that something does NOT
        arrive)."""
        self.pump(seconds)

    # -- sending -------------------------------------------------------------

    def presence(self, to=None, type=None, show=None, status=None, priority=None, timeout=5):
        """Sends a presence stanza (no arguments: initial/available presence
        broadcast) and returns once the server has processed it (see
        send_presence_stanza). type: None/'unavailable'/'subscribe'/
        'subscribed'/'unsubscribe'/'unsubscribed'/'probe'."""
        p = self.x.make_presence(pshow=show, pstatus=status, ppriority=priority,
                                 pto=to, ptype=type)
        self.send_presence_stanza(p, timeout)

    def available(self, show=None, status=None, priority=None):
        self.presence(show=show, status=status, priority=priority)

    def subscribe(self, to):
        self.presence(to=to, type="subscribe")

    def subscribed(self, to):
        self.presence(to=to, type="subscribed")

    def unsubscribe(self, to):
        self.presence(to=to, type="unsubscribe")

    def unsubscribed(self, to):
        self.presence(to=to, type="unsubscribed")

    def send(self, to, body=None, type="chat", id=None, extra_xml=None):
        """Sends a message stanza (body may be None)."""
        m = self.x.make_message(mto=to, mbody=body, mtype=type)
        if id:
            m["id"] = id
        if extra_xml is not None:
            m.append(_ET.fromstring(extra_xml) if isinstance(extra_xml, str) else extra_xml)
        m.send()
        self.pump(0.01)

    def iq_el(self, to, type, payload_xml, timeout=5):
        """Sends <iq to= type=> with PAYLOAD_XML (string) and returns the
        answer element, or None when no answer came within timeout."""
        from slixmpp.exceptions import IqError, IqTimeout
        iq = self.x.make_iq(ito=to, itype=type)
        if payload_xml:
            iq.append(_ET.fromstring(payload_xml))
        try:
            r = self.run(iq.send(timeout=timeout), timeout + 1)
        except IqError as e:
            r = e.iq
        except (IqTimeout, asyncio.TimeoutError):
            return None
        return _copy.deepcopy(r.xml)

    # -- roster (RFC 6121 section 2) -------------------------------------------

    def roster_get(self, ver=None, timeout=5):
        """<iq type='get'><query xmlns='jabber:iq:roster' [ver=]/></iq>;
        returns a RosterResult. Makes this resource 'interested'."""
        q = "<query xmlns='%s'%s/>" % (NS_ROSTER, "" if ver is None else " ver='%s'" % _xml_attr(ver))
        return RosterResult(self.iq_el(None, "get", q, timeout))

    def roster(self, timeout=5):
        """The items dict of a plain roster get (asserts a full result)."""
        r = self.roster_get(timeout=timeout)
        assert r.type == "result" and r.items is not None, "roster get failed: %r" % r
        assert not r.duplicates, "roster lists a JID more than once: %r" % r.duplicates
        return r.items

    def roster_set(self, jid, name=None, groups=(), timeout=5):
        """Adds/updates an item; returns (iq type, error condition)."""
        item = "<item jid='%s'%s>%s</item>" % (
            _xml_attr(jid), "" if name is None else " name='%s'" % _xml_attr(name),
            "".join("<group>%s</group>" % _xml_text(g) for g in groups))
        r = self.iq_el(None, "set", "<query xmlns='%s'>%s</query>" % (NS_ROSTER, item), timeout)
        if r is None:
            return ("timeout", None)
        return (r.get("type"), error_condition(r) if r.get("type") == "error" else None)

    def roster_remove(self, jid, timeout=5):
        """subscription='remove'; returns (iq type, error condition)."""
        q = "<query xmlns='%s'><item jid='%s' subscription='remove'/></query>" % (
            NS_ROSTER, _xml_attr(jid))
        r = self.iq_el(None, "set", q, timeout)
        if r is None:
            return ("timeout", None)
        return (r.get("type"), error_condition(r) if r.get("type") == "error" else None)

    def roster_features(self):
        """The stream features slixmpp saw (set of names, e.g. 'rosterver')."""
        return set(self.x.features)

    # -- ending the session --------------------------------------------------

    def drop(self):
        """Ends the TCP connection abruptly: no unavailable presence, no
        </stream:stream> (the transport is aborted)."""
        t = self.x.transport
        if t is not None:
            t.abort()
        self.pump(0.05)


def _xml_attr(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;")
            .replace("'", "&apos;").replace('"', "&quot;"))


def _xml_text(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rst_close(raw_client):
    """Closes a RawClient's socket with a TCP reset (SO_LINGER 0), without
    </stream:stream>."""
    import struct
    try:
        raw_client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    raw_client.close()


# --- plucsd: crash and restart on the same data --------------------------------

def plucsd_kill9(p):
    """SIGKILL the daemon and reap it (nothing is flushed, no clean exit)."""
    if p.proc is not None and p.proc.poll() is None:
        p.proc.send_signal(signal.SIGKILL)
        p.proc.wait(10)
    if p.logf:
        p.logf.close()
        p.logf = None


def plucsd_restart(p, timeout=15):
    """Starts P again with the same registry, store, port and folders (after
    plucsd_kill9 or terminate). The previous log is kept as plucsd.log.N."""
    assert p.proc is None or p.proc.poll() is not None, "plucsd still running"
    if p.logf:
        p.logf.close()
        p.logf = None
    n = 1
    while os.path.exists("%s.%d" % (p.log_path, n)):
        n += 1
    if os.path.exists(p.log_path):
        os.rename(p.log_path, "%s.%d" % (p.log_path, n))
    return p.start(timeout)


# --- LDAP reading (for spec-level expectations) ----------------------------------

def ldap_entries(ldap, filt, *attrs):
    """Entries matching FILT below the base as dicts: lower-cased attribute
    name -> list of str values (base64 values decoded); 'dn' -> [dn]."""
    import base64
    r = subprocess.run(["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x",
                        "-H", ldap.env["LDAP_URI"], "-D", ldap.env["ROOTDN"],
                        "-w", ldap.env["ROOTPW"], "-b", ldap.env["BASE"], filt] + list(attrs),
                       capture_output=True, text=True)
    if r.returncode not in (0, 32):
        raise RuntimeError("ldapsearch failed: %s" % r.stderr)
    lines = []
    for line in r.stdout.splitlines():
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    entries, cur = [], None
    for line in lines + [""]:
        if not line.strip():
            if cur:
                entries.append(cur)
            cur = None
            continue
        if line.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z0-9;.-]+)(::?)\s?(.*)$", line)
        if not m:
            continue
        name, sep, val = m.group(1).lower(), m.group(2), m.group(3)
        if sep == "::":
            val = base64.b64decode(val).decode("utf-8", "replace")
        cur = cur or {}
        cur.setdefault(name, []).append(val)
    return entries


def expected_shared_roster(ldap, user, userlabel="gecos", grouplabel="cn", scope="domain"):
    """The shared roster of USER as directory.md defines it, computed from
    the directory's current content: dict bare JID -> (name or None,
    sorted list of group labels). Served domains are the host object's
    xmppDomains (the test daemons do not set plucs/domains)."""
    host = ldap_entries(ldap, "(&(objectClass=univentionXMPPHost)(cn=%s))" % HOSTNAME,
                        "xmppDomains", "univentionService")
    served = set()
    for h in host:
        svc = h.get("univentionservice")
        if svc and not any(s.upper() == "XMPP" for s in svc):
            continue
        served |= {d.lower() for d in h.get("xmppdomains", [])}
    users = ldap_entries(ldap, "(&(objectClass=univentionXMPPAccount)(xmppEnabled=TRUE))",
                         "uid", "xmppDomain", userlabel)
    accounts = {}     # uid -> (domain, label)
    counts = {}
    for u in users:
        if "uid" not in u or "xmppdomain" not in u:
            continue
        dom = u["xmppdomain"][0].lower()
        if dom not in served:
            continue
        for uid in u["uid"]:
            key = (uid.lower(), dom)
            counts[key] = counts.get(key, 0) + 1
            lab = u.get(userlabel.lower())
            accounts[key] = lab[0] if lab else None
    accounts = {k: v for k, v in accounts.items() if counts[k] == 1}
    me_uid, me_dom = user.split("@", 1)[0].lower(), user.split("@", 1)[1].lower()
    groups = ldap_entries(ldap, "(&(objectClass=univentionXMPPGroup)(xmppEnabled=TRUE))",
                          "cn", "memberUid", grouplabel)
    out = {}
    for g in groups:
        members = {m.lower() for m in g.get("memberuid", [])}
        if scope == "member" and me_uid not in members:
            continue
        lab = g.get(grouplabel.lower())
        label = lab[0] if lab else None
        for m in members:
            if m == me_uid or (m, me_dom) not in accounts:
                continue
            j = "%s@%s" % (m, me_dom)
            name, gl = out.get(j, (accounts[(m, me_dom)], []))
            if label is not None and label not in gl:
                gl.append(label)
            out[j] = (name, gl)
    return {j: (n, sorted(g)) for j, (n, g) in out.items()}


class LdapUndo:
    """Collects LDIF changes to undo at teardown (in reverse order)."""

    def __init__(self, ldap):
        self.ldap = ldap
        self.undo = []

    def modify(self, ldif, undo_ldif):
        """Applies LDIF (changetype lines) now; UNDO_LDIF at teardown.
        Returns time.monotonic() right after ldapmodify returned."""
        self.undo.append(undo_ldif)
        self.ldap.modify(ldif)
        return time.monotonic()

    def replace(self, dn, attr, new_values, old_values):
        def ldif(vals):
            lines = ["dn: " + dn, "changetype: modify", "replace: " + attr]
            lines += ["%s: %s" % (attr, v) for v in vals]
            return "\n".join(lines) + "\n"
        return self.modify(ldif(new_values), ldif(old_values))

    def add_value(self, dn, attr, value):
        return self.modify(
            "dn: %s\nchangetype: modify\nadd: %s\n%s: %s\n" % (dn, attr, attr, value),
            "dn: %s\nchangetype: modify\ndelete: %s\n%s: %s\n" % (dn, attr, attr, value))

    def delete_value(self, dn, attr, value):
        return self.modify(
            "dn: %s\nchangetype: modify\ndelete: %s\n%s: %s\n" % (dn, attr, attr, value),
            "dn: %s\nchangetype: modify\nadd: %s\n%s: %s\n" % (dn, attr, attr, value))

    def restore(self):
        errors = []
        while self.undo:
            ldif = self.undo.pop()
            try:
                self.ldap.modify(ldif)
            except Exception as e:     # keep restoring the rest
                errors.append(str(e))
        return errors


def mutual_subscription(c1, c2, timeout=5):
    """Makes the accounts of IMClients C1 and C2 subscribed to each other
    (RFC 6121 3.1 in both directions, each side answering the other's
    request). Returns None on success, else a text saying which step failed.
    Both should be logged in, interested (roster requested) and available."""
    j1, j2 = bare(c1.jid), bare(c2.jid)
    for a, b, ja, jb in ((c1, c2, j1, j2), (c2, c1, j2, j1)):
        a.subscribe(jb)
        if not b.wait_presence(frm=ja, type="subscribe", timeout=timeout):
            return "%s did not receive subscribe from %s" % (jb, ja)
        b.subscribed(ja)
        want = "to" if a is c1 else "both"
        if not a.wait_push(jb, timeout=timeout, pred=lambda p: p.item.subscription == want):
            return "%s got no push subscription=%s for %s: %r" % (ja, want, jb, a.all_pushes)
    # Each approval ends with the approver's current presence to the
    # requester (RFC 6121 3.1.5): wait for both before forgetting.
    for c, other in ((c1, j2), (c2, j1)):
        if not c.wait_for(lambda: c.saw_presence(frm=other, type="available"), timeout):
            return "%s got no presence from %s after the approval" % (c.jid, other)
        c.forget()
    return None
