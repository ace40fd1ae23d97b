/* fuzz_bosh_poll.c: libFuzzer target for the two HTTP long-polling
 * transports as the web listener hands them request bodies: BOSH
 * (bosh_request: the <body/> parser of bosh_body.c, sid and rid window,
 * session creation, restart, pause, terminate, held requests) and HTTP
 * polling (poll_request: the "ID;KEY;NEWKEY," prefix, the key sequence,
 * the stream pieces), each on the real session code and xmpp_stream
 * running on the worker of fuzz_server.h. http_reply() is wrapped: the
 * answers are read (the BOSH sid, the polling ID cookie) instead of being
 * written to a connection; everything else is the server's own code.
 *
 * Input: byte 0 bit 0 picks the transport (0 BOSH, 1 polling); the rest is
 * a sequence of request bodies separated by NUL bytes, each one sent as a
 * POST in turn. "$SID" in a body is replaced by the session identifier the
 * server last answered with (BOSH sid, polling ID), so mutated inputs keep
 * talking to a live session. At the end of the input every session of the
 * worker is freed (bosh/poll_worker_cleanup, as at shutdown). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_server.h"
#include "transport/bosh.h"
#include "transport/http.h"
#include "transport/poll.h"

void __wrap_http_reply(const http_ref *ref, int status, const char *headers, char *body,
                       size_t len);

typedef struct hreq {
    unsigned gen;
    bool poll;
    const uint8_t *data;
    size_t size, pos;
    uint32_t serial;
    char sid[64];
    size_t answers;
} hreq;

static hreq R;

static void take_id(const char *s, size_t len, const char *marker, char end1, char end2)
{
    const char *p = s ? memmem(s, len, marker, strlen(marker)) : NULL;
    if (!p)
        return;
    p += strlen(marker);
    size_t n = 0;
    while (p + n < s + len && p[n] != end1 && p[n] != end2 && n < sizeof R.sid - 1)
        n++;
    memcpy(R.sid, p, n);
    R.sid[n] = 0;
}

void __wrap_http_reply(const http_ref *ref, int status, const char *headers, char *body,
                       size_t len)
{
    if (status < 100 || status > 599 || (len && !body))
        abort();
    R.answers++;
    if (R.poll && headers)
        take_id(headers, strlen(headers), "ID=", ';', '\r');
    else if (!R.poll && body)
        take_id(body, len, "sid='", '\'', '\'');
    free(body);
}

static void step(void *arg)
{
    if ((unsigned)(uintptr_t)arg != R.gen)
        return;
    if (R.pos >= R.size) {
        if (R.poll)
            poll_worker_cleanup();
        else
            bosh_worker_cleanup();
        fz_finish();
        return;
    }
    const uint8_t *p = R.data + R.pos;
    const uint8_t *nul = memchr(p, 0, R.size - R.pos);
    size_t n = nul ? (size_t)(nul - p) : R.size - R.pos;
    R.pos += n + (nul ? 1 : 0);
    /* the body with $SID replaced */
    size_t cap = n + 1 + 64 * (n / 4 + 1);
    char *b = malloc(cap);
    if (!b)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (i + 4 <= n && !memcmp(p + i, "$SID", 4)) {
            size_t l = strlen(R.sid);
            memcpy(b + o, R.sid, l);
            o += l;
            i += 4;
        } else {
            b[o++] = (char)p[i++];
        }
    }
    b[o] = 0;
    http_ref ref = { 0, 1, ++R.serial };
    if (R.poll)
        poll_request(&ref, b, o, NULL, fz_peer(), true);   /* as from the loopback proxy */
    else
        bosh_request(&ref, b, o, fz_peer(), true);
    free(b);
    worker_post(fz_worker, step, arg);
}

static void abandon(void *arg)
{
    R.pos = R.size;   /* the pending step frees the sessions and finishes */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        fz_server_init("plucs/http/bind: true\nplucs/http/poll: true\n");
        ready = true;
    }
    if (size < 1)
        return 0;
    unsigned gen = R.gen + 1;
    memset(&R, 0, sizeof R);
    R.gen = gen;
    R.poll = data[0] & 1;
    R.data = data + 1;
    R.size = size - 1;
    fz_run(step, abandon, (void *)(uintptr_t)gen, 5);
    return 0;
}
