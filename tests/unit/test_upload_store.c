/* test_upload_store.c: the upload store (src/upload/upload_store.c and
 * upload_io.c) on a real temporary folder: slot limits (max_size, quota
 * with open slots reserved), the PUT claim's answers (403, 409, 413, 400),
 * a PUT written by the I/O thread and moved into place, an abandoned PUT,
 * the table rebuilt from the .meta files after a close, and expiry after a
 * reload by the data file's modification time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include <cmocka.h>

#include "core/config.h"
#include "upload/upload_internal.h"
#include "upload/upload_store.h"

static char dir[64];

static config *make_config(int expire_days)
{
    config *c = calloc(1, sizeof *c);
    c->upload = true;
    c->upload_dir = strdup(dir);
    c->upload_url = strdup("");
    c->upload_max_size = 1000;
    c->upload_quota = 1500;
    c->upload_expire_days = expire_days;
    return c;
}

/* Lets the upload I/O thread run every job queued so far and a due expiry:
 * stopping it drains both, then it starts again (no polling, no sleep). */
static void io_drain(void)
{
    char err[256] = "";
    up_io_stop();
    assert_int_equal(up_io_start(err, sizeof err), 0);
}

static bool kept(const char *id)
{
    char path[256], ct[128];
    return upload_file_lookup(id, path, sizeof path, ct, sizeof ct);
}

static void test_store(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/plucs-upload-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    config_set_current(make_config(30));
    char err[512] = "";
    assert_int_equal(upload_store_open(config_current(), err, sizeof err), 0);
    assert_int_equal(upload_store_start(err, sizeof err), 0);
    assert_true(upload_store_ready());

    char id[UPLOAD_ID_LEN + 1], secret[UPLOAD_ID_LEN + 1], id2[UPLOAD_ID_LEN + 1],
        secret2[UPLOAD_ID_LEN + 1];
    assert_int_equal(upload_slot_new("a@x", "f.txt", 1001, NULL, id, secret),
                     UPLOAD_SLOT_TOO_LARGE);
    assert_int_equal(upload_slot_new("a@x", "f.txt", 1000, "text/plain", id, secret),
                     UPLOAD_SLOT_OK);
    assert_int_equal(upload_slot_new("a@x", "g.txt", 600, NULL, id2, secret2), UPLOAD_SLOT_QUOTA);
    assert_int_equal(upload_slot_new("b@x", "g.txt", 600, NULL, id2, secret2), UPLOAD_SLOT_OK);

    upload_put *p = NULL;
    const char *why = NULL;
    char wrong[UPLOAD_ID_LEN + 1];
    memcpy(wrong, secret, sizeof wrong);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    assert_int_equal(upload_put_begin(id, wrong, true, 1000, "text/plain", &p, &why), 403);
    assert_int_equal(upload_put_begin(id, NULL, true, 1000, "text/plain", &p, &why), 403);
    assert_int_equal(upload_put_begin(id, secret, false, 0, "text/plain", &p, &why), 400);
    assert_int_equal(upload_put_begin(id, secret, true, 1001, "text/plain", &p, &why), 413);
    assert_int_equal(upload_put_begin(id, secret, true, 999, "text/plain", &p, &why), 400);
    assert_int_equal(upload_put_begin(id, secret, true, 1000, "image/png", &p, &why), 400);
    assert_int_equal(upload_put_begin(id, secret, true, 1000, "TEXT/PLAIN", &p, &why), 0);
    assert_non_null(p);
    upload_put *busy = NULL;
    assert_int_equal(upload_put_begin(id, secret, true, 1000, "text/plain", &busy, &why), 409);

    char data[1000];
    memset(data, 'q', sizeof data);
    upload_put_write(p, data, 400, NULL);
    upload_put_write(p, data + 400, 600, NULL);
    upload_put_finish(p, NULL);
    io_drain();
    assert_true(kept(id));
    uint64_t files = 0, bytes = 0;
    upload_counts(&files, &bytes);
    assert_true(files == 1 && bytes == 1000);
    assert_int_equal(upload_put_begin(id, secret, true, 1000, "text/plain", &busy, &why), 409);
    char path[256];
    snprintf(path, sizeof path, "%s/%s.part", dir, id);
    assert_int_not_equal(access(path, F_OK), 0);
    /* a's 1000 kept bytes leave room for 500 */
    assert_int_equal(upload_slot_new("a@x", "h.txt", 501, NULL, id2, secret2), UPLOAD_SLOT_QUOTA);

    /* an abandoned PUT: nothing stays, the slot works again */
    char id3[UPLOAD_ID_LEN + 1], secret3[UPLOAD_ID_LEN + 1];
    assert_int_equal(upload_slot_new("a@x", "h.txt", 500, NULL, id3, secret3), UPLOAD_SLOT_OK);
    assert_int_equal(upload_put_begin(id3, secret3, true, 500, NULL, &p, &why), 0);
    upload_put_write(p, data, 100, NULL);
    upload_put_abort(p);
    io_drain();                       /* the abort is done: the slot is free again */
    p = NULL;
    assert_int_equal(upload_put_begin(id3, secret3, true, 500, NULL, &p, &why), 0);
    assert_non_null(p);
    upload_put_abort(p);

    /* closed and opened again: the kept file is read back from its .meta */
    upload_store_close();
    assert_false(upload_store_ready());
    assert_int_equal(upload_store_open(config_current(), err, sizeof err), 0);
    assert_int_equal(upload_store_start(err, sizeof err), 0);
    upload_counts(&files, &bytes);
    assert_true(files == 1 && bytes == 1000);
    char ct[128];
    assert_true(upload_file_lookup(id, path, sizeof path, ct, sizeof ct));
    assert_string_equal(ct, "text/plain");

    /* expiry: 3 days old, expire_days 2 applied by a reload */
    struct utimbuf old = { time(NULL) - 3 * 86400, time(NULL) - 3 * 86400 };
    assert_int_equal(utime(path, &old), 0);
    config_set_current(make_config(2));
    io_drain();                       /* the new configuration's expiry has run */
    assert_false(kept(id));
    assert_int_not_equal(access(path, F_OK), 0);
    upload_counts(&files, &bytes);
    assert_true(files == 0 && bytes == 0);
    upload_store_close();
    rmdir(dir);
    config_free_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
