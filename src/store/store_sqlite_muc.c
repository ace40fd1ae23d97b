/* store_sqlite_muc.c: persistent group chat rooms in SQLite (tables
 * muc_rooms and muc_affiliations; rules: store_muc.h). */
#include "store/store_sqlite.h"

#include <stdlib.h>
#include <string.h>

/* Appends the affiliations of every room to res (rooms already loaded,
 * both sides sorted by room JID). */
static store_status load_affs(store_db *d, store_muc_rooms *res)
{
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT room, jid, affiliation, nick, reason FROM muc_affiliations "
        "ORDER BY room, jid");
    if (!st)
        return STORE_ERROR;
    size_t ri = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *room = (const char *)sqlite3_column_text(st, 0);
        if (!room)
            continue;
        while (ri < res->n && strcmp(res->rooms[ri].jid, room) < 0) {
            ri++;
            cap = 0;
        }
        if (ri >= res->n || strcmp(res->rooms[ri].jid, room) != 0)
            continue;       /* affiliations of a room that is not stored */
        store_muc_room *r = &res->rooms[ri];
        if (r->naffs == 0)
            cap = 0;
        r->affs = store_grow(r->affs, r->naffs, &cap, 8, sizeof *r->affs);
        store_muc_aff *a = &r->affs[r->naffs++];
        a->jid = store_column_strdup(st, 1);
        a->aff = store_column_strdup(st, 2);
        a->nick = store_column_strdup(st, 3);
        a->reason = store_column_strdup(st, 4);
        if (!a->reason)
            a->reason = store_strdup_or_null("");
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "muc load affiliations");
    return STORE_OK;
}

static store_status muc_load(store_conn *c, store_muc_rooms *res)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT room, config, creator, created FROM muc_rooms ORDER BY room");
    if (!st)
        return STORE_ERROR;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        res->rooms = store_grow(res->rooms, res->n, &cap, 8, sizeof *res->rooms);
        store_muc_room *r = &res->rooms[res->n++];
        memset(r, 0, sizeof *r);
        r->jid = store_column_strdup(st, 0);
        r->config = store_column_strdup(st, 1);
        r->creator = store_column_strdup(st, 2);
        r->created = sqlite3_column_int64(st, 3);
        if (!r->jid || !r->config)
            return store_db_fail(d, "muc load rooms");
        if (!r->creator)
            r->creator = store_strdup_or_null("");
    }
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "muc load rooms");
    return load_affs(d, res);
}

static store_status muc_put_room(store_conn *c, const char *room, const char *config,
                                 const char *creator, int64_t created)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO muc_rooms (room, config, created, creator) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (room) DO UPDATE SET config = excluded.config");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, room);
    store_bind_text(st, 2, config);
    sqlite3_bind_int64(st, 3, created);
    store_bind_text(st, 4, creator);
    return store_db_done(d, st, "muc save room");
}

static store_status muc_clear_affs(store_conn *c, const char *room)
{
    int64_t n = 0;
    return store_db_run_user(store_db_of(c), "DELETE FROM muc_affiliations WHERE room = ?1",
                             room, &n, "muc clear affiliations");
}

static store_status muc_put_aff(store_conn *c, const char *room, const char *jid,
                                const char *aff, const char *nick, const char *reason)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO muc_affiliations (room, jid, affiliation, nick, reason) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (room, jid) DO UPDATE SET "
        "affiliation = excluded.affiliation, nick = excluded.nick, reason = excluded.reason");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, room);
    store_bind_text(st, 2, jid);
    store_bind_text(st, 3, aff);
    store_bind_text(st, 4, nick);
    store_bind_text(st, 5, reason);
    return store_db_done(d, st, "muc set affiliation");
}

static store_status muc_del_aff(store_conn *c, const char *room, const char *jid,
                                int64_t *changed)
{
    return store_db_run_user_key(store_db_of(c),
                                 "DELETE FROM muc_affiliations WHERE room = ?1 AND jid = ?2",
                                 room, jid, changed, "muc remove affiliation");
}

static store_status muc_del_room(store_conn *c, const char *room, int64_t *removed)
{
    store_db *d = store_db_of(c);
    if (store_db_run_user(d, "DELETE FROM muc_affiliations WHERE room = ?1", room, removed,
                          "muc delete room") != STORE_OK)
        return STORE_ERROR;
    return store_db_run_user(d, "DELETE FROM muc_rooms WHERE room = ?1", room, removed,
                             "muc delete room");
}

const store_muc_ops store_sqlite_muc = {
    .load = muc_load,
    .put_room = muc_put_room,
    .clear_affs = muc_clear_affs,
    .put_aff = muc_put_aff,
    .del_aff = muc_del_aff,
    .del_room = muc_del_room,
};
