/* store_backend.c: the table of storage back ends and the choice among them
 * by the scheme of plucs/store (see store_backend.h). Adding a back end is
 * one line in backends[] (and its extern in store_backend.h). */
#include "store/store_internal.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"

static const store_backend *const backends[] = {
    &store_sqlite_backend,
};

#define NBACKENDS (sizeof backends / sizeof backends[0])

/* Back ends added at run time (tests); only touched before store_start. */
static const store_backend *registered[4];
static size_t nregistered;

static const store_backend *backend_at(size_t i)
{
    return i < NBACKENDS ? backends[i] : registered[i - NBACKENDS];
}

static const store_backend *find(const char *scheme, size_t len)
{
    for (size_t i = 0; i < NBACKENDS + nregistered; i++) {
        const store_backend *b = backend_at(i);
        if (strlen(b->scheme) == len && strncmp(b->scheme, scheme, len) == 0)
            return b;
    }
    return NULL;
}

int store_backend_register(const store_backend *b)
{
    if (!b || !b->scheme || find(b->scheme, strlen(b->scheme)) ||
        nregistered == sizeof registered / sizeof registered[0])
        return -1;
    registered[nregistered++] = b;
    return 0;
}

const store_backend *store_backend_select(const char *spec, const char **location, char *err,
                                          size_t errlen)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    const store_backend *b = colon ? find(spec, (size_t)(colon - spec)) : NULL;
    if (b) {
        *location = colon + 1;
        return b;
    }
    buf allowed;
    buf_init(&allowed);
    buf_puts(&allowed, "");
    for (size_t i = 0; i < NBACKENDS + nregistered; i++) {
        if (i)
            buf_puts(&allowed, " or ");
        buf_puts(&allowed, backend_at(i)->form);
    }
    snprintf(err, errlen, "plucs/store: unsupported value '%s' (allowed: %s)", spec ? spec : "",
             allowed.data);
    buf_free(&allowed);
    return NULL;
}

store_status store_kind_missing(store_conn *c, const char *kind)
{
    log_err("store: the %s back end does not store %s", c->backend->scheme, kind);
    return STORE_ERROR;
}
