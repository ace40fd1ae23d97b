"""test_cli_directory.py: `plucs user|users|group|groups|host` (issue 16
item 1) against a real slapd, and one live test with a real plucsd and a
real client: a change made with the tool reaches the online client through
the change feed, without a reload.

Every test gets its own slapd (this module overrides the session `ldap`
fixture; scripts/ldap-env with ucs-compat.ldif + data.ldif), so the tests
may write freely and never disturb the shared directory. Writes are made as
the directory's rootdn with --binddn/--bindpw-file; the registry's host
identity (ldap/hostdn) may only read users and groups (ldap-env's ACL:
"self write, users read"), which is what the refusal tests use.

The registry sets domainname to dn.test, a domain no host serves, so the
default-domain rule is visible: with two served domains (a.test, b.test on
plucs-test; other-host's c.test does not count, its univentionService lacks
XMPP) enabling a user without a domain writes dn.test; with one (b.test
removed) it writes a.test."""

import json
import os
import subprocess
import time

import pytest

import plucs_harness as H

PLUCS = os.path.join(H.BUILD, "plucs")
LIMIT = 5.0


@pytest.fixture
def ldap(tmp_path):
    """Overrides conftest's session slapd: a fresh directory per test."""
    d = tmp_path / "ldap"
    d.mkdir()
    env = H.LdapEnv(d, [os.path.join(H.HERE, "ucs-compat.ldif"),
                        os.path.join(H.HERE, "data.ldif")])
    env.start()
    yield env
    env.stop()


class Tool:
    def __init__(self, ldap, tmp_path):
        self.ldap = ldap
        self.reg = tmp_path / "registry.conf"
        self.reg.write_text(
            "hostname: %s\n"
            "domainname: dn.test\n"
            "ldap/base: %s\n"
            "ldap/hostdn: %s\n"
            "plucs/ldap/uri: %s\n"
            "plucs/ldap/cacert: %s\n"
            "plucs/ldap/secretfile: %s\n"
            % (H.HOSTNAME, ldap.BASE, ldap.HOSTDN, ldap.LDAPS_URI, ldap.CACERT, ldap.SECRETFILE))
        self.pwfile = tmp_path / "root.pw"
        self.pwfile.write_text(ldap.ROOTPW + "\n")

    def run(self, *args, admin=False, check=None, registry=None):
        cmd = [PLUCS, "--registry", str(registry or self.reg)] + list(args)
        if admin:
            cmd += ["--binddn", self.ldap.ROOTDN, "--bindpw-file", str(self.pwfile)]
        env = dict(os.environ, LANG="C")
        env.pop("PLUCS_REGISTRY", None)
        env.pop("LC_ALL", None)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
        if check is not None:
            assert p.returncode == check, (cmd, p.returncode, p.stdout, p.stderr)
        return p

    def json(self, *args):
        p = self.run(*args, "--json", check=0)
        return json.loads(p.stdout)

    def attrs(self, filt, *names):
        """{attr: [values]} of the one entry matching FILT (read as rootdn)."""
        out = {}
        for line in self.ldap.search(filt, *names).splitlines():
            if ": " in line and not line.startswith("dn: "):
                k, v = line.split(": ", 1)
                out.setdefault(k, []).append(v)
        return out

    def user(self, uid):
        return self.attrs("(uid=%s)" % uid, "objectClass", "xmppEnabled", "xmppDomain")

    def group(self, cn):
        return self.attrs("(&(objectClass=posixGroup)(cn=%s))" % cn, "objectClass", "xmppEnabled",
                          "xmppMessageGroups", "xmppPresenceGroups")

    def host(self, cn=H.HOSTNAME):
        return self.attrs("(&(objectClass=device)(cn=%s))" % cn, "xmppDomains")


@pytest.fixture
def tool(ldap, tmp_path):
    return Tool(ldap, tmp_path)


def no_error_number(text):
    """Errors are words: no 'LDAP error 50', '(50)', 'rc=' in the text."""
    import re
    return not re.search(r"\(\d+\)|error \d+|rc=\d+|result \d+", text)


# --- usage -----------------------------------------------------------------------

