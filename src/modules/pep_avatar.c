/* pep_avatar.c: the directory's jpegPhoto as the account's XEP-0084 avatar
 * (v1.1.4), published by the server when the user has none of their own.
 *
 * The snapshot carries the photo's SHA-1 (dir_account.photo); when it
 * differs from the id of the server-published metadata, the photo bytes are
 * fetched from the directory thread (dir_query_account, never on a worker's
 * time) and published: the data item (id = hash, base64) first, then the
 * metadata with one <info/> (bytes, type, width/height when cheap) and the
 * marker <directory xmlns='urn:plucs:avatar:directory'/>. Photo removed:
 * the metadata is emptied (XEP-0084 §4.2: no <info/> = avatar disabled) and
 * the data item retracted. Metadata without the marker is the user's own
 * and is never touched. Both nodes are created with access model open, as
 * clients publish avatars (XEP-0084 §4.1 leaves it to the publisher).
 *
 * At most AV_INFLIGHT directory reads run at once; more accounts wait in a
 * queue (bounded: a fuller one drops and logs; the next snapshot change or
 * login reconciles them again). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "directory/dir_query.h"
#include "directory/directory.h"
#include "modules/avatar_sniff.h"
#include "modules/pep.h"
#include "modules/pepdata.h"
#include "modules/vcard_build.h"
#include "router/router.h"
#include "xmpp/sasl.h"

#define AV_INFLIGHT 8
#define AV_QUEUE_MAX 100000

_Thread_local bool pepdata_busy;

avatar_owner pepav_state(const char *bare, char hash[41])
{
    hash[0] = '\0';
    char *id = NULL;
    xnode *m = pep_last_item(bare, NS_AVATAR_META, &id);
    free(id);
    if (!m)
        return AVATAR_NONE;
    /* the first <info/> that does not point to an external URL (XEP-0398 §3.1) */
    const xnode *info = NULL;
    for (const xnode *c = xnode_first_element(m); c && !info; c = xnode_next_element(c))
        if (!strcmp(c->name, "info") && !strcmp(c->ns, NS_AVATAR_META) && !xnode_attr(c, "url"))
            info = c;
    const char *iid = info ? xnode_attr(info, "id") : NULL;
    if (iid)
        snprintf(hash, 41, "%s", iid);
    avatar_owner o = xnode_child(m, "directory", NS_PLUCS_DIRAVATAR) ? AVATAR_SERVER : AVATAR_OWN;
    xnode_free(m);
    return o;
}

void pepav_current_hash(const char *bare, const char *uid, const char *domain, char hash[41])
{
    if (pubsub_enabled() && pepav_state(bare, hash) == AVATAR_OWN)
        return;
    hash[0] = '\0';
    const dir_snapshot *snap = router_snapshot();
    const dir_account *a = snap ? dir_snapshot_account(snap, uid, domain) : NULL;
    if (a)
        snprintf(hash, 41, "%s", a->photo);
}

/* ---- publishing ---- */

static xnode *metadata_new(void)
{
    xnode *m = xnode_new("metadata", NS_AVATAR_META);
    return m;
}

static void mark(xnode *m)
{
    xnode_add_child(m, "directory", NS_PLUCS_DIRAVATAR);
}

/* Empties the server's metadata and retracts its data item. */
static void publish_none(const char *bare, const char *old_hash)
{
    xnode *m = metadata_new();
    mark(m);
    pepdata_busy = true;
    pep_status st = pep_publish(bare, NS_AVATAR_META, NULL, m, PEP_ACCESS_OPEN);
    if (*old_hash)
        pep_retract(bare, NS_AVATAR_DATA, old_hash);
    pepdata_busy = false;
    xnode_free(m);
    if (st == PEP_OK) {
        pepdata_count(PD_AVATARS_EMPTIED);
        log_info("pepdata: %s has no directory photo any more; avatar metadata emptied", bare);
    }
}

/* cur: the server avatar's id now ("" none); when the photo cannot be an
 * item, that avatar is emptied rather than left stale. */
