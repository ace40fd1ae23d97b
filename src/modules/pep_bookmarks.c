/* pep_bookmarks.c: bookmark conversion, XEP-0402 §6 (#compat, #compat-pep)
 * and XEP-0411 (v1.1.0) — bookmarks of XEP-0402 (PEP node
 * urn:xmpp:bookmarks:1, one item per room), of XEP-0048 in private XML
 * (XEP-0049) and of XEP-0048 in PEP (node storage:bookmarks, item "current",
 * whitelist) kept in sync:
 * - private XML and the storage:bookmarks PEP node always hold the same
 *   <storage/> (a client's write of either is copied to the other);
 * - a publish or retract on the PEP node (by a client) rewrites the private
 *   storage:bookmarks from the node's items, keeping its non-conference
 *   children (<url/>); the rewrite reads the node when the stored element
 *   arrived, so the last change wins;
 * - a client's private set of storage:bookmarks publishes each conference
 *   that is new or changed and retracts the items no longer listed (a
 *   missing node is created as XEP-0402 §5 wants: whitelist, max items,
 *   persistent).
 * The server's own publishes are marked (pepdata_busy) so that neither
 * direction echoes the other. Reads the engine's nodes under ps_lock
 * (pubsub_internal.h), read-only. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/bookmarks_conv.h"
#include "modules/pep.h"
#include "modules/pepdata.h"
#include "modules/pubsub_internal.h"
#include "store/store_private.h"
#include "xml/xml_fragment.h"

#define BM_MAX_DEPTH 32

typedef struct bm_item {
    char *id;
    xnode *payload;
} bm_item;

static void items_free(bm_item *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].id);
        xnode_free(v[i].payload);
    }
    free(v);
}

/* The items of bare's bookmarks node, oldest first (parsed copies). */
static bm_item *node_items(const char *bare, size_t *n)
{
    *n = 0;
    size_t cap = 0, k = 0;
    char **ids = NULL, **texts = NULL;
    pthread_mutex_lock(&ps_lock);
    ps_node *node = ps_node_get(ps_host_get(bare, false), NS_BOOKMARKS2);
    if (node && node->nitems) {
        cap = node->nitems;
        ids = xcalloc(cap, sizeof *ids);
        texts = xcalloc(cap, sizeof *texts);
        for (ps_item *it = node->oldest; it && k < cap; it = it->next, k++) {
            ids[k] = xstrdup(it->id);
            texts[k] = xstrdup(it->payload ? it->payload : "");
        }
    }
    pthread_mutex_unlock(&ps_lock);
    bm_item *v = k ? xcalloc(k, sizeof *v) : NULL;
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        xnode *p = *texts[i] ? xml_fragment_parse(texts[i], strlen(texts[i]), NULL, BM_MAX_DEPTH)
                             : NULL;
        if (p) {
            v[m].id = ids[i];
            v[m++].payload = p;
        } else {
            free(ids[i]);
        }
        free(texts[i]);
    }
    free(ids);
    free(texts);
    *n = m;
    return v;
}

/* XEP-0411 / XEP-0402 #compat-pep: the XEP-0048 PEP node storage:bookmarks
 * (one item "current" holding the whole <storage/>) follows private XML
 * while only the user can read it (XEP-0411 §6: a node with another access
 * model is left alone). */
static void publish_legacy_pep(const char *bare, const xnode *storage)
{
    pthread_mutex_lock(&ps_lock);
    ps_node *n = ps_node_get(ps_host_get(bare, false), NS_BOOKMARKS_LEGACY);
    bool shared = n && n->cfg.access != PEP_ACCESS_WHITELIST;
    pthread_mutex_unlock(&ps_lock);
    if (shared) {
        log_info("pepdata: the storage:bookmarks PEP node of %s is not whitelist; not "
                 "mirrored", bare);
        return;
    }
    pepdata_busy = true;
    pep_status st = pep_publish(bare, NS_BOOKMARKS_LEGACY, "current", storage,
                                PEP_ACCESS_WHITELIST);
    pepdata_busy = false;
    if (st != PEP_OK)
        log_warn("pepdata: legacy bookmarks of %s not mirrored to PEP (quota or size)", bare);
}

/* ---- PEP -> private XML ---- */

typedef struct bm_job {
    char *bare;
} bm_job;

static void job_free(void *p)
{
    bm_job *j = p;
    free(j->bare);
    free(j);
}

static void written(void *arg, store_status st, int64_t value)
{
    (void)value;
    bm_job *j = arg;
    if (st != STORE_OK)
        log_warn("pepdata: legacy bookmarks of %s could not be written (%s)", j->bare,
                 st == STORE_FULL ? "plucs/quota/private reached" : "store error");
    else
        pepdata_count(PD_BM_TO_PRIVATE);
    job_free(j);
}

static void got_private(void *arg, store_private *res)
{
    bm_job *j = arg;
    if (res->status != STORE_OK && res->status != STORE_NOT_FOUND) {
        log_warn("pepdata: legacy bookmarks of %s could not be read; not synced", j->bare);
        store_private_free(res);
        job_free(j);
        return;
    }
    xnode *old = res->xml ? xml_fragment_parse(res->xml, strlen(res->xml), NULL, BM_MAX_DEPTH)
                          : NULL;
    store_private_free(res);
    size_t n = 0;
    bm_item *items = node_items(j->bare, &n);
    xnode **confs = n ? xcalloc(n, sizeof *confs) : NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((confs[k] = bm_from_pep(items[i].id, items[i].payload)))
            k++;
    xnode *st = bm_storage_build(old, confs, k);
    for (size_t i = 0; i < k; i++)
        xnode_free(confs[i]);
    free(confs);
    items_free(items, n);
    xnode_free(old);
    publish_legacy_pep(j->bare, st);
    char *xml = xml_to_string(st, NULL);
    xnode_free(st);
    store_private_entry e = { .name = "storage", .ns = NS_BOOKMARKS_LEGACY, .xml = xml };
    int quota = config_current()->quota_private;
    store_private_set(worker_self(), j->bare, &e, 1, quota > 0 ? quota : 0, written, j,
                      job_free);
    free(xml);
}

