/* test_module_table.c: a module joins the server through its descriptor
 * alone (modules/module.h). A test module registers an iq namespace, a
 * feature, a session slot, a stream feature and a hook on every event; the
 * router's events then reach it; a remote requester (federation) reaches
 * only the namespaces a module opened to remote parties (module_allow_remote).
 * Registration limits make modules_init()
 * fail with the module's name instead of dropping a hook silently, and a
 * failed load leaves nothing registered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_build.h"
#include "modules/module.h"
#include "router/router.h"
#include "xml/xml_fragment.h"

#include "recording_session.h"
#include "xmpp/stanza.h"

static session me = {
    .id = 1, .ops = &ops, .node = "alice", .domain = "a.test", .bare = "alice@a.test",
    .resource = "desk", .full = "alice@a.test/desk", .bound = true,
};

/* --- the test module ---------------------------------------------------- */

static int slot = -1;
static int calls[16];
enum { C_IQ, C_OUT, C_BCAST, C_DIRECTED, C_IN, C_BOUND, C_AVAIL, C_ENDED, C_UNDELIV, C_SNAP,
       C_INIT, C_SHUTDOWN, C_THREAD };

static void test_iq(session *s, const xnode *iq, const xnode *payload)
{
    calls[C_IQ]++;
    session_send_free(s, iq_result(iq));
}
static hook_result on_out(session *s, xnode *st) { calls[C_OUT]++; return HOOK_CONTINUE; }
static hook_result on_bcast(session *s, xnode *st) { calls[C_BCAST]++; return HOOK_STOP; }
static hook_result on_directed(session *s, xnode *st) { calls[C_DIRECTED]++; return HOOK_STOP; }
static hook_result on_in(session *s, xnode *st) { calls[C_IN]++; return HOOK_CONTINUE; }
static void on_bound(session *s) { calls[C_BOUND]++; }
static void on_avail(session *s) { calls[C_AVAIL]++; }
static void on_ended(session *s) { calls[C_ENDED]++; }
static hook_result on_undeliv(session *o, xnode *st, const char *bare)
{
    calls[C_UNDELIV]++;
    return HOOK_STOP;
}
static void on_snap(const struct dir_snapshot *o, const struct config *c,
                    const struct dir_snapshot *s)
{
    calls[C_SNAP]++;
}
static void features(const session *s, buf *b) { buf_puts(b, "<test xmlns='urn:test'/>"); }
static void slot_data_free(void *p) { free(p); }

static void test_init(void)
{
    calls[C_INIT]++;
    module_register_iq("urn:test", test_iq);
    module_add_feature("urn:test");
    module_hook_stanza(EV_OUTBOUND, on_out);
    module_hook_stanza(EV_PRESENCE_BROADCAST, on_bcast);
    module_hook_stanza(EV_PRESENCE_DIRECTED, on_directed);
    module_hook_stanza(EV_INBOUND, on_in);
    module_hook_session(EV_BOUND, on_bound);
    module_hook_session(EV_AVAILABLE, on_avail);
    module_hook_session(EV_ENDED, on_ended);
    module_hook_undeliverable(on_undeliv);
    module_hook_snapshot(on_snap);
}
static void test_shutdown(void) { calls[C_SHUTDOWN]++; }
static void test_thread_exit(void) { calls[C_THREAD]++; }

static const module mod_test = {
    .name = "test",
    .init = test_init,
    .shutdown = test_shutdown,
    .thread_exit = test_thread_exit,
    .stream_features = features,
    .slot = &slot,
    .slot_free = slot_data_free,
};

static void send(const char *xml)
{
    xnode *st = xml_fragment_parse(xml, strlen(xml), NS_CLIENT, 16);
    assert_non_null(st);
    router_from_session(&me, st);
}

