"""vCards from the directory (XEP-0054), avatar hashes in presence
(XEP-0153) and the user directory search (XEP-0055 with XEP-0004 forms),
issue 3 points 6 and 7, against a real slapd.

carol (data.ldif) carries every vCard attribute including a JPEG. The
search tests add their own accounts in the domain s.test, which only the
daemons started here serve (plucs/domains), so no other test sees them:
55 "member" accounts for the 50-result limit, uids with *, ( and \\ for
escaping, a disabled account and a searcher."""

import base64
import hashlib
import os
import re
import time
from xml.etree import ElementTree as ET

import pytest

import plucs_harness as H

NS_V = "vcard-temp"
NS_VU = "vcard-temp:x:update"
NS_S = "jabber:iq:search"
NS_X = "jabber:x:data"
NS_ST = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_XML = "http://www.w3.org/XML/1998/namespace"
NS_C = "jabber:client"
NS_INFO = "http://jabber.org/protocol/disco#info"

S_DOMAIN = "s.test"
SEARCH_DOMAINS = {"plucs/domains": "a.test b.test " + S_DOMAIN}
MEMBERS = 55


def carol_photo():
    """The jpegPhoto bytes of carol in data.ldif."""
    with open(os.path.join(H.HERE, "data.ldif")) as f:
        text = f.read().replace("\n ", "")
    m = re.search(r"^dn: uid=carol,.*?^jpegPhoto:: (\S+)$", text, re.M | re.S)
    return base64.b64decode(m.group(1))


# --- helpers -------------------------------------------------------------------

def error_of(r):
    """(type, condition, text, text's xml:lang) of an error reply."""
    assert r["type"] == "error", ET.tostring(r.xml)
    e = r.xml.find("{%s}error" % NS_C)
    conds = [c.tag.split("}")[1] for c in e
             if c.tag.startswith("{%s}" % NS_ST) and not c.tag.endswith("}text")]
    t = e.find("{%s}text" % NS_ST)
    return (e.get("type"), conds[0] if conds else None,
            t.text if t is not None else None,
            t.get("{%s}lang" % NS_XML) if t is not None else None)


def vcard_iq(c, to=None, kind="get", lang=None, payload=None):
    iq = c.x.make_iq_set(ito=to) if kind == "set" else c.x.make_iq_get(ito=to)
    if lang:
        iq.xml.set("{%s}lang" % NS_XML, lang)
    iq.append(payload if payload is not None else ET.Element("{%s}vCard" % NS_V))
    return c.iq(iq)


def vcard_of(r):
    assert r["type"] == "result", ET.tostring(r.xml)
    vc = r.xml.find("{%s}vCard" % NS_V)
    assert vc is not None, ET.tostring(r.xml)
    return vc


def vtext(vc, path):
    el = vc.find("/".join("{%s}%s" % (NS_V, p) for p in path.split("/")))
    return el.text if el is not None else None


def collect_presence(c):
    got = []
    c.x.add_event_handler("presence", lambda p: got.append(p))
    return got


def photo_hashes(p):
    """The <photo/> texts of every vcard-temp:x:update element ('' for empty)."""
    return [(ph.text or "") for x in p.xml.findall("{%s}x" % NS_VU)
            for ph in x.findall("{%s}photo" % NS_VU)]


