/* fuzz_stream.c: libFuzzer target for a whole client byte stream through
 * xmpp_stream (src/transport/xmpp_stream.c) behind a fake transport that
 * behaves like c2s.c: its own XML stream parser (stream header namespace
 * checks, max_stanza 4096, depth 64), input flow control (a paused stream
 * gets no bytes until it resumes), STARTTLS (a fresh parser after
 * <proceed/>, the rest of that read dropped) and the stream restart after
 * SASL success. Everything runs on a real worker thread against the real
 * session, routing and router code; see fuzz_server.h for what is real
 * and what stands in for the directory (alice, bob, carol @a.test with the
 * password "secret"; "unavailable" gives a directory failure).
 *
 * Input: byte 0 = k (low 4 bits): the next k bytes give the read sizes
 * (1 + b % 64, or 1 + b * 16 for b >= 0xc0), used in turn; the rest is what
 * the client sends. k = 15 instead ends every read after a '>' (a client
 * that waits for each answer, as most do: the header after <auth/> then
 * reaches the fresh parser of the restarted stream). The connection ends as if the client hung up when the
 * input is exhausted. Output is counted and must stay bounded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_server.h"
#include "transport/xmpp_stream.h"
#include "xml/xml.h"

typedef struct conn {
    unsigned gen;
    bool active;        /* between start and finish */
    xmpp_stream *st;
    xstream *xs;
    const uint8_t *data;
    size_t size, pos;
    const uint8_t *sizes;
    size_t nsizes, si;
    bool by_tag;        /* every read ends after a '>' */
    bool reading;
    bool ended;         /* t_end was called */
    bool starttls;      /* <proceed/> written: new parser after this read */
    bool step_queued;
    size_t out;         /* bytes written to the client */
} conn;

static conn C;

static void step(void *arg);

static void queue_step(conn *c)
{
    if (c->step_queued)
        return;
    c->step_queued = true;
    worker_post(fz_worker, step, (void *)(uintptr_t)c->gen);
}

/* ---- the fake transport ---- */

static void t_header(void *t, const char *id, const char *from, const char *to, const char *lang)
{
    ((conn *)t)->out += 200;
}

static void t_write(void *t, const char *data, size_t len)
{
    conn *c = t;
    if (!len || memchr(data, 0, len))
        abort();   /* the serializer never writes NUL or nothing */
    c->out += len;
}

static void t_end(void *t, bool header_open, bool error)
{
    conn *c = t;
    c->ended = true;
    if (c->xs)
        xstream_stop(c->xs);
    queue_step(c);
}

static void t_input(void *t, bool on)
{
    conn *c = t;
    c->reading = on;
    if (on)
        queue_step(c);
}

static void t_starttls(void *t)
{
    conn *c = t;
    c->starttls = true;
    xstream_stop(c->xs);
}

static void t_restart(void *t)
{
    conn *c = t;
    if (c->xs)
        xstream_reset(c->xs);
}

static void t_destroy(void *t) {}

static const xmpp_transport fake_transport = {
    .name = "fuzz",
    .metric = "tcp",
    .header = t_header,
    .write = t_write,
    .end = t_end,
    .input = t_input,
    .starttls = t_starttls,
    .restart = t_restart,
    .destroy = t_destroy,
};

/* ---- the parser callbacks, as c2s.c has them ---- */

static void xs_open(void *ud, const xnode *hdr, const char *default_ns)
{
    conn *c = ud;
    const char *lang = xnode_attr(hdr, "xml:lang");
    if (strcmp(hdr->name, "stream") || strcmp(hdr->ns, NS_STREAM))
        xmpp_stream_open_refused(c->st, xnode_attr(hdr, "to"), lang, "invalid-namespace");
    else if (!default_ns || strcmp(default_ns, NS_CLIENT))
        xmpp_stream_open_refused(c->st, xnode_attr(hdr, "to"), lang, "invalid-namespace");
    else
        xmpp_stream_open(c->st, xnode_attr(hdr, "to"), xnode_attr(hdr, "version"), lang);
}

static void xs_stanza(void *ud, xnode *el) { xmpp_stream_stanza(((conn *)ud)->st, el); }
static void xs_close(void *ud) { xmpp_stream_end(((conn *)ud)->st); }
static void xs_error(void *ud, xstream_err kind, const char *detail)
{
    xmpp_stream_parse_error(((conn *)ud)->st, kind, detail);
}

static const xstream_cb xs_callbacks = { xs_open, xs_stanza, xs_close, xs_error };

static xstream *new_parser(conn *c)
{
    return xstream_new(&xs_callbacks, c, (size_t)config_current()->max_stanza_size,
                       XMPP_STREAM_MAX_DEPTH);
}

/* ---- driving it ---- */

static void finish(conn *c)
{
    xmpp_stream_free(c->st);
    if (c->xs)
        xstream_free(c->xs);
    c->st = NULL;
    c->xs = NULL;
    c->active = false;
    fz_finish();
}

static void step(void *arg)
{
    conn *c = &C;
    if ((unsigned)(uintptr_t)arg != c->gen || !c->active)
        return;   /* a step of an earlier input */
    c->step_queued = false;
    if (c->ended) {
        finish(c);
        return;
    }
    if (!c->reading)
        return;   /* resumed by t_input */
    if (c->pos >= c->size) {
        /* the client hung up */
        if (!xmpp_stream_closing(c->st))
            xmpp_stream_close(c->st, NULL, NULL);
        finish(c);
        return;
    }
    size_t n = 64;
    if (c->by_tag) {
        const uint8_t *gt = memchr(c->data + c->pos, '>', c->size - c->pos);
        n = gt ? (size_t)(gt - (c->data + c->pos)) + 1 : c->size - c->pos;
    } else if (c->nsizes) {
        uint8_t b = c->sizes[c->si++ % c->nsizes];
        n = b >= 0xc0 ? 1 + (size_t)b * 16 : 1 + b % 64;
    }
    if (n > c->size - c->pos)
        n = c->size - c->pos;
    if (!c->xs)
        c->xs = new_parser(c);
    xstream_feed(c->xs, (const char *)c->data + c->pos, n);
    c->pos += n;
    if (c->starttls && !c->ended) {
        /* "TLS" is up: a fresh parser; what followed <starttls/> in this
         * read is dropped, as c2s.c does */
        c->starttls = false;
        xstream_free(c->xs);
        c->xs = NULL;
    }
    if (c->out > (64u << 20))
        abort();   /* output out of all proportion to the input */
    queue_step(c);
}

static void start(void *arg)
{
    conn *c = &C;
    c->st = xmpp_stream_new(fz_worker, &fake_transport, c, fz_peer(), false);
    c->reading = true;
    c->step_queued = true;
    step(arg);
}

static void abandon(void *arg)
{
    conn *c = &C;
    if ((unsigned)(uintptr_t)arg != c->gen || !c->active)
        return;
    if (!xmpp_stream_closing(c->st))
        xmpp_stream_close(c->st, NULL, NULL);
    finish(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        fz_server_init(NULL);
        ready = true;
    }
    if (size < 1)
        return 0;
    size_t k = data[0] & 0x0f;
    bool by_tag = k == 15;
    if (by_tag)
        k = 0;
    if (k + 1 > size)
        return 0;
    unsigned gen = C.gen + 1;
    memset(&C, 0, sizeof C);
    C.gen = gen;
    C.active = true;
    C.sizes = data + 1;
    C.nsizes = k;
    C.by_tag = by_tag;
    C.data = data + 1 + k;
    C.size = size - 1 - k;
    fz_run(start, abandon, (void *)(uintptr_t)gen, 5);
    return 0;
}
