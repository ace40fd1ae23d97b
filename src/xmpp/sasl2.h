/* sasl2.h: the network-free parts of SASL2 (XEP-0388), Bind 2 (XEP-0386)
 * and FAST (XEP-0484): parsing a client's <authenticate/> into a plain
 * struct, the HT-* mechanisms' names and their HMAC (the HT SASL mechanism
 * family XEP-0484 uses), and the FAST token derivation. The stream code
 * (transport/sasl2_stream.c) does the I/O; unit tests feed this directly
 * (tests/unit/test_sasl2.c). */
#ifndef PLUCS_SASL2_H
#define PLUCS_SASL2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xml/xml.h"

#define NS_SASL2 "urn:xmpp:sasl:2"
#define NS_BIND2 "urn:xmpp:bind:0"
#define NS_FAST "urn:xmpp:fast:0"
#define NS_SASL_CB "urn:xmpp:sasl-cb:0"
#define NS_CARBONS2 "urn:xmpp:carbons:2"

/* The HT-* mechanisms, by channel binding. */
typedef enum {
    HT_NONE = 0,   /* HT-SHA-256-NONE: no channel binding */
    HT_ENDP,       /* tls-server-end-point (RFC 5929) */
    HT_UNIQ,       /* tls-unique (RFC 5929), TLS <= 1.2 */
    HT_EXPR,       /* tls-exporter (RFC 9266), TLS 1.3 */
    HT_COUNT
} ht_cb;

const char *ht_mech_name(ht_cb cb);          /* "HT-SHA-256-ENDP" */
int ht_mech_parse(const char *name);         /* ht_cb, or -1 when not an HT-SHA-256-* name */
const char *ht_cb_type(ht_cb cb);            /* "tls-server-end-point"; NULL for HT_NONE */

#define SASL2_AGENT_MAX 128
#define SASL2_TAG_MAX 64

/* What a client's <authenticate xmlns='urn:xmpp:sasl:2'/> asks for. */
typedef struct sasl2_auth {
    char *mechanism;          /* attribute, required */
    char *initial;            /* text of <initial-response/>, NULL when absent */
    char *agent_id;           /* <user-agent id=/>, NULL when absent */
    bool bind;                /* <bind xmlns='urn:xmpp:bind:0'/> present */
    char *tag;                /* its <tag/> text, NULL when absent */
    bool bind_carbons;        /* <enable xmlns='urn:xmpp:carbons:2'/> inside bind */
    bool bind_sm;             /* <enable xmlns='urn:xmpp:sm:3'/> inside bind */
    bool bind_sm_resume;      /* ... with resume='true' */
    int request_token;        /* <request-token mechanism=/>: ht_cb, -1 when absent */
    bool fast;                /* <fast xmlns='urn:xmpp:fast:0'/>: a token login */
    bool fast_invalidate;     /* <fast invalidate='true'/> */
    bool fast_has_count;
    uint64_t fast_count;      /* <fast count=/> */
} sasl2_auth;

typedef enum {
    SASL2_OK = 0,
    SASL2_NO_MECHANISM,       /* mechanism attribute missing or empty */
    SASL2_BAD_AGENT,          /* user-agent id empty or too long */
    SASL2_BAD_TAG,            /* tag too long */
    SASL2_BAD_REQUEST_TOKEN,  /* request-token names no HT mechanism */
    SASL2_BAD_COUNT,          /* fast count not a decimal number */
} sasl2_parse_result;

/* Parses el (<authenticate/> in NS_SASL2) into *out (zeroed first; free
 * with sasl2_auth_clear, also after a failure). */
sasl2_parse_result sasl2_auth_parse(const xnode *el, sasl2_auth *out);
void sasl2_auth_clear(sasl2_auth *a);
const char *sasl2_parse_result_name(sasl2_parse_result r);

/* HT: HMAC-SHA-256 keyed with the token over "Initiator" (initiator true)
 * or "Responder", followed by the channel binding data (cb, cblen; may be
 * empty). out: 32 bytes. */
void ht_hmac(const void *token, size_t tokenlen, bool initiator, const unsigned char *cb,
             size_t cblen, unsigned char out[32]);

/* Splits an HT initial response (already base64-decoded): authcid NUL
 * 32-byte HMAC. Returns 0 and a malloc'ed authcid, or -1 when malformed. */
int ht_split(const unsigned char *msg, size_t len, char **authcid, unsigned char mac[32]);

/* The FAST token string of one stored token: base64 of
 * HMAC-SHA-256(server key, nonce NUL account NUL agent). Deterministic, so
 * the store keeps only the nonce and SHA-256 of the token (token_hash). */
char *fast_token_derive(const unsigned char *key, size_t keylen, const char *nonce,
                        const char *account, const char *agent);   /* malloc'ed */
/* Lower-case hex SHA-256 of token (65 bytes with the NUL). */
void fast_token_hash(const char *token, char out[65]);

#endif
