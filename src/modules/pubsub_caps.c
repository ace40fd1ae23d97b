/* pubsub_caps.c: what the server learns of clients' features from their
 * presence (XEP-0115 entity capabilities), for XEP-0163 +notify filtering.
 * A client's <c hash='sha-1' node ver/> names a feature set; the first time
 * a ver is seen the server sends ONE disco#info query (node#ver) to that
 * client, verifies the answer against ver (caps_ver) and caches its
 * "+notify" features by ver, process-wide; later clients with the same ver
 * cost nothing. Maps: full JID -> ver, ver -> notify features. Bounded:
 * CAPS_MAX_VERS cached vers, CAPS_MAX_PENDING queries in flight. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "modules/caps.h"
#include "modules/disco.h"
#include "modules/pubsub_internal.h"
#include "router/router.h"

#define CAPS_MAX_VERS 4096
#define CAPS_MAX_PENDING 256
#define FULL_BUCKETS 4096
#define CAPS_ID_PREFIX "pscaps-"

typedef struct ver_ent {
    char ver[CAPS_VER_LEN];
    char **notify;        /* node names (without +notify), NULL-terminated */
} ver_ent;

typedef struct full_ent {
    struct full_ent *next;
    char *full;
    uint64_t sid;              /* the session that announced it (0: remote) */
    char *via;                 /* remote: the local account it sent presence to */
    char ver[CAPS_VER_LEN];
} full_ent;

typedef struct pending {
    char ver[CAPS_VER_LEN];
    uint64_t qid;
    char *asked;
    time_t at;
} pending;

#define CAPS_PENDING_MAX_AGE 30      /* seconds a query may stay unanswered */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static ver_ent vers[CAPS_MAX_VERS];
static size_t nvers;
static full_ent *fulls[FULL_BUCKETS];
static pending pend[CAPS_MAX_PENDING];
static size_t npend;
static uint64_t next_qid = 1;
static atomic_uint_fast64_t queries;

uint64_t ps_caps_queries(void) { return atomic_load(&queries); }

/* Over the bare part: a bare JID's resources share a bucket. */
static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s && *s != '/'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % FULL_BUCKETS;
}

static ver_ent *ver_find(const char *ver)
{
    for (size_t i = 0; i < nvers; i++)
        if (!strcmp(vers[i].ver, ver))
            return &vers[i];
    return NULL;
}

static full_ent *full_find(const char *full)
{
    for (full_ent *f = fulls[hash(full)]; f; f = f->next)
        if (!strcmp(f->full, full))
            return f;
    return NULL;
}

static bool pending_has(const char *ver)
{
    for (size_t i = 0; i < npend; i++)
        if (!strcmp(pend[i].ver, ver))
            return true;
    return false;
}

static void set_full(const char *full, uint64_t sid, const char *ver)
{
    full_ent *f = full_find(full);
    if (!f) {
        f = xcalloc(1, sizeof *f);
        f->full = xstrdup(full);
        unsigned b = hash(full);
        f->next = fulls[b];
        fulls[b] = f;
    }
    f->sid = sid;
    snprintf(f->ver, sizeof f->ver, "%s", ver);
}

/* Drops pending queries asked of full (NULL: those older than the maximum
 * age), so that an unanswered query never blocks its ver for good. Under
 * lock. */
static void pending_drop(const char *full)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < npend;) {
        if (full ? !strcmp(pend[i].asked, full) : now - pend[i].at > CAPS_PENDING_MAX_AGE) {
            free(pend[i].asked);
            pend[i] = pend[--npend];
        } else {
            i++;
        }
    }
}

void ps_caps_forget(const char *full, uint64_t sid)
{
    pthread_mutex_lock(&lock);
    pending_drop(full);
    for (full_ent **p = &fulls[hash(full)]; *p; p = &(*p)->next)
        if (!strcmp((*p)->full, full) && (*p)->sid == sid) {
            full_ent *f = *p;
            *p = f->next;
            free(f->full);
            free(f->via);
            free(f);
            break;
        }
    pthread_mutex_unlock(&lock);
}

bool ps_caps_known(const char *full)
{
    pthread_mutex_lock(&lock);
    full_ent *f = full_find(full);
    bool r = f && ver_find(f->ver);
    pthread_mutex_unlock(&lock);
    return r;
}

