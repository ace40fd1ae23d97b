"""test_deb.py: the Debian packages (`make deb`, debian/) on this machine.

It builds the package (a no-op when build/deb has an up-to-date one), runs
lintian on it, installs it with `dpkg -i`, checks the files, the plucs user,
the data folder, the generated certificate, the man pages and the systemd
unit, starts the installed /usr/sbin/plucsd as the plucs user against the
test slapd, logs a client in, stops it, removes the package (`dpkg -r`:
data, registry and user stay) and purges it (everything gone).

It changes the system (a package, a user, files under /etc, /usr, /var), so
it needs root, runs in its own xdist group (conftest: one group per file) and
purges the package at teardown even when a step failed. It refuses to run on
a machine where a plucs package or user already exists, rather than removing
someone's installation.

The second package, plucs-ucs (the UCS integration: join scripts, UCR
files), is linted, its contents listed with `dpkg-deb -c`, installed after
plucs on this machine (not UCS: it must register nothing and say so) and
purged with plucs, leaving nothing. Its UCS branch (`ucr register`,
call_joinscript, and on removal the kept unjoin script, `ucr unregister`,
call_unjoinscript) runs in a throw-away overlay of / in a private mount
namespace with recording stand-ins for UCS's commands, so this machine never
looks like UCS, even for a moment.
"""

import glob
import grp
import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import tempfile

import pytest

import plucs_harness as H

DEB_DIR = os.path.join(H.TOP, "build", "deb")
UCS_PKG = "plucs-ucs"
# what `make ucs` stages, at the paths UCS uses (file -> mode)
UCS_FILES = {
    "/usr/lib/univention-install/50plucs.inst": 0o755,
    "/usr/lib/univention-uninstall/50plucs.uinst": 0o755,
    "/usr/share/plucs/ucs/plucs-ucs.lib": 0o644,
    "/usr/share/plucs/ucs/plucs-ucs-ldif": 0o755,
    "/etc/univention/registry.info/variables/plucs.cfg": 0o644,
    "/etc/univention/registry.info/categories/plucs.cfg": 0o644,
    "/etc/univention/templates/info/plucs.info": 0o644,
    "/etc/univention/templates/modules/plucs.py": 0o644,
    "/etc/univention/service.info/services/plucs.cfg": 0o644,
    "/usr/lib/univention-server/server_password_change.d/plucs": 0o755,
    "/usr/share/doc/plucs-ucs/copyright": 0o644,
}
NOT_UCS = "plucs-ucs: not a UCS system: nothing registered"
POLICY_RC_D = "/usr/sbin/policy-rc.d"
UNIT = "/lib/systemd/system/plucs.service"
CERT = "/etc/plucs/certs/plucs.pem"
REGISTRY = "/etc/plucs/registry.conf"

EXPECTED_FILES = [
    "/usr/sbin/plucsd",
    "/usr/bin/plucs",
    "/usr/share/plucs/schema/plucs.schema",
    "/usr/share/plucs/schema/plucs.ldif",
    "/usr/share/doc/plucs/README.md",
    "/usr/share/doc/plucs/operations.md",
    "/usr/share/doc/plucs/install.md",
    "/usr/share/doc/plucs/copyright",
    "/usr/share/man/man8/plucsd.8.gz",
    "/usr/share/man/man8/plucs.8.gz",
    UNIT,
    REGISTRY,
]


def run(argv, timeout=120, check=True, **kw):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, text=True, **kw)
    if check and p.returncode != 0:
        pytest.fail("%s exited with %d:\n%s" % (" ".join(argv), p.returncode, p.stdout[-6000:]),
                    pytrace=False)
    return p


def dpkg_status(pkg="plucs"):
    """'installed', 'config-files' (removed, not purged) or None."""
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if p.returncode != 0:
        return None
    return {"install ok installed": "installed",
            "deinstall ok config-files": "config-files"}.get(p.stdout.strip(), p.stdout.strip())


def user_exists(name="plucs"):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name="plucs"):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def dpkg_env():
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    env.pop("PLUCS_REGISTRY", None)
    return env


