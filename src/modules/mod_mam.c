/* mod_mam.c: message archive (XEP-0313) and stanza ids (XEP-0359): every
 * one-to-one message with a body (chat or normal; not groupchat, errors, or
 * messages with XEP-0334 <no-store/>/<no-permanent-store/>) is archived for
 * its local recipient and for its local sender, each their own copy with
 * their own id. The id is assigned here, synchronously (time-ordered, see
 * store_mam.h), and the recipient's copy gets <stanza-id by='recipient'/>
 * before it is delivered, stored offline or sent on; a stanza-id a client
 * put there with the same 'by' is removed first (XEP-0359 §5). The write
 * is queued to the store without waiting: the storage thread runs requests
 * in order, so a later query of the same user sees it. The owner's stored
 * preferences decide on the storage thread whether a copy is kept.
 * Retention (plucs/mam/days): worker 0 deletes older rows at start-up,
 * after each reload or directory change, and every hour, in batches. The
 * queries and preferences are mam_iq.c's. */
#include <event2/event.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "metrics/metrics.h"
#include "modules/async_job.h"
#include "modules/mam_internal.h"
#include "modules/mam_proto.h"
#include "modules/roster.h"
#include "router/router.h"
#include "store/store_mam.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define EXPIRE_BATCH 2000
#define EXPIRE_PERIOD_S 3600

static atomic_int_fast64_t last_id;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A fresh id: time-ordered, unique within this process even when the clock
 * steps back or many messages share a microsecond. */
static int64_t next_id(void)
{
    int64_t want = STORE_MAM_ID_LO(now_us());
    int64_t last = atomic_load(&last_id);
    for (;;) {
        int64_t id = want > last ? want : last + 1;
        if (atomic_compare_exchange_weak(&last_id, &last, id))
            return id;
    }
}

static bool mam_on(void)
{
    const config *c = config_current();
    return c && c->mam;        /* no configuration yet (unit tests): off */
}

/* Whether contact is in owner's roster: shared (directory) or a personal
 * item of an online owner's cached roster. */
static bool in_roster(const char *owner, const char *contact)
{
    if (roster_is_shared(owner, contact))
        return true;
    acct *a = acct_find(owner);
    if (!a)
        return false;
    pthread_mutex_lock(&a->lock);
    bool has = a->loaded && acct_item(a, contact) != NULL;
    pthread_mutex_unlock(&a->lock);
    acct_release(a);
    return has;
}

static void archived(void *arg, store_status st, int64_t stored)
{
    (void)arg;
    if (st == STORE_OK && stored == 1)
        metrics_mam_archived();
    else if (st != STORE_OK)
        log_err("mam: a message could not be archived (%s)", store_status_name(st));
}

static void archive(const char *owner, int64_t id, const char *with, int dir, const xnode *st)
{
    char *xml = xml_to_string(st, NS_CLIENT);
    store_mam_put(worker_self(), owner, id, with, dir, xml, in_roster(owner, with), archived,
                  NULL);
    free(xml);
}

/* Removes every <stanza-id xmlns='urn:xmpp:sid:0'/> of st with by == by. */
static void strip_stanza_ids(xnode *st, const char *by)
{
    xnode *c = xnode_first_element(st);
    while (c) {
        xnode *next = xnode_next_element(c);
        if (!strcmp(c->name, "stanza-id") && !strcmp(c->ns, NS_SID)) {
            const char *b = xnode_attr(c, "by");
            if (b && !strcmp(b, by)) {
                xnode_unlink(c);
                xnode_free(c);
            }
        }
        c = next;
    }
}

static bool archivable(const xnode *st)
{
    const char *type = xnode_attr(st, "type");
    if (type && strcmp(type, "chat") && strcmp(type, "normal"))
        return false;
    if (!xnode_child(st, "body", NULL))
        return false;
    return !xnode_child(st, "no-store", NS_HINTS) &&
           !xnode_child(st, "no-permanent-store", NS_HINTS);
}

static bool local_account(const jid *j)
{
    return j->node && router_serves(j->domain);
}

