"""Per-user quotas and limits (issue "Hardening", defects 5, 6 (sessions
per user) and 10), against a real slapd and plucsd with raw clients:

- plucs/quota/roster: a roster set adding an item beyond it, and the user's
  own subscription request to a new contact, are refused with
  <resource-constraint/> (type wait) and a text; editing an existing item
  still works; one log line per user and limit however often it is hit;
  a registry reload changes the limit at once.
- roster item limits (RFC 6121 2.3.3): a name or group name over 1023
  bytes, or more than 100 groups, is <not-acceptable/>.
- plucs/quota/private: private XML (XEP-0049) beyond the byte quota is
  refused with <resource-constraint/>, nothing of the set is written; live.
- plucs/quota/blocklist: blocking beyond it is refused with
  <resource-constraint/>, the list unchanged; live.
- plucs/c2s/max_sessions: a login beyond it ends the user's oldest session
  with the stream error <conflict/> (as ejabberd does), the newest stay;
  live.
- directory labels with a control character (and bytes that are not
  UTF-8 where slapd takes them) still give every roster XML a client can
  parse.
"""

import itertools
import os
import re
import sys
from xml.etree import ElementTree as ET

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plucs_harness as H  # noqa: E402

NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
_ids = itertools.count(1)


def login(p, user, resource="q"):
    return H.raw_login(p.port, H.jid(user), H.password(user), domain=H.USERS[user][0],
                       resource=resource)


def local(tag):
    return tag.split("}")[-1]


def iq(r, body, typ="set", timeout=10):
    """Sends an iq with BODY; returns the answer as an Element (namespaces
    kept in the tags of the payload, the iq itself in the stream's)."""
    i = "qt%d" % next(_ids)
    r.send("<iq type='%s' id='%s'>%s</iq>" % (typ, i, body))
    m = r.read_until(r"<iq[^>]*id=['\"]%s['\"](?:[^>]*/>|.*?</iq>)" % i, timeout)
    assert m, "no answer to iq %s (%s)" % (i, body[:80])
    return ET.fromstring(m.group(0))


def error_of(x):
    """(type, condition, text) of a stanza error answer, or None for a result."""
    if x.get("type") != "error":
        return None
    e = next(c for c in x if local(c.tag) == "error")
    cond = next(local(c.tag) for c in e if local(c.tag) != "text" and NS_STANZAS in c.tag)
    text = next((c.text for c in e if local(c.tag) == "text"), None)
    return e.get("type"), cond, text


def roster_set(r, contact, name=None, groups=()):
    attrs = " name='%s'" % name if name is not None else ""
    g = "".join("<group>%s</group>" % x for x in groups)
    return iq(r, "<query xmlns='jabber:iq:roster'><item jid='%s'%s>%s</item></query>"
              % (contact, attrs, g))


def reload_with(p, **registry):
    """Writes the registry with these changes and reloads it (SIGHUP)."""
    off = p.log_size()
    p.write_registry(registry)
    p.sighup()
    assert p.wait_log(r"reload: registry '.*' applied", 15, off), p.log()[-3000:]


def count_log(p, pattern, start=0):
    return len(re.findall(pattern, p.log()[start:]))


# --- roster ----------------------------------------------------------------------

def test_roster_quota(plucsd_factory):
    p = plucsd_factory(**{"plucs/quota/roster": "3"})
    r = login(p, "nora")
    for k in range(3):
        assert error_of(roster_set(r, "c%d@x.test" % k, name="C%d" % k)) is None
    off = p.log_size()
    # beyond the quota: resource-constraint, with a text; several times
    for k in range(3):
        e = error_of(roster_set(r, "new%d@x.test" % k))
        assert e is not None and e[:2] == ("wait", "resource-constraint"), e
        assert e[2] and "contact list is full" in e[2]
    # editing an existing item adds nothing: allowed
    assert error_of(roster_set(r, "c0@x.test", name="Renamed", groups=["G"])) is None
    # the user's own subscription request to a new contact would add an item
    r.send("<presence type='subscribe' to='sub@x.test'/>")
    m = r.read_until(r"<presence[^>]*type=['\"]error['\"].*?</presence>", 10)
    assert m, "no error for a subscribe beyond the roster quota"
    assert b"resource-constraint" in m.group(0)
    # one log line for all these refusals
    assert p.wait_log(r"quota: nora@a\.test refused by plucs/quota/roster \(limit 3\)", 5, off)
    assert count_log(p, r"refused by plucs/quota/roster", off) == 1, p.log()[off:]
    # the stored roster has exactly the three items
    got = iq(r, "<query xmlns='jabber:iq:roster'/>", "get")
    jids = sorted(i.get("jid") for i in got.iter("{jabber:iq:roster}item"))
    assert [j for j in jids if j.endswith("@x.test")] == ["c0@x.test", "c1@x.test", "c2@x.test"]
    # live: a higher quota applies at once
    reload_with(p, **{"plucs/quota/roster": "4"})
    assert error_of(roster_set(r, "new0@x.test")) is None
    e = error_of(roster_set(r, "new1@x.test"))
    assert e and e[1] == "resource-constraint"


