/* fuzz_http.c: libFuzzer target for what the web listener reads from the
 * network before any session exists: the HTTP request reader (fed in
 * chunks, pipelined requests resumed) and, for every complete request, the
 * BOSH body parser and the element framing of each child. Nothing may
 * crash, leak or read out of bounds; limits: body 4096, stanza 2048. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "transport/bosh_body.h"
#include "transport/framing.h"
#include "transport/http_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (data[0] & 0x3f) + 1;
    const char *p = (const char *)data + 1;
    size_t left = size - 1;
    http_reader r;
    http_reader_init(&r, 4096);
    int requests = 0;
    while (left && !r.error && requests < 16) {
        size_t n = left < chunk ? left : chunk;
        size_t used = http_reader_feed(&r, p, n);
        p += used;
        left -= used;
        if (r.complete) {
            requests++;
            char path[256];
            http_reader_path(&r, path, sizeof path);
            bosh_body b;
            char err[128];
            if (bosh_body_parse(r.body.data ? r.body.data : "", r.body.len, 2048, &b, err,
                                sizeof err) == 0) {
                for (xnode *k = b.kids; k; k = k->next) {
                    char *s = xml_to_string(k, NS_CLIENT);
                    buf out;
                    buf_init(&out);
                    framing_qualify(&out, s, strlen(s));
                    buf_free(&out);
                    free(s);
                }
                bosh_body_clear(&b);
            }
            http_reader_next(&r);
        } else if (used == 0 && !r.error) {
            break;
        }
    }
    http_reader_free(&r);
    return 0;
}
