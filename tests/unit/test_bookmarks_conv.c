/* test_bookmarks_conv.c: XEP-0411 conversion of one bookmark between
 * XEP-0402 and XEP-0048 (bookmarks_conv.h): attributes and children both
 * ways, room JIDs normalised or refused, comparison, and the rebuilt
 * storage:bookmarks keeping its non-conference children. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "modules/bookmarks_conv.h"
#include "xml/xml_fragment.h"

static xnode *parse(const char *s)
{
    xnode *n = xml_fragment_parse(s, strlen(s), NULL, 16);
    assert_non_null(n);
    return n;
}

static char *text_of(const xnode *n, const char *name)
{
    xnode *c = xnode_child(n, name, NULL);
    return c ? xnode_text(c) : NULL;
}

static void test_legacy_to_pep(void **state)
{
    (void)state;
    xnode *l = parse("<conference xmlns='storage:bookmarks' jid='Room@Conf.Example' name='R' "
                     "autojoin='1'><nick>me</nick><password>pw</password></conference>");
    char *id = NULL;
    xnode *p = bm_to_pep(l, &id);
    assert_non_null(p);
    assert_string_equal(id, "room@conf.example");
    assert_string_equal(p->ns, NS_BOOKMARKS2);
    assert_string_equal(xnode_attr(p, "name"), "R");
    assert_string_equal(xnode_attr(p, "autojoin"), "true");
    char *t = text_of(p, "nick");
    assert_string_equal(t, "me");
    free(t);
    /* and back */
    xnode *back = bm_from_pep(id, p);
    assert_non_null(back);
    assert_string_equal(xnode_attr(back, "jid"), "room@conf.example");
    assert_string_equal(back->ns, NS_BOOKMARKS_LEGACY);
    t = text_of(back, "password");
    assert_string_equal(t, "pw");
    free(t);
    char *id2 = NULL;
    xnode *p2 = bm_to_pep(back, &id2);
    assert_string_equal(id2, "room@conf.example");
    free(id2);
    assert_true(bm_same(p, p2));
    xnode_set_attr(p2, "autojoin", "false");
    assert_false(bm_same(p, p2));
    xnode_free(p2);
    xnode_free(back);
    xnode_free(p);
    xnode_free(l);
    free(id);
}

static void test_refused(void **state)
{
    (void)state;
    char *id = (char *)"x";
    static const char *const bad[] = {
        "<conference xmlns='storage:bookmarks' name='no jid'/>",
        "<conference xmlns='storage:bookmarks' jid='conf.example'/>",       /* no localpart */
        "<conference xmlns='storage:bookmarks' jid='r@conf.example/res'/>", /* full JID */
        "<conference xmlns='storage:bookmarks' jid='a@b@c'/>",
        "<url xmlns='storage:bookmarks' url='https://x/'/>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        xnode *l = parse(bad[i]);
        assert_null(bm_to_pep(l, &id));
        assert_null(id);
        xnode_free(l);
    }
    xnode *wrong = parse("<conference xmlns='urn:other'/>");
    assert_null(bm_from_pep("r@c.example", wrong));
    xnode_free(wrong);
    xnode *ok = parse("<conference xmlns='urn:xmpp:bookmarks:1'/>");
    assert_null(bm_from_pep("not a jid@", ok));
    xnode *c = bm_from_pep("r@c.example", ok);
    assert_string_equal(xnode_attr(c, "autojoin"), "false");
    assert_null(xnode_attr(c, "name"));
    xnode_free(c);
    xnode_free(ok);
}

static void test_storage_build(void **state)
{
    (void)state;
    xnode *old = parse("<storage xmlns='storage:bookmarks'><conference jid='old@c.example'/>"
                       "<url name='Home' url='https://a.example/'/></storage>");
    xnode *c = parse("<conference xmlns='storage:bookmarks' jid='new@c.example'/>");
    xnode *confs[] = { c };
    xnode *st = bm_storage_build(old, confs, 1);
    const xnode *first = xnode_first_element(st);
    assert_string_equal(first->name, "conference");
    assert_string_equal(xnode_attr(first, "jid"), "new@c.example");
    const xnode *second = xnode_next_element(first);
    assert_string_equal(second->name, "url");
    assert_null(xnode_next_element(second));
    xnode_free(st);
    st = bm_storage_build(NULL, NULL, 0);
    assert_null(xnode_first_element(st));
    xnode_free(st);
    xnode_free(c);
    xnode_free(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_to_pep),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_storage_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
