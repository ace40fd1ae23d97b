"""What clients keep in PEP, filled by the server (issue 15 point 2):
the directory's jpegPhoto as the XEP-0084 avatar of an account without one
of its own, changing live after an ldapmodify of jpegPhoto and emptied when
the photo is removed; a user's own avatar wins (and shows in presence,
XEP-0153, and in the vCard PHOTO); the XEP-0172 nickname from the directory
label, live; XEP-0411 bookmark sync between XEP-0402 and private XML
(XEP-0049 storage:bookmarks) in both directions, removal included."""

import base64
import hashlib
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import plucs_harness as H
from pubsub_helpers import CapsIM, NS_PS, NS_DISCO_INFO, items, item_ids, publish
from xmpp_raw import NS_CLIENT

META = "urn:xmpp:avatar:metadata"
DATA = "urn:xmpp:avatar:data"
NICK = "http://jabber.org/protocol/nick"
BM = "urn:xmpp:bookmarks:1"
PRIV = "jabber:iq:private"
LEGACY = "storage:bookmarks"
VCARD = "vcard-temp"
UPDATE = "vcard-temp:x:update"
A, B, C = "alice@a.test", "bob@a.test", "carol@a.test"

# a 3x2 PNG (only the header matters to the server)
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000003000000020806000000"
                    "b8a5b3c40000000d4944415478da63f8ffff3f0300050001ff0c2d5b4f"
                    "0000000049454e44ae426082")
GIF = b"GIF89a\x05\x00\x04\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00" \
      b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


def carol_photo():
    with open(os.path.join(H.HERE, "data.ldif")) as f:
        text = f.read().replace("\n ", "")
    m = re.search(r"^dn: uid=carol,.*?^jpegPhoto:: (\S+)$", text, re.M | re.S)
    return base64.b64decode(m.group(1))


def sha1(b):
    return hashlib.sha1(b).hexdigest()


def set_photo(ldap, ldap_undo, user, data):
    dn = ldap.user_dn(user)
    old = carol_photo() if user == "carol" else None

    def ldif(v):
        s = "dn: %s\nchangetype: modify\n" % dn
        if v is None:
            return s + "delete: jpegPhoto\n"
        return s + "replace: jpegPhoto\njpegPhoto:: %s\n" % base64.b64encode(v).decode()
    ldap_undo.modify(ldif(data), ldif(old) if old is not None else
                     "dn: %s\nchangetype: modify\nreplace: jpegPhoto\n" % dn)


def meta_of(cl, owner):
    """(item id, <metadata/>) of owner's newest avatar metadata, or (None, None)."""
    r = cl.iq(items(META), to=owner, type="get")
    if r is None or r.get("type") != "result":
        return None, None
    it = r.find(".//{%s}item" % NS_PS)
    if it is None:
        return None, None
    return it.get("id"), it.find("{%s}metadata" % META)


def info_of(meta):
    return meta.find("{%s}info" % META) if meta is not None else None


def data_of(cl, owner, item_id):
    r = cl.iq(items(DATA, ids=[item_id]), to=owner, type="get")
    assert r is not None and r.get("type") == "result", ET.tostring(r) if r is not None else r
    d = r.find(".//{%s}data" % DATA)
    return base64.b64decode("".join(d.text.split())) if d is not None else None


def metric(d, name):
    from web_clients import http_request
    text = http_request(d.http_port, "GET", "/metrics")[2]
    text = text.decode() if isinstance(text, bytes) else text
    m = re.search(r"^%s (\d+)" % re.escape(name), text, re.M)
    assert m, "no %s in /metrics" % name
    return int(m.group(1))


def status(d):
    return subprocess.run([os.path.join(H.BUILD, "plucs"), "--registry", d.registry_path,
                           "status"], capture_output=True, text=True, timeout=30).stdout


def snapshots(d):
    return len(re.findall(r"directory: snapshot \d+", d.log()))