def test_roster_item_limits(plucsd_factory):
    p = plucsd_factory()
    r = login(p, "oscar")
    assert error_of(roster_set(r, "a@x.test", name="n" * 1023, groups=["g" * 1023])) is None
    e = error_of(roster_set(r, "b@x.test", name="n" * 1024))
    assert e and e[:2] == ("modify", "not-acceptable") and e[2], e
    e = error_of(roster_set(r, "b@x.test", groups=["g" * 1024]))
    assert e and e[1] == "not-acceptable", e
    e = error_of(roster_set(r, "b@x.test", groups=["g%d" % k for k in range(101)]))
    assert e and e[1] == "not-acceptable", e
    assert error_of(roster_set(r, "b@x.test", groups=["g%d" % k for k in range(100)])) is None


# --- private XML storage -----------------------------------------------------------

def private_set(r, name, size):
    return iq(r, "<query xmlns='jabber:iq:private'><%s xmlns='urn:test:quota'>%s</%s></query>"
              % (name, "A" * size, name))


def private_get(r, name):
    x = iq(r, "<query xmlns='jabber:iq:private'><%s xmlns='urn:test:quota'/></query>" % name,
           "get")
    el = x.find("{jabber:iq:private}query/{urn:test:quota}%s" % name)
    return el.text if el is not None else None


def test_private_quota(plucsd_factory):
    # one element of 150 characters takes about 200 bytes (element, namespace, name)
    p = plucsd_factory(**{"plucs/quota/private": "300"})
    r = login(p, "nora")
    assert error_of(private_set(r, "n1", 150)) is None
    off = p.log_size()
    e = error_of(private_set(r, "n2", 150))
    assert e and e[:2] == ("wait", "resource-constraint") and e[2], e
    assert private_get(r, "n2") is None           # nothing of the refused set
    assert private_get(r, "n1") == "A" * 150      # what was there stays
    # replacing the stored element by a smaller one is fine
    assert error_of(private_set(r, "n1", 50)) is None
    assert p.wait_log(r"quota: nora@a\.test refused by plucs/quota/private \(limit 300\)", 5, off)
    # a set of several elements is all or nothing
    x = iq(r, "<query xmlns='jabber:iq:private'><m1 xmlns='urn:test:quota'>%s</m1>"
              "<m2 xmlns='urn:test:quota'>%s</m2></query>" % ("B" * 60, "B" * 60))
    assert error_of(x) and error_of(x)[1] == "resource-constraint"
    assert private_get(r, "m1") is None
    # live
    reload_with(p, **{"plucs/quota/private": "1000"})
    assert error_of(private_set(r, "n2", 150)) is None
    assert private_get(r, "n2") == "A" * 150


# --- blocklist -----------------------------------------------------------------------

def block(r, *jids):
    return iq(r, "<block xmlns='urn:xmpp:blocking'>%s</block>"
              % "".join("<item jid='%s'/>" % j for j in jids))


def test_blocklist_quota(plucsd_factory):
    p = plucsd_factory(**{"plucs/quota/blocklist": "2"})
    r = login(p, "nora")
    assert error_of(block(r, "b1@evil.test", "b2@evil.test")) is None
    off = p.log_size()
    e = error_of(block(r, "b3@evil.test"))
    assert e and e[:2] == ("wait", "resource-constraint") and e[2] and "block list" in e[2], e
    assert error_of(block(r, "b1@evil.test")) is None   # already blocked: adds nothing
    got = iq(r, "<blocklist xmlns='urn:xmpp:blocking'/>", "get")
    items = sorted(i.get("jid") for i in got.iter("{urn:xmpp:blocking}item"))
    assert items == ["b1@evil.test", "b2@evil.test"]
    assert p.wait_log(r"quota: nora@a\.test refused by plucs/quota/blocklist \(limit 2\)", 5, off)
    reload_with(p, **{"plucs/quota/blocklist": "3"})
    assert error_of(block(r, "b3@evil.test")) is None


