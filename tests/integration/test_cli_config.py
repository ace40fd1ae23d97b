"""test_cli_config.py: the `plucs config` command end to end (get, set, the
? form, unset, search, validate, --registry / $PLUCS_REGISTRY, and the
reload signal to a running daemon). Run: /usr/bin/python3 -m pytest
tests/integration/test_cli_config.py; the binary is $PLUCS_BUILD/plucs
(default /work/main/build/plucs)."""
import os
import signal
import subprocess
import sys
import time

import pytest

PLUCS = os.path.join(os.environ.get("PLUCS_BUILD", "/work/main/build"), "plucs")

VALID = (
    "# test registry\n"
    "ldap/base: dc=example,dc=com\n"
    "ldap/hostdn: cn=xmpp,dc=example,dc=com\n"
    "ldap/server/name: ldap.example.com\n"
)


def run(*args, registry=None, env_registry=None, check=None):
    env = dict(os.environ)
    env.pop("PLUCS_REGISTRY", None)
    env["LANG"] = "C"
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    if env_registry:
        env["PLUCS_REGISTRY"] = str(env_registry)
    cmd = [PLUCS]
    if registry:
        cmd += ["--registry", str(registry)]
    cmd += list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30)
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


@pytest.fixture
def reg(tmp_path):
    path = tmp_path / "registry.conf"
    path.write_text(VALID + "plucs/rundir: %s\n" % (tmp_path / "run"))
    (tmp_path / "run").mkdir()
    return path


def test_help_and_usage():
    assert run("--help", check=0).stdout.startswith("usage: plucs")
    p = run("no-such-command", check=2)
    assert "unknown command" in p.stderr and "usage" in p.stderr
    run(check=2)
    run("config", check=2)
    run("config", "frobnicate", check=2)


def test_get_default(reg):
    assert run("config", "get", "plucs/c2s/port", registry=reg, check=0).stdout == "5222\n"
    assert run("config", "get", "plucs/tls", registry=reg, check=0).stdout == "true\n"
    assert run("config", "get", "ldap/base", registry=reg, check=0).stdout == "dc=example,dc=com\n"
    # s2s/certfile follows plucs/certfile
    run("config", "set", "plucs/certfile=/etc/x.pem", registry=reg, check=0)
    assert run("config", "get", "plucs/s2s/certfile", registry=reg, check=0).stdout == "/etc/x.pem\n"
    host = run("config", "get", "hostname", registry=reg, check=0).stdout.strip()
    assert host and "." not in host
    p = run("config", "get", "plucs/no/such", registry=reg, check=1)
    assert "unknown variable" in p.stderr


def test_set_valid(reg):
    run("config", "set", "plucs/c2s/port=5223", "plucs/tls=required", "plucs/domains=a.example b.example",
        registry=reg, check=0)
    text = reg.read_text()
    assert text.startswith(VALID)          # comments and order preserved
    assert "plucs/c2s/port: 5223\n" in text
    assert "plucs/tls: required\n" in text
    assert "plucs/domains: a.example b.example\n" in text
    assert run("config", "get", "plucs/c2s/port", registry=reg, check=0).stdout == "5223\n"
    # setting again replaces, does not duplicate
    run("config", "set", "plucs/c2s/port=5224", registry=reg, check=0)
    assert reg.read_text().count("plucs/c2s/port:") == 1
    # free UCR-style variables outside plucs/ are accepted and kept
    run("config", "set", "other/service/flag=on", registry=reg, check=0)
    assert "other/service/flag: on\n" in reg.read_text()
    # empty value
    run("config", "set", "plucs/domains=", registry=reg, check=0)
    assert run("config", "get", "plucs/domains", registry=reg, check=0).stdout == "\n"


