"""test_registry_layers.py: UCR's registry layers and live reload.

When the registry file is named base.conf, PLUCS reads UCR's layers from
its folder, highest precedence first: base-forced.conf, base-schedule.conf,
base-ldap.conf, base.conf, base-defaults.conf (docs/registry.md). `plucs config get/search`
and the daemon use the merged view; `plucs config set/unset` write base.conf
only and say when a higher layer overrides it; `search --verbose` names the
layer of each value; validation names the layer file. plucsd watches the
files (inotify on the folder, debounced) and reloads when any layer changes,
whether written in place or replaced by a rename, observed here through
`plucs status` (filter/message_policy) of the running server.
Run: /usr/bin/python3 -m pytest tests/integration/test_registry_layers.py
"""
import os
import subprocess

import pytest

import plucs_harness as H

PLUCS = os.path.join(H.BUILD, "plucs")

VALID = (
    "ldap/base: dc=example,dc=com\n"
    "ldap/hostdn: cn=xmpp,dc=example,dc=com\n"
    "ldap/server/name: ldap.example.com\n"
)
LAYERS = ("base-defaults.conf", "base.conf", "base-ldap.conf", "base-schedule.conf", "base-forced.conf")


def run(*args, registry, check=None):
    env = dict(os.environ)
    env.pop("PLUCS_REGISTRY", None)
    env["LANG"] = "C"
    p = subprocess.run([PLUCS, "--registry", str(registry)] + list(args),
                       capture_output=True, text=True, env=env, timeout=30)
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def write_plain(path, text):
    """An in-place write, as `echo >>` or a simple editor does."""
    with open(path, "w") as f:
        f.write(text)


def write_rename(path, text):
    """Write a temporary file and rename it over the layer (UCR, vim, sed -i)."""
    tmp = os.path.join(os.path.dirname(path), ".%s.new" % os.path.basename(path))
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


@pytest.fixture
def ucr(tmp_path):
    d = tmp_path / "univention"
    d.mkdir()
    (tmp_path / "run").mkdir()
    (d / "base.conf").write_text(VALID + "plucs/rundir: %s\n" % (tmp_path / "run"))
    return d


# --- the tool -----------------------------------------------------------------

def test_precedence_get_and_verbose_layer(ucr):
    (ucr / "base-defaults.conf").write_text("plucs/c2s/port: 5001\nplucs/s2s/port: 5002\n"
                                            "plucs/http/port: 5003\nplucs/loglevel: 1\n")
    with open(ucr / "base.conf", "a") as f:
        f.write("plucs/c2s/port: 5101\nplucs/s2s/port: 5102\nplucs/http/port: 5103\n")
    (ucr / "base-ldap.conf").write_text("plucs/c2s/port: 5201\nplucs/s2s/port: 5202\n"
                                        "plucs/threads: 3\n")
    (ucr / "base-schedule.conf").write_text("plucs/c2s/port: 5251\nplucs/threads: 7\n")
    (ucr / "base-forced.conf").write_text("plucs/c2s/port: 5301\n")
    reg = ucr / "base.conf"
    assert run("config", "get", "plucs/c2s/port", registry=reg, check=0).stdout == "5301\n"
    assert run("config", "get", "plucs/s2s/port", registry=reg, check=0).stdout == "5202\n"
    assert run("config", "get", "plucs/http/port", registry=reg, check=0).stdout == "5103\n"
    assert run("config", "get", "plucs/loglevel", registry=reg, check=0).stdout == "1\n"
    assert run("config", "get", "plucs/threads", registry=reg, check=0).stdout == "7\n"

    out = run("config", "search", "--verbose",
              "^plucs/(c2s/port|s2s/port|http/port|loglevel|tls|threads)$", registry=reg, check=0).stdout
    blocks = {b.split(":", 1)[0]: b for b in out.strip().split("\n\n")}
    assert "plucs/c2s/port: 5301" in blocks["plucs/c2s/port"]
    assert "layer: %s" % (ucr / "base-forced.conf") in blocks["plucs/c2s/port"]
    assert "layer: %s" % (ucr / "base-ldap.conf") in blocks["plucs/s2s/port"]
    assert "layer: %s" % (ucr / "base-schedule.conf") in blocks["plucs/threads"]
    assert "layer: %s\n" % (ucr / "base.conf") in blocks["plucs/http/port"] + "\n"
    assert "layer: %s" % (ucr / "base-defaults.conf") in blocks["plucs/loglevel"]
    assert "layer: default" in blocks["plucs/tls"]
    # a search over values sees the merged view too
    out = run("config", "search", "--value", "^5301$", registry=reg, check=0).stdout
    assert out == "plucs/c2s/port: 5301\n"


