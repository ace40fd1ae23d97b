"""A real browser uploads a file (XEP-0363): Converse.js in headless
Chromium, served by the private Apache (which also proxies the WebSocket),
sends a file to bob with the chat toolbar's file button. The upload URL is
the HTTP listener's own address, another origin than the page's, so the
browser's CORS preflight (OPTIONS) and the PUT's CORS headers are what let
it through. bob (slixmpp) receives a message with the URL, and a GET of that
URL returns the bytes the browser sent."""

import os
import urllib.request

import pytest

import plucs_harness as H
from test_web_browser import Converse, _dependencies, logs_of, start_site  # noqa: F401 (fixture)


@pytest.fixture
def upload_site(plucsd_factory, tmp_path):
    p, a = start_site(plucsd_factory, tmp_path, **{"plucs/upload": "true",
                                                   "plucs/upload/dir": str(tmp_path / "files")})
    yield p, a
    a.stop()


def test_converse_uploads_a_file(upload_site, client):
    p, a = upload_site
    bob = client("bob", daemon=p)
    assert bob.login()
    bob.send_presence()
    artifacts = os.path.join(H.BUILD, "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    shot = os.path.join(artifacts, "converse-upload.png")
    name, text = "notes from the browser.txt", "Bytes uploaded by Converse.js through PLUCS\n" * 50
    url = ("http://127.0.0.1:%d/index.html?transport=websocket&jid=alice@a.test"
           "&password=alice-secret" % a.port)
    b = Converse([url, "bob@a.test", name, text, shot, "upload"], bob, logs_of(p, a))
    try:
        b.wait_for("LOGGED_IN", 90)
        b.wait_for("SENT", 40)
        m = bob.wait_message(40)
        while m is not None and "/upload/" not in (m["body"] or ""):
            m = bob.wait_message(40)
        assert m is not None, "no message with the file's URL reached bob:\n" + "".join(b.out)
        link = m["body"].strip()
        assert link.startswith("http://127.0.0.1:%d/upload/" % p.http_port), link
        assert link.endswith("/notes%20from%20the%20browser.txt"), link
        with urllib.request.urlopen(link, timeout=10) as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == "text/plain"
            assert r.read() == text.encode()
        assert p.wait_log(r"upload PUT \w+ \(%d bytes\) started" % len(text))
        b.wait_for("UPLOADED", 30)
        b.go()
        b.wait_for("SCREENSHOT", 30)
    finally:
        b.stop()
    b.finish()
