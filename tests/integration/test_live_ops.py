"""Live operations (issue 4, "Tests"; directory.md "Changes in the directory
reach connected clients ... without a restart"; registry.md "Reload
semantics"), everything while clients stay connected:

(a) plucs/restart/listener=false: a directory change waits for a reload
    (`plucs reload`, else SIGHUP via the pid file) and is applied then;
(b) registry changes through `plucs config set` (validate, write, reload):
    plucs/userlabel, plucs/grouplabel, plucs/roster/scope, plucs/loglevel,
    plucs/c2s/port -- no session is dropped;
(c) a directory outage: changes made while plucsd is disconnected (after
    slapd's restart, while plucsd waits in its reconnect back-off) arrive
    once the change feed resumes with its cookie;
(d) the polling fallback against a slapd without syncprov
    (scripts/ldap-env --no-syncprov), plucs/ldap/poll=2: changes and
    deletions arrive within poll + 2 s;
and a series of membership changes, disables and domain additions whose
lags are summarised for the issue's note.

Each measured lag is asserted by the test that measures it (LIMIT, or
the kind's own bound) and printed as one line (collect with pytest -s):
    LAG <kind>=<seconds>s (<what>)
kinds: membership, disable, domain (the note's three), and label, scope,
port, reload, resume, poll-membership, poll-delete, poll-disable,
poll-domain. test_lag_series also prints, for its own measurements,
    LAG-SUMMARY <kind>: n=N median=Ms worst=Ws
A lag runs from the return of the write (ldapmodify, `plucs config set`,
slapd's restart) to the moment the client received the effect; directory
changes include plucsd's 200 ms coalescing window. LIMIT (5 s) is the
issue's correctness bound for a noisy machine (the target is 2 s).

Every directory change is reverted (the session slapd is shared by all
tests)."""

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import time

import pytest

import plucs_harness as H

LIMIT = 5.0
POLL = 2
PLUCS = os.path.join(H.BUILD, "plucs")
A, B, C = "alice@a.test", "bob@a.test", "carol@a.test"
HUGO, IDA, KAI, LENA = "hugo@a.test", "ida@a.test", "kai@a.test", "lena@a.test"

# Bounds other than LIMIT: changes made during an outage wait for plucsd's
# reconnect back-off (at most 30 s).
BOUNDS = {"resume": 30 + LIMIT}


# --- helpers -------------------------------------------------------------------

def lag(kind, what, t0, t1, series=None):
    """Prints the LAG line, asserts the kind's bound; appends to SERIES (a
    list) when given. Returns the lag in seconds."""
    v = t1 - t0
    bound = BOUNDS.get(kind, LIMIT)
    # own line even after pytest's progress characters
    print("\nLAG %s=%.3fs (%s)" % (kind, v, what))
    assert 0 <= v <= bound, "LAG %s (%s): %.3f s, over the bound of %.1f s" % (kind, what, v, bound)
    if series is not None:
        series.append(v)
    return v


def online(im, d, user, resource, port=None, **presence):
    """A logged-in, interested (roster requested), available IMClient."""
    c = im(user, daemon=d if port is None else None, port=port, resource=resource)
    r = c.login()
    assert r.ok, "%s cannot log in: %r" % (user, r)
    c.roster()
    c.available(**presence)
    return c


def plucs(d, *args, timeout=30):
    """Runs the plucs tool on D's registry; returns the CompletedProcess."""
    env = dict(os.environ)
    env.pop("PLUCS_REGISTRY", None)
    env["LANG"] = "C"
    return subprocess.run([PLUCS, "--registry", d.registry_path] + list(args),
                          capture_output=True, text=True, timeout=timeout, env=env)


def config_set(d, *pairs):
    """`plucs config set K=V...` (validates, writes, asks plucsd to reload);
    returns time.monotonic() right after it returned."""
    r = plucs(d, "config", "set", *pairs)
    assert r.returncode == 0, "plucs config set %s: %d\n%s%s" % (
        " ".join(pairs), r.returncode, r.stdout, r.stderr)
    return time.monotonic()


def pidfile_sighup(d):
    with open(os.path.join(d.rundir, "plucsd.pid")) as f:
        os.kill(int(f.read().split()[0]), signal.SIGHUP)


def reload_daemon(d):
    """`plucs reload`; SIGHUP to the pid in the pid file when the tool has no
    such command (yet). Returns how it was done."""
    r = plucs(d, "reload")
    if r.returncode == 0:
        return "plucs reload"
    if "unknown command" in r.stderr:
        print("NOTE: `plucs reload` does not exist in this build; "
              "used SIGHUP via %s/plucsd.pid" % d.rundir)
        pidfile_sighup(d)
        return "SIGHUP"
    pytest.fail("plucs reload failed (%d): %s%s" % (r.returncode, r.stdout, r.stderr))


