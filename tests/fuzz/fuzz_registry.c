/* fuzz_registry.c: libFuzzer target for the registry file parser
 * (src/core/registry.c) and the typed configuration built from it
 * (src/core/config.c, registry_validate.c), as plucsd reads the file at
 * start and on every SIGHUP and `plucs config` edits it. The input is the
 * file. Checked: loading never crashes; every key present validates
 * without crashing; a file written back by registry_save() (after a set and
 * an unset, as `plucs config set/unset` do) loads again to exactly the same
 * key/value pairs in the same order; config_load either succeeds or
 * reports at least one problem. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "core/registry.h"

typedef struct pairs {
    char *text;      /* key=value\n ... */
    size_t len, cap;
} pairs;

static void collect(void *ud, const char *key, const char *value)
{
    pairs *p = ud;
    size_t need = strlen(key) + strlen(value) + 3;
    if (p->len + need > p->cap) {
        p->cap = (p->len + need) * 2;
        p->text = realloc(p->text, p->cap);
        if (!p->text)
            abort();
    }
    p->len += (size_t)snprintf(p->text + p->len, p->cap - p->len, "%s=%s\n", key, value);
    char err[256];
    reg_validate(key, value, err, sizeof err);
}

static void count(void *ud, const char *line) { ++*(int *)ud; }

/* tmpfs when there is one: registry_save() fsyncs */
static char dir[] = "/dev/shm/plucs-fuzz-registry-XXXXXX";
static char dir_tmp[] = "/tmp/plucs-fuzz-registry-XXXXXX";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        if (!mkdtemp(dir)) {
            if (!mkdtemp(dir_tmp))
                abort();
            strcpy(dir, dir_tmp);
        }
        ready = true;
    }
    char in[64], out[96];
    snprintf(in, sizeof in, "%s/in.conf", dir);
    snprintf(out, sizeof out, "%s/out.conf", dir);
    FILE *f = fopen(in, "w");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);

    registry *r = registry_load(in);
    if (!r)
        abort();
    int problems = 0;
    registry_check(r, count, &problems);
    size_t nvars;
    const reg_var *vars = reg_vars(&nvars);
    for (size_t i = 0; i < nvars; i++)
        (void)registry_get(r, vars[i].key);
    registry_set(r, "plucs/loglevel", "4");
    registry_unset(r, "plucs/threads");
    pairs a = { 0 }, b = { 0 };
    registry_each(r, collect, &a);
    if (registry_save(r, out) != 0)
        abort();
    registry_free(r);
    registry *r2 = registry_load(out);
    if (!r2)
        abort();
    registry_each(r2, collect, &b);
    registry_free(r2);
    if (a.len != b.len || (a.len && memcmp(a.text, b.text, a.len) != 0))
        abort();   /* what was saved does not read back the same */
    free(a.text);
    free(b.text);

    int reported = 0;
    config *c = config_load(in, count, &reported);
    if (c)
        config_free(c);
    else if (!reported)
        abort();   /* refused without saying why */
    unlink(in);
    unlink(out);
    return 0;
}
