/* upload_store.c: the in-memory side of upload_store.h: the slots handed
 * out, the table of kept files (rebuilt from the .meta files at open), the
 * per-owner quota (bytes kept plus bytes reserved by open slots) and the
 * counters. One mutex guards all of it; no I/O happens under it. */
#include "upload/upload_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"

typedef struct up_slot {
    struct up_slot *next;
    char id[UPLOAD_ID_LEN + 1], secret[UPLOAD_ID_LEN + 1];
    char *owner, *ctype, *name;
    uint64_t size;
    time_t expires;
    bool busy;               /* a PUT is under way */
} up_slot;

typedef struct up_owner {
    struct up_owner *next;
    uint64_t kept, reserved;
    unsigned open_slots;
    char bare[];
} up_owner;

#define NBUCKETS 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
char *up_dir;
static up_slot *slots;
static up_file *files[NBUCKETS];
static up_owner *owners;
static uint64_t n_files, n_bytes;
static atomic_uint_fast64_t n_uploads, n_upload_bytes;

void up_count_upload(uint64_t size)
{
    atomic_fetch_add(&n_uploads, 1);
    atomic_fetch_add(&n_upload_bytes, size);
}

void upload_totals(uint64_t *uploads, uint64_t *bytes)
{
    *uploads = atomic_load(&n_uploads);
    *bytes = atomic_load(&n_upload_bytes);
}

static unsigned bucket(const char *id)
{
    unsigned v = 0;
    for (int i = 0; i < 2; i++)
        v = v * 16 + (unsigned)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
    return v % NBUCKETS;
}

void up_path(char *out, size_t len, const char *id, const char *suffix)
{
    snprintf(out, len, "%s/%s%s", up_dir ? up_dir : ".", id, suffix);
}

/* Under lock. */
static up_owner *owner_of(const char *bare)
{
    for (up_owner *o = owners; o; o = o->next)
        if (!strcmp(o->bare, bare))
            return o;
    size_t n = strlen(bare);
    up_owner *o = xcalloc(1, sizeof *o + n + 1);
    memcpy(o->bare, bare, n + 1);
    o->next = owners;
    owners = o;
    return o;
}

static void slot_free(up_slot *s)
{
    free(s->owner);
    free(s->ctype);
    free(s->name);
    free(s);
}

/* Under lock: forgets slots whose time is up and that no PUT holds. */
static void sweep_slots(time_t now)
{
    for (up_slot **pp = &slots; *pp;) {
        up_slot *s = *pp;
        if (!s->busy && s->expires <= now) {
            up_owner *o = owner_of(s->owner);
            o->reserved -= s->size;
            o->open_slots--;
            *pp = s->next;
            slot_free(s);
        } else {
            pp = &s->next;
        }
    }
}

/* Under lock. */
static up_slot *slot_find(const char *id)
{
    for (up_slot *s = slots; s; s = s->next)
        if (!strcmp(s->id, id))
            return s;
    return NULL;
}

/* Under lock. */
static up_file *file_find(const char *id)
{
    for (up_file *f = files[bucket(id)]; f; f = f->next)
        if (!strcmp(f->id, id))
            return f;
    return NULL;
}

void up_file_add(const char *id, const char *owner, const char *ctype, const char *name,
                 uint64_t size)
{
    pthread_mutex_lock(&lock);
    if (!file_find(id)) {
        up_file *f = xcalloc(1, sizeof *f);
        snprintf(f->id, sizeof f->id, "%s", id);
        f->owner = xstrdup(owner);
        f->ctype = xstrdup(ctype);
        f->name = xstrdup(name);
        f->size = size;
        f->next = files[bucket(id)];
        files[bucket(id)] = f;
        owner_of(owner)->kept += size;
        n_files++;
        n_bytes += size;
    }
    pthread_mutex_unlock(&lock);
}

void up_file_remove(const char *id)
{
    pthread_mutex_lock(&lock);
    for (up_file **pp = &files[bucket(id)]; *pp; pp = &(*pp)->next) {
        up_file *f = *pp;
        if (strcmp(f->id, id))
            continue;
        *pp = f->next;
        up_owner *o = owner_of(f->owner);
        o->kept = o->kept >= f->size ? o->kept - f->size : 0;
        n_files--;
        n_bytes -= f->size;
        free(f->owner);
        free(f->ctype);
        free(f->name);
        free(f);
        break;
    }
    pthread_mutex_unlock(&lock);
}

