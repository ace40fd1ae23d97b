"""XEP-0045 helpers shared by the persistence and directory room tests
(test_muc_persist.py, test_muc_grouprooms.py): joining, leaving, reading
status codes, configuring rooms and reading a room's disco#info, as XML
over harness.IMClient. Assertions stay in the tests."""

import xml.etree.ElementTree as ET

import plucs_harness as H

NS_MUC = "http://jabber.org/protocol/muc"
NS_USER = NS_MUC + "#user"
NS_ADMIN = NS_MUC + "#admin"
NS_OWNER = NS_MUC + "#owner"
NS_DATA = "jabber:x:data"
NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ITEMS = "http://jabber.org/protocol/disco#items"


def esc(s):
    return H._xml_attr(s)


def codes(st):
    x = st.el.find("{%s}x" % NS_USER)
    return set() if x is None else {int(s.get("code")) for s in x.findall("{%s}status" % NS_USER)}


def item(st):
    x = st.el.find("{%s}x" % NS_USER)
    return None if x is None else x.find("{%s}item" % NS_USER)


def send_join(c, room, nick):
    c.send_raw("<presence to='%s/%s'><x xmlns='%s'/></presence>" % (esc(room), esc(nick), NS_MUC))


def join(c, room, nick, timeout=5):
    """The self-presence (status 110) of joining ROOM as NICK, or the error
    presence; None when neither came within TIMEOUT."""
    send_join(c, room, nick)
    full = "%s/%s" % (room, nick)

    def got():
        for s in c.presences:
            if H._same_jid(s.frm, full) and 110 in codes(s):
                c.presences.remove(s)
                return s
            if s.type == "error" and (H._same_jid(s.frm, room) or H._same_jid(s.frm, full)):
                c.presences.remove(s)
                return s
        return None
    return c.wait_for(got, timeout)


def leave(c, room, nick):
    c.send_raw("<presence to='%s/%s' type='unavailable'/>" % (esc(room), esc(nick)))


def configure(c, room, **fields):
    """Submits the room configuration form with FIELDS (muc#roomconfig_ names
    without the prefix); returns the answer element."""
    f = "".join("<field var='muc#roomconfig_%s'><value>%s</value></field>" % (k, esc(str(v)))
                for k, v in fields.items())
    return c.iq_el(room, "set", "<query xmlns='%s'><x xmlns='%s' type='submit'>"
                   "<field var='FORM_TYPE'><value>%s#roomconfig</value></field>%s</x></query>" % (
                       NS_OWNER, NS_DATA, NS_MUC, f))


def config_form(c, room):
    """The answer to a request for the configuration form."""
    return c.iq_el(room, "get", "<query xmlns='%s'/>" % NS_OWNER)


def admin(c, room, items, type="set"):
    return c.iq_el(room, type, "<query xmlns='%s'>%s</query>" % (NS_ADMIN, items))


def affiliations(c, room, aff):
    """The bare JIDs the room lists with affiliation AFF (None on error)."""
    r = admin(c, room, "<item affiliation='%s'/>" % aff, type="get")
    if r is None or r.get("type") != "result":
        return None
    return sorted(i.get("jid") for i in r.iter("{%s}item" % NS_ADMIN))


def room_info(c, room):
    """(identity name, set of features) of ROOM's disco#info, or
    (None, error condition) when the room answers with an error."""
    r = c.iq_el(room, "get", "<query xmlns='%s'/>" % NS_INFO)
    if r is None:
        return None, "timeout"
    if r.get("type") != "result":
        return None, H.error_condition(r)
    ids = list(r.iter("{%s}identity" % NS_INFO))
    feats = {f.get("var") for f in r.iter("{%s}feature" % NS_INFO)}
    return (ids[0].get("name") if ids else None), feats


def ok(r):
    return r is not None and r.get("type") == "result"


def show(r):
    return ET.tostring(r).decode() if r is not None else "None"
