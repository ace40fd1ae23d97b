/* dir_sync.c: the change feed, RFC 4533 (LDAP Content Synchronization) in
 * refreshAndPersist mode, one search for host objects, accounts and groups
 * below ldap/base. Debian's libldap has no ldap_sync_* helpers, so the Sync
 * Request control is built and the Sync State controls / Sync Info
 * messages are parsed here with lber. Entries are tracked by entryUUID
 * (dir_entries.c); xmppEnabled and xmppDomain are applied when a snapshot
 * is built, because such an entry still matches the feed's filter. The
 * cookie survives a lost connection, so a reconnect only transfers what
 * changed; a server that refuses the cookie (e-syncRefreshRequired) gets a
 * full refresh, and a server without the control is polled instead
 * (dir_load.c). */
#include "directory/dir_internal.h"
#include "core/alloc.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sync_filter[] =
    "(|(objectClass=univentionXMPPHost)(objectClass=univentionXMPPAccount)"
    "(objectClass=univentionXMPPGroup))";

int dir_sync_request_value(int mode, const struct berval *cookie, struct berval *out)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    if (!ber)
        return -1;
    int rc = ber_printf(ber, "{e", (ber_int_t)mode);
    if (rc >= 0 && cookie && cookie->bv_len)
        rc = ber_printf(ber, "O", cookie);
    if (rc >= 0)
        rc = ber_printf(ber, "N}");
    if (rc >= 0)
        rc = ber_flatten2(ber, out, 1);
    ber_free(ber, 1);
    return rc < 0 ? -1 : 0;
}

static void set_cookie(dir *d, const struct berval *c)
{
    if (!c || !c->bv_len)
        return;
    char *v = xmalloc(c->bv_len);
    memcpy(v, c->bv_val, c->bv_len);
    free(d->sync_cookie.bv_val);
    d->sync_cookie.bv_val = v;
    d->sync_cookie.bv_len = c->bv_len;
}

void dir_sync_forget(dir *d)
{
    free(d->sync_cookie.bv_val);
    d->sync_cookie = (struct berval){ 0, NULL };
}

/* 16 raw bytes -> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (as entryUUID) */
static void uuid_text(const struct berval *u, char out[40])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < u->bv_len && i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[(unsigned char)u->bv_val[i] >> 4];
        out[o++] = hex[(unsigned char)u->bv_val[i] & 15];
    }
    out[o] = '\0';
}

/* The BER decoding of what the server sends (kept apart from the LDAP
 * message handling so that tests/fuzz/fuzz_sync.c reaches it directly).
 * Both decode a copy of value (ber_init): lber's in-place strings ("m")
 * write a NUL after each one, which needs the byte of slack its own copies
 * have; the cookie they return is copied out of it. */
static void cookie_out(struct berval *cookie)
{
    struct berval in = *cookie;
    *cookie = (struct berval){ 0, NULL };
    if (in.bv_len)
        ber_dupbv(cookie, &in);
}

static int sync_state_scan(BerElement *ber, int *state, char key[40], struct berval *cookie)
{
    struct berval uuid = { 0, NULL };
    ber_int_t st = -1;
    ber_len_t len;
    if (ber_scanf(ber, "{em", &st, &uuid) == LBER_ERROR)
        return -1;
    if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE && ber_scanf(ber, "m", cookie) == LBER_ERROR)
        *cookie = (struct berval){ 0, NULL };
    uuid_text(&uuid, key);
    *state = (int)st;
    return 0;
}

int dir_sync_state_decode(const struct berval *value, int *state, char key[40],
                          struct berval *cookie)
{
    struct berval v = *value;
    *cookie = (struct berval){ 0, NULL };
    key[0] = '\0';
    /* ber_init of an empty value has no buffer, and lber then reads NULL */
    BerElement *ber = v.bv_len && v.bv_val ? ber_init(&v) : NULL;
    if (!ber)
        return -1;
    int rc = sync_state_scan(ber, state, key, cookie);
    cookie_out(cookie);
    ber_free(ber, 1);
    return rc;
}

static int sync_info_scan(BerElement *ber, dir_sync_info *out)
{
    ber_len_t len;
    ber_int_t flag;
    ber_tag_t tag = ber_peek_tag(ber, &len);
    out->tag = tag;
    switch (tag) {
    case LDAP_TAG_SYNC_NEW_COOKIE:
        return ber_scanf(ber, "m", &out->cookie) == LBER_ERROR ? -1 : 0;
    case LDAP_TAG_SYNC_REFRESH_DELETE:
    case LDAP_TAG_SYNC_REFRESH_PRESENT:
        if (ber_scanf(ber, "{") == LBER_ERROR)
            return -1;
        if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE && ber_scanf(ber, "m", &out->cookie) == LBER_ERROR)
            out->cookie = (struct berval){ 0, NULL };
        if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDONE && ber_scanf(ber, "b", &flag) != LBER_ERROR)
            out->done = flag != 0;
        return 0;
    case LDAP_TAG_SYNC_ID_SET:
        if (ber_scanf(ber, "{") == LBER_ERROR)
            return -1;
        if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE && ber_scanf(ber, "m", &out->cookie) == LBER_ERROR)
            out->cookie = (struct berval){ 0, NULL };
        if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDELETES && ber_scanf(ber, "b", &flag) != LBER_ERROR)
            out->deletes = flag != 0;
        if (ber_scanf(ber, "[W]", &out->uuids) == LBER_ERROR) {
            out->uuids = NULL;
            return -1;   /* the cookie, if any, is still valid */
        }
        return 0;
    default:
        return -1;
    }
}

