/* mod_muc.c: the XEP-0045 service glue. For every served domain D with
 * plucs/muc on, plucs/muc/host with %s = D (conference.D) is a service
 * domain (router/services.h): every stanza to it arrives here, from local
 * sessions and from other servers alike. A stanza for a room is posted to
 * the room's owner worker (hash of the room's bare JID), so each room
 * lives on exactly one thread; the service's own JID (disco, ping) is
 * answered on the calling worker. Also: the global room index (public
 * rooms for disco#items, rooms per creator), counters for status and
 * metrics, room-creation policy (plucs/muc/create) and the communication
 * restrictions by real JIDs. */
#include "modules/muc_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/disco.h"
#include "modules/module.h"
#include "modules/muc_policy.h"
#include "modules/service_host.h"
#include "router/policy.h"
#include "router/router.h"
#include "router/services.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define NS_PING "urn:xmpp:ping"

/* ---- counters ---- */

static atomic_long n_rooms, n_occupants;
static atomic_ullong n_groupchat;

void muc_stat_rooms(int d) { atomic_fetch_add(&n_rooms, d); }
void muc_stat_occupants(int d) { atomic_fetch_add(&n_occupants, d); }
void muc_stat_groupchat(void) { atomic_fetch_add(&n_groupchat, 1); }
size_t muc_rooms_count(void) { long v = atomic_load(&n_rooms); return v > 0 ? (size_t)v : 0; }
size_t muc_occupants_count(void)
{
    long v = atomic_load(&n_occupants);
    return v > 0 ? (size_t)v : 0;
}
unsigned long long muc_groupchat_count(void) { return atomic_load(&n_groupchat); }

/* `plucs status` lines (control/control_status.c) and /metrics lines
 * (metrics/metrics.c), which reference these weakly. */
void muc_status_lines(buf *out);
void muc_metrics_lines(buf *out);

void muc_status_lines(buf *out)
{
    buf_printf(out, "muc/rooms: %zu\n", muc_rooms_count());
    buf_printf(out, "muc/occupants: %zu\n", muc_occupants_count());
}

void muc_metrics_lines(buf *out)
{
    buf_printf(out, "# HELP plucs_muc_rooms Group chat rooms in memory.\n"
                    "# TYPE plucs_muc_rooms gauge\n"
                    "plucs_muc_rooms %zu\n"
                    "# HELP plucs_muc_occupants Occupants of group chat rooms.\n"
                    "# TYPE plucs_muc_occupants gauge\n"
                    "plucs_muc_occupants %zu\n"
                    "# HELP plucs_muc_groupchat_messages_total Groupchat messages fanned out.\n"
                    "# TYPE plucs_muc_groupchat_messages_total counter\n"
                    "plucs_muc_groupchat_messages_total %llu\n",
               muc_rooms_count(), muc_occupants_count(), muc_groupchat_count());
}

/* ---- the room index ---- */

typedef struct idx {
    struct idx *next;
    char *jid, *creator, *name;
    bool pub;
} idx;

static pthread_mutex_t idx_lock = PTHREAD_MUTEX_INITIALIZER;
static idx *index_head;

/* Under idx_lock: the entry of room_jid, added when missing. */
static idx *index_entry(const char *room_jid, const char *creator)
{
    idx *e = index_head;
    while (e && strcmp(e->jid, room_jid))
        e = e->next;
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->jid = xstrdup(room_jid);
        e->creator = creator ? xstrdup(creator) : NULL;
        e->next = index_head;
        index_head = e;
    }
    return e;
}

bool muc_index_reserve(const char *room_jid, const char *creator, size_t max)
{
    size_t n = 0;
    bool exists = false;
    pthread_mutex_lock(&idx_lock);
    for (idx *e = index_head; e; e = e->next) {
        n += e->creator && !strcmp(e->creator, creator);
        exists |= !strcmp(e->jid, room_jid);
    }
    bool ok = exists || n < max;
    if (ok)
        index_entry(room_jid, creator);
    pthread_mutex_unlock(&idx_lock);
    return ok;
}

void muc_index_put(const char *room_jid, const char *creator, const char *name, bool pub)
{
    pthread_mutex_lock(&idx_lock);
    idx *e = index_entry(room_jid, creator);
    free(e->name);
    e->name = name ? xstrdup(name) : NULL;
    e->pub = pub;
    pthread_mutex_unlock(&idx_lock);
}

void muc_index_del(const char *room_jid)
{
    pthread_mutex_lock(&idx_lock);
    for (idx **p = &index_head; *p; p = &(*p)->next)
        if (!strcmp((*p)->jid, room_jid)) {
            idx *e = *p;
            *p = e->next;
            free(e->jid);
            free(e->creator);
            free(e->name);
            free(e);
            break;
        }
    pthread_mutex_unlock(&idx_lock);
}

