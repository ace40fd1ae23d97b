/* fuzz_server.h: the part of plucsd the stream-level fuzz targets
 * (fuzz_stream.c, fuzz_ws.c) run against, set up once per process. What is
 * real: the configuration (config_load of a small registry file), one worker
 * thread with its event loop and inbox, the session table, the routing
 * table, the router and its bounces, the XML parser, serializer, JIDs, SASL
 * PLAIN decoding, xmpp_stream (features, STARTTLS decision, SASL, bind,
 * held stanzas, stream errors) and the transports' own code. What is not:
 * the directory thread (no LDAP) and the modules (no storage thread).
 * Two link-time seams (-Wl,--wrap, see the Makefile) stand in for the
 * directory: directory_snapshot() returns a snapshot built in memory with
 * dir_snapshot_build() (domain a.test, accounts alice, bob, carol in one
 * group), and directory_auth() answers on the caller's worker, like the
 * real one, OK for an account of that snapshot with the password "secret",
 * "temporary failure" for the password "unavailable", else not-authorized.
 * Iq to the server are answered by the router (service-unavailable: no
 * module registered). TLS: a throw-away self-signed EC certificate is loaded
 * so that STARTTLS is offered; the fake transports only pretend the
 * handshake happened (the bytes after <proceed/> are taken as already
 * decrypted). Log output is off unless PLUCS_FUZZ_LOGLEVEL is set. */
#ifndef PLUCS_FUZZ_SERVER_H
#define PLUCS_FUZZ_SERVER_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/worker.h"
#include "directory/dir_build.h"
#include "directory/directory.h"
#include "router/router.h"
#include "router/session.h"
#include "transport/tls.h"

static dir_snapshot *fz_snap;
static worker *fz_worker;
static pthread_mutex_t fz_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fz_cond = PTHREAD_COND_INITIALIZER;
static bool fz_done;

/* A new client address for every input: the SASL brute-force throttle
 * (src/xmpp/auth_throttle.c) keys on it, and an address that failed five
 * times would make every later input wait seconds for its answer. */
static const char *fz_peer(void)
{
    static char buf[32];
    static unsigned n;
    n++;
    snprintf(buf, sizeof buf, "10.%u.%u.%u", (n >> 16) & 255, (n >> 8) & 255, n & 255);
    return buf;
}

/* ---- the directory seams ---- */

dir_snapshot *__wrap_directory_snapshot(void);
dir_snapshot *__wrap_directory_snapshot(void) { return dir_snapshot_ref(fz_snap); }

typedef struct fz_auth {
    void (*done)(void *arg, dir_auth_result r);
    void *arg;
    dir_auth_result r;
} fz_auth;

static void fz_auth_run(void *p)
{
    fz_auth *a = p;
    a->done(a->arg, a->r);
    free(a);
}

static void fz_auth_drop(void *p) { free(p); }

void __wrap_directory_auth(worker *reply_to, const char *localpart, const char *domain,
                           const char *password, void (*done)(void *arg, dir_auth_result r),
                           void *arg);
void __wrap_directory_auth(worker *reply_to, const char *localpart, const char *domain,
                           const char *password, void (*done)(void *arg, dir_auth_result r),
                           void *arg)
{
    fz_auth *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    a->done = done;
    a->arg = arg;
    a->r = DIR_AUTH_FAILED;
    if (password && !strcmp(password, "unavailable"))
        a->r = DIR_AUTH_UNAVAILABLE;
    else if (localpart && domain && password && !strcmp(password, "secret") &&
             dir_snapshot_account(fz_snap, localpart, domain))
        a->r = DIR_AUTH_OK;
    worker_post_drop(reply_to, fz_auth_run, fz_auth_drop, a);
}

/* ---- set-up ---- */

static void fz_user(dir_entry **ents, size_t *n, const char *uid)
{
    dir_entry *e = calloc(1, sizeof *e);
    char dn[100];
    snprintf(dn, sizeof dn, "uid=%s,cn=users,dc=test", uid);
    e->key = strdup(dn);
    e->dn = strdup(dn);
    e->kinds = DIR_E_ACCOUNT;
    e->enabled = true;
    e->uid = strdup(uid);
    e->domain = strdup("a.test");
    ents[(*n)++] = e;
}

static char **fz_list(const char *a, const char *b, const char *c, size_t *n)
{
    char **v = calloc(4, sizeof *v);
    *n = 0;
    if (a) v[(*n)++] = strdup(a);
    if (b) v[(*n)++] = strdup(b);
    if (c) v[(*n)++] = strdup(c);
    return v;
}

