/* buf.h: a growable byte buffer (string builder). Used by the XML serializer
 * and anything that assembles text; always NUL-terminated after data[len]. */
#ifndef PLUCS_BUF_H
#define PLUCS_BUF_H

#include <stddef.h>

typedef struct buf {
    char *data;   /* owned; NULL until the first append */
    size_t len;
    size_t cap;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);                      /* frees data, leaves b empty */
void buf_reset(buf *b);                     /* len = 0, keeps memory */
void buf_append(buf *b, const void *p, size_t n);
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *buf_steal(buf *b);                    /* returns data (caller frees), b empty */

#endif