bool ps_caps_wants(const char *full, const char *node)
{
    bool r = false;
    pthread_mutex_lock(&lock);
    full_ent *f = full_find(full);
    ver_ent *v = f ? ver_find(f->ver) : NULL;
    for (char **p = v ? v->notify : NULL; p && *p && !r; p++)
        r = !strcmp(*p, node);
    pthread_mutex_unlock(&lock);
    return r;
}

/* Records that full (session sid, 0 for a remote one that sent presence
 * to local account via) announced caps c, and asks for an unknown ver
 * (from served domain `domain`). Whether its features are known now and it
 * was not recorded with that ver before (time for the last items). */
static bool learn(const char *full, uint64_t sid, const char *via, const char *domain,
                  const xnode *presence)
{
    const xnode *c = xnode_child(presence, "c", NS_CAPS);
    const char *hashname = c ? xnode_attr(c, "hash") : NULL;
    const char *ver = c ? xnode_attr(c, "ver") : NULL;
    const char *node = c ? xnode_attr(c, "node") : NULL;
    if (!c || !hashname || strcmp(hashname, "sha-1") || !ver || !node ||
        strlen(ver) >= CAPS_VER_LEN || strlen(node) > 1024)
        return false;
    bool ask = false, fresh = false;
    uint64_t qid = 0;
    pthread_mutex_lock(&lock);
    full_ent *old = full_find(full);
    fresh = !old || strcmp(old->ver, ver);
    set_full(full, sid, ver);
    if (via) {
        full_ent *f = full_find(full);
        free(f->via);
        f->via = xstrdup(via);
    }
    bool known = ver_find(ver) != NULL;
    if (npend == CAPS_MAX_PENDING)
        pending_drop(NULL);
    if (!known && !pending_has(ver) && npend < CAPS_MAX_PENDING) {
        pending *p = &pend[npend++];
        snprintf(p->ver, sizeof p->ver, "%s", ver);
        p->qid = qid = next_qid++;
        p->asked = xstrdup(full);
        p->at = time(NULL);
        ask = true;
    }
    pthread_mutex_unlock(&lock);
    if (!ask)
        return known && fresh;
    atomic_fetch_add(&queries, 1);
    char id[48], qnode[1100];
    snprintf(id, sizeof id, CAPS_ID_PREFIX "%llu", (unsigned long long)qid);
    snprintf(qnode, sizeof qnode, "%s#%s", node, ver);
    xnode *iq = xnode_new("iq", NS_CLIENT);
    xnode_set_attr(iq, "type", "get");
    xnode_set_attr(iq, "id", id);
    xnode_set_attr(iq, "from", domain);
    xnode_set_attr(iq, "to", full);
    xnode_set_attr(xnode_add_child(iq, "query", NS_DISCO_INFO), "node", qnode);
    log_debug("pubsub: asking %s for its capabilities %s", full, ver);
    router_route(iq);
    return false;
}

void ps_caps_presence(session *s, const xnode *presence)
{
    const char *ptype = xnode_attr(presence, "type");
    if (s->full && ptype && !strcmp(ptype, "unavailable"))
        ps_caps_forget(s->full, s->id);
    if (s->full && !ptype)
        learn(s->full, s->id, NULL, s->domain, presence);
}

bool ps_caps_remote_presence(const char *full, const char *via, const char *domain,
                             const xnode *presence)
{
    const char *ptype = xnode_attr(presence, "type");
    if (ptype && !strcmp(ptype, "unavailable"))
        ps_caps_forget(full, 0);
    return !ptype && learn(full, 0, via, domain, presence);
}

char *ps_caps_via(const char *full)
{
    pthread_mutex_lock(&lock);
    full_ent *f = full_find(full);
    char *v = f && f->via ? xstrdup(f->via) : NULL;
    pthread_mutex_unlock(&lock);
    return v;
}

char **ps_caps_recipients(const char *bare, const char *node)
{
    size_t n = 0, len = strlen(bare);
    char **out = xcalloc(1, sizeof *out);
    pthread_mutex_lock(&lock);
    for (full_ent *f = fulls[hash(bare)]; f; f = f->next) {
        if (strncmp(f->full, bare, len) || f->full[len] != '/')
            continue;
        ver_ent *v = ver_find(f->ver);
        bool want = false;
        for (char **p = v ? v->notify : NULL; p && *p && !want; p++)
            want = !strcmp(*p, node);
        if (!want)
            continue;
        out = xrealloc(out, (n + 2) * sizeof *out);
        out[n++] = xstrdup(f->full);
        out[n] = NULL;
    }
    pthread_mutex_unlock(&lock);
    return out;
}

