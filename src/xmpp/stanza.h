/* stanza.h: building replies and errors for stanzas (RFC 6120 §8.3). The one
 * place where a stanza error is shaped; every module and the router use it. */
#ifndef PLUCS_STANZA_H
#define PLUCS_STANZA_H

#include "xml/xml.h"

/* error types */
#define ERR_CANCEL   "cancel"
#define ERR_MODIFY   "modify"
#define ERR_AUTH     "auth"
#define ERR_WAIT     "wait"

/* A result iq for iq (to = its from, from = its to, same id). New node. */
xnode *iq_result(const xnode *iq);
/* The envelope of a request (an empty <iq/> with its id, from, to and
 * type) to keep while the answer is computed elsewhere (store, directory);
 * iq_result() and stanza_error_reply() accept it like the request. */
xnode *iq_envelope(const xnode *iq);

/* An error reply to st: a copy of st with from/to swapped, type='error' and
 * <error type=..><condition/><text/></error> appended. text may be NULL.
 * Returns NULL when st is itself an error (errors are never answered). */
xnode *stanza_error_reply(const xnode *st, const char *type, const char *condition,
                          const char *text);

/* The three stanza kinds of RFC 6120 §8, by element name. */
typedef enum stanza_kind {
    STANZA_NONE = 0,     /* not a stanza (a stream-level or unknown element) */
    STANZA_MESSAGE,
    STANZA_PRESENCE,
    STANZA_IQ,
} stanza_kind;

stanza_kind stanza_kind_of(const xnode *st);

#endif
