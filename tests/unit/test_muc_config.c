/* test_muc_config.c: the room configuration form of the MUC engine
 * (src/modules/muc_config.c: defaults, submission with valid, capped and
 * invalid values) and the history ring (muc_history.c: bounded by the
 * history length, newest kept on shrink). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "modules/muc_internal.h"

#define NS_DATA "jabber:x:data"

static xnode *form(const char *const *kv)
{
    xnode *x = xnode_new("x", NS_DATA);
    xnode_set_attr(x, "type", "submit");
    for (size_t i = 0; kv[i]; i += 2) {
        xnode *f = xnode_add_child(x, "field", NS_DATA);
        xnode_set_attr(f, "var", kv[i]);
        xnode *v = xnode_add_child(f, "value", NS_DATA);
        xnode_add_text(v, kv[i + 1], strlen(kv[i + 1]));
    }
    return x;
}

static muc_room *room(void)
{
    muc_room *r = calloc(1, sizeof *r);
    muc_config_defaults(&r->cfg);
    muc_hist_resize(r);
    return r;
}

static void room_free(muc_room *r)
{
    muc_hist_clear(r);
    free(r->hist);
    muc_config_clear(&r->cfg);
    free(r);
}

static void test_defaults(void **state)
{
    muc_config c;
    muc_config_defaults(&c);
    assert_false(c.persistent);
    assert_true(c.public_room);
    assert_false(c.members_only);
    assert_int_equal(c.max_users, MUC_MAXUSERS_DEFAULT);
    assert_int_equal(c.history_length, MUC_HISTORY_DEFAULT);
    assert_int_equal(c.whois, MUC_WHOIS_MODERATORS);
    muc_config_clear(&c);
}

static void test_apply_values_and_caps(void **state)
{
    muc_room *r = room();
    static const char *const kv[] = {
        "muc#roomconfig_roomname", "Team", "muc#roomconfig_persistentroom", "1",
        "muc#roomconfig_membersonly", "true", "muc#roomconfig_maxusers", "99999",
        "muc#roomconfig_historylength", "5000", "muc#roomconfig_whois", "anyone",
        "muc#roomconfig_allowpm", "moderators", "muc#roomconfig_passwordprotectedroom", "1",
        "muc#roomconfig_roomsecret", "pw", NULL };
    xnode *x = form(kv);
    assert_int_equal(muc_config_apply(r, x), 0);
    assert_string_equal(r->cfg.name, "Team");
    assert_true(r->cfg.persistent);
    assert_true(r->cfg.members_only);
    assert_int_equal(r->cfg.max_users, MUC_MAXUSERS_CAP);
    assert_int_equal(r->cfg.history_length, MUC_HISTORY_MAX);
    assert_int_equal(r->cfg.whois, MUC_WHOIS_ANYONE);
    assert_int_equal(r->cfg.allow_pm, MUC_PM_MODERATORS);
    assert_true(r->cfg.password_protected);
    assert_string_equal(r->cfg.password, "pw");
    assert_int_equal((int)r->hcap, MUC_HISTORY_MAX);
    xnode_free(x);
    room_free(r);
}

static void test_apply_invalid_keeps_config(void **state)
{
    static const char *const bad[][3] = {
        { "muc#roomconfig_persistentroom", "maybe", NULL },
        { "muc#roomconfig_maxusers", "-3", NULL },
        { "muc#roomconfig_whois", "everybody", NULL },
        { "muc#roomconfig_allowpm", "all", NULL },
        { "muc#roomconfig_passwordprotectedroom", "1", NULL },   /* no secret */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        muc_room *r = room();
        xnode *x = form(bad[i]);
        assert_int_equal(muc_config_apply(r, x), -1);
        assert_false(r->cfg.persistent);
        assert_int_equal(r->cfg.max_users, MUC_MAXUSERS_DEFAULT);
        assert_false(r->cfg.password_protected);
        xnode_free(x);
        room_free(r);
    }
}

static xnode *msg(int i)
{
    xnode *m = xnode_new("message", NS_CLIENT);
    xnode *b = xnode_add_child(m, "body", NS_CLIENT);
    char t[16];
    snprintf(t, sizeof t, "m%d", i);
    xnode_add_text(b, t, strlen(t));
    return m;
}

static char *hist_body(muc_room *r, size_t i)
{
    return xnode_text(xnode_child(r->hist[(r->hstart + i) % r->hcap].msg, "body", NULL));
}

static void test_history_ring(void **state)
{
    muc_room *r = room();
    for (int i = 0; i < 25; i++) {
        xnode *m = msg(i);
        muc_hist_add(r, m);
        xnode_free(m);
    }
    assert_int_equal((int)r->hn, MUC_HISTORY_DEFAULT);
    char *first = hist_body(r, 0), *last = hist_body(r, r->hn - 1);
    assert_string_equal(first, "m5");
    assert_string_equal(last, "m24");
    free(first);
    free(last);
    r->cfg.history_length = 3;
    muc_hist_resize(r);
    assert_int_equal((int)r->hn, 3);
    first = hist_body(r, 0);
    assert_string_equal(first, "m22");
    free(first);
    r->cfg.history_length = 0;
    muc_hist_resize(r);
    assert_int_equal((int)r->hn, 0);
    xnode *m = msg(99);
    muc_hist_add(r, m);   /* no history kept at all */
    xnode_free(m);
    assert_int_equal((int)r->hn, 0);
    room_free(r);
}

static void test_names(void **state)
{
    assert_int_equal(muc_affiliation_parse("outcast"), MUC_AFF_OUTCAST);
    assert_int_equal(muc_affiliation_parse("owner"), MUC_AFF_OWNER);
    assert_int_equal(muc_affiliation_parse("king"), -1);
    assert_int_equal(muc_role_parse("visitor"), MUC_ROLE_VISITOR);
    assert_int_equal(muc_role_parse(NULL), -1);
    assert_string_equal(muc_role_name(MUC_ROLE_MODERATOR), "moderator");
    assert_string_equal(muc_affiliation_name(MUC_AFF_MEMBER), "member");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_apply_values_and_caps),
        cmocka_unit_test(test_apply_invalid_keeps_config),
        cmocka_unit_test(test_history_ring),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
