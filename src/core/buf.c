/* buf.c: growable byte buffer, see buf.h. Allocation failure aborts: a
 * server that cannot allocate a few bytes has no sane way to continue. */
#include "core/buf.h"
#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b) { b->data = NULL; b->len = b->cap = 0; }

void buf_free(buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

static void buf_reserve(buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = xrealloc(b->data, cap);
    b->data = d;
    b->cap = cap;
}

void buf_append(buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void buf_puts(buf *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_printf(buf *b, const char *fmt, ...)
{
    /* Format into the free space; grow and format again when it was short. */
    buf_reserve(b, 64);
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->data[b->len] = 0;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        buf_reserve(b, (size_t)n);
    }
}

char *buf_steal(buf *b)
{
    char *d = b->data;
    if (!d)
        d = xcalloc(1, 1);
    buf_init(b);
    return d;
}
