/* sasl.h: SASL helpers that need no network: base64 (strict, as RFC 6120
 * §6.4.2 requires) and the PLAIN mechanism's message (RFC 4616). */
#ifndef PLUCS_SASL_H
#define PLUCS_SASL_H

#include <stddef.h>

/* Strict base64 decode (no whitespace, correct padding). Returns a malloc'ed
 * buffer (NUL-terminated, *outlen without the NUL) or NULL when malformed. */
char *base64_decode(const char *in, size_t inlen, size_t *outlen);
char *base64_encode(const void *in, size_t inlen);   /* malloc'ed */

typedef enum {
    SASL_PLAIN_OK = 0,
    SASL_PLAIN_MALFORMED,   /* bad base64, wrong number of fields, NUL/empty authcid,
                               authcid/password too long, invalid UTF-8 */
} sasl_plain_result;

/* Decodes the base64 payload of <auth mechanism='PLAIN'>. On OK the three
 * strings are malloc'ed (authzid "" when absent); the caller frees them. */
sasl_plain_result sasl_plain_decode(const char *b64, size_t len,
                                    char **authzid, char **authcid, char **password);

#endif
