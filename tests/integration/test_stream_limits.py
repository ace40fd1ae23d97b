"""Foundation: hostile input gets the proper stream error and never hurts
the server (RFC 6120 sections 4.9.3.18, 11.1; DESIGN.md)."""

import plucs_harness as H

DTD = ("<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY x 'y'>]>"
       "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
       "to='a.test' version='1.0'>")

LAUGHS = ("<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
          + "".join("<!ENTITY lol%d '%s'>" % (i, ("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10)
                    for i in range(1, 10))
          + "]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
            "to='a.test' version='1.0'><message>&lol9;</message>")


def _still_serving(plucsd, client):
    assert client("alice", daemon=plucsd).login().ok


def test_dtd_restricted_xml(plucsd, raw, client):
    r = raw(plucsd.port)
    r.send(DTD)
    data = r.read_all(timeout=5)
    assert H.stream_error_condition(data) == "restricted-xml", data
    _still_serving(plucsd, client)


def test_billion_laughs_restricted_xml(plucsd, raw, client):
    r = raw(plucsd.port)
    r.send(LAUGHS)
    data = r.read_all(timeout=5)
    assert H.stream_error_condition(data) == "restricted-xml", data
    _still_serving(plucsd, client)


def test_dtd_inside_open_stream(plucsd, raw, client):
    r = raw(plucsd.port)
    assert r.open_stream() is not None
    r.send("<!DOCTYPE x [<!ENTITY a 'b'>]><message>&a;</message>")
    data = r.read_all(timeout=5)
    assert H.stream_error_condition(data) in ("restricted-xml", "not-well-formed"), data
    _still_serving(plucsd, client)


def test_not_well_formed(plucsd, raw):
    r = raw(plucsd.port)
    assert r.open_stream() is not None
    r.send("<message><body>x</mess>")
    data = r.read_all(timeout=5)
    assert H.stream_error_condition(data) == "not-well-formed", data


def test_oversized_stanza_policy_violation(plucsd, client):
    c = client("alice", daemon=plucsd)
    assert c.login().ok
    big = "x" * 70000  # default plucs/max_stanza_size is 65536
    c.send_raw("<message to='bob@a.test' type='chat'><body>%s</body></message>" % big)
    err = c.wait_disconnect(timeout=10)
    assert err is not None and err[0] == "policy-violation", err
    _still_serving(plucsd, client)


def test_oversized_stanza_before_auth(plucsd, raw):
    r = raw(plucsd.port)
    assert r.open_stream() is not None
    r.send("<iq type='get' id='x'><query xmlns='jabber:iq:version'>%s</query></iq>" % ("y" * 70000))
    data = r.read_all(timeout=5)
    assert H.stream_error_condition(data) == "policy-violation", data[:500]