def find_pending(obj):
    """The first number under a key containing 'pending' in parsed JSON."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if "pending" in k.lower() and isinstance(v, (int, float)) and not isinstance(v, bool):
                return v
        for v in obj.values():
            n = find_pending(v)
            if n is not None:
                return n
    elif isinstance(obj, list):
        for v in obj:
            n = find_pending(v)
            if n is not None:
                return n
    return None


def status_pending(d):
    """Pending directory changes according to `plucs status --json`, or None
    when the tool has no status command (yet)."""
    r = plucs(d, "status", "--json")
    if r.returncode != 0 and "unknown command" in r.stderr:
        print("NOTE: `plucs status` does not exist in this build; pending count not checked")
        return None
    assert r.returncode == 0, "plucs status --json: %d\n%s%s" % (r.returncode, r.stdout, r.stderr)
    n = find_pending(json.loads(r.stdout))
    assert n is not None, "plucs status --json names no pending changes: %s" % r.stdout
    return n


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def stream_answer(port, domain, timeout=3):
    """'features' when a stream to DOMAIN is accepted, else the stream error
    condition (or None); 'refused' when the TCP connection fails."""
    try:
        r = H.RawClient(port, timeout=timeout)
    except OSError:
        return "refused"
    try:
        r.send(H.stream_header(to=domain))
        m = r.read_until(rb"<(?:stream:)?features|<(?:stream:)?error", timeout)
        if m is None:
            return None
        if b"features" in m.group(0):
            return "features"
        return H.stream_error_condition(m.group(0) + r.read_all(timeout))
    finally:
        r.close()


def host_dn(ldap):
    return "cn=%s,cn=computers,%s" % (H.HOSTNAME, ldap.BASE)


def roster_view(c):
    return {j: (i.name, i.groups) for j, i in c.roster().items()}


def record_stream_error(c):
    """Makes C remember when a stream error arrived (c.t_error)."""
    c.t_error = None

    def on_err(_):
        if c.t_error is None:
            c.t_error = time.monotonic()
    c.x.add_event_handler("stream_error", on_err)


def entry_add_ldif(ldap, filt):
    """A 'changetype: add' LDIF recreating the one entry matching FILT."""
    ents = H.ldap_entries(ldap, filt)
    assert len(ents) == 1, ents
    e = ents[0]
    lines = ["dn: " + e["dn"][0], "changetype: add"]
    for k, vals in e.items():
        if k != "dn":
            lines += ["%s: %s" % (k, v) for v in vals]
    return "\n".join(lines) + "\n"


def log_since(d, off):
    return d.log()[off:]


# --- (a) plucs/restart/listener=false ----------------------------------------------

def test_restart_listener_false_waits_for_reload(plucsd_factory, im, ldap, ldap_undo):
    d = plucsd_factory(**{"plucs/restart/listener": "false"})
    a = online(im, d, "alice", "desk")
    online(im, d, "lena", "l1", status="lena waits")
    assert LENA not in a.roster()
    a.forget()
    off = d.log_size()
    ldap_undo.add_value(ldap.group_dn("projects"), "memberUid", "lena")
    assert d.wait_log(r"directory: \d+ changes? wait for a reload \(plucs/restart/listener is false\)",
                      LIMIT, off), log_since(d, off)
    a.quiet(2.0)
    assert not a.saw_push(LENA), "pushed although plucs/restart/listener is false: %r" % a.pushes
    assert not a.saw_presence(frm=LENA), a.presences
    assert LENA not in a.roster()
    assert not re.search(r"directory: snapshot \d+", log_since(d, off)), log_since(d, off)
    pending = status_pending(d)
    if pending is not None:
        assert pending >= 1, pending

    how = reload_daemon(d)
    t = time.monotonic()
    p = a.wait_push(LENA, timeout=LIMIT)
    assert p, "no roster push after %s: %r\n%s" % (how, a.all_pushes, log_since(d, off))
    lag("reload", "waiting change applied after %s" % how, t, p.t)
    assert (p.item.subscription, p.item.groups) == ("both", ["projects"]), p
    assert a.wait_presence(frm=LENA, type="available", timeout=LIMIT), a.all_presences
    assert d.wait_log(r"directory: applying \d+ waiting changes?", LIMIT, off), log_since(d, off)
    if pending is not None:
        assert status_pending(d) == 0

    # The setting stays in force after the reload: the next change waits too.
    a.forget()
    off = d.log_size()
    ldap_undo.delete_value(ldap.group_dn("projects"), "memberUid", "lena")
    assert d.wait_log(r"directory: \d+ changes? wait for a reload", LIMIT, off), log_since(d, off)
    a.quiet(1.0)
    assert not a.saw_push(LENA), a.pushes
    assert a.ping() == "result"


def test_restart_listener_switched_on_applies_waiting(plucsd_factory, im, ldap, ldap_undo):
    """Turning plucs/restart/listener on with `plucs config set` is a reload:
    what waited is applied, and later changes are live again."""
    d = plucsd_factory(**{"plucs/restart/listener": "false"})
    a = online(im, d, "alice", "desk")
    a.forget()
    off = d.log_size()
    ldap_undo.add_value(ldap.group_dn("projects"), "memberUid", "lena")
    assert d.wait_log(r"directory: \d+ changes? wait for a reload", LIMIT, off), log_since(d, off)
    t = config_set(d, "plucs/restart/listener=true")
    p = a.wait_push(LENA, timeout=LIMIT)
    assert p, ("the waiting change was not applied by the reload that turned "
               "plucs/restart/listener on: %r\n%s" % (a.all_pushes, log_since(d, off)))
    lag("reload", "waiting change applied by config set restart/listener=true", t, p.t)
    a.forget()
    t = ldap_undo.delete_value(ldap.group_dn("projects"), "memberUid", "lena")
    p = a.wait_push(LENA, timeout=LIMIT, pred=lambda p: p.item.subscription == "remove")
    assert p, "a change after turning the listener on was not live: %r" % a.all_pushes
    lag("membership", "member removed (listener switched on)", t, p.t)


# --- (b) registry changes with `plucs config set` ------------------------------------

def test_userlabel_change_pushes_new_names(plucsd, im, ldap, ldap_undo):
    d = plucsd
    a = online(im, d, "alice", "desk")
    h = online(im, d, "hugo", "h1")
    items = a.roster()
    assert (items[HUGO].name, items[IDA].name) == ("Hugo Hill", "Ida Ives")
    a.forget()
    t = config_set(d, "plucs/userlabel=displayName")
    p = a.wait_push(HUGO, timeout=LIMIT, pred=lambda p: p.item.name == "Dr. Hugo Hill")
    assert p, "no push with hugo's displayName: %r" % a.all_pushes
    lag("label", "plucs/userlabel=displayName (push)", t, p.t)
    assert (p.item.subscription, p.item.groups) == ("both", ["projects"]), p
    # ida has no displayName: her item loses its name.
    p = a.wait_push(IDA, timeout=LIMIT)
    assert p and p.item.name is None, (p, a.all_pushes)
    # kai's label is the same under both attributes: no push for him.
    assert not a.saw_push(KAI), a.pushes
    assert roster_view(a) == H.expected_shared_roster(ldap, A, userlabel="displayName")
    # hugo's own roster too.
    assert h.wait_push(IDA, timeout=LIMIT, pred=lambda p: p.item.name is None), h.all_pushes
    assert roster_view(h) == H.expected_shared_roster(ldap, HUGO, userlabel="displayName")
    # No session was dropped, no presence flapped.
    assert not a.saw_presence(frm=HUGO, type="unavailable"), a.presences
    assert a.ping() == "result" and h.ping() == "result"

    # The feed now follows the new attribute (entries were read again).
    a.forget()
    t = ldap_undo.replace(ldap.user_dn("hugo"), "displayName", ["Prof. Hugo Hill"], ["Dr. Hugo Hill"])
    p = a.wait_push(HUGO, timeout=LIMIT, pred=lambda p: p.item.name == "Prof. Hugo Hill")
    assert p, "displayName change after the label switch not pushed: %r" % a.all_pushes
    lag("label", "displayName changed in LDAP after the switch", t, p.t)
    ldap_undo.replace(ldap.user_dn("ida"), "gecos", ["Ida Changed"], ["Ida Ives"])
    a.quiet(1.5)
    assert not a.saw_push(IDA), "gecos is no longer the label: %r" % a.pushes

    # And back.
    a.forget()
    t = config_set(d, "plucs/userlabel=gecos")
    p = a.wait_push(HUGO, timeout=LIMIT, pred=lambda p: p.item.name == "Hugo Hill")
    assert p, a.all_pushes
    lag("label", "plucs/userlabel=gecos (push)", t, p.t)
    p = a.wait_push(IDA, timeout=LIMIT, pred=lambda p: p.item.name == "Ida Changed")
    assert p, a.all_pushes
    assert roster_view(a) == H.expected_shared_roster(ldap, A)
    assert a.ping() == "result" and h.ping() == "result"


def test_grouplabel_change_pushes_new_groups(plucsd, im, ldap):
    d = plucsd
    a = online(im, d, "alice", "desk")
    k = online(im, d, "kai", "k1")
    items = a.roster()
    assert items[HUGO].groups == ["projects"] and items[KAI].groups == ["unlabelled"], items
    a.forget()
    t = config_set(d, "plucs/grouplabel=description")
    p = a.wait_push(HUGO, timeout=LIMIT, pred=lambda p: p.item.groups == ["Projects"])
    assert p, "no push with the group's description: %r" % a.all_pushes
    lag("label", "plucs/grouplabel=description (push)", t, p.t)
    # unlabelled has no description: kai's item has no group any more.
    p = a.wait_push(KAI, timeout=LIMIT)
    assert p and p.item.groups == [] and p.item.subscription == "both", (p, a.all_pushes)
    p = a.wait_push(B, timeout=LIMIT)
    assert p and p.item.groups == ["Staff"], (p, a.all_pushes)
    want = H.expected_shared_roster(ldap, A, grouplabel="description")
    assert roster_view(a) == want
    assert roster_view(k) == H.expected_shared_roster(ldap, KAI, grouplabel="description")
    assert not a.saw_presence(type="unavailable"), a.presences
    assert a.ping() == "result" and k.ping() == "result"
    a.forget()
    t = config_set(d, "plucs/grouplabel=cn")
    p = a.wait_push(KAI, timeout=LIMIT, pred=lambda p: p.item.groups == ["unlabelled"])
    assert p, a.all_pushes
    lag("label", "plucs/grouplabel=cn (push)", t, p.t)
    assert roster_view(a) == H.expected_shared_roster(ldap, A)


def test_roster_scope_change(plucsd, im, ldap):
    """domain -> member: alice (staff, managers) loses the projects people and
    sees their presence end; hugo loses alice; back to domain: all return
    with their current presence."""
    d = plucsd
    a = online(im, d, "alice", "desk", status="alice here")
    h = online(im, d, "hugo", "h1", status="hugo here")
    b = online(im, d, "bob", "b1")
    assert {HUGO, IDA, KAI, B, C} <= set(a.roster())
    assert a.wait_presence(frm=HUGO, type="available", timeout=LIMIT)
    for c in (a, h, b):
        c.forget()
    t = config_set(d, "plucs/roster/scope=member")
    for gone in (HUGO, IDA, KAI):
        p = a.wait_push(gone, timeout=LIMIT, pred=lambda p: p.item.subscription == "remove")
        assert p, "alice: no remove push for %s: %r" % (gone, a.all_pushes)
        lag("scope", "scope=member: remove push %s" % gone, t, p.t)
    s = a.wait_presence(frm=HUGO, type="unavailable", timeout=LIMIT)
    assert s, "alice did not get unavailable from hugo: %r" % a.all_presences
    lag("scope", "scope=member: unavailable", t, s.t)
    assert h.wait_presence(frm=A, type="unavailable", timeout=LIMIT), h.all_presences
    assert h.wait_push(A, timeout=LIMIT, pred=lambda p: p.item.subscription == "remove"), h.all_pushes
    # carol is in staff (shared with alice) and interns (not): one group left.
    p = a.wait_push(C, timeout=LIMIT)
    assert p and p.item.groups == ["staff"], (p, a.all_pushes)
    assert roster_view(a) == H.expected_shared_roster(ldap, A, scope="member")
    assert roster_view(h) == H.expected_shared_roster(ldap, HUGO, scope="member")
    # bob stays visible to alice; nobody was disconnected.
    assert not a.saw_presence(frm=B, type="unavailable"), a.presences
    for c in (a, h, b):
        assert c.ping() == "result"
        c.forget()

    t = config_set(d, "plucs/roster/scope=domain")
    p = a.wait_push(HUGO, timeout=LIMIT, pred=lambda p: p.item.subscription == "both")
    assert p, a.all_pushes
    lag("scope", "scope=domain: push", t, p.t)
    s = a.wait_presence(frm=HUGO, type="available", timeout=LIMIT)
    assert s and s.status == "hugo here", a.all_presences
    s2 = h.wait_presence(frm=A, type="available", timeout=LIMIT)
    assert s2 and s2.status == "alice here", h.all_presences
    assert roster_view(a) == H.expected_shared_roster(ldap, A)
    assert roster_view(h) == H.expected_shared_roster(ldap, HUGO)


def _wait_reload_seen(d, off):
    """After config set: the daemon logged that it reloads (info, still at
    the old level), and the reload has finished: it runs on plucsd's main
    thread, which also answers `plucs status`, so that answer comes after
    it (config set through the control socket is synchronous anyway; the
    status round trip covers the SIGHUP fallback)."""
    assert d.wait_log(r"plucsd\[info\] .*(?i:reload)", 3, off), \
        "plucsd did not log the reload:\n" + log_since(d, off)
    r = plucs(d, "status")
    assert r.returncode == 0, r.stdout + r.stderr


def test_loglevel_change(plucsd, im, ldap, ldap_undo):
    d = plucsd            # the harness runs plucsd at plucs/loglevel 5
    a = online(im, d, "alice", "desk")
    off = d.log_size()
    config_set(d, "plucs/loglevel=3")
    _wait_reload_seen(d, off)
    off = d.log_size()
    a.forget()
    ldap_undo.add_value(ldap.group_dn("projects"), "memberUid", "lena")
    assert a.wait_push(LENA, timeout=LIMIT), a.all_pushes          # still live
    c = online(im, d, "bob", "b2")                                  # a login
    a.quiet(0.5)
    quiet = log_since(d, off)
    assert not re.search(r"plucsd\[(info|debug)\]", quiet), \
        "info/debug lines at plucs/loglevel 3:\n" + quiet[-3000:]

    off = d.log_size()
    config_set(d, "plucs/loglevel=4")
    assert d.wait_log(r"plucsd\[info\] reload: registry .* applied", LIMIT, off), log_since(d, off)
    a.forget()
    ldap_undo.delete_value(ldap.group_dn("projects"), "memberUid", "lena")
    assert a.wait_push(LENA, timeout=LIMIT), a.all_pushes
    assert d.wait_log(r"plucsd\[info\] directory: snapshot \d+", LIMIT, off), log_since(d, off)
    a.quiet(0.3)
    assert "plucsd[debug]" not in log_since(d, off), log_since(d, off)[-3000:]
    assert a.ping() == "result" and c.ping() == "result"


def test_c2s_port_change_keeps_sessions(plucsd, im, ldap):
    d = plucsd
    old = d.port
    a = online(im, d, "alice", "desk")
    b = online(im, d, "bob", "b1")
    new = H.free_port()
    off = d.log_size()
    t = config_set(d, "plucs/c2s/port=%d" % new)
    assert H.wait_until(lambda: port_open(new), LIMIT, 0.02), \
        "nothing listens on the new port %d\n%s" % (new, log_since(d, off))
    lag("port", "new c2s port accepts connections", t, time.monotonic())
    assert H.wait_until(lambda: not port_open(old), LIMIT, 0.05), \
        "the old port %d still accepts connections" % old
    d.port = new
    log = log_since(d, off)
    m_new = re.search(r"listening on \[[^\]]*\]:%d" % new, log)
    m_old = re.search(r"closing listener \[[^\]]*\]:%d" % old, log)
    assert m_new and m_old, log
    assert m_new.start() < m_old.start(), "the old listener was closed before the new one opened"

    # The sessions on the old port keep working, in both directions, with a
    # session on the new port.
    assert a.ping() == "result" and b.ping() == "result"
    a.send(B, "still here on the old port")
    m = b.wait_message(frm=A, body="still here on the old port", timeout=LIMIT)
    assert m, b.all_messages
    c = online(im, d, "carol", "c1", port=new)
    c.send(A, "hello from the new port")
    assert a.wait_message(frm=C, body="hello from the new port", timeout=LIMIT), a.all_messages
    a.send(C + "/c1", "hello back")
    assert c.wait_message(frm=A, body="hello back", timeout=LIMIT), c.all_messages
    assert not a.stream_error and not b.stream_error
    # A new connection to the old port is refused.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", old), timeout=1).close()


# --- (c) directory outage and resume ---------------------------------------------------
#
# The changes are made while plucsd is disconnected: slapd is started again
# while plucsd waits in its reconnect back-off (1, 2, 4 s ...), and the
# changes are written before it reconnects; the resumed feed (with the
# cookie) must deliver them. (Offline edits with slapmodify are not used:
# slapmodify gives every entry it rewrites a new entryUUID, i.e. it deletes
# and re-creates entries, and slapd 2.5's syncprov then sometimes lists the
# new UUID as present in the refresh without sending the entry.)

def outage_then(d, ldap, changes):
    """Stops slapd, waits until plucsd failed four reconnect attempts (the
    back-off is 1, 2, 4, 8 s: the next one is 8 s away, room enough for
    slapd's start and the changes on a loaded machine), starts slapd and
    runs changes() at once. Returns (log offset before the outage, time the
    changes were done). Skips, visibly (-rs), when plucsd reconnected
    before the changes were written (timing not met)."""
    off = d.log_size()
    try:
        ldap.stop()
        assert d.wait_log(r"directory: lost connection to", 10, off), log_since(d, off)
        ok = H.wait_until(
            lambda: len(re.findall(r"directory: cannot use ", log_since(d, off))) >= 4, 20, 0.05)
        assert ok, "plucsd did not retry as expected:\n" + log_since(d, off)
        ldap.start()
        changes()
        done = time.monotonic()
        early = re.search(r"directory: reconnected to", log_since(d, off))
    finally:
        if not ldap.running():
            ldap.start()
    if early:
        pytest.skip("plucsd reconnected before the changes were written; timing not met")
    return off, done


def test_outage_changes_arrive_after_resume(plucsd, im, ldap_outage, ldap_undo):
    ldap = ldap_outage
    d = plucsd
    assert d.wait_log(r"directory: change feed active", LIMIT), d.log()[-3000:]
    a = online(im, d, "alice", "desk")
    l = online(im, d, "lena", "l1", status="back later")
    h = online(im, d, "hugo", "h1")
    k = online(im, d, "kai", "k1")
    items = a.roster()
    assert LENA not in items and KAI in items
    assert a.wait_presence(frm=KAI, type="available", timeout=LIMIT)
    a.forget()
    restore = entry_add_ldif(ldap, "(cn=unlabelled)")

    def changes():
        # Sessions stay up while the directory is away.
        for c in (a, l, h, k):
            assert c.ping() == "result"
        ldap_undo.add_value(ldap.group_dn("projects"), "memberUid", "lena")
        ldap_undo.replace(ldap.user_dn("hugo"), "gecos", ["Hugo Hill (changed)"], ["Hugo Hill"])
        ldap_undo.undo.append(restore)
        ldap.delete(ldap.group_dn("unlabelled"))

    off, t = outage_then(d, ldap, changes)
    # Reconnection follows plucsd's back-off (at most 30 s).
    p = a.wait_push(LENA, timeout=30 + LIMIT)
    assert p, "the membership change made during the outage did not arrive: %r\n%s" % (
        a.all_pushes, log_since(d, off))
    lag("resume", "membership change made while disconnected", t, p.t)
    assert (p.item.subscription, p.item.groups) == ("both", ["projects"]), p
    p = a.wait_push(HUGO, timeout=LIMIT, pred=lambda p: p.item.name == "Hugo Hill (changed)")
    assert p, "label change made during the outage: %r" % a.all_pushes
    p = a.wait_push(KAI, timeout=LIMIT, pred=lambda p: p.item.subscription == "remove")
    assert p, "group deleted during the outage: %r" % a.all_pushes
    s = a.wait_presence(frm=LENA, type="available", timeout=LIMIT)
    assert s and s.status == "back later", a.all_presences
    assert a.wait_presence(frm=KAI, type="unavailable", timeout=LIMIT), a.all_presences
    assert roster_view(a) == H.expected_shared_roster(ldap, A)
    log = log_since(d, off)
    assert "change feed started (with cookie)" in log, \
        "the feed did not resume with its cookie:\n" + log[-4000:]
    assert "asks for a full refresh" not in log, log[-4000:]
    # one line per state change
    assert len(re.findall(r"directory: lost connection to", log)) == 1, log
    assert len(re.findall(r"directory: cannot reach any directory server", log)) == 1, log
    assert len(re.findall(r"directory: reconnected to", log)) == 1, log
    # nobody was disconnected (kai is in no group now, but still an account)
    for c in (a, l, h, k):
        assert c.ping() == "result" and not c.stream_error

    # The feed is live again after the resume.
    a.forget()
    t = ldap_undo.delete_value(ldap.group_dn("projects"), "memberUid", "lena")
    p = a.wait_push(LENA, timeout=LIMIT, pred=lambda p: p.item.subscription == "remove")
    assert p, "feed not live after the resume: %r" % a.all_pushes
    lag("membership", "member removed after the resume", t, p.t)


def test_outage_disable_while_disconnected(plucsd, im, ldap_outage, ldap_undo):
    """An account disabled while plucsd is disconnected loses its session
    once the feed resumes; its contacts get unavailable."""
    ldap = ldap_outage
    d = plucsd
    assert d.wait_log(r"directory: change feed active", LIMIT), d.log()[-3000:]
    a = online(im, d, "alice", "desk")
    h = online(im, d, "hugo", "h1")
    record_stream_error(h)
    assert a.wait_presence(frm=HUGO, type="available", timeout=LIMIT)
    a.forget()

    def changes():
        ldap_undo.replace(ldap.user_dn("hugo"), "xmppEnabled", ["FALSE"], ["TRUE"])

    off, t = outage_then(d, ldap, changes)
    assert h.wait_for(lambda: h.t_error is not None or h.disconnected, 30 + LIMIT)
    assert h.stream_error and h.stream_error[0] == "not-authorized", (h.stream_error, log_since(d, off))
    lag("resume", "account disabled while disconnected (stream error)", t, h.t_error)
    assert a.wait_presence(frm=HUGO, type="unavailable", timeout=LIMIT), a.all_presences
    assert a.wait_push(HUGO, timeout=LIMIT, pred=lambda p: p.item.subscription == "remove"), \
        a.all_pushes
    assert a.ping() == "result" and not a.stream_error


# --- (d) polling fallback (slapd without syncprov) ----------------------------------------

class NoSyncLdapEnv(H.LdapEnv):
    """The test data in a slapd without the syncprov overlay."""

    def start(self):
        if self.env:
            return super().start()
        args = [H.LDAP_ENV, "start", self.dir, "--hostname", self.hostname, "--no-syncprov"]
        for f in self.ldifs:
            args += ["--ldif", f]
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("ldap-env start --no-syncprov failed:\n" + r.stdout + r.stderr)
        self.env = self._read_env()


@pytest.fixture(scope="module")
def nosync_ldap(tmp_path_factory):
    env = NoSyncLdapEnv(tmp_path_factory.mktemp("ldap-nosync"),
                        [os.path.join(H.HERE, "ucs-compat.ldif"), os.path.join(H.HERE, "data.ldif")])
    env.start()
    yield env
    env.stop()


@pytest.fixture
def nosync_undo(nosync_ldap):
    u = H.LdapUndo(nosync_ldap)
    yield u
    errors = u.restore()
    if errors:
        pytest.fail("could not restore the directory: %s" % "; ".join(errors), pytrace=False)


@pytest.fixture
def poll_plucsd(nosync_ldap, tmp_path):
    d = tmp_path / "plucsd-poll"
    d.mkdir()
    p = H.Plucsd(d, nosync_ldap, **{"plucs/ldap/poll": str(POLL)})
    p.start()
    yield p
    problems = p.problems()
    if problems:
        pytest.fail("; ".join(problems) + "\n" + p.log()[-6000:], pytrace=False)


def test_polling_fallback(poll_plucsd, im, nosync_undo):
    d, ldap, u = poll_plucsd, nosync_undo.ldap, nosync_undo
    bound = POLL + 2.0
    m = d.wait_log(r"directory: no change feed from (\S+): .*; re-reading the directory every (\d+) s",
                   LIMIT)
    assert m, d.log()[-3000:]
    assert m.group(2) == str(POLL), m.group(0)
    assert "change feed active" not in d.log()
    a = online(im, d, "alice", "desk")
    l = online(im, d, "lena", "l1", status="polled")
    k = online(im, d, "kai", "k1")
    record_stream_error(k)
    assert LENA not in a.roster() and KAI in a.roster()
    a.forget()

    t = u.add_value(ldap.group_dn("projects"), "memberUid", "lena")
    p = a.wait_push(LENA, timeout=bound + 1)
    assert p, "membership change not noticed by polling: %r\n%s" % (a.all_pushes, d.log()[-3000:])
    assert lag("poll-membership", "member added (poll %d s)" % POLL, t, p.t) <= bound
    s = a.wait_presence(frm=LENA, type="available", timeout=LIMIT)
    assert s and s.status == "polled", a.all_presences

    # Deletions: a whole group entry, and a member value.
    a.forget()
    restore = entry_add_ldif(ldap, "(cn=unlabelled)")
    u.undo.append(restore)
    ldap.delete(ldap.group_dn("unlabelled"))
    t = time.monotonic()
    p = a.wait_push(KAI, timeout=bound + 1, pred=lambda p: p.item.subscription == "remove")
    assert p, "deleted group not noticed by polling: %r" % a.all_pushes
    assert lag("poll-delete", "group entry deleted (poll %d s)" % POLL, t, p.t) <= bound
    assert a.wait_presence(frm=KAI, type="unavailable", timeout=LIMIT), a.all_presences
    a.forget()
    t = u.delete_value(ldap.group_dn("projects"), "memberUid", "lena")
    p = a.wait_push(LENA, timeout=bound + 1, pred=lambda p: p.item.subscription == "remove")
    assert p, "removed member value not noticed by polling: %r" % a.all_pushes
    assert lag("poll-delete", "member value removed (poll %d s)" % POLL, t, p.t) <= bound
    assert a.wait_presence(frm=LENA, type="unavailable", timeout=LIMIT), a.all_presences

    # The group comes back (a new entry): kai returns.
    a.forget()
    u.undo.remove(restore)
    ldap.modify(restore)
    t = time.monotonic()
    p = a.wait_push(KAI, timeout=bound + 1, pred=lambda p: p.item.subscription == "both")
    assert p, "re-added group not noticed by polling: %r" % a.all_pushes
    assert lag("poll-membership", "group entry added (poll %d s)" % POLL, t, p.t) <= bound
    assert roster_view(a) == H.expected_shared_roster(ldap, A)

    # A disabled account loses its session.
    t = u.replace(ldap.user_dn("kai"), "xmppEnabled", ["FALSE"], ["TRUE"])
    assert k.wait_for(lambda: k.t_error is not None or k.disconnected, bound + 1)
    assert k.stream_error and k.stream_error[0] == "not-authorized", (k.stream_error, k.disconnected)
    assert lag("poll-disable", "account disabled (poll %d s)" % POLL, t, k.t_error) <= bound
    assert a.wait_presence(frm=KAI, type="unavailable", timeout=LIMIT), a.all_presences
    assert a.ping() == "result" and l.ping() == "result"


def test_polling_domain_added(poll_plucsd, im, nosync_undo):
    """The host object is part of what the poll must notice (issue 4 point 1:
    the feed covers the host object, accounts and groups; the polling
    fallback replaces the feed)."""
    d, ldap, u = poll_plucsd, nosync_undo.ldap, nosync_undo
    bound = POLL + 2.0
    assert d.wait_log(r"directory: no change feed from", LIMIT), d.log()[-3000:]
    assert stream_answer(d.port, "new.test") == "host-unknown"
    t = u.add_value(host_dn(ldap), "xmppDomains", "new.test")
    ok = H.wait_until(lambda: stream_answer(d.port, "new.test", 1) == "features", 35, 0.1)
    seen = time.monotonic()
    assert ok, "new.test was never served (35 s):\n" + d.log()[-3000:]
    v = lag("poll-domain", "domain added (poll %d s)" % POLL, t, seen)
    assert v <= bound, ("domain addition took %.1f s with plucs/ldap/poll=%d (want <= %.0f s): "
                        "the host object is not re-read with the poll" % (v, POLL, bound))
    assert stream_answer(d.port, "a.test") == "features"


# --- lag series for the note (syncrepl feed) -----------------------------------------

def test_lag_series(plucsd, im, ldap, ldap_undo):
    """Repeated membership changes, disables and domain additions; every
    effect within LIMIT; summary lines for the note."""
    d = plucsd
    rounds = 5
    a = online(im, d, "alice", "desk")
    series = {"membership": [], "disable": [], "domain": []}
    gdn = ldap.group_dn("projects")
    for i in range(rounds):
        a.forget()
        t = ldap_undo.add_value(gdn, "memberUid", "lena")
        p = a.wait_push(LENA, timeout=LIMIT, pred=lambda p: p.item.subscription == "both")
        assert p, "round %d: no push for the added member: %r" % (i, a.all_pushes)
        lag("membership", "series: member added", t, p.t, series["membership"])
        a.forget()
        t = ldap_undo.delete_value(gdn, "memberUid", "lena")
        p = a.wait_push(LENA, timeout=LIMIT, pred=lambda p: p.item.subscription == "remove")
        assert p, "round %d: no push for the removed member: %r" % (i, a.all_pushes)
        lag("membership", "series: member removed", t, p.t, series["membership"])

    kdn = ldap.user_dn("kai")
    for i in range(rounds):
        k = im("kai", daemon=d, resource="k%d" % i)
        r = k.login()
        assert r.ok, "round %d: kai cannot log in: %r" % (i, r)
        k.roster()
        k.available()
        record_stream_error(k)
        t = ldap_undo.replace(kdn, "xmppEnabled", ["FALSE"], ["TRUE"])
        k.wait_for(lambda: k.t_error is not None or k.disconnected, LIMIT)
        assert k.stream_error and k.stream_error[0] == "not-authorized", \
            "round %d: %r" % (i, k.stream_error)
        lag("disable", "series: account disabled (stream error)", t, k.t_error, series["disable"])
        off = d.log_size()
        ldap_undo.replace(kdn, "xmppEnabled", ["TRUE"], ["FALSE"])
        ldap_undo.undo.pop()
        ldap_undo.undo.pop()
        assert d.wait_log(r"directory: snapshot \d+", LIMIT, off)

    hdn = host_dn(ldap)
    for i in range(rounds):
        assert H.wait_until(lambda: stream_answer(d.port, "new.test", 1) == "host-unknown", LIMIT)
        t = ldap_undo.add_value(hdn, "xmppDomains", "new.test")
        ok = H.wait_until(lambda: stream_answer(d.port, "new.test", 1) == "features", LIMIT, 0.02)
        seen = time.monotonic()
        assert ok, "round %d: new.test not served within %s s" % (i, LIMIT)
        lag("domain", "series: domain added (new stream accepted)", t, seen, series["domain"])
        ldap_undo.delete_value(hdn, "xmppDomains", "new.test")
        ldap_undo.undo.pop()
        ldap_undo.undo.pop()
    for kind, v in series.items():
        assert len(v) == (2 * rounds if kind == "membership" else rounds), (kind, v)
        print("\nLAG-SUMMARY %s (series): n=%d median=%.3fs worst=%.3fs" % (
            kind, len(v), statistics.median(v), max(v)))
        assert max(v) <= LIMIT
