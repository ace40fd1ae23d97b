"""s2s_peers: real federation peers and their surroundings for the s2s tests.

Federation must be proven against servers we did not write (issue 12), so
these fixtures start private instances of Debian's Prosody 0.12 and
ejabberd 23.01, a private DNS server (dnsmasq) and a test CA, all on
loopback addresses 127.0.15.x, without touching the machine's own
configuration:

- TestCA: a CA made with the openssl CLI; leaf certificates for domains
  (SAN dNSName, optional SRV-ID), a self-signed and a wrong-name
  certificate for the refusal cases.
- Dns: dnsmasq on 127.0.15.53:53 answering only for *.test from host and
  SRV records given by the test; resolv_conf is a resolv.conf naming it.
- in_namespace(argv, resolv_conf): the argv wrapped so the process sees
  that resolv.conf as /etc/resolv.conf (a private mount namespace with a
  bind mount; the real file is never modified).
- ProsodyPeer / EjabberdPeer: one server for one domain with its own
  config, data and log folder, c2s on a free port and s2s on
  ADDRESS:5269; mode "dialback" (no TLS, no certificates: dialback over
  plain streams) or "certs" (TLS required, certificates from the test CA
  trusted, peers authenticated by their certificates).

Every wait is bounded and polls a condition (a listening port, an answer
to a DNS query, a line in a log); nothing sleeps a fixed time.
"""

import os
import random
import shlex
import socket
import struct
import subprocess
import time

import plucs_harness as H

ADDR_PLUCS = "127.0.15.1"
ADDR_PROSODY = "127.0.15.2"
ADDR_EJABBERD = "127.0.15.3"
ADDR_DNS = "127.0.15.53"

EJABBERD_LIBS = "/usr/lib/x86_64-linux-gnu"


def _run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (
            " ".join(shlex.quote(a) for a in args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def _bounded_wait(pred, timeout):
    return H.wait_until(pred, timeout, interval=0.05)   # the harness's condition wait


def port_listens(address, port):
    try:
        socket.create_connection((address, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def free_port_on(address):
    s = socket.socket()
    s.bind((address, 0))
    p = s.getsockname()[1]
    s.close()
    return p


_stop_process = H.stop_process


# --- certificates -----------------------------------------------------------------

class TestCA:
    """A throw-away CA in DIRECTORY. Keys are P-256 (fast to make)."""

    __test__ = False          # not a pytest test class

    def __init__(self, directory, name="PLUCS interop test CA"):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.cert = os.path.join(self.dir, "ca.pem")
        self.key = os.path.join(self.dir, "ca.key")
        _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", self.key,
              "-out", self.cert, "-days", "30", "-subj", "/CN=" + name,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        self._serial = random.randrange(1 << 40, 1 << 48)

    def _ext_file(self, base, names, srv_ids):
        san = ["DNS:%s" % n for n in names]
        san += ["otherName:1.3.6.1.5.5.7.8.7;IA5STRING:_xmpp-server.%s" % d for d in srv_ids]
        path = base + ".ext"
        with open(path, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n"
                    "subjectAltName=%s\n" % ",".join(san))
        return path

    def leaf(self, name, names, srv_ids=(), cn=None):
        """Certificate for NAMES (SAN dNSName) and SRV_IDS (SRV-ID
        _xmpp-server.DOMAIN) signed by this CA. Returns (cert, key, pem)
        paths; pem holds certificate, key and the CA certificate (the
        single-file form plucsd and ejabberd read)."""
        base = os.path.join(self.dir, name)
        key, csr, cert, pem = base + ".key", base + ".csr", base + ".crt", base + ".pem"
        _run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
              "-subj", "/CN=" + (cn or names[0])])
        self._serial += 1
        _run(["openssl", "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
              "-set_serial", str(self._serial), "-days", "30", "-sha256",
              "-extfile", self._ext_file(base, names, srv_ids), "-out", cert])
        _concat(pem, cert, key, self.cert)
        return cert, key, pem

    def self_signed(self, name, names):
        """A self-signed certificate for NAMES (not from this CA)."""
        base = os.path.join(self.dir, name)
        key, cert, pem = base + ".key", base + ".crt", base + ".pem"
        _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
              "-days", "30", "-subj", "/CN=" + names[0],
              "-addext", "subjectAltName=" + ",".join("DNS:" + n for n in names),
              "-addext", "extendedKeyUsage=serverAuth,clientAuth"])
        _concat(pem, cert, key)
        return cert, key, pem

    def wrong_name(self, name, domain):
        """A CA-signed certificate whose names do not include DOMAIN
        (its CN is DOMAIN, which RFC 6125 ignores when SANs exist)."""
        return self.leaf(name, ["wrong.%s" % domain, "elsewhere.test"], cn=domain)


