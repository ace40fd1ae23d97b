/* store_sqlite_mam.c: the message archive in SQLite (tables mam and
 * mam_prefs; rules: store_mam.h). The id is the rowid, time-ordered, so a
 * page is an index range scan of (owner, with_jid, id) or (owner, id): the
 * newest 50 with one contact read 51 index entries whatever the archive's
 * size. The RSM count comes from mam_counts (kept by triggers) when no
 * time or id range narrows the query; otherwise, and for the index of a
 * page, counting scans are capped, and beyond the cap the number is left
 * out (-1) rather than paid for. Preference lists are stored
 * newline-separated. */
#include "store/store_sqlite.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

/* Whether jid is one of the lines of list. */
static bool list_has(const char *list, const char *jid)
{
    size_t n = strlen(jid);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, jid, n))
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static bool allowed(store_db *d, const char *owner, const char *with, bool in_roster, bool *ok)
{
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT dflt, always, never FROM mam_prefs WHERE user = ?1");
    if (!st)
        return false;
    store_bind_text(st, 1, owner);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        *ok = true;
        return true;
    }
    if (rc != SQLITE_ROW) {
        store_db_fail(d, "archive prefs");
        return false;
    }
    int dflt = sqlite3_column_int(st, 0);
    const char *always = (const char *)sqlite3_column_text(st, 1);
    const char *never = (const char *)sqlite3_column_text(st, 2);
    if (list_has(always, with))
        *ok = true;
    else if (list_has(never, with))
        *ok = false;
    else
        *ok = dflt == MAM_PREF_ALWAYS || (dflt == MAM_PREF_ROSTER && in_roster);
    sqlite3_reset(st);
    return true;
}

static store_status mam_put(store_conn *c, const char *owner, int64_t id, const char *with,
                            int dir, const char *stanza, bool in_roster, int64_t *stored)
{
    store_db *d = store_db_of(c);
    bool ok = false;
    if (!allowed(d, owner, with, in_roster, &ok))
        return STORE_ERROR;
    *stored = 0;
    if (!ok)
        return STORE_OK;
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO mam (id, owner, with_jid, ts, dir, stanza) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    store_bind_text(st, 2, owner);
    store_bind_text(st, 3, with);
    sqlite3_bind_int64(st, 4, id >> STORE_MAM_SEQ_BITS);
    sqlite3_bind_int(st, 5, dir);
    store_bind_text(st, 6, stanza);
    if (store_db_done(d, st, "archive put") != STORE_OK)
        return STORE_ERROR;
    *stored = 1;
    return STORE_OK;
}

static store_status exists(store_db *d, const char *owner, int64_t id)
{
    sqlite3_stmt *st = store_db_stmt(d, "SELECT 1 FROM mam WHERE id = ?1 AND owner = ?2");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    store_bind_text(st, 2, owner);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOT_FOUND : store_db_fail(d, "archive id");
}

#define COUNT_CAP 100000      /* rows a filtered <count/> may scan */
#define INDEX_CAP 20000       /* rows an <first index=''/> may scan on each side */

/* The one integer a bound count statement yields, or -1 (logged). */
static int64_t count_row(store_db *d, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_ROW) {
        store_db_fail(d, "archive count");
        return -1;
    }
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}

/* Rows of q's owner (and with) in [lo, hi], scanning at most cap + 1 index
 * entries: cap + 1 means "more than cap". -1 on error. */
static int64_t count_range(store_db *d, const store_mam_query *q, int64_t lo, int64_t hi,
                           int64_t cap)
{
    if (lo > hi)
        return 0;
    sqlite3_stmt *st = store_db_stmt(d, q->with
        ? "SELECT COUNT(*) FROM (SELECT 1 FROM mam WHERE owner = ?1 AND with_jid = ?2"
          " AND id BETWEEN ?3 AND ?4 LIMIT ?5)"
        : "SELECT COUNT(*) FROM (SELECT 1 FROM mam WHERE owner = ?1"
          " AND id BETWEEN ?3 AND ?4 LIMIT ?5)");
    if (!st)
        return -1;
    store_bind_text(st, 1, q->owner);
    if (q->with)
        store_bind_text(st, 2, q->with);
    sqlite3_bind_int64(st, 3, lo);
    sqlite3_bind_int64(st, 4, hi);
    sqlite3_bind_int64(st, 5, cap + 1);
    return count_row(d, st);
}

