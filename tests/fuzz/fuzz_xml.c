/* fuzz_xml.c: libFuzzer target for the XML stream parser (src/xml). The
 * input is fed to an xstream in chunks whose sizes follow a pattern taken
 * from the first input byte (so splits inside tags and UTF-8 sequences get
 * explored); every stanza is serialized, re-parsed inside a fresh stream and
 * freed. Some stanzas trigger a reset from inside the callback, as STARTTLS
 * and SASL success do; with bit 0x20 of the first byte errors reset too. Limits: max_stanza 4096, depth 32. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xml/xml.h"

typedef struct fz {
    xstream *xs;
    bool reset_on_error;
    unsigned stanzas;
    bool reparse;
} fz;

static void fz_open(void *ud, const xnode *h, const char *dns)
{
    char *s = xml_to_string(h, NULL);
    free(s);
}

static void fz_inner_stanza(void *ud, xnode *st) { xnode_free(st); }
static void fz_nop(void *ud) {}
static void fz_inner_err(void *ud, xstream_err k, const char *d) {}

static void fz_err(void *ud, xstream_err k, const char *d)
{
    fz *f = ud;
    if (f->reset_on_error)
        xstream_reset(f->xs);
}

static void fz_stanza(void *ud, xnode *st)
{
    fz *f = ud;
    char *s = xml_to_string(st, NS_CLIENT);
    if (f->reparse) {
        /* a serialized stanza must parse again, inside the same kind of
         * stream, without error */
        static const char hdr[] = "<stream:stream xmlns='jabber:client' "
                                  "xmlns:stream='http://etherx.jabber.org/streams'>";
        xstream_cb cb = { NULL, fz_inner_stanza, fz_nop, fz_inner_err };
        int failed = 0;
        xstream *x2 = xstream_new(&cb, &failed, 1 << 20, 64);
        if (xstream_feed(x2, hdr, sizeof hdr - 1) != 0 || xstream_feed(x2, s, strlen(s)) != 0)
            abort();
        xstream_free(x2);
    }
    free(s);
    xnode *c = xnode_copy(st);
    xnode_free(st);
    xnode_free(c);
    if (++f->stanzas % 3 == 2)
        xstream_reset(f->xs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned pattern = data[0];
    data++;
    size--;
    fz f = { NULL, (pattern & 0x20) != 0, 0, (pattern & 0x80) != 0 };
    xstream_cb cb = { fz_open, fz_stanza, fz_nop, fz_err };
    f.xs = xstream_new(&cb, &f, 4096, 32);
    size_t pos = 0, i = 0;
    while (pos < size) {
        size_t chunk = ((pattern >> (i % 7)) & 7) + 1;
        if (pattern & 0x40)
            chunk *= 37;
        if (chunk > size - pos)
            chunk = size - pos;
        if (xstream_feed(f.xs, (const char *)data + pos, chunk) != 0 && !f.reset_on_error)
            break;   /* with reset_on_error the stream starts over */
        pos += chunk;
        i++;
    }
    xstream_free(f.xs);
    return 0;
}
