/* mod_pepdata.c: what clients keep in PEP, filled and kept consistent by
 * the server (issue 15, point 2, beyond the engine itself):
 * - the directory's jpegPhoto as the XEP-0084 avatar (pep_avatar.c) and the
 *   directory label as the XEP-0172 nickname (pep_nick.c), when the user
 *   has none of their own, following the directory live: every snapshot
 *   is compared with the previous one on one worker, and each account whose
 *   photo hash or label changed is reconciled; the first snapshot (and a
 *   login) reconciles everything; an account missing from a new snapshot
 *   (or, at start, an account with PEP nodes missing from the first one)
 *   left the directory and loses what the server published (pep_leave.c);
 * - XEP-0153/XEP-0398 (urn:xmpp:pep-vcard-conversion:0 on the account):
 *   every available presence of a session, directed ones too, carries the
 *   hash of the account's current avatar (own PEP avatar, else the
 *   directory photo), replacing what mod_vcard or the client put there;
 *   the vCard's PHOTO is the own PEP avatar (pepdata_vcard_photo); a
 *   directory photo change re-sends the sessions' last broadcast presence;
 * - bookmark sync between XEP-0402, XEP-0048 in private XML and XEP-0048
 *   in PEP (pep_bookmarks.c), advertised on the account as
 *   urn:xmpp:bookmarks:1#compat, #compat-pep and urn:xmpp:bookmarks-conversion:0.
 * Nothing here runs when plucs/pubsub is off. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "directory/directory.h"
#include "modules/bookmarks_conv.h"
#include "modules/module.h"
#include "modules/pep.h"
#include "modules/pepdata.h"
#include "modules/vcard_build.h"
#include "router/router.h"
#include "xmpp/stanza.h"

#define NS_PRIVATE "jabber:iq:private"
#define NS_PEP_VCARD_CONVERSION "urn:xmpp:pep-vcard-conversion:0"

/* Per session: its last broadcast available presence (a copy, as sent,
 * with the update element) so that a directory photo change can send it
 * again with the new hash (XEP-0153 §4.2: clients re-send presence when
 * the avatar changes; here the server does it for the directory's). */
typedef struct pd_session {
    xnode *last;
    char hash[41];
} pd_session;

static int slot = -1;

static void pd_free(void *p)
{
    pd_session *d = p;
    xnode_free(d->last);
    free(d);
}

static pd_session *pd_of(session *s)
{
    if (slot < 0)
        return NULL;
    if (!s->slots[slot])
        s->slots[slot] = xcalloc(1, sizeof(pd_session));
    return s->slots[slot];
}

/* The newest snapshot reconciled (a reference): each new one is compared
 * with it, whichever worker gets there first, so that no change is skipped
 * when workers install snapshots at different times. */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static dir_snapshot *done_snap;

static void reconcile_account(const dir_account *a)
{
    pepav_reconcile(a->uid, a->domain, a->photo);
    pepnick_reconcile(a->bare, a->label);
}

static bool empty_photo(const xnode *st);

/* On the session's worker: its photo in the directory changed; its
 * presence goes out again when the hash it carried is no longer current. */
static void resend_presence(session *s, void *ud)
{
    const dir_snapshot *old = ud;
    pd_session *d = slot >= 0 ? s->slots[slot] : NULL;
    if (!d || !d->last || !s->available || s->closing || !s->node || empty_photo(d->last))
        return;
    const dir_account *a = dir_snapshot_account(old, s->node, s->domain);
    const dir_account *b = router_account(s->bare);
    if (!a || !b || !strcmp(a->photo, b->photo))
        return;
    char hash[41];
    pepav_current_hash(s->bare, s->node, s->domain, hash);
    if (!strcmp(hash, d->hash))
        return;
    router_from_session(s, xnode_copy(d->last));     /* through EV_OUTBOUND again */
}

static void reconcile_changes(const dir_snapshot *old, const dir_snapshot *snap);

/* Runs on every worker; the first to see a new snapshot does the work. */
static void pepdata_snapshot(const dir_snapshot *old, const config *old_cfg,
                             const dir_snapshot *snap)
{
    (void)old_cfg;
    if (!snap || !snap->complete || !pubsub_enabled() || !pep_ready())
        return;
    if (old && old != snap && old->complete && worker_self())
        sessions_each(worker_self(), resend_presence, (void *)old);
    pthread_mutex_lock(&done_lock);
    if (done_snap && done_snap->serial >= snap->serial) {
        pthread_mutex_unlock(&done_lock);
        return;
    }
    dir_snapshot *prev = done_snap;
    done_snap = dir_snapshot_ref((dir_snapshot *)snap);
    pthread_mutex_unlock(&done_lock);
    reconcile_changes(prev, snap);
    if (prev)
        dir_snapshot_unref(prev);
}

