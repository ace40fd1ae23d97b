"""Rosters: the shared roster from the directory (directory.md "Shared
roster", manual 4.2.1) and personal roster items with RFC 6121 subscriptions
(sections 2 and 3) and roster versioning (RFC 6121 2.6 / XEP-0237).

Directory data (data.ldif): a.test has alice, bob, carol (staff), alice
(managers), carol (interns), hugo, ida (projects), kai (unlabelled: no
description), ida also in mixed with bea of b.test; dave (bstaff) and bea in
b.test; erin disabled; nora, oscar, lena in no group.

Expected shared rosters are stated explicitly for the known users and, in
addition, computed from the directory's current content by
plucs_harness.expected_shared_roster (directory.md's rules), so that entries
other tests append to data.ldif do not break these tests.
"""

import plucs_harness as H

A, B, C = "alice@a.test", "bob@a.test", "carol@a.test"
HUGO, IDA, KAI, BEA = "hugo@a.test", "ida@a.test", "kai@a.test", "bea@b.test"
N, O = "nora@a.test", "oscar@a.test"


def check_shared(items, expected, user):
    """Every expected contact is there exactly as directory.md says."""
    for j, (name, groups) in expected.items():
        assert j in items, "%s: shared contact %s missing from %r" % (user, j, sorted(items))
        it = items[j]
        assert it.subscription == "both", "%s: %r (shared items have subscription both)" % (user, it)
        assert it.ask is None, "%s: %r" % (user, it)
        assert it.name == name, "%s: %s name %r, expected %r" % (user, j, it.name, name)
        assert it.groups == groups, "%s: %s groups %r, expected %r" % (user, j, it.groups, groups)


def roster_of(im, d, user, resource="r"):
    c = im(user, daemon=d, resource=resource)
    assert c.login().ok
    return c, c.roster()


# --- shared roster --------------------------------------------------------------

def test_shared_roster_default_scope_domain(plucsd, im, ldap):
    c, items = roster_of(im, plucsd, "alice")
    # Explicit expectations (gecos as name, cn as group label).
    check_shared(items, {
        B: ("Bob Brown", ["staff"]),
        C: ("Carol Clark", ["interns", "staff"]),   # one item, two groups
        HUGO: ("Hugo Hill", ["projects"]),          # a group alice is not in
        IDA: ("Ida Ives", ["mixed", "projects"]),   # mixed also has bea of b.test
        KAI: ("Kai Kern", ["unlabelled"]),
    }, A)
    assert A not in items, "the user herself is in her roster"
    for j in ("dave@b.test", BEA):
        assert j not in items, "account of b.test %s in a roster of a.test" % j
    assert not any(j.endswith("@b.test") for j in items), sorted(items)
    assert "erin@a.test" not in items, "disabled account erin listed"
    # In no XMPP group: not shared contacts of anybody.
    for j in (N, O, "lena@a.test", "paren(s)*@a.test", "nodomain@a.test", "plainuser@a.test"):
        assert j not in items, "%s is in no XMPP group but listed" % j
    # oldgroup (xmppEnabled FALSE) and plaingroup (no XMPP class) add nothing.
    assert "oldgroup" not in items[B].groups and "plaingroup" not in items[B].groups
    # managers has no member besides alice: it does not appear.
    assert not any("managers" in it.groups for it in items.values())
    # Exactly directory.md's shared roster (no personal items exist yet).
    exp = H.expected_shared_roster(ldap, A)
    check_shared(items, exp, A)
    assert set(items) == set(exp), "extra: %r missing: %r" % (
        sorted(set(items) - set(exp)), sorted(set(exp) - set(items)))


def test_shared_roster_isolated_per_domain(plucsd, im, ldap):
    c, items = roster_of(im, plucsd, "dave")
    check_shared(items, {BEA: ("Bea Berg", ["mixed"])}, "dave@b.test")
    assert not any(j.endswith("@a.test") for j in items), \
        "accounts of a.test visible in b.test: %r" % sorted(items)
    exp = H.expected_shared_roster(ldap, "dave@b.test")
    check_shared(items, exp, "dave@b.test")
    assert set(items) == set(exp)
    # And bea (same group as ida of a.test) sees only dave's domain.
    c2, items2 = roster_of(im, plucsd, "bea")
    assert IDA not in items2 and not any(j.endswith("@a.test") for j in items2), sorted(items2)


