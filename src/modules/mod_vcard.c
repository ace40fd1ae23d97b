/* mod_vcard.c: vCards from the directory (XEP-0054 vcard-temp) and avatar
 * hashes in presence (XEP-0153).
 *
 * A vCard get for one's own bare JID (or without 'to') or another account
 * of one's own domain asks the directory thread for that account's entry
 * (dir_query_account) and answers, on this worker, with the vCard built by
 * vcard_build(). Accounts of other domains are answered exactly like
 * unknown ones (service-unavailable, RFC 6121 §8.5.1's answer for a JID
 * with no account), so nothing can be harvested across domains. A vCard set is not-allowed: the directory is the source. A remote requester
 * (federation) gets the vCard of an account whose personal roster shares
 * presence with it (from/both), else the same answer as a stranger.
 *
 * Avatar: when a session is bound, the account's jpegPhoto is fetched once
 * and its SHA-1 kept in a per-session slot; every available presence the
 * session sends then carries <x xmlns='vcard-temp:x:update'><photo>HASH
 * </photo></x> (an empty <photo/> when there is no photo), replacing what
 * the client put there. While the hash is unknown nothing is added; if the
 * session's broadcast presence went out in that window, it is sent again
 * once the hash is known, as XEP-0153 does on an avatar change. Fetching
 * one's own vCard refreshes the hash too. */
#include "modules/module.h"
#include "core/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/i18n.h"
#include "core/log.h"
#include "directory/dir_query.h"
#include "modules/pep.h"
#include "modules/pepdata.h"
#include "modules/roster.h"
#include "modules/vcard_build.h"
#include "router/router.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define VCARD_MAX_PENDING 8     /* directory queries in flight per session */

typedef enum { AVATAR_UNKNOWN = 0, AVATAR_KNOWN } avatar_state;

/* Per-session slot. */
typedef struct avatar {
    avatar_state state;
    char hash[41];              /* "" when the account has no photo */
    unsigned pending;           /* vCard queries in flight */
    xnode *held;                /* broadcast presence sent while unknown (copy) */
} avatar;

static int slot = -1;

static void avatar_free(void *p)
{
    avatar *a = p;
    xnode_free(a->held);
    free(a);
}

static avatar *avatar_of(session *s)
{
    if (slot < 0)
        return NULL;
    if (!s->slots[slot])
        s->slots[slot] = xcalloc(1, sizeof(avatar));
    return s->slots[slot];
}

/* A stanza error with a text in the requester's language. */
static xnode *error_text(session *s, const xnode *iq, const char *type, const char *cond,
                         text_id text)
{
    const char *lang = xnode_attr(iq, "xml:lang");
    if (!lang || !*lang)
        lang = s->lang;
    xnode *r = stanza_error_reply(iq, type, cond, i18n(lang, text));
    xnode *e = r ? xnode_child(r, "error", NULL) : NULL;
    xnode *t = e ? xnode_child(e, "text", NS_STANZAS) : NULL;
    if (t)
        xnode_set_attr(t, "xml:lang", i18n_lang(lang));
    return r;
}

/* ---- presence: the update element ---- */

/* Replaces every vcard-temp:x:update child of st with ours. */
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
    xnode *x = xnode_add_child(st, "x", NS_VCARD_UPDATE);
    xnode *photo = xnode_add_child(x, "photo", NS_VCARD_UPDATE);
    if (*hash)
        xnode_add_text(photo, hash, strlen(hash));
}

static hook_result avatar_outbound(session *s, xnode *st)
{
    /* with PubSub on, mod_pepdata puts the current hash (own PEP avatar, else
     * the photo hash of the directory snapshot) into every presence */
    if (stanza_kind_of(st) != STANZA_PRESENCE || pubsub_enabled())
        return HOOK_CONTINUE;
    const char *type = xnode_attr(st, "type");
    bool broadcast = !xnode_attr(st, "to");
    avatar *a = avatar_of(s);
    if (!a)
        return HOOK_CONTINUE;
    if (type) {
        if (broadcast && !strcmp(type, "unavailable")) {
            xnode_free(a->held);
            a->held = NULL;
        }
        return HOOK_CONTINUE;
    }
    if (a->state == AVATAR_KNOWN) {
        put_update(st, a->hash);
    } else if (broadcast) {
        xnode_free(a->held);
        a->held = xnode_copy(st);
    }
    return HOOK_CONTINUE;
}