def test_help_and_usage(tool):
    for cmd in ("user", "users", "group", "groups", "host"):
        p = tool.run(cmd, "--help", check=0)
        assert p.stdout.startswith("usage: plucs " + cmd), p.stdout
        assert "--binddn" in p.stdout and "--bindpw-file" in p.stdout
    assert "enable UID [DOMAIN]" in tool.run("user", "--help").stdout
    assert "allow-presence" in tool.run("group", "--help").stdout
    assert "add-domain [HOST] DOMAIN" in tool.run("host", "--help").stdout
    top = tool.run("--help", check=0).stdout
    for cmd in ("user", "users", "group", "groups", "host"):
        assert "\n  %s " % cmd in top
    tool.run("user", check=2)
    tool.run("user", "frobnicate", "alice", check=2)
    tool.run("user", "show", check=2)
    tool.run("user", "set-domain", "alice", check=2)
    tool.run("group", "allow-message", "staff", check=2)     # OTHER missing
    tool.run("host", "add-domain", "a", "b", "c", check=2)
    tool.run("user", "enable", "alice", "--json", check=2)   # --json only on reads
    p = tool.run("user", "show", "alice", "--binddn", "cn=x", check=2)
    assert "--bindpw-file" in p.stderr
    tool.run("users", "--domain", check=2)
    tool.run("users", "--bogus", check=2)


# --- read commands -----------------------------------------------------------------

def test_user_show(tool):
    p = tool.run("user", "show", "alice", check=0)
    assert "alice@a.test" in p.stdout and "staff" in p.stdout and "managers" in p.stdout
    j = tool.json("user", "show", "alice")
    assert j["uid"] == "alice" and j["dn"] == tool.ldap.user_dn("alice")
    assert j["enabled"] is True and j["xmppEnabled"] == "TRUE" and j["domain"] == "a.test"
    assert j["jid"] == "alice@a.test" and j["account"] is True and j["served"] is True
    assert sorted(j["groups"]) == ["managers", "staff"]
    assert j["label"] == "Alice Anderson"
    # disabled, no domain, no class, domain not served
    j = tool.json("user", "show", "erin")
    assert j["enabled"] is False and j["xmppEnabled"] == "FALSE" and j["account"] is False
    j = tool.json("user", "show", "nodomain")
    assert j["domain"] is None and j["jid"] is None and j["account"] is False
    j = tool.json("user", "show", "plainuser")
    assert j["xmpp_class"] is False and j["xmppEnabled"] is None and j["account"] is False
    j = tool.json("user", "show", "nils")
    assert j["domain"] == "new.test" and j["served"] is False and j["account"] is False
    # a uid with filter metacharacters is found as itself
    j = tool.json("user", "show", "paren(s)*")
    assert j["uid"] == "paren(s)*" and j["jid"] == "paren(s)*@a.test"


def test_users_and_groups_lists(tool):
    users = tool.json("users")
    by = {u["uid"]: u for u in users}
    assert [u["uid"] for u in users] == sorted(by)            # sorted by uid
    assert {"alice", "bob", "carol", "dave", "bea", "paren(s)*", "nodomain", "nils"} <= set(by)
    assert "erin" not in by and "plainuser" not in by         # not enabled / not XMPP
    assert by["dave"]["jid"] == "dave@b.test" and by["dave"]["served"] is True
    assert by["nils"]["served"] is False and by["nodomain"]["jid"] is None
    assert by["alice"]["label"] == "Alice Anderson"
    text = tool.run("users", check=0).stdout
    assert "nils@new.test" in text and "not served" in text
    b = tool.json("users", "--domain", "B.TEST")
    assert sorted(u["uid"] for u in b) == ["bea", "dave"]
    assert tool.json("users", "--domain", "nowhere.test") == []
    # an injection attempt in --domain is a usage error, not a wider filter
    tool.run("users", "--domain", "*", check=2)

    groups = tool.json("groups")
    names = [g["cn"] for g in groups]
    assert names == sorted(names, key=str.lower)
    assert {"staff", "managers", "interns", "bstaff", "projects", "mixed", "unlabelled"} == set(names)
    staff = next(g for g in groups if g["cn"] == "staff")
    assert staff["members"] == ["alice", "bob", "carol"] and staff["xmppMessageGroups"] == ["managers"]
    b = {g["cn"]: g for g in tool.json("groups", "--domain", "b.test")}
    assert set(b) == {"bstaff", "mixed"}
    assert b["mixed"]["members"] == ["bea"]                    # ida is in a.test
    assert "staff" in tool.run("groups", check=0).stdout

    g = tool.json("group", "show", "managers")
    assert g["enabled"] is True and g["members"] == ["alice"]
    assert g["xmppMessageGroups"] == ["staff", "managers"] and g["xmppPresenceGroups"] == ["staff"]
    assert g["xmppMessageGroups_ignored"] == []
    g = tool.json("group", "show", "plaingroup")
    assert g["xmpp_class"] is False and g["enabled"] is False
    assert "plucs group enable" in tool.run("group", "show", "oldgroup", check=0).stdout

    h = tool.json("host", "show")
    assert h["cn"] == H.HOSTNAME and h["this_host"] is True
    assert h["serves"] == ["a.test", "b.test"] and h["xmpp_service"] is True
    h = tool.json("host", "show", "other-host")
    assert h["xmppDomains"] == ["c.test"] and h["serves"] == [] and h["xmpp_service"] is False
    assert "univentionService" in tool.run("host", "show", "other-host", check=0).stdout


