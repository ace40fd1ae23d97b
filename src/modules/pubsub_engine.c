/* pubsub_engine.c: the PubSub engine's memory: hosts (service domains and
 * PEP accounts), their nodes and items, affiliations and subscriptions,
 * under one lock, written through to the store (store_pubsub.h) and loaded
 * from it once at start. Quotas: max_items per node (the oldest item goes),
 * non-persistent nodes keep only their newest item in memory and nothing in
 * the store. The protocol lives in pubsub_iq.c. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/pubsub_internal.h"
#include "store/store_pubsub.h"

pthread_mutex_t ps_lock = PTHREAD_MUTEX_INITIALIZER;

#define HOST_BUCKETS 4096

static ps_host *hosts[HOST_BUCKETS];
static atomic_uint_fast64_t nnodes_total, nitems_total;
static int64_t next_seq = 1;
static atomic_bool loaded;

uint64_t ps_count_nodes(void) { return atomic_load(&nnodes_total); }
uint64_t ps_count_items(void) { return atomic_load(&nitems_total); }
bool ps_engine_loaded(void) { return atomic_load(&loaded); }

int ps_limit_items(void)
{
    const config *c = config_current();
    return c && c->pubsub_max_items > 0 ? c->pubsub_max_items : 1000;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % HOST_BUCKETS;
}

ps_host *ps_host_get(const char *addr, bool create)
{
    unsigned b = hash(addr);
    for (ps_host *h = hosts[b]; h; h = h->next)
        if (!strcmp(h->jid, addr))
            return h;
    if (!create)
        return NULL;
    ps_host *h = xcalloc(1, sizeof *h);
    h->jid = xstrdup(addr);
    h->pep = strchr(addr, '@') != NULL;
    h->next = hosts[b];
    hosts[b] = h;
    return h;
}

char **ps_pep_hosts(void)
{
    size_t n = 0, cap = 16;
    char **v = xcalloc(cap, sizeof *v);
    for (unsigned b = 0; b < HOST_BUCKETS; b++)
        for (ps_host *h = hosts[b]; h; h = h->next) {
            if (!h->pep || !h->nnodes)
                continue;
            if (n + 1 == cap)
                v = xrealloc(v, (cap *= 2) * sizeof *v);
            v[n++] = xstrdup(h->jid);
            v[n] = NULL;
        }
    return v;
}

ps_node *ps_node_get(const ps_host *h, const char *name)
{
    for (ps_node *n = h ? h->nodes : NULL; n; n = n->next)
        if (!strcmp(n->name, name))
            return n;
    return NULL;
}

size_t ps_owned_nodes(const ps_host *h, const char *owner)
{
    size_t k = 0;
    if (h->pep) {   /* nodes the server fills for the account do not count (pep.h) */
        for (ps_node *n = h->nodes; n; n = n->next)
            k += !pep_quota_exempt(n->name);
        return k;
    }
    for (ps_node *n = h->nodes; n; n = n->next)
        k += !strcmp(n->owner, owner);
    return k;
}

/* ---- serialized affiliations and subscriptions ("addr\tvalue" lines) ---- */

static char *affs_text(const ps_node *n)
{
    buf b = {0};
    buf_puts(&b, "");
    for (size_t i = 0; i < n->naffs; i++)
        buf_printf(&b, "%s\t%s\n", n->affs[i].jid, ps_aff_name(n->affs[i].aff));
    return buf_steal(&b);
}

static char *subs_text(const ps_node *n)
{
    buf b = {0};
    buf_puts(&b, "");
    for (size_t i = 0; i < n->nsubs; i++)
        buf_printf(&b, "%s\t%s\n", n->subs[i].jid, n->subs[i].subid);
    return buf_steal(&b);
}

static void each_line(const char *text, void (*fn)(ps_node *n, const char *a, const char *b),
                      ps_node *n)
{
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        char *line = xmalloc(len + 1);
        memcpy(line, text, len);
        line[len] = 0;
        char *tab = strchr(line, '\t');
        if (tab) {
            *tab = 0;
            fn(n, line, tab + 1);
        }
        free(line);
        text = nl ? nl + 1 : NULL;
    }
}

static void load_aff(ps_node *n, const char *addr, const char *v)
{
    ps_aff a;
    if (ps_aff_parse(v, &a) == 0)
        ps_node_set_aff(n, addr, a);
}

static void load_sub(ps_node *n, const char *addr, const char *subid)
{
    ps_subent *s = ps_node_subscribe(n, addr);
    snprintf(s->subid, sizeof s->subid, "%s", subid);
}

/* ---- nodes ---- */

static ps_node *node_new(ps_host *h, const char *name, const char *owner, const ps_config *cfg)
{
    ps_node *n = xcalloc(1, sizeof *n);
    n->name = xstrdup(name);
    n->owner = xstrdup(owner);
    ps_config_copy(&n->cfg, cfg);
    n->next = h->nodes;
    h->nodes = n;
    h->nnodes++;
    atomic_fetch_add(&nnodes_total, 1);
    return n;
}

