/* upload_io.c: the upload I/O thread (see upload_store.h). Workers queue
 * jobs (write a body chunk, finish or abort a PUT); the thread runs them in
 * order and posts each answer back to the worker that asked. Between jobs,
 * at least once a second, it looks at the configuration: after a reload
 * that turned plucs/upload on it opens the store (so no worker ever
 * creates or scans the folder), and expiry is due: at start, every
 * UPLOAD_EXPIRY_INTERVAL seconds and after every reload (a new
 * configuration), it deletes files older than plucs/upload/expire_days
 * (by the data file's modification time) and files whose data is gone. */
#include "upload/upload_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"

typedef enum { JOB_WRITE, JOB_FINISH, JOB_ABORT } job_kind;

typedef struct job {
    struct job *next;
    job_kind kind;
    upload_put *put;
    char *data;
    size_t len;
    upload_cb cb;
    bool has_cb;
    int status;
} job;

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static job *head, **tail = &head;
static bool running, stopping;
static pthread_t thread;

static void put_free(upload_put *p)
{
    if (p->fd >= 0)
        close(p->fd);
    free(p->owner);
    free(p->ctype);
    free(p->name);
    free(p);
}

static void job_free(void *arg)
{
    job *j = arg;
    free(j->data);
    free(j);
}

static void job_answer(void *arg)
{
    job *j = arg;
    j->cb.fn(j->cb.conn, j->cb.serial, j->status, j->len);
    job_free(j);
}

static void enqueue(job *j)
{
    pthread_mutex_lock(&qlock);
    j->next = NULL;
    *tail = j;
    tail = &j->next;
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
}

/* ---- the jobs, on the I/O thread ---- */

static void do_write(job *j)
{
    upload_put *p = j->put;
    j->status = 0;
    if (p->failed)
        return;
    if (p->fd < 0) {
        char path[4200];
        up_path(path, sizeof path, p->id, ".part");
        p->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (p->fd < 0) {
            log_err("upload: cannot create %s (plucs/upload/dir): %s", path, strerror(errno));
            p->failed = true;
            j->status = 500;
            return;
        }
    }
    for (size_t off = 0; off < j->len;) {
        ssize_t n = write(p->fd, j->data + off, j->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_err("upload: writing file %s in plucs/upload/dir failed: %s", p->id,
                    strerror(errno));
            p->failed = true;
            j->status = 500;
            return;
        }
        off += (size_t)n;
    }
    p->written += j->len;
}

static int write_meta(const upload_put *p)
{
    char tmp[4200], path[4200];
    up_path(tmp, sizeof tmp, p->id, ".meta.part");
    up_path(path, sizeof path, p->id, ".meta");
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "owner=%s\ntype=%s\nname=%s\nsize=%llu\n", p->owner, p->ctype, p->name,
            (unsigned long long)p->size);
    int rc = fflush(f) || fsync(fileno(f)) ? -1 : 0;
    if (fclose(f))
        rc = -1;
    if (rc == 0 && rename(tmp, path))
        rc = -1;
    if (rc)
        unlink(tmp);
    return rc;
}

static void sync_dir(void)
{
    int fd = open(up_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static void do_finish(job *j)
{
    upload_put *p = j->put;
    char part[4200], path[4200];
    up_path(part, sizeof part, p->id, ".part");
    up_path(path, sizeof path, p->id, "");
    if (p->fd < 0 && !p->failed && p->size == 0)   /* an empty file: nothing written yet */
        p->fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    j->status = 201;
    if (p->failed || p->fd < 0 || p->written != p->size || fsync(p->fd)) {
        j->status = 500;
    } else if (access(path, F_OK) == 0) {
        j->status = 409;   /* never replace a kept file or its metadata */
    } else if (write_meta(p)) {
        log_err("upload: cannot write the metadata of %s in plucs/upload/dir: %s", p->id,
                strerror(errno));
        j->status = 500;
    } else if (link(part, path)) {   /* atomic, and never replaces a file */
        j->status = errno == EEXIST ? 409 : 500;
        if (errno != EEXIST)
            log_err("upload: cannot move %s into place: %s", p->id, strerror(errno));
    }
    unlink(part);
    if (j->status == 201) {
        sync_dir();
        up_file_add(p->id, p->owner, p->ctype, p->name, p->size);
        up_count_upload(p->size);
        log_info("upload: %s stored file %s (%llu bytes, %s)", p->owner, p->id,
                 (unsigned long long)p->size, p->ctype);
    } else if (j->status == 500 && p->written == p->size && !p->failed) {
        char meta[4200];   /* the metadata of a file that did not arrive */
        up_path(meta, sizeof meta, p->id, ".meta");
        unlink(meta);
    }
    up_slot_done(p->id, j->status == 201);
    put_free(p);
    j->put = NULL;
}

static void do_abort(job *j)
{
    upload_put *p = j->put;
    char part[4200];
    up_path(part, sizeof part, p->id, ".part");
    unlink(part);
    up_slot_done(p->id, false);
    log_info("upload: %s: upload of %s abandoned after %llu of %llu bytes", p->owner, p->id,
             (unsigned long long)p->written, (unsigned long long)p->size);
    put_free(p);
    j->put = NULL;
}

static void run_job(job *j)
{
    switch (j->kind) {
    case JOB_WRITE: do_write(j); break;
    case JOB_FINISH: do_finish(j); break;
    case JOB_ABORT: do_abort(j); break;
    }
    if (j->has_cb && j->cb.w) {
        free(j->data);   /* the answer needs no bytes */
        j->data = NULL;
        worker_post_drop(j->cb.w, job_answer, job_free, j);
    } else {
        job_free(j);
    }
}

/* ---- expiry ---- */

static void expire(int days)
{
    size_t n;
    char (*ids)[UPLOAD_ID_LEN + 1] = up_file_ids(&n);
    time_t cutoff = time(NULL) - (time_t)days * 86400;
    size_t removed = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4200], meta[4200];
        up_path(path, sizeof path, ids[i], "");
        up_path(meta, sizeof meta, ids[i], ".meta");
        struct stat st;
        bool gone = stat(path, &st) != 0;
        if (!gone && (days <= 0 || st.st_mtime >= cutoff))
            continue;
        unlink(path);
        unlink(meta);
        up_file_remove(ids[i]);
        removed++;
    }
    free(ids);
    if (removed)
        log_info("upload: expiry removed %zu files (plucs/upload/expire_days %d)", removed, days);
}