def wait_presence(c, got, frm, pred=lambda p: True, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for p in got:
            if str(p["from"]) == frm and p["type"] in ("available", "") and pred(p):
                return p
        c.pump(0.05)
    return None


def search_iq(c, to, fields=None, legacy=None, kind="set", lang=None, form_type=None):
    """A jabber:iq:search get, or a set with a submitted form (fields,
    through slixmpp's xep_0055; built by hand when form_type is given) or
    legacy children (legacy); returns the reply."""
    if kind == "get":
        iq = c.x.make_iq_get(ito=to)
        iq.append(ET.Element("{%s}query" % NS_S))
    elif form_type is not None:
        iq = c.x.make_iq_set(ito=to)
        q = ET.Element("{%s}query" % NS_S)
        x = ET.SubElement(q, "{%s}x" % NS_X, type="submit")
        for var, val in ([("FORM_TYPE", form_type)] if form_type else []) + list(fields.items()):
            f = ET.SubElement(x, "{%s}field" % NS_X, var=var)
            ET.SubElement(f, "{%s}value" % NS_X).text = val
        iq.append(q)
    elif fields is not None:
        iq = c.x["xep_0055"].make_search_iq(ito=to)
        for var, val in fields.items():
            iq["search"]["form"].add_field(var=var, value=val)
    else:
        iq = c.x.make_iq_set(ito=to)
        q = ET.Element("{%s}query" % NS_S)
        for name, val in (legacy or {}).items():
            ET.SubElement(q, "{%s}%s" % (NS_S, name)).text = val
        iq.append(q)
    if lang:
        iq.xml.set("{%s}lang" % NS_XML, lang)
    return c.iq(iq)


def form_of(r):
    assert r["type"] == "result", ET.tostring(r.xml)
    x = r.xml.find("{%s}query/{%s}x" % (NS_S, NS_X))
    assert x is not None, ET.tostring(r.xml)
    return x


def rows(r):
    """The items of a result form as dicts var -> value."""
    out = []
    for item in form_of(r).findall("{%s}item" % NS_X):
        row = {}
        for f in item.findall("{%s}field" % NS_X):
            v = f.find("{%s}value" % NS_X)
            row[f.get("var")] = (v.text or "") if v is not None else ""
        out.append(row)
    return out


def jids(r):
    return [row["jid"] for row in rows(r)]


def login(client, user, daemon, plugins=("xep_0054",), **kw):
    c = client(user, daemon=daemon, **kw)
    for p in plugins:
        c.x.register_plugin(p)
    assert c.login().ok
    return c


# --- fixtures --------------------------------------------------------------------

def _user(ldap, uid, given, sn, mail, enabled="TRUE", pw=None, n=0):
    dn = "uid=%s,cn=users,%s" % (uid.replace("\\", "\\5c").replace("*", "\\2a")
                                 .replace("(", "\\28"), ldap.BASE)
    lines = ["dn: " + dn, "objectClass: top", "objectClass: person",
             "objectClass: organizationalPerson", "objectClass: inetOrgPerson",
             "objectClass: univentionXMPPAccount",
             "uid: " + uid, "cn: %s %s" % (given, sn), "sn: " + sn,
             "givenName: " + given, "mail: " + mail,
             "xmppEnabled: " + enabled, "xmppDomain: " + S_DOMAIN]
    if pw:
        lines.append("userPassword: " + pw)
    return dn, "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def search_users(ldap):
    """Accounts of s.test (added once for this module, removed after it)."""
    entries = []
    for i in range(1, MEMBERS + 1):
        entries.append(_user(ldap, "member%03d" % i, "Many", "Member%03d" % i,
                             "member%03d@s.test" % i))
    entries += [
        _user(ldap, "seeker", "Sam", "Seeker", "seeker@s.test", pw="seeker-secret"),
        _user(ldap, "star*", "Stella", "Star", "star@s.test"),
        _user(ldap, "starless", "Stan", "Starless", "starless@s.test"),
        _user(ldap, "paren(x", "Percy", "Paren", "paren@s.test"),
        _user(ldap, "back\\slash", "Bea", "Backslash", "back@s.test"),
        _user(ldap, "tricky", "Tom", "A(B)C*\\D", "tricky@s.test"),
        _user(ldap, "sleeper", "Many", "Sleeper", "sleeper@s.test", enabled="FALSE"),
    ]
    ldap.add("\n".join(ldif for _, ldif in entries))
    yield
    for dn, _ in entries:
        try:
            ldap.delete(dn)
        except RuntimeError:
            pass


@pytest.fixture
def searchd(plucsd_factory, search_users):
    return plucsd_factory(**SEARCH_DOMAINS)


def seeker(client, daemon):
    c = client("seeker@s.test", "seeker-secret", daemon=daemon)
    c.x.register_plugin("xep_0055")
    assert c.login().ok
    return c


# --- vCard -------------------------------------------------------------------------

def test_disco_advertises_vcard_and_search(plucsd, client):
    c = client("alice", daemon=plucsd)
    assert c.login().ok
    feats = c.disco_info("a.test")
    assert "vcard-temp" in feats, feats
    assert "jabber:iq:search" in feats, feats


def test_own_vcard_has_every_field_from_ldap(plucsd, client):
    c = login(client, "carol", plucsd)
    for to in (None, "carol@a.test"):
        vc = vcard_of(vcard_iq(c, to=to))
        assert vtext(vc, "FN") == "Carol Clark"
        assert vtext(vc, "N/FAMILY") == "Clark"
        assert vtext(vc, "N/GIVEN") == "Carol"
        assert vtext(vc, "NICKNAME") == "carol"
        # mailPrimaryAddress wins over mail
        assert vtext(vc, "EMAIL/USERID") == "Carol.Clark@a.test"
        assert vc.find("{%s}EMAIL/{%s}INTERNET" % (NS_V, NS_V)) is not None
        assert vc.find("{%s}EMAIL/{%s}PREF" % (NS_V, NS_V)) is not None
        assert vtext(vc, "TEL/NUMBER") == "+49 421 22232-0"
        assert vc.find("{%s}TEL/{%s}VOICE" % (NS_V, NS_V)) is not None
        assert vc.find("{%s}TEL/{%s}WORK" % (NS_V, NS_V)) is not None
        assert vtext(vc, "ORG/ORGNAME") == "Clark & Partners"
        assert vtext(vc, "ADR/STREET") == "Mary-Somerville-Str. 1"
        assert vtext(vc, "ADR/LOCALITY") == "Bremen"
        assert vtext(vc, "ADR/PCODE") == "28359"
        assert vc.find("{%s}ADR/{%s}WORK" % (NS_V, NS_V)) is not None
        assert vtext(vc, "BDAY") == "1985-04-12"
        assert vtext(vc, "PHOTO/TYPE") == "image/jpeg"
        assert base64.b64decode(vtext(vc, "PHOTO/BINVAL")) == carol_photo()


def test_vcard_of_colleague_through_slixmpp(plucsd, client):
    a = login(client, "alice", plucsd)
    r = a.run(a.x["xep_0054"].get_vcard("carol@a.test"), 6)
    v = r["vcard_temp"]
    assert v["FN"] == "Carol Clark"
    assert v["N"]["FAMILY"] == "Clark" and v["N"]["GIVEN"] == "Carol"
    assert "1985-04-12" in str(v["BDAY"])
    assert v["PHOTO"]["TYPE"] == "image/jpeg"
    assert v["PHOTO"]["BINVAL"] == carol_photo()
    # an entry without the optional attributes: only what is there
    vc = vcard_of(vcard_iq(a, to="bob@a.test"))
    assert vtext(vc, "FN") == "Bob Brown"
    assert vtext(vc, "EMAIL/USERID") == "bob@a.test"       # mail (no mailPrimaryAddress)
    for absent in ("PHOTO", "BDAY", "TEL", "ORG", "ADR"):
        assert vc.find("{%s}%s" % (NS_V, absent)) is None, absent
    # FN when sn/givenName would be odd: metacharacters in the uid are fine
    vc = vcard_of(vcard_iq(a, to="paren(s)*@a.test"))
    assert vtext(vc, "NICKNAME") == "paren(s)*"


def test_unknown_disabled_and_other_domain_look_alike(plucsd, client):
    a = login(client, "alice", plucsd)
    for to in ("nobody@a.test", "erin@a.test", "dave@b.test", "nodomain@a.test",
               "plainuser@a.test", "*@a.test"):
        t, cond, _, _ = error_of(vcard_iq(a, to=to))
        assert (t, cond) == ("cancel", "service-unavailable"), to
    # the server itself has no vCard
    t, cond, _, _ = error_of(vcard_iq(a, to="a.test"))
    assert cond == "item-not-found"


def test_vcard_set_not_allowed_with_text(plucsd, client):
    c = login(client, "carol", plucsd)
    mine = ET.Element("{%s}vCard" % NS_V)
    ET.SubElement(mine, "{%s}FN" % NS_V).text = "Someone Else"
    t, cond, text, lang = error_of(vcard_iq(c, kind="set", payload=mine))
    assert (t, cond) == ("cancel", "not-allowed")
    assert "directory" in text and lang == "en", text
    t, cond, text, lang = error_of(vcard_iq(c, kind="set", lang="de", payload=mine))
    assert cond == "not-allowed" and "Verzeichnis" in text and lang == "de", text
    # nothing changed
    assert vtext(vcard_of(vcard_iq(c)), "FN") == "Carol Clark"


# --- avatar hash (XEP-0153) ------------------------------------------------------------

def test_avatar_hash_in_directed_presence(plucsd, client):
    want = hashlib.sha1(carol_photo()).hexdigest()
    b = login(client, "bob", plucsd, resource="desk")
    got = collect_presence(b)
    b.send_presence()
    c = login(client, "carol", plucsd)
    a = login(client, "alice", plucsd)
    # a vCard round trip makes sure the hash fetched at bind is known
    vcard_of(vcard_iq(c))
    vcard_of(vcard_iq(a))
    # a client-supplied update element is replaced by the directory's
    c.x.send_presence(pto="bob@a.test/desk")
    p = wait_presence(b, got, c.jid, lambda p: photo_hashes(p))
    assert p is not None, "no presence with an avatar hash from carol"
    assert photo_hashes(p) == [want]
    got.clear()
    c.send_raw("<presence to='bob@a.test/desk'><x xmlns='%s'><photo>%s</photo></x>"
               "<x xmlns='%s'/></presence>" % (NS_VU, "ab" * 20, NS_VU))
    p = wait_presence(b, got, c.jid, lambda p: photo_hashes(p))
    assert p is not None and photo_hashes(p) == [want], p and ET.tostring(p.xml)
    # no photo: an empty <photo/>
    a.x.send_presence(pto="bob@a.test/desk")
    p = wait_presence(b, got, a.jid)
    assert p is not None and photo_hashes(p) == [""], p and ET.tostring(p.xml)


def test_avatar_hash_in_broadcast_presence(plucsd, client):
    """bob and carol share the group staff: carol's initial presence reaches
    bob with her photo's hash (also when carol sends it right after
    login, before anything else)."""
    want = hashlib.sha1(carol_photo()).hexdigest()
    b = login(client, "bob", plucsd)
    got = collect_presence(b)
    b.send_presence()
    c = login(client, "carol", plucsd)
    c.x.send_presence()
    p = wait_presence(b, got, c.jid, lambda p: want in photo_hashes(p), timeout=8)
    assert p is not None, [ET.tostring(x.xml) for x in got]
    assert photo_hashes(p) == [want]


# --- search --------------------------------------------------------------------------------

def test_search_form(plucsd, client):
    a = client("alice", daemon=plucsd)
    a.x.register_plugin("xep_0055")
    assert a.login().ok
    r = search_iq(a, "a.test", kind="get")
    x = form_of(r)
    assert x.get("type") == "form"
    fields = {f.get("var"): f for f in x.findall("{%s}field" % NS_X)}
    assert fields["FORM_TYPE"].get("type") == "hidden"
    assert fields["FORM_TYPE"].find("{%s}value" % NS_X).text == NS_S
    for var, label in (("user", "User ID"), ("given", "Given name"),
                       ("family", "Family name"), ("email", "E-mail address")):
        assert fields[var].get("type") == "text-single"
        assert fields[var].get("label") == label
    q = r.xml.find("{%s}query" % NS_S)
    assert q.find("{%s}instructions" % NS_S).text
    r = search_iq(a, "a.test", kind="get", lang="de")
    labels = {f.get("var"): f.get("label") for f in form_of(r).findall("{%s}field" % NS_X)}
    assert labels["given"] == "Vorname" and labels["family"] == "Nachname"


def test_search_results_own_domain_only(plucsd, client):
    a = client("alice", daemon=plucsd)
    a.x.register_plugin("xep_0055")
    assert a.login().ok
    r = search_iq(a, "a.test", {"given": "carol"})
    assert rows(r) == [{"jid": "carol@a.test", "user": "carol", "given": "Carol",
                        "family": "Clark", "email": "Carol.Clark@a.test"}]
    x = form_of(r)
    assert x.get("type") == "result"
    reported = [f.get("var") for f in x.findall("{%s}reported/{%s}field" % (NS_X, NS_X))]
    assert reported == ["jid", "user", "given", "family", "email"]
    # case-insensitive substring, fields ANDed; mailPrimaryAddress searched
    assert jids(search_iq(a, "a.test", {"family": "LARK"})) == ["carol@a.test"]
    assert jids(search_iq(a, "a.test", {"email": "clark@"})) == ["carol@a.test"]
    assert jids(search_iq(a, "a.test", {"given": "b", "family": "brown"})) == ["bob@a.test"]
    assert jids(search_iq(a, "a.test", {"given": "bob", "family": "clark"})) == []
    # FORM_TYPE ignored (the plugin sends it; a wrong one changes nothing)
    assert jids(search_iq(a, "a.test", {"user": "carol"}, form_type="urn:example")) == \
        ["carol@a.test"]
    assert jids(search_iq(a, "a.test", {"user": "carol"}, form_type="")) == ["carol@a.test"]
    # other domains never: dave is in b.test, erin is disabled
    assert jids(search_iq(a, "a.test", {"given": "dave"})) == []
    assert jids(search_iq(a, "a.test", {"given": "erin"})) == []
    everyone = jids(search_iq(a, "a.test", {}))
    assert "alice@a.test" in everyone and "carol@a.test" in everyone
    assert all(j.endswith("@a.test") for j in everyone), everyone
    assert "erin@a.test" not in everyone and "nodomain@a.test" not in everyone
    # another served domain's JID does not offer the service to alice
    t, cond, _, _ = error_of(search_iq(a, "b.test", {"given": "dave"}))
    assert cond == "service-unavailable"
    t, cond, _, _ = error_of(search_iq(a, "b.test", kind="get"))
    assert cond == "service-unavailable"
    # nor does an account's JID
    t, cond, _, _ = error_of(search_iq(a, "bob@a.test", {"given": "bob"}))
    assert cond == "service-unavailable"


def test_search_metacharacters_are_literal(client, searchd):
    s = seeker(client, searchd)
    assert jids(search_iq(s, S_DOMAIN, {"user": "*"})) == ["star*@s.test"]
    assert jids(search_iq(s, S_DOMAIN, {"user": "("})) == ["paren(x@s.test"]
    assert jids(search_iq(s, S_DOMAIN, {"user": "\\"})) == ["back\\slash@s.test"]
    assert jids(search_iq(s, S_DOMAIN, {"user": "star"})) == ["star*@s.test", "starless@s.test"]
    assert jids(search_iq(s, S_DOMAIN, {"family": "(b)c*\\"})) == ["tricky@s.test"]
    # injection attempts are one literal value: nothing matches, no error
    for evil in (")(uid=*", "*)(|(uid=*", "\\2a", "x)(xmppDomain=a.test"):
        r = search_iq(s, S_DOMAIN, {"user": evil})
        assert r["type"] == "result" and jids(r) == [], evil
    # the a.test account with metacharacters, from a.test
    a = client("alice", daemon=searchd)
    a.x.register_plugin("xep_0055")
    assert a.login().ok
    assert jids(search_iq(a, "a.test", {"user": "(s)*"})) == ["paren(s)*@a.test"]
    # s.test accounts never show up for a.test, nor a.test ones for s.test
    assert jids(search_iq(a, "a.test", {"given": "many"})) == []
    assert jids(search_iq(s, S_DOMAIN, {"given": "carol"})) == []


def test_search_at_most_50_results(client, searchd):
    s = seeker(client, searchd)
    r = search_iq(s, S_DOMAIN, {"given": "MANY"})
    got = jids(r)
    assert len(got) == 50, len(got)
    assert got == sorted(got)
    assert all(j.startswith("member") for j in got)     # never the disabled sleeper
    title = form_of(r).find("{%s}title" % NS_X)
    assert title is not None and "50" in title.text
    # a narrower search is complete
    r = search_iq(s, S_DOMAIN, {"given": "many", "family": "member04"})
    assert jids(r) == ["member%03d@s.test" % i for i in range(40, 50)]
    assert "50" not in (form_of(r).find("{%s}title" % NS_X).text or "")
    assert jids(search_iq(s, S_DOMAIN, {"email": "member002@"})) == ["member002@s.test"]


def test_search_legacy_fields(client, searchd):
    s = seeker(client, searchd)
    r = search_iq(s, S_DOMAIN, legacy={"nick": "star", "last": "LESS"})
    assert r["type"] == "result"
    items = r.xml.findall("{%s}query/{%s}item" % (NS_S, NS_S))
    assert [i.get("jid") for i in items] == ["starless@s.test"]
    it = items[0]
    assert it.find("{%s}first" % NS_S).text == "Stan"
    assert it.find("{%s}last" % NS_S).text == "Starless"
    assert it.find("{%s}nick" % NS_S).text == "starless"
    assert it.find("{%s}email" % NS_S).text == "starless@s.test"


# --- directory unreachable ------------------------------------------------------------------

def test_directory_down_answers_wait(plucsd, client, ldap_outage):
    c = login(client, "carol", plucsd)
    c.x.register_plugin("xep_0055")
    assert vcard_of(vcard_iq(c))
    start = plucsd.log_size()
    ldap_outage.stop()
    assert plucsd.wait_log("directory: (lost connection|cannot reach)", 15, start), \
        plucsd.log()[-3000:]
    t, cond, text, _ = error_of(vcard_iq(c, to="bob@a.test"))
    assert t == "wait" and cond == "internal-server-error"
    assert text and "directory" in text
    t, cond, _, _ = error_of(search_iq(c, "a.test", {"given": "bob"}))
    assert t == "wait" and cond == "internal-server-error"
    # setting is refused as always, without the directory
    t, cond, _, _ = error_of(vcard_iq(c, kind="set"))
    assert cond == "not-allowed"
    assert c.is_connected()


def test_avatar_hash_arrives_late(plucsd_factory, client, ldap_outage):
    """The directory is down when carol binds: her initial presence goes out
    without an update element; once the hash is known (her own vCard fetch
    after the directory is back), the presence is sent again with it.
    (Without PubSub: with it, mod_pepdata puts the hash from the directory
    snapshot into every presence at once, see test_pep_data.py.)"""
    plucsd = plucsd_factory(**{"plucs/pubsub": "false"})
    want = hashlib.sha1(carol_photo()).hexdigest()
    b = login(client, "bob", plucsd)
    got = collect_presence(b)
    b.send_presence()
    r, cond = H.raw_auth(plucsd.port, "carol", H.password("carol"))
    try:
        assert cond == "success"
        start = plucsd.log_size()
        ldap_outage.stop()
        assert plucsd.wait_log("directory: (lost connection|cannot reach)", 15, start)
        assert r.open_stream(to="a.test") is not None
        r.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
               "<resource>late</resource></bind></iq>")
        assert r.read_until(rb"<iq[^>]*id=['\"]b1['\"]")
        r.send("<presence/>")
        p = wait_presence(b, got, "carol@a.test/late")
        assert p is not None, "carol's initial presence did not reach bob"
        assert photo_hashes(p) == [], ET.tostring(p.xml)
        start = plucsd.log_size()
        ldap_outage.start()
        assert plucsd.wait_log("directory: (reconnected|connected) to", 40, start), \
            plucsd.log()[-3000:]
        got.clear()
        r.send("<iq type='get' id='v1'><vCard xmlns='vcard-temp'/></iq>")
        m = r.read_until(rb"<iq[^>]*id=['\"]v1['\"].*?</iq>", timeout=10)
        assert m and b"<BINVAL>" in m.group(0), m and m.group(0)[:300]
        p = wait_presence(b, got, "carol@a.test/late", lambda p: photo_hashes(p))
        assert p is not None, "no presence with the hash after it became known"
        assert photo_hashes(p) == [want]
    finally:
        r.close()