def test_shared_roster_user_in_no_group_sees_the_domain(plucsd, im, ldap):
    # Default scope is the domain: nora is in no group and still sees every
    # XMPP group of a.test with its members.
    c, items = roster_of(im, plucsd, "nora")
    check_shared(items, {
        A: ("Alice Anderson", ["managers", "staff"]),
        B: ("Bob Brown", ["staff"]),
        KAI: ("Kai Kern", ["unlabelled"]),
    }, N)
    exp = H.expected_shared_roster(ldap, N)
    check_shared(items, exp, N)
    assert set(items) == set(exp)


def test_labels_from_registry(plucsd_factory, im, ldap):
    d = plucsd_factory(**{"plucs/userlabel": "displayName", "plucs/grouplabel": "description"})
    c, items = roster_of(im, d, "alice")
    check_shared(items, {
        B: ("Bob Brown", ["Staff"]),
        C: ("Carol Clark", ["Interns", "Staff"]),
        HUGO: ("Dr. Hugo Hill", ["Projects"]),      # displayName, not gecos
        IDA: (None, ["Mixed", "Projects"]),         # no displayName: no name attribute
        KAI: ("Kai Kern", []),                      # unlabelled has no description: no <group/>
    }, A)
    assert "name" not in items[IDA].el.attrib, "item without label must have no name attribute"
    exp = H.expected_shared_roster(ldap, A, userlabel="displayName", grouplabel="description")
    check_shared(items, exp, A)
    assert set(items) == set(exp)


def test_userlabel_other_attribute(plucsd_factory, im):
    d = plucsd_factory(**{"plucs/userlabel": "sn"})
    c, items = roster_of(im, d, "alice")
    assert items[B].name == "Brown" and items[HUGO].name == "Hill", items
    assert items[C].groups == ["interns", "staff"]


def test_scope_member(plucsd_factory, im, ldap):
    d = plucsd_factory(**{"plucs/roster/scope": "member"})
    c, items = roster_of(im, d, "alice")
    # Only staff and managers (alice's groups); carol shows only staff.
    check_shared(items, {B: ("Bob Brown", ["staff"]), C: ("Carol Clark", ["staff"])}, A)
    for j in (HUGO, IDA, KAI):
        assert j not in items, "%s is in none of alice's groups but listed (scope=member)" % j
    exp = H.expected_shared_roster(ldap, A, scope="member")
    check_shared(items, exp, A)
    assert set(items) == set(exp)
    # kai is alone in his group; nora is in no group: empty shared rosters.
    k, kitems = roster_of(im, d, "kai")
    assert kitems == {}, kitems
    n, nitems = roster_of(im, d, "nora")
    assert nitems == {}, nitems
    # ida: projects (hugo) and mixed (bea is of b.test: not shown).
    i, iitems = roster_of(im, d, "ida")
    check_shared(iitems, {HUGO: ("Hugo Hill", ["projects"])}, IDA)
    assert set(iitems) == {HUGO}, iitems


def test_shared_item_cannot_be_renamed_or_removed(plucsd, im):
    c = im("alice", daemon=plucsd, resource="r")
    assert c.login().ok
    before = c.roster()
    assert c.roster_set(B, name="Bobby", groups=["staff"]) == ("error", "not-allowed")
    assert c.roster_remove(B) == ("error", "not-allowed")
    assert c.roster_remove(C) == ("error", "not-allowed")
    c.quiet(0.5)
    assert not c.saw_push(B) and not c.saw_push(C), "push after a refused change: %r" % c.pushes
    after = c.roster()
    for j in (B, C):
        assert (after[j].name, after[j].subscription, after[j].groups) == \
            (before[j].name, before[j].subscription, before[j].groups)


# --- personal roster and subscriptions (RFC 6121 2 and 3) --------------------------

def pair(im, d, nres=1):
    """nora (resources n1..) and oscar (o1), logged in, roster requested
    (interested resources), available. Not shared contacts of each other."""
    ns = []
    for i in range(nres):
        n = im("nora", daemon=d, resource="n%d" % (i + 1))
        assert n.login().ok
        ns.append(n)
    o = im("oscar", daemon=d, resource="o1")
    assert o.login().ok
    for c in ns + [o]:
        items = c.roster()
        assert N not in items and O not in items, \
            "nora and oscar must not be shared contacts: %r" % sorted(items)
    for c in ns + [o]:
        c.available()
    for c in ns + [o]:
        c.forget()
    return ns, o