static void *io_main(void *arg)
{
    const config *seen = arg;   /* the configuration init opened the store with */
    time_t next_expiry = 0;
    pthread_mutex_lock(&qlock);
    for (;;) {
        while (head) {
            job *j = head;
            head = j->next;
            if (!head)
                tail = &head;
            pthread_mutex_unlock(&qlock);
            run_job(j);
            pthread_mutex_lock(&qlock);
        }
        /* a due expiry (start, hourly, new configuration) runs before a
         * stop is honoured: up_io_stop() returns with nothing pending */
        const config *c = config_current();
        time_t now = time(NULL);
        if (c && (c != seen || now >= next_expiry)) {
            bool reloaded = c != seen;
            seen = c;
            next_expiry = now + UPLOAD_EXPIRY_INTERVAL;
            int days = c->upload_expire_days;
            pthread_mutex_unlock(&qlock);
            if (reloaded && c->upload) {
                char err[512] = "";
                if (upload_store_open(c, err, sizeof err))
                    log_err("upload: %s; the upload service is off until it is fixed", err);
                else if (*err)
                    log_warn("upload: %s", err);
            }
            expire(days);
            pthread_mutex_lock(&qlock);
            continue;
        }
        if (stopping)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&qcond, &qlock, &ts);
    }
    pthread_mutex_unlock(&qlock);
    return NULL;
}

int up_io_start(char *err, size_t errlen)
{
    pthread_mutex_lock(&qlock);
    int rc = 0;
    if (!running) {
        stopping = false;
        if (pthread_create(&thread, NULL, io_main, (void *)config_current())) {
            snprintf(err, errlen, "cannot start the upload I/O thread");
            rc = -1;
        } else {
            running = true;
        }
    }
    pthread_mutex_unlock(&qlock);
    return rc;
}

void up_io_stop(void)
{
    pthread_mutex_lock(&qlock);
    bool was = running;
    stopping = true;
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
    if (was)
        pthread_join(thread, NULL);
    pthread_mutex_lock(&qlock);
    running = false;
    /* jobs queued after the thread ended (none normally): dropped */
    while (head) {
        job *j = head;
        head = j->next;
        if (j->put && j->kind != JOB_WRITE)
            put_free(j->put);
        job_free(j);
    }
    tail = &head;
    pthread_mutex_unlock(&qlock);
}

/* ---- the worker side ---- */

static job *job_new(job_kind kind, upload_put *p, const upload_cb *cb)
{
    job *j = xcalloc(1, sizeof *j);
    j->kind = kind;
    j->put = p;
    if (cb) {
        j->cb = *cb;
        j->has_cb = true;
    }
    return j;
}

void upload_put_write(upload_put *p, const void *data, size_t len, const upload_cb *cb)
{
    job *j = job_new(JOB_WRITE, p, cb);
    j->data = xmalloc(len ? len : 1);
    memcpy(j->data, data, len);
    j->len = len;
    enqueue(j);
}

void upload_put_finish(upload_put *p, const upload_cb *cb) { enqueue(job_new(JOB_FINISH, p, cb)); }

void upload_put_abort(upload_put *p) { enqueue(job_new(JOB_ABORT, p, NULL)); }
