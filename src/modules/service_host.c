/* service_host.c: expanding and matching "X.%s" service host patterns,
 * and the intake check of their stanzas (see service_host.h). */
#include "modules/service_host.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "router/router.h"

char *service_host_expand(const char *fmt, const char *d)
{
    const char *pct = strstr(fmt, "%s");
    if (!pct)
        return xstrdup(fmt);
    size_t n = strlen(fmt) + strlen(d);
    char *s = xmalloc(n);
    snprintf(s, n, "%.*s%s%s", (int)(pct - fmt), fmt, d, pct + 2);
    return s;
}

bool service_host_match(const char *fmt, const char *domain)
{
    const char *pct = strstr(fmt, "%s");
    if (!pct)
        return false;
    size_t pre = (size_t)(pct - fmt), post = strlen(pct + 2), n = strlen(domain);
    if (n <= pre + post || strncmp(domain, fmt, pre) || strcmp(domain + n - post, pct + 2))
        return false;
    char d[1024];
    if (n - pre - post >= sizeof d)
        return false;
    memcpy(d, domain + pre, n - pre - post);
    d[n - pre - post] = 0;
    return router_serves(d);
}

bool service_stanza_to(xnode *st, jid *to)
{
    if (jid_parse(xnode_attr(st, "to"), to) != 0 || !xnode_attr(st, "from")) {
        xnode_free(st);
        return false;
    }
    return true;
}