def test_show_marks_ignored_references(tool):
    # a list naming a group that is not an XMPP group (written behind the
    # tool's back): show marks it, deny-* can remove it
    tool.ldap.replace(tool.ldap.group_dn("interns"), "xmppMessageGroups", "plaingroup", "staff")
    g = tool.json("group", "show", "interns")
    assert g["xmppMessageGroups_ignored"] == ["plaingroup"]
    assert "ignored" in tool.run("group", "show", "interns", check=0).stdout
    tool.run("group", "deny-message", "interns", "PlainGroup", admin=True, check=0)
    assert tool.group("interns")["xmppMessageGroups"] == ["staff"]


# --- writes ------------------------------------------------------------------------

def test_user_enable_disable_set_domain(tool):
    # erin: FALSE in a.test -> enable keeps her domain
    p = tool.run("user", "enable", "erin", admin=True, check=0)
    assert "erin@a.test" in p.stdout
    assert tool.user("erin")["xmppEnabled"] == ["TRUE"]
    assert tool.user("erin")["xmppDomain"] == ["a.test"]
    p = tool.run("user", "enable", "erin", admin=True, check=0)     # idempotent
    assert "already" in p.stdout and "nothing changed" in p.stdout
    tool.run("user", "disable", "erin", admin=True, check=0)
    assert tool.user("erin")["xmppEnabled"] == ["FALSE"]             # upper case
    assert tool.user("erin")["xmppDomain"] == ["a.test"]             # kept
    assert "already" in tool.run("user", "disable", "erin", admin=True, check=0).stdout
    # set-domain does not enable; enable with an explicit domain
    tool.run("user", "set-domain", "erin", "B.Test", admin=True, check=0)
    assert tool.user("erin") == {"objectClass": tool.user("erin")["objectClass"],
                                 "xmppEnabled": ["FALSE"], "xmppDomain": ["b.test"]}
    assert "already" in tool.run("user", "set-domain", "erin", "b.test", admin=True, check=0).stdout
    p = tool.run("user", "enable", "erin", "new.test", admin=True, check=0)
    assert "erin@new.test" in p.stdout and "not served" in p.stdout   # a hint, not a refusal
    assert tool.user("erin")["xmppDomain"] == ["new.test"]
    assert tool.user("erin")["xmppEnabled"] == ["TRUE"]
    # a user without the auxiliary class: enable adds it; the default domain
    # with two served domains is the registry's domainname
    assert "univentionXMPPAccount" not in tool.user("plainuser")["objectClass"]
    p = tool.run("user", "enable", "plainuser", admin=True, check=0)
    assert "plainuser@dn.test" in p.stdout and "domainname" in p.stdout
    u = tool.user("plainuser")
    assert "univentionXMPPAccount" in u["objectClass"]
    assert u["xmppEnabled"] == ["TRUE"] and u["xmppDomain"] == ["dn.test"]
    # a user with the class but no domain gets the default too
    tool.run("user", "enable", "nodomain", admin=True, check=0)
    assert tool.user("nodomain")["xmppDomain"] == ["dn.test"]
    # set-domain on a user without the class adds the class, does not enable
    tool.ldap.modify("dn: %s\nchangetype: modify\ndelete: objectClass\nobjectClass: univentionXMPPAccount\n"
                     "-\ndelete: xmppEnabled\n-\ndelete: xmppDomain\n" % tool.ldap.user_dn("plainuser"))
    tool.run("user", "set-domain", "plainuser", "a.test", admin=True, check=0)
    u = tool.user("plainuser")
    assert "univentionXMPPAccount" in u["objectClass"] and "xmppEnabled" not in u


