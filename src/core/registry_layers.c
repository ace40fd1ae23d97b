/* registry_layers.c: UCR's registry layers read as one (see
 * registry_layers.h for the rule). Each layer is an ordinary registry file
 * (registry.c); at load time a key set in a higher layer is removed from the
 * lower ones, so what remains in each layer is exactly what it contributes,
 * the merged view is their union, and validation sees only values that
 * apply, each reported with the file it came from. */
#include "core/registry_layers.h"
#include "core/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const layer_names[REG_LAYER_COUNT] = {
    "base-defaults.conf", "base.conf", "base-ldap.conf", "base-schedule.conf", "base-forced.conf",
};

struct registry_stack {
    bool ucr;
    char *files[REG_LAYER_COUNT];      /* owned; NULL for layers not in use */
    registry *layers[REG_LAYER_COUNT]; /* owned; pruned of keys set above them */
    registry *merged;                  /* owned */
};

const char *registry_layer_name(int layer)
{
    return layer >= 0 && layer < REG_LAYER_COUNT ? layer_names[layer] : "?";
}

bool registry_is_ucr(const char *path)
{
    if (!path)
        return false;
    const char *slash = strrchr(path, '/');
    return strcmp(slash ? slash + 1 : path, "base.conf") == 0;
}

bool registry_layer_path(const char *path, int layer, char *out, size_t len)
{
    if (!path || layer < 0 || layer >= REG_LAYER_COUNT)
        return false;
    if (layer == REG_LAYER_BASE)
        return (size_t)snprintf(out, len, "%s", path) < len;
    if (!registry_is_ucr(path))
        return false;
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    return (size_t)snprintf(out, len, "%.*s%s", dirlen, path, layer_names[layer]) < len;
}

void registry_stack_free(registry_stack *s)
{
    if (!s)
        return;
    for (int i = 0; i < REG_LAYER_COUNT; i++) {
        free(s->files[i]);
        registry_free(s->layers[i]);
    }
    registry_free(s->merged);
    free(s);
}

static void unset_in(void *ud, const char *key, const char *value)
{
    (void)value;
    registry_unset(ud, key);
}

static void set_in(void *ud, const char *key, const char *value)
{
    registry_set(ud, key, value);
}

registry_stack *registry_stack_load(const char *path, char *failed_file, size_t len)
{
    registry_stack *s = xcalloc(1, sizeof *s);
    s->ucr = registry_is_ucr(path);
    for (int i = 0; i < REG_LAYER_COUNT; i++) {
        if (!s->ucr && i != REG_LAYER_BASE)
            continue;
        char file[4096];
        if (!registry_layer_path(path, i, file, sizeof file)) {
            if (failed_file && len)
                snprintf(failed_file, len, "%s", path);
            registry_stack_free(s);
            errno = ENAMETOOLONG;
            return NULL;
        }
        s->files[i] = xstrdup(file);
        s->layers[i] = registry_load(file);
        if (!s->layers[i]) {
            int err = errno;
            if (failed_file && len)
                snprintf(failed_file, len, "%s", file);
            registry_stack_free(s);
            errno = err;
            return NULL;
        }
    }
    /* A key set in a layer hides it in every layer below. */
    for (int hi = REG_LAYER_COUNT - 1; hi > 0; hi--)
        for (int lo = hi - 1; lo >= 0; lo--)
            if (s->layers[hi] && s->layers[lo])
                registry_each(s->layers[hi], unset_in, s->layers[lo]);
    s->merged = registry_new();
    for (int i = 0; i < REG_LAYER_COUNT; i++)
        if (s->layers[i])
            registry_each(s->layers[i], set_in, s->merged);
    return s;
}

const registry *registry_stack_merged(const registry_stack *s)
{
    return s ? s->merged : NULL;
}

int registry_stack_origin(const registry_stack *s, const char *key)
{
    if (!s || !key)
        return -1;
    for (int i = REG_LAYER_COUNT - 1; i >= 0; i--)
        if (s->layers[i] && registry_get_raw(s->layers[i], key))
            return i;
    return -1;
}

const char *registry_stack_file(const registry_stack *s, int layer)
{
    if (!s || layer < 0 || layer >= REG_LAYER_COUNT)
        return NULL;
    return s->files[layer];
}

const char *registry_stack_layer_get(const registry_stack *s, int layer, const char *key)
{
    if (!s || layer < 0 || layer >= REG_LAYER_COUNT || !s->layers[layer])
        return NULL;
    return registry_get_raw(s->layers[layer], key);
}

typedef struct {
    const char *file;
    void (*report)(void *ud, const char *line);
    void *ud;
} prefix_ctx;

static void report_prefixed(void *ud, const char *line)
{
    prefix_ctx *p = ud;
    if (!p->report)
        return;
    char msg[4096 + 1024];
    snprintf(msg, sizeof msg, "%s: %s", p->file, line);
    p->report(p->ud, msg);
}

int registry_stack_check(const registry_stack *s, void (*report)(void *ud, const char *line), void *ud)
{
    if (!s)
        return 0;
    if (!s->ucr)
        return registry_check(s->layers[REG_LAYER_BASE], report, ud);
    int problems = 0;
    for (int i = REG_LAYER_COUNT - 1; i >= 0; i--) {
        prefix_ctx p = { s->files[i], report, ud };
        problems += registry_check(s->layers[i], report_prefixed, &p);
    }
    return problems;
}