def _concat(out, *parts):
    with open(out, "w") as f:
        for p in parts:
            with open(p) as src:
                f.write(src.read())


# --- DNS --------------------------------------------------------------------------

def dns_query(server, name, qtype=1, timeout=0.2, port=53):
    """One UDP DNS query; returns (rcode, answer count) or None without an
    answer. qtype: 1 A, 28 AAAA, 33 SRV."""
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, (server, port))
        data, _ = s.recvfrom(4096)
    except OSError:
        return None
    finally:
        s.close()
    if len(data) < 12:
        return None
    rid, flags, _qd, an = struct.unpack(">HHHH", data[:8])
    if rid != qid:
        return None
    return flags & 0xF, an


class Dns:
    """dnsmasq answering for *.test only, on ADDRESS:53.

    hosts: {name: ip}; srv: list of (service_name, target, port, prio,
    weight), e.g. ("_xmpp-server._tcp.p.test", "p.test", 5269, 0, 5).
    Names under .test that are not listed answer NXDOMAIN (--local)."""

    def __init__(self, directory, hosts, srv=(), address=ADDR_DNS):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.address = address
        self.hosts = dict(hosts)
        self.srv = list(srv)
        self.log_path = os.path.join(self.dir, "dnsmasq.log")
        self.resolv_conf = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write("# private resolver of the s2s tests\nnameserver %s\n"
                    "options timeout:1 attempts:2\n" % address)
        self.proc = None
        self.logf = None

    def start(self, timeout=10):
        args = ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                "--bind-interfaces", "--listen-address=" + self.address, "--port=53",
                "--pid-file=", "--local=/test/", "--log-queries",
                "--log-facility=" + self.log_path, "--cache-size=0"]
        for name, ip in self.hosts.items():
            args.append("--host-record=%s,%s" % (name, ip))
        for rec in self.srv:
            args.append("--srv-host=" + ",".join(str(x) for x in rec))
        self.logf = open(os.path.join(self.dir, "dnsmasq.out"), "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=self.logf)
        probe = next(iter(self.hosts), "probe.test")

        def answers():
            if self.proc.poll() is not None:
                return "dead"
            return dns_query(self.address, probe) is not None
        r = _bounded_wait(answers, timeout)
        if r is not True:
            self.stop()
            raise RuntimeError("dnsmasq did not answer within %ss (%s):\n%s" % (
                timeout, r, self._out()))
        return self

    def _out(self):
        try:
            with open(os.path.join(self.dir, "dnsmasq.out")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def query(self, name, qtype=1):
        return dns_query(self.address, name, qtype)

    def stop(self):
        _stop_process(self.proc, 5)
        if self.logf:
            self.logf.close()
            self.logf = None


def in_namespace(argv, resolv_conf, hide=()):
    """ARGV run so that it sees RESOLV_CONF as /etc/resolv.conf (private
    mount namespace; the process is exec'd, so its pid is the server's).
    HIDE: files that the process sees as empty (/dev/null bound on them),
    inside that namespace only."""
    if not resolv_conf and not hide:
        return list(argv)
    mounts = ["mount --bind /dev/null %s" % shlex.quote(h) for h in hide]
    if resolv_conf:
        mounts.append("mount --bind %s /etc/resolv.conf" % shlex.quote(resolv_conf))
    inner = "%s && exec %s" % (" && ".join(mounts), " ".join(shlex.quote(a) for a in argv))
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", inner]


# --- servers ----------------------------------------------------------------------

class _Peer:
    kind = "peer"

    def __init__(self, directory, domain, address, ca=None, cert=None, key=None,
                 mode="dialback", resolv_conf=None, users=None, s2s_port=5269,
                 direct_tls_port=None):
        assert mode in ("dialback", "certs"), mode
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.domain = domain
        self.address = address
        self.ca = ca                  # path of the CA certificate to trust
        self.cert = cert
        self.key = key
        self.mode = mode
        self.resolv_conf = resolv_conf
        self.users = dict(users or {"peer": "peer-secret"})
        self.c2s_port = free_port_on(address)
        self.s2s_port = s2s_port
        self.direct_tls_port = direct_tls_port    # XEP-0368 s2s port (Prosody, "certs")
        self.log_path = os.path.join(self.dir, "%s.log" % self.kind)
        self.out_path = os.path.join(self.dir, "%s.out" % self.kind)
        self.proc = None
        self.outf = None

    def jid(self, user):
        return "%s@%s" % (user, self.domain)

    def password(self, user):
        return self.users[user]

    def log(self):
        text = ""
        for p in (self.out_path, self.log_path):
            try:
                with open(p, errors="replace") as f:
                    text += "--- %s ---\n%s\n" % (p, f.read()[-6000:])
            except OSError:
                pass
        return text

    hide = ()

    def _spawn(self, argv, env=None):
        self.outf = open(self.out_path, "ab")
        self.proc = subprocess.Popen(in_namespace(argv, self.resolv_conf, self.hide),
                                     stdin=subprocess.DEVNULL, stdout=self.outf,
                                     stderr=subprocess.STDOUT, env=env, cwd=self.dir)

    def _wait_ports(self, timeout, extra=None):
        def up():
            if self.proc.poll() is not None:
                return "dead"
            if extra is not None and not extra():
                return False
            return port_listens(self.address, self.c2s_port) and \
                port_listens(self.address, self.s2s_port)
        r = _bounded_wait(up, timeout)
        if r is not True:
            self.stop()
            raise RuntimeError("%s for %s not ready within %ss (%s)\n%s" % (
                self.kind, self.domain, timeout, r, self.log()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _logtext(self):
        # ejabberd's log file is written with a delay; its stdout (where
        # it logs too) is not: read both.
        text = ""
        for p in (self.log_path, self.out_path):
            try:
                with open(p, errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def auth_methods(self, remote):
        """How this server authenticated its s2s streams with REMOTE, read
        from its log: {"in": method, "out": method}, method "EXTERNAL",
        "dialback" or None (not authenticated)."""
        raise NotImplementedError

    def wait_auth_methods(self, remote, want, timeout=5):
        """auth_methods(REMOTE) once it equals WANT or TIMEOUT passed (log
        lines may reach the file a little after the fact)."""
        got = _bounded_wait(lambda: self.auth_methods(remote) == want, timeout)
        return want if got else self.auth_methods(remote)

    def stop(self, timeout=10):
        rc = _stop_process(self.proc, timeout)
        if self.outf:
            self.outf.close()
            self.outf = None
        return rc


class ProsodyPeer(_Peer):
    """A private Prosody 0.12 for DOMAIN on ADDRESS."""

    kind = "prosody"
    # With lua-unbound, Prosody resolves through libunbound, whose built-in
    # local zones answer NXDOMAIN for everything under test. (RFC 6761)
    # without asking any server. Hiding the binding (in the peer's mount
    # namespace only) makes Prosody use its own resolver (net.dns), which
    # asks the name server of /etc/resolv.conf like any stub resolver.
    hide = tuple(p for p in ("/usr/lib/x86_64-linux-gnu/lua/5.4/lunbound.so",)
                 if os.path.exists(p))

    def write_config(self):
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        data = os.path.join(self.dir, "data")
        os.makedirs(data, exist_ok=True)
        certs = self.mode == "certs"
        lines = [
            'run_as_root = true',
            'daemonize = false',
            'pidfile = %s' % _lua(os.path.join(self.dir, "prosody.pid")),
            'data_path = %s' % _lua(data),
            'log = { debug = %s }' % _lua(self.log_path),
            'interfaces = { %s }' % _lua(self.address),
            'c2s_ports = { %d }' % self.c2s_port,
            'c2s_direct_tls_ports = { }',
            's2s_interfaces = { %s }' % _lua(self.address),
            's2s_ports = { %d }' % self.s2s_port,
            's2s_direct_tls_ports = { %s }' % (self.direct_tls_port or ""),
            'http_ports = { }', 'https_ports = { }',
            'plugin_paths = { }',
            'modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco",'
            ' "ping", "presence", "message", "iq", "offline", "posix" }',
            'modules_disabled = { "s2s_bidi" }',
            'authentication = "internal_plain"',
            'storage = "internal"',
            'c2s_require_encryption = false',
            'allow_unencrypted_plain_auth = true',
            's2s_require_encryption = %s' % ("true" if certs else "false"),
            's2s_secure_auth = %s' % ("true" if certs else "false"),
            's2s_timeout = 10',
            'certificates = %s' % _lua(os.path.join(self.dir, "no-certs")),
        ]
        if certs:
            lines.append('ssl = { certificate = %s, key = %s, cafile = %s }' % (
                _lua(self.cert), _lua(self.key), _lua(self.ca)))
            if self.direct_tls_port:
                lines.append('s2s_direct_tls_ssl = { certificate = %s, key = %s, cafile = %s }' % (
                    _lua(self.cert), _lua(self.key), _lua(self.ca)))
        lines.append('VirtualHost %s' % _lua(self.domain))
        if certs:
            lines.append('    ssl = { certificate = %s, key = %s, cafile = %s }' % (
                _lua(self.cert), _lua(self.key), _lua(self.ca)))
        with open(self.config, "w") as f:
            f.write("-- generated by tests/integration/s2s_peers.py\n" + "\n".join(lines) + "\n")

    def start(self, timeout=15):
        assert not self.direct_tls_port or self.mode == "certs"
        self.write_config()
        for u, pw in self.users.items():
            _run(["prosodyctl", "--config", self.config, "register", u, self.domain, pw],
                 timeout=30)
        self._spawn(["prosody", "--config", self.config, "-F"])
        self._wait_ports(timeout, extra=(lambda: port_listens(self.address, self.direct_tls_port))
                         if self.direct_tls_port else None)
        return self

    def auth_methods(self, remote):
        log = self._logtext()
        out = inn = None
        if "connection %s->%s is now authenticated" % (self.domain, remote) in log:
            out = ("EXTERNAL" if "SASL EXTERNAL with %s succeeded" % remote in log
                   else "dialback")
        if "connection %s->%s is now authenticated" % (remote, self.domain) in log:
            inn = ("EXTERNAL" if "Accepting SASL EXTERNAL identity from %s" % remote in log
                   else "dialback")
        return {"in": inn, "out": out}

    def shell(self, command):
        """prosodyctl shell COMMAND (needs mod_admin_shell; not enabled)."""
        return _run(["prosodyctl", "--config", self.config, "shell", command], timeout=20)


def _lua(s):
    return '"%s"' % str(s).replace("\\", "\\\\").replace('"', '\\"')


class EjabberdPeer(_Peer):
    """A private ejabberd 23.01 for DOMAIN on ADDRESS: the Erlang VM run
    directly (no ejabberdctl, no distribution), accounts registered by an
    -eval after the start."""

    kind = "ejabberd"

    def write_config(self):
        self.config = os.path.join(self.dir, "ejabberd.yml")
        certs = self.mode == "certs"
        y = [
            "hosts: [%s]" % _yq(self.domain),
            "loglevel: info",
            "hide_sensitive_log_data: false",
            "auth_method: [internal]",
            "auth_password_format: plain",
            "auth_use_cache: false",
            "s2s_access: all",
            "s2s_use_starttls: %s" % ("required" if certs else "false"),
            "s2s_dns_timeout: 3",
            "s2s_dns_retries: 1",
            "s2s_timeout: 10",
            "outgoing_s2s_families: [ipv4]",
            "outgoing_s2s_timeout: 10",
            "negotiation_timeout: 10",
            "acme: {auto: false}",
            "shaper: {}",
            "shaper_rules: {}",
            "acl: {}",
            "access_rules: {c2s: {allow: all}, local: {allow: all}}",
            "listen:",
            "  - port: %d" % self.c2s_port,
            "    ip: %s" % _yq(self.address),
            "    module: ejabberd_c2s",
            "    access: c2s",
            "    starttls: false",
            "  - port: %d" % self.s2s_port,
            "    ip: %s" % _yq(self.address),
            "    module: ejabberd_s2s_in",
        ]
        if certs:
            y += ["certfiles: [%s]" % _yq(self.cert_pem),
                  "s2s_cafile: %s" % _yq(self.ca),
                  "ca_file: %s" % _yq(self.ca)]
        y += ["modules:",
              "  mod_roster: {}",
              "  mod_disco: {}",
              "  mod_ping: {}",
              "  mod_offline: {}"]
        if not certs:
            y.append("  mod_s2s_dialback: {}")
        with open(self.config, "w") as f:
            f.write("# generated by tests/integration/s2s_peers.py\n" + "\n".join(y) + "\n")

    def start(self, timeout=30):
        if self.mode == "certs":
            # ejabberd reads certificate and key from one file
            self.cert_pem = os.path.join(self.dir, "cert-and-key.pem")
            _concat(self.cert_pem, self.cert, self.key)
        self.write_config()
        mnesia = os.path.join(self.dir, "mnesia")
        os.makedirs(mnesia, exist_ok=True)
        env = dict(os.environ)
        env.update({"ERL_LIBS": EJABBERD_LIBS, "EJABBERD_CONFIG_PATH": self.config,
                    "EJABBERD_LOG_PATH": self.log_path, "HOME": self.dir,
                    "ERL_CRASH_DUMP": os.path.join(self.dir, "erl_crash.dump"),
                    "ERL_CRASH_DUMP_BYTES": "0"})
        regs = ", ".join("ejabberd_auth:try_register(<<%s>>, <<%s>>, <<%s>>)" % (
            _erl(u), _erl(self.domain), _erl(pw)) for u, pw in self.users.items())
        ready = "io:format(\"~nregistered: ~p~nPLUCS-PEER-READY~n\", [[%s]])." % regs
        self._spawn(["erl", "-noinput", "-noshell", "-mnesia", "dir", '"%s"' % mnesia,
                     "-s", "ejabberd", "-eval", ready], env=env)
        self._wait_ports(timeout, extra=self._said_ready)
        return self

    def auth_methods(self, remote):
        import re
        log = self._logtext()
        res = {"in": None, "out": None}
        for m in re.finditer(r"Accepted (inbound|outbound) s2s (\S+) authentication (\S+) -> (\S+)",
                             log):
            d, method, src, dst = m.groups()
            if d == "inbound" and src == remote and dst == self.domain:
                res["in"] = method
            if d == "outbound" and src == self.domain and dst == remote:
                res["out"] = method
        return res

    def _said_ready(self):
        try:
            with open(self.out_path, errors="replace") as f:
                return "PLUCS-PEER-READY" in f.read()
        except OSError:
            return False


def _yq(s):
    return '"%s"' % str(s).replace("\\", "\\\\").replace('"', '\\"')


def _erl(s):
    return '"%s"' % str(s).replace("\\", "\\\\").replace('"', '\\"')


class SilentListener:
    """A TCP listener on ADDRESS:PORT that accepts connections and never
    says anything (a peer that does not answer); counts what it accepted.
    Also a trap: a test can assert nothing connected to it."""

    def __init__(self, address, port=5269):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.held = []

    def accepted(self):
        """Number of connections accepted so far (takes the pending ones)."""
        while True:
            try:
                c, _ = self.sock.accept()
            except (BlockingIOError, OSError):
                break
            self.held.append(c)
        return len(self.held)

    def close(self):
        for c in self.held:
            c.close()
        self.sock.close()


# --- clients ------------------------------------------------------------------------

def login_peer_user(made, peer, user, timeout=15):
    """A logged-in plucs_harness.IMClient of USER on PEER (plain c2s),
    appended to MADE (the caller closes them)."""
    import plucs_harness as H
    c = H.IMClient(peer.c2s_port, peer.jid(user), peer.password(user), tls="off",
                   host=peer.address)
    made.append(c)
    r = c.login(timeout)
    assert r, "login of %s on %s failed: %r\n%s" % (peer.jid(user), peer.kind, r, peer.log())
    return c


def login_plucs_user(made, daemon, user, timeout=15):
    """A logged-in IMClient of the test directory's USER on plucsd DAEMON."""
    import plucs_harness as H
    c = H.IMClient(daemon.port, H.jid(user), H.password(user))
    made.append(c)
    r = c.login(timeout)
    assert r, "login of %s failed: %r" % (user, r)
    return c


def wait_delivery(sender, receiver, frm, body, timeout):
    """Waits until RECEIVER (IMClient) got the message BODY from FRM, or
    SENDER got an error bounce for it (then returns None at once, without
    waiting out TIMEOUT). Returns the received Stanza or None."""
    def done():
        got = receiver.saw_message(frm=frm, body=body)
        if got:
            return got[0]
        if sender.saw_message(type="error", pred=lambda s: s.body == body or s.body is None):
            return "bounced"
        return None
    r = receiver.wait_for(done, timeout)
    return r if r not in (None, "bounced") else None