def test_default_domain_one_served_domain(tool):
    # two XMPP domains (a.test, b.test): domainname; other-host's c.test
    # does not count (univentionService without XMPP)
    tool.run("user", "enable", "plainuser", admin=True, check=0)
    assert tool.user("plainuser")["xmppDomain"] == ["dn.test"]
    # one served domain: that one
    p = tool.run("host", "remove-domain", "b.test", admin=True, check=0)     # stored as B.TEST
    assert "B.TEST" in p.stdout
    assert tool.host()["xmppDomains"] == ["a.test"]
    assert tool.json("host", "show")["serves"] == ["a.test"]
    p = tool.run("user", "enable", "nodomain", admin=True, check=0)
    assert "nodomain@a.test" in p.stdout and "the only XMPP domain" in p.stdout
    assert tool.user("nodomain")["xmppDomain"] == ["a.test"]
    # a user who already has a domain keeps it
    tool.run("user", "disable", "dave", admin=True, check=0)
    tool.run("user", "enable", "dave", admin=True, check=0)
    assert tool.user("dave")["xmppDomain"] == ["b.test"]
    # add-domain: lower case, idempotent, explicit HOST, class added
    tool.run("host", "add-domain", "B.test", admin=True, check=0)
    assert sorted(tool.host()["xmppDomains"]) == ["a.test", "b.test"]
    assert "already" in tool.run("host", "add-domain", H.HOSTNAME, "b.test", admin=True, check=0).stdout
    assert "does not hold" in tool.run("host", "remove-domain", "x.test", admin=True, check=0).stdout
    p = tool.run("host", "add-domain", "other-host", "d.test", admin=True, check=0)
    assert "univentionService" in p.stdout                       # serves nothing: a hint
    assert sorted(tool.host("other-host")["xmppDomains"]) == ["c.test", "d.test"]
    # the default ignores domains of hosts that serve nothing: still two
    tool.run("host", "remove-domain", "a.test", admin=True, check=0)
    tool.run("user", "disable", "nodomain", admin=True, check=0)
    tool.ldap.modify("dn: %s\nchangetype: modify\ndelete: xmppDomain\n" % tool.ldap.user_dn("nodomain"))
    tool.run("user", "enable", "nodomain", admin=True, check=0)
    assert tool.user("nodomain")["xmppDomain"] == ["b.test"]


def test_group_writes(tool):
    # enable adds the class; idempotent; disable writes FALSE
    p = tool.run("group", "enable", "plaingroup", admin=True, check=0)
    g = tool.group("plaingroup")
    assert "univentionXMPPGroup" in g["objectClass"] and g["xmppEnabled"] == ["TRUE"]
    assert "already" in tool.run("group", "enable", "plaingroup", admin=True, check=0).stdout
    tool.run("group", "disable", "oldgroup", admin=True, check=0)        # already FALSE
    tool.run("group", "enable", "oldgroup", admin=True, check=0)
    assert tool.group("oldgroup")["xmppEnabled"] == ["TRUE"]
    # allow-*: the other group's cn as stored; several at once; duplicates
    # and case variants are not added twice
    p = tool.run("group", "allow-message", "interns", "STAFF", "plaingroup", "staff", admin=True,
                 check=0)
    assert tool.group("interns")["xmppMessageGroups"] == ["staff", "plaingroup"]
    p = tool.run("group", "allow-message", "interns", "Staff", admin=True, check=0)
    assert "already" in p.stdout and "nothing changed" in p.stdout
    tool.run("group", "allow-presence", "interns", "managers", "interns", admin=True, check=0)
    assert tool.group("interns")["xmppPresenceGroups"] == ["managers", "interns"]
    # deny-*: case-insensitive; a name not in the list is reported
    p = tool.run("group", "deny-message", "staff", "MANAGERS", admin=True, check=0)
    assert "now empty" in p.stdout and "message_policy" in p.stdout
    assert "xmppMessageGroups" not in tool.group("staff")
    p = tool.run("group", "deny-presence", "interns", "staff", "managers", admin=True, check=0)
    assert "does not name staff" in p.stdout
    assert tool.group("interns")["xmppPresenceGroups"] == ["interns"]
    tool.run("group", "disable", "plaingroup", admin=True, check=0)
    assert tool.group("plaingroup")["xmppEnabled"] == ["FALSE"]
    # disabling a group that other groups name: the tool says which
    p = tool.run("group", "disable", "staff", admin=True, check=0)
    assert "now ignored" in p.stdout and "interns" in p.stdout.split("ignored there:")[1], p.stdout


