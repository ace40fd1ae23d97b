"""Message archive (issue 14 points 4, 6, 7; XEP-0313 urn:xmpp:mam:2 with
XEP-0059 RSM, XEP-0359 stanza ids): both parties archive their own copy,
the stanza-id delivered is the archive id, paging forwards and backwards
over 500 messages, with/start/end filters, offline messages archived,
preferences (always/never lists, default roster), messages to oneself once,
retention (plucs/mam/days), plucs/mam=false, only the owner
reads an archive, disco features, /metrics."""

import datetime
import os
import sqlite3
import time
import xml.etree.ElementTree as ET

import plucs_harness as H
from web_clients import http_request

A, B, C = "alice@a.test", "bob@a.test", "carol@a.test"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_SID = "urn:xmpp:sid:0"
NS_FWD = "urn:xmpp:forward:0"
NS_X = "jabber:x:data"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def login(im, d, user, resource="r", available=True):
    c = im(user, daemon=d, resource=resource)
    assert c.login().ok
    if available:
        c.available()
    return c


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def query(c, with_=None, start=None, end=None, after_id=None, before_id=None,
          max_=None, after=None, before=None, flip=False, qid="q1", to=None):
    """Runs a MAM query; returns (iq answer element, [(result id, forwarded
    message element, stamp)], fin element or None)."""
    fields = ["<field var='FORM_TYPE' type='hidden'><value>%s</value></field>" % NS_MAM]
    for var, v in (("with", with_), ("start", start), ("end", end),
                   ("after-id", after_id), ("before-id", before_id)):
        if v is not None:
            fields.append("<field var='%s'><value>%s</value></field>" % (var, v))
    rsm = ""
    if max_ is not None or after is not None or before is not None:
        rsm = "<set xmlns='%s'>" % NS_RSM
        if max_ is not None:
            rsm += "<max>%d</max>" % max_
        if after is not None:
            rsm += "<after>%s</after>" % after
        if before is not None:
            rsm += "<before>%s</before>" % before if before else "<before/>"
        rsm += "</set>"
    xml = ("<query xmlns='%s' queryid='%s'><x xmlns='%s' type='submit'>%s</x>%s%s</query>"
           % (NS_MAM, qid, NS_X, "".join(fields), rsm, "<flip-page/>" if flip else ""))
    seen = len(c.all_messages)
    r = c.iq_el(to, "set", xml, timeout=10)
    assert r is not None, "no answer to a MAM query"
    results = []
    for s in c.all_messages[seen:]:
        res = s.el.find("{%s}result" % NS_MAM)
        if res is None or res.get("queryid") != qid:
            continue
        fwd = res.find("{%s}forwarded" % NS_FWD)
        msg = fwd.find("{%s}message" % H.NS_CLIENT)
        delay = fwd.find("{urn:xmpp:delay}delay")
        results.append((res.get("id"), msg, delay.get("stamp")))
    return r, results, r.find("{%s}fin" % NS_MAM)


def body(msg):
    b = msg.find("{%s}body" % H.NS_CLIENT)
    return None if b is None else b.text


def rsm(fin):
    s = fin.find("{%s}set" % NS_RSM)
    first = s.find("{%s}first" % NS_RSM)
    last = s.find("{%s}last" % NS_RSM)
    count = s.find("{%s}count" % NS_RSM)
    return {
        "first": None if first is None else first.text,
        "index": None if first is None else int(first.get("index")),
        "last": None if last is None else last.text,
        "count": int(count.text),
        "complete": fin.get("complete") == "true",
    }


def error_of(r):
    assert r.get("type") == "error", ET.tostring(r)
    return H.error_condition(r)


def wait_archived(c, with_, n, timeout=10):
    ok = H.wait_until(lambda: rsm(query(c, with_=with_, max_=0)[2])["count"] >= n, timeout)
    assert ok, "archive of %s with %s never reached %d" % (c.jid, with_, n)


