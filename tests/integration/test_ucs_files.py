"""test_ucs_files.py: the UCS app files (ucs/, `make ucs`) tested without a
UCS system: shellcheck on every shell script; the generated registry.info
(UCR variable descriptions) parsed with UCR's rules and compared with the
built-in variable table; the UCR info, category and service files; the
firewall rules of the UCR module (ucs/plucs.py) computed from real
`plucs config get` values; the `udm` command lines of the join script's
extended attributes (recorded by a stand-in `univention-directory-manager`);
and an LDIF dry run: what the join script creates (ucs/plucs-ucs-ldif, from
the same definitions as the join script) loaded into a slapd with UCS's
schema subset (tests/ucs/ucs-subset.ldif), checked entry by entry, after
which plucsd serves the domain the join gave the first host and a user
created with the extended attributes' defaults logs in; and the join script
itself, run twice with UCS's libraries and commands replaced by recording
stand-ins (ucr over a file, univention-ldapsearch on the test slapd). A definition with a
missing German label or an unknown property makes these checks fail
(test_broken_definitions_are_caught).
Run: /usr/bin/python3 -m pytest tests/integration/test_ucs_files.py"""
import base64
import configparser
import importlib.util
import json
import os
import re
import stat
import subprocess

import pytest

import plucs_harness as H

UCS = os.path.join(H.TOP, "ucs")
LDIF_TOOL = os.path.join(UCS, "plucs-ucs-ldif")
SUBSET = os.path.join(H.TOP, "tests", "ucs", "ucs-subset.ldif")
BASE_LDIF = os.path.join(H.TOP, "tests", "ucs", "ucs-base.ldif")
PLUCS = os.path.join(H.BUILD, "plucs")

# What the join script must create: (UDM module family, LDAP attribute).
EXPECTED_EA = {
    ("users/user", "xmppEnabled"), ("users/user", "xmppDomain"),
    ("groups/group", "xmppEnabled"), ("groups/group", "xmppMessageGroups"),
    ("groups/group", "xmppPresenceGroups"), ("computers", "xmppDomains"),
}
HOST_MODULES = {"computers/domaincontroller_master", "computers/domaincontroller_backup",
                "computers/domaincontroller_slave", "computers/memberserver"}
# UCR's variable types (developer reference, registry.info "Type").
UCR_TYPES = {"str", "json", "ipv4address", "ipv6address", "ipaddress", "url_proxy",
             "bool", "int", "uint", "pint", "portnumber", "list"}
UCR_BOOL = {"yes", "no", "true", "false", "1", "0", "enable", "disable", "enabled",
            "disabled", "on", "off"}
NON_SHELL = {"plucs.py", "plucs.info", "plucs.categories", "plucs.service.cfg"}


