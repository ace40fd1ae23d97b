"""A real browser and the directory's photo (issue 15 point 2): Converse.js
in headless Chromium (through the private Apache of test_web_browser.py)
logs in as alice and opens the chat with carol, who is online; the avatar
it shows is carol's jpegPhoto (the <img> data: URI decodes to exactly the
directory's bytes: Converse reads it through the vCard named by the XEP-0153
hash in her presence). After an ldapmodify of carol's jpegPhoto the page
shows the new picture without anyone logging in again: the server re-sends
carol's presence with the new hash. Screenshot:
$PLUCS_BUILD/artifacts/converse-avatar.png."""

import base64
import os
import queue
import subprocess
import threading
import time

import pytest

import plucs_harness as H
from test_pep_data import PNG, carol_photo, set_photo
from test_web_browser import BROWSER, NODE, _dependencies, logs_of, site  # noqa: F401 (fixtures)
from xmpp_raw import RawIM


def decoded(uri):
    try:
        return base64.b64decode(uri.split(",", 1)[1])
    except Exception:
        return None


def test_converse_shows_directory_photo_and_its_change(site, ldap, ldap_undo):
    p, a = site
    carol = RawIM(p.port, "carol", "desk")
    artifacts = os.path.join(H.BUILD, "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    shot = os.path.join(artifacts, "converse-avatar.png")
    url = ("http://127.0.0.1:%d/index.html?transport=websocket&jid=alice@a.test"
           "&password=alice-secret" % a.port)
    proc = subprocess.Popen([NODE, os.path.join(BROWSER, "converse_avatar.mjs"), url,
                             "carol@a.test", shot], cwd=BROWSER, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, out = queue.Queue(), []

    def read():
        for line in proc.stdout:
            out.append(line)
            lines.put(line.strip())
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()

    def wait_for(pred, what, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            carol.pump(0.05)
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None or line.startswith("FAILED"):
                break
            if pred(line):
                return line
        proc.kill()
        pytest.fail("browser did not show %s:\n%s\n%s" % (what, "".join(out)[-4000:],
                                                            logs_of(p, a)()), pytrace=False)

    try:
        wait_for(lambda l: l == "LOGGED_IN", "LOGGED_IN", 90)
        photo = carol_photo()
        wait_for(lambda l: l.startswith("AVATAR ") and decoded(l[7:]) == photo,
                 "carol's directory photo", 60)
        set_photo(ldap, ldap_undo, "carol", PNG)
        wait_for(lambda l: l.startswith("AVATAR ") and decoded(l[7:]) == PNG,
                 "carol's new photo after ldapmodify", 60)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        wait_for(lambda l: l.startswith("SCREENSHOT"), "SCREENSHOT", 30)
        assert os.path.getsize(shot) > 10000
    finally:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        carol.close()
    assert proc.returncode == 0, "".join(out)
