/* fuzz_ws.c: libFuzzer target for the WebSocket transport
 * (src/transport/websocket.c) as it runs in plucsd: websocket_accept() takes
 * one end of a bufferevent pair on the worker, the input is written into
 * the other end as the client's bytes after the HTTP upgrade (frames:
 * masking, fragments, control frames, close codes, the message size limit
 * are wslay's; one element per text message, <open/>, <close/>, the XML
 * limits and everything above are ours), the server's output is read and
 * counted. The connection ends as if the client hung up when the input is
 * exhausted; the target waits until websocket.c freed its connection
 * (transport_conn_closed, wrapped). The rest of the server is fuzz_server.h.
 *
 * Input: byte 0 = k (low 4 bits): the next k bytes give the write sizes
 * (1 + b % 64, or 1 + b * 16 for b >= 0xc0), used in turn; k = 15 writes
 * everything at once. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_server.h"
#include "transport/websocket.h"

void __real_transport_conn_closed(void);
void __wrap_transport_conn_closed(void);

typedef struct wconn {
    unsigned gen;
    bool active;
    struct bufferevent *client;
    const uint8_t *data;
    size_t size, pos;
    const uint8_t *sizes;
    size_t nsizes, si;
    bool all_at_once;
    size_t out;
} wconn;

static wconn W;

static void cleanup(void *arg)
{
    if (W.client)
        bufferevent_free(W.client);
    W.client = NULL;
    fz_finish();
}

/* websocket.c freed its connection: this input is done. */
void __wrap_transport_conn_closed(void)
{
    __real_transport_conn_closed();
    if (W.active) {
        W.active = false;
        /* maybe inside a write to the client end: free it on the next turn */
        worker_post(fz_worker, cleanup, NULL);
    }
}

static void client_read(struct bufferevent *bev, void *arg)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    W.out += evbuffer_get_length(in);
    evbuffer_drain(in, evbuffer_get_length(in));
    if (W.out > (256u << 20))
        abort();   /* output out of all proportion to the input */
}

static void client_event(struct bufferevent *bev, short what, void *arg) {}

static void step(void *arg)
{
    if ((unsigned)(uintptr_t)arg != W.gen || !W.active)
        return;
    if (W.pos >= W.size) {
        /* the client hangs up: the server side sees EOF */
        struct bufferevent *c = W.client;
        W.client = NULL;
        bufferevent_flush(c, EV_WRITE, BEV_FINISHED);   /* the pair's EOF */
        bufferevent_free(c);
        return;
    }
    size_t n = W.size - W.pos;
    if (!W.all_at_once && W.nsizes) {
        uint8_t b = W.sizes[W.si++ % W.nsizes];
        n = b >= 0xc0 ? 1 + (size_t)b * 16 : 1 + b % 64;
    } else if (!W.all_at_once) {
        n = 64;
    }
    if (n > W.size - W.pos)
        n = W.size - W.pos;
    bufferevent_write(W.client, W.data + W.pos, n);
    W.pos += n;
    worker_post(fz_worker, step, arg);
}

static void start(void *arg)
{
    struct bufferevent *pair[2];
    if (bufferevent_pair_new(worker_base(fz_worker), BEV_OPT_CLOSE_ON_FREE, pair) != 0)
        abort();
    W.client = pair[0];
    bufferevent_setcb(W.client, client_read, NULL, client_event, NULL);
    bufferevent_enable(W.client, EV_READ | EV_WRITE);
    websocket_accept(fz_worker, pair[1], fz_peer(), true, NULL);   /* as from the loopback proxy, no pre-auth slot */
    step(arg);
}

static void abandon(void *arg)
{
    /* still open after the timeout: hang up now (the EOF frees it) */
    if ((unsigned)(uintptr_t)arg != W.gen || !W.active || !W.client)
        return;
    struct bufferevent *c = W.client;
    W.client = NULL;
    bufferevent_flush(c, EV_WRITE, BEV_FINISHED);
    bufferevent_free(c);
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
    bool all = k == 15;
    if (all)
        k = 0;
    if (k + 1 > size)
        return 0;
    unsigned gen = W.gen + 1;
    memset(&W, 0, sizeof W);
    W.gen = gen;
    W.active = true;
    W.sizes = data + 1;
    W.nsizes = k;
    W.all_at_once = all;
    W.data = data + 1 + k;
    W.size = size - 1 - k;
    fz_run(start, abandon, (void *)(uintptr_t)gen, 5);
    return 0;
}