/* The rows of the owner (with one contact, or all) from mam_counts. */
static int64_t count_all(store_db *d, const store_mam_query *q)
{
    sqlite3_stmt *st = store_db_stmt(d, q->with
        ? "SELECT COALESCE(SUM(n), 0) FROM mam_counts WHERE owner = ?1 AND with_jid = ?2"
        : "SELECT COALESCE(SUM(n), 0) FROM mam_counts WHERE owner = ?1");
    if (!st)
        return -1;
    store_bind_text(st, 1, q->owner);
    if (q->with)
        store_bind_text(st, 2, q->with);
    return count_row(d, st);
}

/* res->count and res->first_index, each -1 when it would cost more than
 * its cap (RSM lets a server leave them out). */
static store_status count_page(store_db *d, const store_mam_query *q, store_mam_result *res)
{
    int64_t lo = q->lo, hi = q->hi;
    if (lo <= 0 && hi == INT64_MAX) {
        res->count = count_all(d, q);
        if (res->count < 0)
            return STORE_ERROR;
    } else {
        res->count = count_range(d, q, lo, hi, COUNT_CAP);
        if (res->count < 0)
            return STORE_ERROR;
        if (res->count > COUNT_CAP)
            res->count = -1;
    }
    res->first_index = -1;
    if (!res->n)
        return STORE_OK;
    int64_t before = count_range(d, q, lo, res->msgs[0].id - 1, INDEX_CAP);
    if (before < 0)
        return STORE_ERROR;
    if (before <= INDEX_CAP) {
        res->first_index = before;
    } else if (res->count >= 0) {
        int64_t after = count_range(d, q, res->msgs[res->n - 1].id + 1, hi, INDEX_CAP);
        if (after < 0)
            return STORE_ERROR;
        if (after <= INDEX_CAP)
            res->first_index = res->count - after - (int64_t)res->n;
    }
    return STORE_OK;
}

static sqlite3_stmt *page_stmt(store_db *d, bool with, bool backwards)
{
    if (with)
        return store_db_stmt(d, backwards
            ? "SELECT id, with_jid, dir, stanza FROM mam WHERE owner = ?1 AND with_jid = ?2"
              " AND id BETWEEN ?3 AND ?4 ORDER BY id DESC LIMIT ?5"
            : "SELECT id, with_jid, dir, stanza FROM mam WHERE owner = ?1 AND with_jid = ?2"
              " AND id BETWEEN ?3 AND ?4 ORDER BY id ASC LIMIT ?5");
    return store_db_stmt(d, backwards
        ? "SELECT id, with_jid, dir, stanza FROM mam WHERE owner = ?1"
          " AND id BETWEEN ?3 AND ?4 ORDER BY id DESC LIMIT ?5"
        : "SELECT id, with_jid, dir, stanza FROM mam WHERE owner = ?1"
          " AND id BETWEEN ?3 AND ?4 ORDER BY id ASC LIMIT ?5");
}

static store_status mam_query(store_conn *c, const store_mam_query *q, store_mam_result *res)
{
    store_db *d = store_db_of(c);
    int64_t named[4] = { q->after, q->before, q->check_ids[0], q->check_ids[1] };
    for (int i = 0; i < 4; i++) {
        if (named[i] > 0) {
            store_status s = exists(d, q->owner, named[i]);
            if (s != STORE_OK)
                return s;
        }
    }
    int64_t lo = q->lo, hi = q->hi;
    int64_t plo = lo, phi = hi;
    bool backwards = false;
    if (q->after > 0) {
        if (q->after + 1 > plo)
            plo = q->after + 1;
    } else if (q->before > 0) {
        if (q->before - 1 < phi)
            phi = q->before - 1;
        backwards = true;
    } else if (q->last) {
        backwards = true;
    }
    size_t cap = 0;
    if (q->max > 0 && plo <= phi) {
        sqlite3_stmt *st = page_stmt(d, q->with != NULL, backwards);
        if (!st)
            return STORE_ERROR;
        store_bind_text(st, 1, q->owner);
        if (q->with)
            store_bind_text(st, 2, q->with);
        sqlite3_bind_int64(st, 3, plo);
        sqlite3_bind_int64(st, 4, phi);
        sqlite3_bind_int(st, 5, q->max + 1);
        int rc;
        size_t got = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (++got > (size_t)q->max)
                continue;
            res->msgs = store_grow(res->msgs, res->n, &cap, 16, sizeof *res->msgs);
            store_mam_msg *m = &res->msgs[res->n++];
            m->id = sqlite3_column_int64(st, 0);
            m->ts_us = m->id >> STORE_MAM_SEQ_BITS;
            m->with = store_column_strdup(st, 1);
            m->dir = sqlite3_column_int(st, 2);
            m->stanza = store_column_strdup(st, 3);
            if (!m->with)
                m->with = xstrdup("");
            if (!m->stanza)
                m->stanza = xstrdup("");
        }
        if (rc != SQLITE_DONE)
            return store_db_fail(d, "archive query");
        res->complete = got <= (size_t)q->max;
    } else {
        res->complete = q->max > 0 || count_range(d, q, lo, hi, 0) == 0;
    }
    if (backwards) {
        for (size_t i = 0; i < res->n / 2; i++) {
            store_mam_msg t = res->msgs[i];
            res->msgs[i] = res->msgs[res->n - 1 - i];
            res->msgs[res->n - 1 - i] = t;
        }
    }
    return count_page(d, q, res);
}