static void publish_photo(const char *bare, const void *bytes, size_t len, const char *cur)
{
    char hash[41];
    if (vcard_photo_hash(bytes, len, hash) != 0)
        return;
    char *b64 = base64_encode(bytes, len);
    if (!b64)
        return;
    avatar_info ai;
    avatar_sniff(bytes, len, &ai);
    xnode *data = xnode_new("data", NS_AVATAR_DATA);
    xnode_add_text(data, b64, strlen(b64));
    free(b64);
    pepdata_busy = true;
    pep_status st = pep_publish(bare, NS_AVATAR_DATA, hash, data, PEP_ACCESS_OPEN);
    xnode_free(data);
    if (st != PEP_OK) {
        pepdata_busy = false;
        log_warn("pepdata: the directory photo of %s (%zu bytes) could not be published as "
                 "its avatar (%s)", bare, len,
                 st == PEP_REFUSED ? "larger than plucs/pubsub/max_item_size, or a quota"
                                   : "refused");
        if (*cur)
            publish_none(bare, cur);
        return;
    }
    xnode *m = metadata_new();
    xnode *info = xnode_add_child(m, "info", NS_AVATAR_META);
    char num[24];
    snprintf(num, sizeof num, "%zu", len);
    xnode_set_attr(info, "bytes", num);
    xnode_set_attr(info, "id", hash);
    xnode_set_attr(info, "type", ai.type);
    if (ai.width && ai.height) {
        snprintf(num, sizeof num, "%u", ai.width);
        xnode_set_attr(info, "width", num);
        snprintf(num, sizeof num, "%u", ai.height);
        xnode_set_attr(info, "height", num);
    }
    mark(m);
    st = pep_publish(bare, NS_AVATAR_META, hash, m, PEP_ACCESS_OPEN);
    pepdata_busy = false;
    xnode_free(m);
    if (st == PEP_OK) {
        pepdata_count(PD_AVATARS);
        log_info("pepdata: published the directory photo of %s as its avatar (%s, %zu bytes)",
                 bare, hash, len);
    }
}

/* ---- the fetch queue ---- */

typedef struct av_job {
    struct av_job *next;
    char *uid, *domain;
} av_job;

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static av_job *q_head, *q_tail;
static size_t q_len;
static int inflight;

static void job_free(void *p)
{
    av_job *j = p;
    free(j->uid);
    free(j->domain);
    free(j);
}

static void pump(void);

/* Whether the newest snapshot (not the worker's, which may lag) has uid@domain. */
static bool in_directory(const char *uid, const char *domain)
{
    dir_snapshot *snap = directory_snapshot();
    bool here = !snap || dir_snapshot_account(snap, uid, domain) != NULL;
    if (snap)
        dir_snapshot_unref(snap);
    return here;
}

static void fetched(void *arg, const dir_query_result *res)
{
    av_job *j = arg;
    char *bare = NULL;
    if (asprintf(&bare, "%s@%s", j->uid, j->domain) < 0)
        bare = NULL;
    char cur[41];
    if (bare && !in_directory(j->uid, j->domain)) {
        /* left the directory while the photo was read (pep_leave.c) */
    } else if (bare && res->status == DIR_QUERY_OK && pepav_state(bare, cur) != AVATAR_OWN) {
        const dir_attr *p = dir_record_attr(&res->records[0], "jpegPhoto");
        if (p && p->nvalues && p->values[0].len) {
            char h[41];
            if (vcard_photo_hash(p->values[0].data, p->values[0].len, h) == 0 && strcmp(h, cur))
                publish_photo(bare, p->values[0].data, p->values[0].len, cur);
        } else if (*cur) {
            publish_none(bare, cur);        /* not the user's own: the server's */
        }
    } else if (bare && res->status == DIR_QUERY_UNAVAILABLE) {
        log_warn("pepdata: the directory did not answer for the photo of %s; its avatar is "
                 "reconciled at the next change or login", bare);
    }
    free(bare);
    job_free(j);
    pthread_mutex_lock(&q_lock);
    inflight--;
    pthread_mutex_unlock(&q_lock);
    pump();
}

static void dropped(void *arg)
{
    job_free(arg);
    pthread_mutex_lock(&q_lock);
    inflight--;
    pthread_mutex_unlock(&q_lock);
}

