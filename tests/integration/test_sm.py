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


def test_feature_offered_after_auth_only(plucsd_factory, raw, client):
    p = start(plucsd_factory)
    c = client("alice", daemon=p)
    assert c.login()
    assert NS_SM in c.disco_info()
    c.close()
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
    c2 = client("alice", daemon=p2)
    assert c2.login()
    assert NS_SM not in c2.disco_info()


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
    assert c.requests >= total // 10 - 1, "server asked for acks only %d times" % c.requests
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


def status(p):
    from test_control import status as control_status
    return control_status(p)


def test_detached_presence_then_expiry_to_offline(plucsd_factory, im):
    p = start(plucsd_factory)
    bob = im("bob", daemon=p, resource="b")
    assert bob.login().ok
    bob.available()
    a = SM(p.port).login(max_=3)
    assert "max='3'" in a.enabled, a.enabled
    a.r.send("<presence/>")
    assert bob.wait_presence(frm=A + "/sm", type="available"), bob.all_presences
    size = p.log_size()
    a.cut()
    assert p.wait_log(r"sm: alice@a.test/sm: connection lost, session detached for 3 s", 10, size)
    st = status(p)
    assert st["sessions/detached"] == "1", st
    assert 0 <= int(st["sessions/detached/alice@a.test/sm"]) <= 3, st
    assert "plucs_sm_detached_sessions 1" in metrics(p)
    for i in range(1, 3):
        bob.send(A + "/sm", "while detached %d" % i)
    assert bob.ping() == "result"
    # still available to contacts while detached ...
    assert not bob.saw_presence(frm=A + "/sm", type="unavailable")
    # ... and unavailable at expiry
    bob.expect_unavailable(A + "/sm", timeout=8)
    assert p.wait_log(r"sm: alice@a.test/sm: no resumption within 3 s, session ended "
                      r"\(\d+ unacknowledged\)", 5, size)
    assert p.wait_log(r"sm: 2 unacknowledged message\(s\) rerouted", 5, size)
    assert status(p)["sessions/detached"] == "0"
    assert "plucs_sm_detached_sessions 0" in metrics(p)
    # an expired id is refused
    r, ans = resume_stream(p.port, "alice", a.id, a.h)
    assert ans.startswith("<failed") and "item-not-found" in ans, ans
    r.close()
    assert "plucs_sm_failed_resumptions_total 1" in metrics(p)
    # the messages are in offline storage, delivered exactly once at the next login
    alice = im("alice", daemon=p, resource="desk")
    assert alice.login().ok
    alice.available()
    for i in range(1, 3):
        assert alice.wait_message(body="while detached %d" % i), alice.all_messages
    alice.quiet(0.5)
    got = [m.body for m in alice.all_messages if m.body and m.body.startswith("while")]
    assert got == ["while detached 1", "while detached 2"], got