char (*up_file_ids(size_t *n))[UPLOAD_ID_LEN + 1]
{
    pthread_mutex_lock(&lock);
    size_t cap = n_files ? n_files : 1, k = 0;
    char (*ids)[UPLOAD_ID_LEN + 1] = xmalloc(cap * sizeof *ids);
    for (int b = 0; b < NBUCKETS; b++)
        for (up_file *f = files[b]; f && k < cap; f = f->next)
            memcpy(ids[k++], f->id, UPLOAD_ID_LEN + 1);
    pthread_mutex_unlock(&lock);
    *n = k;
    return ids;
}

void up_slot_done(const char *id, bool kept)
{
    pthread_mutex_lock(&lock);
    for (up_slot **pp = &slots; *pp; pp = &(*pp)->next) {
        up_slot *s = *pp;
        if (strcmp(s->id, id))
            continue;
        if (kept) {   /* the reservation became a kept file (up_file_add) */
            up_owner *o = owner_of(s->owner);
            o->reserved -= s->size;
            o->open_slots--;
            *pp = s->next;
            slot_free(s);
        } else {
            s->busy = false;
        }
        break;
    }
    pthread_mutex_unlock(&lock);
}

upload_slot_status upload_slot_new(const char *owner, const char *name, uint64_t size,
                                   const char *ctype, char id[UPLOAD_ID_LEN + 1],
                                   char secret[UPLOAD_ID_LEN + 1])
{
    const config *c = config_current();
    if (!upload_store_ready())
        return UPLOAD_SLOT_FAILED;
    if (size > (uint64_t)c->upload_max_size)
        return UPLOAD_SLOT_TOO_LARGE;
    if (upload_random_hex(id, UPLOAD_ID_LEN / 2) || upload_random_hex(secret, UPLOAD_ID_LEN / 2))
        return UPLOAD_SLOT_FAILED;
    upload_slot_status st = UPLOAD_SLOT_OK;
    pthread_mutex_lock(&lock);
    sweep_slots(time(NULL));
    up_owner *o = owner_of(owner);
    if (c->upload_quota > 0 && o->kept + o->reserved + size > (uint64_t)c->upload_quota) {
        st = UPLOAD_SLOT_QUOTA;
    } else if (o->open_slots >= UPLOAD_MAX_OPEN_SLOTS) {
        st = UPLOAD_SLOT_TOO_MANY;
    } else {
        up_slot *s = xcalloc(1, sizeof *s);
        memcpy(s->id, id, UPLOAD_ID_LEN + 1);
        memcpy(s->secret, secret, UPLOAD_ID_LEN + 1);
        s->owner = xstrdup(owner);
        s->ctype = xstrdup(ctype && *ctype ? ctype : "application/octet-stream");
        s->name = xstrdup(name);
        s->size = size;
        s->expires = time(NULL) + UPLOAD_SLOT_TTL;
        s->next = slots;
        slots = s;
        o->reserved += size;
        o->open_slots++;
    }
    pthread_mutex_unlock(&lock);
    return st;
}

bool upload_file_lookup(const char *id, char *path, size_t pathlen, char *ctype, size_t ctlen)
{
    pthread_mutex_lock(&lock);
    up_file *f = up_dir ? file_find(id) : NULL;
    if (f) {
        up_path(path, pathlen, id, "");
        snprintf(ctype, ctlen, "%s", f->ctype);
    }
    pthread_mutex_unlock(&lock);
    return f != NULL;
}

void upload_counts(uint64_t *nfiles, uint64_t *nbytes)
{
    pthread_mutex_lock(&lock);
    *nfiles = n_files;
    *nbytes = n_bytes;
    pthread_mutex_unlock(&lock);
}

int upload_put_begin(const char *id, const char *secret, bool has_len, uint64_t len,
                     const char *ctype, upload_put **out, const char **why)
{
    *out = NULL;
    int status = 0;
    pthread_mutex_lock(&lock);
    sweep_slots(time(NULL));
    up_slot *s = up_dir ? slot_find(id) : NULL;
    const char *want = ctype && *ctype ? ctype : "application/octet-stream";
    if (up_dir && file_find(id)) {
        status = 409, *why = "the file exists";
    } else if (!s || !secret || CRYPTO_memcmp(s->secret, secret, UPLOAD_ID_LEN)) {
        status = 403, *why = "no valid slot for this URL";
    } else if (s->busy) {
        status = 409, *why = "another upload to this slot is under way";
    } else if (!has_len) {
        status = 400, *why = "Content-Length is required";
    } else if (len > s->size) {
        status = 413, *why = "larger than the slot";
    } else if (len != s->size) {
        status = 400, *why = "Content-Length differs from the slot's size";
    } else if (strcasecmp(want, s->ctype)) {
        status = 400, *why = "Content-Type differs from the slot's";
    } else {
        s->busy = true;
        upload_put *p = xcalloc(1, sizeof *p);
        memcpy(p->id, s->id, sizeof p->id);
        p->owner = xstrdup(s->owner);
        p->ctype = xstrdup(s->ctype);
        p->name = xstrdup(s->name);
        p->size = s->size;
        p->fd = -1;
        *out = p;
    }
    pthread_mutex_unlock(&lock);
    return status;
}

