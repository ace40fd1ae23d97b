/* recording_session.h: for unit tests that drive the router without a
 * transport: a session whose transport only records what it is sent. */
#ifndef PLUCS_TEST_RECORDING_SESSION_H
#define PLUCS_TEST_RECORDING_SESSION_H

#include <string.h>

#include "router/session.h"

static char out[4096];   /* everything written to a recording session */
static size_t outlen;

static void rec_write(session *s, const char *d, size_t n)
{
    if (outlen + n < sizeof out) {
        memcpy(out + outlen, d, n);
        outlen += n;
        out[outlen] = 0;
    }
}
static void rec_close(session *s, const char *c, const char *t) {}
static void rec_pause(session *s) {}
static const session_ops ops = { rec_write, rec_close, rec_pause, rec_pause };

#endif
