/* sasl.c: the network-free parts of SASL: strict base64 (RFC 4648 §4, as
 * RFC 6120 §6.4.2 requires: no whitespace, no missing or extra padding, no
 * stray bits) and decoding the PLAIN message (RFC 4616). The c2s stream
 * calls sasl_plain_decode() on <auth mechanism='PLAIN'> and hands authcid
 * and password to the directory for a bind. */
#include "xmpp/sasl.h"
#include "core/alloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/utf8.h"

#define PLAIN_FIELD_MAX 1023

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

char *base64_decode(const char *in, size_t inlen, size_t *outlen)
{
    if (!in && inlen)
        return NULL;
    if (inlen % 4 != 0)
        return NULL;
    size_t pad = 0;
    if (inlen >= 4) {
        if (in[inlen - 1] == '=')
            pad++;
        if (in[inlen - 2] == '=')
            pad++;
        if (pad == 1 && in[inlen - 2] == '=')
            return NULL;
    }
    if (pad == 2 && in[inlen - 1] != '=')
        return NULL;
    size_t n = inlen / 4 * 3 - pad;
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < inlen; i += 4) {
        bool last = i + 4 == inlen;
        int v[4];
        for (int k = 0; k < 4; k++) {
            if (last && k >= 4 - (int)pad) {
                v[k] = 0;
                continue;
            }
            v[k] = b64val((unsigned char)in[i + k]);
            if (v[k] < 0) {
                free(out);
                return NULL;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if (last && pad == 2 && (w & 0xFFFF)) {          /* stray bits */
            free(out);
            return NULL;
        }
        if (last && pad == 1 && (w & 0xFF)) {
            free(out);
            return NULL;
        }
        out[o++] = (char)(w >> 16);
        if (!(last && pad == 2))
            out[o++] = (char)(w >> 8 & 0xFF);
        if (!(last && pad >= 1))
            out[o++] = (char)(w & 0xFF);
    }
    out[o] = 0;
    if (outlen)
        *outlen = o;
    return out;
}

char *base64_encode(const void *in, size_t inlen)
{
    const unsigned char *s = in;
    size_t n = (inlen + 2) / 3 * 4;
    char *out = xmalloc(n + 1), *p = out;
    size_t i = 0;
    for (; i + 3 <= inlen; i += 3) {
        uint32_t w = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *p++ = b64chars[w >> 18];
        *p++ = b64chars[w >> 12 & 63];
        *p++ = b64chars[w >> 6 & 63];
        *p++ = b64chars[w & 63];
    }
    if (inlen - i == 1) {
        uint32_t w = (uint32_t)s[i] << 16;
        *p++ = b64chars[w >> 18];
        *p++ = b64chars[w >> 12 & 63];
        *p++ = '=';
        *p++ = '=';
    } else if (inlen - i == 2) {
        uint32_t w = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *p++ = b64chars[w >> 18];
        *p++ = b64chars[w >> 12 & 63];
        *p++ = b64chars[w >> 6 & 63];
        *p++ = '=';
    }
    *p = 0;
    return out;
}

sasl_plain_result sasl_plain_decode(const char *b64, size_t len,
                                    char **authzid, char **authcid, char **password)
{
    *authzid = *authcid = *password = NULL;
    /* "=" is the empty response (RFC 6120 §6.4.2); PLAIN needs content.
     * An empty payload is the same thing sent badly. */
    if (!b64 || len == 0 || (len == 1 && b64[0] == '='))
        return SASL_PLAIN_MALFORMED;
    /* three fields of at most 1023 bytes, two NULs, base64 overhead */
    if (len > (3 * PLAIN_FIELD_MAX + 2 + 2) / 3 * 4 + 4)
        return SASL_PLAIN_MALFORMED;
    size_t n;
    char *msg = base64_decode(b64, len, &n);
    if (!msg)
        return SASL_PLAIN_MALFORMED;

    sasl_plain_result rc = SASL_PLAIN_MALFORMED;
    const char *nul1 = memchr(msg, 0, n);
    const char *nul2 = nul1 ? memchr(nul1 + 1, 0, n - (size_t)(nul1 + 1 - msg)) : NULL;
    if (!nul1 || !nul2 || memchr(nul2 + 1, 0, n - (size_t)(nul2 + 1 - msg)))
        goto out;   /* exactly two NULs */
    size_t zlen = (size_t)(nul1 - msg);
    size_t clen = (size_t)(nul2 - nul1 - 1);
    size_t plen = n - (size_t)(nul2 + 1 - msg);
    /* authcid and password are 1*SAFE (RFC 4616); an empty password must
     * never reach an LDAP simple bind, where it means "anonymous" */
    if (clen == 0 || plen == 0)
        goto out;
    if (zlen > PLAIN_FIELD_MAX || clen > PLAIN_FIELD_MAX || plen > PLAIN_FIELD_MAX)
        goto out;
    if (!utf8_valid(msg, zlen) || !utf8_valid(nul1 + 1, clen) || !utf8_valid(nul2 + 1, plen))
        goto out;
    *authzid = xstrndup(msg, zlen);
    *authcid = xstrndup(nul1 + 1, clen);
    *password = xstrndup(nul2 + 1, plen);
    rc = SASL_PLAIN_OK;
out:
    explicit_bzero(msg, n);
    free(msg);
    return rc;
}
