/* test_registry_layers.c: unit tests of UCR's layered registry
 * (src/core/registry_layers.c) and the registry fingerprint
 * and its watcher (src/core/registry_watch.c): which files are layers, UCR's precedence
 * (forced > ldap > base > defaults), where each value comes from, that
 * validation sees only values in effect and names their file, and that
 * config_load reads the merged view; the inotify watcher fires once per
 * burst, for in-place writes and renames of layer files only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/registry.h"
#include "core/registry_layers.h"
#include "core/registry_watch.h"

#include <event2/event.h>

static char tmpdir[256];

static int make_tmpdir(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/plucs-test-layers.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *in_tmp(const char *name)
{
    static char p[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", tmpdir, name);
    return p[i];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

typedef struct {
    char lines[8][512];
    int n;
} collected;

static void collect(void *ud, const char *line)
{
    collected *c = ud;
    if (c->n < 8)
        snprintf(c->lines[c->n++], sizeof c->lines[0], "%s", line);
}

static void test_is_ucr_and_paths(void **state)
{
    assert_true(registry_is_ucr("/etc/univention/base.conf"));
    assert_true(registry_is_ucr("base.conf"));
    assert_false(registry_is_ucr("/etc/plucs/registry.conf"));
    assert_false(registry_is_ucr("/x/base.conf.bak"));
    assert_false(registry_is_ucr("/x/mybase.conf"));
    char out[256];
    assert_true(registry_layer_path("/etc/univention/base.conf", REG_LAYER_FORCED, out, sizeof out));
    assert_string_equal(out, "/etc/univention/base-forced.conf");
    assert_true(registry_layer_path("/etc/univention/base.conf", REG_LAYER_LDAP, out, sizeof out));
    assert_string_equal(out, "/etc/univention/base-ldap.conf");
    assert_true(registry_layer_path("base.conf", REG_LAYER_DEFAULTS, out, sizeof out));
    assert_string_equal(out, "base-defaults.conf");
    assert_true(registry_layer_path("/etc/plucs/registry.conf", REG_LAYER_BASE, out, sizeof out));
    assert_string_equal(out, "/etc/plucs/registry.conf");
    assert_false(registry_layer_path("/etc/plucs/registry.conf", REG_LAYER_FORCED, out, sizeof out));
}

static void test_precedence(void **state)
{
    write_file(in_tmp("base-defaults.conf"), "a/x: defaults\nb/x: defaults\nc/x: defaults\nd/x: defaults\n");
    write_file(in_tmp("base.conf"), "a/x: base\nb/x: base\nc/x: base\n");
    write_file(in_tmp("base-ldap.conf"), "a/x: ldap\nb/x: ldap\nf/x: ldap\n");
    write_file(in_tmp("base-schedule.conf"), "a/x: schedule\nf/x: schedule\n");
    write_file(in_tmp("base-forced.conf"), "a/x: forced\n");
    registry_stack *s = registry_stack_load(in_tmp("base.conf"), NULL, 0);
    assert_non_null(s);
    const registry *m = registry_stack_merged(s);
    assert_string_equal(registry_get_raw(m, "a/x"), "forced");
    assert_string_equal(registry_get_raw(m, "b/x"), "ldap");
    assert_string_equal(registry_get_raw(m, "c/x"), "base");
    assert_string_equal(registry_get_raw(m, "d/x"), "defaults");
    assert_null(registry_get_raw(m, "e/x"));
    assert_string_equal(registry_get_raw(m, "f/x"), "schedule");
    assert_int_equal(registry_stack_origin(s, "f/x"), REG_LAYER_SCHEDULE);
    assert_int_equal(registry_stack_origin(s, "a/x"), REG_LAYER_FORCED);
    assert_int_equal(registry_stack_origin(s, "b/x"), REG_LAYER_LDAP);
    assert_int_equal(registry_stack_origin(s, "c/x"), REG_LAYER_BASE);
    assert_int_equal(registry_stack_origin(s, "d/x"), REG_LAYER_DEFAULTS);
    assert_int_equal(registry_stack_origin(s, "e/x"), -1);
    assert_string_equal(registry_stack_file(s, REG_LAYER_LDAP), in_tmp("base-ldap.conf"));
    assert_string_equal(registry_stack_layer_get(s, REG_LAYER_FORCED, "a/x"), "forced");
    /* a built-in default still applies below every layer */
    assert_string_equal(registry_get(m, "plucs/c2s/port"), "5222");
    registry_stack_free(s);
    unlink(in_tmp("base-schedule.conf"));
}