static void mirror_to_pep2(const char *bare, const xnode *storage);

/* Writes storage (a client's legacy <storage/> from PEP) to private XML and
 * mirrors it to XEP-0402. */
static void legacy_stored(worker *w, const char *bare, const xnode *storage)
{
    bm_job *j = xcalloc(1, sizeof *j);
    j->bare = xstrdup(bare);
    char *xml = xml_to_string(storage, NULL);
    store_private_entry e = { .name = "storage", .ns = NS_BOOKMARKS_LEGACY, .xml = xml };
    int quota = config_current()->quota_private;
    store_private_set(w, bare, &e, 1, quota > 0 ? quota : 0, written, j, job_free);
    free(xml);
    mirror_to_pep2(bare, storage);
}

void pepbm_pep_changed(const char *bare, const char *node, const char *item_id,
                       const xnode *payload, bool retract)
{
    (void)item_id;
    (void)payload;
    (void)retract;
    if (pepdata_busy)
        return;
    worker *w = worker_self();
    if (!w)
        return;
    if (!strcmp(node, NS_BOOKMARKS_LEGACY)) {
        /* a client of XEP-0048 over PEP (XEP-0223): private XML and XEP-0402 follow */
        if (!retract && payload && !strcmp(payload->name, "storage") &&
            !strcmp(payload->ns, NS_BOOKMARKS_LEGACY))
            legacy_stored(w, bare, payload);
        return;
    }
    if (strcmp(node, NS_BOOKMARKS2) != 0)
        return;
    bm_job *j = xcalloc(1, sizeof *j);
    j->bare = xstrdup(bare);
    store_private_get(w, bare, "storage", NS_BOOKMARKS_LEGACY, got_private, j, job_free);
}

/* ---- private XML -> PEP ---- */

/* Creates bare's bookmarks node as XEP-0402 §5 configures it, if missing.
 * false when it cannot exist (plucs/pubsub/max_nodes). */
static bool ensure_node(const char *bare)
{
    const config *c = config_current();
    bool ok = true;
    pthread_mutex_lock(&ps_lock);
    ps_host *h = ps_host_get(bare, true);
    if (!ps_node_get(h, NS_BOOKMARKS2)) {
        if (h->nnodes >= (size_t)c->pubsub_max_nodes) {
            ok = false;
        } else {
            ps_config cfg;
            ps_config_defaults(&cfg, true, ps_limit_items());
            cfg.access = PEP_ACCESS_WHITELIST;
            cfg.max_items = ps_limit_items();
            cfg.persist_items = true;
            cfg.send_last = PS_SEND_NEVER;
            ps_node_create(h, NS_BOOKMARKS2, bare, &cfg);
            ps_config_clear(&cfg);
        }
    }
    pthread_mutex_unlock(&ps_lock);
    return ok;
}

void pepbm_private_set(const char *bare, const xnode *storage)
{
    if (!pubsub_enabled() || !bare || !storage)
        return;
    mirror_to_pep2(bare, storage);
    publish_legacy_pep(bare, storage);
}

/* Publishes each conference of storage that is new or changed on the
 * XEP-0402 node and retracts the items it no longer lists. */
static void mirror_to_pep2(const char *bare, const xnode *storage)
{
    size_t n = 0;
    bm_item *items = node_items(bare, &n);
    bool *kept = n ? xcalloc(n, sizeof *kept) : NULL;
    if (!ensure_node(bare)) {
        log_warn("pepdata: %s is at plucs/pubsub/max_nodes; legacy bookmarks not mirrored "
                 "to XEP-0402", bare);
        items_free(items, n);
        free(kept);
        return;
    }
    size_t published = 0, retracted = 0;
    pepdata_busy = true;
    for (const xnode *c = xnode_first_element(storage); c; c = xnode_next_element(c)) {
        char *room = NULL;
        xnode *p = bm_to_pep(c, &room);
        if (!p) {
            if (!strcmp(c->name, "conference"))
                log_info("pepdata: %s stored a legacy bookmark without a valid room JID; "
                         "not mirrored", bare);
            continue;
        }
        bool same = false;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(items[i].id, room)) {
                kept[i] = true;
                same = bm_same(items[i].payload, p);
            }
        if (!same && pep_publish(bare, NS_BOOKMARKS2, room, p, PEP_ACCESS_WHITELIST) == PEP_OK)
            published++;
        xnode_free(p);
        free(room);
    }
    for (size_t i = 0; i < n; i++)
        if (!kept[i] && pep_retract(bare, NS_BOOKMARKS2, items[i].id) == PEP_OK)
            retracted++;
    pepdata_busy = false;
    if (published || retracted)
        pepdata_count(PD_BM_TO_PEP);
    if (published || retracted)
        log_info("pepdata: legacy bookmarks of %s mirrored to XEP-0402 (%zu published, %zu "
                 "retracted)", bare, published, retracted);
    items_free(items, n);
    free(kept);
}
