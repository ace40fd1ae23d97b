"""Admin commands over XMPP (issue 16 item 5): XEP-0050 ad-hoc commands on
the server's domain JID with the XEP-0133 service administration set,
driven by slixmpp's xep_0050/xep_0004 plugins as a client would, plus raw
command iqs for the hostile cases.

Who may: members of the group plucs/admin/group names. The daemon runs
with plucs/admin/group = managers (data.ldif: alice only); bob, carol are
ordinary users of a.test, dave a user of b.test (a second served domain).
Every test starts its own plucsd (fresh store); the one test that changes
the directory does it through ldap_undo."""

import re

import pytest

import plucs_harness as H

NS_CMD = "http://jabber.org/protocol/commands"
NS_ADMIN = "http://jabber.org/protocol/admin"
NS_XDATA = "jabber:x:data"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_INFO = "http://jabber.org/protocol/disco#info"
ADMIN = {"plucs/admin/group": "managers"}
COMMANDS = {NS_ADMIN + n for n in (
    "#announce", "#set-motd", "#edit-motd", "#delete-motd", "#get-online-users-num",
    "#get-online-users-list", "#end-user-session", "#get-user-stats")}


@pytest.fixture
def d(plucsd_factory):
    return plucsd_factory(**ADMIN)


@pytest.fixture
def online(im, d):
    """online(user, resource=None) -> IMClient logged in with xep_0050 and
    available (initial presence sent)."""
    def make(user, resource=None, daemon=None):
        c = im(user, daemon=daemon or d, resource=resource)
        c.x.register_plugin("xep_0004")
        c.x.register_plugin("xep_0050")
        assert c.login().ok, user
        c.available()
        return c
    return make


class Answer:
    """A command answer flattened: type, status, sessionid, note, form
    fields {var: [values]}, error condition and XEP-0050 specific one."""

    def __init__(self, el):
        self.el = el
        self.type = el.get("type")
        cmd = el.find("{%s}command" % NS_CMD)
        self.status = cmd.get("status") if cmd is not None else None
        self.sessionid = cmd.get("sessionid") if cmd is not None else None
        note = cmd.find("{%s}note" % NS_CMD) if cmd is not None else None
        self.note = note.text if note is not None else None
        self.note_type = note.get("type") if note is not None else None
        x = cmd.find("{%s}x" % NS_XDATA) if cmd is not None else None
        self.form_type = x.get("type") if x is not None else None
        self.fields = {}
        if x is not None:
            for f in x.findall("{%s}field" % NS_XDATA):
                self.fields[f.get("var")] = [v.text or "" for v in f.findall("{%s}value" % NS_XDATA)]
        err = el.find("{%s}error" % H.NS_CLIENT)
        self.condition = self.specific = None
        if err is not None:
            for c in err:
                ns, _, name = c.tag[1:].partition("}")
                if ns == NS_STANZAS and name != "text":
                    self.condition = name
                elif ns == NS_CMD:
                    self.specific = name

    def __repr__(self):
        return "Answer(%s %s %s %s %s/%s)" % (self.type, self.status, self.note, self.fields,
                                             self.condition, self.specific)


