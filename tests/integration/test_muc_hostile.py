"""Hostile clients against the group chat service (docs/muc.md, "Limits"):
nicknames with control characters or 2 KB long, a 1 MB subject (over the
stanza size: stream error) and one just under it (refused), a flood of 500
joins from one client, history requests with absurd or garbage values, one
invitation stanza naming 50 JIDs, and malformed muc#owner forms. Each must
get the right XMPP error, never crash the server and never stall other
users: after (and during) each case another client's ping is answered
within the test's bound. Raw streams, so that exactly the hostile bytes are
sent."""

import re
import time

import pytest

import plucs_harness as H

MUC = "conference.a.test"
NS_MUC = "http://jabber.org/protocol/muc"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
PING_BOUND = 5.0          # seconds another user may wait for a ping answer
ROOMS_PER_CREATOR = 100   # MUC_ROOMS_PER_CREATOR (src/modules/muc.h)


def login(d, user, resource="raw"):
    """A raw session of USER, available (initial presence sent)."""
    r = H.raw_login(d.port, user, H.password(user), resource=resource)
    r.send("<presence/>")
    # the server reflects it once the session is available
    assert r.read_until(rb"<presence[^>]*from=['\"]%s@a\.test/%s['\"]" % (
        user.encode(), re.escape(resource.encode())), 10), "no presence reflection"
    return r


def presence_from(r, full, timeout=10):
    """The next presence from FULL (room/nick) as text, or None."""
    rx = (rb"<presence(?=[^>]*from=['\"]" + re.escape(full.encode()) +
          rb"['\"])[^>]*(?:/>|>.*?</presence>)")
    m = r.read_until(rx, timeout)
    return m.group(0).decode("utf-8", "replace") if m else None


def iq_answer(r, iq_id, timeout=10):
    rx = (rb"<iq(?=[^>]*id=['\"]" + re.escape(iq_id.encode()) +
          rb"['\"])[^>]*(?:/>|>.*?</iq>)")
    m = r.read_until(rx, timeout)
    return m.group(0).decode("utf-8", "replace") if m else None


def condition(stanza):
    """The defined condition of an error stanza (text), or None."""
    m = re.search(r"<error[^>]*>.*?<([a-z-]+)[^>]*xmlns=['\"]%s['\"]" % re.escape(NS_STANZAS),
                  stanza or "", re.S)
    return m.group(1) if m else None


def is_type(stanza, t):
    m = re.match(r"<\w+[^>]*\btype=['\"]([a-z]+)['\"]", stanza or "")
    return (m.group(1) if m else None) == t


def has_status(stanza, code):
    return re.search(r"<status[^>]*code=['\"]%s['\"]" % code, stanza or "") is not None


def join(r, room, nick, extra=""):
    """Joins ROOM as NICK; returns the answer presence (self-presence or error)."""
    r.send("<presence to='%s@%s/%s'><x xmlns='%s'>%s</x></presence>" % (
        room, MUC, nick, NS_MUC, extra))
    return presence_from(r, "%s@%s/%s" % (room, MUC, nick))


def create_room(r, room, nick="owner"):
    """Creates ROOM as an instant room; returns nothing, asserts success."""
    me = join(r, room, nick)
    assert me is not None and has_status(me, "110"), \
        "could not create %s: %r (is the muc engine in this build?)" % (room, me)
    r.send("<iq type='set' id='inst-%s' to='%s@%s'><query xmlns='%s#owner'>"
           "<x xmlns='jabber:x:data' type='submit'/></query></iq>" % (room, room, MUC, NS_MUC))
    a = iq_answer(r, "inst-%s" % room)
    assert a is not None and is_type(a, "result"), "instant room refused: %r" % a


