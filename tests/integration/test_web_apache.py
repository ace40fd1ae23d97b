"""Apache in front (manual 3.2, plucs/http/proxy): `plucs apache` writes
the snippet, removes it when the proxy is turned off, rewrites it when a
URL changes; a real Apache with that snippet carries BOSH and WebSocket
sessions to plucsd."""

import os
import subprocess

import pytest

import apache_env
import plucs_harness as H
import web_clients as W



@pytest.fixture(autouse=True)
def _dependencies():
    """A missing dependency fails the test (it never skips silently)."""
    if not apache_env.available():
        pytest.fail("apache2 is not installed (/usr/sbin/apache2); run scripts/deps", pytrace=False)


def plucs(daemon, *args):
    return subprocess.run([os.path.join(H.BUILD, "plucs"), "--registry", daemon.registry_path]
                          + list(args), capture_output=True, text=True)


@pytest.fixture
def proxied(plucsd_factory, tmp_path):
    conf = str(tmp_path / "plucs-apache.conf")
    p = plucsd_factory(**{"plucs/http/bind": "true", "plucs/http/websocket": "true",
                          "plucs/http/address": "127.0.0.1", "plucs/http/proxy": "true",
                          "plucs/http/proxy/conffile": conf})
    r = plucs(p, "apache")
    assert r.returncode == 0, r.stderr
    assert os.path.exists(conf)
    a = apache_env.Apache(conf)
    a.start()
    yield p, a, conf
    a.stop()


def test_snippet_follows_the_registry(plucsd_factory, tmp_path):
    conf = str(tmp_path / "snippet.conf")
    p = plucsd_factory(**{"plucs/http/bind": "true", "plucs/http/poll": "true",
                          "plucs/http/proxy/conffile": conf})
    assert not os.path.exists(conf)                     # proxy is off by default
    r = plucs(p, "config", "set", "plucs/http/proxy=true")
    assert r.returncode == 0, r.stderr
    text = open(conf).read()
    assert "mod_proxy" in text and "proxy_wstunnel" in text
    assert '"^(/http-bind)/?$" "http://127.0.0.1:%d$1/"' % p.http_port in text
    assert "(/http-poll)" in text and "xmpp-websocket" not in text
    assert "reload" in r.stderr and "a2enmod" in r.stderr
    r = plucs(p, "config", "set", "plucs/http/bind/url=/bosh/", "plucs/http/websocket=true")
    text = open(conf).read()
    assert '"^(/bosh)/?$"' in text and "/http-bind" not in text
    assert '"^(/xmpp-websocket)/?$" "ws://127.0.0.1:%d$1/"' % p.http_port in text
    out = plucs(p, "apache", "--print").stdout
    assert out == text
    r = plucs(p, "config", "set", "plucs/http/proxy=false")
    assert r.returncode == 0
    assert not os.path.exists(conf)
    assert "removed" in r.stderr


def test_bosh_through_apache(proxied, client):
    p, a, _ = proxied
    bob = client("bob", daemon=p)
    assert bob.login()
    bob.send_presence()
    for path in ("/http-bind/", "/http-bind"):
        b = W.Bosh(a.port, path=path, wait=2)
        full = b.login("alice", "alice-secret", resource="apache" + str(len(path)))
        b.send("<presence xmlns='jabber:client'/>")
        b.send("<message xmlns='jabber:client' to='bob@a.test' type='chat'><body>via apache %s</body></message>" % path)
        m = bob.wait_message(5)
        assert m is not None and m["body"] == "via apache %s" % path
        bob.send_message(full, "back through apache")
        bob.barrier()             # sent and routed
        assert b.until("back through apache", tries=4), a.errors()
        b.send(type="terminate")
        b.close()


def test_websocket_through_apache(proxied, client):
    p, a, _ = proxied
    bob = client("bob", daemon=p)
    assert bob.login()
    bob.send_presence()
    ws = W.WebSocket(a.port)
    assert ws.status == 101, ws.response + a.errors()
    assert ws.headers.get("sec-websocket-protocol") == "xmpp"
    ws.login("alice", "alice-secret", resource="apache-ws")
    ws.send("<presence xmlns='jabber:client'/>")
    ws.send("<message xmlns='jabber:client' to='bob@a.test' type='chat'><body>ws via apache</body></message>")
    m = bob.wait_message(5)
    assert m is not None and m["body"] == "ws via apache"
    bob.send_message("alice@a.test/apache-ws", "pong through apache")
    bob.barrier()                 # sent and routed
    assert ws.recv_until("pong through apache")
    ws.send("<close xmlns='%s'/>" % W.NS_FRAMING)
    assert ws.recv_until("<close")
    ws.close()


def test_metrics_not_proxied(proxied):
    p, a, _ = proxied
    status, _, _ = W.http_request(a.port, "GET", "/metrics")
    assert status == 404
