"""test_exit_status.py: plucsd's exit status at start-up (operations.md,
"Exit status of plucsd"). 78 (EX_CONFIG) means the registry is invalid or
incomplete, so the systemd unit's RestartPreventExitStatus=78 stops the
restart loop; other start-up failures keep 1 (systemd retries them)."""

import os
import re
import subprocess

import plucs_harness as H

EX_CONFIG = 78
UNIT_IN = os.path.join(H.TOP, "scripts", "plucs.service.in")


def _start(p, timeout=30, raw_lines=()):
    """Runs plucsd on P's registry (plus RAW_LINES); its exit status and
    output. A plucsd that does not exit within TIMEOUT is killed and fails
    the test."""
    p.write_registry(raw_lines=raw_lines)
    argv = [os.path.join(H.BUILD, "plucsd"), "--registry", p.registry_path,
            "--pidfile", os.path.join(p.rundir, "plucsd.pid")]
    env = dict(os.environ)
    env.pop("PLUCS_REGISTRY", None)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("plucsd did not exit within %ss (it started?):\n%s"
                             % (timeout, (out + err)[-3000:]))
    return proc.returncode, out + err


def test_missing_ldap_base_exits_78(ldap, tmp_path):
    p = H.Plucsd(tmp_path, ldap)
    del p.registry["ldap/base"]
    rc, log = _start(p)
    assert rc == EX_CONFIG, "exit status %s for a registry without ldap/base:\n%s" % (rc, log)
    assert "ldap/base" in log, log
    assert "not set" in log, log


def test_invalid_value_exits_78(ldap, tmp_path):
    p = H.Plucsd(tmp_path, ldap, **{"plucs/tls": "maybe"})
    rc, log = _start(p)
    assert rc == EX_CONFIG, "exit status %s for plucs/tls=maybe:\n%s" % (rc, log)
    assert "plucs/tls" in log and "maybe" in log, log


def test_malformed_line_exits_78(ldap, tmp_path):
    p = H.Plucsd(tmp_path, ldap)
    rc, log = _start(p, raw_lines=["plucs/tls = required"])
    assert rc == EX_CONFIG, "exit status %s for a line that is not 'key: value':\n%s" % (rc, log)
    assert "not a 'key: value' line" in log, log


def test_unreadable_registry_exits_78(ldap, tmp_path):
    p = H.Plucsd(tmp_path, ldap)
    p.write_registry()
    missing = os.path.join(str(tmp_path), "no-such-registry.conf")
    r = subprocess.run([os.path.join(H.BUILD, "plucsd"), "--registry", missing,
                        "--pidfile", os.path.join(p.rundir, "plucsd.pid")],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert r.returncode == EX_CONFIG, r
    assert missing in r.stderr, r.stderr


def test_unusable_certificate_with_tls_required_exits_1(ldap, tmp_path):
    """A certificate file plucsd cannot read is a start-up failure only with
    plucs/tls=required (else STARTTLS is just not offered); not a registry
    error, so 1 and systemd retries (the file may appear, e.g. after a
    certificate renewal)."""
    p = H.Plucsd(tmp_path, ldap, **{"plucs/tls": "required",
                                    "plucs/certfile": os.path.join(str(tmp_path), "absent.pem")})
    rc, log = _start(p)
    assert rc == 1, "exit status %s for an unreadable certificate:\n%s" % (rc, log)
    assert "absent.pem" in log, log


def test_port_in_use_exits_1(ldap, tmp_path):
    """A listener that cannot be opened: 1 (transient, systemd retries)."""
    import socket
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        p = H.Plucsd(tmp_path, ldap, **{"plucs/c2s/port": str(port)})
        rc, log = _start(p)
    finally:
        s.close()
    assert rc == 1, "exit status %s with the c2s port in use:\n%s" % (rc, log)


def test_unit_does_not_restart_on_78():
    with open(UNIT_IN) as f:
        unit = f.read()
    assert re.search(r"^Restart=on-failure$", unit, re.M), unit
    m = re.search(r"^RestartPreventExitStatus=(.*)$", unit, re.M)
    assert m and "78" in m.group(1).split(), "the unit restarts a plucsd that exited 78"
