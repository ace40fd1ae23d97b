"""The HTTP listener (plucs/http/*): status codes, limits, keep-alive,
pipelining, CORS, /metrics, and registry toggles applied on reload."""

import re
import socket
import time

import pytest

import web_clients as W

WEB = {"plucs/http/bind": "true", "plucs/http/poll": "true", "plucs/http/websocket": "true",
       "plucs/http/address": "127.0.0.1"}


@pytest.fixture
def web(plucsd_factory):
    return plucsd_factory(**WEB)


def test_unknown_path_is_404(web):
    status, _, _ = W.http_request(web.http_port, "GET", "/nothing-here")
    assert status == 404


def test_paths_with_and_without_trailing_slash(web):
    for path in ("/http-bind/", "/http-bind"):
        status, headers, _ = W.http_request(web.http_port, "GET", path)
        assert status == 405, path
        assert "POST" in headers.get("allow", "")


def test_wrong_method_is_405(web):
    status, headers, _ = W.http_request(web.http_port, "DELETE", "/http-poll/")
    assert status == 405
    status, headers, _ = W.http_request(web.http_port, "POST", "/metrics", body="x")
    assert status == 405 and "GET" in headers.get("allow", "")


def test_bad_body_is_400(web):
    status, _, body = W.http_request(web.http_port, "POST", "/http-bind/", body="<body")
    assert status == 400
    assert "bad-request" in body


def test_oversized_body_is_413(web):
    big = "<body xmlns='http://jabber.org/protocol/httpbind'>" + "x" * 200000 + "</body>"
    status, _, _ = W.http_request(web.http_port, "POST", "/http-bind/", body=big)
    assert status == 413


def test_garbage_request_is_400(web):
    s = socket.create_connection(("127.0.0.1", web.http_port), timeout=5)
    s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
    data = s.recv(4096)
    s.close()
    assert data.startswith(b"HTTP/1.1 400"), data


def test_oversized_headers_are_refused(web):
    s = socket.create_connection(("127.0.0.1", web.http_port), timeout=5)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    data = s.recv(4096)
    s.close()
    assert data.startswith(b"HTTP/1.1 431"), data


def test_keep_alive_and_pipelining(web):
    s = socket.create_connection(("127.0.0.1", web.http_port), timeout=5)
    # three requests in one write: answered in order on the same connection
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
              b"OPTIONS /http-bind/ HTTP/1.1\r\nHost: x\r\nOrigin: http://example.org\r\n\r\n")
    data = b""
    end = time.monotonic() + 5
    while data.count(b"HTTP/1.1 ") < 3 and time.monotonic() < end:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    codes = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]
    assert codes == [200, 404, 204], data[:500]


def test_cors_preflight_and_headers(web):
    status, headers, _ = W.http_request(web.http_port, "OPTIONS", "/http-bind/",
                                        headers={"Origin": "https://chat.example.org",
                                                 "Access-Control-Request-Method": "POST"})
    assert status == 204
    assert headers.get("access-control-allow-origin") == "*"
    assert "POST" in headers.get("access-control-allow-methods", "")
    # no CORS on /metrics
    status, headers, _ = W.http_request(web.http_port, "GET", "/metrics",
                                        headers={"Origin": "https://chat.example.org"})
    assert status == 200 and "access-control-allow-origin" not in headers


def test_cors_origin_list(plucsd_factory):
    p = plucsd_factory(**dict(WEB, **{"plucs/http/cors/origins": "https://ok.example"}))
    _, h, _ = W.http_request(p.http_port, "OPTIONS", "/http-bind/", headers={"Origin": "https://ok.example"})
    assert h.get("access-control-allow-origin") == "https://ok.example"
    _, h, _ = W.http_request(p.http_port, "OPTIONS", "/http-bind/", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in h


def test_metrics(web, client):
    c = client("alice", daemon=web)
    assert c.login()
    status, headers, body = W.http_request(web.http_port, "GET", "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    assert 'plucs_sessions{transport="tcp",domain="a.test"} 1' in body
    assert 'plucs_auth_total{result="success"}' in body
    for name in ("plucs_stanzas_routed_total", "plucs_filter_refused_total",
                 "plucs_directory_lag_seconds", "plucs_bosh_sessions", "plucs_bosh_held_requests"):
        assert name in body, name


def test_toggles_apply_on_reload(plucsd_factory):
    p = plucsd_factory(**{"plucs/http/address": "127.0.0.1"})
    assert W.http_request(p.http_port, "GET", "/http-bind/")[0] == 404   # off by default
    mark = p.log_size()
    p.write_registry({"plucs/http/bind": "true", "plucs/http/bind/url": "/bosh/"})
    p.sighup()
    assert p.wait_log("reload: registry", 10, mark)
    assert W.http_request(p.http_port, "GET", "/bosh")[0] == 405
    assert W.http_request(p.http_port, "GET", "/http-bind/")[0] == 404
    # a port change re-binds the listener
    newport = W.socket.socket()
    newport.bind(("127.0.0.1", 0))
    port = newport.getsockname()[1]
    newport.close()
    mark = p.log_size()
    p.write_registry({"plucs/http/port": str(port), "plucs/http/bind": "true"})
    p.sighup()
    assert p.wait_log("reload: registry", 10, mark)
    assert W.http_request(port, "GET", "/metrics")[0] == 200
