/* test_router.c: the router's delivery rules with a fake session table
 * plugged in through the locator seam (router/locator.h) and a snapshot
 * built from in-memory directory entries: a bare JID's message goes to
 * every resource at the top priority, headline to every non-negative one,
 * a message with no resource fires EV_UNDELIVERABLE (and is bounced when no
 * module takes it), a gone full JID, the policy stage's verdict turned
 * into a bounce by the router, the outbound/inbound events, and stanzas
 * from remote servers (router_from_remote: the policy stage with the
 * remote sender in no group, iq for the server answered through the
 * remote-origin pseudo-session, EV_REMOTE_PRESENCE, offline, errors never
 * answered, spoofed or misaddressed stanzas dropped). Everything
 * a fake session receives goes through router_deliver_session() and
 * session_send(), as in the server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_build.h"
#include "router/events.h"
#include "router/router.h"
#include "xml/xml_fragment.h"

/* --- fake sessions and the fake locator -------------------------------- */

#define NFAKE 8

typedef struct fake {
    session s;
    route_ref ref;
    char out[8192];     /* everything written to this session */
    size_t len;
} fake;

static fake fakes[NFAKE];
static size_t nfakes;

static void fake_write(session *s, const char *data, size_t len)
{
    fake *f = (fake *)s;
    if (f->len + len < sizeof f->out) {
        memcpy(f->out + f->len, data, len);
        f->len += len;
        f->out[f->len] = 0;
    }
}

static void fake_close(session *s, const char *condition, const char *text) {}
static void fake_pause(session *s) {}
static const session_ops fake_ops = { fake_write, fake_close, fake_pause, fake_pause };

static fake *online(const char *user, const char *resource, int priority, bool available)
{
    fake *f = &fakes[nfakes];
    memset(f, 0, sizeof *f);
    f->s.id = ++nfakes;
    f->s.ops = &fake_ops;
    f->s.node = strdup(user);
    f->s.domain = strdup("a.test");
    char tmp[200];
    snprintf(tmp, sizeof tmp, "%s@a.test", user);
    f->s.bare = strdup(tmp);
    f->s.resource = strdup(resource);
    snprintf(tmp, sizeof tmp, "%s@a.test/%s", user, resource);
    f->s.full = strdup(tmp);
    f->s.bound = true;
    f->s.available = available;
    f->s.priority = priority;
    f->ref = (route_ref){ .sid = f->s.id, .priority = priority, .available = available };
    return f;
}

static size_t fake_resources(const char *bare, route_ref *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < nfakes && n < max; i++)
        if (!strcmp(fakes[i].s.bare, bare))
            out[n++] = fakes[i].ref;
    return n;
}

static bool fake_resource(const char *bare, const char *resource, route_ref *out)
{
    for (size_t i = 0; i < nfakes; i++)
        if (!strcmp(fakes[i].s.bare, bare) && !strcmp(fakes[i].s.resource, resource)) {
            *out = fakes[i].ref;
            return true;
        }
    return false;
}

static void fake_deliver(const route_ref *r, xnode *st)
{
    for (size_t i = 0; i < nfakes; i++)
        if (fakes[i].s.id == r->sid) {
            router_deliver_session(&fakes[i].s, st);
            return;
        }
    router_session_gone(st);
}

static const session_locator fake_locator = { fake_resources, fake_resource, fake_deliver };

/* how many times `what` occurs in what f received */
static int count(const fake *f, const char *what)
{
    int n = 0;
    for (const char *p = f->out; (p = strstr(p, what)); p++)
        n++;
    return n;
}

/* --- the directory: alice, bob, carol (interns: may message nobody) ---- */

static dir_entry *ents[16];
static size_t nents;
static dir_snapshot *snap, *snap_open;   /* snap_open: plucs/mod/filter off */

static char **list(const char *a, const char *b, const char *c, size_t *n)
{
    char **v = calloc(4, sizeof *v);
    *n = 0;
    if (a) v[(*n)++] = strdup(a);
    if (b) v[(*n)++] = strdup(b);
    if (c) v[(*n)++] = strdup(c);
    return v;
}

static void user(const char *uid)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[100];
    snprintf(dn, sizeof dn, "uid=%s,cn=users", uid);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_ACCOUNT;
    e->enabled = true;
    e->uid = strdup(uid);
    e->domain = strdup("a.test");
    ents[nents++] = e;
}