static void test_descriptor_receives_every_event(void **state)
{
    memset(calls, 0, sizeof calls);
    const module *table[] = { &mod_test };
    char err[200] = "";
    assert_int_equal(modules_init(table, 1, err, sizeof err), 0);
    assert_int_equal(calls[C_INIT], 1);
    assert_int_equal(slot, 0);

    size_t nf;
    const char *const *f = module_features(&nf);
    assert_int_equal(nf, 1);
    assert_string_equal(f[0], "urn:test");

    buf b = { 0 };
    module_stream_features(&me, false, &b);
    assert_int_equal(b.len, 0);                      /* not before authentication */
    module_stream_features(&me, true, &b);
    assert_non_null(strstr(b.data, "urn:test"));
    buf_free(&b);

    /* an iq for the server in the module's namespace reaches its handler */
    outlen = 0;
    send("<iq id='i1' type='get' to='a.test'><q xmlns='urn:test'/></iq>");
    assert_int_equal(calls[C_IQ], 1);
    assert_non_null(strstr(out, "type='result'"));
    assert_int_equal(calls[C_OUT], 1);
    /* another namespace: nobody answers, the router says service-unavailable */
    send("<iq id='i2' type='get' to='a.test'><q xmlns='urn:other'/></iq>");
    assert_int_equal(calls[C_IQ], 1);
    assert_non_null(strstr(out, "service-unavailable"));

    send("<presence/>");
    assert_int_equal(calls[C_BCAST], 1);
    send("<presence to='bob@elsewhere.test'/>");
    assert_int_equal(calls[C_DIRECTED], 1);

    router_session_bound(&me);
    assert_int_equal(calls[C_BOUND], 1);
    events_session(EV_AVAILABLE, &me);
    events_session(EV_ENDED, &me);
    assert_int_equal(calls[C_AVAIL], 1);
    assert_int_equal(calls[C_ENDED], 1);
    xnode *m = xnode_new("message", NS_CLIENT);
    assert_int_equal(events_undeliverable(NULL, m, "bob@a.test"), HOOK_STOP);
    assert_int_equal(events_stanza(EV_INBOUND, &me, m), HOOK_CONTINUE);
    xnode_free(m);
    assert_int_equal(calls[C_UNDELIV], 1);
    assert_int_equal(calls[C_IN], 1);
    events_snapshot(NULL, NULL, NULL);
    assert_int_equal(calls[C_SNAP], 1);

    modules_thread_exit();
    assert_int_equal(calls[C_THREAD], 1);
    modules_shutdown();
    assert_int_equal(calls[C_SHUTDOWN], 1);
    /* after shutdown nothing is registered */
    module_features(&nf);
    assert_int_equal(nf, 0);
    assert_int_equal(events_stanza(EV_PRESENCE_BROADCAST, &me, NULL), HOOK_CONTINUE);
}

/* --- remote requesters ---------------------------------------------------- */

static int public_calls, remote_seen;
static void public_iq(session *s, const xnode *iq, const xnode *payload)
{
    public_calls++;
    remote_seen += s->remote && !s->bare;
    session_send_free(s, iq_result(iq));
}
static void public_init(void)
{
    module_register_iq("urn:test", test_iq);
    module_register_iq("urn:test:public", public_iq);
    module_allow_remote("urn:test:public");
}
static const module mod_public = { .name = "public", .init = public_init };