# --- sessions per user ------------------------------------------------------------------

def ping(r):
    x = iq(r, "<ping xmlns='urn:xmpp:ping'/>", "get", timeout=5)
    return x.get("type") == "result"


def test_session_limit_ends_oldest(plucsd_factory):
    p = plucsd_factory(**{"plucs/c2s/max_sessions": "2"})
    r1 = login(p, "alice", "one")
    r2 = login(p, "alice", "two")
    off = p.log_size()
    r3 = login(p, "alice", "three")
    # the oldest session ends with the stream error conflict and a text
    m = r1.read_until(r"<stream:error>.*?</stream:error>", 10)
    assert m, "the oldest session was not ended"
    assert H.stream_error_condition(m.group(0)) == "conflict"
    assert b"too many places" in m.group(0)
    assert r1.wait_closed(10)
    # the two newest stay
    assert ping(r2) and ping(r3)
    assert p.wait_log(r"c2s: alice@a\.test/one ended with conflict: .*plucs/c2s/max_sessions=2",
                      5, off)
    # live: with 3 allowed, a third session ends nobody
    reload_with(p, **{"plucs/c2s/max_sessions": "3"})
    r4 = login(p, "alice", "four")
    assert ping(r2) and ping(r3) and ping(r4)
    # ... and a fourth ends the oldest left (two)
    r5 = login(p, "alice", "five")
    m = r2.read_until(r"<stream:error>.*?</stream:error>", 10)
    assert m and H.stream_error_condition(m.group(0)) == "conflict"
    assert ping(r3) and ping(r4) and ping(r5)
    for r in (r2, r3, r4, r5):
        r.close()


# --- directory strings that XML cannot carry -----------------------------------------------

def test_directory_labels_sanitised(plucsd_factory, ldap, ldap_undo):
    """A control character in bob's gecos (the user label) and in a group's
    description (the group label here) must not break alice's roster."""
    import base64
    bob = ldap.user_dn("bob")
    staff = ldap.group_dn("staff")
    bad_gecos = b"Bob\x01 Brown"
    bad_desc = b"Sta\x02ff"

    def b64(v):
        return base64.b64encode(v).decode()

    ldap_undo.modify("dn: %s\nchangetype: modify\nreplace: gecos\ngecos:: %s\n" % (bob, b64(bad_gecos)),
                     "dn: %s\nchangetype: modify\nreplace: gecos\ngecos: Bob Brown\n" % bob)
    ldap_undo.modify("dn: %s\nchangetype: modify\nreplace: description\ndescription:: %s\n"
                     % (staff, b64(bad_desc)),
                     "dn: %s\nchangetype: modify\nreplace: description\ndescription: Staff\n" % staff)
    # displayName with bytes that are not UTF-8, where slapd lets them in
    try:
        ldap_undo.modify("dn: %s\nchangetype: modify\nreplace: displayName\ndisplayName:: %s\n"
                         % (bob, b64(b"Bob \xff\x01")),
                         "dn: %s\nchangetype: modify\nreplace: displayName\n"
                         "displayName: Bob Brown\n" % bob)
    except Exception:
        ldap_undo.undo.pop()        # refused by slapd's syntax check: nothing to undo
    p = plucsd_factory(**{"plucs/grouplabel": "description"})
    r = login(p, "alice")
    # the raw answer must be XML a client can parse (ET raises otherwise)
    got = iq(r, "<query xmlns='jabber:iq:roster'/>", "get")
    items = {i.get("jid"): i for i in got.iter("{jabber:iq:roster}item")}
    assert "bob@a.test" in items, sorted(items)
    assert items["bob@a.test"].get("name") == "Bob Brown"
    groups = [g.text for g in items["bob@a.test"].iter("{jabber:iq:roster}group")]
    assert "Staff" in groups, groups
    # bob's vCard still parses too
    r.send("<iq type='get' id='vc1' to='bob@a.test'><vCard xmlns='vcard-temp'/></iq>")
    m = r.read_until(r"<iq[^>]*id=['\"]vc1['\"](?:[^>]*/>|.*?</iq>)", 10)
    assert m, "no vCard answer"
    v = ET.fromstring(m.group(0))
    assert v.get("type") == "result"
    # and another user's roster push path: the roster of a user in the same group
    r2 = login(p, "carol")
    got = iq(r2, "<query xmlns='jabber:iq:roster'/>", "get")
    assert any(i.get("jid") == "bob@a.test" for i in got.iter("{jabber:iq:roster}item"))