static void group(const char *cn, char **members, size_t nm, char **mg, size_t nmg)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[100];
    snprintf(dn, sizeof dn, "cn=%s,cn=groups", cn);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_GROUP;
    e->enabled = true;
    e->cn = strdup(cn);
    e->glabel = strdup(cn);
    e->members = members;
    e->nmembers = nm;
    e->mgroups = mg;
    e->nmgroups = nmg;
    e->pgroups = NULL;
    ents[nents++] = e;
}

/* undeliverable hook of the tests */
static int undeliverable_calls;
static session *undeliverable_origin;
static char undeliverable_bare[64];
static hook_result take_undeliverable(session *origin, xnode *st, const char *bare)
{
    undeliverable_calls++;
    undeliverable_origin = origin;
    snprintf(undeliverable_bare, sizeof undeliverable_bare, "%s", bare);
    return HOOK_STOP;
}

static int setup(void **state)
{
    user("alice");
    user("bob");
    user("carol");
    size_t n1, n2, n3, n4;
    char **staff = list("alice", "bob", NULL, &n1);
    char **staff_may = list("staff", NULL, NULL, &n2);
    group("staff", staff, n1, staff_may, n2);
    char **interns = list("carol", NULL, NULL, &n3);
    char **interns_may = list(NULL, NULL, NULL, &n4);
    group("interns", interns, n3, interns_may, n4);
    char *domains[] = { "a.test" };
    dir_build_opts o = { .filter = true, .msg_allow = false, .pres_allow = false,
                         .complete = true, .serial = 1 };
    snap = dir_snapshot_build(domains, 1, ents, nents, &o);
    assert_non_null(snap);
    o.filter = false;
    snap_open = dir_snapshot_build(domains, 1, ents, nents, &o);
    assert_non_null(snap_open);
    router_set_snapshot(snap);
    router_set_locator(&fake_locator);
    return 0;
}

static int teardown(void **state)
{
    router_set_locator(NULL);
    router_set_snapshot(NULL);
    dir_snapshot_unref(snap);
    dir_snapshot_unref(snap_open);
    for (size_t i = 0; i < nents; i++)
        dir_entry_free(ents[i]);
    nents = 0;
    return 0;
}

static int reset(void **state)
{
    for (size_t i = 0; i < nfakes; i++) {
        free(fakes[i].s.node);
        free(fakes[i].s.domain);
        free(fakes[i].s.bare);
        free(fakes[i].s.resource);
        free(fakes[i].s.full);
    }
    nfakes = 0;
    events_reset();
    router_set_snapshot(snap);
    undeliverable_calls = 0;
    undeliverable_origin = NULL;
    return 0;
}

static void send_from(fake *f, const char *xml)
{
    xnode *st = xml_fragment_parse(xml, strlen(xml), NS_CLIENT, 16);
    assert_non_null(st);
    router_from_session(&f->s, st);
}

/* --- tests -------------------------------------------------------------- */

static void test_bare_message_to_every_top_resource(void **state)
{
    fake *a = online("alice", "desk", 0, true);
    fake *desk = online("bob", "desk", 2, true);
    fake *phone = online("bob", "phone", 2, true);
    fake *low = online("bob", "low", 1, true);
    fake *neg = online("bob", "neg", -1, true);
    fake *away = online("bob", "away", 5, false);   /* bound, not available */
    send_from(a, "<message to='Bob@A.test' type='chat'><body>hi</body></message>");
    assert_int_equal(count(desk, "<body>hi</body>"), 1);
    assert_int_equal(count(phone, "<body>hi</body>"), 1);
    assert_int_equal(count(low, "<body>hi</body>"), 0);
    assert_int_equal(count(neg, "<body>hi</body>"), 0);
    assert_int_equal(count(away, "<body>hi</body>"), 0);
    assert_int_equal(count(desk, "from='alice@a.test/desk'"), 1);   /* stamped */
    assert_int_equal(count(a, "error"), 0);

    /* headline: every available resource with priority >= 0 */
    send_from(a, "<message to='bob@a.test' type='headline'><body>news</body></message>");
    assert_int_equal(count(desk, "news"), 1);
    assert_int_equal(count(phone, "news"), 1);
    assert_int_equal(count(low, "news"), 1);
    assert_int_equal(count(neg, "news"), 0);
}

