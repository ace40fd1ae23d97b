/* test_muc_persist_codec.c: a room configuration to the stored text and
 * back (src/modules/muc_persist_codec.c): every field round-trips, strings
 * with tabs, newlines and backslashes survive, missing keys keep the
 * previous values, unknown keys and bad numbers are ignored, numbers are
 * clamped to muc.h's limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "modules/muc_persist_codec.h"

static void clear(muc_config *c)
{
    free(c->name);
    free(c->desc);
    free(c->password);
    memset(c, 0, sizeof *c);
}

static void test_round_trip(void **state)
{
    muc_config a = { 0 };
    a.name = strdup("Team\tA\nline 2 \\ end");
    a.desc = strdup("");
    a.password = strdup("s3cret");
    a.persistent = true;
    a.public_room = false;
    a.members_only = true;
    a.moderated = true;
    a.password_protected = true;
    a.max_users = 42;
    a.whois = MUC_WHOIS_ANYONE;
    a.history_length = 7;
    a.allow_pm = MUC_PM_MODERATORS;
    a.allow_invites = true;
    a.change_subject = true;
    char *text = muc_config_encode(&a);
    muc_config b = { 0 };
    b.public_room = true;
    muc_config_decode(text, &b);
    free(text);
    assert_string_equal(b.name, a.name);
    assert_string_equal(b.desc, "");
    assert_string_equal(b.password, "s3cret");
    assert_true(b.persistent);
    assert_false(b.public_room);
    assert_true(b.members_only);
    assert_true(b.moderated);
    assert_true(b.password_protected);
    assert_int_equal(b.max_users, 42);
    assert_int_equal(b.whois, MUC_WHOIS_ANYONE);
    assert_int_equal(b.history_length, 7);
    assert_int_equal(b.allow_pm, MUC_PM_MODERATORS);
    assert_true(b.allow_invites);
    assert_true(b.change_subject);
    clear(&a);
    clear(&b);
}

static void test_partial_and_bad(void **state)
{
    muc_config c = { 0 };
    c.name = strdup("old");
    c.max_users = 10;
    c.history_length = 20;
    c.whois = MUC_WHOIS_MODERATORS;
    muc_config_decode("future\t1\nmaxusers\t999999\nhistory\tlots\nwhois\t7\n"
                      "no tab here\nmoderated\t1", &c);
    assert_string_equal(c.name, "old");                 /* missing: kept */
    assert_int_equal(c.max_users, MUC_MAXUSERS_CAP);    /* clamped */
    assert_int_equal(c.history_length, 20);             /* not a number: kept */
    assert_int_equal(c.whois, MUC_WHOIS_ANYONE);        /* clamped into range */
    assert_true(c.moderated);                           /* last line without \n */
    muc_config_decode(NULL, &c);
    muc_config_decode("", &c);
    assert_string_equal(c.name, "old");
    clear(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_partial_and_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
