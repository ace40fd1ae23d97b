"""A real browser and the message archive (issue 14, XEP-0313): Converse.js
in headless Chromium logs in over WebSocket (through the private Apache of
test_web_browser.py), receives a message from a slixmpp client and answers
it; then the page forgets everything it stored locally and reloads, and
after logging in again shows both messages of the conversation, which only
the server's archive can have given it. Screenshot: $PLUCS_BUILD/artifacts/
converse-mam.png."""

import os

import pytest

import plucs_harness as H
from test_web_browser import Converse, _dependencies, logs_of, site  # noqa: F401 (fixtures)


def test_converse_shows_history_from_archive_after_reload(site, client):
    p, a = site
    bob = client("bob", daemon=p)
    assert bob.login()
    bob.send_presence()
    artifacts = os.path.join(H.BUILD, "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    shot = os.path.join(artifacts, "converse-mam.png")
    greeting = "Archived greeting from slixmpp"
    reply = "Archived answer from Converse"
    url = ("http://127.0.0.1:%d/index.html?transport=websocket&jid=alice@a.test"
           "&password=alice-secret" % a.port)
    b = Converse([url, "bob@a.test", greeting, reply, shot, "mam"], bob, logs_of(p, a))
    try:
        b.wait_for("LOGGED_IN", 90)
        bob.send_message("alice@a.test", greeting)
        b.wait_for("RECEIVED", 40)
        b.wait_for("REPLIED", 40)
        m = bob.wait_message(30)
        while m is not None and m["body"] != reply:
            m = bob.wait_message(30)
        assert m is not None, "the answer typed in the browser never reached slixmpp"
        b.go()
        b.wait_for("LOGGED_IN again", 60)
        b.wait_for("HISTORY", 60)
        b.wait_for("SCREENSHOT", 30)
        assert os.path.getsize(shot) > 10000
    finally:
        b.stop()
    b.finish()