/* Records the hash; a broadcast presence held while it was unknown goes out
 * again, now with the update element (through the ordinary path). */
static void avatar_known(session *s, avatar *a, const char *hash)
{
    bool changed = a->state != AVATAR_KNOWN || strcmp(a->hash, hash) != 0;
    a->state = AVATAR_KNOWN;
    snprintf(a->hash, sizeof a->hash, "%s", hash);
    xnode *held = a->held;
    a->held = NULL;
    if (held && changed && s->available && !s->closing)
        router_from_session(s, held);       /* takes ownership */
    else
        xnode_free(held);
}

/* The hash of entry r's photo ("" for none); -1 when it cannot be computed. */
static int photo_hash(const dir_record *r, char out[41])
{
    const dir_attr *p = dir_record_attr(r, "jpegPhoto");
    out[0] = '\0';
    if (!p || p->nvalues == 0 || p->values[0].len == 0)
        return 0;
    return vcard_photo_hash(p->values[0].data, p->values[0].len, out);
}

/* ---- asynchronous answers ---- */

typedef struct vq {
    worker *w;
    uint64_t sid;
    xnode *iq;                  /* the request; NULL for the bind-time fetch */
    bool own;                   /* the session's own account */
} vq;

static void vq_free(void *p)
{
    vq *q = p;
    xnode_free(q->iq);
    free(q);
}

static void photo_done(void *arg, const dir_query_result *res)
{
    vq *q = arg;
    session *s = session_find(q->w, q->sid);
    avatar *a = s && !s->closing ? avatar_of(s) : NULL;
    char hash[41];
    if (a && res->status == DIR_QUERY_OK && photo_hash(&res->records[0], hash) == 0)
        avatar_known(s, a, hash);
    else if (a && res->status == DIR_QUERY_NOT_FOUND)
        avatar_known(s, a, "");
    /* unavailable: stays unknown; the next own vCard fetch may fill it */
    vq_free(q);
}

static void vcard_done(void *arg, const dir_query_result *res)
{
    vq *q = arg;
    session *s = session_find(q->w, q->sid);
    if (!s || s->closing) {
        vq_free(q);
        return;
    }
    avatar *a = avatar_of(s);
    if (a && a->pending)
        a->pending--;
    switch (res->status) {
    case DIR_QUERY_OK: {
        const char *to = xnode_attr(q->iq, "to");
        char *uid = NULL;
        if (to) {
            jid j;
            if (jid_parse(to, &j) == 0) {
                uid = j.node ? xstrdup(j.node) : NULL;
                jid_clear(&j);
            }
        }
        xnode *r = iq_result(q->iq);
        xnode *vc = vcard_build(&res->records[0], uid ? uid : s->node);
        char *bare = NULL;      /* PHOTO: the account's own PEP avatar first (mod_pepdata) */
        if (asprintf(&bare, "%s@%s", uid ? uid : s->node, s->domain) >= 0) {
            pepdata_vcard_photo(bare, vc);
            free(bare);
        }
        xnode_append(r, vc);
        free(uid);
        session_send_free(s, r);
        char hash[41];
        if (q->own && a && photo_hash(&res->records[0], hash) == 0)
            avatar_known(s, a, hash);
        break;
    }
    case DIR_QUERY_NOT_FOUND:
        session_send_free(s, stanza_error_reply(q->iq, ERR_CANCEL, "service-unavailable", NULL));
        break;
    default:
        session_send_free(s, error_text(s, q->iq, ERR_WAIT, "internal-server-error",
                                        T_DIRECTORY_BUSY));
        break;
    }
    vq_free(q);
}

/* ---- the iq handler and hooks ---- */

/* Asks the directory for node@domain's entry; the answer goes to s. */
static void vcard_fetch(session *s, const xnode *iq, const char *node, const char *domain,
                        bool own)
{
    avatar *a = avatar_of(s);
    if (a && a->pending >= VCARD_MAX_PENDING) {
        session_send_free(s, stanza_error_reply(iq, ERR_WAIT, "resource-constraint", NULL));
        return;
    }
    vq *q = xcalloc(1, sizeof *q);
    q->w = s->w;
    q->sid = s->id;
    q->iq = xnode_copy(iq);
    q->own = own;
    if (a)
        a->pending++;
    dir_query_account(s->w, node, domain, vcard_attrs(), vcard_done, vq_free, q);
}