def test_directory_photo_is_avatar_and_follows_ldap(plucsd, ldap, ldap_undo):
    photo = carol_photo()
    a = CapsIM(plucsd.port, "alice", "pc", [META + "+notify"])
    # carol never logged in: the server published her directory photo
    assert H.wait_until(lambda: meta_of(a, C)[0] == sha1(photo), 10), meta_of(a, C)
    iid, meta = meta_of(a, C)
    info = info_of(meta)
    assert info.get("id") == sha1(photo) and info.get("type") == "image/jpeg"
    assert info.get("bytes") == str(len(photo))
    assert (info.get("width"), info.get("height")) == ("8", "8")
    assert data_of(a, C, sha1(photo)) == photo
    c = CapsIM(plucsd.port, "carol", "phone", [])
    pres = a.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT and e.get("from") == C + "/phone")
    assert pres.find("{%s}x/{%s}photo" % (UPDATE, UPDATE)).text == sha1(photo)
    # ldapmodify: a new photo reaches a +notify contact within seconds
    set_photo(ldap, ldap_undo, "carol", PNG)
    ev = a.wait_event(META, frm=C, timeout=10,
                      pred=lambda m: m.find(".//{%s}item" % NS_PS.replace("pubsub", "pubsub#event"))
                      is not None and m.find(".//{http://jabber.org/protocol/pubsub#event}item")
                      .get("id") == sha1(PNG))
    assert ev is not None, "no metadata event for the new photo"
    info = ev.find(".//{%s}info" % META)
    assert info.get("type") == "image/png" and (info.get("width"), info.get("height")) == ("3", "2")
    assert data_of(a, C, sha1(PNG)) == PNG
    # XEP-0153: carol's session announces the new hash without doing anything
    def new_hash_presence():
        a.pump()
        return any(e.tag == "{%s}presence" % NS_CLIENT and e.get("from") == C + "/phone"
                   and e.find("{%s}x/{%s}photo" % (UPDATE, UPDATE)).text == sha1(PNG)
                   for e in a.got)
    assert H.wait_until(new_hash_presence, 10), "no presence with the new photo hash"
    c.ping()
    # photo removed: metadata emptied (no <info/>), data retracted
    set_photo(ldap, ldap_undo, "carol", None)
    assert H.wait_until(lambda: (lambda m: m[1] is not None and info_of(m[1]) is None)
                        (meta_of(a, C)), 10), meta_of(a, C)
    r = a.iq(items(DATA), to=C, type="get")
    assert r.get("type") == "result" and item_ids(r) == []
    # counted: two photos published, one emptied; the nicknames of the directory's accounts
    assert metric(plucsd, 'plucs_pepdata_avatars_total{change="published"}') == 2
    assert metric(plucsd, 'plucs_pepdata_avatars_total{change="emptied"}') == 1
    assert metric(plucsd, "plucs_pepdata_nicknames_total") >= 3
    out = status(plucsd)
    assert "pepdata/avatars_published: 2" in out and "pepdata/avatars_emptied: 1" in out, out


def test_own_avatar_wins_presence_and_vcard(plucsd, ldap, ldap_undo):
    photo = carol_photo()
    b = CapsIM(plucsd.port, "bob", "pc", [META + "+notify"])
    c = CapsIM(plucsd.port, "carol", "pc", [META + "+notify"])
    # XEP-0153: carol's presence carries the directory photo's hash
    pres = b.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT
                  and e.get("from") == C + "/pc", 5)
    assert pres is not None
    assert pres.find("{%s}x/{%s}photo" % (UPDATE, UPDATE)).text == sha1(photo)
    # carol publishes her own avatar (data, then metadata without the marker)
    own = GIF
    c.iq_ok(publish(DATA, "<data xmlns='%s'>%s</data>" % (DATA, base64.b64encode(own).decode()),
                    sha1(own)))
    c.iq_ok(publish(META, "<metadata xmlns='%s'><info id='%s' bytes='9' type='image/png' "
                    "url='https://a.test/x.png'/><info id='%s' bytes='%d' type='image/gif'/>"
                    "</metadata>" % (META, "ab" * 20, sha1(own), len(own)), sha1(own)))
    assert meta_of(b, C)[0] == sha1(own)
    # the next presence carries the own avatar's hash
    c.send("<presence><show>away</show></presence>")
    pres = b.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT and e.get("from") == C + "/pc"
                  and e.find("{%s}show" % NS_CLIENT) is not None, 5)
    assert pres.find("{%s}x/{%s}photo" % (UPDATE, UPDATE)).text == sha1(own)
    # the vCard PHOTO is the own avatar
    r = b.iq("<vCard xmlns='%s'/>" % VCARD, to=C, type="get")
    binval = r.find(".//{%s}PHOTO/{%s}BINVAL" % (VCARD, VCARD))
    assert base64.b64decode("".join(binval.text.split())) == own
    assert r.find(".//{%s}PHOTO/{%s}TYPE" % (VCARD, VCARD)).text == "image/gif"
    # a directory change never overwrites it
    n = snapshots(plucsd)
    set_photo(ldap, ldap_undo, "carol", PNG)
    assert H.wait_until(lambda: snapshots(plucsd) > n, 10), "no new snapshot"
    b.ping()
    assert meta_of(b, C)[0] == sha1(own)
    # carol removes her avatar (retract): the directory's comes back
    c.iq_ok("<pubsub xmlns='%s'><retract node='%s' notify='true'><item id='%s'/></retract>"
            "</pubsub>" % (NS_PS, META, sha1(own)))
    assert H.wait_until(lambda: meta_of(b, C)[0] == sha1(PNG), 10), meta_of(b, C)


