/* test_module_example.c: the worked example of docs/development.md ("Adding
 * a module") compiles, loads through its descriptor, and works: the file it
 * quotes (tests/unit/example/mod_hello.c) is included here, and the test
 * checks that the document still quotes it word for word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_build.h"
#include "router/router.h"
#include "xml/xml_fragment.h"

#include "recording_session.h"

#include "example/mod_hello.c"


static void send(session *s, const char *xml)
{
    xnode *st = xml_fragment_parse(xml, strlen(xml), NS_CLIENT, 16);
    assert_non_null(st);
    router_from_session(s, st);
}

static void test_example_works(void **state)
{
    char *domains[] = { "a.test" };
    dir_build_opts o = { .complete = true, .serial = 1 };
    dir_snapshot *snap = dir_snapshot_build(domains, 1, NULL, 0, &o);
    router_set_snapshot(snap);

    const module *table[] = { &mod_hello };
    char err[200];
    assert_int_equal(modules_init(table, 1, err, sizeof err), 0);
    session s = { .id = 1, .ops = &ops, .node = "alice", .domain = "a.test",
                  .bare = "alice@a.test", .resource = "r", .full = "alice@a.test/r",
                  .bound = true };
    send(&s, "<message to='a.test'><body>1</body></message>");
    send(&s, "<message to='a.test'><body>2</body></message>");
    outlen = 0;
    send(&s, "<iq id='h' type='get' to='a.test'><query xmlns='urn:example:hello'/></iq>");
    assert_non_null(strstr(out, "sent='2'"));
    modules_shutdown();
    router_set_snapshot(NULL);
    dir_snapshot_unref(snap);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char data[1 << 16];
    size_t n = fread(data, 1, sizeof data - 1, f);
    data[n] = 0;
    fclose(f);
    return strdup(data);
}

static void test_document_quotes_the_example(void **state)
{
    char *code = slurp("tests/unit/example/mod_hello.c");
    char *doc = slurp("docs/development.md");
    assert_non_null(strstr(doc, code));
    free(code);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_works),
        cmocka_unit_test(test_document_quotes_the_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