def test_set_writes_base_conf_and_says_when_overridden(ucr):
    (ucr / "base-forced.conf").write_text("plucs/c2s/port: 5301\n")
    (ucr / "base-ldap.conf").write_text("plucs/loglevel: 2\n")
    forced_before = (ucr / "base-forced.conf").read_text()
    reg = ucr / "base.conf"
    p = run("config", "set", "plucs/c2s/port=5111", "plucs/http/port=5112", registry=reg, check=0)
    base = (ucr / "base.conf").read_text()
    assert "plucs/c2s/port: 5111\n" in base and "plucs/http/port: 5112\n" in base
    assert (ucr / "base-forced.conf").read_text() == forced_before
    assert not (ucr / "base-defaults.conf").exists()
    assert str(ucr / "base-forced.conf") in p.stderr and "5301" in p.stderr, p.stderr
    assert "plucs/http/port" not in p.stderr       # not overridden: nothing to say
    assert run("config", "get", "plucs/c2s/port", registry=reg, check=0).stdout == "5301\n"
    assert run("config", "get", "plucs/http/port", registry=reg, check=0).stdout == "5112\n"
    # unset removes it from base.conf; the policy layer still decides
    run("config", "set", "plucs/loglevel=4", registry=reg, check=0)
    p = run("config", "unset", "plucs/loglevel", registry=reg, check=0)
    assert "plucs/loglevel" not in (ucr / "base.conf").read_text()
    assert str(ucr / "base-ldap.conf") in p.stderr and "still set" in p.stderr, p.stderr
    assert run("config", "get", "plucs/loglevel", registry=reg, check=0).stdout == "2\n"


@pytest.mark.parametrize("layer", ["base-defaults.conf", "base-ldap.conf", "base-schedule.conf",
                                   "base-forced.conf"])
def test_validate_names_the_layer_file(ucr, layer):
    (ucr / layer).write_text("plucs/tls: maybe\n")
    p = run("config", "validate", registry=ucr / "base.conf", check=1)
    assert "%s: plucs/tls: invalid value 'maybe'" % (ucr / layer) in p.stderr, p.stderr
    assert "true, false, required" in p.stderr


def test_hidden_invalid_value_does_not_count(ucr):
    """A bad value in a lower layer that a higher layer overrides is not in
    effect, so it does not make the registry invalid (as in UCR)."""
    (ucr / "base-defaults.conf").write_text("plucs/tls: maybe\n")
    (ucr / "base-forced.conf").write_text("plucs/tls: false\n")
    run("config", "validate", registry=ucr / "base.conf", check=0)


def test_other_file_names_have_no_layers(tmp_path):
    reg = tmp_path / "registry.conf"
    reg.write_text(VALID + "plucs/c2s/port: 5101\n")
    (tmp_path / "base-forced.conf").write_text("plucs/c2s/port: 5301\n")
    assert run("config", "get", "plucs/c2s/port", registry=reg, check=0).stdout == "5101\n"
    out = run("config", "search", "--verbose", "^plucs/c2s/port$", registry=reg, check=0).stdout
    assert "layer: %s" % reg in out


# --- the daemon ---------------------------------------------------------------