def test_nickname_from_directory_label(plucsd, ldap, ldap_undo):
    a = CapsIM(plucsd.port, "alice", "pc", [NICK + "+notify"])

    def nick(owner):
        r = a.iq(items(NICK), to=owner, type="get")
        n = r.find(".//{%s}nick" % NICK) if r is not None and r.get("type") == "result" else None
        return n.text if n is not None else None
    assert H.wait_until(lambda: nick(B) == "Bob Brown", 10), nick(B)
    ldap_undo.replace(ldap.user_dn("bob"), "gecos", ["Robert Brown"], ["Bob Brown"])
    ev = a.wait_event(NICK, frm=B, timeout=10,
                      pred=lambda m: m.find(".//{%s}nick" % NICK) is not None
                      and m.find(".//{%s}nick" % NICK).text == "Robert Brown")
    assert ev is not None, "no live nickname event"
    # a user's own nickname wins over a later label change
    b = CapsIM(plucsd.port, "bob", "pc", [])
    b.iq_ok(publish(NICK, "<nick xmlns='%s'>Bobby</nick>" % NICK, "own"))
    n = snapshots(plucsd)
    ldap_undo.replace(ldap.user_dn("bob"), "gecos", ["Rob Brown"], ["Robert Brown"])
    assert H.wait_until(lambda: snapshots(plucsd) > n, 10)
    b.ping()
    assert nick(B) == "Bobby"


def legacy_get(cl):
    r = cl.iq("<query xmlns='%s'><storage xmlns='%s'/></query>" % (PRIV, LEGACY), type="get")
    assert r is not None and r.get("type") == "result"
    st = r.find(".//{%s}storage" % LEGACY)
    return {c.get("jid"): c for c in st.findall("{%s}conference" % LEGACY)}, st


def legacy_pep(cl):
    """The rooms of the XEP-0048 <storage/> in cl's own PEP node storage:bookmarks."""
    r = cl.iq(items(LEGACY), type="get")
    assert r is not None and r.get("type") == "result", ET.tostring(r) if r is not None else r
    return {c.get("jid").lower() for c in r.iter("{%s}conference" % LEGACY)}


