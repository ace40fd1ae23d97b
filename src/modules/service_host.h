/* service_host.h: the service domains of MUC, pubsub and upload are one
 * per served domain D, named by a pattern with %s for D ("conference.%s",
 * "pubsub.%s", "upload.%s"). One expansion and one match for the three
 * modules, and the first check of a stanza for such a host
 * (router/services.h is the table they register with). */
#ifndef PLUCS_SERVICE_HOST_H
#define PLUCS_SERVICE_HOST_H

#include <stdbool.h>

#include "xml/xml.h"
#include "xmpp/jid.h"

/* The service host of served domain d under fmt (malloc'ed): fmt with its
 * first %s replaced by d; fmt itself when it has no %s. */
char *service_host_expand(const char *fmt, const char *d);
/* Whether domain (prepared) is fmt expanded for a served domain; false
 * when fmt has no %s. Any thread. */
bool service_host_match(const char *fmt, const char *domain);
/* The start of a service's stanza handler: *to is the parsed 'to' (clear
 * it); false, with st freed, when 'to' does not parse or 'from' is
 * missing. */
bool service_stanza_to(xnode *st, jid *to);

#endif
