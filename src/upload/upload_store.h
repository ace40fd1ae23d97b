/* upload_store.h: the state of HTTP file upload (XEP-0363) shared by the
 * XMPP side (modules/mod_upload.c hands out slots) and the HTTP side
 * (transport/http_upload.c takes PUTs and serves GETs), which never know
 * each other: slots, the table of kept files, the per-user quota, the
 * counters, and the upload I/O thread.
 *
 * Files live in plucs/upload/dir under their random id (128 bits, hex):
 * "<id>" holds the bytes, "<id>.meta" the owner, content type, file name
 * and size (key=value lines), "<id>.part" a PUT in progress. The table is
 * rebuilt from the .meta files when the store opens, so quota and
 * counters survive restarts; leftover .part files are removed then.
 *
 * Every file operation of a PUT and the expiry job run on one upload I/O
 * thread (a FIFO of jobs), never on a worker: a worker hands over a body
 * chunk and is told on its own thread (worker_post) when it is on disk.
 * The table is guarded by one mutex, held only for memory work. */
#ifndef PLUCS_UPLOAD_STORE_H
#define PLUCS_UPLOAD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/worker.h"
#include "upload/upload_parse.h"

#define UPLOAD_SLOT_TTL 300              /* seconds a slot waits for its PUT */
#define UPLOAD_MAX_OPEN_SLOTS 64         /* per owner, so that slots cannot fill memory */
#define UPLOAD_EXPIRY_INTERVAL 3600      /* seconds between expiry runs (and after each reload) */

/* Opens the store for c's plucs/upload/dir: creates the folder, reads the
 * .meta files. Idempotent for the same folder; 0 (err may then hold a
 * warning), or -1 with a sentence naming plucs/upload/dir in err. Called at
 * start (mod_upload's init) and by the I/O thread after a reload that
 * turned plucs/upload on, never by a worker. Thread-safe. */
int upload_store_open(const config *c, char *err, size_t errlen);
/* Starts the I/O thread (from mod_upload's init); 0 or -1. */
int upload_store_start(char *err, size_t errlen);
/* Whether the store is open (the upload service can work). */
bool upload_store_ready(void);
/* Stops the I/O thread (pending PUTs are dropped) and frees everything. */
void upload_store_close(void);

typedef enum {
    UPLOAD_SLOT_OK,
    UPLOAD_SLOT_TOO_LARGE,     /* size > plucs/upload/max_size */
    UPLOAD_SLOT_QUOTA,         /* kept + reserved + size > plucs/upload/quota */
    UPLOAD_SLOT_TOO_MANY,      /* UPLOAD_MAX_OPEN_SLOTS slots of the owner wait for their PUT */
    UPLOAD_SLOT_FAILED,        /* store not open, no randomness */
} upload_slot_status;

/* A slot for owner (bare JID) to PUT name (checked by the caller) of size
 * bytes and ctype (NULL: application/octet-stream). On OK, id and secret
 * (UPLOAD_ID_LEN hex digits each) name it: the PUT must come within
 * UPLOAD_SLOT_TTL seconds with that secret, size and type. */
upload_slot_status upload_slot_new(const char *owner, const char *name, uint64_t size,
                                   const char *ctype, char id[UPLOAD_ID_LEN + 1],
                                   char secret[UPLOAD_ID_LEN + 1]);

/* A kept file: its path (in out) and content type (in ctype), false when
 * no such file is kept. */
bool upload_file_lookup(const char *id, char *path, size_t pathlen, char *ctype, size_t ctlen);

/* Counters for `plucs status` and /metrics: files and bytes kept now. */
void upload_counts(uint64_t *files, uint64_t *bytes);
/* Uploads stored since plucsd started, and their bytes. */
void upload_totals(uint64_t *uploads, uint64_t *bytes);

/* ---- a PUT ---- */

typedef struct upload_put upload_put;

/* Where the I/O thread reports: fn(conn, serial, status, n) runs on w. */
typedef struct upload_cb {
    worker *w;
    void (*fn)(uint64_t conn, uint32_t serial, int status, size_t n);
    uint64_t conn;
    uint32_t serial;
} upload_cb;

/* Claims slot id for a PUT of len bytes (has_len false: no Content-Length)
 * of type ctype (may be NULL) with secret. 0 and *out, or an HTTP status:
 * 403 (no such slot, wrong secret, expired), 409 (the file exists or
 * another PUT is under way), 413 (larger than the slot), 400 (other size,
 * no length, other type); *why says which. */
int upload_put_begin(const char *id, const char *secret, bool has_len, uint64_t len,
                     const char *ctype, upload_put **out, const char **why);
/* Queues len bytes (copied) for the file; cb reports status 0 (or 500)
 * and n = len once written. */
void upload_put_write(upload_put *p, const void *data, size_t len, const upload_cb *cb);
/* The body is complete: sync, write the metadata, move the file into place
 * (no replacing); cb reports 201, 409 or 500. p is gone afterwards. */
void upload_put_finish(upload_put *p, const upload_cb *cb);
/* The PUT failed (connection lost, timeout): the partial file is removed and
 * the slot can be used again until it expires. p is gone afterwards. */
void upload_put_abort(upload_put *p);

#endif