int dir_sync_info_decode(const struct berval *value, dir_sync_info *out)
{
    struct berval v = *value;
    *out = (dir_sync_info){ .done = true };
    BerElement *ber = v.bv_len && v.bv_val ? ber_init(&v) : NULL;
    if (!ber)
        return -1;
    int rc = sync_info_scan(ber, out);
    cookie_out(&out->cookie);
    ber_free(ber, 1);
    return rc;
}

void dir_sync_start(dir *d)
{
    if (d->svc_state != SVC_UP || d->sync_msgid >= 0)
        return;
    struct berval val = { 0, NULL };
    LDAPControl *ctrl = NULL;
    if (dir_sync_request_value(LDAP_SYNC_REFRESH_AND_PERSIST, &d->sync_cookie, &val) != 0 ||
        ldap_control_create(LDAP_CONTROL_SYNC, 1, &val, 1, &ctrl) != LDAP_SUCCESS) {
        ber_memfree(val.bv_val);
        log_err("directory: cannot build the sync request control");
        d->sync_refused = true;
        dir_load_schedule(d);
        return;
    }
    ber_memfree(val.bv_val);
    LDAPControl *ctrls[2] = { ctrl, NULL };
    d->sync_full = d->sync_cookie.bv_len == 0;
    d->sync_stale = false;
    if (d->sync_full)
        dir_entries_unmark_all(d);
    int rc = ldap_search_ext(d->svc->ld, d->set->base, LDAP_SCOPE_SUBTREE, sync_filter,
                             dir_entry_attrs(d), 0, ctrls, NULL, NULL, 0, &d->sync_msgid);
    ldap_control_free(ctrl);
    if (rc != LDAP_SUCCESS) {
        d->sync_msgid = -1;
        char err[300];
        dir_conn_error(d->svc, rc, err, sizeof err);
        if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) {
            dir_service_lost(d, err);
            return;
        }
        log_warn("directory: cannot start the change feed: %s; polling every %d s", err,
                 d->set->poll);
        d->sync_refused = true;
        dir_load_schedule(d);
        return;
    }
    d->sync_refreshing = true;
    log_debug("directory: change feed started (%s)", d->sync_full ? "full refresh" : "with cookie");
}

void dir_sync_abort(dir *d)
{
    if (d->sync_msgid >= 0 && d->svc)
        ldap_abandon_ext(d->svc->ld, d->sync_msgid, NULL, NULL);
    d->sync_msgid = -1;
    d->sync_refreshing = false;
    d->sync_full = false;
}

/* The refresh phase ended (or a present phase within it): with presents,
 * what was not named is gone. */
static void refresh_phase_end(dir *d, bool presents, bool done)
{
    if (presents && d->sync_stale) {
        /* The server says "unchanged" about an entry this server never
         * received (seen with slapd after offline edits): our state cannot
         * be trusted, so nothing is swept and everything is read again. */
        log_info("directory: the change feed named unknown entries; refreshing in full");
        d->sync_stale = false;
        dir_entries_unmark_all(d);
        dir_sync_abort(d);
        dir_sync_forget(d);
        dir_sync_start(d);
        return;
    }
    if (presents || d->sync_full) {
        unsigned gone = dir_entries_sweep(d, false);
        if (gone)
            dir_changed(d, gone);
        dir_entries_unmark_all(d);
    }
    if (done && d->sync_refreshing) {
        d->sync_refreshing = false;
        d->sync_full = false;
        if (!d->sync_logged)
            log_info("directory: change feed active (RFC 4533 refreshAndPersist)");
        d->sync_logged = true;
        dir_loaded(d);
    }
}

