/* store_offline.h: messages kept for users who were offline. Key: user,
 * each message with an id increasing in arrival order and its arrival time.
 * Rules: a push is reported only once durably committed; the per-user limit
 * (plucs/offline/max) is checked in the same transaction as the insert, so
 * concurrent pushes cannot overshoot it; reading deletes nothing: the
 * caller acknowledges what it delivered, so messages fetched just before a
 * crash are delivered again rather than lost. Conventions: store.h. */
#ifndef PLUCS_STORE_OFFLINE_H
#define PLUCS_STORE_OFFLINE_H

#include "store/store.h"

typedef struct store_offline_msg {
    int64_t id;            /* increasing in arrival order */
    int64_t stamp;         /* unix time in ms when store_offline_push was called */
    char *stanza;
} store_offline_msg;

typedef struct store_offline {
    store_status status;
    store_offline_msg *msgs;     /* in arrival order */
    size_t n;
    int64_t max_id;              /* id of the last message, 0 when none: pass to ack */
} store_offline;

void store_offline_free(store_offline *o);         /* NULL is fine */

typedef void (*store_offline_fn)(void *arg, store_offline *res);

/* Stores a message for user unless user already has max or more stored
 * (max <= 0: offline storage disabled). STORE_OK once durably committed
 * (value: the message id), STORE_FULL when not stored (value: the count),
 * STORE_ERROR. */
void store_offline_push(worker *reply_to, const char *user, const char *stanza_xml, int max,
                        store_done_fn cb, void *arg);
/* Every stored message of user, oldest first. Nothing is deleted: once the
 * messages have been handed to the client, call store_offline_ack() with
 * res->max_id, so a crash in between loses nothing (they come again). */
void store_offline_pop_all(worker *reply_to, const char *user, store_offline_fn cb, void *arg);
/* Deletes user's messages with id <= max_id. value: rows deleted. */
void store_offline_ack(worker *reply_to, const char *user, int64_t max_id,
                       store_done_fn cb, void *arg);
/* value: the number of messages stored for user. */
void store_offline_count(worker *reply_to, const char *user, store_done_fn cb, void *arg);

#endif