/* EV_MESSAGE_ROUTED: st is about to go to its recipient. */
static hook_result mam_routed(session *s, xnode *st)
{
    (void)s;
    if (!mam_on())
        return HOOK_CONTINUE;
    const char *from_s = xnode_attr(st, "from"), *to_s = xnode_attr(st, "to");
    jid from = { 0 }, to = { 0 };
    if (!from_s || !to_s || jid_parse(from_s, &from) != 0)
        return HOOK_CONTINUE;
    if (jid_parse(to_s, &to) != 0) {
        jid_clear(&from);
        return HOOK_CONTINUE;
    }
    char *fb = jid_bare_string(&from), *tb = jid_bare_string(&to);
    bool to_local = local_account(&to);
    if (to_local)
        strip_stanza_ids(st, tb);      /* never trust a client's id for our archive */
    if (archivable(st)) {
        bool self = !strcmp(fb, tb);
        if (local_account(&from) && !self)
            archive(fb, next_id(), tb, MAM_DIR_OUT, st);
        if (to_local) {
            int64_t id = next_id();
            char ids[MAM_ID_LEN + 1];
            mam_id_encode(id, ids);
            xnode *sid = xnode_add_child(st, "stanza-id", NS_SID);
            xnode_set_attr(sid, "by", tb);
            xnode_set_attr(sid, "id", ids);
            archive(tb, id, fb, MAM_DIR_IN, st);
        }
    }
    free(fb);
    free(tb);
    jid_clear(&from);
    jid_clear(&to);
    return HOOK_CONTINUE;
}

/* ---- retention, on worker 0 ---- */

static struct event *expire_timer;   /* worker 0's */
static bool expiring;                /* a batch chain is running (worker 0 only) */

static void expire_start(void);

/* The batch's bound travels as an async job, so a stop that never answers
 * the store request does not leak it (async_jobs_thread_exit frees it). */
static void expired(void *arg, store_status st, int64_t removed)
{
    int64_t *before = async_job_take(arg);
    if (st == STORE_OK && removed >= EXPIRE_BATCH) {
        store_mam_expire(worker_self(), *before, EXPIRE_BATCH, expired,
                         async_job_new(before, free));
        return;
    }
    if (st != STORE_OK)
        log_err("mam: the retention job failed (%s)", store_status_name(st));
    free(before);
    expiring = false;
}

static void expire_start(void)
{
    const config *cfg = config_current();
    int days = cfg ? cfg->mam_days : 0;
    if (days <= 0 || expiring)
        return;
    int64_t *before = xmalloc(sizeof *before);
    *before = STORE_MAM_ID_LO(now_us() - (int64_t)days * 86400 * 1000000);
    expiring = true;
    store_mam_expire(worker_self(), *before, EXPIRE_BATCH, expired, async_job_new(before, free));
}

static void expire_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    expire_start();
}

/* Snapshot hook: start-up, reloads and directory changes. */
static void mam_snapshot(const struct dir_snapshot *old, const struct config *old_cfg,
                         const struct dir_snapshot *snap)
{
    (void)old;
    (void)old_cfg;
    (void)snap;
    worker *w = worker_self();
    if (!w || worker_id(w) != 0)
        return;
    if (!expire_timer) {
        expire_timer = event_new(worker_base(w), -1, EV_PERSIST, expire_tick, NULL);
        struct timeval tv = { EXPIRE_PERIOD_S, 0 };
        if (expire_timer)
            event_add(expire_timer, &tv);
    }
    expire_start();
}

static void mam_thread_exit(void)
{
    worker *w = worker_self();
    if (w && worker_id(w) == 0 && expire_timer) {
        event_free(expire_timer);
        expire_timer = NULL;
    }
}

static void mam_init(void)
{
    module_register_iq(NS_MAM, mam_iq);
    module_add_feature_when(NS_SID, mam_on);
    module_add_account_feature(NS_MAM, mam_on);
    module_hook_stanza(EV_MESSAGE_ROUTED, mam_routed);
    module_hook_snapshot(mam_snapshot);
}

const module mod_mam = {
    .name = "mam",
    .init = mam_init,
    .thread_exit = mam_thread_exit,
};
