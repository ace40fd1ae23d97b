/* store_wait.h: the scaffolding that test_store.c, test_store_xeps.c and
 * test_store_backend.c share, so it is written once: the store answers on a
 * worker thread (workers_start(1) in the group setup), and the test thread
 * waits for that answer. W holds the last result; done_cb takes the plain
 * (status, value) answers and each test file's kind-specific callbacks
 * (roster_cb, last_cb, ...) lock W.m, keep their result in W and call
 * wait_signal. Also the temporary folder each test runs in. Included by one
 * .c file each: everything is static. */
#ifndef PLUCS_TESTS_STORE_WAIT_H
#define PLUCS_TESTS_STORE_WAIT_H

#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/worker.h"
#include "store/store.h"
#include "store/store_blocklist.h"
#include "store/store_last.h"
#include "store/store_offline.h"
#include "store/store_pending.h"
#include "store/store_private.h"
#include "store/store_roster.h"

/* ---- waiting for a result on the test thread ---- */

static struct {
    pthread_mutex_t m;
    pthread_cond_t c;
    int ready;
    bool on_worker;         /* the last callback ran on a worker thread */
    store_status st;
    int64_t value;
    void *arg;              /* the arg the last callback was given */
    store_roster *roster;
    store_pending *pending;
    store_offline *offline;
    store_private *priv;
    store_blocklist *block;
    store_last *last;
} W = { .m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER };

/* The end of every callback: called with W.m held (the callback locked it
 * and stored its result), records st and arg, wakes the test thread and
 * unlocks. */
static void wait_signal(void *arg, store_status st)
{
    W.on_worker = worker_self() != NULL;
    W.st = st;
    W.arg = arg;
    W.ready = 1;
    pthread_cond_signal(&W.c);
    pthread_mutex_unlock(&W.m);
}

static void done_cb(void *arg, store_status st, int64_t value)
{
    pthread_mutex_lock(&W.m);
    W.value = value;
    wait_signal(arg, st);
}

/* Waits for the next callback; afterwards W holds its result. */
static void wait_result(void)
{
    pthread_mutex_lock(&W.m);
    while (!W.ready)
        pthread_cond_wait(&W.c, &W.m);
    W.ready = 0;
    pthread_mutex_unlock(&W.m);
}

static worker *w0(void) { return worker_get(0); }

static int group_teardown(void **state)
{
    workers_stop();
    return 0;
}

/* ---- the temporary folder ---- */

static char tmpdir[256];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* Makes tmpdir from a mkdtemp template ("/tmp/plucs-...-XXXXXX"). */
static void tmpdir_make(const char *template)
{
    snprintf(tmpdir, sizeof tmpdir, "%s", template);
    assert_non_null(mkdtemp(tmpdir));
}

/* Removes the folder dir and all below it. */
static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The teardown of every test: the store stopped, tmpdir removed. */
static int teardown_dir(void **state)
{
    store_stop();
    rm_tree(tmpdir);
    return 0;
}

#endif