def test_both_parties_archive_and_stanza_id_matches(plucsd, im):
    a = login(im, plucsd, "alice")
    b = login(im, plucsd, "bob")
    a.send(B, "hello bob", extra_xml="<stanza-id xmlns='%s' by='%s' id='forged'/>" % (NS_SID, B))
    m = b.wait_message(body="hello bob")
    assert m, b.all_messages
    sids = [e for e in m.el.findall("{%s}stanza-id" % NS_SID) if e.get("by") == B]
    assert len(sids) == 1 and sids[0].get("id") != "forged", \
        "want one server stanza-id by bob: %s" % ET.tostring(m.el)
    sid = sids[0].get("id")
    r, res, fin = query(b, with_=A)
    assert r.get("type") == "result" and fin is not None, ET.tostring(r)
    assert [(i, body(x)) for i, x, _ in res] == [(sid, "hello bob")]
    assert rsm(fin)["complete"] and rsm(fin)["count"] == 1
    r, res, fin = query(a, with_=B)
    assert [body(x) for _, x, _ in res] == ["hello bob"]
    assert res[0][0] != sid, "sender and recipient must have their own ids"
    # the result's delay stamp is the archive time (now)
    t = datetime.datetime.strptime(res[0][2], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs((datetime.datetime.utcnow() - t).total_seconds()) < 60
    # not archived: no body, groupchat-less error, no-store hint
    a.send(B, None)
    a.send(B, "secret", extra_xml="<no-store xmlns='urn:xmpp:hints'/>")
    assert b.wait_message(body="secret")
    a.send(B, "after")
    assert b.wait_message(body="after")
    wait_archived(b, A, 2)
    assert [body(x) for _, x, _ in query(b, with_=A)[1]] == ["hello bob", "after"]
    _, _, text = http_request(plucsd.http_port, "GET", "/metrics")
    line = [l for l in text.splitlines() if l.startswith("plucs_mam_archived_total ")]
    assert line and int(line[0].split()[1]) >= 4, line


def test_paging_forwards_and_backwards_over_500(plucsd, im):
    a = login(im, plucsd, "alice")
    b = login(im, plucsd, "bob")
    n = 500
    for i in range(n):
        a.send(B, "m%03d" % i)
    a.barrier(timeout=20)
    wait_archived(a, B, n, timeout=30)
    want = ["m%03d" % i for i in range(n)]
    # forwards, 7 pages of at most 80
    got, after, pages = [], None, 0
    while pages < 20:
        r, res, fin = query(a, with_=B, max_=80, after=after)
        s = rsm(fin)
        assert s["count"] == n
        assert s["index"] == len(got), s
        got += [body(x) for _, x, _ in res]
        pages += 1
        after = s["last"]
        if s["complete"]:
            break
    assert got == want and pages == 7, (pages, got[:3], got[-3:])
    # backwards from the last page
    got, before, pages = [], "", 0
    while pages < 20:
        r, res, fin = query(a, with_=B, max_=80, before=before)
        s = rsm(fin)
        page = [body(x) for _, x, _ in res]
        assert len(page) == (80 if pages < 6 else n - 6 * 80), (pages, len(page))
        assert s["index"] == n - len(got) - len(page), s
        got = page + got
        pages += 1
        before = s["first"]
        if s["complete"]:
            break
    assert got == want and pages == 7
    # the default page is 50, oldest first; the cap is 250
    r, res, fin = query(a, with_=B)
    assert len(res) == 50 and body(res[0][1]) == "m000" and not rsm(fin)["complete"]
    r, res, fin = query(a, with_=B, max_=1000)
    assert len(res) == 250
    # flip-page: the same page, newest first
    r, res, fin = query(a, with_=B, max_=10, before="", flip=True)
    assert [body(x) for _, x, _ in res] == want[-10:][::-1]
    # after-id / before-id of the form, and an unknown id
    ids = [i for i, _, _ in query(a, with_=B, max_=250)[1]]
    r, res, fin = query(a, with_=B, after_id=ids[9], before_id=ids[20])
    assert [body(x) for _, x, _ in res] == want[10:20]
    assert rsm(fin)["count"] == 10 and rsm(fin)["complete"]
    assert error_of(query(a, with_=B, after="0000000000000")[0]) == "item-not-found"
    assert error_of(query(a, after_id="nonsense")[0]) == "item-not-found"
    # bob's id is not alice's
    bob_id = query(b, with_=A, max_=1)[1][0][0]
    assert error_of(query(a, with_=B, after=bob_id)[0]) == "item-not-found"


def test_with_start_end_filters(plucsd, im):
    a = login(im, plucsd, "alice")
    login(im, plucsd, "bob")
    login(im, plucsd, "carol")
    a.send(B, "to bob early")
    a.send(C, "to carol early")
    a.barrier()
    wait_archived(a, C, 1)
    # The boundary lies strictly between the two batches: the early ones were
    # archived (stamped by the server) before it is read, the late ones are
    # sent after the clock has moved past it (µs resolution).
    t = datetime.datetime.utcnow()
    assert H.wait_until(lambda: datetime.datetime.utcnow() > t, 5)
    a.send(B, "to bob late")
    a.send(C, "to carol late")
    a.barrier()
    wait_archived(a, C, 2)
    assert [body(x) for _, x, _ in query(a, with_=C)[1]] == ["to carol early", "to carol late"]
    everything = [body(x) for _, x, _ in query(a)[1]]
    assert everything == ["to bob early", "to carol early", "to bob late", "to carol late"]
    assert [body(x) for _, x, _ in query(a, start=stamp(t))[1]] == ["to bob late",
                                                                    "to carol late"]
    assert [body(x) for _, x, _ in query(a, end=stamp(t))[1]] == ["to bob early",
                                                                  "to carol early"]
    assert [body(x) for _, x, _ in query(a, with_=B, start=stamp(t))[1]] == ["to bob late"]
    r = query(a, start="yesterday")[0]
    assert error_of(r) == "bad-request"


def test_offline_message_is_archived(plucsd, im):
    a = login(im, plucsd, "alice")
    a.send(B, "while you were away")
    a.barrier()
    b = login(im, plucsd, "bob", available=False)
    r, res, fin = query(b, with_=A)
    assert [body(x) for _, x, _ in res] == ["while you were away"]
    b.available()
    m = b.wait_message(body="while you were away")
    assert m, b.all_messages
    sid = m.el.find("{%s}stanza-id" % NS_SID)
    assert sid is not None and sid.get("id") == res[0][0], ET.tostring(m.el)


def test_preferences(plucsd, im):
    a = login(im, plucsd, "alice")
    b = login(im, plucsd, "bob")
    r = b.iq_el(None, "get", "<prefs xmlns='%s'/>" % NS_MAM)
    p = r.find("{%s}prefs" % NS_MAM)
    assert p is not None and p.get("default") == "always", ET.tostring(r)
    r = b.iq_el(None, "set", "<prefs xmlns='%s' default='never'><always><jid>%s</jid></always>"
                             "<never/></prefs>" % (NS_MAM, C))
    assert r.get("type") == "result", ET.tostring(r)
    r = b.iq_el(None, "get", "<prefs xmlns='%s'/>" % NS_MAM)
    p = r.find("{%s}prefs" % NS_MAM)
    assert p.get("default") == "never"
    assert [j.text for j in p.find("{%s}always" % NS_MAM)] == [C]
    c = login(im, plucsd, "carol")
    a.send(B, "not kept for bob")
    c.send(B, "kept: carol is in always")
    assert b.wait_message(body="not kept for bob") and b.wait_message(body="kept: carol is in always")
    wait_archived(b, C, 1)
    wait_archived(a, B, 1)     # alice's default is still always
    assert query(b, with_=A)[1] == []
    # never list beats the default always
    r = a.iq_el(None, "set", "<prefs xmlns='%s' default='always'><always/><never><jid>%s</jid>"
                             "</never></prefs>" % (NS_MAM, C))
    assert r.get("type") == "result"
    a.send(C, "not kept for alice")
    a.send(B, "kept for alice")
    a.barrier()
    wait_archived(a, B, 2)
    assert query(a, with_=C)[1] == []
    assert error_of(b.iq_el(None, "set", "<prefs xmlns='%s' default='sometimes'/>" % NS_MAM)) \
        == "bad-request"


def test_owner_only_form_and_disco(plucsd, im):
    a = login(im, plucsd, "alice")
    b = login(im, plucsd, "bob")
    r = query(a, to=B)[0]
    assert error_of(r) == "forbidden"
    r = a.iq_el(B, "get", "<prefs xmlns='%s'/>" % NS_MAM)
    assert error_of(r) == "forbidden"
    r = a.iq_el(None, "get", "<query xmlns='%s'/>" % NS_MAM)
    x = r.find("{%s}query/{%s}x" % (NS_MAM, NS_X))
    assert x is not None, ET.tostring(r)
    vars_ = {f.get("var") for f in x}
    assert {"FORM_TYPE", "with", "start", "end", "before-id", "after-id"} <= vars_
    assert NS_MAM in a.disco_info(A)
    assert NS_SID in a.disco_info()
    # asked of another account: the account answers, the archive is alice's only
    assert query(a, to=A)[0].get("type") == "result"


def test_slixmpp_xep_0313(plucsd, im):
    a = login(im, plucsd, "alice")
    b = login(im, plucsd, "bob")
    for i in range(5):
        a.send(B, "slix %d" % i)
    a.barrier()
    wait_archived(a, B, 5)
    b.x.register_plugin("xep_0313")
    from slixmpp.jid import JID

    async def fetch():
        out = []
        async for rsm_page in b.x["xep_0313"].retrieve(with_jid=JID(A), iterator=True, rsm={"max": 2}):
            for m in rsm_page["mam"]["results"]:
                out.append(m["mam_result"]["forwarded"]["stanza"]["body"])
            if len(out) > 20:
                break
        return out
    try:
        got = b.run(fetch(), 20)
    except TypeError:
        # slixmpp 1.8's retrieve(iterator=True) returns a ResultIterator
        async def fetch2():
            out = []
            it = b.x["xep_0313"].retrieve(with_jid=JID(A), iterator=True, rsm={"max": 2})
            async for page in it:
                for m in page["mam"]["results"]:
                    out.append(m["mam_result"]["forwarded"]["stanza"]["body"])
            return out
        got = b.run(fetch2(), 20)
    assert got == ["slix %d" % i for i in range(5)], got


def test_mam_off(plucsd_factory, im):
    d = plucsd_factory(**{"plucs/mam": "false"})
    a = login(im, d, "alice")
    b = login(im, d, "bob")
    assert NS_MAM not in a.disco_info(A)
    assert NS_SID not in a.disco_info()
    a.send(B, "no archive")
    m = b.wait_message(body="no archive")
    assert m and m.el.find("{%s}stanza-id" % NS_SID) is None
    assert error_of(query(a)[0]) == "service-unavailable"


def test_retention_deletes_old_rows(plucsd_factory, im):
    d = plucsd_factory(**{"plucs/mam/days": "2"})
    a = login(im, d, "alice")
    b = login(im, d, "bob")
    a.send(B, "recent")
    assert b.wait_message(body="recent")
    wait_archived(b, A, 1)
    a.close()
    b.close()
    assert d.terminate() == 0
    db = d.registry["plucs/store"].split(":", 1)[1]
    old_us = int((time.time() - 3 * 86400) * 1e6)
    con = sqlite3.connect(db)
    stanza = "<message xmlns='jabber:client' from='alice@a.test/r' to='bob@a.test' type='chat'><body>%s</body></message>"
    rows = [((old_us + i) << 8, B, A, old_us + i, 0, stanza % ("old %d" % i)) for i in range(5000)]
    con.executemany("INSERT INTO mam (id, owner, with_jid, ts, dir, stanza) VALUES (?,?,?,?,?,?)", rows)
    con.commit()
    assert con.execute("SELECT COUNT(*) FROM mam WHERE owner=?", (B,)).fetchone()[0] == 5001
    con.close()
    d.start()

    def count():
        c = sqlite3.connect(db)
        try:
            return c.execute("SELECT COUNT(*) FROM mam WHERE owner=?", (B,)).fetchone()[0]
        finally:
            c.close()
    assert H.wait_until(lambda: count() == 1, 15), "old rows remain: %d" % count()
    b = login(im, d, "bob", resource="again")
    assert [body(x) for _, x, _ in query(b, with_=A)[1]] == ["recent"]


def test_default_roster_and_messages_to_self(plucsd, im):
    ida = login(im, plucsd, "ida")
    hugo = login(im, plucsd, "hugo")      # shares the group 'projects' with ida
    nora = login(im, plucsd, "nora")      # in no group
    IDA, HUGO, NORA = "ida@a.test", "hugo@a.test", "nora@a.test"
    r = ida.iq_el(None, "set", "<prefs xmlns='%s' default='roster'><always/><never/></prefs>"
                  % NS_MAM)
    assert r.get("type") == "result", ET.tostring(r)
    hugo.send(IDA, "from the shared roster")
    nora.send(IDA, "from a stranger")
    assert ida.wait_message(body="from the shared roster") and ida.wait_message(body="from a stranger")
    wait_archived(ida, HUGO, 1)
    wait_archived(nora, IDA, 1)           # nora's own copy: her default is always
    assert query(ida, with_=NORA)[1] == []
    # once nora is in ida's personal roster, her messages are archived for ida
    assert ida.roster_set(NORA, name="Nora") == ("result", None)
    nora.send(IDA, "now a contact")
    assert ida.wait_message(body="now a contact")
    wait_archived(ida, NORA, 1)
    assert [body(x) for _, x, _ in query(ida, with_=NORA)[1]] == ["now a contact"]
    # a message to oneself is archived once
    hugo.send(HUGO, "note to self")
    assert hugo.wait_message(body="note to self")
    hugo.send(HUGO, "second note")
    assert hugo.wait_message(body="second note")
    wait_archived(hugo, HUGO, 1)
    # the store runs requests in order: once the second note is archived,
    # every copy of the first one is too
    assert H.wait_until(lambda: "second note" in [body(x) for _, x, _ in query(hugo, with_=HUGO)[1]], 10)
    assert [body(x) for _, x, _ in query(hugo, with_=HUGO)[1]] == ["note to self", "second note"]
