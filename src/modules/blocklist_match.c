/* blocklist_match.c: the XEP-0191 §2 JID matching rule (see blocklist.h).
 * Both JIDs are prepared (jid_parse), so plain byte comparison is right. */
#include "modules/blocklist.h"

#include <string.h>

static bool eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* addr_domain is item_domain or one of its subdomains. */
static bool domain_within(const char *addr_domain, const char *item_domain)
{
    size_t la = strlen(addr_domain), li = strlen(item_domain);
    if (la == li)
        return memcmp(addr_domain, item_domain, la) == 0;
    return la > li && addr_domain[la - li - 1] == '.' &&
           memcmp(addr_domain + la - li, item_domain, li) == 0;
}

bool blocklist_item_matches(const jid *item, const jid *addr)
{
    if (!item || !addr || !item->domain || !addr->domain)
        return false;
    if (item->node) {
        if (!eq(item->node, addr->node) || !eq(item->domain, addr->domain))
            return false;
        return !item->resource || eq(item->resource, addr->resource);
    }
    if (item->resource)
        return !addr->node && eq(item->domain, addr->domain) && eq(item->resource, addr->resource);
    return domain_within(addr->domain, item->domain);
}