def run(argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(argv, **kw)


# --- LDIF reading (ldapsearch output and plucs-ucs-ldif alike) ---------------

def parse_ldif(text):
    """{dn: {attribute-lower(;options): [values]}} of the add records and
    plain entries; modify records as {dn: [(op, attr, [values])]} in a
    second dict."""
    entries, mods = {}, {}
    for block in re.split(r"\n\s*\n", text.replace("\n ", "")):
        lines = [l for l in block.splitlines() if l and not l.startswith("#")]
        if not lines:
            continue
        pairs = []
        for l in lines:
            if l == "-":
                pairs.append(("-", None))
                continue
            k, sep, v = l.partition(":")
            assert sep, "not an LDIF line: %r" % l
            if v.startswith(":"):
                v = base64.b64decode(v[1:].strip()).decode("utf-8")
            else:
                v = v.strip()
            pairs.append((k, v))
        assert pairs[0][0].lower() == "dn", block
        dn = pairs[0][1]
        ct = dict((k.lower(), v) for k, v in pairs[1:] if k).get("changetype", "add")
        if ct == "modify":
            ops, cur = [], None
            for k, v in pairs[1:]:
                if k.lower() == "changetype":
                    continue
                if k == "-":
                    cur = None
                elif cur is None:
                    cur = (k.lower(), v, [])
                    ops.append(cur)
                else:
                    assert k.lower() == cur[1].lower(), (k, cur)
                    cur[2].append(v)
            mods[dn.lower()] = ops
        else:
            e = {}
            for k, v in pairs[1:]:
                if k.lower() == "changetype":
                    continue
                e.setdefault(k.lower(), []).append(v)
            entries[dn.lower()] = e
    return entries, mods


def plucs_schema():
    """{attribute: single_valued} and {objectclass: set(may)} of schema/plucs.schema."""
    text = open(os.path.join(H.TOP, "schema", "plucs.schema")).read()
    attrs, classes = {}, {}
    for m in re.finditer(r"attributetype \((.*?)\n\s*\n", text + "\n\n", re.S):
        name = re.search(r"NAME '(\w+)'", m.group(1)).group(1)
        attrs[name] = "SINGLE-VALUE" in m.group(1)
    for m in re.finditer(r"objectclass \((.*?)\)\s*\)", text, re.S):
        name = re.search(r"NAME '(\w+)'", m.group(1)).group(1)
        may = re.search(r"MAY \(([^)]*)", m.group(1)).group(1)
        classes[name] = {a.strip() for a in may.split("$")}
    return attrs, classes


def check_extended_attributes(entries, base):
    """The extended attributes among ENTRIES (parsed LDIF) are the ones PLUCS
    needs, each complete with English and German labels; returns them by
    (module family, ldapMapping). Raises AssertionError naming what is wrong."""
    attrs, classes = plucs_schema()
    pos = "cn=xmpp,cn=custom attributes,cn=univention,%s" % base
    found = {}
    for dn, e in entries.items():
        if "univentionudmproperty" not in [v.lower() for v in e.get("objectclass", [])]:
            continue
        name = e["cn"][0]
        assert dn == ("cn=%s,%s" % (name, pos)).lower(), "%s is not in %s" % (dn, pos)

        def one(attr, what=name):
            vals = e.get(attr.lower(), [])
            assert len(vals) == 1 and vals[0].strip(), \
                "extended attribute %s: %s missing or not single" % (what, attr)
            return vals[0]

        assert one("univentionUDMPropertyVersion") == "2", name
        mapping = one("univentionUDMPropertyLdapMapping")
        oc = one("univentionUDMPropertyObjectClass")
        assert mapping in attrs, "%s maps to %s, not a PLUCS attribute" % (name, mapping)
        assert mapping in classes.get(oc, ()), "%s: class %s does not allow %s" % (name, oc, mapping)
        assert one("univentionUDMPropertyCLIName") == mapping, name
        multi = one("univentionUDMPropertyMultivalue")
        assert multi == ("0" if attrs[mapping] else "1"), \
            "%s: multivalue %s but %s is %s" % (name, multi, mapping,
                                                 "single" if attrs[mapping] else "multi")
        if mapping == "xmppEnabled":
            assert one("univentionUDMPropertySyntax") == "TrueFalseUpper", name
        for label in ("ShortDescription", "LongDescription"):
            one("univentionUDMProperty" + label)
            one("univentionUDMPropertyTranslation%s;entry-de-de" % label)
        one("univentionUDMPropertyLayoutTabName")
        one("univentionUDMPropertyTranslationTabName;entry-de-de")
        modules = set(e.get("univentionudmpropertymodule", []))
        if modules <= HOST_MODULES and modules:
            assert modules == HOST_MODULES, "%s: host modules %s" % (name, sorted(modules))
            family = "computers"
        else:
            assert len(modules) == 1, "%s: modules %s" % (name, sorted(modules))
            family = modules.pop()
        key = (family, mapping)
        assert key not in found, "two extended attributes for %s" % (key,)
        found[key] = e
    missing = EXPECTED_EA - set(found)
    extra = set(found) - EXPECTED_EA
    assert not missing and not extra, "missing %s, unexpected %s" % (sorted(missing), sorted(extra))
    return found


def dry_run(base, hostdn, domainname, lib=None, extra=()):
    env = dict(os.environ)
    if lib:
        env["PLUCS_UCS_LIB"] = lib
    return run([LDIF_TOOL, "--base", base, "--hostdn", hostdn, "--domainname", domainname]
               + list(extra), env=env)


# --- shell scripts ------------------------------------------------------------

def shell_scripts():
    out = []
    for name in sorted(os.listdir(UCS)):
        path = os.path.join(UCS, name)
        if os.path.isdir(path):
            continue        # __pycache__ of plucs.py
        head = open(path, encoding="utf-8").readline()
        if head.startswith("#!/bin/sh") or head.startswith("#!/bin/bash") or \
                head.startswith("# shellcheck shell="):
            out.append(path)
        else:
            # every other file must be a known non-shell file: a new
            # script without a shebang would escape shellcheck.
            assert name in NON_SHELL, "ucs/%s: no shebang, not a known non-shell file" % name
    return out


def test_shellcheck_every_shell_script():
    scripts = shell_scripts()
    names = {os.path.basename(p) for p in scripts}
    assert {"50plucs.inst", "50plucs.uinst", "plucs-ucs.lib", "plucs-ucs-ldif"} <= names
    r = run(["shellcheck", "-x", "-s", "sh"] + scripts, cwd=H.TOP)
    assert r.returncode == 0, r.stdout + r.stderr
    for p in scripts:
        if not p.endswith(".lib"):
            assert os.stat(p).st_mode & stat.S_IXUSR, "%s is not executable" % p


def test_join_scripts_follow_the_join_api():
    for name in ("50plucs.inst", "50plucs.uinst"):
        text = open(os.path.join(UCS, name)).read()
        assert "## joinscript api: bindpwdfile" in text, name
        assert re.search(r"^VERSION=\d+$", text, re.M), name
        assert "joinscript_init" in text, name
    inst = open(os.path.join(UCS, "50plucs.inst")).read()
    assert "joinscript_save_current_version" in inst
    assert "ucs_registerLDAPExtension" in inst and "--schema" in inst
    assert 'ucs_addServiceToLocalhost "$PLUCS_UCS_SERVICE" "$@"' in inst
    uinst = open(os.path.join(UCS, "50plucs.uinst")).read()
    assert "joinscript_remove_script_from_status_file plucs" in uinst
    assert "ucs_unregisterLDAPExtension" not in uinst   # the schema stays with the data


# --- make ucs: generated and static UCR files -----------------------------------

@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    d = tmp_path_factory.mktemp("ucs") / "stage"
    r = run(["make", "-s", "-C", H.TOP, "BUILD=" + H.BUILD, "UCS_STAGE=" + str(d), "ucs"],
            timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return str(d)


def ucr_parser():
    # UCR's own reader (univention.info_tools.UnicodeConfig on Python 3):
    # configparser without interpolation. strict here: a duplicate section
    # or key would silently merge in UCR.
    return configparser.ConfigParser(strict=True, interpolation=None)


def built_in_plucs_keys():
    r = run([PLUCS, "config", "table", "--format", "markdown"])
    assert r.returncode == 0, r.stderr
    keys = re.findall(r"^\| `(plucs/[^`]*)`", r.stdout, re.M)
    return {k.replace("DOMAIN", ".*") for k in keys}


def test_staged_tree(stage):
    want = [
        "usr/lib/univention-install/50plucs.inst", "usr/lib/univention-uninstall/50plucs.uinst",
        "usr/share/plucs/ucs/plucs-ucs.lib", "usr/share/plucs/ucs/plucs-ucs-ldif",
        "etc/univention/registry.info/variables/plucs.cfg",
        "etc/univention/registry.info/categories/plucs.cfg",
        "etc/univention/templates/info/plucs.info", "etc/univention/templates/modules/plucs.py",
        "etc/univention/service.info/services/plucs.cfg",
        "usr/lib/univention-server/server_password_change.d/plucs",
    ]
    for rel in want:
        assert os.path.isfile(os.path.join(stage, rel)), rel
    inst = os.path.join(stage, "usr/lib/univention-install/50plucs.inst")
    assert os.stat(inst).st_mode & stat.S_IXUSR
    # the unjoin script runs after the package (and plucs-ucs.lib) is gone:
    # UCS keeps it in univention-uninstall/, self-contained
    uinst = os.path.join(stage, "usr/lib/univention-uninstall/50plucs.uinst")
    assert os.stat(uinst).st_mode & stat.S_IXUSR
    assert not os.path.exists(os.path.join(stage, "usr/lib/univention-install/50plucs.uinst"))
    text = open(uinst).read()
    assert "\n. /usr/share/plucs/ucs/plucs-ucs.lib\n" not in text
    assert "plucs_ucs_definitions()" in text and "plucs_ucs_position()" in text
    assert subprocess.run(["sh", "-n", uinst]).returncode == 0
    hook = os.path.join(stage, "usr/lib/univention-server/server_password_change.d/plucs")
    assert os.stat(hook).st_mode & stat.S_IXUSR


def test_password_change_hook_restarts_plucs(tmp_path):
    """UCS runs the hook with prechange, then postchange or nochange; only
    postchange restarts plucsd (through deb-systemd-invoke, recorded here)."""
    log = tmp_path / "invoked"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "deb-systemd-invoke").write_text('#!/bin/sh\necho "$@" >> %s\n' % log)
    (fake / "deb-systemd-invoke").chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (fake, os.environ["PATH"]))
    hook = os.path.join(UCS, "server-password-change")
    for phase in ("prechange", "nochange"):
        assert run([hook, phase], env=env).returncode == 0
    assert not log.exists()
    assert run([hook, "postchange"], env=env).returncode == 0
    assert log.read_text().split() == ["try-restart", "plucs.service"]