/* A self-signed P-256 certificate and key in one PEM file (for tls_load). */
static void fz_cert(const char *path)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!k || !x)
        abort();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_set_pubkey(x, k);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"a.test", -1, -1, 0);
    X509_set_issuer_name(x, nm);
    if (!X509_sign(x, k, EVP_sha256()))
        abort();
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    PEM_write_X509(f, x);
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(k);
}

static void fz_report(void *ud, const char *line) { fprintf(stderr, "fuzz: registry: %s\n", line); }

/* Once per process: configuration, snapshot, one worker. */
static void fz_server_init(const char *extra_registry)
{
    char dir[] = "/tmp/plucs-fuzz-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char reg[64], cert[64];
    snprintf(reg, sizeof reg, "%s/registry.conf", dir);
    snprintf(cert, sizeof cert, "%s/plucs.pem", dir);
    fz_cert(cert);
    FILE *f = fopen(reg, "w");
    if (!f)
        abort();
    fprintf(f, "hostname: fuzz\ndomainname: a.test\nldap/base: dc=test\n"
               "ldap/hostdn: cn=fuzz,dc=test\nplucs/ldap/uri: ldap://127.0.0.1:9/\nplucs/certfile: %s\nplucs/rundir: %s\n"
               "plucs/store: sqlite:%s/plucs.db\nplucs/threads: 1\nplucs/max_stanza_size: 4096\n%s",
            cert, dir, dir, extra_registry ? extra_registry : "");
    fclose(f);
    config *c = config_load(reg, fz_report, NULL);
    if (!c)
        abort();
    config_set_current(c);
    const char *lv = getenv("PLUCS_FUZZ_LOGLEVEL");
    log_set_level(lv ? atoi(lv) : PLOG_NONE);
    char err[512];
    if (tls_load(cert, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz: %s\n", err);
        abort();
    }
    unlink(cert);
    unlink(reg);
    rmdir(dir);

    static dir_entry *ents[8];
    size_t n = 0, n1, n2;
    fz_user(ents, &n, "alice");
    fz_user(ents, &n, "bob");
    fz_user(ents, &n, "carol");
    dir_entry *g = calloc(1, sizeof *g);
    g->key = strdup("cn=staff,cn=groups,dc=test");
    g->dn = strdup(g->key);
    g->kinds = DIR_E_GROUP;
    g->enabled = true;
    g->cn = strdup("staff");
    g->glabel = strdup("Staff");
    g->members = fz_list("alice", "bob", "carol", &n1);
    g->nmembers = n1;
    g->mgroups = fz_list("staff", NULL, NULL, &n2);
    g->nmgroups = n2;
    ents[n++] = g;
    char *domains[] = { "a.test" };
    dir_build_opts o = { .filter = true, .msg_allow = false, .pres_allow = false,
                         .complete = true, .serial = 1 };
    fz_snap = dir_snapshot_build(domains, 1, ents, n, &o);
    if (!fz_snap)
        abort();
    for (size_t i = 0; i < n; i++)
        dir_entry_free(ents[i]);

    sessions_init(1);
    router_init(1);
    if (workers_start(1) != 0)
        abort();
    fz_worker = worker_get(0);
}

/* Runs fn(arg) on the worker and waits until something calls fz_finish()
 * (a job chain ends), or gives up after timeout_s and runs abandon(arg) on
 * the worker (then waits for its fz_finish()). */
static void fz_finish(void)
{
    pthread_mutex_lock(&fz_lock);
    fz_done = true;
    pthread_cond_signal(&fz_cond);
    pthread_mutex_unlock(&fz_lock);
}

static bool fz_wait(int timeout_s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_s;
    pthread_mutex_lock(&fz_lock);
    int rc = 0;
    while (!fz_done && rc == 0)
        rc = pthread_cond_timedwait(&fz_cond, &fz_lock, &ts);
    bool done = fz_done;
    pthread_mutex_unlock(&fz_lock);
    return done;
}

static void fz_run(void (*fn)(void *), void (*abandon)(void *), void *arg, int timeout_s)
{
    fz_done = false;
    worker_post(fz_worker, fn, arg);
    if (fz_wait(timeout_s))
        return;
    /* nothing legitimate takes seconds here (the directory answers at once,
     * timers are minutes away), but a loaded CI machine may: say so, end it */
    fprintf(stderr, "fuzz: input not finished after %d s; ending it\n", timeout_s);
    worker_post(fz_worker, abandon, arg);
    if (!fz_wait(30))
        abort();   /* the worker is stuck: a finding */
}

#endif