def approve(requester, contact, rjid, cjid):
    """REQUESTER subscribes to CONTACT's presence, CONTACT approves; checks
    the pushes on both sides. Returns (requester's item sub, contact's)."""
    requester.subscribe(cjid)
    p = requester.wait_push(cjid, pred=lambda p: p.item.ask == "subscribe")
    assert p, "no roster push with ask='subscribe' (RFC 6121 3.1.2): %r" % requester.pushes
    s = contact.wait_presence(frm=rjid, type="subscribe")
    assert s, "contact did not receive the subscription request: %r" % contact.presences
    assert s.frm == rjid, "subscribe must come from the bare JID, got %r" % s.frm
    contact.subscribed(rjid)
    pc = contact.wait_push(rjid, pred=lambda p: p.item.subscription in ("from", "both"))
    assert pc, "contact got no push for the approval (RFC 6121 3.1.5): %r" % contact.pushes
    pr = requester.wait_push(cjid, pred=lambda p: p.item.subscription in ("to", "both"))
    assert pr, "requester got no push for the approval (RFC 6121 3.1.6): %r" % requester.pushes
    assert pr.item.ask is None, pr
    assert requester.wait_presence(frm=cjid, type="subscribed"), \
        "requester did not receive 'subscribed': %r" % requester.presences
    return pr.item.subscription, pc.item.subscription


def test_roster_set_pushes_to_all_interested_resources(plucsd, im):
    (n1, n2), o = pair(im, plucsd, nres=2)
    assert n1.roster_set(O, name="Oscar O.", groups=["Friends", "Work"]) == ("result", None)
    for n in (n1, n2):
        p = n.wait_push(O)
        assert p, "%s: no roster push after roster set: %r" % (n.jid, n.all_pushes)
        assert p.nitems == 1 and p.frm in (None, "", N), p
        assert (p.item.name, p.item.subscription, p.item.ask, p.item.groups) == \
            ("Oscar O.", "none", None, ["Friends", "Work"]), p
    items = n2.roster()
    assert items[O].name == "Oscar O." and items[O].subscription == "none"
    assert items[O].groups == ["Friends", "Work"]
    assert A in items and items[A].subscription == "both", "shared items must stay"
    # Update (rename, regroup) and remove.
    assert n2.roster_set(O, name="Ossi", groups=["Friends"]) == ("result", None)
    for n in (n1, n2):
        p = n.wait_push(O)
        assert p and (p.item.name, p.item.groups) == ("Ossi", ["Friends"]), p
    assert n1.roster_remove(O) == ("result", None)
    for n in (n1, n2):
        p = n.wait_push(O)
        assert p and p.item.subscription == "remove", p
    assert O not in n1.roster()
    # The contact's roster was never touched.
    assert N not in o.roster()
    assert not o.saw_push(N)


def test_personal_item_persists(plucsd, im):
    n = im("nora", daemon=plucsd, resource="n1")
    assert n.login().ok
    assert n.roster_set(O, name="Oscar", groups=["Friends"]) == ("result", None)
    n.close()
    n2 = im("nora", daemon=plucsd, resource="n2")
    assert n2.login().ok
    it = n2.roster().get(O)
    assert it is not None and (it.name, it.groups) == ("Oscar", ["Friends"]), it
    # ... and across a restart of the daemon (stored in plucs/store).
    n2.close()
    assert plucsd.terminate() == 0
    H.plucsd_restart(plucsd)
    n3 = im("nora", daemon=plucsd, resource="n3")
    assert n3.login().ok
    it = n3.roster().get(O)
    assert it is not None and (it.name, it.groups) == ("Oscar", ["Friends"]), it


