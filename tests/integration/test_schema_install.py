"""test_schema_install.py: `plucs schema install` and `plucs schema check`
against real slapds started WITHOUT the PLUCS schema (scripts/ldap-env
--no-plucs-schema --ldapi: cn=config managed by root over ldapi with SASL
EXTERNAL, as on Debian). install adds cn=plucs,cn=schema,cn=config, a second
run says "already installed"; a directory holding part of the schema, or a
PLUCS name under another OID, is refused and left unchanged. check reads the
subschema subentry over any connection (ldap:// anonymous, ldapi, or the
registry's own directory and bind) and exits 0 only when every definition is
there with PLUCS's OID.
Run: /usr/bin/python3 -m pytest tests/integration/test_schema_install.py
"""
import json
import os
import subprocess

import pytest

import plucs_harness as H

PLUCS = os.path.join(H.BUILD, "plucs")
SCHEMA = os.path.join(H.TOP, "schema", "plucs.ldif")
NAMES = ("xmppEnabled", "xmppDomain", "xmppDomains", "xmppMessageGroups", "xmppPresenceGroups",
         "univentionXMPPAccount", "univentionXMPPGroup", "univentionXMPPHost")
BASE = "dc=schema,dc=test"


def plucs(*args, registry=None):
    env = dict(os.environ)
    env.pop("PLUCS_REGISTRY", None)
    cmd = [PLUCS] + (["--registry", str(registry)] if registry else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


class Slapd:
    def __init__(self, d, *extra):
        self.dir = str(d)
        r = subprocess.run([H.LDAP_ENV, "start", self.dir, "--no-plucs-schema", "--ldapi",
                            "--base", BASE] + list(extra), capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        env = {}
        for line in open(os.path.join(self.dir, "env.sh")):
            if "=" in line and not line.startswith("#"):
                k, v = line.strip().split("=", 1)
                env[k] = v.strip("'")
        self.uri = env["LDAP_URI"]
        self.ldapi = env["LDAPI_URI"]
        self.rootdn, self.rootpw = env["ROOTDN"], env["ROOTPW"]
        assert self.ldapi.startswith("ldapi://%2F")

    def stop(self):
        subprocess.run([H.LDAP_ENV, "stop", self.dir], capture_output=True)

    def schema_entries(self):
        r = subprocess.run(["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", self.ldapi,
                            "-b", "cn=schema,cn=config", "-s", "one", "dn"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return sorted(l[4:] for l in r.stdout.splitlines() if l.startswith("dn: "))

    def ldapadd(self, ldif):
        return subprocess.run(["ldapadd", "-x", "-H", self.uri, "-D", self.rootdn, "-w", self.rootpw],
                              input=ldif, capture_output=True, text=True)


@pytest.fixture
def slapd_factory(tmp_path):
    started = []

    def start(name="slapd", *extra):
        s = Slapd(tmp_path / name, *extra)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def test_install_on_a_directory_without_the_schema(slapd_factory):
    s = slapd_factory()
    # before: check over plain ldap:// (anonymous) says what is missing
    r = plucs("schema", "check", "--uri", s.uri)
    assert r.returncode == 1, r.stdout + r.stderr
    for n in NAMES:
        assert "missing" in [l for l in r.stdout.splitlines() if " %s " % n in l][0], r.stdout
    r = plucs("schema", "check", "--uri", s.uri, "--json")
    assert r.returncode == 1
    j = json.loads(r.stdout)
    assert j["complete"] is False
    assert {a["state"] for a in j["attributeTypes"] + j["objectClasses"]} == {"missing"}
    # the schema is not there: an entry using it is refused
    user = ("dn: %s\nobjectClass: dcObject\nobjectClass: organization\n"
            "objectClass: univentionXMPPHost\ndc: schema\no: schema\nxmppDomains: a.test\n" % BASE)
    assert s.ldapadd(user).returncode != 0
    before = s.schema_entries()

    r = plucs("schema", "install", "--uri", s.ldapi, "--schema", SCHEMA)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "installed the PLUCS schema" in r.stdout
    after = s.schema_entries()
    assert len(after) == len(before) + 1 and any("plucs,cn=schema,cn=config" in d for d in after), after

    # check now passes over ldap:// and reports PLUCS's OIDs
    r = plucs("schema", "check", "--uri", s.uri, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    j = json.loads(r.stdout)
    assert j["complete"] is True
    got = {a["name"]: a for a in j["attributeTypes"] + j["objectClasses"]}
    assert set(got) == set(NAMES)
    assert got["xmppEnabled"]["found_oid"] == "1.3.6.1.4.1.10176.99998.1663.1.101"
    assert got["univentionXMPPHost"]["oid"] == "1.3.6.1.4.1.10176.99998.1663.1.3"
    assert all(a["state"] == "present" for a in got.values())
    r = plucs("schema", "check", "--uri", s.ldapi)
    assert r.returncode == 0 and "the PLUCS schema is installed" in r.stdout, r.stdout + r.stderr

    # and the directory takes entries that use it
    r = s.ldapadd(user)
    assert r.returncode == 0, r.stderr

    # idempotent: a second run changes nothing
    r = plucs("schema", "install", "--uri", s.ldapi, "--schema", SCHEMA)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "already installed" in r.stdout
    assert s.schema_entries() == after


def test_install_finds_the_schema_file_itself(slapd_factory):
    """Without --schema: the source tree's schema/plucs.ldif (next to build/)."""
    s = slapd_factory()
    r = plucs("schema", "install", "--uri", s.ldapi)
    assert r.returncode == 0, r.stdout + r.stderr
    assert plucs("schema", "check", "--uri", s.uri).returncode == 0


def refused_install(slapd_factory, tmp_path, name, attribute_type):
    """A slapd whose schema cn=NAME already holds attribute_type; `plucs
    schema install` there must fail. Returns (slapd, result, schema before)."""
    ldif = tmp_path / (name + ".ldif")
    ldif.write_text("dn: cn=%s,cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: %s\n"
                    "olcAttributeTypes: %s\n" % (name, name, attribute_type))
    s = slapd_factory(name, "--schema", str(ldif))
    before = s.schema_entries()
    r = plucs("schema", "install", "--uri", s.ldapi, "--schema", SCHEMA)
    assert r.returncode == 1, r.stdout + r.stderr
    return s, r, before


def test_partial_schema_is_refused(slapd_factory, tmp_path):
    s, r, before = refused_install(slapd_factory, tmp_path, "partial",
                                   "( 1.3.6.1.4.1.10176.99998.1663.1.101 NAME 'xmppEnabled'\n"
                                   "  EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 "
                                   "SINGLE-VALUE )")
    assert "already has part of the PLUCS schema" in r.stderr
    assert [l for l in r.stderr.splitlines() if "xmppEnabled" in l][0].split()[0] == "present"
    assert [l for l in r.stderr.splitlines() if "xmppDomains" in l][0].split()[0] == "missing"
    assert s.schema_entries() == before
    r = plucs("schema", "check", "--uri", s.uri)
    assert r.returncode == 1
    assert "1 of 8" not in r.stdout and "7 of 8" in r.stdout, r.stdout


def test_other_oid_is_refused(slapd_factory, tmp_path):
    s, r, before = refused_install(slapd_factory, tmp_path, "other",
                                   "( 1.3.6.1.4.1.99999.42 NAME 'xmppDomain'\n"
                                   "  EQUALITY caseIgnoreIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )")
    assert "xmppDomain with OID 1.3.6.1.4.1.99999.42" in r.stderr, r.stderr
    assert "1.3.6.1.4.1.10176.99998.1663.1.103" in r.stderr
    assert s.schema_entries() == before
    r = plucs("schema", "check", "--uri", s.uri, "--json")
    assert r.returncode == 1
    got = {a["name"]: a for a in json.loads(r.stdout)["attributeTypes"]}
    assert got["xmppDomain"]["state"] == "other-oid"
    assert got["xmppDomain"]["found_oid"] == "1.3.6.1.4.1.99999.42"


def test_install_needs_ldapi_external(slapd_factory):
    s = slapd_factory()
    r = plucs("schema", "install", "--uri", s.uri, "--schema", SCHEMA)
    assert r.returncode == 1
    assert "SASL EXTERNAL bind to %s" % s.uri in r.stderr, r.stderr
    r = plucs("schema", "install", "--uri", "ldapi://%2Fnonexistent%2Fsocket", "--schema", SCHEMA)
    assert r.returncode == 1
    assert "ldapi://%2Fnonexistent%2Fsocket" in r.stderr, r.stderr
    r = plucs("schema", "install", "--schema", "/nonexistent/plucs.ldif")
    assert r.returncode == 1 and "/nonexistent/plucs.ldif" in r.stderr


def test_check_with_the_registry_directory(ldap, tmp_path):
    """Without --uri: the registry's directory and host bind (the shared test
    slapd, which has the schema), over LDAPS with its CA."""
    reg = tmp_path / "registry.conf"
    reg.write_text("ldap/base: %s\nldap/hostdn: %s\nplucs/ldap/uri: %s\nplucs/ldap/cacert: %s\n"
                   "plucs/ldap/secretfile: %s\nhostname: %s\ndomainname: a.test\n"
                   % (ldap.BASE, ldap.HOSTDN, ldap.LDAPS_URI, ldap.CACERT, ldap.SECRETFILE, H.HOSTNAME))
    r = plucs("schema", "check", "--json", registry=reg)
    assert r.returncode == 0, r.stdout + r.stderr
    j = json.loads(r.stdout)
    assert j["complete"] is True and j["uri"] == ldap.LDAPS_URI
    # a wrong secret: the bind fails and says for whom, no bare error number
    bad = tmp_path / "bad.secret"
    bad.write_text("wrong\n")
    reg.write_text(reg.read_text() + "plucs/ldap/secretfile: %s\n" % bad)
    r = plucs("schema", "check", registry=reg)
    assert r.returncode == 1
    assert ldap.HOSTDN in r.stderr and "Invalid credentials" in r.stderr, r.stderr
