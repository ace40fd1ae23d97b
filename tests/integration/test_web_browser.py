"""A real browser: Converse.js (npm) in headless Debian Chromium, driven by
playwright-core, served by a private Apache that also proxies BOSH and
WebSocket to plucsd. Converse logs in, receives a message from a slixmpp
client over TCP, shows it, and the answer typed into the page reaches the
slixmpp client. A screenshot per transport is kept in $PLUCS_BUILD/artifacts.
Group chat (XEP-0045): Converse joins a room over WebSocket, shows the two
messages a slixmpp occupant sent before (the room's history) and its own
groupchat message reaches that occupant."""

import os
import queue
import shutil
import subprocess
import threading
import time
from xml.etree import ElementTree as ET

import pytest

import apache_env
import plucs_harness as H

BROWSER = os.path.join(H.TOP, "tests", "browser")
DIST = os.path.join(BROWSER, "node_modules", "converse.js", "dist")
NODE = shutil.which("node")



@pytest.fixture(autouse=True)
def _dependencies():
    """A missing dependency fails the test (it never skips silently)."""
    missing = [what for what, ok in (
        ("apache2 (/usr/sbin/apache2)", apache_env.available()),
        ("chromium (/usr/bin/chromium)", os.path.exists("/usr/bin/chromium")),
        ("node on PATH", NODE),
        ("tests/browser/node_modules (npm ci)", os.path.isdir(DIST))) if not ok]
    if missing:
        pytest.fail("missing: %s; run scripts/deps" % ", ".join(missing), pytrace=False)


