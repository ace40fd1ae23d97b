/* store_sqlite_pubsub.c: PubSub nodes and items in SQLite (tables
 * pubsub_nodes and pubsub_items; rules: store_pubsub.h). */
#include "store/store_sqlite.h"

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static store_status ps_load(store_conn *c, const store_pubsub_sink *sink)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "SELECT host, node, owner, config, affs, subs FROM pubsub_nodes");
    if (!st)
        return STORE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        sink->node(sink->ud, col(st, 0), col(st, 1), col(st, 2), col(st, 3), col(st, 4),
                   col(st, 5));
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "pubsub load nodes");
    st = store_db_stmt(d,
        "SELECT host, node, id, publisher, seq, ts, payload FROM pubsub_items ORDER BY seq");
    if (!st)
        return STORE_ERROR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        sink->item(sink->ud, col(st, 0), col(st, 1), col(st, 2), col(st, 3),
                   sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5), col(st, 6));
    if (rc != SQLITE_DONE)
        return store_db_fail(d, "pubsub load items");
    return STORE_OK;
}

static store_status ps_node_put(store_conn *c, const char *host, const char *node,
                                const char *owner, const char *config, const char *affs,
                                const char *subs)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO pubsub_nodes (host, node, owner, config, affs, subs) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (host, node) DO UPDATE SET "
        "owner = excluded.owner, config = excluded.config, affs = excluded.affs, "
        "subs = excluded.subs");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, host);
    store_bind_text(st, 2, node);
    store_bind_text(st, 3, owner);
    store_bind_text(st, 4, config);
    store_bind_text(st, 5, affs);
    store_bind_text(st, 6, subs);
    return store_db_done(d, st, "pubsub node put");
}

static store_status ps_item_del(store_conn *c, const char *host, const char *node,
                                const char *id)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = id
        ? store_db_stmt(d, "DELETE FROM pubsub_items WHERE host = ?1 AND node = ?2 AND id = ?3")
        : store_db_stmt(d, "DELETE FROM pubsub_items WHERE host = ?1 AND node = ?2");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, host);
    store_bind_text(st, 2, node);
    if (id)
        store_bind_text(st, 3, id);
    return store_db_done(d, st, "pubsub item delete");
}

static store_status ps_node_del(store_conn *c, const char *host, const char *node)
{
    store_db *d = store_db_of(c);
    if (ps_item_del(c, host, node, NULL) != STORE_OK)
        return STORE_ERROR;
    sqlite3_stmt *st = store_db_stmt(d, "DELETE FROM pubsub_nodes WHERE host = ?1 AND node = ?2");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, host);
    store_bind_text(st, 2, node);
    return store_db_done(d, st, "pubsub node delete");
}

static store_status ps_item_put(store_conn *c, const char *host, const char *node, const char *id,
                                const char *publisher, int64_t seq, int64_t ts,
                                const char *payload, int keep)
{
    store_db *d = store_db_of(c);
    sqlite3_stmt *st = store_db_stmt(d,
        "INSERT INTO pubsub_items (host, node, id, publisher, seq, ts, payload) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (host, node, id) DO UPDATE SET "
        "publisher = excluded.publisher, seq = excluded.seq, ts = excluded.ts, "
        "payload = excluded.payload");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, host);
    store_bind_text(st, 2, node);
    store_bind_text(st, 3, id);
    store_bind_text(st, 4, publisher);
    sqlite3_bind_int64(st, 5, seq);
    sqlite3_bind_int64(st, 6, ts);
    store_bind_text(st, 7, payload);
    if (store_db_done(d, st, "pubsub item put") != STORE_OK)
        return STORE_ERROR;
    if (keep <= 0)
        return STORE_OK;
    st = store_db_stmt(d,
        "DELETE FROM pubsub_items WHERE host = ?1 AND node = ?2 AND seq <= "
        "(SELECT seq FROM pubsub_items WHERE host = ?1 AND node = ?2 "
        " ORDER BY seq DESC LIMIT 1 OFFSET ?3)");
    if (!st)
        return STORE_ERROR;
    store_bind_text(st, 1, host);
    store_bind_text(st, 2, node);
    sqlite3_bind_int(st, 3, keep);
    return store_db_done(d, st, "pubsub item trim");
}

static store_status ps_forget(store_conn *c, const char *user, int64_t *removed)
{
    store_db *d = store_db_of(c);
    if (store_db_run_user(d, "DELETE FROM pubsub_items WHERE host = ?1", user, removed,
                          "pubsub forget items") != STORE_OK)
        return STORE_ERROR;
    return store_db_run_user(d, "DELETE FROM pubsub_nodes WHERE host = ?1", user, removed,
                             "pubsub forget nodes");
}

const store_pubsub_ops store_sqlite_pubsub = {
    .load = ps_load,
    .node_put = ps_node_put,
    .node_del = ps_node_del,
    .item_put = ps_item_put,
    .item_del = ps_item_del,
    .forget = ps_forget,
};