def test_registry_info_matches_table_and_ucr_rules(stage):
    path = os.path.join(stage, "etc/univention/registry.info/variables/plucs.cfg")
    cp = ucr_parser()
    cp.read(path, encoding="utf-8")
    sections = cp.sections()
    assert set(sections) == built_in_plucs_keys(), "registry.info differs from the table"
    cats = ucr_parser()
    cats.read(os.path.join(stage, "etc/univention/registry.info/categories/plucs.cfg"),
              encoding="utf-8")
    for key in sections:
        # '.*' is the only pattern UCR supports in a section name.
        assert re.fullmatch(r"[a-z0-9_/.-]+", key.replace(".*", "")), key
        assert ".*" not in key or key.endswith("/.*"), key
        v = cp[key]
        assert v.get("description[en]", "").strip(), key + ": Description[en]"
        assert v.get("description[de]", "").strip(), key + ": Description[de]"
        t = v.get("type")
        assert t in UCR_TYPES, "%s: Type=%s" % (key, t)
        for bound in ("min", "max"):
            if bound in v:
                int(v[bound])
        if "min" in v and "max" in v:
            assert int(v["min"]) <= int(v["max"]), key
        if t == "bool" and "default" in v:
            assert v["default"].lower() in UCR_BOOL, key
        if t in ("int", "uint") and "default" in v:
            d = int(v["default"])
            assert int(v.get("min", d)) <= d <= int(v.get("max", d)), key
        for c in v.get("categories", "").split(","):
            assert c.strip() in cats.sections(), "%s: category %r not described" % (key, c)
    assert cp["plucs/autostart"]["type"] == "bool"
    assert cp["plucs/c2s/port"]["default"] == "5222"
    c = cats["service-plucs"]
    assert c.get("name[en]") and c.get("name[de]") and c.get("icon")


def test_service_description(stage):
    cp = ucr_parser()
    cp.read(os.path.join(stage, "etc/univention/service.info/services/plucs.cfg"), encoding="utf-8")
    s = cp["plucs"]
    assert s.get("description[en]") and s.get("description[de]")
    assert s["start_type"] == "plucs/autostart"
    assert s["systemd"] == "plucs.service"
    assert s["programs"].endswith("/plucsd")


def parse_stanzas(text):
    """UCR info files: stanzas separated by blank lines, `Key: value` lines
    (a key may repeat)."""
    stanzas = []
    for block in re.split(r"\n\s*\n", text.strip()):
        st = {}
        for line in block.splitlines():
            m = re.fullmatch(r"([A-Za-z]+): (\S.*)", line)
            assert m, "not a 'Key: value' line: %r" % line
            st.setdefault(m.group(1), []).append(m.group(2))
        stanzas.append(st)
    return stanzas


def test_ucr_info_file(stage):
    info = os.path.join(stage, "etc/univention/templates/info/plucs.info")
    stanzas = parse_stanzas(open(info).read())
    allowed = {
        "module": {"Type", "Module", "Variables"},
        "script": {"Type", "Script", "Variables"},
        "file": {"Type", "File", "Variables", "User", "Group", "Mode", "Preinst", "Postinst"},
    }
    modules = []
    for st in stanzas:
        t = st["Type"][0]
        assert t in allowed, t
        assert set(st) <= allowed[t], st
        assert st.get("Variables"), "a %s entry needs Variables" % t
        if t == "module":
            modules.append(st["Module"][0])
            assert os.path.isfile(os.path.join(stage, "etc/univention/templates/modules",
                                               st["Module"][0]))
        pats = [re.compile(v) for v in st["Variables"]]
        for key in ("plucs/http/bind/url", "plucs/c2s/port", "plucs/s2s"):
            assert any(p.match(key) for p in pats), key
        for key in ("ldap/base", "xplucs/c2s/port", "security/packetfilter/package/plucs/tcp/5222/all"):
            assert not any(p.match(key) for p in pats), key
    assert modules == ["plucs.py"]


# --- the UCR module -------------------------------------------------------------

