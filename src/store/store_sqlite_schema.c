/* store_sqlite_schema.c: the SQLite back end's schema and its migrations.
 * PRAGMA user_version holds the version of the schema a database has;
 * migrations[i] brings version i to i + 1, each in its own transaction
 * together with the new user_version, so an interrupted upgrade leaves a
 * consistent database. A database written by a newer plucsd (a higher
 * version than we know) is refused rather than guessed at. To change the
 * schema, append a migration; never edit one that has shipped. */
#include "store/store_sqlite.h"

#include <stdio.h>

#include "core/log.h"

static const char *const migrations[] = {
    /* 0 -> 1: personal rosters, stored subscription requests, offline messages */
    "CREATE TABLE roster_items ("
    "  user TEXT NOT NULL,"
    "  contact TEXT NOT NULL,"
    "  name TEXT,"
    "  subscription TEXT NOT NULL DEFAULT 'none'"
    "    CHECK (subscription IN ('none','to','from','both')),"
    "  ask TEXT NOT NULL DEFAULT '' CHECK (ask IN ('','subscribe')),"
    "  approved INTEGER NOT NULL DEFAULT 0,"
    "  groups TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (user, contact)"
    ") WITHOUT ROWID;"
    "CREATE TABLE roster_version ("
    "  user TEXT PRIMARY KEY NOT NULL,"
    "  version INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE pending_in ("
    "  user TEXT NOT NULL,"
    "  contact TEXT NOT NULL,"
    "  stanza TEXT NOT NULL,"
    "  PRIMARY KEY (user, contact)"
    ") WITHOUT ROWID;"
    "CREATE TABLE offline ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user TEXT NOT NULL,"
    "  stamp INTEGER NOT NULL,"
    "  stanza TEXT NOT NULL"
    ");"
    "CREATE INDEX offline_user ON offline (user, id);",
    /* 1 -> 2: private XML (XEP-0049), blocklists (XEP-0191), last logout (XEP-0012) */
    "CREATE TABLE private_xml ("
    "  user TEXT NOT NULL,"
    "  ns TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  xml TEXT NOT NULL,"
    "  PRIMARY KEY (user, ns, name)"
    ") WITHOUT ROWID;"
    "CREATE TABLE blocklist ("
    "  user TEXT NOT NULL,"
    "  item TEXT NOT NULL,"
    "  PRIMARY KEY (user, item)"
    ") WITHOUT ROWID;"
    "CREATE TABLE last_activity ("
    "  user TEXT PRIMARY KEY NOT NULL,"
    "  stamp INTEGER NOT NULL,"
    "  status TEXT NOT NULL DEFAULT ''"
    ") WITHOUT ROWID;",
    /* 2 -> 3: persistent group chat rooms (XEP-0045) and their affiliations */
    "CREATE TABLE muc_rooms ("
    "  room TEXT PRIMARY KEY NOT NULL,"
    "  config TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  creator TEXT NOT NULL DEFAULT ''"
    ") WITHOUT ROWID;"
    "CREATE TABLE muc_affiliations ("
    "  room TEXT NOT NULL,"
    "  jid TEXT NOT NULL,"
    "  affiliation TEXT NOT NULL"
    "    CHECK (affiliation IN ('owner','admin','member','outcast')),"
    "  nick TEXT,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (room, jid)"
    ") WITHOUT ROWID;",
    /* 3 -> 4: push notification registrations (XEP-0357). A table of its
     * own, created IF NOT EXISTS, so that this step can be renumbered
     * against another migration added in parallel (the archive's) without
     * change. */
    "CREATE TABLE IF NOT EXISTS push_registrations ("
    "  user TEXT NOT NULL,"
    "  jid TEXT NOT NULL,"
    "  node TEXT NOT NULL,"
    "  form TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (user, jid, node)"
    ") WITHOUT ROWID;",
    /* 4 -> 5: the message archive (XEP-0313): id = (µs << 8) | sequence,
     * time-ordered; indexes for one owner's newest with one contact and
     * for one owner's whole archive; counts per contact. Preferences:
     * lists newline-separated. */
    "CREATE TABLE mam ("
    "  id INTEGER PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  with_jid TEXT NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  dir INTEGER NOT NULL,"
    "  stanza TEXT NOT NULL"
    ");"
    "CREATE INDEX mam_owner_with ON mam (owner, with_jid, id);"
    "CREATE INDEX mam_owner ON mam (owner, id);"
    /* RSM <count/> without a scan: rows per (owner, with), kept by triggers
     * so every writer (retention, forget, tools) keeps it right */
    "CREATE TABLE mam_counts ("
    "  owner TEXT NOT NULL,"
    "  with_jid TEXT NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  PRIMARY KEY (owner, with_jid)"
    ") WITHOUT ROWID;"
    "CREATE TRIGGER mam_count_ins AFTER INSERT ON mam BEGIN"
    "  INSERT INTO mam_counts (owner, with_jid, n) VALUES (NEW.owner, NEW.with_jid, 1)"
    "    ON CONFLICT (owner, with_jid) DO UPDATE SET n = n + 1;"
    " END;"
    "CREATE TRIGGER mam_count_del AFTER DELETE ON mam BEGIN"
    "  UPDATE mam_counts SET n = n - 1 WHERE owner = OLD.owner AND with_jid = OLD.with_jid;"
    " END;"
    "CREATE TABLE mam_prefs ("
    "  user TEXT PRIMARY KEY NOT NULL,"
    "  dflt INTEGER NOT NULL,"
    "  always TEXT NOT NULL DEFAULT '',"
    "  never TEXT NOT NULL DEFAULT ''"
    ") WITHOUT ROWID;",
    /* 5 -> 6: FAST tokens (XEP-0484), hashed (store_fast.h) */
    "CREATE TABLE IF NOT EXISTS fast_tokens ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user TEXT NOT NULL,"
    "  agent TEXT NOT NULL,"
    "  nonce TEXT NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  stamp TEXT NOT NULL,"
    "  expiry INTEGER NOT NULL,"
    "  count INTEGER NOT NULL DEFAULT -1"
    ");"
    "CREATE INDEX IF NOT EXISTS fast_tokens_user ON fast_tokens (user, agent);",
    /* 6 -> 7: privacy lists (XEP-0016): one row per list, items as text
     * (modules/privacy.h); the default list's name per user */
    "CREATE TABLE IF NOT EXISTS privacy_list ("
    "  user TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  items TEXT NOT NULL,"
    "  PRIMARY KEY (user, name)"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS privacy_default ("
    "  user TEXT PRIMARY KEY NOT NULL,"
    "  name TEXT NOT NULL"
    ") WITHOUT ROWID;",
    /* 7 -> 8: PubSub nodes and items (XEP-0060 service, XEP-0163 PEP) */
    "CREATE TABLE IF NOT EXISTS pubsub_nodes ("
    "  host TEXT NOT NULL,"
    "  node TEXT NOT NULL,"
    "  owner TEXT NOT NULL,"
    "  config TEXT NOT NULL,"
    "  affs TEXT NOT NULL DEFAULT '',"
    "  subs TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (host, node)"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS pubsub_items ("
    "  host TEXT NOT NULL,"
    "  node TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  publisher TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  PRIMARY KEY (host, node, id)"
    ");"
    "CREATE INDEX IF NOT EXISTS pubsub_items_seq ON pubsub_items (host, node, seq);",
    /* message of the day per domain (XEP-0133) and the version each account
     * was shown */
    "CREATE TABLE motd ("
    "  domain TEXT PRIMARY KEY NOT NULL,"
    "  body TEXT NOT NULL,"
    "  version INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE motd_seen ("
    "  user TEXT PRIMARY KEY NOT NULL,"
    "  domain TEXT NOT NULL,"
    "  version INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX motd_seen_domain ON motd_seen (domain);",
};

#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int store_schema_version(void) { return NMIGRATIONS; }

static int user_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int migrate_one(sqlite3 *db, int to, char **msg)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", to);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, msg) != SQLITE_OK)
        return -1;
    if (sqlite3_exec(db, migrations[to - 1], NULL, NULL, msg) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, msg) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, msg) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int store_schema_migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    int have = 0;
    if (user_version(db, &have) != 0) {
        snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    if (have > NMIGRATIONS) {
        snprintf(err, errlen,
                 "database %s has schema version %d, but this plucsd knows only up to %d; "
                 "it was written by a newer plucsd: refusing to use it", path, have, NMIGRATIONS);
        return -1;
    }
    if (have < 0) {
        snprintf(err, errlen, "database %s: invalid schema version %d", path, have);
        return -1;
    }
    for (int v = have + 1; v <= NMIGRATIONS; v++) {
        char *msg = NULL;
        if (migrate_one(db, v, &msg) != 0) {
            snprintf(err, errlen, "database %s: migration to schema version %d failed: %s", path,
                     v, msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            return -1;
        }
        log_info("store: %s migrated to schema version %d", path, v);
    }
    return 0;
}
