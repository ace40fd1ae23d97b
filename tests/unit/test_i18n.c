/* test_i18n.c: the text table picks the client's language, else the
 * server's, else English, and every text exists in every language. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/i18n.h"

static void test_client_language_wins(void **state)
{
    assert_string_equal(i18n_lang("de"), "de");
    assert_string_equal(i18n_lang("de-AT"), "de");
    assert_string_equal(i18n_lang("EN"), "en");
    assert_string_equal(i18n_lang("fr"), "en");     /* no config: English */
    assert_string_equal(i18n_lang(NULL), "en");
    assert_string_equal(i18n_lang("deu"), "en");    /* not a "de" tag */
    assert_true(strstr(i18n("de", T_VCARD_READONLY), "Verzeichnis") != NULL);
    assert_true(strstr(i18n("en", T_VCARD_READONLY), "directory") != NULL);
}

static void test_every_text_translated(void **state)
{
    for (int i = 0; i < T_COUNT; i++) {
        assert_true(strlen(i18n("en", (text_id)i)) > 0);
        assert_true(strlen(i18n("de", (text_id)i)) > 0);
        assert_string_not_equal(i18n("en", (text_id)i), i18n("de", (text_id)i));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_language_wins),
        cmocka_unit_test(test_every_text_translated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