static void test_single_file_is_one_layer(void **state)
{
    /* registry.conf with a base-forced.conf beside it: not UCR, ignored */
    write_file(in_tmp("registry.conf"), "plucs/c2s/port: 5223\n");
    write_file(in_tmp("base-forced.conf"), "plucs/c2s/port: 5299\n");
    registry_stack *s = registry_stack_load(in_tmp("registry.conf"), NULL, 0);
    assert_non_null(s);
    assert_string_equal(registry_get(registry_stack_merged(s), "plucs/c2s/port"), "5223");
    assert_int_equal(registry_stack_origin(s, "plucs/c2s/port"), REG_LAYER_BASE);
    assert_null(registry_stack_file(s, REG_LAYER_FORCED));
    registry_stack_free(s);
    unlink(in_tmp("base-forced.conf"));
}

static void test_check_names_layer_and_skips_hidden(void **state)
{
    write_file(in_tmp("base-defaults.conf"), "plucs/tls: maybe\n");   /* hidden by base.conf: not checked */
    write_file(in_tmp("base.conf"), "plucs/tls: true\nplucs/c2s/port: 0\n");
    write_file(in_tmp("base-ldap.conf"), "plucs/c2s/port: 5222\n");    /* hides the bad base.conf value */
    write_file(in_tmp("base-forced.conf"), "plucs/loglevel: 99\n");
    registry_stack *s = registry_stack_load(in_tmp("base.conf"), NULL, 0);
    assert_non_null(s);
    collected c = { 0 };
    assert_int_equal(registry_stack_check(s, collect, &c), 1);
    assert_non_null(strstr(c.lines[0], in_tmp("base-forced.conf")));
    assert_non_null(strstr(c.lines[0], "plucs/loglevel"));
    assert_non_null(strstr(c.lines[0], "99"));
    registry_stack_free(s);
}

static void test_config_load_reads_layers(void **state)
{
    write_file(in_tmp("base-defaults.conf"), "ldap/base: dc=example,dc=org\nplucs/c2s/port: 5300\n");
    write_file(in_tmp("base.conf"), "ldap/hostdn: cn=h,dc=example,dc=org\nldap/server/name: ldap.example.org\n"
                                    "plucs/mod/filter/message_policy: deny\n");
    write_file(in_tmp("base-ldap.conf"), "plucs/mod/filter/message_policy: allow\n");
    write_file(in_tmp("base-forced.conf"), "plucs/c2s/port: 5301\n");
    collected c = { 0 };
    config *cfg = config_load(in_tmp("base.conf"), collect, &c);
    assert_non_null(cfg);
    assert_true(cfg->filter_message_allow);
    config_free(cfg);

    /* an invalid forced value refuses the whole registry and names the file */
    write_file(in_tmp("base-forced.conf"), "plucs/c2s/port: 70000\n");
    memset(&c, 0, sizeof c);
    cfg = config_load(in_tmp("base.conf"), collect, &c);
    assert_null(cfg);
    assert_true(c.n >= 1);
    assert_non_null(strstr(c.lines[0], "base-forced.conf: plucs/c2s/port"));
    unlink(in_tmp("base-forced.conf"));
}