static void test_no_resource_fires_undeliverable(void **state)
{
    fake *a = online("alice", "desk", 0, true);
    fake *neg = online("bob", "neg", -1, true);
    assert_int_equal(events_on_undeliverable(take_undeliverable), 0);
    send_from(a, "<message to='bob@a.test' type='chat'><body>later</body></message>");
    assert_int_equal(undeliverable_calls, 1);
    assert_ptr_equal(undeliverable_origin, &a->s);   /* the origin, explicitly */
    assert_string_equal(undeliverable_bare, "bob@a.test");
    assert_int_equal(count(neg, "later"), 0);
    assert_int_equal(count(a, "error"), 0);   /* taken care of: no bounce */
}

static void test_undeliverable_without_module_is_bounced(void **state)
{
    fake *a = online("alice", "desk", 0, true);
    send_from(a, "<message id='m1' to='bob@a.test' type='chat'><body>later</body></message>");
    assert_int_equal(count(a, "type='error'"), 1);
    assert_int_equal(count(a, "service-unavailable"), 1);
    assert_int_equal(count(a, "id='m1'"), 1);
    /* no account at all: bounced, the event is not fired */
    assert_int_equal(events_on_undeliverable(take_undeliverable), 0);
    send_from(a, "<message id='m2' to='nobody@a.test' type='chat'><body>x</body></message>");
    assert_int_equal(undeliverable_calls, 0);
    assert_int_equal(count(a, "id='m2'"), 1);
}

