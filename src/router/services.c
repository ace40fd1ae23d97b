/* services.c: the table of service domains, see services.h. */
#include "router/services.h"

#include "router/router.h"

static struct {
    service_match_fn match;
    service_handler_fn handler;
} table[ROUTER_MAX_SERVICES];
static int ntable;

int router_add_service(service_match_fn match, service_handler_fn handler)
{
    if (ntable >= ROUTER_MAX_SERVICES)
        return -1;
    table[ntable].match = match;
    table[ntable].handler = handler;
    ntable++;
    return 0;
}

void router_services_reset(void) { ntable = 0; }

service_handler_fn router_service(const char *domain)
{
    for (int i = 0; domain && i < ntable; i++)
        if (table[i].match(domain))
            return table[i].handler;
    return NULL;
}

bool router_accepts(const char *domain)
{
    return router_serves(domain) || router_service(domain) != NULL;
}
