/* registry.h: the UCR-style key/value registry (spec: docs/registry.md).
 * Two parts: the table of known variables (type, default, allowed values,
 * descriptions) and the file itself (parsed preserving comments, unknown
 * keys and order, written back atomically). config.c turns a file into the
 * typed struct config; cli/ uses this for `plucs config`. */
#ifndef PLUCS_REGISTRY_H
#define PLUCS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { REG_BOOL, REG_INT, REG_ENUM, REG_STR, REG_PATH, REG_URLPATH } reg_type;

#define REG_F_RESTART  1u  /* needs listeners re-bound (the daemon does it itself) */
#define REG_F_REQUIRED 2u  /* no default; must be set for the daemon to start */
#define REG_F_STATIC   4u  /* cannot change while running: takes effect at restart */
#define REG_F_PREFIX  16u  /* key ends with '/': stands for every key below it
                              (plucs/s2s/route/DOMAIN) */
#define REG_F_INERT    8u  /* parsed and validated, but nothing uses it yet (plucs/s2s*:
                              federation is not built); `config search --verbose` says so */

typedef struct reg_var {
    const char *key;
    reg_type type;
    const char *def;        /* default as text; NULL = computed (hostname...) or none */
    int min, max;           /* REG_INT range */
    const char *choices;    /* REG_ENUM: "a,b,c" */
    unsigned flags;
    const char *desc_en;
    const char *desc_de;
} reg_var;

const reg_var *reg_var_find(const char *key);
const reg_var *reg_vars(size_t *count);
const char *reg_type_name(reg_type t);
/* The effective default of a variable: its def, or the computed one
 * (hostname, domainname, language); "" when there is none. Static storage. */
const char *reg_default(const reg_var *v);

/* Validates one value. 0 when fine; otherwise -1 and err holds one line:
 * `plucs/tls: invalid value 'maybe' (allowed: true, false, required)`.
 * Unknown keys: only checked for control characters (a value is one line). */
int reg_validate(const char *key, const char *value, char *err, size_t errlen);

/* What a variable accepts, in words ("an integer from 1 to 65535",
 * "true, false, required" ...); written into buf, returns buf. */
const char *reg_allowed(const reg_var *v, char *buf, size_t len);

/* true when key is a syntactically valid registry key: [a-z0-9/_.-]+ */
bool reg_key_valid(const char *key);

/* UCR's boolean words; returns false when the word is not a boolean. */
bool reg_parse_bool(const char *s, bool *out);

/* A parsed registry file. */
typedef struct registry registry;

/* Loads path; a missing file is an empty registry. NULL on I/O error (errno). */
registry *registry_load(const char *path);
registry *registry_new(void);
void registry_free(registry *r);
const char *registry_get_raw(const registry *r, const char *key);  /* NULL if absent */
const char *registry_get(const registry *r, const char *key);      /* value, else default */
void registry_set(registry *r, const char *key, const char *value);
bool registry_unset(registry *r, const char *key);                 /* false if absent */
/* Atomic write: temp file in the same folder, fsync, rename. 0 or -1 (errno). */
int registry_save(const registry *r, const char *path);
/* Iterates the keys present in the file, in file order. */
void registry_each(const registry *r, void (*fn)(void *ud, const char *key, const char *value), void *ud);
/* Validates every known variable present in the file (unknown keys are kept
 * and ignored); calls report per problem; returns the number of problems. */
int registry_check(const registry *r, void (*report)(void *ud, const char *line), void *ud);

/* --registry FILE (explicit, may be NULL), else $PLUCS_REGISTRY, else
 * /etc/univention/base.conf when it exists, else /etc/plucs/registry.conf. */
const char *registry_default_path(const char *explicit_path);

#endif
