"""test_apache_follow.py: `plucs apache follow` keeps the Apache snippet in
step with plucs/http/* changed by any tool (here: files written in place
and replaced by rename, in UCR's layers, as `ucr set` and editors do). It
rewrites the snippet only when its content changes and then runs the reload
command (plucs/http/proxy/reload or --reload-command); an invalid registry
leaves the snippet alone. With a real Apache (tests/integration/apache_env.py)
and a real plucsd on the same base.conf, a URL changed in base-forced.conf
is served through Apache after the follower's graceful restart.
Run: /usr/bin/python3 -m pytest tests/integration/test_apache_follow.py
"""
import os
import subprocess

import pytest

import apache_env
import plucs_harness as H
import web_clients as W

PLUCS = os.path.join(H.BUILD, "plucs")


def write_rename(path, text):
    tmp = os.path.join(os.path.dirname(path), ".%s.tmp" % os.path.basename(path))
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


class Follower:
    def __init__(self, registry, log, *extra):
        env = dict(os.environ)
        env.pop("PLUCS_REGISTRY", None)
        self.log_path = str(log)
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([PLUCS, "--registry", str(registry), "apache", "follow"] + list(extra),
                                     stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf, env=env)
        assert H.wait_until(lambda: "watching" in self.log() or self.proc.poll() is not None, 15)
        assert self.proc.poll() is None, self.log()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        rc = H.stop_process(self.proc)
        self.logf.close()
        return rc


@pytest.fixture
def follower():
    started = []

    def start(registry, log, *extra):
        f = Follower(registry, log, *extra)
        started.append(f)
        return f

    yield start
    for f in started:
        rc = f.stop()
        assert rc == 0, "plucs apache follow exited with %s:\n%s" % (rc, f.log())


def lines(path):
    return open(path).read().splitlines() if os.path.exists(path) else []


def test_follow_rewrites_and_reloads(tmp_path, follower):
    ucr = tmp_path / "ucr"
    ucr.mkdir()
    conf = tmp_path / "plucs.conf"
    marker = tmp_path / "reloads"
    base = ucr / "base.conf"
    base.write_text("ldap/base: dc=example,dc=com\nldap/hostdn: cn=xmpp,dc=example,dc=com\n"
                    "ldap/server/name: ldap.example.com\nplucs/http/bind: true\n"
                    "plucs/http/proxy: true\nplucs/http/proxy/conffile: %s\n"
                    "plucs/http/proxy/reload: echo reload >> %s\n" % (conf, marker))
    f = follower(base, tmp_path / "follow.log")
    # at start: the snippet is written, Apache reloaded once
    assert H.wait_until(lambda: len(lines(marker)) == 1, 10), f.log()
    assert '"^(/http-bind)/?$"' in conf.read_text()

    # a UCR policy (base-ldap.conf, replaced by rename) changes the URL
    write_rename(str(ucr / "base-ldap.conf"), "plucs/http/bind/url: /policy-bind/\n")
    assert H.wait_until(lambda: len(lines(marker)) == 2, 10), f.log()
    text = conf.read_text()
    assert '"^(/policy-bind)/?$"' in text and "/http-bind" not in text

    # a change that does not touch the snippet: no rewrite, no reload. The
    # next real change (in place, base-forced.conf) is the barrier.
    mtime = os.stat(conf).st_mtime_ns
    with open(ucr / "base-defaults.conf", "w") as fh:
        fh.write("plucs/loglevel: 2\n")
    with open(ucr / "base-forced.conf", "w") as fh:
        fh.write("plucs/http/websocket: true\n")
    assert H.wait_until(lambda: len(lines(marker)) >= 3, 10), f.log()
    assert "xmpp-websocket" in conf.read_text()
    assert len(lines(marker)) == 3, f.log()
    assert os.stat(conf).st_mtime_ns != mtime

    # an invalid registry keeps the snippet and says why
    text = conf.read_text()
    with open(ucr / "base-forced.conf", "w") as fh:
        fh.write("plucs/http/websocket: perhaps\n")
    # two lines, two writes: wait for the second, not only the first
    assert H.wait_until(lambda: "base-forced.conf: plucs/http/websocket: invalid value 'perhaps'" in f.log()
                        and "stays as it is" in f.log(), 10), f.log()
    assert conf.read_text() == text and len(lines(marker)) == 3

    # proxy off (the base layer, in place): the snippet goes, Apache reloads
    with open(ucr / "base-forced.conf", "w") as fh:
        fh.write("plucs/http/proxy: false\n")
    assert H.wait_until(lambda: not conf.exists() and len(lines(marker)) == 4, 10), f.log()