@pytest.fixture
def ucr_module(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("plucs_ucr_module", os.path.join(UCS, "plucs.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    reg = tmp_path / "base.conf"
    reg.write_text("# test registry\n")
    monkeypatch.setenv("PATH", H.BUILD + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("PLUCS_REGISTRY", str(reg))

    def set_reg(**values):
        reg.write_text("".join("%s: %s\n" % (k.replace("__", "/"), v) for k, v in values.items()))
    return mod, set_reg


def test_firewall_rules_follow_the_registry(ucr_module):
    mod, set_reg = ucr_module
    pf = mod.PF_PREFIX
    assert pf == "security/packetfilter/package/plucs/tcp/"
    # Built-in defaults: c2s only (s2s off, HTTP on loopback behind Apache).
    w = mod.packetfilter_wanted(mod.plucs_get)
    assert {k for k in w if k.endswith("/all")} == {pf + "5222/all"}
    assert w[pf + "5222/all"] == "ACCEPT"
    assert w[pf + "5222/all/en"] and w[pf + "5222/all/de"]
    set_reg(**{"plucs/s2s": "true", "plucs/c2s/tls/port": "5223", "plucs/s2s/port": "5270",
               "plucs/http/address": "0.0.0.0", "plucs/http/port": "5281"})
    w = mod.packetfilter_wanted(mod.plucs_get)
    assert {k for k in w if k.endswith("/all")} == \
        {pf + p + "/all" for p in ("5222", "5223", "5270", "5281")}
    # Moving the c2s port: the old rule is unset, the new one set.
    current = {pf + "5222/all": "ACCEPT", pf + "5222/all/en": "x", pf + "5269/all": "ACCEPT",
               "security/packetfilter/package/other/tcp/1/all": "ACCEPT"}
    set_reg(**{"plucs/c2s/port": "15222"})
    ch = mod.packetfilter_changes(mod.plucs_get, current)
    assert ch[pf + "15222/all"] == "ACCEPT"
    assert ch[pf + "5222/all"] is None and ch[pf + "5222/all/en"] is None
    assert ch[pf + "5269/all"] is None
    assert "security/packetfilter/package/other/tcp/1/all" not in ch
    # Nothing to do when the rules are already right.
    assert mod.packetfilter_changes(mod.plucs_get, mod.packetfilter_wanted(mod.plucs_get)) == {}


# --- the join script's udm calls -------------------------------------------------

def test_udm_command_lines(tmp_path):
    """plucs_ucs_udm_ea turns each definition into one
    `udm settings/extended_attribute create` with the join credentials;
    translations in UDM's '"de_DE" "text"' form. A stand-in
    univention-directory-manager records its arguments."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "udm.log"
    stub = bindir / "univention-directory-manager"
    stub.write_text("#!/usr/bin/python3\nimport json, sys\n"
                    "open(%r, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n" % str(log))
    stub.chmod(0o755)
    script = ('. "$1"; ldap_base=dc=ucs,dc=test; domainname=ucs.test; '
              'plucs_ucs_credentials --binddn "cn=admin,dc=ucs,dc=test" --bindpwdfile /tmp/pw; '
              'plucs_ucs_definitions plucs_ucs_udm_ea')
    env = dict(os.environ, PATH=str(bindir) + os.pathsep + os.environ["PATH"])
    r = run(["sh", "-c", script, "sh", os.path.join(UCS, "plucs-ucs.lib")], env=env)
    assert r.returncode == 0, r.stderr
    calls = [json.loads(l) for l in log.read_text().splitlines()]
    assert len(calls) == 6
    for argv in calls:
        assert argv[:3] == ["settings/extended_attribute", "create", "--ignore_exists"]
        assert argv[argv.index("--position") + 1] == \
            "cn=xmpp,cn=custom attributes,cn=univention,dc=ucs,dc=test"
        assert argv[argv.index("--binddn") + 1] == "cn=admin,dc=ucs,dc=test"
        assert argv[argv.index("--bindpwdfile") + 1] == "/tmp/pw"
        appended = [argv[i + 1] for i, a in enumerate(argv) if a == "--append"]
        for kind in ("translationShortDescription", "translationLongDescription",
                     "translationTabName"):
            vals = [a for a in appended if a.startswith(kind + "=")]
            assert len(vals) == 1, (kind, argv)
            assert re.fullmatch(r'%s="de_DE" "[^"]+"' % kind, vals[0]), vals[0]
        sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
        assert any(s.startswith("name=UniventionXMPP-") for s in sets), sets
    domain = [c for c in calls if "name=UniventionXMPP-User-Domain" in c][0]
    assert "default=ucs.test" in domain


# --- LDIF dry run ---------------------------------------------------------------

def test_dry_run_host_rules():
    base, host = "dc=ucs,dc=test", "cn=dc1,cn=dc,cn=computers,dc=ucs,dc=test"
    r = dry_run(base, host, "ucs.test")
    assert r.returncode == 0, r.stderr
    _, mods = parse_ldif(r.stdout)
    ops = mods[host.lower()]
    assert ("add", "univentionService", ["XMPP"]) in ops
    assert ("add", "xmppDomains", ["ucs.test"]) in ops
    assert ("add", "objectClass", ["univentionXMPPHost"]) in ops
    # A second XMPP server, or a host that already serves a domain, keeps
    # its domains: no xmppDomains change.
    for extra in (["--other-xmpp-hosts", "1"], ["--host-domains", "chat.ucs.test"]):
        r = dry_run(base, host, "ucs.test", extra=extra)
        assert r.returncode == 0, r.stderr
        ops = parse_ldif(r.stdout)[1][host.lower()]
        assert [o for o in ops if o[1] == "xmppDomains"] == [], extra
        assert ("add", "univentionService", ["XMPP"]) in ops
    assert dry_run(base, host, "ucs.test", extra=["--other-xmpp-hosts", "x"]).returncode == 2
    assert run([LDIF_TOOL, "--base", base]).returncode == 2


def test_broken_definitions_are_caught(tmp_path):
    """The checks of the LDIF test fail when a definition loses a German
    label, a label altogether, or names a property UDM does not have."""
    base, host = "dc=ucs,dc=test", "cn=dc1,cn=dc,cn=computers,dc=ucs,dc=test"
    good = open(os.path.join(UCS, "plucs-ucs.lib"), encoding="utf-8").read()
    entries, _ = parse_ldif(dry_run(base, host, "ucs.test").stdout)
    check_extended_attributes(entries, base)        # the real definitions pass

    def broken(old, new, count=1):
        assert good.count(old) >= count, old
        lib = tmp_path / ("lib%d.lib" % len(os.listdir(tmp_path)))
        lib.write_text(good.replace(old, new, count), encoding="utf-8")
        return dry_run(base, host, "ucs.test", lib=str(lib))

    r = broken('"translationShortDescription=de_DE XMPP-Domäne" \\\n', "")
    assert r.returncode == 0, r.stderr
    with pytest.raises(AssertionError, match=r"UniventionXMPP-User-Domain.*"
                       r"TranslationShortDescription;entry-de-de"):
        check_extended_attributes(parse_ldif(r.stdout)[0], base)
    r = broken('"translationTabName=de_DE XMPP" tabPosition=3', "tabPosition=3")
    with pytest.raises(AssertionError, match="TranslationTabName;entry-de-de"):
        check_extended_attributes(parse_ldif(r.stdout)[0], base)
    r = broken('"longDescription=The XMPP domains this server serves', '"longDescriptio=x')
    assert r.returncode != 0 and "unknown extended attribute property 'longDescriptio'" in r.stderr
    r = broken("CLIName=xmppPresenceGroups objectClass=univentionXMPPGroup "
               "ldapMapping=xmppPresenceGroups",
               "CLIName=xmppMessageGroups objectClass=univentionXMPPGroup "
               "ldapMapping=xmppMessageGroups")
    with pytest.raises(AssertionError, match="two extended attributes|missing"):
        check_extended_attributes(parse_ldif(r.stdout)[0], base)
    r = broken("syntax=dnsName multivalue=1", "syntax=dnsName multivalue=0")
    with pytest.raises(AssertionError, match="UniventionXMPP-Host-Domains: multivalue 0"):
        check_extended_attributes(parse_ldif(r.stdout)[0], base)


@pytest.fixture
def ucs_ldap(tmp_path):
    """A slapd with UCS's schema subset and a joined-looking domain; the
    attribute option entry- allowed as on UCS (olcAttributeOptions)."""
    env = H.LdapEnv(tmp_path / "ldap", [SUBSET, BASE_LDIF], hostname="dc1")
    env.start()
    try:
        env.stop()
        r = run(["slapmodify", "-n0", "-F", os.path.join(env.dir, "slapd.d")],
                input="dn: cn=config\nchangetype: modify\nadd: olcAttributeOptions\n"
                      "olcAttributeOptions: entry-\n")
        assert r.returncode == 0, r.stdout + r.stderr
        env.start()
        yield env
    finally:
        if env.running():
            env.stop()


def ldap_entries(env, base=None):
    r = run(["ldapsearch", "-LLL", "-x", "-o", "ldif-wrap=no", "-H", env.LDAP_URI,
             "-D", env.ROOTDN, "-w", env.ROOTPW, "-b", base or env.BASE, "(objectClass=*)", "*"])
    assert r.returncode == 0, r.stderr
    return parse_ldif(r.stdout)[0]


def test_dry_run_loads_into_ucs_schema_and_plucsd_serves_it(ucs_ldap, tmp_path):
    base, hostdn = ucs_ldap.BASE, ucs_ldap.HOSTDN
    r = dry_run(base, hostdn, "ucs.test")
    assert r.returncode == 0, r.stderr
    ucs_ldap.modify(r.stdout)
    entries = ldap_entries(ucs_ldap)
    found = check_extended_attributes(entries, base)
    assert found[("users/user", "xmppEnabled")]["univentionudmpropertydefault"] == ["TRUE"]
    assert found[("users/user", "xmppDomain")]["univentionudmpropertydefault"] == ["ucs.test"]
    assert "univentionudmpropertydefault" not in found[("groups/group", "xmppEnabled")]
    assert found[("groups/group", "xmppMessageGroups")]["univentionudmpropertysyntax"] == ["GroupName"]
    svc = entries["cn=xmpp,cn=services,cn=univention,%s" % base.lower()]
    assert "univentionServiceObject" in svc["objectclass"]
    host = entries[hostdn.lower()]
    assert sorted(host["univentionservice"]) == ["DNS", "LDAP", "XMPP"]
    assert host["xmppdomains"] == ["ucs.test"]
    assert "univentionXMPPHost" in host["objectclass"]
    other = entries["cn=member1,cn=memberserver,cn=computers,%s" % base.lower()]
    assert "xmppdomains" not in other and "univentionservice" not in other

    # A user as UDM creates it with the XMPP tab left at its defaults.
    user_dn = "uid=anna,cn=users,%s" % base
    ucs_ldap.add("dn: cn=users,%s\nobjectClass: organizationalRole\ncn: users\n\n"
                 "dn: %s\nobjectClass: inetOrgPerson\nobjectClass: %s\nuid: anna\ncn: Anna\n"
                 "sn: A\nuserPassword: anna-secret\n%s: %s\n%s: %s\n" % (
                     base, user_dn,
                     found[("users/user", "xmppEnabled")]["univentionudmpropertyobjectclass"][0],
                     "xmppEnabled",
                     found[("users/user", "xmppEnabled")]["univentionudmpropertydefault"][0],
                     "xmppDomain",
                     found[("users/user", "xmppDomain")]["univentionudmpropertydefault"][0]))

    d = tmp_path / "plucsd"
    d.mkdir()
    p = H.Plucsd(d, ucs_ldap, hostname="dc1", domainname="ucs.test")
    try:
        p.start()
        assert p.wait_log(r"serving domains: ucs\.test\b", 5), p.log()[-3000:]
        c = H.Client(p.port, "anna@ucs.test", "anna-secret")
        try:
            res = c.login(timeout=30)
            assert res.ok, (res, p.log()[-3000:])
        finally:
            c.close()
        # The unjoin keeps data but takes the service away: the host then
        # serves no domain (spec: univentionService without XMPP).
        since = p.log_size()
        ucs_ldap.modify("dn: %s\nchangetype: modify\ndelete: univentionService\n"
                        "univentionService: XMPP\n" % hostdn)
        p.sighup()
        assert p.wait_log(r"serving no domain", 20, since), p.log()[-3000:]
    finally:
        problems = p.problems()
    assert not problems, problems


# --- the join script itself, with UCS's tools stood in for ------------------------

UCR_STUB = r'''#!/usr/bin/python3
# ucr stand-in over a base.conf-format file ($UCR_FILE): shell, get, set
# (key=value, key?value), unset, search --brief [--key] REGEX.
import os, re, shlex, sys
path = os.environ["UCR_FILE"]
def load():
    d = {}
    for line in open(path):
        if ": " in line and not line.startswith("#"):
            k, v = line.rstrip("\n").split(": ", 1)
            d[k] = v
    return d
def save(d):
    with open(path, "w") as f:
        f.write("".join("%s: %s\n" % kv for kv in sorted(d.items())))
d = load(); cmd, args = sys.argv[1], sys.argv[2:]
open(os.environ["STUB_LOG"], "a").write("ucr %s\n" % " ".join(sys.argv[1:]))
if cmd == "shell":
    for k in args or sorted(d):
        print("%s=%s" % (re.sub(r"[^A-Za-z0-9_]", "_", k), shlex.quote(d.get(k, ""))))
elif cmd == "get":
    print(d.get(args[0], ""))
elif cmd == "set":
    for a in args:
        m = re.match(r"([^=?]+)([=?])(.*)", a)
        if m.group(2) == "=" or m.group(1) not in d:
            d[m.group(1)] = m.group(3)
    save(d)
elif cmd == "unset":
    for a in args:
        d.pop(a, None)
    save(d)
elif cmd == "search":
    pat = [a for a in args if not a.startswith("--")][0]
    for k in sorted(d):
        if re.search(pat, k):
            print("%s: %s" % (k, d[k]))
'''

CONFIG_REGISTRY_STUB = r'''# univention.config_registry stand-in over $UCR_FILE (for ucs/plucs.py)
import subprocess
class ConfigRegistry(dict):
    def load(self):
        import os
        for line in open(os.environ["UCR_FILE"]):
            if ": " in line and not line.startswith("#"):
                k, v = line.rstrip("\n").split(": ", 1)
                self[k] = v
        return self
def handler_set(args):
    subprocess.run(["ucr", "set"] + list(args), check=True)
def handler_unset(args):
    subprocess.run(["ucr", "unset"] + list(args), check=True)
'''

UDM_STUB = r'''#!/usr/bin/python3
# univention-directory-manager stand-in: records the call; a host's
# `modify --append xmppDomains=D` is applied to the test slapd as UDM would.
import json, os, subprocess, sys
a = sys.argv[1:]
open(os.environ["STUB_LOG"], "a").write("udm " + json.dumps(a) + "\n")
if a[0].startswith("computers/") and a[1] == "modify":
    dn = a[a.index("--dn") + 1]
    for i, x in enumerate(a):
        if x == "--append" and a[i + 1].startswith("xmppDomains="):
            ldif = ("dn: %s\nchangetype: modify\nadd: objectClass\nobjectClass: univentionXMPPHost\n-\n"
                    "add: xmppDomains\nxmppDomains: %s\n-\n" % (dn, a[i + 1].split("=", 1)[1]))
            subprocess.run(["ldapmodify", "-x", "-H", os.environ["LDAP_URI"], "-D",
                            os.environ["ROOTDN"], "-w", os.environ["ROOTPW"]],
                           input=ldif, text=True, check=True, capture_output=True)
'''


def join_root(tmp_path, env_ldap):
    """A test root for 50plucs.inst: UCS's shell libraries and commands
    stood in for (recording), the script's absolute paths redirected here."""
    root = tmp_path / "root"
    for d in ("join", "lib", "share", "bin", "py/univention", "modules", "ssl"):
        (root / d).mkdir(parents=True)
    log = root / "calls.log"
    (root / "join/joinscripthelper.lib").write_text(
        'joinscript_init() { echo "joinscript_init" >> "$STUB_LOG"; }\n'
        'joinscript_save_current_version() { echo "joinscript_save_current_version" >> "$STUB_LOG"; }\n'
        'die() { echo "die: $*" >&2; exit 1; }\n')
    (root / "lib/ldap.sh").write_text(
        'ucs_registerLDAPExtension() { echo "ucs_registerLDAPExtension $*" >> "$STUB_LOG"; }\n'
        'ucs_addServiceToLocalhost() {\n'
        '    echo "ucs_addServiceToLocalhost $*" >> "$STUB_LOG"\n'
        '    ldapsearch -x -LLL -H "$LDAP_URI" -D "$ROOTDN" -w "$ROOTPW" -b "$(ucr get ldap/hostdn)" \\\n'
        '        -s base univentionService | grep -q "^univentionService: $1$" && return 0\n'
        '    printf "dn: %s\\nchangetype: modify\\nadd: univentionService\\nuniventionService: %s\\n" \\\n'
        '        "$(ucr get ldap/hostdn)" "$1" | ldapmodify -x -H "$LDAP_URI" -D "$ROOTDN" -w "$ROOTPW" >/dev/null\n'
        '}\n')
    (root / "lib/base.sh").write_text(
        'stop_udm_cli_server() { echo "stop_udm_cli_server" >> "$STUB_LOG"; }\n')
    shutil_copy = lambda src, dst: open(dst, "w").write(open(src).read())  # noqa: E731
    shutil_copy(os.path.join(UCS, "plucs-ucs.lib"), root / "share/plucs-ucs.lib")
    shutil_copy(os.path.join(UCS, "plucs.py"), root / "modules/plucs.py")
    text = open(os.path.join(UCS, "50plucs.inst")).read()
    for old, new in (("/usr/share/univention-join/", "join/"), ("/usr/share/univention-lib/", "lib/"),
                     ("/usr/share/plucs/ucs/", "share/"),
                     ("/etc/univention/templates/modules/plucs.py", "modules/plucs.py"),
                     ("/etc/univention/ssl/", "ssl/")):
        assert old in text, old
        text = text.replace(old, str(root) + "/" + new)
    (root / "50plucs.inst").write_text(text)
    stubs = {
        "ucr": UCR_STUB,
        "univention-directory-manager": UDM_STUB,
        "univention-ldapsearch": '#!/bin/sh\nexec ldapsearch -x -H "$LDAP_URI" -D "$ROOTDN" '
                                 '-w "$ROOTPW" -b "$(ucr get ldap/base)" "$@"\n',
        "dpkg-query": "#!/bin/sh\necho 1.0-1\n",
        "systemctl": '#!/bin/sh\necho "systemctl $*" >> "$STUB_LOG"\n',
        "getent": "#!/bin/sh\nexit 2\n",
    }
    for name, body in stubs.items():
        (root / "bin" / name).write_text(body)
        (root / "bin" / name).chmod(0o755)
    os.symlink(PLUCS, root / "bin/plucs")
    (root / "py/univention/__init__.py").write_text("")
    (root / "py/univention/config_registry.py").write_text(CONFIG_REGISTRY_STUB)
    ucr_file = root / "base.conf"
    ucr_file.write_text(
        "ldap/base: %s\nldap/hostdn: %s\ndomainname: ucs.test\nhostname: dc1\n"
        "server/role: domaincontroller_master\nldap/server/name: dc1.ucs.test\n"
        "locale/default: de_DE.UTF-8:UTF-8\n"
        "plucs/tls: required\nplucs/certfile: %s\nplucs/rundir: %s\n"
        % (env_ldap.BASE, env_ldap.HOSTDN, root / "certs/plucs.pem", root))
    hostssl = root / "ssl/dc1.ucs.test"
    hostssl.mkdir()
    (hostssl / "private.key").write_text("-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n")
    (hostssl / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n")
    env = dict(os.environ, PATH=str(root / "bin") + os.pathsep + os.environ["PATH"],
               PYTHONPATH=str(root / "py"), UCR_FILE=str(ucr_file), PLUCS_REGISTRY=str(ucr_file),
               STUB_LOG=str(log), LDAP_URI=env_ldap.LDAP_URI, ROOTDN=env_ldap.ROOTDN,
               ROOTPW=env_ldap.ROOTPW, PLUCS_SCHEMA="/usr/share/plucs/schema/plucs.schema")
    return root, env, log, ucr_file


def read_reg(path):
    return dict(l.rstrip("\n").split(": ", 1) for l in open(path) if ": " in l)


def test_join_script_runs_and_is_idempotent(ucs_ldap, tmp_path):
    root, env, log, ucr_file = join_root(tmp_path, ucs_ldap)
    args = ["--binddn", "uid=Administrator,cn=users," + ucs_ldap.BASE, "--bindpwdfile", "/tmp/pw"]
    r = run(["sh", str(root / "50plucs.inst")] + args, env=env, cwd=str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    calls = log.read_text().splitlines()
    # The test slapd has the PLUCS schema: nothing is registered again.
    assert not any(c.startswith("ucs_registerLDAPExtension") for c in calls), calls
    assert "already knows the PLUCS schema" in r.stdout
    udm = [json.loads(c[4:]) for c in calls if c.startswith("udm ")]
    assert udm[0][:2] == ["container/cn", "create"]
    eas = [u for u in udm if u[:2] == ["settings/extended_attribute", "create"]]
    assert len(eas) == 6
    for u in udm:
        assert u[u.index("--binddn") + 1] == args[1] and u[u.index("--bindpwdfile") + 1] == "/tmp/pw"
    assert calls.index("stop_udm_cli_server") < [i for i, c in enumerate(calls)
                                                 if c.startswith("ucs_addServiceToLocalhost")][0]
    assert "ucs_addServiceToLocalhost XMPP " + " ".join(args) in calls
    host = ldap_entries(ucs_ldap, ucs_ldap.HOSTDN)[ucs_ldap.HOSTDN.lower()]
    assert host["xmppdomains"] == ["ucs.test"] and "XMPP" in host["univentionservice"]
    reg = read_reg(ucr_file)
    assert reg["plucs/language"] == "de"                 # from locale/default
    assert reg["plucs/tls"] == "required"                # set before: kept
    assert reg["plucs/autostart"] == "true" and reg["plucs/userlabel"] == "gecos"
    assert reg["security/packetfilter/package/plucs/tcp/5222/all"] == "ACCEPT"
    assert reg["security/packetfilter/package/plucs/tcp/5222/all/de"]
    assert not any(k.startswith("security/packetfilter/package/plucs/tcp/5269") for k in reg)
    assert "systemctl try-restart univention-firewall.service" in calls
    cert = root / "certs/plucs.pem"
    assert cert.read_text().startswith("-----BEGIN PRIVATE KEY-----") and "CERTIFICATE" in cert.read_text()
    assert stat.S_IMODE(os.stat(cert).st_mode) & 0o007 == 0
    assert calls[-1] == "joinscript_save_current_version"

    # Second run: the same state, no new domain, values and certificate kept.
    cert.write_text("administrator's own\n")
    log.write_text("")
    r = run(["sh", str(root / "50plucs.inst")] + args, env=env, cwd=str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    calls = log.read_text().splitlines()
    assert not any("xmppDomains=" in c for c in calls if c.startswith("udm ")), calls
    assert not any(c.startswith("systemctl try-restart univention-firewall") for c in calls)
    assert read_reg(ucr_file) == reg
    assert cert.read_text() == "administrator's own\n"
    host = ldap_entries(ucs_ldap, ucs_ldap.HOSTDN)[ucs_ldap.HOSTDN.lower()]
    assert host["xmppdomains"] == ["ucs.test"] and host["univentionservice"].count("XMPP") == 1


def test_join_script_on_a_second_server(ucs_ldap, tmp_path):
    """A second XMPP server (another host already serves a domain) gets the
    service but no domain, and a hint how to add one."""
    ucs_ldap.modify("dn: cn=member1,cn=memberserver,cn=computers,%s\nchangetype: modify\n"
                    "add: objectClass\nobjectClass: univentionXMPPHost\n-\n"
                    "add: xmppDomains\nxmppDomains: chat.ucs.test\n-\n" % ucs_ldap.BASE)
    root, env, log, ucr_file = join_root(tmp_path, ucs_ldap)
    r = run(["sh", str(root / "50plucs.inst")], env=env, cwd=str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "serves no XMPP domain yet" in r.stdout and "plucs host add-domain" in r.stdout
    host = ldap_entries(ucs_ldap, ucs_ldap.HOSTDN)[ucs_ldap.HOSTDN.lower()]
    assert "xmppdomains" not in host and "XMPP" in host["univentionservice"]


def test_unjoin_script(ucs_ldap, tmp_path, stage):
    """After a join, the unjoin script takes the service off the host, and
    while another host still offers XMPP keeps the extended attributes;
    when none does, removes them. Data and schema stay; the firewall
    variables go. The script run is the one the package ships (make ucs:
    plucs-ucs.lib inlined), with the library gone as after `dpkg -r`."""
    root, env, log, ucr_file = join_root(tmp_path, ucs_ldap)
    r = run(["sh", str(root / "50plucs.inst")], env=env, cwd=str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    with open(root / "lib/ldap.sh", "a") as f:
        f.write(
            'ucs_removeServiceFromLocalhost() {\n'
            '    echo "ucs_removeServiceFromLocalhost $*" >> "$STUB_LOG"\n'
            '    univention-ldapsearch -LLL -b "$(ucr get ldap/hostdn)" -s base "(univentionService=$1)" dn \\\n'
            '        | grep -q "^dn:" || return 0\n'
            '    printf "dn: %s\\nchangetype: modify\\ndelete: univentionService\\nuniventionService: %s\\n" \\\n'
            '        "$(ucr get ldap/hostdn)" "$1" | ldapmodify -x -H "$LDAP_URI" -D "$ROOTDN" -w "$ROOTPW" >/dev/null\n'
            '}\n'
            'ucs_isServiceUnused() {\n'
            '    ! univention-ldapsearch -LLL "(univentionService=$1)" dn | grep -q "^dn:"\n'
            '}\n')
    with open(root / "join/joinscripthelper.lib", "a") as f:
        f.write('joinscript_remove_script_from_status_file() { echo "remove_status $*" >> "$STUB_LOG"; }\n')
    text = open(os.path.join(stage, "usr/lib/univention-uninstall/50plucs.uinst")).read()
    for old, new in (("/usr/share/univention-join/", "join/"), ("/usr/share/univention-lib/", "lib/"),
                     ("/usr/share/plucs/ucs/", "share/")):
        text = text.replace(old, str(root) + "/" + new)
    (root / "50plucs.uinst").write_text(text)
    os.unlink(root / "share/plucs-ucs.lib")       # removed with the package

    member = "cn=member1,cn=memberserver,cn=computers,%s" % ucs_ldap.BASE
    ucs_ldap.modify("dn: %s\nchangetype: modify\nadd: univentionService\nuniventionService: XMPP\n"
                    % member)
    log.write_text("")
    r = run(["sh", str(root / "50plucs.uinst")], env=env, cwd=str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    calls = log.read_text().splitlines()
    assert "ucs_removeServiceFromLocalhost XMPP" in calls
    assert not any("extended_attribute" in c and "remove" in c for c in calls), calls
    assert calls[-1] == "remove_status plucs"
    host = ldap_entries(ucs_ldap, ucs_ldap.HOSTDN)[ucs_ldap.HOSTDN.lower()]
    assert "XMPP" not in host["univentionservice"]
    assert host["xmppdomains"] == ["ucs.test"]                    # data stays
    assert not any(k.startswith("security/packetfilter/package/plucs/") for k in read_reg(ucr_file))

    # The last XMPP host goes: the XMPP tabs go too.
    ucs_ldap.modify("dn: %s\nchangetype: modify\ndelete: univentionService\n" % member)
    log.write_text("")
    r = run(["sh", str(root / "50plucs.uinst")], env=env, cwd=str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    removed = [json.loads(c[4:]) for c in log.read_text().splitlines()
               if c.startswith("udm ") and "remove" in c]
    dns = sorted(u[u.index("--dn") + 1].split(",")[0] for u in removed)
    assert dns == sorted("cn=UniventionXMPP-" + n for n in (
        "User-Enabled", "User-Domain", "Group-Enabled", "Group-MessageGroups",
        "Group-PresenceGroups", "Host-Domains")), dns


def test_ucr_module_handler(ucs_ldap, tmp_path):
    """What `ucr set plucs/...` triggers: the Apache snippet written or
    removed by `plucs apache` and Apache reloaded when it changed; the
    firewall rules updated by a separate process; `plucs reload`."""
    root, env, log, ucr_file = join_root(tmp_path, ucs_ldap)
    conf = root / "apache" / "plucs.conf"
    conf.parent.mkdir()
    with open(ucr_file, "a") as f:
        f.write("plucs/http/proxy/conffile: %s\nplucs/http/proxy: true\nplucs/http/bind: true\n" % conf)
    code = ("import importlib.util, sys\n"
            "spec = importlib.util.spec_from_file_location('m', sys.argv[1])\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "changes = dict(a.split('=', 1) for a in sys.argv[2:])\n"
            "m.handler(None, {k: (None, v) for k, v in changes.items()})\n")

    def handler(**changes):
        log.write_text("")
        r = run([sys_python(), "-c", code, str(root / "modules/plucs.py")]
                + ["%s=%s" % (k.replace("__", "/"), v) for k, v in changes.items()], env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        return log.read_text().splitlines()

    calls = handler(plucs__http__proxy="true")
    assert "ProxyPassMatch" in conf.read_text() and "/http-bind" in conf.read_text()
    assert "systemctl try-reload-or-restart apache2.service" in calls
    calls = handler(plucs__loglevel="4")          # nothing for Apache or the firewall
    assert not any(c.startswith("systemctl") for c in calls), calls
    with open(ucr_file, "a") as f:
        f.write("plucs/http/bind/url: /chat-bind/\n")
    calls = handler(plucs__http__bind__url="/chat-bind/")
    assert "/chat-bind" in conf.read_text()
    assert "systemctl try-reload-or-restart apache2.service" in calls
    reg = read_reg(ucr_file)
    reg["plucs/http/proxy"] = "false"
    reg["plucs/c2s/port"] = "15222"
    reg["security/packetfilter/package/plucs/tcp/5222/all"] = "ACCEPT"
    ucr_file.write_text("".join("%s: %s\n" % kv for kv in reg.items()))
    calls = handler(plucs__http__proxy="false", plucs__c2s__port="15222")
    assert not conf.exists()
    assert "systemctl try-reload-or-restart apache2.service" in calls
    pf = "security/packetfilter/package/plucs/tcp/"
    assert H.wait_until(lambda: read_reg(ucr_file).get(pf + "15222/all") == "ACCEPT", 20), \
        read_reg(ucr_file)
    assert H.wait_until(lambda: pf + "5222/all" not in read_reg(ucr_file), 10)


def sys_python():
    return "/usr/bin/python3"
