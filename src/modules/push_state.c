/* push_state.c: the in-memory state of push notifications (push_state.h):
 * a small hash table of absent accounts with registrations, each with the
 * rate state of its registrations, and a ring of pushes awaiting an answer.
 * One mutex for all: it is taken only for messages to absent accounts. */
#include "modules/push_state.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define BUCKETS 256
#define PENDING_RING 256

typedef struct reg_state {
    struct reg_state *next;
    char *jid, *node;
    int64_t last_ms;       /* when the last push left; 0: never */
    bool timer;            /* a trailing push is scheduled */
} reg_state;

typedef struct acct_state {
    struct acct_state *next;
    char *bare;
    unsigned count;
    char *sender, *body;
    reg_state *regs;
} acct_state;

typedef struct pending {
    uint64_t id;
    char *bare, *jid, *node;
} pending;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static acct_state *table[BUCKETS];
static pending ring[PENDING_RING];
static uint64_t next_id = 1;

static size_t hash(const char *s)
{
    size_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h % BUCKETS;
}

static acct_state **acct_slot(const char *bare)
{
    acct_state **p = &table[hash(bare)];
    while (*p && strcmp((*p)->bare, bare))
        p = &(*p)->next;
    return p;
}

static acct_state *acct_get(const char *bare, bool create)
{
    acct_state **p = acct_slot(bare);
    if (!*p && create) {
        *p = xcalloc(1, sizeof **p);
        (*p)->bare = xstrdup(bare);
    }
    return *p;
}

static void reg_free(reg_state *r)
{
    free(r->jid);
    free(r->node);
    free(r);
}

static void acct_free(acct_state *a)
{
    while (a->regs) {
        reg_state *r = a->regs;
        a->regs = r->next;
        reg_free(r);
    }
    free(a->bare);
    free(a->sender);
    free(a->body);
    free(a);
}

static reg_state *reg_get(acct_state *a, const char *jid, const char *node, bool create)
{
    for (reg_state *r = a->regs; r; r = r->next)
        if (!strcmp(r->jid, jid) && !strcmp(r->node, node))
            return r;
    if (!create)
        return NULL;
    reg_state *r = xcalloc(1, sizeof *r);
    r->jid = xstrdup(jid);
    r->node = xstrdup(node);
    r->next = a->regs;
    a->regs = r;
    return r;
}

void push_summary_clear(push_summary *s)
{
    free(s->sender);
    free(s->body);
    memset(s, 0, sizeof *s);
}

void push_state_reset(const char *bare)
{
    pthread_mutex_lock(&mu);
    acct_state **p = acct_slot(bare);
    acct_state *a = *p;
    if (a) {
        /* Pending timers find no state and send nothing. */
        *p = a->next;
        acct_free(a);
    }
    pthread_mutex_unlock(&mu);
}

void push_state_note(const char *bare, const char *sender, const char *body)
{
    pthread_mutex_lock(&mu);
    acct_state *a = acct_get(bare, true);
    a->count++;
    free(a->sender);
    free(a->body);
    a->sender = sender ? xstrdup(sender) : NULL;
    a->body = body ? xstrdup(body) : NULL;
    pthread_mutex_unlock(&mu);
}

bool push_state_summary(const char *bare, push_summary *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&mu);
    acct_state *a = acct_get(bare, false);
    if (a && a->count) {
        out->count = a->count;
        out->sender = a->sender ? xstrdup(a->sender) : NULL;
        out->body = a->body ? xstrdup(a->body) : NULL;
    }
    pthread_mutex_unlock(&mu);
    return out->count > 0;
}

bool push_state_may_send(const char *bare, const char *jid, const char *node, int64_t now_ms,
                         int64_t interval_ms, int64_t *wait_ms, bool *schedule)
{
    bool ok = true;
    *wait_ms = 0;
    *schedule = false;
    pthread_mutex_lock(&mu);
    reg_state *r = reg_get(acct_get(bare, true), jid, node, true);
    if (r->last_ms && interval_ms > 0 && now_ms - r->last_ms < interval_ms) {
        ok = false;
        *wait_ms = interval_ms - (now_ms - r->last_ms);
        if (!r->timer)
            *schedule = r->timer = true;
    } else {
        r->last_ms = now_ms;
    }
    pthread_mutex_unlock(&mu);
    return ok;
}

bool push_state_trailing(const char *bare, const char *jid, const char *node, int64_t now_ms)
{
    bool ok = false;
    pthread_mutex_lock(&mu);
    acct_state *a = acct_get(bare, false);
    reg_state *r = a ? reg_get(a, jid, node, false) : NULL;
    if (r && r->timer) {
        r->timer = false;
        if (a->count) {
            r->last_ms = now_ms;
            ok = true;
        }
    }
    pthread_mutex_unlock(&mu);
    return ok;
}

void push_state_forget(const char *bare, const char *jid, const char *node)
{
    pthread_mutex_lock(&mu);
    acct_state *a = acct_get(bare, false);
    if (a) {
        for (reg_state **p = &a->regs; *p;) {
            reg_state *r = *p;
            if (!strcmp(r->jid, jid) && (!node || !strcmp(r->node, node))) {
                *p = r->next;
                reg_free(r);
            } else {
                p = &r->next;
            }
        }
    }
    pthread_mutex_unlock(&mu);
}

static void pending_clear(pending *p)
{
    free(p->bare);
    free(p->jid);
    free(p->node);
    memset(p, 0, sizeof *p);
}

uint64_t push_pending_add(const char *bare, const char *jid, const char *node)
{
    pthread_mutex_lock(&mu);
    uint64_t id = next_id++;
    pending *p = &ring[id % PENDING_RING];
    pending_clear(p);
    p->id = id;
    p->bare = xstrdup(bare);
    p->jid = xstrdup(jid);
    p->node = xstrdup(node);
    pthread_mutex_unlock(&mu);
    return id;
}

bool push_pending_take(uint64_t id, char **bare, char **jid, char **node)
{
    bool ok = false;
    pthread_mutex_lock(&mu);
    pending *p = &ring[id % PENDING_RING];
    if (id && p->id == id) {
        *bare = p->bare;
        *jid = p->jid;
        *node = p->node;
        memset(p, 0, sizeof *p);
        ok = true;
    }
    pthread_mutex_unlock(&mu);
    return ok;
}

void push_state_clear(void)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < BUCKETS; i++) {
        while (table[i]) {
            acct_state *a = table[i];
            table[i] = a->next;
            acct_free(a);
        }
    }
    for (size_t i = 0; i < PENDING_RING; i++)
        pending_clear(&ring[i]);
    pthread_mutex_unlock(&mu);
}