def test_subscription_handshake(plucsd, im):
    (n1, n2), o = pair(im, plucsd, nres=2)
    assert n1.roster_set(O, name="Oscar", groups=["Friends"]) == ("result", None)
    assert n1.wait_push(O) and n2.wait_push(O)

    # nora asks (RFC 6121 3.1.2): pending-out push to every interested resource.
    n1.subscribe(O)
    for n in (n1, n2):
        p = n.wait_push(O, pred=lambda p: p.item.ask == "subscribe")
        assert p, "%s: no push with ask='subscribe': %r" % (n.jid, n.all_pushes)
        assert p.item.subscription == "none" and p.item.name == "Oscar" \
            and p.item.groups == ["Friends"], p
    s = o.wait_presence(frm=N, type="subscribe")
    assert s and s.frm == N, "oscar did not get the request from nora's bare JID: %r" % o.all_presences
    assert n1.roster()[O].ask == "subscribe"

    # oscar approves (3.1.5 / 3.1.6).
    o.subscribed(N)
    po = o.wait_push(N, pred=lambda p: p.item.subscription == "from")
    assert po, "oscar got no push subscription='from': %r" % o.all_pushes
    for n in (n1, n2):
        p = n.wait_push(O, pred=lambda p: p.item.subscription == "to")
        assert p, "%s: no push subscription='to': %r" % (n.jid, n.all_pushes)
        assert p.item.ask is None and p.item.name == "Oscar" and p.item.groups == ["Friends"], p
        assert n.wait_presence(frm=O, type="subscribed"), n.all_presences
        # oscar's current presence arrives at once (3.1.5).
        assert n.wait_presence(frm=O + "/o1", type="available"), \
            "%s: oscar's presence not sent after approval: %r" % (n.jid, n.all_presences)
    assert n1.roster()[O].subscription == "to"
    assert o.roster()[N].subscription == "from"

    # Presence now flows oscar -> nora, not nora -> oscar.
    for c in (n1, n2, o):
        c.forget()
    o.available(status="at lunch")
    assert n1.wait_presence(frm=O + "/o1", pred=lambda s: s.status == "at lunch"), n1.all_presences
    n1.available(status="nora here")
    o.quiet(1.0)
    assert not o.saw_presence(frm=N, type="available"), \
        "oscar is not subscribed to nora but got her presence: %r" % o.presences

    # Mutual: oscar asks, nora approves -> both.
    for c in (n1, n2, o):
        c.forget()
    o.subscribe(N)
    p = o.wait_push(N, pred=lambda p: p.item.ask == "subscribe")
    assert p and p.item.subscription == "from", p
    assert n2.wait_presence(frm=O, type="subscribe"), n2.all_presences
    n2.subscribed(O)
    for n in (n1, n2):
        p = n.wait_push(O, pred=lambda p: p.item.subscription == "both")
        assert p and p.item.ask is None, "%s: %r" % (n.jid, n.all_pushes)
    p = o.wait_push(N, pred=lambda p: p.item.subscription == "both")
    assert p and p.item.ask is None, o.all_pushes
    # nora's current presence reaches oscar (both resources available).
    assert o.wait_presence(frm=N + "/n1", type="available"), o.all_presences
    assert o.wait_presence(frm=N + "/n2", type="available"), o.all_presences
    assert n1.roster()[O].subscription == "both"
    assert o.roster()[N].subscription == "both"


def test_subscribe_to_offline_contact_delivered_later(plucsd, im):
    n = im("nora", daemon=plucsd, resource="n1")
    assert n.login().ok
    n.roster()
    n.available()
    n.subscribe(O)
    # The push follows the stored roster change; the request kept for oscar
    # is queued to the store before it, ahead of anything oscar's login asks.
    assert n.wait_push(O, pred=lambda p: p.item.ask == "subscribe"), n.all_pushes
    # oscar logs in later: the pending request reaches him with his initial presence.
    o = im("oscar", daemon=plucsd, resource="o1")
    assert o.login().ok
    o.roster()
    o.available()
    s = o.wait_presence(frm=N, type="subscribe")
    assert s, "stored subscription request not delivered (RFC 6121 3.1.3): %r" % o.all_presences
    o.subscribed(N)
    assert n.wait_push(O, pred=lambda p: p.item.subscription == "to"), n.all_pushes
    assert n.wait_presence(frm=O + "/o1", type="available"), n.all_presences


def test_denied_subscription(plucsd, im):
    (n,), o = pair(im, plucsd)
    n.subscribe(O)
    assert n.wait_push(O, pred=lambda p: p.item.ask == "subscribe")
    assert o.wait_presence(frm=N, type="subscribe")
    o.unsubscribed(N)
    p = n.wait_push(O, pred=lambda p: p.item.ask is None)
    assert p and p.item.subscription == "none", "pending request not cleared: %r" % n.all_pushes
    assert n.wait_presence(frm=O, type="unsubscribed"), n.all_presences
    assert n.roster()[O].subscription == "none" and n.roster()[O].ask is None


def make_mutual(n, o):
    assert approve(n, o, N, O) == ("to", "from")
    assert approve(o, n, O, N) == ("both", "both")
    # Each approval ends with the approver's current presence to the
    # requester (RFC 6121 3.1.5): wait for both before forgetting.
    for c, other in ((n, O), (o, N)):
        assert c.wait_for(lambda: c.saw_presence(frm=other, type="available")), \
            "%s got no presence from %s after the approval: %r" % (c.jid, other, c.all_presences)
        c.forget()