static void test_remote_requesters(void **state)
{
    memset(calls, 0, sizeof calls);
    public_calls = remote_seen = 0;
    const module *table[] = { &mod_public };
    char err[200] = "";
    assert_int_equal(modules_init(table, 1, err, sizeof err), 0);
    session *rs = router_remote_session("rose@b.test/x", "a.test");
    assert_true(rs->remote);
    assert_string_equal(rs->full, "rose@b.test/x");
    const char *priv = "<iq id='r1' type='get' from='rose@b.test/x' to='a.test'>"
                       "<q xmlns='urn:test'/></iq>";
    const char *pub = "<iq id='r2' type='get' from='rose@b.test/x' to='a.test'>"
                      "<q xmlns='urn:test:public'/></iq>";
    xnode *a = xml_fragment_parse(priv, strlen(priv), NS_CLIENT, 8);
    xnode *b = xml_fragment_parse(pub, strlen(pub), NS_CLIENT, 8);
    /* answered (forbidden) without reaching the handler */
    assert_int_equal(events_stanza(EV_SERVER_IQ, rs, a), HOOK_STOP);
    assert_int_equal(calls[C_IQ], 0);
    assert_int_equal(events_stanza(EV_SERVER_IQ, rs, b), HOOK_STOP);
    assert_int_equal(public_calls, 1);
    assert_int_equal(remote_seen, 1);
    /* a local client still reaches both */
    assert_int_equal(events_stanza(EV_SERVER_IQ, &me, a), HOOK_STOP);
    assert_int_equal(calls[C_IQ], 1);
    xnode_free(a);
    xnode_free(b);
    modules_shutdown();
}

/* --- limits fail loudly -------------------------------------------------- */

static void greedy_init(void)
{
    for (int i = 0; i <= EVENT_MAX_HOOKS; i++)
        module_hook_stanza(EV_INBOUND, on_in);
}
static const module mod_greedy = { .name = "greedy", .init = greedy_init };

static void test_hook_limit_names_the_module(void **state)
{
    memset(calls, 0, sizeof calls);
    const module *table[] = { &mod_test, &mod_greedy };
    char err[200] = "";
    assert_int_equal(modules_init(table, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "module greedy"));
    assert_non_null(strstr(err, "limit 16"));
    /* nothing of the failed load stays registered */
    size_t nf;
    module_features(&nf);
    assert_int_equal(nf, 0);
    assert_int_equal(events_stanza(EV_PRESENCE_BROADCAST, &me, NULL), HOOK_CONTINUE);
}

static int slots[SESSION_SLOTS + 1];
static const module slot_mods[SESSION_SLOTS + 1] = {
#define S(i) { .name = "slot" #i, .slot = &slots[i] }
    S(0), S(1), S(2), S(3), S(4), S(5), S(6), S(7), S(8), S(9), S(10), S(11), S(12),
};

static void test_slot_limit_names_the_module(void **state)
{
    const module *table[SESSION_SLOTS + 1];
    for (int i = 0; i <= SESSION_SLOTS; i++)
        table[i] = &slot_mods[i];
    char err[200] = "";
    assert_int_equal(modules_init(table, SESSION_SLOTS, err, sizeof err), 0);
    for (int i = 0; i < SESSION_SLOTS; i++)
        assert_int_equal(slots[i], i);
    modules_shutdown();
    assert_int_equal(modules_init(table, SESSION_SLOTS + 1, err, sizeof err), -1);
    char want[32];
    snprintf(want, sizeof want, "module slot%d", SESSION_SLOTS);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "session slot"));
}

static void test_builtin_table_loads(void **state)
{
    char err[200] = "";
    assert_int_equal(modules_init(builtin_modules, builtin_modules_count, err, sizeof err), 0);
    size_t nf;
    module_features(&nf);
    assert_true(nf > 5);
    modules_shutdown();
}

/* a directory that serves a.test, with no accounts */
static dir_snapshot *snap;
static int setup(void **state)
{
    char *domains[] = { "a.test" };
    dir_build_opts o = { .complete = true, .serial = 1 };
    snap = dir_snapshot_build(domains, 1, NULL, 0, &o);
    assert_non_null(snap);
    router_set_snapshot(snap);
    return 0;
}
static int teardown(void **state)
{
    router_set_snapshot(NULL);
    dir_snapshot_unref(snap);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor_receives_every_event),
        cmocka_unit_test(test_hook_limit_names_the_module),
        cmocka_unit_test(test_slot_limit_names_the_module),
        cmocka_unit_test(test_builtin_table_loads),
        cmocka_unit_test(test_remote_requesters),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