def test_set_invalid_changes_nothing(reg):
    before = reg.read_text()
    p = run("config", "set", "plucs/c2s/port=5299", "plucs/tls=maybe", "plucs/c2s/port=70000",
            "plucs/ldap/port=12abc", "plucs/typo=1", "plucs/http/bind/url=/nope", registry=reg, check=1)
    assert reg.read_text() == before
    lines = p.stderr.strip().splitlines()
    assert "plucs/tls: invalid value 'maybe' (allowed: true, false, required)" in lines
    assert "plucs/c2s/port: invalid value '70000' (allowed: an integer from 1 to 65535)" in lines
    assert any(l.startswith("plucs/ldap/port: invalid value '12abc'") for l in lines)
    assert any(l.startswith("plucs/typo: unknown variable") for l in lines)
    assert any(l.startswith("plucs/http/bind/url: invalid value '/nope'") for l in lines)
    assert len(lines) == 5
    p = run("config", "set", "plucs/store=postgresql://db/x", registry=reg, check=1)
    assert "not supported yet" in p.stderr
    run("config", "set", "not-a-pair", registry=reg, check=2)
    assert reg.read_text() == before


def test_set_if_unset(reg):
    run("config", "set", "plucs/loglevel?5", registry=reg, check=0)
    assert run("config", "get", "plucs/loglevel", registry=reg, check=0).stdout == "5\n"
    run("config", "set", "plucs/loglevel?1", registry=reg, check=0)
    assert run("config", "get", "plucs/loglevel", registry=reg, check=0).stdout == "5\n"
    run("config", "set", "plucs/loglevel=2", registry=reg, check=0)
    assert run("config", "get", "plucs/loglevel", registry=reg, check=0).stdout == "2\n"


def test_unset(reg):
    run("config", "set", "plucs/c2s/port=5223", registry=reg, check=0)
    run("config", "unset", "plucs/c2s/port", "not/there", registry=reg, check=0)
    assert "plucs/c2s/port" not in reg.read_text()
    assert run("config", "get", "plucs/c2s/port", registry=reg, check=0).stdout == "5222\n"
    assert reg.read_text().startswith(VALID)


def test_search(reg):
    run("config", "set", "other/thing=x", registry=reg, check=0)
    out = run("config", "search", "^plucs/(c2s|s2s)/port$", registry=reg, check=0).stdout
    assert out == "plucs/c2s/port: 5222\nplucs/s2s/port: 5269\n"
    out = run("config", "search", registry=reg, check=0).stdout
    keys = [l.split(":", 1)[0] for l in out.splitlines()]
    assert keys == sorted(keys)
    assert "other/thing" in keys and "plucs/ldap/poll" in keys and "ldap/base" in keys
    out = run("config", "search", "--brief", "other", registry=reg, check=0).stdout
    assert out == "other/thing: x\n"
    run("config", "search", "(", registry=reg, check=2)


def test_search_verbose(reg):
    out = run("config", "search", "--verbose", "^plucs/(c2s/port|threads|tls)$", registry=reg, check=0).stdout
    assert "plucs/c2s/port: 5222\n" in out
    assert "an integer from 1 to 65535" in out
    assert "listeners are re-bound automatically" in out
    assert "changing it needs a restart" in out           # plucs/threads
    assert "true, false, required" in out
    assert "default: 5222" in out
    # German when plucs/language says so
    run("config", "set", "plucs/language=de", registry=reg, check=0)
    out = run("config", "search", "--verbose", "^plucs/c2s/port$", registry=reg, check=0).stdout
    assert "Client-Port" in out and "Standard: 5222" in out


def test_search_verbose_s2s_not_inert(reg):
    """plucs/s2s* are used now (federation is built): --verbose calls none
    of them inert, and the listener variables say they are re-bound."""
    out = run("config", "search", "--verbose", "^plucs/s2s", registry=reg, check=0).stdout
    blocks = out.strip().split("\n\n")
    assert len(blocks) >= 4, out
    for b in blocks:
        assert "inert" not in b, b
    out = run("config", "search", "--verbose", "^plucs/s2s/port$", registry=reg, check=0).stdout
    assert "listeners are re-bound" in out, out
    run("config", "set", "plucs/language=de", registry=reg, check=0)
    out = run("config", "search", "--verbose", "^plucs/s2s$", registry=reg, check=0).stdout
    assert "wirkungslos" not in out