# --- refusals -------------------------------------------------------------------------

def test_refusals(tool):
    base = tool.ldap.BASE
    before = tool.ldap.search("(objectClass=*)")
    # unknown entries
    p = tool.run("user", "show", "nobody", check=1)
    assert p.stderr.strip() == "plucs: user 'nobody': no such account under %s" % base
    p = tool.run("user", "enable", "nobody", admin=True, check=1)
    assert "user 'nobody': no such account" in p.stderr
    assert "group 'nogroup': no such group" in tool.run("group", "show", "nogroup", check=1).stderr
    assert "host 'nohost': no such host" in tool.run("host", "show", "nohost", check=1).stderr
    # references to groups that are not XMPP groups, with the hint
    for other, why in (("plaingroup", "univentionXMPPGroup"), ("oldgroup", "xmppEnabled")):
        p = tool.run("group", "allow-message", "staff", "managers", other, admin=True, check=1)
        assert "group 'staff'" in p.stderr and "'%s'" % other in p.stderr, p.stderr
        assert "not an XMPP group" in p.stderr and why in p.stderr
        assert "run: plucs group enable %s" % other in p.stderr
    p = tool.run("group", "allow-presence", "staff", "nogroup", admin=True, check=1)
    assert "no such group" in p.stderr
    # a non-XMPP group cannot get lists
    p = tool.run("group", "allow-message", "plaingroup", "staff", admin=True, check=1)
    assert "plucs group enable plaingroup" in p.stderr
    # missing rights: the host identity may read but not write
    for args, what, attr in ((("user", "enable", "erin"), "user 'erin'", "xmppEnabled"),
                             (("user", "set-domain", "alice", "b.test"), "user 'alice'", "xmppDomain"),
                             (("group", "allow-message", "interns", "staff"), "group 'interns'",
                              "xmppMessageGroups"),
                             (("group", "disable", "staff"), "group 'staff'", "xmppEnabled"),
                             (("host", "add-domain", "other-host", "e.test"), "host 'other-host'",
                              "xmppDomains")):
        p = tool.run(*args, check=1)
        assert p.stderr.startswith("plucs: %s: insufficient access to write %s" % (what, attr)), p.stderr
        assert "--binddn/--bindpw-file" in p.stderr and no_error_number(p.stderr), p.stderr
    # a wrong administrator password
    bad = tool.pwfile.parent / "bad.pw"
    bad.write_text("wrong\n")
    p = tool.run("user", "show", "alice", "--binddn", tool.ldap.ROOTDN, "--bindpw-file", str(bad),
                 check=1)
    assert "cannot bind" in p.stderr and "wrong DN or password" in p.stderr
    # bad domains
    p = tool.run("user", "set-domain", "alice", "a b", admin=True, check=1)
    assert "user 'alice': xmppDomain 'a b' is not a domain name" in p.stderr
    tool.run("host", "add-domain", "x..test", admin=True, check=1)
    # injection attempts: metacharacters are values, never filter syntax
    for evil in ("*", "alice)(uid=*", "*)(|(uid=*", "alice\\2a", "a\x01b"):
        p = tool.run("user", "show", evil, check=1)
        assert "no such account" in p.stderr, (evil, p.stderr)
        tool.run("user", "disable", evil, admin=True, check=1)
    for evil in ("*", "staff)(cn=*", "st*"):
        assert "no such group" in tool.run("group", "show", evil, check=1).stderr
        tool.run("group", "allow-message", "interns", evil, admin=True, check=1)
        tool.run("group", "disable", evil, admin=True, check=1)
    tool.run("host", "show", "*", check=1)
    tool.run("host", "add-domain", "*", "x.test", admin=True, check=1)
    tool.run("user", "set-domain", "alice", "a.test)(uid=*", admin=True, check=1)
    # nothing above changed the directory
    assert tool.ldap.search("(objectClass=*)") == before
    # two entries with the same uid: no guessing
    tool.ldap.add("dn: uid=alice,cn=groups,%s\nobjectClass: inetOrgPerson\nuid: alice\ncn: Other Alice\n"
                  "sn: Alice\n" % base)
    p = tool.run("user", "disable", "alice", admin=True, check=1)
    assert "user 'alice': 2 entries match" in p.stderr and "refusing to guess" in p.stderr
    assert tool.user("alice")["xmppEnabled"] == ["TRUE"]


