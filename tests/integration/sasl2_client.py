"""sasl2_client: a raw SASL2 (XEP-0388) / Bind 2 (XEP-0386) / FAST
(XEP-0484) client over STARTTLS for test_sasl2.py and test_fast.py, written
from the XEPs: channel bindings from the TLS connection as the client sees
it (tls-server-end-point from the server certificate, tls-unique from
Python's ssl on TLS 1.2, tls-exporter through pyOpenSSL on TLS 1.3) and the
HT-SHA-256-* HMACs."""

import base64
import hashlib
import hmac
import re
import socket
import ssl
import time

import plucs_harness as H

NS_SASL2 = "urn:xmpp:sasl:2"
NS_BIND2 = "urn:xmpp:bind:0"
NS_FAST = "urn:xmpp:fast:0"
NS_SM = "urn:xmpp:sm:3"
NS_CARBONS = "urn:xmpp:carbons:2"

ANSWER = (rb"<success xmlns=.urn:xmpp:sasl:2.*?</success>|<failure xmlns=.urn:xmpp:sasl:2.*?"
          rb"</failure>|<challenge xmlns=.urn:xmpp:sasl:2[^>]*/>|<stream:error>.*?</stream:error>")


class PyOpenSSLSock:
    """Enough of a socket for RawClient on top of pyOpenSSL (tls-exporter)."""

    def __init__(self, conn, raw):
        self.conn, self.raw = conn, raw
        self.timeout = 10

    def sendall(self, data):
        self.conn.sendall(data)

    def settimeout(self, t):
        self.timeout = t

    def recv(self, n):
        import select
        from OpenSSL import SSL
        if not self.conn.pending():
            r, _, _ = select.select([self.raw], [], [], self.timeout)
            if not r:
                raise socket.timeout()
        try:
            return self.conn.recv(n)
        except SSL.ZeroReturnError:
            return b""
        except SSL.WantReadError:
            raise socket.timeout()
        except SSL.SysCallError:
            return b""

    def close(self):
        self.raw.close()


class Sasl2Client(H.RawClient):
    def __init__(self, port, tls="auto"):
        super().__init__(port)
        self.tls_mode = tls
        self.features = self.open_stream()
        assert self.features, "no stream features"
        self.send("<starttls xmlns='%s'/>" % H.NS_TLS)
        assert self.read_until(rb"<proceed[^>]*/>"), "no <proceed/>"
        self.ossl = None
        if tls == "pyopenssl":
            from OpenSSL import SSL
            ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
            ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
            conn = SSL.Connection(ctx, self.sock)
            conn.set_tlsext_host_name(b"a.test")
            conn.set_connect_state()
            self.sock.settimeout(None)      # blocking: pyOpenSSL has no timeouts
            conn.do_handshake()
            self.ossl = conn
            self.sock = PyOpenSSLSock(conn, self.sock)
        else:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            if tls == "tls12":
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            self.sock = ctx.wrap_socket(self.sock, server_hostname="a.test")
        self.buf = b""
        self.features = self.open_stream()
        assert self.features, "no stream features after TLS"

    # --- channel bindings, as the client computes them -------------------------
    def cb_data(self, mech):
        if mech.endswith("NONE"):
            return b""
        if mech.endswith("ENDP"):
            der = (self.ossl.get_peer_certificate().to_cryptography().public_bytes(
                __import__("cryptography.hazmat.primitives.serialization",
                           fromlist=["Encoding"]).Encoding.DER)
                   if self.ossl else self.sock.getpeercert(binary_form=True))
            return hashlib.sha256(der).digest()
        if mech.endswith("UNIQ"):
            return self.sock.get_channel_binding("tls-unique")
        if mech.endswith("EXPR"):
            return self.ossl.export_keying_material(b"EXPORTER-Channel-Binding", 32)
        raise ValueError(mech)

    def mechanisms(self):
        m = re.search(r"<authentication xmlns=.urn:xmpp:sasl:2.>(.*?)</authentication>",
                      self.features, re.S)
        return re.findall(r"<mechanism>([^<]+)</mechanism>", m.group(1)) if m else []

    def fast_mechanisms(self):
        m = re.search(r"<fast xmlns=.urn:xmpp:fast:0.>(.*?)</fast>", self.features, re.S)
        return re.findall(r"<mechanism>([^<]+)</mechanism>", m.group(1)) if m else []

    # --- authenticate ---------------------------------------------------------------
    def authenticate(self, mech, initial, agent="agent-1", bind=None, extra="", timeout=10):
        """Sends <authenticate/>; returns the answer element as text."""
        ir = "<initial-response>%s</initial-response>" % initial if initial is not None else ""
        ua = "<user-agent id='%s'><software>pytest</software></user-agent>" % agent if agent else ""
        b = ""
        if bind is not None:
            b = "<bind xmlns='%s'>%s</bind>" % (NS_BIND2, bind)
        self.send("<authenticate xmlns='%s' mechanism='%s'>%s%s%s%s</authenticate>"
                  % (NS_SASL2, mech, ir, ua, b, extra))
        m = self.read_until(ANSWER, timeout)
        return m.group(0).decode() if m else None

    def plain(self, user, pw, **kw):
        val = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()
        return self.authenticate("PLAIN", val, **kw)

    def ht(self, mech, user, token, cb=None, **kw):
        cb = self.cb_data(mech) if cb is None else cb
        mac = hmac.new(token.encode(), b"Initiator" + cb, hashlib.sha256).digest()
        val = base64.b64encode(user.encode() + b"\0" + mac).decode()
        kw.setdefault("extra", "<fast xmlns='%s'/>" % NS_FAST)
        ans = self.authenticate(mech, val, **kw)
        self.last_expected_responder = base64.b64encode(
            hmac.new(token.encode(), b"Responder" + cb, hashlib.sha256).digest()).decode()
        return ans


def outcome(answer):
    """'success', the failure condition, or 'stream:<cond>'/None."""
    if answer is None:
        return None
    if answer.startswith("<success"):
        return "success"
    if answer.startswith("<challenge"):
        return "challenge"
    if answer.startswith("<stream:error"):
        return "stream:%s" % H.stream_error_condition(answer)
    m = re.search(r"<failure[^>]*>\s*<([a-z-]+)", answer)
    return m.group(1) if m else "failure"


def token_of(answer):
    m = re.search(r"<token xmlns=.urn:xmpp:fast:0. expiry='([^']+)' token='([^']+)'/>", answer or "")
    return (m.group(2), m.group(1)) if m else (None, None)


def add_user(ldap, uid, pw, uid_number):
    dn = ldap.user_dn(uid)
    lines = ["dn: " + dn, "objectClass: top", "objectClass: person",
             "objectClass: organizationalPerson", "objectClass: inetOrgPerson",
             "objectClass: posixAccount", "objectClass: univentionXMPPAccount",
             "uid: " + uid, "cn: Fast %s" % uid, "sn: Fast", "uidNumber: %d" % uid_number,
             "gidNumber: 5000", "homeDirectory: /home/%s" % uid,
             "userPassword: " + pw, "xmppEnabled: TRUE", "xmppDomain: a.test"]
    ldap.add("\n".join(lines) + "\n")
    return dn

