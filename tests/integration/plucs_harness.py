"""plucs_harness: helpers for the PLUCS integration tests.

The pieces (used through the fixtures in conftest.py):

- LdapEnv: a private slapd run by scripts/ldap-env (stop/start for outage
  tests, ldapmodify/ldapadd/ldapdelete as the rootdn).
- Plucsd: one build/plucsd process with a generated registry, its stderr in a
  log file; waits for "serving domains:", checks its exit at teardown
  (crash, exit status, sanitizer reports when PLUCS_SANITIZED=1).
- Client: a slixmpp client driven synchronously from the test thread (each
  call runs the thread's asyncio loop until the awaited thing or a timeout).
- RawClient: a plain socket for protocol-level tests (send bytes, read until
  a pattern); can switch to TLS after <proceed/>.

Everything is written against the specs (RFC 6120, directory.md,
registry.md), never against the implementation.
"""

import asyncio
import os
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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def dead_port():
    """A port nothing listens on (bound and closed again)."""
    return free_port()


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

    def start(self, timeout=15):
        exe = os.path.join(BUILD, "plucsd")
        assert os.access(exe, os.X_OK), "%s is not built" % exe
        self.write_registry()
        self.logf = open(self.log_path, "ab")
        env = dict(os.environ)
        env.pop("PLUCS_REGISTRY", None)
        self.proc = subprocess.Popen(
            [exe, "--registry", self.registry_path,
             "--pidfile", os.path.join(self.rundir, "plucsd.pid")],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf, env=env)
        if not self.wait_log("serving domains:", timeout):
            self.fail_with_log("plucsd did not log 'serving domains:' within %ss" % timeout)
        # The listener must accept connections too.
        if not wait_until(self._port_open, 5):
            self.fail_with_log("plucsd does not accept connections on port %d" % self.port)
        return self

    def _port_open(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
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

    # event handlers
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
    def login(self, timeout=10):
        """Connects and authenticates; returns a LoginResult."""
        self._login = self.loop.create_future()
        if self.tls == "off":
            kw = dict(force_starttls=False, disable_starttls=True)
        elif self.tls == "required":
            kw = dict(force_starttls=True, disable_starttls=False)
        else:
            kw = dict(force_starttls=None, disable_starttls=False)
        self.x.connect(address=(self.host, self.port), **kw)
        try:
            res = self.run(asyncio.shield(self._login), timeout)
        except asyncio.TimeoutError:
            res = LoginResult(False, "timeout")
        if not res.ok:
            self.abort()
        return res

    @property
    def jid(self):
        """The bound full JID (after login)."""
        return str(self.x.boundjid)

    def send_presence(self, settle=0.3):
        """Initial presence (makes the session available, RFC 6121 4.2)."""
        self.x.send_presence()
        self.pump(settle)

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
