"""Stream management (XEP-0198 v3, issue 14 point 1): counting of handled
stanzas, acknowledgement requests, resumption after a cut connection on the
same and on the other worker (plucsd runs two), <failed/> for unknown ids,
expiry with unacknowledged messages going to offline storage (a SIGSTOPped
slixmpp client), presence of a detached session, plucs/sm/max_unacked,
WebSocket, metrics and `plucs status`."""

import os
import re
import signal
import subprocess
import sys
import time

import plucs_harness as H

NS_SM = "urn:xmpp:sm:3"
A, B = "alice@a.test", "bob@a.test"
STANZA_RX = re.compile(rb"<(message|presence|iq)[\s/>]")


class SM:
    """A raw client with stream management: counts the stanzas it receives
    (the h it acknowledges) and answers <r/> when asked to."""

    def __init__(self, port, user="alice", resource="sm"):
        self.port = port
        self.user = user
        self.resource = resource
        self.r = None
        self.h = 0            # stanzas received since <enable/> / last resume
        self.stanzas = []     # their text, in order
        self.acks = []        # h values of <a/> received from the server
        self.requests = 0     # <r/> received from the server
        self.pending = b""

    def login(self, enable=True, resume=True, max_=None):
        self.r = H.raw_login(self.port, self.user, H.password(self.user), resource=self.resource)
        if enable:
            extra = " resume='true'" if resume else ""
            if max_ is not None:
                extra += " max='%d'" % max_
            self.r.send("<enable xmlns='%s'%s/>" % (NS_SM, extra))
            m = self.r.read_until(rb"<enabled[^>]*/>|<failed.*?</failed>")
            assert m and m.group(0).startswith(b"<enabled"), m and m.group(0)
            self.enabled = m.group(0).decode()
            self.id = re.search(r"id='([^']+)'", self.enabled)
            self.id = self.id.group(1) if self.id else None
        return self

    def _elements(self, data):
        """Splits DATA (+ what is pending) into complete top-level elements."""
        self.pending += data
        out = []
        while True:
            m = re.match(rb"\s*<([a-zA-Z:]+)[^>]*?(/?)>", self.pending, re.S)
            if not m:
                break
            name = m.group(1)
            if m.group(2) == b"/":
                end = m.end()
            else:
                # elements here never nest one of their own name
                e = self.pending.find(b"</" + name + b">", m.end())
                if e < 0:
                    break
                end = e + len(name) + 3
            out.append(self.pending[:end].strip())
            self.pending = self.pending[end:]
        return out

    def pump(self, timeout=0.2, answer=True):
        """Reads what arrives within timeout; returns the elements."""
        data = self.r.read_all(timeout)
        els = self._elements(data)
        for el in els:
            if STANZA_RX.match(el):
                self.h += 1
                self.stanzas.append(el.decode())
            elif el.startswith(b"<r "):
                self.requests += 1
                if answer:
                    self.ack()
            elif el.startswith(b"<a "):
                self.acks.append(int(re.search(rb"h='(\d+)'", el).group(1)))
        return els

    def ack(self):
        self.r.send("<a xmlns='%s' h='%d'/>" % (NS_SM, self.h))

    def wait(self, pred, timeout=10):
        return H.wait_until(lambda: (self.pump(0.1), pred())[1], timeout)

    def server_h(self, timeout=10):
        n = len(self.acks)
        self.r.send("<r xmlns='%s'/>" % NS_SM)
        assert self.wait(lambda: len(self.acks) > n, timeout), "no <a/> for <r/>"
        return self.acks[-1]

    def bodies(self):
        return [re.search(r"<body>(.*?)</body>", s).group(1) for s in self.stanzas
                if s.startswith("<message") and "<body>" in s]

    def cut(self):
        """The connection breaks: no </stream:stream>."""
        self.r.sock.close()


def conn_worker(p, r, timeout=5):
    """The worker plucsd gave the raw connection r (from its log)."""
    port = r.sock.getsockname()[1]
    line = p.wait_log(r"c2s: 127\.0\.0\.1:%d connected \(worker (\d+)\)" % port, timeout)
    assert line, "no log line for the connection from port %d" % port
    return int(line.group(1))