def test_validate(reg, tmp_path):
    p = run("config", "validate", registry=reg, check=0)
    assert p.stdout == "" and p.stderr == ""
    broken = tmp_path / "broken.conf"
    broken.write_text("# hand edited\n"
                      "ldap/hostdn: cn=x\n"
                      "ldap/server/name: ldap\n"
                      "plucs/tls = required\n"
                      "plucs/c2s/port: 99999\n")
    p = run("config", "validate", registry=broken, check=1)
    lines = p.stderr.strip().splitlines()
    assert "line 4: not a 'key: value' line" in lines
    assert "plucs/c2s/port: invalid value '99999' (allowed: an integer from 1 to 65535)" in lines
    assert "ldap/base: not set (required: the LDAP search base, e.g. dc=example,dc=com)" in lines
    # set still works on a file with junk, and keeps the junk line
    run("config", "set", "plucs/c2s/port=5222", registry=broken, check=0)
    assert "plucs/tls = required\n" in broken.read_text()


def test_registry_option_positions(reg, tmp_path):
    other = tmp_path / "other.conf"
    other.write_text("plucs/c2s/port: 1234\n")
    assert run("--registry", str(other), "config", "get", "plucs/c2s/port", check=0).stdout == "1234\n"
    assert run("config", "get", "plucs/c2s/port", "--registry", str(other), check=0).stdout == "1234\n"
    assert run("config", "--registry=%s" % other, "get", "plucs/c2s/port", check=0).stdout == "1234\n"
    assert run("config", "get", "plucs/c2s/port", env_registry=other, check=0).stdout == "1234\n"
    # --registry wins over $PLUCS_REGISTRY
    assert run("config", "get", "plucs/c2s/port", registry=reg, env_registry=other, check=0).stdout == "5222\n"
    run("config", "set", "plucs/c2s/port=4321", env_registry=other, check=0)
    assert other.read_text() == "plucs/c2s/port: 4321\n"


def test_mode_preserved(reg):
    os.chmod(reg, 0o600)
    run("config", "set", "plucs/loglevel=4", registry=reg, check=0)
    assert os.stat(reg).st_mode & 0o777 == 0o600


CHILD = r"""
import signal, sys, time
got = []
signal.signal(signal.SIGHUP, lambda s, f: got.append(s))
print("ready", flush=True)
deadline = time.time() + 30
while not got and time.time() < deadline:
    time.sleep(0.05)
print("hup" if got else "timeout", flush=True)
"""


def test_set_signals_daemon(reg, tmp_path):
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        (tmp_path / "run" / "plucsd.pid").write_text("%d\n" % child.pid)
        run("config", "set", "plucs/loglevel=4", registry=reg, check=0)
        assert child.stdout.readline().strip() == "hup"
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_no_signal_when_nothing_changes_or_no_daemon(reg, tmp_path):
    # no pid file: quiet success
    p = run("config", "set", "plucs/loglevel=4", registry=reg, check=0)
    assert p.stderr == ""
    # stale pid file: quiet success
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / "run" / "plucsd.pid").write_text("%d\n" % dead.pid)
    p = run("config", "set", "plucs/loglevel=5", registry=reg, check=0)
    assert p.stderr == ""
    # unset is also a change that reloads; an unchanged value is not
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        (tmp_path / "run" / "plucsd.pid").write_text("%d\n" % child.pid)
        run("config", "set", "plucs/loglevel=5", registry=reg, check=0)   # same value: nothing written
        time.sleep(0.3)
        assert child.poll() is None
        run("config", "unset", "plucs/loglevel", registry=reg, check=0)
        assert child.stdout.readline().strip() == "hup"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