/* Reconciles every account of snap whose photo or label differs from old
 * (all of them without a complete old, and then the accounts with PEP
 * nodes that are not in snap are seen as gone); an account of old missing
 * from snap left the directory (pep_leave.c). */
static void reconcile_changes(const dir_snapshot *old, const dir_snapshot *snap)
{
    if (!old || !old->complete) {
        for (uint32_t i = 0; i < snap->naccounts; i++)
            reconcile_account(&snap->accounts[i]);
        pepdata_sweep(snap);
        return;
    }
    /* both sorted by (domain, uid) */
    uint32_t i = 0, j = 0;
    while (j < snap->naccounts) {
        const dir_account *b = &snap->accounts[j];
        int c = 1;
        if (i < old->naccounts) {
            const dir_account *a = &old->accounts[i];
            if (!(c = strcmp(a->domain, b->domain)))
                c = strcmp(a->uid, b->uid);
        }
        if (c < 0) {
            pepdata_account_left(old->accounts[i++].bare);
            continue;
        }
        if (c > 0 || strcmp(old->accounts[i].photo, b->photo) != 0 ||
            !old->accounts[i].label != !b->label ||
            (b->label && strcmp(old->accounts[i].label, b->label) != 0))
            reconcile_account(b);
        if (c == 0)
            i++;
        j++;
    }
    while (i < old->naccounts)
        pepdata_account_left(old->accounts[i++].bare);
}

static void pepdata_bound(session *s)
{
    if (!pubsub_enabled() || !pep_ready() || !s->node)
        return;
    const dir_account *a = router_account(s->bare);
    if (a)
        reconcile_account(a);
}

/* A user removed their own avatar or nickname: the directory's comes back. */
static void pepdata_pep_hook(const char *bare, const char *node, const char *item_id,
                             const xnode *payload, bool retract)
{
    if (pepdata_busy)
        return;
    pepbm_pep_changed(bare, node, item_id, payload, retract);
    if (!retract || (strcmp(node, NS_AVATAR_META) && strcmp(node, NS_NICK)))
        return;
    const dir_account *a = router_account(bare);
    if (a && !strcmp(node, NS_AVATAR_META))
        pepav_reconcile(a->uid, a->domain, a->photo);
    else if (a)
        pepnick_reconcile(a->bare, a->label);
}

/* Whether st carries <x xmlns='vcard-temp:x:update'><photo/></x> with an
 * empty photo: the client says it has no avatar ready, which XEP-0398 §4
 * tells the server to leave alone. */
static bool empty_photo(const xnode *st)
{
    const xnode *x = xnode_child(st, "x", NS_VCARD_UPDATE);
    const xnode *photo = x ? xnode_child(x, "photo", NS_VCARD_UPDATE) : NULL;
    if (!photo)
        return false;
    char *t = xnode_text(photo);
    bool empty = !t || !*t;
    free(t);
    return empty;
}

/* Replaces every vcard-temp:x:update child of st with the current hash. */
static void put_update(xnode *st, const char *hash)
{
    xnode *c = xnode_first_element(st);
    while (c) {
        xnode *n = xnode_next_element(c);
        if (!strcmp(c->name, "x") && !strcmp(c->ns, NS_VCARD_UPDATE)) {
            xnode_unlink(c);
            xnode_free(c);
        }
        c = n;
    }
    xnode *photo = xnode_add_child(xnode_add_child(st, "x", NS_VCARD_UPDATE), "photo",
                                   NS_VCARD_UPDATE);
    if (*hash)
        xnode_add_text(photo, hash, strlen(hash));
}

static hook_result pepdata_outbound(session *s, xnode *st)
{
    if (!s->bare || !s->node || !pubsub_enabled())
        return HOOK_CONTINUE;
    stanza_kind k = stanza_kind_of(st);
    const char *type = xnode_attr(st, "type");
    if (k == STANZA_PRESENCE && !type) {
        char hash[41];
        pepav_current_hash(s->bare, s->node, s->domain, hash);
        if (empty_photo(st))
            hash[0] = '\0';
        else
            put_update(st, hash);
        pd_session *d = xnode_attr(st, "to") ? NULL : pd_of(s);
        if (d) {
            xnode_free(d->last);
            d->last = xnode_copy(st);
            xnode_set_attr(d->last, "from", NULL);
            memcpy(d->hash, hash, sizeof d->hash);
        }
    } else if (k == STANZA_PRESENCE && !strcmp(type, "unavailable") && !xnode_attr(st, "to")) {
        pd_session *d = slot >= 0 ? s->slots[slot] : NULL;
        if (d) {
            xnode_free(d->last);
            d->last = NULL;
        }
    } else if (k == STANZA_IQ && type && !strcmp(type, "set")) {
        const char *to = xnode_attr(st, "to");
        const xnode *q = xnode_child(st, "query", NS_PRIVATE);
        const xnode *bm = q ? xnode_child(q, "storage", NS_BOOKMARKS_LEGACY) : NULL;
        if (bm && (!to || !strcmp(to, s->bare)))
            pepbm_private_set(s->bare, bm);
    }
    return HOOK_CONTINUE;
}

