/* mam_proto.h: the pure parts of the message archive (XEP-0313) protocol,
 * apart from mod_mam.c so unit tests reach them: archive ids as opaque
 * strings, XEP-0082 timestamps, and the parsing of a query (data form
 * fields with/start/end/before-id/after-id, XEP-0059 RSM max/after/before,
 * flip-page). No I/O, no global state. */
#ifndef PLUCS_MAM_PROTO_H
#define PLUCS_MAM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xml/xml.h"

#define NS_MAM "urn:xmpp:mam:2"
#define NS_RSM "http://jabber.org/protocol/rsm"
#define NS_SID "urn:xmpp:sid:0"
#define NS_FORWARD "urn:xmpp:forward:0"
#define NS_XDATA "jabber:x:data"
#define NS_HINTS "urn:xmpp:hints"

#define MAM_ID_LEN 13          /* base32 characters of a 64-bit id */
#define MAM_MAX_DEFAULT 50
#define MAM_MAX_CAP 250

/* Writes id (>= 0) as MAM_ID_LEN lowercase base32 characters (Crockford's
 * alphabet, fixed width so string order is id order) and a NUL. */
void mam_id_encode(int64_t id, char out[MAM_ID_LEN + 1]);
/* The id of s, or -1 when s is no id this server wrote (upper case is
 * accepted). */
int64_t mam_id_decode(const char *s);

/* XEP-0082 DateTime (YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)) in
 * microseconds since 1970, or -1 when malformed. */
int64_t mam_time_parse(const char *s);
/* The XEP-0082 UTC form of us (with microseconds). */
void mam_time_format(int64_t us, char *out, size_t len);

typedef struct mam_request {
    char *with;            /* the form's 'with', as given (NULL: none) */
    int64_t start_us, end_us;   /* -1: none */
    int64_t after_id, before_id; /* the form's after-id/before-id; 0 none; -1 unknown id */
    int max;               /* RSM max, defaulted and capped */
    int64_t rsm_after;     /* 0 none, -1 unknown id */
    int64_t rsm_before;    /* 0 none, -1 unknown id */
    bool rsm_before_empty; /* <before/>: the last page */
    bool flip;
} mam_request;

void mam_request_clear(mam_request *r);
/* Parses <query xmlns='urn:xmpp:mam:2'>. 0, or -1 with *why set (the text
 * of a bad-request: malformed date, unknown field, bad max...). Ids that
 * are not ours decode to -1 (item-not-found for the caller). */
int mam_request_parse(const xnode *query, mam_request *out, const char **why);

#endif