/* ---- policy ---- */

bool muc_may_create(const char *bare)
{
    /* plucs/muc/create, the rule in muc_policy.c */
    return muc_policy_may_create(router_snapshot(), config_current(), bare);
}

bool muc_policy_allows(const char *from_real, const char *to_bare)
{
    jid to;
    if (!from_real || !to_bare || jid_parse(to_bare, &to) != 0)
        return true;
    xnode *m = xnode_new("message", NS_CLIENT);
    xnode_set_attr(m, "from", from_real);
    xnode_set_attr(m, "to", to_bare);
    xnode_set_attr(m, "type", "chat");
    policy_verdict v = policy_check(router_snapshot(), m, STANZA_MESSAGE, &to, NULL);
    xnode_free(m);
    jid_clear(&to);
    return v == POLICY_ALLOW;
}

/* ---- service domains ---- */

/* The service host for served domain d (malloc'ed), or NULL when off. */
static const char *host_fmt(const config *c)
{
    return c->muc_host ? c->muc_host : "conference.%s";
}

char *muc_service_host(const char *d)
{
    const config *c = config_current();
    if (!c || !c->muc || !d)
        return NULL;
    return service_host_expand(host_fmt(c), d);
}

static bool service_match(const char *domain)
{
    const config *c = config_current();
    return c && c->muc && service_host_match(host_fmt(c), domain);
}

worker *muc_room_worker(const char *room_jid)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)room_jid; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    int n = workers_count();
    return n > 0 ? worker_get((int)(h % (uint64_t)n)) : NULL;
}

void muc_room_presence(const xnode *st, const char *room_jid, const jid *to);
void muc_room_message(const xnode *st, const char *room_jid, const jid *to);
void muc_room_iq(const xnode *iq, const char *room_jid, const jid *to);

static void room_job(void *arg)
{
    xnode *st = arg;
    jid to;
    if (jid_parse(xnode_attr(st, "to"), &to) == 0) {
        char *room = jid_bare_string(&to);
        switch (stanza_kind_of(st)) {
        case STANZA_PRESENCE: muc_room_presence(st, room, &to); break;
        case STANZA_MESSAGE: muc_room_message(st, room, &to); break;
        case STANZA_IQ: muc_room_iq(st, room, &to); break;
        default: break;
        }
        free(room);
        jid_clear(&to);
    }
    xnode_free(st);
}

static void drop_job(void *arg) { xnode_free(arg); }

/* ---- the service JID itself ---- */

typedef struct items_ctx {
    xnode *q;
    const char *domain;
} items_ctx;

static void service_iq(xnode *iq, const jid *to)
{
    const char *type = xnode_attr(iq, "type");
    if (!type || (strcmp(type, "get") && strcmp(type, "set")))
        return;
    const xnode *q = xnode_first_element(iq);
    xnode *res = NULL;
    if (q && !strcmp(q->ns, NS_DISCO_INFO) && !strcmp(type, "get") && !xnode_attr(q, "node")) {
        res = iq_result(iq);
        xnode *rq = xnode_add_child(res, "query", NS_DISCO_INFO);
        xnode *id = xnode_add_child(rq, "identity", NS_DISCO_INFO);
        xnode_set_attr(id, "category", "conference");
        xnode_set_attr(id, "type", "text");
        xnode_set_attr(id, "name", "Chatrooms");
        static const char *const feats[] = { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_PING,
                                             "urn:xmpp:sid:0" };
        for (size_t i = 0; i < sizeof feats / sizeof *feats; i++)
            xnode_set_attr(xnode_add_child(rq, "feature", NS_DISCO_INFO), "var", feats[i]);
    } else if (q && !strcmp(q->ns, NS_DISCO_ITEMS) && !strcmp(type, "get") &&
               !xnode_attr(q, "node")) {
        res = iq_result(iq);
        xnode *rq = xnode_add_child(res, "query", NS_DISCO_ITEMS);
        size_t dl = strlen(to->domain);
        pthread_mutex_lock(&idx_lock);
        for (idx *e = index_head; e; e = e->next) {
            const char *at = strchr(e->jid, '@');
            if (!e->pub || !at || strcmp(at + 1, to->domain) || strlen(at + 1) != dl)
                continue;
            xnode *it = xnode_add_child(rq, "item", NS_DISCO_ITEMS);
            xnode_set_attr(it, "jid", e->jid);
            if (e->name)
                xnode_set_attr(it, "name", e->name);
        }
        pthread_mutex_unlock(&idx_lock);
    } else if (q && !strcmp(q->ns, NS_PING) && !strcmp(type, "get")) {
        res = iq_result(iq);
    }
    if (res)
        router_route_service(res);
    else
        router_bounce(iq, ERR_CANCEL, "service-unavailable", NULL);
}

