/* store_fast.h: FAST tokens (XEP-0484). Key: (user, agent) = the account
 * and the client's SASL2 user-agent id. A token itself is never stored:
 * only its nonce (the server re-derives the token from it with its key,
 * xmpp/sasl2.h fast_token_derive) and the SHA-256 of the token. Rules:
 * - issue keeps at most two tokens per (user, agent): the new one and the
 *   newest before it (still valid until the new one is used, XEP-0484);
 * - using a token removes the older ones of its (user, agent), or itself
 *   when the client asked for invalidation; its count must grow;
 * - revoke removes every token of a user (password change, account gone);
 * - expired tokens are never returned and are removed on the next get. */
#ifndef PLUCS_STORE_FAST_H
#define PLUCS_STORE_FAST_H

#include "store/store.h"

typedef struct store_fast_token {
    int64_t id;
    char *nonce;
    char *hash;        /* hex SHA-256 of the token */
    char *stamp;       /* the account's password stamp at issue time */
    int64_t expiry;    /* unix seconds */
    int64_t count;     /* highest <fast count/> seen, -1 none */
} store_fast_token;

typedef struct store_fast_list {
    store_status status;
    store_fast_token *v;   /* newest first */
    size_t n;
} store_fast_list;

void store_fast_list_free(store_fast_list *l);   /* NULL is fine */
typedef void (*store_fast_list_fn)(void *arg, store_fast_list *res);

void store_fast_issue(worker *reply_to, const char *user, const char *agent, const char *nonce,
                      const char *hash, const char *stamp, int64_t expiry, store_done_fn cb,
                      void *arg, store_arg_free_fn arg_free);
/* Unexpired tokens of (user, agent) at now (unix seconds). */
void store_fast_get(worker *reply_to, const char *user, const char *agent, int64_t now,
                    store_fast_list_fn cb, void *arg, store_arg_free_fn arg_free);
/* Token id of (user, agent) was used (count -1: none given). */
void store_fast_used(worker *reply_to, const char *user, const char *agent, int64_t id,
                     bool invalidate, int64_t count, store_done_fn cb, void *arg,
                     store_arg_free_fn arg_free);
/* Removes every token of user; value = tokens removed. */
void store_fast_revoke(worker *reply_to, const char *user, store_done_fn cb, void *arg,
                       store_arg_free_fn arg_free);

#endif
