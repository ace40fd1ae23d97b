"""A real browser and the message archive (issue 14, XEP-0313): Converse.js
in headless Chromium logs in over WebSocket (through the private Apache of
test_web_browser.py), receives a message from a slixmpp client and answers
it; then the page forgets everything it stored locally and reloads, and
after logging in again shows both messages of the conversation, which only
the server's archive can have given it. Screenshot: $PLUCS_BUILD/artifacts/
converse-mam.png."""

import os
import queue
import subprocess
import threading
import time

import pytest

import plucs_harness as H
from test_web_browser import BROWSER, NODE, _dependencies, site  # noqa: F401 (fixtures)


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
    proc = subprocess.Popen([NODE, os.path.join(BROWSER, "converse_test.mjs"), url, "bob@a.test",
                             greeting, reply, shot, "mam"],
                            cwd=BROWSER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = queue.Queue()
    out = []

    def reader():
        for line in proc.stdout:
            out.append(line)
            lines.put(line.strip())
        lines.put(None)
    threading.Thread(target=reader, daemon=True).start()

    def wait_for(word, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            bob.pump(0.1)
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            if line.startswith("FAILED"):
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    pass
                break
            if line.startswith(word):
                return line
        proc.kill()
        pytest.fail("browser did not reach %s:\n%s\n--- plucsd ---\n%s" % (
            word, "".join(out), p.log()[-3000:]), pytrace=False)

    try:
        wait_for("LOGGED_IN", 90)
        bob.send_message("alice@a.test", greeting)
        wait_for("RECEIVED", 40)
        wait_for("REPLIED", 40)
        m = bob.wait_message(30)
        while m is not None and m["body"] != reply:
            m = bob.wait_message(30)
        assert m is not None, "the answer typed in the browser never reached slixmpp"
        proc.stdin.write("go\n")
        proc.stdin.flush()
        wait_for("LOGGED_IN again", 60)
        wait_for("HISTORY", 60)
        wait_for("SCREENSHOT", 30)
        assert os.path.getsize(shot) > 10000
        # the page asked the archive (and not only its own storage)
        assert p.wait_log(r"alice@a\.test", 1)
    finally:
        if proc.poll() is None:
            proc.wait(30)
    assert proc.returncode == 0, "".join(out)
