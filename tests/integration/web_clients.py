"""web_clients: raw protocol clients for the web transports, written
against the specs (XEP-0124/0206, XEP-0025, RFC 6455/7395), not against
PLUCS: a BOSH client on http.client, an HTTP polling client, and a minimal
RFC 6455 WebSocket client on a plain socket (no third-party packages)."""

import base64
import hashlib
import http.client
import os
import random
import re
import socket
import struct
import time
import xml.etree.ElementTree as ET

NS_BIND = "http://jabber.org/protocol/httpbind"
NS_XBOSH = "urn:xmpp:xbosh"
NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_CLIENT = "jabber:client"


def plain(user, pw):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()


def http_request(port, method, path, body=None, headers=None, host="127.0.0.1", timeout=10):
    """One request on a fresh connection: (status, headers dict (lower-case), body str)."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


class Bosh:
    """A BOSH session driven one request at a time (hold=1: each request may
    be held up to `wait` seconds when the server has nothing to say)."""

    def __init__(self, port, path="/http-bind/", host="127.0.0.1", wait=2, hold=1):
        self.port, self.path, self.host = port, path, host
        self.wait, self.hold = wait, hold
        self.rid = random.randint(1000000, 9000000)
        self.sid = None
        self.attrs = {}
        self.conn = None
        self.features = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.wait + 15)
        return self.conn

    def raw(self, body, headers=None):
        """POSTs body on the keep-alive connection: (status, text)."""
        h = {"Content-Type": "text/xml; charset=utf-8"}
        h.update(headers or {})
        c = self._conn()
        try:
            c.request("POST", self.path, body=body, headers=h)
            r = c.getresponse()
            data = r.read().decode("utf-8", "replace")
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status, data
        except (ConnectionError, http.client.HTTPException, OSError):
            self.close()
            raise

    def body(self, inner="", rid=None, sid=True, **attrs):
        a = {"rid": str(self.rid if rid is None else rid), "xmlns": NS_BIND}
        if sid and self.sid:
            a["sid"] = self.sid
        for k, v in attrs.items():
            a[k.replace("__", ":").replace("_", "-") if "__" in k else k] = str(v)
        s = "<body" + "".join(" %s='%s'" % kv for kv in a.items())
        return s + (">%s</body>" % inner if inner else "/>")

    def send(self, inner="", rid=None, **attrs):
        """Sends the next request (or the given rid) and parses the answer."""
        if rid is None:
            self.rid += 1
            rid = self.rid
        status, text = self.raw(self.body(inner, rid=rid, **attrs))
        assert status == 200, "HTTP %d: %s" % (status, text)
        return ET.fromstring(text), text

    def create(self, to="a.test", **extra):
        attrs = {"to": to, "wait": self.wait, "hold": self.hold, "ver": "1.6",
                 "xmlns:xmpp": NS_XBOSH, "xmpp:version": "1.0", "xml:lang": "en"}
        attrs.update(extra)
        a = {"rid": str(self.rid), "xmlns": NS_BIND}
        a.update({k: str(v) for k, v in attrs.items()})
        body = "<body" + "".join(" %s='%s'" % kv for kv in a.items()) + "/>"
        status, text = self.raw(body)
        assert status == 200, "HTTP %d: %s" % (status, text)
        el = ET.fromstring(text)
        self.attrs = el.attrib
        self.sid = el.get("sid")
        self.features = text
        return el, text

    def until(self, pattern, tries=6, **attrs):
        """Sends empty requests until an answer's text matches REGEX."""
        seen = ""
        for _ in range(tries):
            _, text = self.send(**attrs)
            seen += text
            if re.search(pattern, seen, re.S):
                return seen
        return None

    def login(self, user, pw, domain="a.test", resource="bosh"):
        el, text = self.create(to=domain)
        assert self.sid, text
        if "mechanism" not in text:
            text = self.until("mechanism")
        _, t = self.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, plain(user, pw)))
        if "success" not in t and "failure" not in t:
            t = self.until("success|failure")
        assert "<success" in t, t
        _, t = self.send(**{"xmpp:restart": "true", "xmlns:xmpp": NS_XBOSH, "to": domain})
        if "bind" not in t:
            t = self.until("urn:ietf:params:xml:ns:xmpp-bind")
        _, t = self.send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns="
                         "'urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>"
                         % resource)
        if "<jid" not in t:
            t = self.until("<jid")
        m = re.search(r"<jid>([^<]+)</jid>", t)
        assert m, t
        self.jid = m.group(1)
        return self.jid

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Poll:
    """XEP-0025 HTTP polling with a key sequence."""

    def __init__(self, port, path="/http-poll/", host="127.0.0.1", keys=True, nkeys=300):
        self.port, self.path, self.host = port, path, host
        self.id = "0"
        self.keys = []
        if keys:
            k = base64.b64encode(os.urandom(12)).decode()
            chain = [k]
            for _ in range(nkeys):
                chain.append(base64.b64encode(hashlib.sha1(chain[-1].encode()).digest()).decode())
            self.keys = chain   # use from the end: K(n), K(n-1), ...

    def post(self, data, key=None, newkey=None):
        prefix = self.id
        if self.keys:
            k = key if key is not None else self.keys.pop()
            prefix += ";" + k
            if newkey:
                prefix += ";" + newkey
        status, headers, body = http_request(self.port, "POST", self.path, prefix + "," + data,
                                             {"Content-Type": "application/x-www-form-urlencoded"})
        cookie = headers.get("set-cookie", "")
        m = re.search(r"ID=([^;]+)", cookie)
        ident = m.group(1) if m else None
        if ident and not ident.startswith("-") and ident != "0:0":
            self.id = ident
        return status, ident, body

    def until(self, pattern, tries=20):
        seen = ""
        for _ in range(tries):
            _, ident, body = self.post("")
            seen += body
            if re.search(pattern, seen, re.S):
                return seen
            time.sleep(0.1)
        return None


