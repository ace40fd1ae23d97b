"""Memory per idle session (issue 17, item 3): a client stream that has been
quiet for a sweep period gives up its XML parser between stanzas (c2s.c
c2s_idle, xml_stream.c xstream_release) and gets a fresh one, primed with
the stream header's namespace declarations, on its next byte. What the
client sends after that must parse exactly as before: the default
namespace, a prefix declared only on the stream header, and the limits
(a hostile stanza is still refused). Waits on the server's debug line
"idle, XML parser released", never on a fixed sleep."""

import plucs_harness as H

PING = "urn:xmpp:ping"


def login_idle(plucsd, tls=True):
    """A raw client, logged in and bound, whose stream header declared the
    prefix p for urn:xmpp:ping; returns it once its parser was released."""
    r, cond = H.raw_auth(plucsd.port, "alice", H.password("alice"), tls=tls)
    assert cond == "success", cond
    r.send(H.stream_header(extra=" xmlns:p='%s'" % PING))
    assert r.read_until(rb"</stream:features>"), "no features after SASL"
    r.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
           "<resource>idle</resource></bind></iq>")
    assert r.read_until(rb"id=['\"]b1['\"]"), "no bind result"
    start = plucsd.log_size()
    assert plucsd.wait_log(r"idle, XML parser released", timeout=15, start=start), \
        "the idle stream's parser was not released"
    return r


def test_stanzas_after_release_keep_namespaces(plucsd):
    r = login_idle(plucsd)
    # a prefix declared only on the stream header, then the default namespace
    r.send("<iq type='get' id='p1' to='a.test'><p:ping/></iq>")
    m = r.read_until(rb"<iq[^>]*id=['\"]p1['\"][^>]*(/>|>.*?</iq>)")
    assert m and b"result" in m.group(0), m and m.group(0)
    start = plucsd.log_size()
    assert plucsd.wait_log(r"idle, XML parser released", timeout=15, start=start)
    r.send("<iq type='get' id='p2' to='a.test'><ping xmlns='%s'/></iq>" % PING)
    m = r.read_until(rb"<iq[^>]*id=['\"]p2['\"][^>]*(/>|>.*?</iq>)")
    assert m and b"result" in m.group(0), m and m.group(0)
    r.close()


def test_plain_stream_after_release(plucsd_factory):
    p = plucsd_factory(**{"plucs/tls": "false"})
    r = login_idle(p, tls=False)
    r.send("<iq type='get' id='p3' to='a.test'><p:ping/></iq>")
    m = r.read_until(rb"<iq[^>]*id=['\"]p3['\"][^>]*(/>|>.*?</iq>)")
    assert m and b"result" in m.group(0), m and m.group(0)
    r.close()


def test_hostile_after_release_refused(plucsd):
    r = login_idle(plucsd)
    r.send("<message to='bob@a.test'><body>%s</body></message>" % ("x" * 70000))
    data = r.read_all(timeout=10)
    assert H.stream_error_condition(data) == "policy-violation", data[-300:]
    r = login_idle(plucsd)
    r.send("<q:x/>")   # a prefix nobody declared
    data = r.read_all(timeout=10)
    assert H.stream_error_condition(data) == "not-well-formed", data[-300:]
    r = login_idle(plucsd)
    r.send("<!DOCTYPE x [<!ENTITY a 'b'>]><message>&a;</message>")
    data = r.read_all(timeout=10)
    assert H.stream_error_condition(data) in ("restricted-xml", "not-well-formed"), data[-300:]



def test_websocket_after_release(plucsd_factory):
    """A WebSocket connection releases its parser too (websocket.c ws_idle);
    the next messages parse as before: the default namespace of the wrapper,
    a prefix declared on the element itself, and a hostile one is refused."""
    import web_clients as W
    p = plucsd_factory(**{"plucs/http/websocket": "true", "plucs/http/address": "127.0.0.1"})
    ws = W.WebSocket(p.http_port)
    try:
        assert ws.login("alice", "alice-secret") == "alice@a.test/ws"
        start = p.log_size()
        assert p.wait_log(r"websocket: .*idle, XML parser released", timeout=15, start=start), \
            "the idle WebSocket's parser was not released"
        ws.send("<iq xmlns='jabber:client' type='get' id='w1' to='a.test'><ping xmlns='%s'/></iq>"
                % PING)
        m = ws.recv_until(r"id=['\"]w1['\"]")
        assert m and "result" in m and "jabber:client" in m, m
        start = p.log_size()
        assert p.wait_log(r"websocket: .*idle, XML parser released", timeout=15, start=start)
        ws.send("<iq xmlns='jabber:client' type='get' id='w2' to='a.test' xmlns:q='%s'><q:ping/></iq>"
                % PING)
        m = ws.recv_until(r"id=['\"]w2['\"]")
        assert m and "result" in m, m
        start = p.log_size()
        assert p.wait_log(r"websocket: .*idle, XML parser released", timeout=15, start=start)
        ws.send("<!DOCTYPE x [<!ENTITY a 'b'>]><message xmlns='jabber:client'>&a;</message>")
        m = ws.recv_until(r"<stream:error|<error|restricted-xml|not-well-formed")
        assert m and ("restricted-xml" in m or "not-well-formed" in m), m
    finally:
        ws.close()


def test_polling_after_release(plucsd_factory):
    """An HTTP polling session (poll.c poll_idle) releases its parser
    between stanzas too; a stanza sent after that is answered."""
    import web_clients as W
    from test_web_poll_ws import poll_login
    p = plucsd_factory(**{"plucs/http/poll": "true", "plucs/http/address": "127.0.0.1"})
    start = p.log_size()
    s = poll_login(p)
    assert p.wait_log(r"poll: .*idle, XML parser released", timeout=15, start=start), \
        "the idle polling session's parser was not released"
    _, _, got = s.post("<iq type='get' id='q1' to='a.test'><ping xmlns='%s'/></iq>" % PING)
    if "q1" not in got:
        got = s.until(r"id=['\"]q1['\"]")
    assert got and "result" in got, got

def test_burst_is_trimmed_on_the_main_thread(plucsd):
    """After a burst of streams goes quiet, the worker asks and the main
    thread gives the freed memory back (core/mem_trim.c); the worker never
    runs malloc_trim itself. 80 streams: more than the 64 a worker needs."""
    start = plucsd.log_size()
    streams = []
    for _ in range(80):
        r = H.RawClient(plucsd.port)
        assert r.open_stream(to="a.test") is not None, "no stream features"
        streams.append(r)
    try:
        assert plucsd.wait_log(r"malloc_trim on the main thread took [0-9.]+ ms after [0-9]+ "
                               r"released|malloc_trim, main thread\) took", timeout=30,
                               start=start), "no trim after the burst went quiet"
    finally:
        for r in streams:
            r.close()