static void test_gone_full_jid(void **state)
{
    fake *a = online("alice", "desk", 0, true);
    fake *bob = online("bob", "desk", 0, true);
    /* a message to a resource that is gone goes to the bare JID */
    send_from(a, "<message to='bob@a.test/gone' type='chat'><body>hey</body></message>");
    assert_int_equal(count(bob, "<body>hey</body>"), 1);
    /* an iq to it is answered with service-unavailable */
    send_from(a, "<iq id='q1' type='get' to='bob@a.test/gone'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_int_equal(count(a, "id='q1'"), 1);
    assert_int_equal(count(a, "service-unavailable"), 1);
    assert_int_equal(count(bob, "q1"), 0);
    /* to a resource that is there: that one only */
    send_from(a, "<iq id='q2' type='get' to='bob@a.test/desk'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_int_equal(count(bob, "id='q2'"), 1);
}

static void test_policy_verdict_becomes_a_bounce(void **state)
{
    fake *carol = online("carol", "desk", 0, true);
    fake *alice = online("alice", "desk", 0, true);
    fake *bob = online("bob", "desk", 0, true);
    carol->s.lang[0] = 0;
    /* interns may message nobody: refused, answered with policy-violation */
    send_from(carol, "<message id='p1' to='alice@a.test' type='chat'><body>psst</body></message>");
    assert_int_equal(count(alice, "psst"), 0);
    assert_int_equal(count(carol, "policy-violation"), 1);
    assert_int_equal(count(carol, "id='p1'"), 1);
    /* presence that may not be seen is dropped without an answer */
    send_from(carol, "<presence to='alice@a.test'/>");
    assert_int_equal(count(alice, "carol"), 0);
    assert_int_equal(count(carol, "policy-violation"), 1);
    /* staff to staff passes */
    send_from(alice, "<message to='bob@a.test' type='chat'><body>ok</body></message>");
    assert_int_equal(count(bob, "<body>ok</body>"), 1);
    /* an error from carol is dropped, never answered (no loops) */
    send_from(carol, "<message id='p2' to='alice@a.test' type='error'/>");
    assert_int_equal(count(carol, "id='p2'"), 0);
    assert_int_equal(count(alice, "id='p2'"), 0);
}

static int outbound_seen, inbound_seen;
static hook_result stop_secret(session *s, xnode *st)
{
    outbound_seen++;
    xnode *b = xnode_child(st, "body", NULL);
    char *t = b ? xnode_text(b) : NULL;
    bool secret = t && !strcmp(t, "secret");
    free(t);
    return secret ? HOOK_STOP : HOOK_CONTINUE;
}
static hook_result count_inbound(session *s, xnode *st)
{
    inbound_seen++;
    return HOOK_CONTINUE;
}

static void test_outbound_and_inbound_events(void **state)
{
    fake *a = online("alice", "desk", 0, true);
    fake *bob = online("bob", "desk", 0, true);
    outbound_seen = inbound_seen = 0;
    assert_int_equal(events_on_stanza(EV_OUTBOUND, stop_secret), 0);
    assert_int_equal(events_on_stanza(EV_INBOUND, count_inbound), 0);
    send_from(a, "<message to='bob@a.test'><body>secret</body></message>");
    send_from(a, "<message to='bob@a.test'><body>public</body></message>");
    assert_int_equal(outbound_seen, 2);
    assert_int_equal(inbound_seen, 1);
    assert_int_equal(count(bob, "secret"), 0);
    assert_int_equal(count(bob, "public"), 1);
    /* an iq for the server that no module answers: service-unavailable */
    send_from(a, "<iq id='s1' type='get' to='a.test'><query xmlns='urn:x:none'/></iq>");
    assert_int_equal(count(a, "service-unavailable"), 1);
}

static void test_remote_domain_unreachable(void **state)
{
    router_set_snapshot(snap_open);
    fake *a = online("alice", "desk", 0, true);
    send_from(a, "<message id='r1' to='someone@elsewhere.test'><body>x</body></message>");
    assert_int_equal(count(a, "remote-server-not-found"), 1);
    /* presence is never answered with an error */
    send_from(a, "<presence to='someone@elsewhere.test'/>");
    assert_int_equal(count(a, "remote-server-not-found"), 1);
}

static void test_policy_before_federation(void **state)
{
    /* filter on, policies deny: a remote party is in no group, nobody's
     * lists reach it; refused before it is handed to federation */
    fake *a = online("alice", "desk", 0, true);
    send_from(a, "<message id='r2' to='someone@elsewhere.test'><body>x</body></message>");
    assert_int_equal(count(a, "policy-violation"), 1);
    assert_int_equal(count(a, "remote-server-not-found"), 0);
    send_from(a, "<presence to='someone@elsewhere.test'/>");
    assert_int_equal(count(a, "policy-violation"), 1);
    /* iq is not filtered */
    send_from(a, "<iq id='r3' type='get' to='elsewhere.test'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_int_equal(count(a, "remote-server-not-found"), 1);
}

static void from_remote(const char *xml)
{
    xnode *st = xml_fragment_parse(xml, strlen(xml), NS_CLIENT, 16);
    assert_non_null(st);
    router_from_remote(st);
}

static void test_remote_messages(void **state)
{
    fake *bob = online("bob", "desk", 0, true);
    assert_int_equal(events_on_undeliverable(take_undeliverable), 0);
    /* filter on, deny: a sender in no group may message nobody */
    from_remote("<message from='rose@b.test/x' to='bob@a.test' type='chat'><body>1</body></message>");
    assert_int_equal(count(bob, "<body>1</body>"), 0);
    router_set_snapshot(snap_open);
    from_remote("<message from='Rose@B.test/x' to='Bob@a.test' type='chat'><body>2</body></message>");
    assert_int_equal(count(bob, "<body>2</body>"), 1);
    assert_int_equal(count(bob, "from='rose@b.test/x'"), 1);   /* prepared */
    /* a gone resource: the bare JID's rules */
    from_remote("<message from='rose@b.test/x' to='bob@a.test/gone' type='chat'><body>3</body></message>");
    assert_int_equal(count(bob, "<body>3</body>"), 1);
    /* nobody online: offline storage, with no origin session */
    from_remote("<message from='rose@b.test/x' to='carol@a.test' type='chat'><body>4</body></message>");
    assert_int_equal(undeliverable_calls, 1);
    assert_null(undeliverable_origin);
    assert_string_equal(undeliverable_bare, "carol@a.test");
    /* an error from remote is delivered, never answered */
    from_remote("<message from='rose@b.test/x' to='bob@a.test/desk' type='error' id='e1'/>");
    assert_int_equal(count(bob, "id='e1'"), 1);
    from_remote("<message from='rose@b.test/x' to='carol@a.test' type='error' id='e2'/>");
    assert_int_equal(undeliverable_calls, 1);
    /* claiming a served domain, or for a domain not served here: dropped */
    from_remote("<message from='alice@a.test/x' to='bob@a.test' type='chat'><body>5</body></message>");
    from_remote("<message from='rose@b.test/x' to='bob@c.test' type='chat'><body>6</body></message>");
    from_remote("<message to='bob@a.test' type='chat'><body>7</body></message>");
    assert_int_equal(count(bob, "<body>5</body>"), 0);
    assert_int_equal(count(bob, "<body>7</body>"), 0);
    /* an iq result for a gone resource is dropped; one for a live one delivered */
    from_remote("<iq from='rose@b.test/x' to='bob@a.test/desk' type='result' id='i1'/>");
    assert_int_equal(count(bob, "id='i1'"), 1);
    from_remote("<iq from='rose@b.test/x' to='bob@a.test/gone' type='result' id='i2'/>");
    assert_int_equal(count(bob, "id='i2'"), 0);
}

static int server_iq_calls;
static char server_iq_full[64], server_iq_domain[32];
static bool server_iq_anonymous;
static hook_result take_server_iq(session *s, xnode *st)
{
    server_iq_calls++;
    snprintf(server_iq_full, sizeof server_iq_full, "%s", s->full ? s->full : "");
    snprintf(server_iq_domain, sizeof server_iq_domain, "%s", s->domain ? s->domain : "");
    server_iq_anonymous = s->remote && !s->bare && !s->node && !s->bound;
    return HOOK_STOP;
}

static int remote_presence_calls;
static hook_result take_remote_presence(session *s, xnode *st)
{
    remote_presence_calls++;
    const char *type = xnode_attr(st, "type");
    return type && !strcmp(type, "probe") ? HOOK_STOP : HOOK_CONTINUE;
}

static void test_remote_iq_and_presence(void **state)
{
    router_set_snapshot(snap_open);
    fake *bob = online("bob", "desk", 0, true);
    server_iq_calls = remote_presence_calls = 0;
    assert_int_equal(events_on_stanza(EV_SERVER_IQ, take_server_iq), 0);
    assert_int_equal(events_on_stanza(EV_REMOTE_PRESENCE, take_remote_presence), 0);
    /* to the server and to an account's bare JID: the modules' event,
     * with an anonymous remote requester */
    from_remote("<iq from='rose@b.test/x' to='a.test' type='get' id='d1'>"
                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    assert_int_equal(server_iq_calls, 1);
    assert_string_equal(server_iq_full, "rose@b.test/x");
    assert_string_equal(server_iq_domain, "a.test");
    assert_true(server_iq_anonymous);
    from_remote("<iq from='rose@b.test/y' to='bob@a.test' type='get' id='d2'>"
                "<vCard xmlns='vcard-temp'/></iq>");
    assert_int_equal(server_iq_calls, 2);
    assert_string_equal(server_iq_full, "rose@b.test/y");
    assert_int_equal(count(bob, "d2"), 0);
    /* no such account, results and errors: not the modules' business */
    from_remote("<iq from='rose@b.test/x' to='nobody@a.test' type='get' id='d3'>"
                "<ping xmlns='urn:xmpp:ping'/></iq>");
    from_remote("<iq from='rose@b.test/x' to='a.test' type='result' id='d4'/>");
    assert_int_equal(server_iq_calls, 2);
    /* presence to an account: the presence event decides */
    from_remote("<presence from='rose@b.test/x' to='bob@a.test' type='probe'/>");
    assert_int_equal(remote_presence_calls, 1);
    assert_int_equal(count(bob, "probe"), 0);
    from_remote("<presence from='rose@b.test/x' to='bob@a.test'><show>away</show></presence>");
    assert_int_equal(remote_presence_calls, 2);
    assert_int_equal(count(bob, "<show>away</show>"), 1);
    /* presence to the server: dropped, no event */
    from_remote("<presence from='rose@b.test/x' to='a.test'/>");
    assert_int_equal(remote_presence_calls, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bare_message_to_every_top_resource, reset, reset),
        cmocka_unit_test_setup_teardown(test_no_resource_fires_undeliverable, reset, reset),
        cmocka_unit_test_setup_teardown(test_undeliverable_without_module_is_bounced, reset, reset),
        cmocka_unit_test_setup_teardown(test_gone_full_jid, reset, reset),
        cmocka_unit_test_setup_teardown(test_policy_verdict_becomes_a_bounce, reset, reset),
        cmocka_unit_test_setup_teardown(test_outbound_and_inbound_events, reset, reset),
        cmocka_unit_test_setup_teardown(test_remote_domain_unreachable, reset, reset),
        cmocka_unit_test_setup_teardown(test_policy_before_federation, reset, reset),
        cmocka_unit_test_setup_teardown(test_remote_messages, reset, reset),
        cmocka_unit_test_setup_teardown(test_remote_iq_and_presence, reset, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