def test_sigstopped_client_messages_go_offline(plucsd_factory, im):
    p = start(plucsd_factory, **{"plucs/sm/timeout": "3"})
    bob = im("bob", daemon=p, resource="b")
    assert bob.login().ok
    proc = subprocess.Popen(["/usr/bin/python3",
                             os.path.join(os.path.dirname(__file__), "sm_client.py"),
                             str(p.port), A + "/phone", H.password("alice")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "READY" not in lines:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
        assert "READY" in lines, lines
        assert p.wait_log(r"sm: alice@a.test/phone: stream management enabled with resumption", 10)
        size = p.log_size()
        proc.send_signal(signal.SIGSTOP)
        for i in range(1, 4):
            bob.send(A + "/phone", "to a frozen phone %d" % i)
        assert bob.ping() == "result"
        # no <a/> comes: the connection is taken for lost, then the wait ends
        assert p.wait_log(r"sm: alice@a.test/phone: no answer to <r/> within 3 s", 15, size)
        assert p.wait_log(r"sm: alice@a.test/phone: no resumption within 3 s", 10, size)
        assert p.wait_log(r"sm: 3 unacknowledged message\(s\) rerouted", 5, size)
    finally:
        proc.kill()
        proc.wait(10)
    alice = im("alice", daemon=p, resource="desk")
    assert alice.login().ok
    alice.available()
    for i in range(1, 4):
        assert alice.wait_message(body="to a frozen phone %d" % i), alice.all_messages


def test_max_unacked(plucsd_factory, im):
    p = start(plucsd_factory, **{"plucs/sm/max_unacked": "10"})
    bob = im("bob", daemon=p, resource="b")
    assert bob.login().ok
    a = SM(p.port).login(resume=False)
    size = p.log_size()
    for i in range(1, 12):
        bob.send(A + "/sm", "n%d" % i)
    assert bob.ping() == "result"
    a.pump(2, answer=False)      # never acknowledges
    data = a.r.read_all(3)
    assert a.r.closed or H.stream_error_condition(a.pending + data) == "resource-constraint"
    assert p.wait_log(r"more than plucs/sm/max_unacked \(10\)", 5, size)
    assert p.wait_log(r"sm: 11 unacknowledged message\(s\) rerouted", 5, size)
    alice = im("alice", daemon=p, resource="desk")
    assert alice.login().ok
    alice.available()
    assert alice.wait_message(body="n11"), alice.all_messages


def test_takeover_of_a_live_connection(plucsd_factory, im):
    """The client reconnects before the server noticed the old connection
    broke: the old stream is closed silently, no unavailable presence."""
    p = start(plucsd_factory)
    bob = im("bob", daemon=p, resource="b")
    assert bob.login().ok
    bob.available()
    a = SM(p.port).login()
    a.r.send("<presence/>")
    assert bob.wait_presence(frm=A + "/sm", type="available")
    bob.send(A + "/sm", "before")
    assert a.wait(lambda: "before" in a.bodies())
    for w in (int(a.id.split(".")[0]), 1 - int(a.id.split(".")[0])):
        size = p.log_size()
        r, ans = resume_stream(p.port, "alice", a.id, a.h, p, w)
        assert ans.startswith("<resumed"), ans
        assert a.r.wait_closed(5), "the old stream stays open"
        assert "detached" not in p.log()[size:], "the session was detached, not taken over"
        assert H.stream_error_condition(a.r.buf) is None
        b = SM(p.port)
        b.r, b.h, b.id = r, a.h, a.id
        bob.send(A + "/sm", "after %d" % w)
        assert b.wait(lambda: ("after %d" % w) in b.bodies()), b.stanzas
        a = b
    bob.quiet(0.5)
    assert not bob.saw_presence(frm=A + "/sm", type="unavailable")


def test_websocket_resume(plucsd_factory, im):
    import web_clients as W
    p = start(plucsd_factory, **{"plucs/http/websocket": "true",
                                 "plucs/http/address": "127.0.0.1"})
    bob = im("bob", daemon=p, resource="b")
    assert bob.login().ok
    ws = W.WebSocket(p.http_port)
    assert ws.login("alice", "alice-secret", resource="ws") == A + "/ws"
    ws.send("<enable xmlns='%s' resume='true'/>" % NS_SM)
    en = ws.recv_until("<enabled")
    assert en and "resume='true'" in en, en
    previd = re.search(r"id='([^']+)'", en).group(1)
    size = p.log_size()
    ws.close()
    assert p.wait_log(r"sm: alice@a.test/ws: connection lost, session detached", 10, size)
    bob.send(A + "/ws", "over websocket")
    assert bob.ping() == "result"
    ws2 = W.WebSocket(p.http_port)
    o, f = ws2.open()
    ws2.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (W.NS_SASL, W.plain("alice", "alice-secret")))
    assert "<success" in ws2.recv()
    o, f = ws2.open()
    assert "<sm xmlns='%s'/>" % NS_SM in f, f
    ws2.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, previd))
    got = ws2.recv_until("<resumed")
    assert got, "no <resumed/>"
    m = ws2.recv_until("over websocket")
    assert m and m.startswith("<message"), m
    ws2.close()


def test_other_worker_stream_error_ends_session(plucsd_factory, im):
    """Through the pipe, a client error (an ack beyond what was sent) ends
    the stream on the connection's worker and the session on its own."""
    p = start(plucsd_factory)
    bob = im("bob", daemon=p, resource="b")
    assert bob.login().ok
    bob.available()
    a = SM(p.port).login()
    a.r.send("<presence/>")
    assert bob.wait_presence(frm=A + "/sm", type="available")
    wid = int(a.id.split(".")[0])
    size = p.log_size()
    a.cut()
    assert p.wait_log(r"sm: alice@a.test/sm: connection lost, session detached", 10, size)
    a.pump(0)
    r, ans = resume_stream(p.port, "alice", a.id, 0, p, 1 - wid)
    assert ans.startswith("<resumed"), ans
    r.send("<a xmlns='%s' h='999'/>" % NS_SM)
    data = r.read_all(5)
    assert H.stream_error_condition(data) == "undefined-condition", data
    assert r.closed
    bob.expect_unavailable(A + "/sm", timeout=5)
    r2, ans2 = resume_stream(p.port, "alice", a.id, 0)
    assert ans2.startswith("<failed"), ans2
    r2.close()