void ps_node_save(ps_host *h, ps_node *n)
{
    /* a lowered max_items drops the oldest items at once */
    while (n->nitems > (size_t)n->cfg.max_items)
        ps_item_retract(h, n, n->oldest->id);
    char *cfg = ps_config_serialize(&n->cfg);
    char *affs = affs_text(n);
    char *subs = subs_text(n);
    store_pubsub_node_put(h->jid, n->name, n->owner, cfg, affs, subs);
    free(cfg);
    free(affs);
    free(subs);
}

ps_node *ps_node_create(ps_host *h, const char *name, const char *owner, const ps_config *cfg)
{
    ps_node *n = node_new(h, name, owner, cfg);
    ps_node_set_aff(n, owner, PS_AFF_OWNER);
    ps_node_save(h, n);
    return n;
}

static void item_free(ps_item *it)
{
    free(it->id);
    free(it->publisher);
    free(it->payload);
    free(it);
}

static void node_free(ps_node *n)
{
    for (ps_item *it = n->oldest, *next; it; it = next) {
        next = it->next;
        item_free(it);
    }
    atomic_fetch_sub(&nitems_total, n->nitems);
    for (size_t i = 0; i < n->naffs; i++)
        free(n->affs[i].jid);
    for (size_t i = 0; i < n->nsubs; i++)
        free(n->subs[i].jid);
    free(n->affs);
    free(n->subs);
    ps_config_clear(&n->cfg);
    free(n->name);
    free(n->owner);
    free(n);
    atomic_fetch_sub(&nnodes_total, 1);
}

void ps_node_delete(ps_host *h, ps_node *n)
{
    for (ps_node **p = &h->nodes; *p; p = &(*p)->next)
        if (*p == n) {
            *p = n->next;
            h->nnodes--;
            break;
        }
    store_pubsub_node_del(h->jid, n->name);
    node_free(n);
}

/* ---- items ---- */

ps_item *ps_item_find(const ps_node *n, const char *id)
{
    for (ps_item *it = n->newest; it; it = it->prev)
        if (!strcmp(it->id, id))
            return it;
    return NULL;
}

static void item_unlink(ps_node *n, ps_item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        n->oldest = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        n->newest = it->prev;
    it->prev = it->next = NULL;
    n->nitems--;
    atomic_fetch_sub(&nitems_total, 1);
}

static void item_append(ps_node *n, ps_item *it)
{
    it->prev = n->newest;
    it->next = NULL;
    if (n->newest)
        n->newest->next = it;
    else
        n->oldest = it;
    n->newest = it;
    n->nitems++;
    atomic_fetch_add(&nitems_total, 1);
}

/* Keeps what the configuration allows in memory: max_items, or only the
 * newest item of a node that does not persist items. */
static void trim(ps_node *n)
{
    size_t keep = n->cfg.persist_items ? (size_t)n->cfg.max_items : 1;
    while (n->nitems > keep) {
        ps_item *old = n->oldest;
        item_unlink(n, old);
        item_free(old);
    }
}

ps_item *ps_item_publish(ps_host *h, ps_node *n, const char *id, const char *publisher,
                         const char *payload)
{
    int64_t seq = next_seq++;
    char gen[40];
    if (!id || !*id) {
        static unsigned long long salt;
        if (!salt)
            salt = (unsigned long long)now_ms() * 2654435761ull;
        snprintf(gen, sizeof gen, "%llx%06llx", (unsigned long long)now_ms(),
                 (unsigned long long)((seq * 0x9E3779B97F4A7C15ull ^ salt) & 0xffffff));
        id = gen;
    }
    ps_item *it = ps_item_find(n, id);
    if (it) {
        item_unlink(n, it);
        free(it->publisher);
        free(it->payload);
    } else {
        it = xcalloc(1, sizeof *it);
        it->id = xstrdup(id);
    }
    it->publisher = xstrdup(publisher ? publisher : "");
    it->payload = xstrdup(payload ? payload : "");
    it->seq = seq;
    it->ts = now_ms();
    item_append(n, it);
    trim(n);
    if (n->cfg.persist_items)
        store_pubsub_item_put(h->jid, n->name, it->id, it->publisher, it->seq, it->ts,
                              it->payload, n->cfg.max_items);
    return it;
}

bool ps_item_retract(ps_host *h, ps_node *n, const char *id)
{
    ps_item *it = ps_item_find(n, id);
    if (!it)
        return false;
    item_unlink(n, it);
    store_pubsub_item_del(h->jid, n->name, it->id);
    item_free(it);
    return true;
}

void ps_node_purge(ps_host *h, ps_node *n)
{
    for (ps_item *it = n->oldest, *next; it; it = next) {
        next = it->next;
        item_free(it);
    }
    atomic_fetch_sub(&nitems_total, n->nitems);
    n->oldest = n->newest = NULL;
    n->nitems = 0;
    store_pubsub_item_del(h->jid, n->name, NULL);
}