/* A remote requester (federation) may read the vCard of an account that
 * shares its presence with it (personal roster item with subscription
 * from/both: the contacts who see the avatar hash in presence); anyone
 * else elsewhere is answered as for an account of another domain. */
typedef struct remote_vq {
    uint64_t sid;
    xnode *iq;
    char *node, *domain;
} remote_vq;

static void remote_vq_free(void *p)
{
    remote_vq *r = p;
    xnode_free(r->iq);
    free(r->node);
    free(r->domain);
    free(r);
}

static void remote_checked(void *ud, store_sub sub)
{
    remote_vq *r = ud;
    session *s = session_find(worker_self(), r->sid);
    if (s && (sub == STORE_SUB_FROM || sub == STORE_SUB_BOTH))
        vcard_fetch(s, r->iq, r->node, r->domain, false);
    else if (s)
        session_send_free(s, stanza_error_reply(r->iq, ERR_CANCEL, "service-unavailable", NULL));
    remote_vq_free(r);
}

static void vcard_remote(session *s, const xnode *iq)
{
    jid to, from;
    const char *to_s = xnode_attr(iq, "to"), *from_s = xnode_attr(iq, "from");
    if (!to_s || !from_s || jid_parse(to_s, &to) != 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "item-not-found", NULL));
        return;
    }
    if (!to.node || jid_parse(from_s, &from) != 0) {
        /* the server itself has no vCard */
        jid_clear(&to);
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "item-not-found", NULL));
        return;
    }
    remote_vq *r = xcalloc(1, sizeof *r);
    r->sid = s->id;
    r->iq = xnode_copy(iq);
    r->node = xstrdup(to.node);
    r->domain = xstrdup(to.domain);
    char *user = jid_bare_string(&to), *requester = jid_bare_string(&from);
    jid_clear(&to);
    jid_clear(&from);
    roster_subscription_state(user, requester, remote_checked, remote_vq_free, r);
    free(user);
    free(requester);
}

static void vcard_iq(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type");
    if (strcmp(payload->name, "vCard") != 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    if (type && !strcmp(type, "set")) {
        log_info("vcard: %s tried to change a vCard; the directory is the source", s->bare);
        session_send_free(s, error_text(s, iq, ERR_CANCEL, "not-allowed", T_VCARD_READONLY));
        return;
    }
    if (s->remote) {
        vcard_remote(s, iq);
        return;
    }
    /* Whose vCard: none or one's own bare JID, or an account of one's own
     * domain. The server's own JID has no vCard. */
    const char *to = xnode_attr(iq, "to");
    char *node = NULL;
    bool found = true;
    bool account_like = false;
    if (to) {
        jid j;
        if (jid_parse(to, &j) != 0 || !j.node || j.resource || strcmp(j.domain, s->domain) != 0) {
            found = false;
            account_like = j.node != NULL;
        } else {
            node = xstrdup(j.node);
            found = node != NULL;
        }
        jid_clear(&j);
    }
    if (!found) {
        /* the server itself has no vCard; an account elsewhere looks like none */
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL,
                                                account_like ? "service-unavailable" : "item-not-found",
                                                NULL));
        return;
    }
    vcard_fetch(s, iq, node ? node : s->node, s->domain, !node || !strcmp(node, s->node));
    free(node);
}

static void avatar_bound(session *s)
{
    if (pubsub_enabled())
        return;                 /* mod_pepdata knows the hash without asking */
    vq *q = xcalloc(1, sizeof *q);
    if (!q || !avatar_of(s)) {
        free(q);
        return;
    }
    q->w = s->w;
    q->sid = s->id;
    q->own = true;
    static const char *const photo[] = { "jpegPhoto", NULL };
    dir_query_account(s->w, s->node, s->domain, photo, photo_done, vq_free, q);
}

static void vcard_init(void)
{
    module_register_iq(NS_VCARD, vcard_iq);
    module_allow_remote(NS_VCARD);   /* contacts elsewhere: see vcard_remote */
    module_add_feature(NS_VCARD);
    module_hook_session(EV_BOUND, avatar_bound);
    module_hook_stanza(EV_OUTBOUND, avatar_outbound);
}

const module mod_vcard = {
    .name = "vcard",
    .init = vcard_init,
    .slot = &slot,
    .slot_free = avatar_free,
};