@pytest.fixture
def ucr_plucsd(ldap, tmp_path):
    """A plucsd whose registry is DIR/base.conf (all its settings in it)."""
    d = tmp_path / "plucsd"
    d.mkdir()
    p = H.Plucsd(d, ldap)
    p.registry_path = os.path.join(str(d), "base.conf")
    p.start()
    yield p
    problems = p.problems()
    if problems:
        pytest.fail("; ".join(problems) + "\n" + p.log()[-6000:], pytrace=False)


def policy(p):
    r = run("status", registry=p.registry_path)
    for line in r.stdout.splitlines():
        if line.startswith("filter/message_policy:"):
            return line.split(":", 1)[1].strip()
    return None


def test_live_reload_after_editing_each_layer(ucr_plucsd):
    p = ucr_plucsd
    folder = os.path.dirname(p.registry_path)
    base_text = open(p.registry_path).read()
    assert policy(p) == "deny"
    value = "deny"
    for layer in LAYERS:                   # lowest first: each write is in effect
        path = os.path.join(folder, layer)
        for write in (write_plain, write_rename):
            value = "allow" if value == "deny" else "deny"
            since = p.log_size()
            text = (base_text if layer == "base.conf" else "")
            write(path, text + "plucs/mod/filter/message_policy: %s\n" % value)
            got = H.wait_until(lambda: policy(p) == value, 15)
            assert got, "%s (%s): the server did not apply %s; log:\n%s" % (
                layer, write.__name__, value, p.log()[since:])
            assert p.wait_log("changed on disk: reloading", 5, since)
    # nothing but the registry files counts: a stray file in the folder does
    # not reload, nor does another service's variable in a layer (a shared
    # UCR base.conf changes for many reasons)
    since = p.log_size()
    write_plain(os.path.join(folder, "unrelated.conf"), "plucs/mod/filter/message_policy: allow\n")
    write_plain(os.path.join(folder, "base-forced.conf.bak"), "x: y\n")
    write_rename(os.path.join(folder, "base-ldap.conf"), "other/service/setting: 1\n")
    # a barrier: one more real change, then check that only it was applied
    value = "allow" if value == "deny" else "deny"
    write_rename(os.path.join(folder, "base-forced.conf"), "plucs/mod/filter/message_policy: %s\n" % value)
    assert H.wait_until(lambda: policy(p) == value, 15)
    assert p.log()[since:].count("changed on disk: reloading") == 1, p.log()[since:]


def test_invalid_layer_keeps_running_config(ucr_plucsd):
    p = ucr_plucsd
    folder = os.path.dirname(p.registry_path)
    forced = os.path.join(folder, "base-forced.conf")
    write_rename(forced, "plucs/mod/filter/message_policy: allow\n")
    assert H.wait_until(lambda: policy(p) == "allow", 15)
    since = p.log_size()
    write_plain(forced, "plucs/mod/filter/message_policy: maybe\n")
    assert p.wait_log(r"base-forced\.conf: plucs/mod/filter/message_policy: invalid value 'maybe'", 15, since), \
        p.log()[since:]
    assert p.wait_log("keeping the running configuration", 5, since)
    assert policy(p) == "allow"
    assert p.alive()
    write_rename(forced, "plucs/mod/filter/message_policy: deny\n")
    assert H.wait_until(lambda: policy(p) == "deny", 15)


def test_config_set_reloads_once(ucr_plucsd):
    """`plucs config set` asks for a reload itself; the watcher then sees the
    same content and does not reload a second time."""
    p = ucr_plucsd
    since = p.log_size()
    run("config", "set", "plucs/mod/filter/message_policy=allow", registry=p.registry_path, check=0)
    assert H.wait_until(lambda: policy(p) == "allow", 15)
    assert p.wait_log("unchanged since the last reload|applied", 5, since)
    # a later real edit is still noticed (the watcher is alive), and only
    # the edit is reloaded by it
    write_rename(os.path.join(os.path.dirname(p.registry_path), "base-ldap.conf"),
                 "plucs/mod/filter/message_policy: deny\n")
    assert H.wait_until(lambda: policy(p) == "deny", 15)
    assert p.log()[since:].count("changed on disk: reloading") == 1, p.log()[since:]