def responsive(d, user="carol", bound=PING_BOUND):
    """A fresh login of USER pings the server; asserts the answer comes
    within BOUND seconds and the server is alive."""
    assert d.alive(), "plucsd died"
    t0 = time.monotonic()
    c = login(d, user, resource="probe%d" % int(t0 * 1000))
    try:
        c.send("<iq type='get' id='probe' to='a.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        a = iq_answer(c, "probe", timeout=bound)
        assert a is not None, "no ping answer within %ss" % bound
    finally:
        c.close()
    return time.monotonic() - t0


@pytest.fixture
def d(plucsd_factory):
    return plucsd_factory()


# --- nicknames --------------------------------------------------------------------

@pytest.mark.parametrize("nick", ["tab&#9;nick", "nl&#10;nick", "c1&#x85;nick",
                                  "del&#x7f;nick", "bidi&#x202e;nick", ""])
def test_nick_with_control_characters_refused(d, nick):
    a = login(d, "alice")
    create_room(a, "ctl")
    b = login(d, "bob")
    # the router or the room: an occupant JID with a forbidden resource
    b.send("<presence to='ctl@%s/%s'><x xmlns='%s'/></presence>" % (MUC, nick, NS_MUC))
    m = b.read_until(rb"<presence[^>]*type=['\"]error['\"].*?</presence>", 10)
    assert m is not None, "a nickname %r was not refused" % nick
    assert condition(m.group(0).decode()) in ("jid-malformed", "not-acceptable"), m.group(0)
    # the owner, in the room, saw no new occupant
    b.send("<iq type='get' id='bar' to='a.test'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert iq_answer(b, "bar")
    seen = re.findall(rb"<presence[^>]*from=['\"]ctl@[^/]+/([^'\"]*)", a.read_all(0.5))
    assert all(n == b"owner" for n in seen), seen
    responsive(d)


def test_raw_control_byte_in_nick_is_a_stream_error_for_that_client_only(d):
    a = login(d, "alice")
    create_room(a, "ctlraw")
    b = login(d, "bob")
    b.send(b"<presence to='ctlraw@" + MUC.encode() + b"/x\x01y'/>")
    data = b.read_all(10)
    assert b.closed, "a control byte did not end the stream"
    assert H.stream_error_condition(data) in ("not-well-formed", "bad-format", "invalid-xml"), \
        data[-300:]
    # the room and its owner are unaffected
    a.send("<message to='ctlraw@%s' type='groupchat'><body>still here</body></message>" % MUC)
    assert a.read_until(rb"<message[^>]*type=['\"]groupchat['\"].*?still here", 10)
    responsive(d)


def test_nick_of_2kb_refused(d):
    a = login(d, "alice")
    create_room(a, "longnick")
    b = login(d, "bob")
    nick = "n" * 2048
    b.send("<presence to='longnick@%s/%s'><x xmlns='%s'/></presence>" % (MUC, nick, NS_MUC))
    m = b.read_until(rb"<presence[^>]*type=['\"]error['\"].*?</presence>", 10)
    assert m is not None, "a 2 KB nickname was not refused"
    assert condition(m.group(0).decode()) in ("jid-malformed", "not-acceptable"), m.group(0)
    responsive(d)


# --- subject ----------------------------------------------------------------------

def test_subject_of_1mb_is_a_stream_error(d):
    a = login(d, "alice")
    create_room(a, "subj")
    b = login(d, "bob")
    assert has_status(join(b, "subj", "bob"), "110")
    a.send("<message to='subj@%s' type='groupchat'><subject>" % MUC)
    chunk = "s" * 65536
    closed = False
    for _ in range(16):           # 1 MiB in all, bounded
        try:
            a.send(chunk)
        except OSError:
            closed = True
            break
    if not closed:
        try:
            a.send("</subject></message>")
        except OSError:
            pass
    data = a.read_all(10)
    assert a.closed, "a 1 MB subject did not end the stream"
    assert H.stream_error_condition(data) == "policy-violation", data[-300:]
    # bob never got that subject, and the room still works for him
    b.send("<message to='subj@%s' type='groupchat'><body>after</body></message>" % MUC)
    m = b.read_until(rb"<body>after</body>", 10)
    assert m is not None
    assert b"sssssssssssssssss" not in m.string
    responsive(d)


def test_occupant_leaves_when_its_stream_dies(d):
    a = login(d, "alice")
    create_room(a, "ghost")
    b = login(d, "bob")
    assert has_status(join(b, "ghost", "bob"), "110")
    a.close()
    seen = presence_from(b, "ghost@%s/owner" % MUC, timeout=10)
    assert seen is not None and is_type(seen, "unavailable"), "alice stays in the room as a ghost"



def test_subject_just_under_stanza_size_refused(d):
    a = login(d, "alice")
    create_room(a, "subj2")
    a.send("<message to='subj2@%s' type='groupchat' id='big'><subject>%s</subject></message>" % (
        MUC, "t" * 60000))
    m = a.read_until(rb"<message[^>]*type=['\"]error['\"].*?</message>", 10)
    assert m is not None, "a 60 KB subject was accepted"
    assert condition(m.group(0).decode()) in ("not-acceptable", "policy-violation",
                                              "resource-constraint"), m.group(0)
    # the stream stays usable
    a.send("<message to='subj2@%s' type='groupchat'><subject>short</subject></message>" % MUC)
    assert a.read_until(rb"<subject>short</subject>", 10)
    responsive(d)


# --- join flood -------------------------------------------------------------------

def test_join_flood_is_bounded_and_others_keep_being_served(d):
    a = login(d, "alice")
    n = 500
    flood = "".join("<presence to='flood%03d@%s/me'><x xmlns='%s'/></presence>" % (i, MUC, NS_MUC)
                    for i in range(n))
    a.send(flood)
    # while the flood is being handled, another user is served promptly
    took = responsive(d, "carol")
    assert took < PING_BOUND
    answers = {"ok": 0, "error": 0}
    conds = set()
    end = time.monotonic() + 60
    while sum(answers.values()) < n and time.monotonic() < end:
        m = a.read_until(rb"<presence[^>]*from=['\"]flood\d{3}@[^>]*(?:/>|>.*?</presence>)", 5)
        if not m:
            break
        s = m.group(0).decode()
        if is_type(s, "error"):
            answers["error"] += 1
            conds.add(condition(s))
        elif has_status(s, "110"):
            answers["ok"] += 1
    assert sum(answers.values()) == n, "only %r of %d joins answered" % (answers, n)
    assert answers["ok"] <= ROOMS_PER_CREATOR, \
        "one user created %d rooms (limit %d)" % (answers["ok"], ROOMS_PER_CREATOR)
    assert conds <= {"resource-constraint", "not-allowed", "policy-violation"}, conds
    responsive(d)


# --- history ----------------------------------------------------------------------

def history_of(r, room, nick, attrs):
    """Joins with <history ATTRS/>; returns (self-presence or error, the
    number of history messages before the subject)."""
    r.send("<presence to='%s@%s/%s'><x xmlns='%s'><history %s/></x></presence>" % (
        room, MUC, nick, NS_MUC, attrs))
    me = presence_from(r, "%s@%s/%s" % (room, MUC, nick))
    if me is None or is_type(me, "error"):
        return me, 0
    m = r.read_until(rb"<message[^>]*>(?:(?!</message>).)*<subject", 10)
    assert m is not None, "no subject after joining with history %s" % attrs
    before = m.string[:m.end()].decode("utf-8", "replace")
    return me, len(re.findall(r"<delay ", before))


@pytest.mark.parametrize("attrs,garbage", [
    ("maxstanzas='2147483647'", False),
    ("maxstanzas='99999999999999999999'", True),
    ("maxchars='2147483647'", False),
    ("seconds='2147483647'", False),
    ("maxstanzas='-1'", True),
    ("maxstanzas='-2147483648'", True),
    ("maxchars='-5'", True),
    ("seconds='-1'", True),
    ("maxstanzas='abc'", True),
    ("maxstanzas=''", True),
    ("since='not a date'", True),
    ("since='9999-99-99T99:99:99Z'", True),
])
def test_history_requests_with_absurd_values(d, attrs, garbage):
    a = login(d, "alice")
    create_room(a, "hist")
    for i in range(3):
        a.send("<message to='hist@%s' type='groupchat'><body>h%d</body></message>" % (MUC, i))
        assert a.read_until(rb"<body>h%d</body>" % i, 10)
    b = login(d, "bob")
    me, n = history_of(b, "hist", "bob", attrs)
    assert me is not None, "no answer to a join with history %s" % attrs
    if is_type(me, "error"):
        assert garbage, "a valid (if large) history request was refused: %s" % me
        assert condition(me) == "bad-request", me
    else:
        assert has_status(me, "110")
        # never more than the room has, never more than its history length
        assert n <= 3, "%d history messages for %s" % (n, attrs)
        if attrs.startswith(("maxstanzas='2147483647'", "maxchars='2147483647'",
                             "seconds='2147483647'")):
            assert n == 3, "a huge limit must give the whole history (%d)" % n
    responsive(d)


# --- invitations ------------------------------------------------------------------

def test_invitation_to_50_jids_in_one_stanza(d):
    a = login(d, "alice")
    create_room(a, "inv")
    b = login(d, "bob")
    # bob and 49 addresses of nobody: more invitations than one stanza may
    # carry (20) are refused as a whole
    invites = "<invite to='bob@a.test'/>"
    invites += "".join("<invite to='ghost%02d@a.test'/>" % i for i in range(49))
    a.send("<message to='inv@%s' id='inv50'><x xmlns='%s#user'>%s</x></message>" % (
        MUC, NS_MUC, invites))
    # either it is refused as a whole, or each invitee gets at most one
    err = a.read_until(rb"<message[^>]*id=['\"]inv50['\"][^>]*type=['\"]error['\"].*?</message>|"
                       rb"<message[^>]*type=['\"]error['\"][^>]*id=['\"]inv50['\"].*?</message>", 3)
    got = b.read_all(3).decode("utf-8", "replace")
    n = len(re.findall(r"<invite ", got))
    if err:
        assert condition(err.group(0).decode()) in ("bad-request", "not-acceptable",
                                                    "resource-constraint", "policy-violation")
        assert n == 0, "refused, yet bob got %d invitations" % n
    else:
        assert n == 1, "bob got %d invitations from one stanza" % n
    responsive(d)


def test_two_invitations_in_one_stanza_both_relayed(d):
    a = login(d, "alice")
    create_room(a, "inv2")
    b = login(d, "bob")
    c = login(d, "carol")
    a.send("<message to='inv2@%s' id='inv2'><x xmlns='%s#user'><invite to='bob@a.test'/>"
           "<invite to='carol@a.test'/></x></message>" % (MUC, NS_MUC))
    for who in (b, c):
        got = who.read_until(rb"<invite [^>]*from=['\"]alice@a\.test", 5)
        assert got, "an invitation of the two was not relayed"


# --- malformed owner forms --------------------------------------------------------

FORMS = [
    ("<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_maxusers'>"
     "<value>abc</value></field></x>", ("bad-request", "not-acceptable")),
    ("<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_maxusers'>"
     "<value>-5</value></field></x>", ("bad-request", "not-acceptable")),
    ("<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_maxusers'>"
     "<value>99999999999999999999</value></field></x>", ("bad-request", "not-acceptable",
                                                         "clamped")),
    ("<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_historylength'>"
     "<value>-1</value></field></x>", ("bad-request", "not-acceptable")),
    ("<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_persistentroom'>"
     "<value>maybe</value></field></x>", ("bad-request", "not-acceptable")),
    ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
     "<value>urn:example:wrong</value></field></x>", ("bad-request", "not-acceptable")),
    ("<x xmlns='jabber:x:data' type='bogus'/>", ("bad-request", "not-acceptable")),
    ("<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_whois'>"
     "<value>everybody-and-their-dog</value></field></x>", ("bad-request", "not-acceptable")),
    ("<x xmlns='urn:example:not-a-form'/>", ("bad-request", "feature-not-implemented")),
]


@pytest.mark.parametrize("form,conds", FORMS)
def test_malformed_owner_form(d, form, conds):
    i = 1
    a = login(d, "alice")
    create_room(a, "form")
    a.send("<iq type='set' id='f%d' to='form@%s'><query xmlns='%s#owner'>%s</query></iq>" % (
        i, MUC, NS_MUC, form))
    ans = iq_answer(a, "f%d" % i)
    assert ans is not None, "no answer to a malformed owner form"
    if "clamped" in conds and is_type(ans, "result"):
        # an out-of-range number may be clamped to the cap instead
        a.send("<iq type='get' id='cf' to='form@%s'><query xmlns='%s#owner'/></iq>" % (MUC, NS_MUC))
        cf = iq_answer(a, "cf")
        m = re.search(r"var=['\"]muc#roomconfig_maxusers['\"].*?<value>(\d+)</value>", cf or "", re.S)
        assert m and int(m.group(1)) <= 1000, cf
    else:
        assert is_type(ans, "error"), "a malformed owner form was accepted: %s" % form
        assert condition(ans) in conds, ans
    # the room still works for its owner
    a.send("<message to='form@%s' type='groupchat'><body>after form</body></message>" % MUC)
    assert a.read_until(rb"<body>after form</body>", 10)
    responsive(d)


def test_owner_form_from_non_owner_forbidden(d):
    a = login(d, "alice")
    create_room(a, "form2")
    b = login(d, "bob")
    assert has_status(join(b, "form2", "bob"), "110")
    b.send("<iq type='set' id='nf' to='form2@%s'><query xmlns='%s#owner'>"
           "<x xmlns='jabber:x:data' type='submit'/></query></iq>" % (MUC, NS_MUC))
    ans = iq_answer(b, "nf")
    assert ans is not None and is_type(ans, "error") and condition(ans) == "forbidden", ans
    responsive(d)