static void test_fingerprint(void **state)
{
    write_file(in_tmp("base.conf"), "plucs/c2s/port: 5301\nother/service: 1\n");
    unlink(in_tmp("base-ldap.conf"));
    uint64_t f1 = registry_fingerprint(in_tmp("base.conf"));
    assert_int_equal(f1, registry_fingerprint(in_tmp("base.conf")));
    /* another service's variable, an empty layer: nothing PLUCS reads */
    write_file(in_tmp("base-ldap.conf"), "other/service: 2\n");
    write_file(in_tmp("base.conf"), "# a comment\nplucs/c2s/port: 5301\nother/service: 3\n");
    assert_int_equal(registry_fingerprint(in_tmp("base.conf")), f1);
    /* a PLUCS variable in any layer, a UCR variable PLUCS uses, a junk line */
    write_file(in_tmp("base-ldap.conf"), "plucs/c2s/port: 5302\n");
    uint64_t f2 = registry_fingerprint(in_tmp("base.conf"));
    assert_true(f2 != f1);
    write_file(in_tmp("base-ldap.conf"), "plucs/c2s/port: 5302\nldap/base: dc=x\n");
    uint64_t f3 = registry_fingerprint(in_tmp("base.conf"));
    assert_true(f3 != f2);
    write_file(in_tmp("base-ldap.conf"), "plucs/c2s/port: 5302\nldap/base: dc=x\nplucs/tls = on\n");
    assert_true(registry_fingerprint(in_tmp("base.conf")) != f3);
    unlink(in_tmp("base-ldap.conf"));
}

typedef struct {
    int fired, target;
    struct event_base *base;
} watch_state;

static void on_watch(void *ud)
{
    watch_state *w = ud;
    if (++w->fired >= w->target)
        event_base_loopbreak(w->base);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(arg);
}

/* Runs the loop until the callback has fired target times in all, or ms
 * milliseconds passed (the bound for a callback that never comes, and the
 * time given to one that must not come). */
static void run_until(watch_state *w, int target, int ms)
{
    w->target = target;
    if (w->fired >= target)
        return;
    struct event *guard = evtimer_new(w->base, on_guard, w->base);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(guard, &tv);
    event_base_dispatch(w->base);
    event_free(guard);
}

static void test_watch(void **state)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/watched", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    char base_conf[600], ldap_conf[600], other[600], tmp[600];
    snprintf(base_conf, sizeof base_conf, "%s/base.conf", dir);
    snprintf(ldap_conf, sizeof ldap_conf, "%s/base-ldap.conf", dir);
    snprintf(other, sizeof other, "%s/other.conf", dir);
    snprintf(tmp, sizeof tmp, "%s/.new", dir);
    write_file(base_conf, "a/x: 1\n");
    struct event_base *base = event_base_new();
    watch_state ws = { .base = base };
    char err[256];
    registry_watch *w = registry_watch_new(base, base_conf, 300, on_watch, &ws, err, sizeof err);
    assert_non_null(w);

    /* a burst of in-place writes: one callback after it */
    for (int i = 0; i < 5; i++)
        write_file(base_conf, "a/x: 2\n");
    run_until(&ws, 1, 5000);
    assert_int_equal(ws.fired, 1);

    /* other files in the folder do not count, temporary ones neither */
    write_file(other, "a/x: 3\n");
    write_file(tmp, "a/x: 3\n");
    run_until(&ws, 2, 800);
    assert_int_equal(ws.fired, 1);

    /* a rename over a layer (UCR, editors) does */
    assert_int_equal(rename(tmp, ldap_conf), 0);
    run_until(&ws, 2, 5000);
    assert_int_equal(ws.fired, 2);

    /* and removing one */
    unlink(ldap_conf);
    run_until(&ws, 3, 5000);
    assert_int_equal(ws.fired, 3);

    registry_watch_free(w);
    event_base_free(base);

    /* a folder that does not exist: an error naming it */
    base = event_base_new();
    assert_null(registry_watch_new(base, "/nonexistent/folder/base.conf", 100, on_watch, &ws, err,
                                   sizeof err));
    assert_non_null(strstr(err, "/nonexistent/folder"));
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_ucr_and_paths),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_single_file_is_one_layer),
        cmocka_unit_test(test_check_names_layer_and_skips_hidden),
        cmocka_unit_test(test_config_load_reads_layers),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_watch),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
