/* upload_internal.h: what upload_store.c (the table) and upload_io.c (the
 * I/O thread) share; nothing outside src/upload (and its unit test) includes it. */
#ifndef PLUCS_UPLOAD_INTERNAL_H
#define PLUCS_UPLOAD_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "upload/upload_store.h"

typedef struct up_file {
    struct up_file *next;
    char id[UPLOAD_ID_LEN + 1];
    char *owner, *ctype, *name;
    uint64_t size;
} up_file;

struct upload_put {
    char id[UPLOAD_ID_LEN + 1];
    char *owner, *ctype, *name;
    uint64_t size, written;
    int fd;                  /* the .part file, -1 until the first write */
    bool failed;             /* a write failed: the finish answers 500 */
};

/* The table (upload_store.c); every function takes the lock itself. */
extern char *up_dir;         /* the open folder (immutable while open) */
void up_file_add(const char *id, const char *owner, const char *ctype, const char *name,
                 uint64_t size);
/* Removes a kept file from the table and the quota. */
void up_file_remove(const char *id);
/* The ids of every kept file (malloc'ed array of n ids). */
char (*up_file_ids(size_t *n))[UPLOAD_ID_LEN + 1];
/* The slot of a finished or failed PUT: released (the file is kept or not). */
void up_slot_done(const char *id, bool kept);
/* A PUT stored a file of size bytes (the totals of upload_totals). */
void up_count_upload(uint64_t size);
/* Writes "<dir>/<id><suffix>" into out. */
void up_path(char *out, size_t len, const char *id, const char *suffix);

/* The I/O thread (upload_io.c). */
int up_io_start(char *err, size_t errlen);
void up_io_stop(void);

#endif