def test_unreachable_directory(tool, tmp_path):
    reg = tmp_path / "down.conf"
    reg.write_text(tool.reg.read_text().replace(tool.ldap.LDAPS_URI,
                                                "ldap://127.0.0.1:%d" % H.dead_port()))
    p = tool.run("users", registry=reg, check=1)
    assert "cannot bind to the directory" in p.stderr and "cannot reach" in p.stderr


# --- live: the running server picks the change up -----------------------------------

def online(im, d, user, resource="cli"):
    c = im(user, daemon=d, resource=resource)
    assert c.login().ok, user
    c.roster()
    c.available()
    return c


def test_changes_reach_online_clients(tool, plucsd, im):
    alice = online(im, plucsd, "alice")
    bob = H.jid("bob")
    # enabling oldgroup (alice, bob): alice's push for bob gains the group
    tool.run("group", "enable", "oldgroup", admin=True, check=0)
    assert alice.wait_push(bob, timeout=LIMIT, pred=lambda p: "oldgroup" in p.item.groups), \
        alice.all_pushes
    # disabling bob: alice gets the removal and his unavailable presence
    tool.run("user", "disable", "bob", admin=True, check=0)
    assert alice.wait_push(bob, timeout=LIMIT, pred=lambda p: p.item.subscription == "remove"), \
        alice.all_pushes
    # enabling him again brings him back with both groups
    tool.run("user", "enable", "bob", admin=True, check=0)
    assert alice.wait_push(bob, timeout=LIMIT, pred=lambda p: p.item.subscription == "both" and
                           p.item.groups == ["oldgroup", "staff"]), alice.all_pushes
    # a domain added with the tool is served at once: nils (new.test) logs in
    tool.run("host", "add-domain", "new.test", admin=True, check=0)
    assert H.wait_until(lambda: H.try_login(plucsd.port, "nils@new.test", "nils-secret",
                                            timeout=3).ok, LIMIT)


def test_permission_change_reaches_online_clients(tool, plucsd_factory, im):
    # plucs/mod/filter with deny policies (directory.md's worked example):
    # carol (staff, interns) may not write to bob (staff only) until interns
    # names staff in xmppMessageGroups
    d = plucsd_factory(**{"plucs/mod/filter": "true"})
    carol, bob = online(im, d, "carol"), online(im, d, "bob")
    carol.send_message(H.jid("bob"), "before")
    assert carol.wait_message(type="error", timeout=LIMIT), "carol>bob was not refused"
    assert not bob.saw_message(body="before")
    tool.run("group", "allow-message", "interns", "staff", admin=True, check=0)
    assert send_until(carol, bob, H.jid("bob"), "after", delivered=True), \
        "carol>bob still refused after plucs group allow-message interns staff"
    # and back: deny-message takes it away again
    tool.run("group", "deny-message", "interns", "staff", admin=True, check=0)
    assert send_until(carol, bob, H.jid("bob"), "again", delivered=False), \
        "carol>bob still delivered after plucs group deny-message interns staff"


def send_until(sender, to, to_jid, prefix, delivered):
    """Sends numbered messages sender>to_jid (client to) until one arrives
    (delivered=False: until one is refused with an error); bounded by LIMIT
    seconds and 50 tries. Whether that happened."""
    end, n = time.monotonic() + LIMIT, 0
    while time.monotonic() < end and n < 50:
        n += 1
        body = "%s %d" % (prefix, n)
        sender.send_message(to_jid, body)
        arrived = lambda: to.wait_message(body=body, timeout=1)  # noqa: E731
        refused = lambda: sender.wait_message(type="error", timeout=1)  # noqa: E731
        first, then = (arrived, refused) if delivered else (refused, arrived)
        if first() is not None:
            return True
        then()
    return False