/* ---- counters ---- */

static _Atomic uint64_t counters[PD_COUNTERS];

void pepdata_count(pd_counter c)
{
    atomic_fetch_add(&counters[c], 1);
}

static unsigned long long counter(pd_counter c)
{
    return (unsigned long long)atomic_load(&counters[c]);
}

/* `plucs status` and /metrics (weak in control_status.c / metrics.c). */
void pepdata_status_lines(buf *out);
void pepdata_metrics_lines(buf *out);

void pepdata_status_lines(buf *out)
{
    buf_printf(out, "pepdata/avatars_published: %llu\n", counter(PD_AVATARS));
    buf_printf(out, "pepdata/avatars_emptied: %llu\n", counter(PD_AVATARS_EMPTIED));
    buf_printf(out, "pepdata/nicknames_published: %llu\n", counter(PD_NICKS));
    buf_printf(out, "pepdata/bookmark_syncs: %llu\n",
               counter(PD_BM_TO_PRIVATE) + counter(PD_BM_TO_PEP));
    buf_printf(out, "pepdata/departed_cleared: %llu\n", counter(PD_LEFT));
}

void pepdata_metrics_lines(buf *out)
{
    buf_printf(out,
               "# HELP plucs_pepdata_avatars_total Directory photos published as avatars "
               "(XEP-0084), and server avatars emptied after the photo was removed.\n"
               "# TYPE plucs_pepdata_avatars_total counter\n"
               "plucs_pepdata_avatars_total{change=\"published\"} %llu\n"
               "plucs_pepdata_avatars_total{change=\"emptied\"} %llu\n"
               "# HELP plucs_pepdata_nicknames_total Directory labels published as nicknames "
               "(XEP-0172).\n"
               "# TYPE plucs_pepdata_nicknames_total counter\n"
               "plucs_pepdata_nicknames_total %llu\n"
               "# HELP plucs_pepdata_bookmark_syncs_total Bookmark changes copied between "
               "XEP-0402 and private XML (XEP-0411).\n"
               "# TYPE plucs_pepdata_bookmark_syncs_total counter\n"
               "plucs_pepdata_bookmark_syncs_total{to=\"private\"} %llu\n"
               "plucs_pepdata_bookmark_syncs_total{to=\"pep\"} %llu\n"
               "# HELP plucs_pepdata_departed_total Accounts gone from the directory whose "
               "server-published avatar or nickname was removed.\n"
               "# TYPE plucs_pepdata_departed_total counter\n"
               "plucs_pepdata_departed_total %llu\n",
               counter(PD_AVATARS), counter(PD_AVATARS_EMPTIED), counter(PD_NICKS),
               counter(PD_BM_TO_PRIVATE), counter(PD_BM_TO_PEP), counter(PD_LEFT));
}

static void pepdata_shutdown(void)
{
    pepav_shutdown();
    pthread_mutex_lock(&done_lock);
    if (done_snap)
        dir_snapshot_unref(done_snap);
    done_snap = NULL;
    pthread_mutex_unlock(&done_lock);
}

static void pepdata_init(void)
{
    pep_hook_add(pepdata_pep_hook);
    module_hook_snapshot(pepdata_snapshot);
    module_hook_session(EV_BOUND, pepdata_bound);
    module_hook_stanza(EV_OUTBOUND, pepdata_outbound);
    module_add_account_feature(NS_BOOKMARKS2_COMPAT, pubsub_enabled);
    module_add_account_feature(NS_BOOKMARKS2_COMPAT_PEP, pubsub_enabled);
    module_add_account_feature(NS_BOOKMARKS_CONVERSION, pubsub_enabled);
    /* XEP-0398: PEP avatars reach the vCard PHOTO and the presence hash (the
     * vCard -> PEP direction is not needed: the vCard is read-only) */
    module_add_account_feature(NS_PEP_VCARD_CONVERSION, pubsub_enabled);
}

const module mod_pepdata = {
    .name = "pepdata",
    .init = pepdata_init,
    .shutdown = pepdata_shutdown,
    .slot = &slot,
    .slot_free = pd_free,
};