def start_site(plucsd_factory, tmp_path, **registry):
    """plucsd with the web transports (plus registry) and a private Apache
    serving the Converse page and proxying plucsd by its own snippet;
    returns (plucsd, apache), the caller stops apache."""
    conf = str(tmp_path / "plucs-apache.conf")
    p = plucsd_factory(**{"plucs/http/bind": "true", "plucs/http/websocket": "true",
                          "plucs/http/address": "127.0.0.1", "plucs/http/proxy": "true",
                          "plucs/http/proxy/conffile": conf, **registry})
    r = subprocess.run([os.path.join(H.BUILD, "plucs"), "--registry", p.registry_path, "apache"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    a = apache_env.Apache(conf)
    # Apache's children run as www-data: serve copies from a readable folder.
    shutil.copy(os.path.join(BROWSER, "page", "index.html"), a.docroot)
    shutil.copytree(DIST, os.path.join(a.docroot, "converse"),
                    ignore=shutil.ignore_patterns("*.map"))
    for root, dirs, files in os.walk(a.docroot):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    a.start()
    return p, a


@pytest.fixture
def site(plucsd_factory, tmp_path):
    p, a = start_site(plucsd_factory, tmp_path)
    yield p, a
    a.stop()


class Converse:
    """converse_test.mjs (Converse.js in headless Chromium) run with args;
    its progress lines ("LOGGED_IN", "RECEIVED"...) are read by a thread.
    wait_for() keeps the slixmpp client `pumped` going meanwhile and fails
    the test with the page's output and the server logs when the word does
    not come in time or the page reports FAILED."""

    def __init__(self, args, pumped, logs):
        self.pumped, self.logs = pumped, logs
        self.proc = subprocess.Popen([NODE, os.path.join(BROWSER, "converse_test.mjs")] + args,
                                     cwd=BROWSER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        self.out = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.out.append(line)
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_for(self, word, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pumped.pump(0.1)
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            if line.startswith("FAILED"):
                # let the page record what it showed (screenshot, text)
                try:
                    self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    pass
                break
            if line.startswith(word):
                return line
        self.proc.kill()
        pytest.fail("browser did not reach %s:\n%s\n%s" % (word, "".join(self.out), self.logs()),
                    pytrace=False)

    def go(self):
        """Lets the page go on (screenshot, reload...)."""
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def stop(self):
        """Waits for the page to end (it ends by itself after "go");
        kills it when it does not."""
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def finish(self):
        self.stop()
        assert self.proc.returncode == 0, "".join(self.out)


def logs_of(p, a):
    return lambda: "--- apache ---\n%s\n--- plucsd ---\n%s" % (a.errors()[-3000:], p.log()[-3000:])


def run_converse(site, client, transport):
    p, a = site
    bob = client("bob", daemon=p)
    assert bob.login()
    bob.send_presence()
    artifacts = os.path.join(H.BUILD, "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    shot = os.path.join(artifacts, "converse-%s.png" % transport)
    greeting = "Hello from slixmpp over %s" % transport
    reply = "Converse answers over %s" % transport
    url = "http://127.0.0.1:%d/index.html?transport=%s&jid=alice@a.test&password=alice-secret" % (
        a.port, transport)
    b = Converse([url, "bob@a.test", greeting, reply, shot], bob, logs_of(p, a))
    try:
        versions = b.wait_for("VERSIONS", 60)
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True,
                                  text=True).stdout.strip().splitlines()[-1:]
        with open(os.path.join(artifacts, "versions.txt"), "w") as f:
            f.write("%s\n%s\n" % (versions.split(" ", 1)[1], " ".join(chromium)))
        b.wait_for("LOGGED_IN", 60)
        assert p.wait_log(r"%s: alice@a\.test/\S+ bound" % transport, 10)
        bob.send_message("alice@a.test", greeting)
        b.wait_for("RECEIVED", 40)
        b.wait_for("REPLIED", 40)
        m = bob.wait_message(30)
        while m is not None and m["body"] != reply:
            m = bob.wait_message(30)
        assert m is not None, "the answer typed in the browser never reached slixmpp"
        assert str(m["from"]).startswith("alice@a.test/")
        b.go()     # now the page may take its screenshot and close
        b.wait_for("SCREENSHOT", 30)
        assert os.path.getsize(shot) > 10000
    finally:
        b.stop()
    b.finish()
    return versions


NS_MUC = "http://jabber.org/protocol/muc"


def test_converse_groupchat_over_websocket(site):
    p, a = site
    room = "browsers@conference.a.test"
    bob = H.IMClient(p.port, H.jid("bob"), H.password("bob"))
    b = None
    try:
        assert bob.login()
        bob.send_presence()
        # bob creates the room (an instant room: empty muc#owner form) ...
        bob.send_raw("<presence to='%s/bob'><x xmlns='%s'/></presence>" % (room, NS_MUC))
        me = bob.wait_presence(frm=room + "/bob", timeout=10, pred=lambda s: any(
            st.get("code") == "110" for st in s.el.iter("{%s#user}status" % NS_MUC)))
        assert me is not None and me.type == "available", "bob could not join %s: %r" % (
            room, bob.all_presences)
        iq = bob.x.make_iq_set(ito=room)
        q = ET.Element("{%s#owner}query" % NS_MUC)
        ET.SubElement(q, "{jabber:x:data}x", type="submit")
        iq.append(q)
        assert bob.iq(iq, 10)["type"] == "result", "the instant room was refused" 
        # ... and says two things before the browser comes: the history.
        history = ["First words in the room", "Second words in the room"]
        for h in history:
            bob.send_message(room, h, mtype="groupchat")
            assert bob.wait_message(frm=room + "/bob", type="groupchat", body=h, timeout=10), \
                "the room did not reflect %r" % h
        artifacts = os.path.join(H.BUILD, "artifacts")
        os.makedirs(artifacts, exist_ok=True)
        shot = os.path.join(artifacts, "converse-groupchat.png")
        reply = "Converse speaks in the room"
        url = ("http://127.0.0.1:%d/index.html?transport=websocket&jid=alice@a.test"
               "&password=alice-secret" % a.port)
        b = Converse([url, room, "|".join(history), reply, shot, "room", "alice-in-browser"],
                     bob, logs_of(p, a))
        b.wait_for("LOGGED_IN", 90)
        b.wait_for("RECEIVED", 40)       # both history messages are on the page
        assert bob.wait_presence(frm=room + "/alice-in-browser", timeout=10), \
            "bob did not see the browser's occupant join"
        b.wait_for("REPLIED", 40)
        m = bob.wait_message(frm=room + "/alice-in-browser", type="groupchat", body=reply,
                             timeout=30)
        assert m is not None, "the groupchat message typed in the browser never reached bob"
        b.go()
        b.wait_for("SCREENSHOT", 30)
        assert os.path.getsize(shot) > 10000
    finally:
        if b:
            b.stop()
        bob.close()
    b.finish()


def test_converse_over_bosh(site, client):
    run_converse(site, client, "bosh")


def test_converse_over_websocket(site, client):
    run_converse(site, client, "websocket")
