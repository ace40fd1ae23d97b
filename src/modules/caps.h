/* caps.h: XEP-0115 entity capabilities of the server. The verification
 * string is computed (XEP-0115 §5.1, SHA-1) over exactly the disco#info
 * answer mod_disco gives for the server, so the two can never disagree.
 * mod_caps adds caps_stream_feature() to the stream features after
 * authentication (its descriptor); mod_disco answers disco#info for the node
 * "CAPS_NODE#<ver>" like the plain query. */
#ifndef PLUCS_CAPS_H
#define PLUCS_CAPS_H

#include <stdbool.h>

#include "xml/xml.h"

#define NS_CAPS "http://jabber.org/protocol/caps"
#define CAPS_NODE "https://plucs.example/caps"
#define CAPS_VER_LEN 29          /* base64 of a SHA-1 digest, with the NUL */

/* The verification string of a disco#info <query/> (identities, features
 * and XEP-0128 extended forms). 0, or -1 when the query is unusable. */
int caps_ver(const xnode *query, char out[CAPS_VER_LEN]);

/* "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='…'
 * ver='…'/>" for the server (static storage, valid for the process life;
 * computed on first use, after modules_init()). Thread-safe. */
const char *caps_stream_feature(void);
/* Whether node is "CAPS_NODE#<the server's ver>". */
bool caps_node_is_current(const char *node);

#endif
