/* fast_key.c: the FAST token key file and counters (see fast_key.h). */
#include "xmpp/fast_key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned char key[FAST_KEY_LEN];
static bool loaded;
static atomic_uint_fast64_t n_ok, n_failed, n_issued;

const unsigned char *fast_key(void) { return loaded ? key : NULL; }

static int read_all(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int fast_key_load(const char *spec, char *err, size_t errlen)
{
    loaded = false;
    if (!spec || strncmp(spec, "sqlite:", 7) != 0 || spec[7] != '/') {
        snprintf(err, errlen, "plucs/store is not an SQLite file: no place for the FAST key");
        return -1;
    }
    char path[4096];
    const char *db = spec + 7;
    const char *slash = strrchr(db, '/');
    if ((size_t)(slash - db) + sizeof "/fast.key" > sizeof path) {
        snprintf(err, errlen, "store path too long");
        return -1;
    }
    snprintf(path, sizeof path, "%.*s/fast.key", (int)(slash - db), db);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        int rc = read_all(fd, key, sizeof key);
        close(fd);
        if (rc != 0) {
            snprintf(err, errlen, "%s: shorter than %d bytes", path, FAST_KEY_LEN);
            return -1;
        }
        loaded = true;
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (RAND_bytes(key, sizeof key) != 1) {
        snprintf(err, errlen, "no random bytes for the FAST key");
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    bool ok = write(fd, key, sizeof key) == (ssize_t)sizeof key;
    ok = fsync(fd) == 0 && ok;
    close(fd);
    if (!ok) {
        unlink(path);
        snprintf(err, errlen, "%s: could not be written", path);
        return -1;
    }
    loaded = true;
    return 0;
}

void fast_count_login(bool ok) { atomic_fetch_add(ok ? &n_ok : &n_failed, 1); }
void fast_count_issued(void) { atomic_fetch_add(&n_issued, 1); }

void fast_counts(uint64_t *ok, uint64_t *failed, uint64_t *issued)
{
    *ok = atomic_load(&n_ok);
    *failed = atomic_load(&n_failed);
    *issued = atomic_load(&n_issued);
}