@pytest.fixture(scope="module")
def deb():
    """The built package (make deb; up to date when make check built it)."""
    if os.geteuid() != 0:
        pytest.skip("test_deb installs a package: needs root")
    if not shutil.which("dpkg-buildpackage") or not shutil.which("dh"):
        pytest.fail("dpkg-buildpackage/debhelper missing: run scripts/deps", pytrace=False)
    run(["make", "-C", H.TOP, "deb"], timeout=1800)
    debs = glob.glob(os.path.join(DEB_DIR, "plucs_*.deb"))
    assert len(debs) == 1, "expected one plucs_*.deb in %s, found %s" % (DEB_DIR, debs)
    return debs[0]


@pytest.fixture(scope="module")
def ucs_deb(deb):
    """plucs-ucs, built with plucs by the same `make deb`."""
    debs = glob.glob(os.path.join(DEB_DIR, "plucs-ucs_*_all.deb"))
    assert len(debs) == 1, "expected one plucs-ucs_*_all.deb in %s, found %s" % (DEB_DIR, debs)
    return debs[0]


@pytest.fixture(scope="module")
def clean_system(deb):
    """A machine without plucs, with service starts forbidden (policy-rc.d);
    purged and restored at teardown whatever happened."""
    if os.path.exists("/etc/univention/base.conf"):
        pytest.skip("a UCS host (/etc/univention/base.conf): the package would use UCR's registry")
    if (dpkg_status() is not None or dpkg_status(UCS_PKG) is not None or user_exists()
            or group_exists()):
        pytest.fail("this machine already has a plucs package, user or group; test_deb does not "
                    "touch an existing installation (after a crashed run: dpkg --purge plucs; "
                    "userdel plucs; groupdel plucs)", pytrace=False)
    made_policy = False
    if not os.path.exists(POLICY_RC_D):
        with open(POLICY_RC_D, "w") as f:
            f.write("#!/bin/sh\n# test_deb: no service starts while the package is tested\n"
                    "exit 101\n")
        os.chmod(POLICY_RC_D, 0o755)
        made_policy = True
    yield
    problems = []
    if dpkg_status(UCS_PKG) is not None:
        p = subprocess.run(["dpkg", "--purge", UCS_PKG], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=dpkg_env(), timeout=300)
        if p.returncode != 0:
            problems.append("dpkg --purge %s at teardown: %s" % (UCS_PKG, p.stdout))
    if dpkg_status() is not None:
        p = subprocess.run(["dpkg", "--purge", "plucs"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=dpkg_env(), timeout=300)
        if p.returncode != 0:
            problems.append("dpkg --purge plucs at teardown: %s" % p.stdout)
    for cmd, exists in (("userdel", user_exists), ("groupdel", group_exists)):
        if exists():
            problems.append("plucs %s left after the purge" % cmd[:-3])
            subprocess.run([cmd, "plucs"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for path in ("/var/lib/plucs", "/etc/plucs"):
        if os.path.exists(path):
            problems.append("%s left after the purge" % path)
            shutil.rmtree(path, ignore_errors=True)
    if made_policy:
        os.unlink(POLICY_RC_D)
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


def lintian_clean(deb):
    """lintian reports no error or warning that debian/ does not explain
    (debian/<package>.lintian-overrides, a comment on each)."""
    if not shutil.which("lintian"):
        pytest.fail("lintian missing: run scripts/deps", pytrace=False)
    # (no --show-overrides: with it, lintian 2.116 exits 2 for an
    # overridden error, e.g. plucs-ucs's files in /etc/univention)
    p = run(["lintian", "--fail-on", "error,warning", "--display-info", deb],
            timeout=600, check=False)
    print(p.stdout)
    assert p.returncode == 0, "lintian:\n%s" % p.stdout
    bad = [line for line in p.stdout.splitlines() if re.match(r"[EW]: ", line)]
    assert not bad, "lintian errors/warnings:\n%s" % "\n".join(bad)


def test_lintian_clean(deb):
    lintian_clean(deb)


def test_lintian_clean_ucs(ucs_deb):
    lintian_clean(ucs_deb)


def deb_contents(path):
    """{absolute path: (mode, type)} from `dpkg-deb -c` (type: '-', 'd', 'l')."""
    out = run(["dpkg-deb", "-c", path]).stdout
    files = {}
    for line in out.splitlines():
        perms, _owner, _size, _date, _time, name = line.split(None, 5)
        name = name.split(" -> ")[0]
        name = "/" + name[2:] if name.startswith("./") else name
        mode = 0
        for i, ch in enumerate(perms[1:10]):
            if ch != "-":
                mode |= 1 << (8 - i)
        files[name.rstrip("/") or "/"] = (mode, perms[0])
    return files


def test_ucs_package_contents(deb, ucs_deb):
    """plucs-ucs holds what `make ucs` stages, at UCS's paths, with UCS's
    modes, and depends on exactly the plucs it was built with."""
    files = deb_contents(ucs_deb)
    regular = {k: v[0] for k, v in files.items() if v[1] == "-"}
    for path, mode in UCS_FILES.items():
        assert path in regular, "%s is not in %s:\n%s" % (path, ucs_deb, sorted(regular))
        assert regular[path] == mode, "%s has mode %o, not %o" % (path, regular[path], mode)
    extra = set(regular) - set(UCS_FILES) - {"/usr/share/doc/plucs-ucs/changelog.gz",
                                             "/usr/share/lintian/overrides/plucs-ucs"}
    assert not extra, "unexpected files in plucs-ucs: %s" % sorted(extra)
    # the unjoin script is kept by the prerm, never shipped where UCS runs
    # join scripts from (it would run at the next join)
    assert "/usr/lib/univention-install/50plucs.uinst" not in files
    # nothing of plucs itself
    assert not set(regular) & set(deb_contents(deb)) - {"/usr/share/doc/plucs-ucs/copyright"}
    fields = run(["dpkg-deb", "-f", ucs_deb, "Architecture", "Depends", "Package"]).stdout
    version = run(["dpkg-deb", "-f", deb, "Version"]).stdout.strip()
    assert "Architecture: all" in fields, fields
    assert re.search(r"^Depends: .*\bplucs \(= %s\)" % re.escape(version), fields, re.M), fields
    # UCR's files are plain files, not conffiles (UCS convention)
    ctrl = tempfile.mkdtemp(prefix="plucs-test-deb-ctrl-")
    try:
        run(["dpkg-deb", "-e", ucs_deb, ctrl])
        assert not os.path.exists(os.path.join(ctrl, "conffiles")) or \
            "/etc/univention/" not in open(os.path.join(ctrl, "conffiles")).read()
        for script in ("postinst", "prerm", "postrm"):
            assert os.path.exists(os.path.join(ctrl, script)), "plucs-ucs has no %s" % script
        postinst = open(os.path.join(ctrl, "postinst")).read()
        assert "univention-config-registry register plucs" in postinst
        assert "call_joinscript 50plucs.inst" in postinst
        assert "call_unjoinscript 50plucs.uinst" in open(os.path.join(ctrl, "postrm")).read()
    finally:
        shutil.rmtree(ctrl, ignore_errors=True)


def mode_owner(path):
    st = os.stat(path)
    return (stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name,
            grp.getgrgid(st.st_gid).gr_name)


def check_installed(install_output):
    for path in EXPECTED_FILES:
        assert os.path.exists(path), "%s is not installed" % path
    assert os.access("/usr/sbin/plucsd", os.X_OK) and os.access("/usr/bin/plucs", os.X_OK)
    # the user and the data folder
    pw = pwd.getpwnam("plucs")
    assert pw.pw_dir == "/var/lib/plucs"
    assert pw.pw_shell == "/usr/sbin/nologin"
    assert pw.pw_uid < 1000, "plucs is not a system user (uid %d)" % pw.pw_uid
    assert grp.getgrgid(pw.pw_gid).gr_name == "plucs"
    assert mode_owner("/var/lib/plucs") == (0o750, "plucs", "plucs")
    # the self-signed certificate: key and certificate in one file, readable
    # by the plucs group only, for this host's FQDN
    assert mode_owner(CERT) == (0o640, "root", "plucs")
    with open(CERT) as f:
        pem = f.read()
    assert "PRIVATE KEY-----" in pem and "BEGIN CERTIFICATE-----" in pem
    san = run(["openssl", "x509", "-in", CERT, "-noout", "-ext", "subjectAltName"]).stdout
    fqdn = subprocess.run(["hostname", "--fqdn"], stdout=subprocess.PIPE, text=True).stdout.strip()
    if "." in fqdn:
        assert "DNS:%s" % fqdn in san, "certificate SAN %r lacks the FQDN %s" % (san, fqdn)
    assert "created a self-signed certificate" in install_output
    # an incomplete registry: not started, and the message says why and what to do
    assert "the service was not started" in install_output, install_output
    assert "ldap/base" in install_output and "systemctl start plucs" in install_output
    # the conffile: comments only (every built-in default is the manual's)
    assert "/etc/plucs/registry.conf" in run(["dpkg-query", "-W", "-f=${Conffiles}",
                                              "plucs"]).stdout
    assert run(["plucs", "config", "get", "plucs/certfile"]).stdout.strip() == CERT


def check_man_pages():
    for page, needle in (("plucsd", "--pidfile"), ("plucs", "config validate")):
        p = subprocess.run(["man", "--warnings", "-l", "/usr/share/man/man8/%s.8.gz" % page],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                           env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat"))
        assert p.returncode == 0, p.stderr
        assert not p.stderr.strip(), "man warnings for %s.8: %s" % (page, p.stderr)
        text = p.stdout
        assert "%s - " % page in text, text[:400]
        assert needle in text, "%s.8 does not show %r (from --help)" % (page, needle)
        help_text = run(["/usr/%s/%s" % ("sbin" if page == "plucsd" else "bin", page),
                         "--help"]).stdout
        first = help_text.splitlines()[0]
        assert first in text, "%s.8 does not contain the --help line %r" % (page, first)


def check_unit():
    with open(UNIT) as f:
        unit = f.read()
    for needle in ("User=plucs", "ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=yes",
                   "ProtectSystem=strict", "ExecStart=/usr/sbin/plucsd",
                   "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                   # a bad registry (exit 78, EX_CONFIG) is not retried every 5 s
                   "RestartPreventExitStatus=78"):
        assert needle in unit, "the unit lacks %s" % needle
    if shutil.which("systemd-analyze"):
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", UNIT],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=60)
        # System calls the installed libseccomp does not know yet are not
        # the unit's problem.
        lines = [line for line in p.stdout.splitlines()
                 if line.strip() and "Failed to parse system call" not in line
                 and "$container" not in line and "PR_SET_MM" not in line]
        assert not [line for line in lines if "plucs" in line], \
            "systemd-analyze verify %s:\n%s" % (UNIT, p.stdout)
        # the sandbox stays as tight as it is (1.5 of 10 with systemd 252;
        # "OK" ends at 3.9): fail above 2.0
        p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20",
                            UNIT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=60)
        assert p.returncode == 0, "systemd-analyze security %s:\n%s" % (UNIT, p.stdout[-3000:])
    # ExecCondition follows plucs/autostart: run the unit's own command line
    m = re.search(r"^ExecCondition=(.*)$", unit, re.M)
    assert m, "the unit has no ExecCondition"
    argv = shlex.split(m.group(1).replace("$$", "$"))
    try:
        for value, rc in (("true", 0), ("false", 1), ("Off", 1), ("yes", 0)):
            run(["plucs", "config", "set", "plucs/autostart=%s" % value])
            got = subprocess.run(argv, env=dpkg_env(), timeout=30).returncode
            assert got == rc, "ExecCondition with plucs/autostart=%s exited %d" % (value, got)
    finally:
        run(["plucs", "config", "unset", "plucs/autostart"])


def start_installed_plucsd(ldap, workdir):
    """The installed plucsd as user plucs, registry in WORKDIR (readable by
    plucs), the package's certificate, the default store in /var/lib/plucs."""
    os.chmod(workdir, 0o755)
    secret = os.path.join(workdir, "ldap.secret")
    shutil.copy(ldap.env["SECRETFILE"], secret)
    os.chown(secret, pwd.getpwnam("plucs").pw_uid, grp.getgrnam("plucs").gr_gid)
    os.chmod(secret, 0o600)
    cacert = os.path.join(workdir, "ca.pem")
    shutil.copy(ldap.env["CACERT"], cacert)
    os.chmod(cacert, 0o644)
    p = H.Plucsd(workdir, ldap, **{"plucs/certfile": CERT,
                                   "plucs/ldap/secretfile": secret,
                                   "plucs/ldap/cacert": cacert})
    del p.registry["plucs/store"]          # the default: sqlite:/var/lib/plucs/plucs.db
    os.chown(p.rundir, pwd.getpwnam("plucs").pw_uid, grp.getgrnam("plucs").gr_gid)
    p.wrap = lambda argv: (["setpriv", "--reuid=plucs", "--regid=plucs", "--init-groups",
                            "/usr/sbin/plucsd"] + argv[1:])
    p.start()
    return p


def test_install_run_remove_purge(deb, clean_system, ldap, client):
    env = dpkg_env()
    out = run(["dpkg", "-i", deb], timeout=300, env=env).stdout
    assert dpkg_status() == "installed"
    check_installed(out)
    check_man_pages()
    check_unit()

    # installing again (as an upgrade does) keeps the certificate and the
    # user and says again why the service is not started
    with open(CERT, "rb") as f:
        cert = f.read()
    uid = pwd.getpwnam("plucs").pw_uid
    again = run(["dpkg", "-i", deb], timeout=300, env=env).stdout
    assert "created a self-signed certificate" not in again, again
    assert "the service was not started" in again, again
    with open(CERT, "rb") as f:
        assert f.read() == cert, "reinstalling replaced the certificate"
    assert pwd.getpwnam("plucs").pw_uid == uid
    assert mode_owner("/var/lib/plucs") == (0o750, "plucs", "plucs")

    workdir = tempfile.mkdtemp(prefix="plucs-test-deb-")
    try:
        p = start_installed_plucsd(ldap, workdir)
        try:
            with open("/proc/%d/status" % p.proc.pid) as f:
                uids = re.search(r"^Uid:\s+(.*)$", f.read(), re.M).group(1).split()
            plucs_uid = str(pwd.getpwnam("plucs").pw_uid)
            assert uids == [plucs_uid] * 4, "plucsd runs with uids %s, not plucs" % uids
            c = client("alice", daemon=p)
            r = c.login()
            assert r.ok, "login through the installed plucsd failed: %r\n%s" % (r, p.log()[-3000:])
            c.close()
        finally:
            rc = p.terminate()
        assert rc == 0, "plucsd exited with %s\n%s" % (rc, p.log()[-3000:])
        assert mode_owner("/var/lib/plucs/plucs.db")[1] == "plucs"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    # dpkg -r: programs gone; data, registry, certificate and user stay
    run(["dpkg", "-r", "plucs"], timeout=300, env=env)
    assert dpkg_status() == "config-files"
    for path in ("/usr/sbin/plucsd", "/usr/bin/plucs", UNIT, "/usr/share/man/man8/plucsd.8.gz"):
        assert not os.path.exists(path), "%s still there after dpkg -r" % path
    for path in ("/var/lib/plucs/plucs.db", REGISTRY, CERT):
        assert os.path.exists(path), "%s was removed by dpkg -r (only purge may)" % path
    assert user_exists() and group_exists()

    # dpkg --purge: everything gone
    run(["dpkg", "--purge", "plucs"], timeout=300, env=env)
    assert dpkg_status() is None
    for path in ("/var/lib/plucs", "/etc/plucs", CERT, "/usr/share/doc/plucs",
                 "/usr/share/plucs"):
        assert not os.path.exists(path), "%s still there after dpkg --purge" % path
    assert not user_exists(), "user plucs still there after dpkg --purge"
    assert not group_exists(), "group plucs still there after dpkg --purge"


UCS_LEFTOVERS = ("/usr/lib/univention-install", "/usr/lib/univention-uninstall",
                 "/usr/lib/univention-server",
                 "/etc/univention", "/var/univention-join", "/usr/share/plucs",
                 "/usr/share/doc/plucs-ucs")


def test_ucs_package_on_debian(deb, ucs_deb, clean_system):
    """plucs-ucs after plucs on a machine without UCS: installs, registers
    nothing and says so; plucs cannot be removed under it; dpkg -r removes
    its files (plain files under /etc/univention included); purging both
    packages leaves nothing behind."""
    env = dpkg_env()
    before = {p: os.path.exists(p) for p in UCS_LEFTOVERS}
    run(["dpkg", "-i", deb], timeout=300, env=env)
    out = run(["dpkg", "-i", ucs_deb], timeout=300, env=env).stdout
    assert dpkg_status(UCS_PKG) == "installed", out
    assert NOT_UCS in out, out
    for path, mode in UCS_FILES.items():
        assert os.path.isfile(path), "%s is not installed" % path
        assert stat.S_IMODE(os.stat(path).st_mode) == mode, path
    # not UCS: no unjoin script copied, no join status made
    assert not os.path.exists("/usr/lib/univention-install/50plucs.uinst")
    assert not os.path.exists("/var/univention-join") or before["/var/univention-join"]
    # the generated variable descriptions name every plucs/ variable the
    # installed plucs knows
    table = run(["plucs", "config", "table", "--format", "ucr-info"]).stdout
    with open("/etc/univention/registry.info/variables/plucs.cfg") as f:
        assert f.read() == table

    # plucs-ucs depends on plucs: dpkg refuses to remove plucs under it
    p = run(["dpkg", "-r", "plucs"], timeout=300, env=env, check=False)
    assert p.returncode != 0, p.stdout
    assert "plucs-ucs depends on plucs" in p.stdout, p.stdout
    assert os.path.exists("/usr/sbin/plucsd")

    # dpkg -r plucs-ucs: its files go, /etc/univention ones too (no conffiles)
    out = run(["dpkg", "-r", UCS_PKG], timeout=300, env=env).stdout
    # only its postrm stays (for a purge): it has no conffiles
    assert dpkg_status(UCS_PKG) in (None, "config-files"), out
    assert not run(["dpkg-query", "-W", "-f=${Conffiles}", UCS_PKG],
                   check=False).stdout.strip()
    for path in UCS_FILES:
        assert not os.path.exists(path), "%s still there after dpkg -r plucs-ucs" % path
    assert not os.path.exists("/usr/lib/univention-install/50plucs.uinst")

    # again, then purge both: nothing left
    run(["dpkg", "-i", ucs_deb], timeout=300, env=env)
    run(["dpkg", "--purge", UCS_PKG, "plucs"], timeout=300, env=env)
    assert dpkg_status(UCS_PKG) is None and dpkg_status() is None
    for path, existed in before.items():
        if not existed:
            assert not os.path.exists(path), "%s left after purging plucs-ucs and plucs" % path
    for path in ("/var/lib/plucs", "/etc/plucs", "/usr/share/doc/plucs"):
        assert not os.path.exists(path), "%s left after purging plucs-ucs and plucs" % path
    assert not user_exists() and not group_exists()


# --- the UCS branch of the maintainer scripts, in a throw-away overlay ---------

# Stand-ins for UCS's commands: they record their calls in /ucs-calls.
FAKE_UCR = r"""#!/bin/sh
# test_deb stand-in for univention-config-registry: records, answers `get`
echo "ucr $*" >> /ucs-calls
case "$1" in
    get) sed -n "s|^$2: ||p" /etc/univention/base.conf ;;
esac
exit 0
"""
FAKE_BASE_SH = r"""# test_deb stand-in for univention-lib's base.sh
call_joinscript() { echo "call_joinscript $*" >> /ucs-calls; }
call_unjoinscript() {
    echo "call_unjoinscript $* $(test -x /usr/lib/univention-install/$1 && echo kept)" >> /ucs-calls
}
"""


def in_overlay(script, debs, timeout=600):
    """Runs the shell SCRIPT as root in a chroot onto a copy-on-write overlay
    of / in a private mount and network namespace, the .debs in /debs.
    Nothing it does reaches this machine. Its output, or a skip when this
    kernel or container has no overlayfs."""
    tmp = tempfile.mkdtemp(prefix="plucs-test-deb-ov-")
    try:
        for d in ("up", "work", "root", "up/debs"):
            os.makedirs(os.path.join(tmp, d))
        for path in debs:
            shutil.copy(path, os.path.join(tmp, "up", "debs"))
        with open(os.path.join(tmp, "up", "test.sh"), "w") as f:
            f.write(script)
        root = os.path.join(tmp, "root")
        outer = (
            "set -e\n"
            "mount -t overlay overlay -o lowerdir=/,upperdir={t}/up,workdir={t}/work {r} "
            "  || exit 77\n"
            "mount -t proc proc {r}/proc\n"
            "mount --rbind /dev {r}/dev\n"
            "mount -t tmpfs tmpfs {r}/run\n"
            "mount -t tmpfs tmpfs {r}/tmp\n"
            "exec chroot {r} /bin/sh -e /test.sh\n").format(t=tmp, r=root)
        p = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", "sh", "-c", outer],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout,
                           env=dpkg_env())
        if p.returncode == 77:
            pytest.skip("no overlayfs here: the UCS branch of plucs-ucs is not tested")
        return p
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", tmp])


def test_ucs_package_on_ucs(deb, ucs_deb):
    """On a (simulated) joined UCS Primary Directory Node: the postinst
    registers the UCR module (`ucr register plucs`) and runs the join script
    through call_joinscript; the prerm keeps the unjoin script in
    /usr/lib/univention-install and unregisters the module; the postrm runs
    call_unjoinscript. On a member server the postinst says to run
    univention-run-join-scripts."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    script = r"""
install -d /usr/sbin /usr/share/univention-lib /etc/univention /var/univention-join
cat > /usr/sbin/univention-config-registry <<'UCR'
{ucr}UCR
chmod 755 /usr/sbin/univention-config-registry
ln -sf univention-config-registry /usr/sbin/ucr
cat > /usr/share/univention-lib/base.sh <<'BASE'
{base}BASE
printf 'server/role: domaincontroller_master\nldap/base: dc=ucs,dc=test\n' > /etc/univention/base.conf
: > /var/univention-join/joined
: > /var/univention-join/status
: > /ucs-calls
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d
echo '== install'
dpkg -i /debs/plucs_*.deb /debs/plucs-ucs_*.deb 2>&1
echo '== calls after install'; cat /ucs-calls; : > /ucs-calls
echo '== remove'
dpkg -r plucs-ucs 2>&1
echo '== calls after remove'; cat /ucs-calls
echo '== kept'; ls /usr/lib/univention-install/
echo '== member'
sed -i 's/domaincontroller_master/memberserver/' /etc/univention/base.conf
: > /ucs-calls
dpkg -i /debs/plucs-ucs_*.deb 2>&1
echo '== calls on member'; cat /ucs-calls
""".format(ucr=FAKE_UCR, base=FAKE_BASE_SH)
    p = in_overlay(script, [deb, ucs_deb])
    out = p.stdout
    assert p.returncode == 0, out[-6000:]
    sections = dict(re.findall(r"^== (.*)\n((?:(?!== ).*\n)*)", out, re.M))
    installed = sections.get("calls after install", "").splitlines()
    assert "ucr register plucs" in installed, out[-6000:]
    assert "call_joinscript 50plucs.inst" in installed, out[-6000:]
    assert installed.index("ucr register plucs") < installed.index("call_joinscript 50plucs.inst")
    assert NOT_UCS not in out
    removed = sections.get("calls after remove", "").splitlines()
    assert "ucr unregister plucs" in removed, out[-6000:]
    assert "call_unjoinscript 50plucs.uinst kept" in removed, out[-6000:]
    assert "50plucs.uinst" in sections.get("kept", ""), out[-6000:]
    member = sections.get("calls on member", "").splitlines()
    assert "ucr register plucs" in member, out[-6000:]
    assert not any(c.startswith("call_joinscript") for c in member), member
    assert "univention-run-join-scripts" in sections.get("member", ""), out[-6000:]