def steer(p, worker, nworkers=2):
    """Opens throwaway connections until the next one goes to worker
    (plucsd spreads connections round-robin)."""
    for _ in range(nworkers + 1):
        probe = H.RawClient(p.port)
        w = conn_worker(p, probe)
        probe.close()
        if (w + 1) % nworkers == worker:
            return
    raise AssertionError("could not steer a connection to worker %d" % worker)


def resume_stream(port, user, previd, h, p=None, worker=None):
    """A new connection (on worker, when given) that authenticates and asks
    to resume; returns (RawClient, the <resumed/> or <failed/> text)."""
    if worker is not None:
        steer(p, worker)
    r = H.RawClient(port)
    if worker is not None:
        assert conn_worker(p, r) == worker
    assert r.open_stream() is not None
    r.starttls()
    assert r.open_stream() is not None
    cond = H.sasl_condition(r.auth_plain(user, H.password(user)))
    assert cond == "success"
    feats = r.open_stream()
    assert "<sm xmlns='%s'/>" % NS_SM in feats, feats
    r.send("<resume xmlns='%s' previd='%s' h='%d'/>" % (NS_SM, previd, h))
    m = r.read_until(rb"<resumed[^>]*/>|<failed.*?</failed>|<failed[^>]*/>", 10)
    assert m, "no answer to <resume/>"
    return r, m.group(0).decode()


def start(plucsd_factory, **kw):
    reg = {"plucs/threads": "2", "plucs/sm/timeout": "30"}
    reg.update(kw)
    return plucsd_factory(**reg)


def test_feature_offered_after_auth_only(plucsd_factory, raw):
    p = start(plucsd_factory)
    r = raw(p.port)
    feats = r.open_stream()
    assert NS_SM not in feats
    r2, cond = H.raw_auth(p.port, "alice", H.password("alice"))
    assert cond == "success"
    assert "<sm xmlns='%s'/>" % NS_SM in r2.open_stream()
    r2.close()
    p2 = start(plucsd_factory, **{"plucs/sm": "false"})
    r3, cond = H.raw_auth(p2.port, "alice", H.password("alice"))
    assert NS_SM not in r3.open_stream()
    r3.close()


def test_counting_10000_stanzas(plucsd_factory):
    p = start(plucsd_factory)
    c = SM(p.port).login(resume=False)
    assert "resume" not in c.enabled
    total = 10000
    batch = 500
    sent = 0
    while sent < total:
        c.r.send("".join("<iq type='get' id='p%d' to='a.test'><ping xmlns='urn:xmpp:ping'/></iq>"
                         % (sent + i) for i in range(batch)))
        sent += batch
        assert c.wait(lambda: c.h >= sent, 30), "only %d answers of %d" % (c.h, sent)
    assert c.h == total
    assert c.requests >= total // 5 - 1, "server asked for acks only %d times" % c.requests
    assert c.server_h() == total
    # one more: the server keeps counting
    c.r.send("<message to='%s/sm' type='chat' id='x'><body>self</body></message>" % A)
    assert c.wait(lambda: "self" in c.bodies())
    assert c.server_h() == total + 1
    assert not c.r.closed


def test_ack_beyond_sent_is_stream_error(plucsd_factory):
    p = start(plucsd_factory)
    c = SM(p.port).login()
    c.r.send("<a xmlns='%s' h='5'/>" % NS_SM)
    data = c.r.read_all(5)
    assert H.stream_error_condition(data) == "undefined-condition", data


def test_failed_for_unknown_id_then_bind(plucsd_factory):
    p = start(plucsd_factory)
    r, ans = resume_stream(p.port, "alice", "0.999999.deadbeef", 0)
    assert "<item-not-found" in ans and ans.startswith("<failed"), ans
    r.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    assert r.read_until(rb"<iq[^>]*type='result'", 5), "bind after <failed/> did not work"
    r.close()