class WebSocket:
    """A minimal RFC 6455 client: handshake, masked frames, fragments,
    ping/pong and close."""

    def __init__(self, port, path="/xmpp-websocket/", host="127.0.0.1", protocol="xmpp",
                 origin=None, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port), "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        if protocol:
            lines.append("Sec-WebSocket-Protocol: " + protocol)
        if origin:
            lines.append("Origin: " + origin)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.response = head.decode("latin-1")
        self.status = int(self.response.split(" ")[1]) if self.response else 0
        self.headers = {}
        for line in self.response.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            assert self.headers.get("sec-websocket-accept") == want, self.response

    def send_frame(self, opcode, payload, fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", b0, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send(self, text):
        self.send_frame(0x1, text)

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def recv_frame(self, timeout=10):
        """(fin, opcode, payload bytes); raises EOFError / socket.timeout."""
        deadline = time.monotonic() + timeout
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        off = 2
        if n == 126:
            self._need(4, deadline)
            n = struct.unpack("!H", self.buf[2:4])[0]
            off = 4
        elif n == 127:
            self._need(10, deadline)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            off = 10
        assert not b1 & 0x80, "server frames must not be masked"
        self._need(off + n, deadline)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv(self, timeout=10):
        """The next text message (pings answered, pongs skipped); None on a
        close frame (its code in self.close_code)."""
        parts = []
        while True:
            fin, op, payload = self.recv_frame(timeout)
            if op == 0x9:
                self.send_frame(0xA, payload)
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return None
            parts.append(payload)
            if fin:
                return b"".join(parts).decode()

    def recv_until(self, pattern, timeout=10):
        end = time.monotonic() + timeout
        seen = []
        while time.monotonic() < end:
            m = self.recv(max(0.1, end - time.monotonic()))
            if m is None:
                return None
            seen.append(m)
            if re.search(pattern, m, re.S):
                return m
        return None

    def open(self, to="a.test"):
        self.send("<open xmlns='%s' to='%s' version='1.0'/>" % (NS_FRAMING, to))
        o = self.recv()
        f = self.recv()
        return o, f

    def login(self, user, pw, domain="a.test", resource="ws"):
        o, f = self.open(domain)
        assert o and o.startswith("<open"), o
        assert f and "PLAIN" in f, f
        self.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, plain(user, pw)))
        r = self.recv()
        assert r and "<success" in r, r
        o, f = self.open(domain)
        assert f and "bind" in f, f
        self.send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns="
                  "'urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>" % resource)
        r = self.recv()
        m = re.search(r"<jid>([^<]+)</jid>", r or "")
        assert m, r
        self.jid = m.group(1)
        return self.jid

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