/* ---- opening: the folder and the .meta files ---- */

/* Reads one .meta file; false when it is not one of ours. */
static bool read_meta(const char *path, char **owner, char **ctype, char **name, uint64_t *size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[1024];
    *owner = *ctype = *name = NULL;
    *size = 0;
    bool has_size = false;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        const char *v = eq + 1;
        if (!strcmp(line, "owner") && !*owner)
            *owner = xstrdup(v);
        else if (!strcmp(line, "type") && !*ctype)
            *ctype = xstrdup(v);
        else if (!strcmp(line, "name") && !*name)
            *name = xstrdup(v);
        else if (!strcmp(line, "size"))
            has_size = sscanf(v, "%" SCNu64, size) == 1;
    }
    fclose(f);
    if (*owner && *ctype && *name && has_size)
        return true;
    free(*owner);
    free(*ctype);
    free(*name);
    return false;
}

static int mkdirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0750) && errno != EEXIST ? -1 : 0;
}

/* Reads the folder: kept files into the table, leftovers removed. */
static void scan(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    size_t kept = 0, dropped = 0;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (len == UPLOAD_ID_LEN + 5 && !strcmp(n + UPLOAD_ID_LEN, ".part")) {
            unlinkat(dirfd(d), n, 0);   /* a PUT cut off by a stop */
            dropped++;
            continue;
        }
        if (len != UPLOAD_ID_LEN + 5 || strcmp(n + UPLOAD_ID_LEN, ".meta"))
            continue;
        char id[UPLOAD_ID_LEN + 1], path[4200], data[4200];
        memcpy(id, n, UPLOAD_ID_LEN);
        id[UPLOAD_ID_LEN] = 0;
        snprintf(path, sizeof path, "%s/%s", dir, n);
        snprintf(data, sizeof data, "%s/%s", dir, id);
        char *owner, *ctype, *name;
        uint64_t size;
        struct stat st;
        if (stat(data, &st) || !read_meta(path, &owner, &ctype, &name, &size)) {
            unlink(path);   /* metadata of a file that is gone */
            dropped++;
            continue;
        }
        up_file_add(id, owner, ctype, name, (uint64_t)st.st_size);
        free(owner);
        free(ctype);
        free(name);
        kept++;
    }
    closedir(d);
    log_info("upload: %zu files kept in %s (%zu leftovers removed)", kept, dir, dropped);
}

int upload_store_open(const config *c, char *err, size_t errlen)
{
    const char *dir = c && c->upload_dir && *c->upload_dir ? c->upload_dir : NULL;
    pthread_mutex_lock(&lock);
    bool same = up_dir && dir && !strcmp(up_dir, dir);
    bool other = up_dir && !same;
    pthread_mutex_unlock(&lock);
    if (same)
        return 0;
    if (other) {
        snprintf(err, errlen, "plucs/upload/dir changed to '%s'; it takes effect when plucsd "
                 "restarts (still using '%s')", dir ? dir : "", up_dir);
        return 0;
    }
    if (!dir) {
        snprintf(err, errlen, "plucs/upload/dir is empty");
        return -1;
    }
    if (mkdirs(dir) || access(dir, R_OK | W_OK | X_OK)) {
        snprintf(err, errlen, "plucs/upload/dir '%s' is not a usable folder: %s", dir,
                 strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "plucs/upload/dir '%s' is not a folder", dir);
        return -1;
    }
    pthread_mutex_lock(&lock);
    if (!up_dir)
        up_dir = xstrdup(dir);
    pthread_mutex_unlock(&lock);
    scan(dir);
    return 0;
}

int upload_store_start(char *err, size_t errlen) { return up_io_start(err, errlen); }

bool upload_store_ready(void)
{
    pthread_mutex_lock(&lock);
    bool ok = up_dir != NULL;
    pthread_mutex_unlock(&lock);
    return ok;
}

void upload_store_close(void)
{
    up_io_stop();
    pthread_mutex_lock(&lock);
    while (slots) {
        up_slot *s = slots;
        slots = s->next;
        slot_free(s);
    }
    for (int b = 0; b < NBUCKETS; b++)
        while (files[b]) {
            up_file *f = files[b];
            files[b] = f->next;
            free(f->owner);
            free(f->ctype);
            free(f->name);
            free(f);
        }
    while (owners) {
        up_owner *o = owners;
        owners = o->next;
        free(o);
    }
    n_files = n_bytes = 0;
    free(up_dir);
    up_dir = NULL;
    pthread_mutex_unlock(&lock);
}
