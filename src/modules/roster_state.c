/* roster_state.c: the RFC 6121 §3 subscription state machine as one pure
 * function over a roster item, so it can be tested without a server. The
 * caller stores, pushes, routes and delivers according to the flags. The
 * item limits and the roster quota are pure checks here too. */
#include "modules/roster.h"

#include <stdlib.h>
#include <string.h>

static void ensure(store_roster_item *it, bool *exists)
{
    if (!*exists) {
        it->subscription = STORE_SUB_NONE;
        it->ask = false;
        it->approved = false;
        *exists = true;
    }
}

unsigned roster_apply(store_roster_item *it, bool *exists, bool pending, roster_op op)
{
    store_sub sub = *exists ? it->subscription : STORE_SUB_NONE;
    bool to = sub == STORE_SUB_TO || sub == STORE_SUB_BOTH;
    bool from = sub == STORE_SUB_FROM || sub == STORE_SUB_BOTH;
    unsigned acts = 0;

    switch (op) {
    case RS_SET:
        ensure(it, exists);
        return RS_ACT_STORE;

    case RS_OUT_SUBSCRIBE:
        acts = RS_ACT_ROUTE;
        if (!*exists || (!to && !it->ask)) {
            ensure(it, exists);
            if (!to) {
                it->ask = true;
                acts |= RS_ACT_STORE;
            }
        }
        return acts;

    case RS_OUT_SUBSCRIBED:
        if (pending) {
            ensure(it, exists);
            it->subscription = to ? STORE_SUB_BOTH : STORE_SUB_FROM;
            it->approved = false;
            return RS_ACT_STORE | RS_ACT_ROUTE | RS_ACT_PENDING_DEL | RS_ACT_PRESENCE;
        }
        if (from)
            return 0;                       /* already approved: nothing to say */
        ensure(it, exists);                 /* pre-approval (RFC 6121 §3.4) */
        if (it->approved)
            return 0;
        it->approved = true;
        return RS_ACT_STORE;

    case RS_OUT_UNSUBSCRIBE:
        acts = RS_ACT_ROUTE;
        if (*exists && (to || it->ask)) {
            it->subscription = from ? STORE_SUB_FROM : STORE_SUB_NONE;
            it->ask = false;
            acts |= RS_ACT_STORE;
        }
        return acts;

    case RS_OUT_UNSUBSCRIBED:
        acts = RS_ACT_ROUTE;
        if (pending)
            acts |= RS_ACT_PENDING_DEL;
        if (*exists && (from || it->approved)) {
            if (from)
                acts |= RS_ACT_UNAVAILABLE;
            it->subscription = to ? STORE_SUB_TO : STORE_SUB_NONE;
            it->approved = false;
            acts |= RS_ACT_STORE;
        }
        return acts;

    case RS_IN_SUBSCRIBE:
        if (from)
            return RS_ACT_AUTOREPLY;
        if (*exists && it->approved) {
            it->subscription = to ? STORE_SUB_BOTH : STORE_SUB_FROM;
            it->approved = false;
            return RS_ACT_STORE | RS_ACT_AUTOREPLY | RS_ACT_PRESENCE;
        }
        return RS_ACT_DELIVER | RS_ACT_PENDING_ADD;

    case RS_IN_SUBSCRIBED:
        if (*exists && it->ask && !to) {
            it->subscription = from ? STORE_SUB_BOTH : STORE_SUB_TO;
            it->ask = false;
            return RS_ACT_STORE | RS_ACT_DELIVER;
        }
        return 0;                           /* unsolicited: dropped */

    case RS_IN_UNSUBSCRIBE:
        acts = pending ? RS_ACT_PENDING_DEL : 0;
        if (from) {
            it->subscription = to ? STORE_SUB_TO : STORE_SUB_NONE;
            acts |= RS_ACT_STORE | RS_ACT_DELIVER;
        }
        return acts;

    case RS_IN_UNSUBSCRIBED:
        if (*exists && (to || it->ask)) {
            it->subscription = from ? STORE_SUB_FROM : STORE_SUB_NONE;
            it->ask = false;
            return RS_ACT_STORE | RS_ACT_DELIVER;
        }
        return 0;
    }
    return 0;
}

bool roster_item_fits(const char *name, char *const *groups, size_t ngroups)
{
    if (name && strlen(name) > ROSTER_NAME_MAX)
        return false;
    if (ngroups > ROSTER_GROUPS_MAX)
        return false;
    for (size_t i = 0; i < ngroups; i++)
        if (!groups[i] || !*groups[i] || strlen(groups[i]) > ROSTER_GROUP_MAX)
            return false;
    return true;
}

bool roster_quota_allows(size_t n, bool exists, int quota)
{
    return exists || quota <= 0 || n < (size_t)quota;
}