def test_bookmarks_sync_both_ways(plucsd):
    a = CapsIM(plucsd.port, "alice", "pc", [BM + "+notify"])
    r = a.iq("<query xmlns='%s'/>" % NS_DISCO_INFO, to=A, type="get")
    feats = [f.get("var") for f in r.iter("{%s}feature" % NS_DISCO_INFO)]
    for f in (BM + "#compat", BM + "#compat-pep", "urn:xmpp:bookmarks-conversion:0",
              "urn:xmpp:pep-vcard-conversion:0"):
        assert f in feats, f
    opts = {"pubsub#persist_items": "true", "pubsub#access_model": "whitelist",
            "pubsub#max_items": "max", "pubsub#send_last_published_item": "never"}
    # XEP-0402 -> private XML
    a.iq_ok(publish(BM, "<conference xmlns='%s' name='Team' autojoin='true'><nick>al</nick>"
                    "</conference>" % BM, "team@conference.a.test", opts))
    assert H.wait_until(lambda: "team@conference.a.test" in legacy_get(a)[0], 5)
    conf = legacy_get(a)[0]["team@conference.a.test"]
    assert conf.get("name") == "Team" and conf.get("autojoin") == "true"
    assert conf.find("{%s}nick" % LEGACY).text == "al"
    assert legacy_pep(a) == {"team@conference.a.test"}      # XEP-0048 in PEP (XEP-0411)
    # private XML -> XEP-0402: one added, team removed, a <url/> kept
    a.iq_ok("<query xmlns='%s'><storage xmlns='%s'><conference jid='Lobby@Conference.a.test' "
            "name='Lobby' autojoin='false'><password>pw</password></conference>"
            "<url name='Home' url='https://a.test/'/></storage></query>" % (PRIV, LEGACY))
    r = a.iq_ok(items(BM), type="get")
    assert item_ids(r) == ["lobby@conference.a.test"]
    c = r.find(".//{%s}conference" % BM)
    assert c.get("name") == "Lobby" and c.get("autojoin") == "false"
    assert c.find("{%s}password" % BM).text == "pw"
    assert legacy_pep(a) == {"lobby@conference.a.test"}
    # XEP-0048 over PEP (a client of XEP-0223): private XML and XEP-0402 follow
    a.iq_ok(publish(LEGACY, "<storage xmlns='%s'><conference jid='pep@conference.a.test' "
                    "autojoin='true'/></storage>" % LEGACY, "current",
                    {"pubsub#persist_items": "true", "pubsub#access_model": "whitelist"}))
    assert H.wait_until(lambda: set(legacy_get(a)[0]) == {"pep@conference.a.test"}, 5)
    assert item_ids(a.iq_ok(items(BM), type="get")) == ["pep@conference.a.test"]
    # back to the private XML state the rest of the test expects
    a.iq_ok("<query xmlns='%s'><storage xmlns='%s'><conference jid='Lobby@Conference.a.test' "
            "name='Lobby' autojoin='false'><password>pw</password></conference>"
            "<url name='Home' url='https://a.test/'/></storage></query>" % (PRIV, LEGACY))
    # and a retract on the PEP side removes it from private XML (url kept)
    a.iq_ok("<pubsub xmlns='%s'><retract node='%s' notify='true'><item id='%s'/></retract>"
            "</pubsub>" % (NS_PS, BM, "lobby@conference.a.test"))
    assert H.wait_until(lambda: legacy_get(a)[0] == {}, 5)
    assert legacy_get(a)[1].find("{%s}url" % LEGACY) is not None
    assert metric(plucsd, 'plucs_pepdata_bookmark_syncs_total{to="pep"}') == 3
    assert metric(plucsd, 'plucs_pepdata_bookmark_syncs_total{to="private"}') == 3
    # the node stays private: bob cannot read it
    b = CapsIM(plucsd.port, "bob", "pc", [])
    r = b.iq(items(BM), to=A, type="get")
    assert r.get("type") == "error"


