"""A raw-protocol client that parses what it receives into stanzas, for
tests that must see every byte the server sends (test_carbons.py,
test_csi.py): slixmpp consumes carbons and CSI itself."""

import time
import xml.etree.ElementTree as ET

import plucs_harness as H

NS_CLIENT = "jabber:client"


class RawIM:
    """raw_login() plus an incremental parser: self.got lists every
    top-level element received (ElementTree elements, in order)."""

    def __init__(self, port, user, resource, presence=True):
        self.r = H.raw_login(port, H.jid(user), H.password(user), resource=resource)
        self.full = "%s/%s" % (H.jid(user), resource)
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.parser.feed("<root xmlns='%s' xmlns:stream='http://etherx.jabber.org/streams'>"
                         % NS_CLIENT)
        self.depth = 0
        self.got = []
        self.n = 0
        if presence:
            self.send("<presence id='p0'/>")
            assert self.has(lambda e: e.tag == "{%s}presence" % NS_CLIENT
                             and e.get("from") == self.full), "%s: no presence echo: %r %r" % (self.full, [ET.tostring(g) for g in self.got], self.r.buf)

    def send(self, data):
        self.r.send(data)

    def pump(self, timeout=0.05):
        data = self.r.read_all(timeout)
        if data:
            self.parser.feed(data)
            for ev, el in self.parser.read_events():
                if ev == "start":
                    self.depth += 1
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        self.got.append(el)

    def wait(self, pred, timeout=5):
        """The first element received since the last wait() matching pred
        (waits up to timeout), or None."""
        end = time.monotonic() + timeout
        while True:
            for i in range(self.n, len(self.got)):
                if pred(self.got[i]):
                    self.n = i + 1
                    return self.got[i]
            if time.monotonic() >= end:
                return None
            self.pump(min(0.1, max(0.01, end - time.monotonic())))

    def has(self, pred, timeout=5):
        """wait() as a bool (an element without children is falsy)."""
        return self.wait(pred, timeout) is not None

    def iq(self, payload, to=None, type="set", timeout=5):
        self.n_iq = getattr(self, "n_iq", 0) + 1
        iid = "q%d" % self.n_iq
        self.send("<iq type='%s' id='%s'%s>%s</iq>" % (
            type, iid, " to='%s'" % to if to else "", payload))
        return self.wait(lambda e: e.tag == "{%s}iq" % NS_CLIENT and e.get("id") == iid, timeout)

    def ping(self):
        r = self.iq("<ping xmlns='urn:xmpp:ping'/>", type="get")
        assert r is not None and r.get("type") == "result", "no ping answer"

    def messages(self):
        return [e for e in self.got if e.tag == "{%s}message" % NS_CLIENT]

    def close(self):
        self.r.close()