def cut_and_resume(p, im, want_same_worker):
    """Alice (raw, SM) gets three messages from Bob and acknowledges them;
    the connection is cut; Bob sends three more; Alice resumes (on the
    worker asked for) and gets exactly those, once, in order."""
    bob = im("bob", daemon=p, resource="b")
    assert bob.login().ok
    a = SM(p.port).login()
    wid = int(a.id.split(".")[0])
    full = "%s/sm" % A
    for i in range(1, 4):
        bob.send(full, "m%d" % i)
    assert a.wait(lambda: len(a.bodies()) == 3), a.stanzas
    a.ack()
    assert bob.ping() == "result"
    # the server has the ack before the cut: ask for its count as a barrier
    assert a.server_h() == 0
    size = p.log_size()
    a.cut()
    assert p.wait_log(r"sm: alice@a.test/sm: connection lost, session detached", 10, size)
    for i in range(4, 7):
        bob.send(full, "m%d" % i)
    assert bob.ping() == "result"
    size = p.log_size()
    target = wid if want_same_worker else 1 - wid
    r, ans = resume_stream(p.port, "alice", a.id, a.h, p, target)
    assert ans.startswith("<resumed"), "resumption refused: %s\n%s" % (ans, p.log()[-3000:])
    assert p.wait_log(r"sm: alice@a.test/sm: session resumed", 5, size)
    if not want_same_worker:
        assert p.wait_log(r"sm: alice@a.test/sm: resumed through worker %d" % target, 5, size)
    assert "h='0'" in ans, ans   # alice sent no stanza
    b = SM(p.port)
    b.h = a.h          # h goes on across the resumption
    b.id = a.id
    b.r = r
    b.pending = r.buf
    r.buf = b""
    assert b.wait(lambda: len(b.bodies()) >= 3), b.stanzas
    b.pump(0.3)
    assert b.bodies() == ["m4", "m5", "m6"], b.bodies()
    # the stream goes on: a new message arrives, counting continues
    bob.send(full, "m7")
    assert b.wait(lambda: "m7" in b.bodies())
    b.ack()
    # the client's stanzas reach the session (on the other worker too) and
    # are counted: an iq to the server is answered, h grows
    b.r.send("<iq type='get' id='after' to='a.test'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert b.wait(lambda: any("id='after'" in x or 'id="after"' in x for x in b.stanzas))
    assert b.server_h() == 1
    # an old id on a live session of another account is refused
    r2, ans2 = resume_stream(p.port, "bob", a.id, 0)
    assert ans2.startswith("<failed") and "item-not-found" in ans2, ans2
    r2.close()
    return b


def test_resume_after_cut_same_worker(plucsd_factory, im):
    p = start(plucsd_factory)
    b = cut_and_resume(p, im, True)
    assert H.wait_until(lambda: "plucs_sm_resumptions_total 1" in metrics(p), 5), metrics(p)
    assert "plucs_sm_detached_sessions 0" in metrics(p), \
        [l for l in metrics(p).splitlines() if l.startswith("plucs_sm_")]
    # a clean close ends the session: no detached session, no resumption
    size = p.log_size()
    b.r.send("</stream:stream>")
    assert b.r.wait_closed(5)
    assert p.wait_log(r"c2s: alice@a.test/sm \(.*\) disconnected", 5, size)
    assert "detached" not in p.log()[size:]


def test_resume_after_cut_other_worker(plucsd_factory, im):
    p = start(plucsd_factory)
    b = cut_and_resume(p, im, False)
    assert H.wait_until(lambda: "plucs_sm_resumptions_total 1" in metrics(p), 5), metrics(p)
    # cut again: the session (on its worker) is detached again, and a
    # second resumption, now on the session's own worker, works
    size = p.log_size()
    wid = int(b.id.split(".")[0])
    b.cut()
    assert p.wait_log(r"sm: alice@a.test/sm: connection lost, session detached", 10, size)
    r, ans = resume_stream(p.port, "alice", b.id, b.h, p, wid)
    assert ans.startswith("<resumed"), ans
    assert "h='1'" in ans, ans
    r.close()


def metrics(p):
    import urllib.request
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % p.http_port, timeout=5) as f:
            return f.read().decode()
    except Exception as e:
        return str(e)