static void service_stanza(xnode *st)
{
    jid to;
    if (!service_stanza_to(st, &to))
        return;
    if (!to.node) {
        if (stanza_kind_of(st) == STANZA_IQ)
            service_iq(st, &to);
        else if (stanza_kind_of(st) == STANZA_MESSAGE)
            router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
        xnode_free(st);
        jid_clear(&to);
        return;
    }
    char *room = jid_bare_string(&to);
    jid_clear(&to);
    worker *w = muc_room_worker(room);
    free(room);
    /* Posted even to the calling worker: the sender may be a session that
     * is ending (EV_ENDED), which must not get the room's answer while it
     * is being freed. */
    if (!w)
        room_job(st);
    else
        worker_post_drop(w, room_job, drop_job, st);
}

/* ---- system shutdown: occupants learn it (332) ---- */

static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;
static int stop_pending;

static void stop_done(void)
{
    pthread_mutex_lock(&stop_lock);
    stop_pending--;
    pthread_cond_signal(&stop_cond);
    pthread_mutex_unlock(&stop_lock);
}

static void stop_job(void *arg)
{
    muc_rooms_shutdown_local();
    stop_done();
}

static void stop_drop(void *arg) { stop_done(); }

void muc_system_shutdown(void)
{
    int n = workers_count();
    pthread_mutex_lock(&stop_lock);
    stop_pending = n;
    pthread_mutex_unlock(&stop_lock);
    for (int i = 0; i < n; i++)
        worker_post_drop(worker_get(i), stop_job, stop_drop, NULL);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    pthread_mutex_lock(&stop_lock);
    while (stop_pending > 0)
        if (pthread_cond_timedwait(&stop_cond, &stop_lock, &until) != 0)
            break;
    pthread_mutex_unlock(&stop_lock);
}

/* ---- a session that ends leaves its rooms ---- */

/* Per session: the occupant JIDs it sent presence to. Presence's directed
 * presence tracking already sends unavailable to them when an available
 * session ends; this also covers a client that joined without ever
 * sending initial presence. */
static int slot = -1;

typedef struct joined {
    size_t n;
    char **jids;
} joined;

static void joined_free(void *p)
{
    joined *j = p;
    for (size_t i = 0; j && i < j->n; i++)
        free(j->jids[i]);
    if (j)
        free(j->jids);
    free(j);
}

static hook_result muc_directed(session *s, xnode *st)
{
    const char *to = xnode_attr(st, "to"), *type = xnode_attr(st, "type");
    const char *at = to ? strchr(to, '@') : NULL;
    const char *sl = at ? strchr(at, '/') : NULL;
    if (!sl || (type && strcmp(type, "unavailable")))
        return HOOK_CONTINUE;
    char dom[1024];
    size_t dl = (size_t)(sl - at - 1);
    if (dl >= sizeof dom)
        return HOOK_CONTINUE;
    memcpy(dom, at + 1, dl);
    dom[dl] = 0;
    if (!service_match(dom))
        return HOOK_CONTINUE;
    joined *j = s->slots[slot];
    size_t bl = (size_t)(sl - to);
    for (size_t i = 0; j && i < j->n; i++)
        if (!strncmp(j->jids[i], to, bl) && j->jids[i][bl] == '/') {
            free(j->jids[i]);
            j->jids[i] = j->jids[--j->n];   /* one entry per room */
            break;
        }
    if (!type && (!j || j->n < 256)) {
        if (!j)
            j = s->slots[slot] = xcalloc(1, sizeof *j);
        j->jids = xrealloc(j->jids, (j->n + 1) * sizeof *j->jids);
        j->jids[j->n++] = xstrdup(to);
    }
    return HOOK_CONTINUE;
}

static void muc_session_ended(session *s)
{
    joined *j = s->slots[slot];
    for (size_t i = 0; j && s->full && i < j->n; i++) {
        xnode *p = xnode_new("presence", NS_CLIENT);
        xnode_set_attr(p, "type", "unavailable");
        xnode_set_attr(p, "from", s->full);
        xnode_set_attr(p, "to", j->jids[i]);
        router_route(p);
    }
}

static void muc_init(void)
{
    module_hook_stanza(EV_PRESENCE_DIRECTED, muc_directed);
    module_hook_session(EV_ENDED, muc_session_ended);
    if (router_add_service(service_match, service_stanza) != 0)
        log_warn("muc: the router's service table is full; no MUC service");
}

static void muc_shutdown(void) { router_services_reset(); }

static void muc_thread_exit(void) { muc_rooms_free_local(); }

const module mod_muc = {
    .name = "muc",
    .init = muc_init,
    .shutdown = muc_shutdown,
    .thread_exit = muc_thread_exit,
    .slot = &slot,
    .slot_free = joined_free,
};