def test_slixmpp_plugins_see_directory_data(plucsd, client):
    """Debian's slixmpp 1.8.3 plugins: xep_0084 reads carol's directory
    avatar, xep_0153 reports her presence hash, xep_0172's node holds the
    label, xep_0048 over xep_0049 stores bookmarks that appear in XEP-0402."""
    from slixmpp import JID
    from slixmpp.plugins.xep_0048 import Bookmarks
    photo = carol_photo()
    a = client("alice", daemon=plucsd)
    for p in ("xep_0060", "xep_0163", "xep_0084", "xep_0172", "xep_0049", "xep_0048",
              "xep_0054", "xep_0153"):
        a.x.register_plugin(p)
    a.x["xep_0048"].storage_method = "xep_0049"
    updates = []
    a.x.add_event_handler("vcard_avatar_update",
                          lambda pres: updates.append((str(pres["from"]),
                                                       pres["vcard_temp_update"]["photo"])))
    assert a.login().ok
    a.send_presence()

    def payload(owner, node):
        r = a.run(a.x["xep_0060"].get_items(JID(owner), node), 10)
        its = list(r["pubsub"]["items"])
        return its[-1]["payload"] if its else None

    assert H.wait_until(lambda: payload(C, META) is not None, 10)
    info = payload(C, META).find("{%s}info" % META)
    assert info.get("id") == sha1(photo)
    r = a.run(a.x["xep_0084"].retrieve_avatar(JID(C), sha1(photo)), 10)
    data = list(r["pubsub"]["items"])[0]["payload"]
    assert base64.b64decode("".join(data.text.split())) == photo
    nick = payload("hugo@a.test", NICK)
    assert nick is not None and nick.text == "Hugo Hill"
    # carol comes online: xep_0153 sees her photo hash
    c = client("carol", daemon=plucsd)
    assert c.login().ok
    c.send_presence()
    assert H.wait_until(lambda: a.run(asyncio_sleep(0.1), 5) or
                        any(f.startswith(C) and h == sha1(photo) for f, h in updates), 10), updates
    # legacy bookmarks through xep_0048/xep_0049 appear in XEP-0402
    bm = Bookmarks()
    bm.add_conference("plugins@conference.a.test", "al", name="Plugins", autojoin=True)
    a.run(a.x["xep_0048"].set_bookmarks(bm), 10)
    r = a.run(a.x["xep_0060"].get_items(JID(A), BM), 10)
    ids = [i["id"] for i in r["pubsub"]["items"]]
    assert ids == ["plugins@conference.a.test"]
    conf = list(r["pubsub"]["items"])[0]["payload"]
    assert conf.get("name") == "Plugins" and conf.get("autojoin") == "true"
    # and through PEP (xep_0048's default: xep_0223), private XML follows
    bm = Bookmarks()
    bm.add_conference("pep-plugins@conference.a.test", "al", name="PEP", autojoin=False)
    a.run(a.x["xep_0048"].set_bookmarks(bm, method="xep_0223"), 10)
    assert H.wait_until(lambda: [c["jid"] for c in a.run(a.x["xep_0048"].get_bookmarks(
        method="xep_0049"), 10)["private"]["bookmarks"]["conferences"]]
        == [JID("pep-plugins@conference.a.test")], 5)
    r = a.run(a.x["xep_0060"].get_items(JID(A), BM), 10)
    assert [i["id"] for i in r["pubsub"]["items"]] == ["pep-plugins@conference.a.test"]


async def asyncio_sleep(t):
    import asyncio
    await asyncio.sleep(t)


def test_hostile_bookmarks_and_oversized_photo(plucsd_factory, ldap, ldap_undo):
    """Bookmarks that cannot be converted are not mirrored (and logged), the
    server keeps answering; a directory photo larger than
    plucs/pubsub/max_item_size is not published (logged), nothing else breaks."""
    p = plucsd_factory(**{"plucs/pubsub/max_item_size": "1000"})
    a = CapsIM(p.port, "alice", "pc", [])
    # legacy: no jid, a domain only, a full JID, garbage; one good
    a.iq_ok("<query xmlns='%s'><storage xmlns='%s'><conference name='x'/>"
            "<conference jid='conference.a.test'/><conference jid='r@conference.a.test/me'/>"
            "<conference jid='@@'/><conference jid='ok@conference.a.test' autojoin='maybe'/>"
            "</storage></query>" % (PRIV, LEGACY))
    r = a.iq_ok(items(BM), type="get")
    assert item_ids(r) == ["ok@conference.a.test"]
    assert r.find(".//{%s}conference" % BM).get("autojoin") == "false"
    assert p.wait_log("legacy bookmark without a valid room JID", 5)
    # XEP-0402 item whose id is no room JID: not written to private XML
    a.iq_ok(publish(BM, "<conference xmlns='%s' name='bad'/>" % BM, "not a jid"))
    a.iq_ok(publish(BM, "<conference xmlns='%s' name='good'/>" % BM, "good@conference.a.test"))
    assert H.wait_until(lambda: "good@conference.a.test" in legacy_get(a)[0], 5)
    assert set(legacy_get(a)[0]) == {"ok@conference.a.test", "good@conference.a.test"}
    # a 3,000-byte photo cannot be an item of at most 1,000 bytes: the old avatar is
    # emptied rather than left stale
    assert H.wait_until(lambda: meta_of(a, C)[0] == sha1(carol_photo()), 10)
    set_photo(ldap, ldap_undo, "carol", b"\xff\xd8\xff\xe0" + bytes(2996))
    assert p.wait_log(r"directory photo of carol@a\.test \(3000 bytes\) could not be "
                      r"published", 10)
    assert H.wait_until(lambda: (lambda m: m[1] is not None and info_of(m[1]) is None)
                        (meta_of(a, C)), 10), meta_of(a, C)


