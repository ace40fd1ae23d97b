/* fast_key.h: the server key FAST tokens (XEP-0484) are derived from, and
 * the FAST counters. The store keeps only a nonce and the SHA-256 of each
 * token (store_fast.h); the token itself is HMAC(key, nonce, account,
 * agent) (sasl2.h fast_token_derive), so a copy of the database alone logs
 * nobody in. The key lives in a file beside the SQLite database
 * (fast.key, mode 0600, made on first start); it is read once at start-up
 * (mod_fast.c), before the workers run. */
#ifndef PLUCS_FAST_KEY_H
#define PLUCS_FAST_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAST_KEY_LEN 32

/* Reads or creates the key beside the database of store_spec
 * ("sqlite:/path/db" -> /path/fast.key). 0, or -1 with a sentence in err
 * (then FAST is not offered). */
int fast_key_load(const char *store_spec, char *err, size_t errlen);
/* The key, or NULL when none was loaded. */
const unsigned char *fast_key(void);

/* Counters for `plucs status` and /metrics. */
void fast_count_login(bool ok);
void fast_count_issued(void);
void fast_counts(uint64_t *ok, uint64_t *failed, uint64_t *issued);

#endif
