/* quota.c: rate-limited logging of quota refusals (see quota.h). A small
 * fixed table keyed by a hash of (user, limit): a collision only costs an
 * extra line, never a lost one, and memory stays constant whatever the
 * number of users. */
#include "modules/quota.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "core/log.h"

#define SLOTS 256
#define INTERVAL 60     /* seconds between two lines for one user and limit */

typedef struct slot {
    uint64_t key;       /* 0: empty */
    time_t last;
    unsigned long suppressed;
} slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static slot table[SLOTS];

static uint64_t key_of(const char *user, const char *what)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = user; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = what; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h ? h : 1;
}

void quota_refused(const char *user, const char *what, long limit)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t key = key_of(user, what);
    slot *sl = &table[key % SLOTS];
    unsigned long suppressed = 0;
    pthread_mutex_lock(&lock);
    if (sl->key == key && ts.tv_sec - sl->last < INTERVAL) {
        sl->suppressed++;
        pthread_mutex_unlock(&lock);
        return;
    }
    if (sl->key == key)
        suppressed = sl->suppressed;
    sl->key = key;
    sl->last = ts.tv_sec;
    sl->suppressed = 0;
    pthread_mutex_unlock(&lock);
    if (suppressed)
        log_info("quota: %s refused by %s (limit %ld); %lu more refusals not logged since the previous line",
                 user, what, limit, suppressed);
    else
        log_info("quota: %s refused by %s (limit %ld)", user, what, limit);
}