def test_reload_command_option_and_failure_reported(tmp_path, follower):
    reg = tmp_path / "registry.conf"       # not UCR: one file, watched the same way
    conf = tmp_path / "plucs.conf"
    marker = tmp_path / "opt"
    reg.write_text("ldap/base: dc=example,dc=com\nldap/hostdn: cn=xmpp,dc=example,dc=com\n"
                   "ldap/server/name: ldap.example.com\nplucs/http/proxy: true\n"
                   "plucs/http/proxy/conffile: %s\n" % conf)
    f = follower(reg, tmp_path / "follow.log", "--reload-command", "echo x >> %s; exit 3" % marker)
    assert H.wait_until(lambda: len(lines(marker)) == 1, 10), f.log()
    assert H.wait_until(lambda: "failed with exit status 3" in f.log(), 5), f.log()
    write_rename(str(reg), reg.read_text() + "plucs/http/port: 5999\n")
    assert H.wait_until(lambda: len(lines(marker)) == 2, 10), f.log()
    assert "127.0.0.1:5999" in conf.read_text()


def test_real_apache_follows_ucr_change(ldap, tmp_path, follower):
    """plucsd and the follower share DIR/base.conf; a BOSH URL set in
    base-forced.conf reaches plucsd (live reload) and Apache (snippet
    rewritten, graceful restart by the reload command)."""
    if not apache_env.available():   # a missing dependency fails, never skips silently
        pytest.fail("apache2 is not installed (/usr/sbin/apache2); run scripts/deps", pytrace=False)
    d = tmp_path / "plucsd"
    d.mkdir()
    conf = tmp_path / "plucs-apache.conf"
    p = H.Plucsd(d, ldap, **{"plucs/http/bind": "true", "plucs/http/address": "127.0.0.1",
                             "plucs/http/proxy": "true", "plucs/http/proxy/conffile": str(conf)})
    p.registry_path = os.path.join(str(d), "base.conf")
    p.start()
    a = None
    try:
        r = subprocess.run([PLUCS, "--registry", p.registry_path, "apache"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        a = apache_env.Apache(str(conf))
        a.start()
        marker = tmp_path / "graceful"
        f = follower(p.registry_path, tmp_path / "follow.log", "--reload-command",
                     "kill -USR1 %d && echo ok >> %s" % (a.proc.pid, marker))

        def status(path):
            b = W.Bosh(a.port, path=path, wait=2)
            try:
                st, _ = b.raw(b.body(to="a.test", wait=2, hold=1, ver="1.6"))
                return st
            except OSError:
                return None
            finally:
                b.close()

        assert status("/http-bind/") == 200
        assert status("/ucr-bind/") == 404
        write_rename(os.path.join(str(d), "base-forced.conf"), "plucs/http/bind/url: /ucr-bind/\n")
        assert H.wait_until(lambda: len(lines(marker)) == 1, 15), f.log()
        assert H.wait_until(lambda: status("/ucr-bind/") == 200, 20), a.errors() + f.log()
        b = W.Bosh(a.port, path="/ucr-bind/", wait=2)
        assert b.login("alice", "alice-secret", resource="ucr").startswith("alice@a.test/")
        b.close()
        assert status("/http-bind/") == 404
    finally:
        if a:
            a.stop()
        problems = p.problems()
        assert not problems, "; ".join(problems) + "\n" + p.log()[-4000:]