/* The fulls that announced ver (malloc'ed, NULL-terminated); under lock. */
static char **fulls_of(const char *ver)
{
    size_t n = 0, cap = 8;
    char **out = xcalloc(cap, sizeof *out);
    for (int b = 0; b < FULL_BUCKETS; b++)
        for (full_ent *f = fulls[b]; f; f = f->next)
            if (!strcmp(f->ver, ver)) {
                if (n + 1 >= cap)
                    out = xrealloc(out, (cap *= 2) * sizeof *out);
                out[n++] = xstrdup(f->full);
                out[n] = NULL;
            }
    return out;
}

static char **notify_features(const xnode *query)
{
    size_t n = 0;
    char **out = xcalloc(1, sizeof *out);
    for (const xnode *f = xnode_first_element(query); f; f = xnode_next_element(f)) {
        const char *var = xnode_attr(f, "var");
        size_t len = var ? strlen(var) : 0;
        if (strcmp(f->name, "feature") || len <= 7 || strcmp(var + len - 7, "+notify"))
            continue;
        out = xrealloc(out, (n + 2) * sizeof *out);
        out[n] = xmalloc(len - 6);
        memcpy(out[n], var, len - 7);
        out[n][len - 7] = 0;
        out[++n] = NULL;
    }
    return out;
}

hook_result ps_caps_reply(session *s, xnode *st)
{
    (void)s;
    const char *id = xnode_attr(st, "id"), *type = xnode_attr(st, "type");
    const char *from = xnode_attr(st, "from");
    if (!id || !type || !from || strncmp(id, CAPS_ID_PREFIX, strlen(CAPS_ID_PREFIX)))
        return HOOK_CONTINUE;
    uint64_t qid = strtoull(id + strlen(CAPS_ID_PREFIX), NULL, 10);
    char **waiting = NULL;
    pthread_mutex_lock(&lock);
    size_t i = 0;
    while (i < npend && pend[i].qid != qid)
        i++;
    if (i == npend || strcmp(pend[i].asked, from)) {
        pthread_mutex_unlock(&lock);
        return i == npend ? HOOK_CONTINUE : HOOK_STOP;
    }
    pending p = pend[i];
    pend[i] = pend[--npend];
    const xnode *q = xnode_child(st, "query", NS_DISCO_INFO);
    char ver[CAPS_VER_LEN] = "";
    if (!strcmp(type, "result") && q && caps_ver(q, ver) == 0 && !strcmp(ver, p.ver)) {
        if (nvers == CAPS_MAX_VERS) {        /* forget the oldest half */
            for (size_t k = 0; k < nvers / 2; k++) {
                for (char **f = vers[k].notify; *f; f++)
                    free(*f);
                free(vers[k].notify);
            }
            memmove(vers, vers + nvers / 2, (nvers - nvers / 2) * sizeof *vers);
            nvers -= nvers / 2;
        }
        ver_ent *v = &vers[nvers++];
        snprintf(v->ver, sizeof v->ver, "%s", p.ver);
        v->notify = notify_features(q);
        waiting = fulls_of(p.ver);
    } else {
        log_info("pubsub: %s answered the capabilities query for %s with %s; not cached",
                 from, p.ver, !strcmp(type, "result") ? "a mismatching feature set" : "an error");
    }
    pthread_mutex_unlock(&lock);
    free(p.asked);
    for (char **w = waiting; w && *w; w++) {
        ps_send_last_items(*w);
        free(*w);
    }
    free(waiting);
    return HOOK_STOP;
}

void ps_caps_free(void)
{
    pthread_mutex_lock(&lock);
    for (size_t k = 0; k < nvers; k++) {
        for (char **f = vers[k].notify; *f; f++)
            free(*f);
        free(vers[k].notify);
    }
    nvers = 0;
    for (int b = 0; b < FULL_BUCKETS; b++) {
        for (full_ent *f = fulls[b], *n; f; f = n) {
            n = f->next;
            free(f->full);
            free(f->via);
            free(f);
        }
        fulls[b] = NULL;
    }
    for (size_t i = 0; i < npend; i++)
        free(pend[i].asked);
    npend = 0;
    pthread_mutex_unlock(&lock);
}
