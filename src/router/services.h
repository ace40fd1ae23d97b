/* services.h: "service domains" such as the MUC service conference.D: hosts
 * that are not served account domains but whose stanzas a module handles.
 * The router hands every stanza addressed to such a domain (from local
 * sessions, from other servers, and server-generated) to the module
 * instead of delivering it to accounts or to federation, and federation
 * accepts streams and stanzas for them. Registered from a module's init
 * (before the workers start); read-only afterwards. */
#ifndef PLUCS_SERVICES_H
#define PLUCS_SERVICES_H

#include <stdbool.h>

#include "xml/xml.h"

/* Whether domain (prepared) is one of the module's service hosts; called
 * on any worker thread. */
typedef bool (*service_match_fn)(const char *domain);
/* A stanza for the service (ownership passes): 'to' prepared and 'from'
 * stamped (the local session's full JID, or the authenticated remote). */
typedef void (*service_handler_fn)(xnode *st);

#define ROUTER_MAX_SERVICES 4

/* 0, or -1 when the table is full. */
int router_add_service(service_match_fn match, service_handler_fn handler);
void router_services_reset(void);

/* The handler of domain, or NULL when it is no service domain. */
service_handler_fn router_service(const char *domain);
/* Served account domain or service domain: what federation accepts as
 * 'to' and sends as 'from'. */
bool router_accepts(const char *domain);

#endif