def test_unsubscribe(plucsd, im):
    (n,), o = pair(im, plucsd)
    make_mutual(n, o)
    # nora stops receiving oscar's presence (RFC 6121 3.3).
    n.unsubscribe(O)
    p = n.wait_push(O, pred=lambda p: p.item.subscription == "from")
    assert p, "nora: no push both->from: %r" % n.all_pushes
    p = o.wait_push(N, pred=lambda p: p.item.subscription == "to")
    assert p, "oscar: no push both->to: %r" % o.all_pushes
    assert o.wait_presence(frm=N, type="unsubscribe"), o.all_presences
    n.expect_unavailable(O + "/o1")
    n.forget()
    o.available(status="after unsubscribe")
    n.quiet(1.0)
    assert not n.saw_presence(frm=O, type="available"), n.presences
    # nora's presence still reaches oscar.
    n.available(status="still visible")
    assert o.wait_presence(frm=N + "/n1", pred=lambda s: s.status == "still visible"), o.all_presences


def test_unsubscribed_cancels(plucsd, im):
    (n,), o = pair(im, plucsd)
    make_mutual(n, o)
    # nora cancels oscar's subscription to her presence (RFC 6121 3.2).
    n.unsubscribed(O)
    p = n.wait_push(O, pred=lambda p: p.item.subscription == "to")
    assert p, "nora: no push both->to: %r" % n.all_pushes
    p = o.wait_push(N, pred=lambda p: p.item.subscription == "from")
    assert p, "oscar: no push both->from: %r" % o.all_pushes
    assert o.wait_presence(frm=N, type="unsubscribed"), o.all_presences
    o.expect_unavailable(N + "/n1")
    o.forget()
    n.available(status="hidden now")
    o.quiet(1.0)
    assert not o.saw_presence(frm=N, type="available"), o.presences
    assert n.roster()[O].subscription == "to"
    assert o.roster()[N].subscription == "from"


def test_roster_remove_ends_subscriptions(plucsd, im):
    (n,), o = pair(im, plucsd)
    make_mutual(n, o)
    assert n.roster_remove(O) == ("result", None)
    p = n.wait_push(O, pred=lambda p: p.item.subscription == "remove")
    assert p, n.all_pushes
    # RFC 6121 2.5.2: unsubscribe + unsubscribed go to oscar.
    p = o.wait_push(N, pred=lambda p: p.item.subscription == "none")
    assert p, "oscar's item must drop to 'none': %r" % o.all_pushes
    o.expect_unavailable(N + "/n1")
    n.expect_unavailable(O + "/o1")
    assert O not in n.roster()
    assert o.roster()[N].subscription == "none"
    n.forget()
    o.forget()
    o.available(status="gone")
    n.available(status="gone too")
    n.quiet(1.0)
    assert not n.saw_presence(frm=O, type="available")
    assert not o.saw_presence(frm=N, type="available")


def test_roster_versioning_advertised(plucsd, im):
    n = im("nora", daemon=plucsd, resource="n1")
    assert n.login().ok
    assert "rosterver" in n.roster_features(), \
        "<ver xmlns='urn:xmpp:features:rosterver'/> not among the stream features " \
        "(RFC 6121 2.6.1: MUST advertise when versioning is supported)"


def test_roster_versioning(plucsd, im):
    n = im("nora", daemon=plucsd, resource="n1")
    assert n.login().ok
    r = n.roster_get(ver="")
    assert r.type == "result" and r.items is not None, r
    v1 = r.ver
    assert v1, "roster result without a ver attribute: %r" % r
    # Same version: empty result (no <query/>).
    r = n.roster_get(ver=v1)
    assert r.type == "result" and r.items is None, \
        "a get with the current version must return an empty result: %r" % r
    # A change carries the new version in its push.
    assert n.roster_set(O, name="Oscar") == ("result", None)
    p = n.wait_push(O)
    assert p and p.ver and p.ver != v1, "push must carry a new ver: %r" % p
    v2 = p.ver
    r = n.roster_get(ver=v2)
    assert r.type == "result" and r.items is None, r
    # The old version: either the whole roster at v2, or an empty result
    # followed by pushes for what changed since v1.
    n.forget()
    r = n.roster_get(ver=v1)
    assert r.type == "result", r
    if r.items is not None:
        assert r.ver == v2 and O in r.items, r
    else:
        assert n.wait_push(O), "empty result for an old version but no push: %r" % n.all_pushes
    # Versions survive a new session.
    n.close()
    n2 = im("nora", daemon=plucsd, resource="n2")
    assert n2.login().ok
    r = n2.roster_get(ver=v2)
    assert r.type == "result" and r.items is None, r