static char *join(char *const *v)
{
    size_t len = 1;
    for (size_t i = 0; v && v[i]; i++)
        len += strlen(v[i]) + 1;
    char *s = xmalloc(len), *p = s;
    *p = '\0';
    for (size_t i = 0; v && v[i]; i++) {
        size_t n = strlen(v[i]);
        if (p != s)
            *p++ = '\n';
        memcpy(p, v[i], n);
        p += n;
        *p = '\0';
    }
    return s;
}

static char **split(const char *s)
{
    size_t n = 0;
    for (const char *p = s; p && *p; p++)
        if (*p == '\n')
            n++;
    char **v = xcalloc(n + 2, sizeof *v);
    size_t k = 0;
    for (const char *p = s; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len) {
            v[k] = xmalloc(len + 1);
            memcpy(v[k], p, len);
            v[k++][len] = '\0';
        }
        if (!e)
            break;
        p = e + 1;
    }
    return v;
}

static store_status mam_prefs_get(store_conn *c, const char *user, store_mam_prefs *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT dflt, always, never FROM mam_prefs WHERE user = ?1");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, user);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return store_db_fail(d, "archive prefs");
    res->dflt = sqlite3_column_int(st, 0);
    res->always = split((const char *)sqlite3_column_text(st, 1));
    res->never = split((const char *)sqlite3_column_text(st, 2));
    sqlite3_reset(st);
    return STORE_OK;
}

static store_status mam_prefs_set(store_conn *c, const char *user, const store_mam_prefs *p)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT OR REPLACE INTO mam_prefs (user, dflt, always, never) VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return STORE_ERROR;
    char *a = join(p->always), *n = join(p->never);
    store_bind_text(st, 1, user);
    sqlite3_bind_int(st, 2, p->dflt);
    store_bind_text(st, 3, a);
    store_bind_text(st, 4, n);
    store_status r = store_db_done(d, st, "archive prefs set");
    free(a);
    free(n);
    return r;
}

static store_status mam_expire(store_conn *c, int64_t before_id, int batch, int64_t *removed)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "DELETE FROM mam WHERE id IN (SELECT id FROM mam WHERE id < ?1 ORDER BY id LIMIT ?2)");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, before_id);
    sqlite3_bind_int(st, 2, batch);
    if (store_db_done(d, st, "archive expire") != STORE_OK)
        return STORE_ERROR;
    *removed = sqlite3_changes(d->db);
    return STORE_OK;
}

static store_status mam_forget(store_conn *c, const char *user, int64_t *removed)
{
    store_db *d = store_db_of(c);
    if (store_db_run_user(d, "DELETE FROM mam WHERE owner = ?1", user, removed,
                          "archive forget") != STORE_OK ||
        store_db_run_user(d, "DELETE FROM mam_counts WHERE owner = ?1", user, removed,
                          "archive forget") != STORE_OK)
        return STORE_ERROR;
    return store_db_run_user(d, "DELETE FROM mam_prefs WHERE user = ?1", user, removed,
                             "archive forget");
}

const store_mam_ops store_sqlite_mam = {
    .put = mam_put,
    .query = mam_query,
    .prefs_get = mam_prefs_get,
    .prefs_set = mam_prefs_set,
    .expire = mam_expire,
    .forget = mam_forget,
};
