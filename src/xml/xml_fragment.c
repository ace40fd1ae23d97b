/* xml_fragment.c: see xml_fragment.h. The fragment is fed to an xstream
 * inside a synthetic wrapper element, so it comes back as the wrapper's
 * only "stanza"; anything else (a second element, text, errors) fails. */
#include "xml/xml_fragment.h"

#include <string.h>

typedef struct frag {
    xnode *el;
    int count;
    int failed;
} frag;

static void f_open(void *ud, const xnode *header, const char *default_ns) {}
static void f_close(void *ud) {}

static void f_stanza(void *ud, xnode *st)
{
    frag *f = ud;
    if (f->count++ == 0)
        f->el = st;
    else
        xnode_free(st);
}

static void f_error(void *ud, xstream_err kind, const char *detail)
{
    frag *f = ud;
    f->failed = 1;
}

xnode *xml_fragment_parse(const char *xml, size_t len, const char *ctx_ns, unsigned max_depth)
{
    static const xstream_cb cb = { f_open, f_stanza, f_close, f_error };
    frag f = { NULL, 0, 0 };
    xstream *xs = xstream_new(&cb, &f, len + 64, max_depth ? max_depth : 1);
    /* The XML was stored by the server after it passed a client stream's
     * limits, where its tree fitted the stanza's budget; a fragment alone
     * may be dense markup of any ratio up to the parser's worst (about 28
     * bytes of tree per input byte), so its budget follows its length. */
    xstream_set_tree_budget(xs, 32 * (len + 64) + 65536, 0);
    buf hdr;
    buf_init(&hdr);
    buf_puts(&hdr, "<fragment");
    if (ctx_ns && *ctx_ns) {
        buf_puts(&hdr, " xmlns='");
        xml_escape(&hdr, ctx_ns, strlen(ctx_ns), true);
        buf_puts(&hdr, "'");
    }
    buf_puts(&hdr, ">");
    int rc = xstream_feed(xs, hdr.data, hdr.len);
    if (rc == 0)
        rc = xstream_feed(xs, xml, len);
    if (rc == 0)
        rc = xstream_feed(xs, "</fragment>", 11);
    buf_free(&hdr);
    xstream_free(xs);
    if (rc != 0 || f.failed || f.count != 1) {
        xnode_free(f.el);
        return NULL;
    }
    return f.el;
}