def command(c, node, action="execute", sessionid=None, fields=None, to="a.test", timeout=10):
    """Sends one command stage with slixmpp's xep_0050; fields: {var: value
    or list} submitted as a jabber:x:data form of FORM_TYPE admin."""
    from slixmpp.exceptions import IqError
    payload = None
    if fields is not None:
        form = c.x.plugin["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value=NS_ADMIN)
        for var, value in fields.items():
            if isinstance(value, list):
                form.add_field(var=var, ftype="text-multi", value=value)
            else:
                form.add_field(var=var, value=value)
        payload = form
    fut = c.x.plugin["xep_0050"].send_command(to, NS_ADMIN + node, action=action,
                                              payload=payload, sessionid=sessionid,
                                              timeout=timeout)
    try:
        r = c.run(fut, timeout + 1)
    except IqError as e:
        r = e.iq
    return Answer(r.xml)


def run(c, node, fields, to="a.test"):
    """Both stages: execute (a form comes back), then complete with fields."""
    a = command(c, node, to=to)
    assert (a.type, a.status, a.form_type) == ("result", "executing", "form"), a
    assert a.sessionid, a
    return command(c, node, action="complete", sessionid=a.sessionid, fields=fields, to=to)


def raw_command(c, inner, to="a.test", type="set"):
    el = c.iq_el(to, type, inner)
    assert el is not None, "no answer to %s" % inner
    return Answer(el)


def disco_items(c, node, to="a.test"):
    el = c.iq_el(to, "get", "<query xmlns='%s' node='%s'/>" % (NS_ITEMS, node))
    return [(i.get("jid"), i.get("node"), i.get("name"))
            for i in el.iter("{%s}item" % NS_ITEMS)]


# --- who may -----------------------------------------------------------------------

def test_admin_sees_commands_others_forbidden(d, online):
    a = online("alice")
    b = online("bob")
    assert NS_CMD in a.disco_info(), "the domain does not advertise ad-hoc commands"
    items = disco_items(a, NS_CMD)
    assert {n for _, n, _ in items} == COMMANDS, items
    assert all(j == "a.test" and name for j, _, name in items), items
    info = a.iq_el("a.test", "get", "<query xmlns='%s' node='%s#announce'/>" % (NS_INFO, NS_ADMIN))
    ident = info.find(".//{%s}identity" % NS_INFO)
    assert (ident.get("category"), ident.get("type")) == ("automation", "command-node"), \
        info
    # bob: an empty command list, forbidden on execute, for every command
    assert disco_items(b, NS_CMD) == []
    for node in sorted(COMMANDS):
        r = command(b, node[len(NS_ADMIN):])
        assert (r.type, r.condition) == ("error", "forbidden"), (node, r)
    assert d.wait_log(r"bob@a\.test may not run .*#announce: not a member of "
                      r"plucs/admin/group \(managers\)")


def test_no_admin_group_means_nobody(plucsd_factory, online):
    d0 = plucsd_factory()
    a = online("alice", daemon=d0)
    assert disco_items(a, NS_CMD) == []
    r = command(a, "#get-online-users-num")
    assert (r.type, r.condition) == ("error", "forbidden"), r


def test_admin_group_variable_reload(plucsd_factory, online):
    d0 = plucsd_factory()
    a = online("alice", daemon=d0)
    assert command(a, "#get-online-users-num").condition == "forbidden"
    d0.registry.update(ADMIN)
    d0.write_registry()
    d0.sighup()
    assert a.wait_for(lambda: disco_items(a, NS_CMD), timeout=10), \
        "plucs/admin/group=managers not applied after SIGHUP"
    assert command(a, "#get-online-users-num").status == "completed"
    d0.registry["plucs/admin/group"] = ""
    d0.write_registry()
    d0.sighup()
    assert a.wait_for(lambda: not disco_items(a, NS_CMD), timeout=10)
    assert command(a, "#get-online-users-num").condition == "forbidden"


def test_group_change_applies_live(d, online, ldap, ldap_undo):
    b = online("bob")
    assert command(b, "#get-online-users-num").condition == "forbidden"
    ldap_undo.add_value(ldap.group_dn("managers"), "memberUid", "bob")
    assert b.wait_for(lambda: disco_items(b, NS_CMD), timeout=10), \
        "bob did not become an administrator after joining managers"
    r = command(b, "#get-online-users-num")
    assert (r.type, r.status) == ("result", "completed"), r


# --- announce --------------------------------------------------------------------

def test_announce_reaches_every_online_session_of_the_domain(d, online):
    a = online("alice")
    b1 = online("bob", "one")
    b2 = online("bob", "two")
    c = online("carol")
    dv = online("dave")            # b.test
    r = run(a, "#announce", {"subject": "Maintenance",
                             "announcement": ["Server restarts at 22:00.", "Save your work."]})
    assert (r.type, r.status) == ("result", "completed"), r
    assert r.note_type == "info" and "4 session(s) of 3 user(s)" in r.note, r
    for cl in (a, b1, b2, c):
        m = cl.wait_message(frm="a.test", type="headline", timeout=10)
        assert m, "%s got no announcement: %r" % (cl.jid, cl.all_messages)
        assert m.body == "Server restarts at 22:00.\nSave your work.", m.body
        assert m.el.find("{%s}subject" % H.NS_CLIENT).text == "Maintenance"
    dv.quiet(1.0)
    assert not dv.saw_message(type="headline"), "a user of b.test got a.test's announcement"
    # and to b.test: only dave
    r = run(a, "#announce", {"announcement": "Hello b.test"}, to="b.test")
    assert r.status == "completed" and "1 session(s) of 1 user(s)" in r.note, r
    assert dv.wait_message(frm="b.test", body="Hello b.test", timeout=10)
    b1.quiet(0.5)
    assert not b1.saw_message(body="Hello b.test")


# --- message of the day ------------------------------------------------------------

def motd_of(cl, timeout=10):
    m = cl.wait_message(frm="a.test", type="normal", timeout=timeout,
                        pred=lambda s: s.body is not None)
    return m.body if m else None


def test_motd_set_edit_delete(d, online, im):
    a = online("alice")
    r = run(a, "#set-motd", {"motd": ["Welcome to PLUCS.", "Line two."]})
    assert (r.type, r.status) == ("result", "completed"), r
    assert motd_of(online("bob", "first")) == "Welcome to PLUCS.\nLine two."
    # shown once: the next login of bob gets nothing, carol (first login) gets it
    b2 = online("bob", "second")
    assert motd_of(online("carol")) == "Welcome to PLUCS.\nLine two."
    b2.quiet(1.0)
    assert not b2.saw_message(frm="a.test"), b2.all_messages
    # edit: the form shows the current text; a change is shown once more
    e = command(a, "#edit-motd")
    assert e.status == "executing" and e.fields["motd"] == ["Welcome to PLUCS.", "Line two."], e
    r = command(a, "#edit-motd", action="complete", sessionid=e.sessionid,
                fields={"motd": ["Changed."]})
    assert r.status == "completed", r
    assert motd_of(online("bob", "third")) == "Changed."
    # dave (b.test) has his domain's message: none
    dv = online("dave")
    dv.quiet(0.5)
    assert not dv.saw_message(frm="b.test")
    # delete: nobody gets it any more, also not who never saw it
    r = command(a, "#delete-motd")
    assert (r.type, r.status) == ("result", "completed") and "deleted" in r.note, r
    k = online("kai")
    b4 = online("bob", "fourth")
    k.quiet(1.0)
    assert not k.saw_message(frm="a.test") and not b4.saw_message(frm="a.test")
    e = command(a, "#edit-motd")
    assert e.fields.get("motd", []) == [], e
    command(a, "#edit-motd", action="cancel", sessionid=e.sessionid)
    # set again after delete: shown again to who saw an older one
    run(a, "#set-motd", {"motd": "Back again"})
    assert motd_of(online("bob", "fifth")) == "Back again"


def test_motd_login_without_one_does_not_ask_the_store(d, online):
    """While the domain has no message of the day, a login does not queue a
    store transaction for it (the in-memory index of domains with one,
    adhoc_motd_index.h); once one is set, a login asks and gets it."""
    asked = r"adhoc: asking the store for the message of the day of a\.test for %s"
    assert d.wait_log(r"adhoc: message of the day index loaded: 0 domain\(s\)"), d.log()[-3000:]
    b = online("bob", "one")
    # the stream is handled in order: the initial presence (and its
    # EV_AVAILABLE hook) before this iq is answered
    assert b.ping() == "result"
    assert not re.search(asked % r"bob@a\.test", d.log()), "a login asked the store"
    a = online("alice")
    run(a, "#set-motd", {"motd": "Now there is one"})
    assert motd_of(online("carol")) == "Now there is one"
    assert re.search(asked % r"carol@a\.test", d.log())


def test_motd_survives_restart(plucsd_factory, online):
    d1 = plucsd_factory(**ADMIN)
    a = online("alice", daemon=d1)
    run(a, "#set-motd", {"motd": "Persistent"})
    a.close()
    d1.terminate()
    d1.start()
    assert motd_of(online("bob", daemon=d1)) == "Persistent"


# --- online users ------------------------------------------------------------------

def test_online_users_num_and_list(d, online):
    a = online("alice")
    online("bob", "one")
    online("bob", "two")
    online("dave")
    r = command(a, "#get-online-users-num")
    assert (r.status, r.form_type, r.fields.get("onlineusersnum")) == ("completed", "result",
                                                                      ["2"]), r
    r = command(a, "#get-online-users-list")
    assert r.status == "completed" and sorted(r.fields["onlineuserjids"]) == \
        ["alice@a.test", "bob@a.test"], r
    r = command(a, "#get-online-users-list", to="b.test")
    assert r.fields["onlineuserjids"] == ["dave@b.test"], r


# --- end user session ----------------------------------------------------------------

def test_end_user_session(d, online):
    a = online("alice")
    b1 = online("bob", "one")
    b2 = online("bob", "two")
    c = online("carol")
    r = run(a, "#end-user-session", {"accountjids": ["bob@a.test/one"]})
    assert r.status == "completed" and "1 session(s)" in r.note, r
    err = b1.wait_disconnect(10)
    assert err and err[0] == "policy-violation", err
    assert b2.ping() == "result"
    # the route of the ended session goes once the server has closed it
    assert H.wait_until(lambda: run(a, "#get-user-stats", {"accountjid": "bob@a.test"})
                        .fields["onlineresourcesnum"] == ["1"], 10)
    r = run(a, "#end-user-session", {"accountjids": ["bob@a.test", "carol@a.test"]})
    assert "2 session(s)" in r.note, r
    b2.wait_disconnect(10)
    c.wait_disconnect(10)
    assert d.wait_log(r"bob@a\.test/two's session ended by administrator alice@a\.test")
    assert H.wait_until(lambda: command(a, "#get-online-users-list")
                        .fields["onlineuserjids"] == ["alice@a.test"], 10)
    # refusals: nothing ended
    b3 = online("bob", "three")
    for bad in (["bob@a.test", "x@unserved.example"], ["not a jid@@"], ["a.test"]):
        r = run(a, "#end-user-session", {"accountjids": bad})
        assert (r.type, r.condition, r.specific) == ("error", "bad-request", "bad-payload"), r
    assert b3.ping() == "result"


# --- user statistics -----------------------------------------------------------------

def test_get_user_stats(d, online):
    a = online("alice")
    b = online("bob", "phone")
    r = run(a, "#get-user-stats", {"accountjid": "bob@a.test"})
    assert (r.status, r.form_type) == ("completed", "result"), r
    assert r.fields["accountjid"] == ["bob@a.test"]
    assert r.fields["onlineresources"] == [b.jid], r
    assert r.fields["onlineresourcesnum"] == ["1"]
    assert r.fields["rostersize"] == ["0"]
    r = run(a, "#get-user-stats", {"accountjid": "carol@a.test"})
    assert r.fields["onlineresourcesnum"] == ["0"] and r.fields["onlineresources"] == [], r


# --- sessions and hostile input ---------------------------------------------------------

def test_sessions_cancel_and_bad_sessionid(d, online):
    a = online("alice", "desk")
    a2 = online("alice", "laptop")
    s = command(a, "#announce")
    # another connection of the same admin cannot continue it
    r = command(a2, "#announce", action="complete", sessionid=s.sessionid,
                fields={"announcement": "x"})
    assert (r.condition, r.specific) == ("bad-request", "bad-sessionid"), r
    # another command's node with this session id
    r = command(a, "#set-motd", action="complete", sessionid=s.sessionid, fields={"motd": "x"})
    assert (r.condition, r.specific) == ("bad-request", "bad-sessionid"), r
    # that closed it
    r = command(a, "#announce", action="complete", sessionid=s.sessionid,
                fields={"announcement": "x"})
    assert r.specific == "bad-sessionid", r
    s = command(a, "#announce")
    r = command(a, "#announce", action="cancel", sessionid=s.sessionid)
    assert (r.type, r.status) == ("result", "canceled"), r
    r = command(a, "#announce", action="complete", sessionid=s.sessionid,
                fields={"announcement": "x"})
    assert r.specific == "bad-sessionid", r
    r = command(a, "#announce", action="complete", sessionid="nonexistent",
                fields={"announcement": "x"})
    assert r.specific == "bad-sessionid", r
    # at most 4 open per connection: the fifth closes the oldest
    ids = [command(a, "#announce").sessionid for _ in range(5)]
    assert len(set(ids)) == 5
    r = command(a, "#announce", action="complete", sessionid=ids[0],
                fields={"announcement": "x"})
    assert r.specific == "bad-sessionid", r
    r = command(a, "#announce", action="complete", sessionid=ids[4],
                fields={"announcement": "last"})
    assert r.status == "completed", r


def test_hostile_commands(d, online):
    a = online("alice")
    cmd = "<command xmlns='%s' node='%s#announce'%s>%s</command>"

    def ans(attrs="", inner="", **kw):
        return raw_command(a, cmd % (NS_CMD, NS_ADMIN, attrs, inner), **kw)

    r = ans(type="get")
    assert (r.type, r.condition) == ("error", "bad-request"), r
    r = ans(" action='dance'")
    assert (r.condition, r.specific) == ("bad-request", "malformed-action"), r
    r = ans(" action='next'")
    assert (r.condition, r.specific) == ("bad-request", "bad-action"), r
    r = ans(" action='cancel'")
    assert r.specific == "bad-sessionid", r
    r = raw_command(a, "<command xmlns='%s' node='%s#reboot-the-world'/>" % (NS_CMD, NS_ADMIN))
    assert r.condition == "item-not-found", r
    r = raw_command(a, "<command xmlns='%s'/>" % NS_CMD)
    assert r.condition == "bad-request", r
    r = ans(to="bob@a.test")
    assert r.type == "error", r
    # malformed forms: none, a form not submitted, a foreign FORM_TYPE, too big
    for inner in ("",
                  "<x xmlns='jabber:x:data' type='form'/>",
                  "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
                  "<value>urn:example:other</value></field>"
                  "<field var='announcement'><value>x</value></field></x>",
                  "<x xmlns='jabber:x:data' type='submit'/>",
                  "<x xmlns='jabber:x:data' type='submit'><field var='announcement'>%s</field></x>"
                  % ("<value>l</value>" * 300),
                  "<x xmlns='jabber:x:data' type='submit'><field var='announcement'>"
                  "<value>%s</value></field></x>" % ("y" * 9000)):
        s = command(a, "#announce")
        r = ans(" action='complete' sessionid='%s'" % s.sessionid, inner)
        assert (r.type, r.condition, r.specific) == ("error", "bad-request", "bad-payload"), \
            (inner[:80], r)
    assert d.wait_log(r"adhoc: alice@a\.test ran .*#announce: bad-request/bad-payload")
    # an injection-looking text is just text
    hostile = "<b>bold</b> & ')(uid=*)"
    r = run(a, "#announce", {"announcement": hostile})
    assert r.status == "completed", r
    m = a.wait_message(frm="a.test", type="headline", timeout=10)
    assert m and m.body == hostile, m
    assert a.ping() == "result"


def test_metrics_count_commands(d, online):
    import web_clients as W
    a = online("alice")
    b = online("bob")
    command(a, "#get-online-users-num")
    command(b, "#get-online-users-num")
    _, _, body = W.http_request(d.http_port, "GET", "/metrics")
    got = dict(re.findall(r'plucs_adhoc_commands_total\{result="(\w+)"\} (\d+)', body))
    assert got == {"executed": "1", "forbidden": "1"}, body