/* ---- affiliations and subscriptions ---- */

ps_aff ps_node_aff(const ps_node *n, const char *bare)
{
    for (size_t i = 0; i < n->naffs; i++)
        if (!strcmp(n->affs[i].jid, bare))
            return n->affs[i].aff;
    return PS_AFF_NONE;
}

void ps_node_set_aff(ps_node *n, const char *addr, ps_aff aff)
{
    for (size_t i = 0; i < n->naffs; i++)
        if (!strcmp(n->affs[i].jid, addr)) {
            if (aff == PS_AFF_NONE) {
                free(n->affs[i].jid);
                n->affs[i] = n->affs[--n->naffs];
            } else {
                n->affs[i].aff = aff;
            }
            return;
        }
    if (aff == PS_AFF_NONE)
        return;
    n->affs = xrealloc(n->affs, (n->naffs + 1) * sizeof *n->affs);
    n->affs[n->naffs].jid = xstrdup(addr);
    n->affs[n->naffs++].aff = aff;
}

ps_subent *ps_node_sub(const ps_node *n, const char *addr)
{
    for (size_t i = 0; i < n->nsubs; i++)
        if (!strcmp(n->subs[i].jid, addr))
            return &n->subs[i];
    return NULL;
}

ps_subent *ps_node_subscribe(ps_node *n, const char *addr)
{
    ps_subent *s = ps_node_sub(n, addr);
    if (s)
        return s;
    n->subs = xrealloc(n->subs, (n->nsubs + 1) * sizeof *n->subs);
    s = &n->subs[n->nsubs++];
    s->jid = xstrdup(addr);
    snprintf(s->subid, sizeof s->subid, "%llx%llx", (unsigned long long)now_ms(),
             (unsigned long long)next_seq++);
    return s;
}

bool ps_node_unsubscribe(ps_node *n, const char *addr)
{
    for (size_t i = 0; i < n->nsubs; i++)
        if (!strcmp(n->subs[i].jid, addr)) {
            free(n->subs[i].jid);
            n->subs[i] = n->subs[--n->nsubs];
            return true;
        }
    return false;
}

/* ---- load at start (the sink runs on the storage thread) ---- */

static void sink_node(void *ud, const char *host, const char *node, const char *owner,
                      const char *cfgtext, const char *affs, const char *subs)
{
    (void)ud;
    pthread_mutex_lock(&ps_lock);
    ps_host *h = ps_host_get(host, true);
    if (!ps_node_get(h, node)) {
        ps_config cfg;
        ps_config_defaults(&cfg, h->pep, ps_limit_items());
        ps_config_parse(&cfg, cfgtext, ps_limit_items());
        ps_node *n = node_new(h, node, owner, &cfg);
        ps_config_clear(&cfg);
        each_line(affs, load_aff, n);
        each_line(subs, load_sub, n);
    }
    pthread_mutex_unlock(&ps_lock);
}

static void sink_item(void *ud, const char *host, const char *node, const char *id,
                      const char *publisher, int64_t seq, int64_t ts, const char *payload)
{
    (void)ud;
    pthread_mutex_lock(&ps_lock);
    ps_node *n = ps_node_get(ps_host_get(host, false), node);
    if (n && !ps_item_find(n, id)) {
        ps_item *it = xcalloc(1, sizeof *it);
        it->id = xstrdup(id);
        it->publisher = xstrdup(publisher);
        it->payload = xstrdup(payload);
        it->seq = seq;
        it->ts = ts;
        item_append(n, it);
        trim(n);
    }
    if (seq >= next_seq)
        next_seq = seq + 1;
    pthread_mutex_unlock(&ps_lock);
}

static void sink_done(void *ud, bool ok)
{
    (void)ud;
    if (!ok)
        log_err("pubsub: the stored nodes could not be loaded; starting with what was read");
    atomic_store(&loaded, true);
}

void ps_engine_load(void)
{
    if (!store_running()) {        /* tools and unit tests: nothing stored */
        atomic_store(&loaded, true);
        return;
    }
    atomic_store(&loaded, false);
    store_pubsub_sink sink = { NULL, sink_node, sink_item, sink_done };
    store_pubsub_load(&sink);
    store_sync_wait();
    log_info("pubsub: %llu nodes, %llu items loaded", (unsigned long long)ps_count_nodes(),
             (unsigned long long)ps_count_items());
}

void ps_engine_free(void)
{
    pthread_mutex_lock(&ps_lock);
    for (int b = 0; b < HOST_BUCKETS; b++) {
        for (ps_host *h = hosts[b], *next; h; h = next) {
            next = h->next;
            for (ps_node *n = h->nodes, *nn; n; n = nn) {
                nn = n->next;
                node_free(n);
            }
            free(h->jid);
            free(h);
        }
        hosts[b] = NULL;
    }
    pthread_mutex_unlock(&ps_lock);
}
