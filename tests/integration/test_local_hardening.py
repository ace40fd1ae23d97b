"""Local hardening of plucsd (issue "Hardening", item 13, local part):

- the log stays one line per message whatever a client sends: CR, LF and
  other control characters in user input (the stream's 'to' and 'version',
  a SASL user name) come out escaped, so nobody can forge a log line;
- the pid file is never written through a symbolic link placed at its path
  (plucsd refuses to start and the link's target is untouched), and a normal
  start writes it atomically (no temporary file left behind);
- a group- or world-readable secret file (plucs/ldap/secretfile) is reported
  at start, naming the file and its mode; a 0600 one is not;
- under systemd's LoadCredential= the secret is read from
  $CREDENTIALS_DIRECTORY/<base name of plucs/ldap/secretfile>, so the
  unprivileged service reads a root-only secret.
"""

import os
import re
import shutil
import subprocess

import plucs_harness as H

FORGED = "2026-01-01 00:00:00.000 plucsd[crit] FORGED-LINE"


def no_forged_line(log):
    """No line of the log starts with (or is) the forged text."""
    return not any(line.startswith(FORGED) or line.startswith("FORGED")
                   for line in log.splitlines())


def test_log_escapes_crlf_in_stream_header(plucsd):
    since = plucsd.log_size()
    r = H.RawClient(plucsd.port)
    # character references survive XML attribute normalisation: the parser
    # hands plucsd a real CR LF inside the values
    r.send(H.stream_header(to="evil&#13;&#10;" + FORGED, version="1.0"))
    assert H.stream_error_condition(r.read_all(5)) == "host-unknown"
    r.close()
    m = plucsd.wait_log(r"stream to domain 'evil\\r\\n" + re.escape(FORGED) + "'", 10, since)
    assert m, plucsd.log()[since:]
    r = H.RawClient(plucsd.port)
    r.send(H.stream_header(version="x&#10;" + FORGED))
    assert H.stream_error_condition(r.read_all(5)) == "unsupported-version"
    r.close()
    assert plucsd.wait_log(r"unsupported stream version 'x\\n" + re.escape(FORGED) + "'", 10,
                           since), plucsd.log()[since:]
    assert no_forged_line(plucsd.log()), plucsd.log()[since:]


def test_log_escapes_crlf_in_sasl_username(plucsd):
    since = plucsd.log_size()
    r, cond = H.raw_auth(plucsd.port, "evil\r\n" + FORGED + "\x01", "wrong")
    r.close()
    assert cond == "not-authorized"
    m = plucsd.wait_log(r"authentication of 'evil\\r\\n" + re.escape(FORGED) + r"\\x01'", 10,
                        since)
    assert m, plucsd.log()[since:]
    assert no_forged_line(plucsd.log()), plucsd.log()[since:]
    assert "\r" not in plucsd.log()


def _run_plucsd(p, pidfile, env=None, timeout=20):
    """Starts plucsd for p with --pidfile and returns the Popen."""
    p.write_registry()
    p.logf = open(p.log_path, "ab")
    e = dict(os.environ)
    e.pop("PLUCS_REGISTRY", None)
    if env:
        e.update(env)
    p.proc = subprocess.Popen(
        [os.path.join(H.BUILD, "plucsd"), "--registry", p.registry_path, "--pidfile", pidfile],
        stdin=subprocess.DEVNULL, stdout=p.logf, stderr=p.logf, env=e)
    return p.proc


def test_pidfile_symlink_is_not_followed(ldap, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    p = H.Plucsd(d, ldap)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    pidfile = os.path.join(p.rundir, "plucsd.pid")
    os.symlink(str(victim), pidfile)
    proc = _run_plucsd(p, pidfile)
    try:
        # it exits at once; the old code started (and wrote through the link)
        H.wait_until(lambda: proc.poll() is not None or "plucsd started" in p.log(), 30)
        rc = proc.poll()
        if rc is None:
            proc.kill()
            proc.wait()
            raise AssertionError("plucsd started with a symlinked pid file (victim now %r):\n%s"
                                 % (victim.read_text(), p.log()[-4000:]))
    finally:
        p.logf.close()
    assert rc == 1, p.log()[-4000:]
    assert victim.read_text() == "precious\n"
    assert os.path.islink(pidfile)
    assert "is a symbolic link; refusing to write through it" in p.log(), p.log()[-4000:]
    assert [f for f in os.listdir(p.rundir) if f.startswith("plucsd.pid.")] == []
    if H.SANITIZED:
        for needle in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert needle not in p.log(), p.log()[-6000:]


def test_pidfile_written_atomically(plucsd):
    pidfile = os.path.join(plucsd.rundir, "plucsd.pid")
    assert H.wait_until(lambda: os.path.exists(pidfile), 10)
    st = os.lstat(pidfile)
    assert not os.path.islink(pidfile)
    assert oct(st.st_mode & 0o777) == oct(0o644)
    with open(pidfile) as f:
        assert f.read() == "%d\n" % plucsd.proc.pid
    assert [f for f in os.listdir(plucsd.rundir) if f.startswith("plucsd.pid.")] == []


def _secret_copy(ldap, tmp_path, name, mode):
    path = tmp_path / name
    shutil.copyfile(ldap.env["SECRETFILE"], str(path))
    os.chmod(str(path), mode)
    return str(path)


def test_secret_file_mode_warning(plucsd_factory, ldap, tmp_path):
    loose = _secret_copy(ldap, tmp_path, "loose.secret", 0o644)
    p = plucsd_factory(**{"plucs/ldap/secretfile": loose})
    m = p.wait_log(r"plucsd\[warning\] the secret file (\S+) \(plucs/ldap/secretfile\) has "
                   r"mode 0644: it is readable by every local user", 5)
    assert m and m.group(1) == loose, p.log()
    assert H.try_login(p.port, H.jid("alice"), H.password("alice"))   # still works

    tight = _secret_copy(ldap, tmp_path, "tight.secret", 0o600)
    q = plucsd_factory(**{"plucs/ldap/secretfile": tight})
    assert "has mode" not in q.log(), q.log()


def test_secret_from_credentials_directory(plucsd_factory, ldap, tmp_path, monkeypatch):
    creds = tmp_path / "credentials"
    creds.mkdir()
    _secret_copy(ldap, creds, "machine.secret", 0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    # the configured file does not exist: only the credential can serve
    p = plucsd_factory(**{"plucs/ldap/secretfile": "/nonexistent/plucs/machine.secret"})
    assert H.try_login(p.port, H.jid("alice"), H.password("alice"))
    assert "cannot read the secret file" not in p.log(), p.log()
