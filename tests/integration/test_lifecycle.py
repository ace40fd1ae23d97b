"""Foundation: reload (SIGHUP) and shutdown (SIGTERM) (registry.md
"Reload semantics", RFC 6120 section 4.4)."""

import re
import signal

import plucs_harness as H


def _tls_required(port):
    r = H.RawClient(port)
    try:
        feats = r.open_stream()
    finally:
        r.close()
    assert feats is not None
    i = feats.find("<starttls")
    if i < 0:
        return None
    part = feats[i:]
    return "<required" in part[:max(part.find("</starttls>"), 0)]


def test_sighup_broken_registry_keeps_running(plucsd, client):
    c = client("alice", daemon=plucsd)
    assert c.login().ok
    start = plucsd.log_size()
    plucsd.write_registry({"plucs/tls": "maybe"})
    plucsd.sighup()
    assert plucsd.wait_log(r"plucs/tls", 10, start), \
        "the log does not name the bad variable:\n" + plucsd.log()[start:]
    assert plucsd.alive()
    assert c.is_connected()
    assert c.ping() == "result"
    # The previous configuration stays in force: STARTTLS still offered.
    assert _tls_required(plucsd.port) is False
    assert client("bob", daemon=plucsd).login().ok


def test_sighup_applies_good_change(plucsd, client):
    c = client("alice", daemon=plucsd)
    assert c.login().ok
    assert _tls_required(plucsd.port) is False
    plucsd.registry["plucs/tls"] = "required"
    plucsd.registry["plucs/loglevel"] = "4"
    plucsd.write_registry()
    plucsd.sighup()
    assert H.wait_until(lambda: _tls_required(plucsd.port) is True, 10), \
        "plucs/tls=required not applied after SIGHUP"
    assert c.is_connected()
    assert c.ping() == "result"
    assert plucsd.alive()


def test_sigterm_closes_streams_and_exits_0(plucsd, raw):
    r = H.raw_login(plucsd.port, "alice", H.password("alice"))
    pre = H.RawClient(plucsd.port)          # an unauthenticated stream too
    assert pre.open_stream() is not None
    plucsd.signal(signal.SIGTERM)
    data = r.read_all(timeout=10)
    assert b"</stream:stream>" in data, data
    data2 = pre.read_all(timeout=10)
    pre.close()
    r.close()
    assert b"</stream:stream>" in data2, data2
    assert plucsd.terminate() == 0