static void sync_entry(dir *d, LDAPMessage *msg)
{
    LDAPControl **ctrls = NULL;
    if (ldap_get_entry_controls(d->svc->ld, msg, &ctrls) != LDAP_SUCCESS)
        return;
    LDAPControl *sc = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls, NULL);
    int state = -1;
    char key[40];
    struct berval cookie;
    if (sc && dir_sync_state_decode(&sc->ldctl_value, &state, key, &cookie) == 0) {
        switch (state) {
        case LDAP_SYNC_ADD:
        case LDAP_SYNC_MODIFY: {
            dir_entry *e = dir_entry_read(d, msg, key);
            if (e && dir_entries_put(d, e))
                dir_changed(d, 1);
            break;
        }
        case LDAP_SYNC_PRESENT:
            if (!dir_entries_mark(d, key))
                d->sync_stale = true;
            break;
        case LDAP_SYNC_DELETE:
            if (dir_entries_del(d, key))
                dir_changed(d, 1);
            break;
        }
        log_debug("directory: sync state %d for %s", state, key);
        set_cookie(d, &cookie);
        ber_memfree(cookie.bv_val);
    } else {
        log_debug("directory: entry without a sync state control ignored");
    }
    ldap_controls_free(ctrls);
}

static void sync_info(dir *d, LDAPMessage *msg)
{
    char *oid = NULL;
    struct berval *data = NULL;
    if (ldap_parse_intermediate(d->svc->ld, msg, &oid, &data, NULL, 0) != LDAP_SUCCESS)
        return;
    dir_sync_info in;
    int rc = -1;
    if (oid && data && strcmp(oid, LDAP_SYNC_INFO) == 0) {
        rc = dir_sync_info_decode(data, &in);
        set_cookie(d, &in.cookie);   /* even when what follows it is malformed */
        ber_memfree(in.cookie.bv_val);
    }
    if (rc == 0) {
        switch (in.tag) {
        case LDAP_TAG_SYNC_REFRESH_DELETE:
        case LDAP_TAG_SYNC_REFRESH_PRESENT:
            log_debug("directory: sync info refresh%s done=%d",
                      in.tag == LDAP_TAG_SYNC_REFRESH_PRESENT ? "Present" : "Delete", in.done);
            refresh_phase_end(d, in.tag == LDAP_TAG_SYNC_REFRESH_PRESENT, in.done);
            break;
        case LDAP_TAG_SYNC_ID_SET: {
            unsigned changed = 0;
            for (size_t i = 0; in.uuids && in.uuids[i].bv_val; i++) {
                char key[40];
                uuid_text(&in.uuids[i], key);
                if (in.deletes)
                    changed += dir_entries_del(d, key);
                else if (!dir_entries_mark(d, key))
                    d->sync_stale = true;
            }
            log_debug("directory: sync info syncIdSet (%s)", in.deletes ? "deletes" : "presents");
            ber_bvarray_free(in.uuids);
            if (changed)
                dir_changed(d, changed);
            break;
        }
        default:   /* a new cookie: set above */
            break;
        }
    }
    ldap_memfree(oid);
    ber_bvfree(data);
}

static void sync_result(dir *d, LDAPMessage *msg)
{
    int rc = LDAP_OTHER;
    char *diag = NULL;
    LDAPControl **ctrls = NULL;
    int prc = ldap_parse_result(d->svc->ld, msg, &rc, NULL, &diag, NULL, &ctrls, 1);
    if (prc != LDAP_SUCCESS)
        rc = prc;
    d->sync_msgid = -1;
    bool was_refreshing = d->sync_refreshing;
    d->sync_refreshing = false;
    ldap_controls_free(ctrls);
    if (rc == LDAP_SYNC_REFRESH_REQUIRED) {
        log_info("directory: the server asks for a full refresh of the change feed");
        ldap_memfree(diag);
        dir_sync_forget(d);
        dir_sync_start(d);
        return;
    }
    char why[400];
    snprintf(why, sizeof why, "%s%s%s%s", ldap_err2string(rc), diag && *diag ? " (" : "",
             diag && *diag ? diag : "", diag && *diag ? ")" : "");
    ldap_memfree(diag);
    /* Refused control, no syncprov, size or time limits, access, or the
     * search simply ended: read everything periodically instead (the
     * next connection tries the feed again). */
    if (!d->sync_refused_logged)
        log_warn("directory: no change feed from %s: %s; re-reading the directory every %d s",
                 d->set->uris[d->cur], why, d->set->poll);
    d->sync_refused_logged = true;
    d->sync_refused = true;
    if (was_refreshing)
        d->sync_full = false;
    dir_loaded(d);
    dir_load_start(d);
}

bool dir_sync_message(dir *d, LDAPMessage *msg)
{
    if (d->sync_msgid < 0 || ldap_msgid(msg) != d->sync_msgid)
        return false;
    switch (ldap_msgtype(msg)) {
    case LDAP_RES_SEARCH_ENTRY:
        sync_entry(d, msg);
        ldap_msgfree(msg);
        break;
    case LDAP_RES_INTERMEDIATE:
        sync_info(d, msg);
        ldap_msgfree(msg);
        break;
    case LDAP_RES_SEARCH_RESULT:
        sync_result(d, msg);
        break;
    default:
        ldap_msgfree(msg);
    }
    return true;
}
