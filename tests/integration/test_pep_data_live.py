"""The directory's photo and label in PEP while their owner is offline or
gone (issue 15 points 1-2 of the gaps): a contact with a personal roster
subscription (dave@b.test, not in carol's shared roster) hears of carol's
new jpegPhoto although carol is offline (the server loads her roster from
the store first), and gets her nickname (access presence) as the last item
when he logs in; an account that leaves the directory (xmppEnabled=FALSE)
loses the avatar and nickname the server published for it, keeps its own
nodes, and gets them published again when it comes back; an account moved
to a domain this server does not serve while plucsd was down is cleaned at
the next start."""

import base64
import hashlib
import re

import plucs_harness as H
from pubsub_helpers import CapsIM, NS_PS, NS_PS_EVENT, items, item_ids, publish
from xmpp_raw import NS_CLIENT
from test_pep_data import PNG, carol_photo, meta_of, data_of, set_photo, status

META = "urn:xmpp:avatar:metadata"
DATA = "urn:xmpp:avatar:data"
NICK = "http://jabber.org/protocol/nick"
OWN = "urn:plucs:test:own"
C, D = "carol@a.test", "dave@b.test"


def sha1(b):
    return hashlib.sha1(b).hexdigest()


def presence_from(cl, frm, type_=None):
    return cl.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT and e.get("from", "")
                   .startswith(frm) and e.get("type") == type_, 10)


def befriend(carol, dave):
    """dave subscribes to carol's presence, carol approves: carol's personal
    roster has dave with subscription from."""
    dave.send("<presence type='subscribe' to='%s'/>" % C)
    assert carol.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT
                      and e.get("type") == "subscribe" and e.get("from") == D, 10) is not None
    carol.send("<presence type='subscribed' to='%s'/>" % D)
    assert dave.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT
                     and e.get("type") == "subscribed" and e.get("from") == C, 10) is not None


def nodes(d):
    m = re.search(r"^pubsub/nodes: (\d+)", status(d), re.M)
    assert m, status(d)
    return int(m.group(1))


def enable(ldap_undo, ldap, user, on):
    dn = ldap.user_dn(user)
    ldap_undo.replace(dn, "xmppEnabled", ["TRUE" if on else "FALSE"], ["TRUE"])


def test_personal_contact_hears_avatar_of_offline_owner(plucsd, ldap, ldap_undo):
    carol = CapsIM(plucsd.port, "carol", "pc", [])
    dave = CapsIM(plucsd.port, "dave", "pc", [META + "+notify"], domain="b.test")
    assert H.wait_until(lambda: meta_of(dave, C)[0] == sha1(carol_photo()), 10), meta_of(dave, C)
    befriend(carol, dave)
    presence_from(dave, C + "/pc")              # carol's presence reaches dave now
    carol.close()
    assert presence_from(dave, C + "/pc", "unavailable") is not None, "carol never went offline"
    # carol is offline (her roster is not cached); dave is not in her shared roster
    set_photo(ldap, ldap_undo, "carol", PNG)
    ev = dave.wait_event(META, frm=C, timeout=15,
                         pred=lambda m: m.find(".//{%s}item" % NS_PS_EVENT) is not None
                         and m.find(".//{%s}item" % NS_PS_EVENT).get("id") == sha1(PNG))
    assert ev is not None, "dave (personal roster, from) got no event for carol's new photo"
    # dave's new session gets carol's nickname (access presence) as the last
    # item, though carol is still offline
    phone = CapsIM(plucsd.port, "dave", "phone", [NICK + "+notify"], domain="b.test")
    ev = phone.wait_event(NICK, frm=C, timeout=10)
    assert ev is not None, "no last nickname item for a personal contact of an offline owner"
    assert ev.find(".//{%s}nick" % NICK).text
    # a stranger with +notify but no subscription hears nothing
    bea = CapsIM(plucsd.port, "bea", "pc", [META + "+notify"], domain="b.test")
    set_photo(ldap, ldap_undo, "carol", None)
    assert dave.wait_event(META, frm=C, timeout=15) is not None, "no event for the removal"
    bea.ping()
    assert not bea.events(META, frm=C), "a stranger was told of carol's avatar"


def test_disabled_account_loses_server_data_and_gets_it_back(plucsd, ldap, ldap_undo):
    photo = carol_photo()
    alice = CapsIM(plucsd.port, "alice", "pc", [META + "+notify", NICK + "+notify"])
    assert H.wait_until(lambda: meta_of(alice, C)[0] == sha1(photo), 10), meta_of(alice, C)
    # carol's own node, and an explicit subscriber of her server avatar
    carol = CapsIM(plucsd.port, "carol", "pc", [])
    carol.iq_ok(publish(OWN, "<own xmlns='%s'>mine</own>" % OWN, "x1"))
    carol.close()
    dave = CapsIM(plucsd.port, "dave", "pc", [], domain="b.test")
    dave.iq_ok("<pubsub xmlns='%s'><subscribe node='%s' jid='%s'/></pubsub>" % (NS_PS, META, D),
               to=C)
    before = nodes(plucsd)
    enable(ldap_undo, ldap, "carol", False)

    def got(kind):
        return dave.wait(lambda e: e.tag == "{%s}message" % NS_CLIENT and e.get("from") == C
                         and e.find(".//{%s}%s" % (NS_PS_EVENT, kind)) is not None, 15)
    r = got("retract")
    assert r is not None and r.find(".//{%s}retract" % NS_PS_EVENT).get("id") == sha1(photo)
    assert got("delete") is not None, "no delete of the avatar metadata node"
    # avatar data and metadata and the nickname are gone; carol's own node stays
    assert H.wait_until(lambda: nodes(plucsd) == before - 3, 10), (before, nodes(plucsd))
    assert "pepdata/departed_cleared: 1" in status(plucsd)
    assert re.search(r"carol@a.test left the directory; removed the avatar and nickname",
                     plucsd.log())
    # a disabled account has no PEP service at all
    r = dave.iq(items(META), to=C, type="get")
    assert r is not None and r.get("type") == "error"
    # back in the directory: published again, and carol's own node is intact
    enable(ldap_undo, ldap, "carol", True)
    assert alice.wait_event(META, frm=C, timeout=15) is not None, "no avatar event after return"
    assert H.wait_until(lambda: meta_of(alice, C)[0] == sha1(photo), 10), meta_of(alice, C)
    assert data_of(alice, C, sha1(photo)) == photo
    carol = CapsIM(plucsd.port, "carol", "pc2", [])
    r = carol.iq_ok(items(OWN), to=C, type="get")
    assert item_ids(r) == ["x1"]
    r = carol.iq_ok(items(NICK), to=C, type="get")
    assert item_ids(r) == ["directory"]


def test_account_moved_away_while_down_is_cleaned_at_start(plucsd, ldap, ldap_undo):
    photo = carol_photo()
    alice = CapsIM(plucsd.port, "alice", "pc", [])
    assert H.wait_until(lambda: meta_of(alice, C)[0] == sha1(photo), 10), meta_of(alice, C)
    alice.close()
    before = nodes(plucsd)
    plucsd.terminate()
    # moved to a domain another host serves
    ldap_undo.replace(ldap.user_dn("carol"), "xmppDomain", ["c.test"], ["a.test"])
    H.plucsd_restart(plucsd)
    assert H.wait_until(lambda: nodes(plucsd) == before - 3, 15), (before, nodes(plucsd))
    assert "pepdata/departed_cleared: 1" in status(plucsd)