static void pump(void)
{
    static const char *const attrs[] = { "jpegPhoto", NULL };
    worker *w = worker_self();
    if (!w)
        return;
    for (;;) {
        pthread_mutex_lock(&q_lock);
        av_job *j = inflight < AV_INFLIGHT ? q_head : NULL;
        if (j) {
            q_head = j->next;
            if (!q_head)
                q_tail = NULL;
            q_len--;
            inflight++;
        }
        pthread_mutex_unlock(&q_lock);
        if (!j)
            return;
        dir_query_account(w, j->uid, j->domain, attrs, fetched, dropped, j);
    }
}

static void enqueue(const char *uid, const char *domain)
{
    /* no search for a duplicate (a full reconcile queues every photo): a
     * second fetch of the same account finds the avatar current and stops */
    pthread_mutex_lock(&q_lock);
    if (q_len >= AV_QUEUE_MAX) {
        pthread_mutex_unlock(&q_lock);
        log_warn("pepdata: %zu avatars wait for the directory; %s@%s is reconciled later",
                 q_len, uid, domain);
        return;
    }
    av_job *j = xcalloc(1, sizeof *j);
    j->uid = xstrdup(uid);
    j->domain = xstrdup(domain);
    if (q_tail)
        q_tail->next = j;
    else
        q_head = j;
    q_tail = j;
    q_len++;
    pthread_mutex_unlock(&q_lock);
    pump();
}

void pepav_shutdown(void)
{
    pthread_mutex_lock(&q_lock);
    av_job *j = q_head;
    q_head = q_tail = NULL;
    q_len = 0;
    pthread_mutex_unlock(&q_lock);
    while (j) {
        av_job *n = j->next;
        job_free(j);
        j = n;
    }
}

void pepav_reconcile(const char *uid, const char *domain, const char *dir_hash)
{
    if (!pubsub_enabled() || !uid || !domain)
        return;
    char *bare = NULL;
    if (asprintf(&bare, "%s@%s", uid, domain) < 0)
        return;
    char cur[41];
    avatar_owner o = pepav_state(bare, cur);
    if (o == AVATAR_OWN || (o == AVATAR_SERVER && !strcmp(cur, dir_hash)) ||
        (o == AVATAR_NONE && !*dir_hash)) {
        free(bare);
        return;
    }
    if (!*dir_hash) {
        if (*cur)
            publish_none(bare, cur);
        free(bare);
        return;
    }
    free(bare);
    enqueue(uid, domain);
}

/* ---- the vCard's PHOTO ---- */

void pepdata_vcard_photo(const char *bare, xnode *vcard)
{
    char hash[41];
    if (!bare || !vcard || !pubsub_enabled() || pepav_state(bare, hash) != AVATAR_OWN)
        return;
    xnode *data = NULL, *type_src = NULL;
    char *id = NULL;
    if (*hash) {
        data = pep_last_item(bare, NS_AVATAR_DATA, &id);
        if (!id || strcmp(id, hash) != 0) {     /* data of another avatar: leave the vCard */
            xnode_free(data);
            free(id);
            return;
        }
        type_src = pep_last_item(bare, NS_AVATAR_META, NULL);
    }
    free(id);
    xnode *old;
    while ((old = xnode_child(vcard, "PHOTO", NS_VCARD))) {
        xnode_unlink(old);
        xnode_free(old);
    }
    char *b64 = data ? xnode_text(data) : NULL;
    if (b64 && *b64) {
        const char *type = NULL;
        for (const xnode *c = type_src ? xnode_first_element(type_src) : NULL; c && !type;
             c = xnode_next_element(c))
            if (!strcmp(c->name, "info") && xnode_attr(c, "id") && !strcmp(xnode_attr(c, "id"), hash))
                type = xnode_attr(c, "type");
        xnode *photo = xnode_add_child(vcard, "PHOTO", NS_VCARD);
        xnode *t = xnode_add_child(photo, "TYPE", NS_VCARD);
        type = type ? type : "image/png";
        xnode_add_text(t, type, strlen(type));
        xnode_add_text(xnode_add_child(photo, "BINVAL", NS_VCARD), b64, strlen(b64));
    }
    free(b64);
    xnode_free(data);
    xnode_free(type_src);
}

bool pep_quota_exempt(const char *node)
{
    return node && (!strcmp(node, NS_AVATAR_DATA) || !strcmp(node, NS_AVATAR_META) ||
                    !strcmp(node, NS_NICK));
}