def test_changes_while_stopped_apply_at_start(plucsd_factory, ldap, ldap_undo):
    """The server's avatar and nickname are told from the user's own after a
    restart (the marker is stored with the item): a photo changed while
    plucsd was stopped is published at start, a user's own nickname stays."""
    p = plucsd_factory()
    a = CapsIM(p.port, "alice", "pc", [])
    assert H.wait_until(lambda: meta_of(a, C)[0] == sha1(carol_photo()), 10)
    b = CapsIM(p.port, "bob", "pc", [])
    b.iq_ok(publish(NICK, "<nick xmlns='%s'>Bobby</nick>" % NICK, "mine"))
    a.close()
    b.close()
    assert p.terminate() == 0
    set_photo(ldap, ldap_undo, "carol", PNG)
    ldap_undo.replace(ldap.user_dn("bob"), "gecos", ["Robert Brown"], ["Bob Brown"])
    H.plucsd_restart(p)
    a = CapsIM(p.port, "alice", "pc", [])
    assert H.wait_until(lambda: meta_of(a, C)[0] == sha1(PNG), 10), meta_of(a, C)
    r = a.iq_ok(items(NICK), to=B, type="get")
    assert r.find(".//{%s}nick" % NICK).text == "Bobby"


def test_one_presence_per_login_with_hash(plucsd):
    """The hash comes from the directory snapshot: the initial presence
    carries it and is not sent a second time once the directory answered."""
    a = CapsIM(plucsd.port, "alice", "pc", [])
    c = CapsIM(plucsd.port, "carol", "once", [])
    assert plucsd.wait_log(r"carol@a\.test/once bound", 5)
    c.iq_ok("<vCard xmlns='%s'/>" % VCARD, type="get")    # the directory has answered
    c.ping()
    a.ping()

    def from_carol():
        a.pump()
        return [e for e in a.got if e.tag == "{%s}presence" % NS_CLIENT
                and e.get("from") == C + "/once"]
    assert H.wait_until(lambda: from_carol(), 5)
    a.ping()
    ps = from_carol()
    assert len(ps) == 1, [ET.tostring(p) for p in ps]
    assert ps[0].find("{%s}x/{%s}photo" % (UPDATE, UPDATE)).text == sha1(carol_photo())


def test_client_empty_photo_left_alone(plucsd):
    """XEP-0398 §4: a presence with an empty <photo/> passes untouched, an
    empty <x/> gets the hash."""
    a = CapsIM(plucsd.port, "alice", "pc", [])
    c = CapsIM(plucsd.port, "carol", "empty", [], presence=False)
    c.send("<presence id='e1'><x xmlns='%s'><photo/></x></presence>" % UPDATE)
    p = a.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT and e.get("from") == C + "/empty")
    assert p is not None
    assert [x.text for x in p.iter("{%s}photo" % UPDATE)] == [None]
    c.send("<presence id='e2'><show>away</show><x xmlns='%s'/></presence>" % UPDATE)
    p = a.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT and e.get("from") == C + "/empty")
    assert [x.text for x in p.iter("{%s}photo" % UPDATE)] == [sha1(carol_photo())]


def test_own_empty_metadata_disables_avatar(plucsd):
    """XEP-0084 §4.2: the user publishes empty metadata (no avatar): the
    server does not put the directory photo back, presence carries an empty
    hash and the vCard has no PHOTO."""
    b = CapsIM(plucsd.port, "bob", "pc", [])
    c = CapsIM(plucsd.port, "carol", "pc", [])
    c.iq_ok(publish(META, "<metadata xmlns='%s'/>" % META, "none"))
    c.send("<presence><show>dnd</show></presence>")
    pres = b.wait(lambda e: e.tag == "{%s}presence" % NS_CLIENT and e.get("from") == C + "/pc"
                  and e.find("{%s}show" % NS_CLIENT) is not None, 5)
    assert [x.text for x in pres.iter("{%s}photo" % UPDATE)] == [None]
    r = b.iq("<vCard xmlns='%s'/>" % VCARD, to=C, type="get")
    assert r.get("type") == "result" and r.find(".//{%s}PHOTO" % VCARD) is None
    b.ping()
    assert meta_of(b, C)[0] == "none"
