/* test_avatar_sniff.c: image type and size from the header bytes
 * (avatar_sniff.h) for PNG, GIF, JPEG (segments before SOF), WebP, and
 * truncated or hostile input; and the photo hash the directory reader
 * keeps for each account (dir_entry.photo). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/dir_build.h"
#include "directory/dir_reader.h"
#include "modules/avatar_sniff.h"

static const unsigned char png[] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
    0, 0, 0x01, 0x00, 0, 0, 0, 0x60, 8, 6, 0, 0, 0,
};

static void test_png(void **state)
{
    (void)state;
    avatar_info ai;
    avatar_sniff(png, sizeof png, &ai);
    assert_string_equal(ai.type, "image/png");
    assert_int_equal(ai.width, 256);
    assert_int_equal(ai.height, 96);
    avatar_sniff(png, 20, &ai);               /* truncated: not a PNG we can read */
    assert_string_equal(ai.type, "image/jpeg");
    assert_int_equal(ai.width, 0);
}

static void test_gif_webp(void **state)
{
    (void)state;
    avatar_info ai;
    avatar_sniff("GIF89a\x05\x00\x04\x00", 10, &ai);
    assert_string_equal(ai.type, "image/gif");
    assert_int_equal(ai.width, 5);
    assert_int_equal(ai.height, 4);
    avatar_sniff("GIF87a", 6, &ai);
    assert_string_equal(ai.type, "image/gif");
    assert_int_equal(ai.width, 0);
    unsigned char webp[30] = "RIFF\0\0\0\0WEBPVP8X";
    webp[24] = 99;                             /* width - 1 = 99 */
    webp[27] = 49;                             /* height - 1 = 49 */
    avatar_sniff(webp, sizeof webp, &ai);
    assert_string_equal(ai.type, "image/webp");
    assert_int_equal(ai.width, 100);
    assert_int_equal(ai.height, 50);
}

static void test_jpeg(void **state)
{
    (void)state;
    /* SOI, APP0 (16 bytes), SOF0 with height 0x0120, width 0x00A0 */
    static const unsigned char j[] = {
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0x20, 0x00, 0xA0, 0x03,
    };
    avatar_info ai;
    avatar_sniff(j, sizeof j, &ai);
    assert_string_equal(ai.type, "image/jpeg");
    assert_int_equal(ai.width, 160);
    assert_int_equal(ai.height, 288);
    /* a segment length pointing past the end, and a zero length: no size, no overread */
    static const unsigned char bad[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xF0, 0, 0 };
    avatar_sniff(bad, sizeof bad, &ai);
    assert_int_equal(ai.width, 0);
    static const unsigned char zero[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00, 0, 0 };
    avatar_sniff(zero, sizeof zero, &ai);
    assert_int_equal(ai.width, 0);
    /* SOF header cut short */
    avatar_sniff(j, sizeof j - 3, &ai);
    assert_int_equal(ai.width, 0);
    /* unknown bytes and nothing at all */
    avatar_sniff("hello", 5, &ai);
    assert_string_equal(ai.type, "image/jpeg");
    avatar_sniff(NULL, 0, &ai);
    assert_string_equal(ai.type, "image/jpeg");
}

static void test_reader_photo_hash(void **state)
{
    (void)state;
    struct berval oc = { 21, (char *)"univentionXMPPAccount" }, uid = { 5, (char *)"carol" };
    struct berval ph = { 3, (char *)"abc" };
    struct berval *ocv[] = { &oc, NULL }, *uidv[] = { &uid, NULL }, *phv[] = { &ph, NULL };
    dir_attr attrs[] = { { "objectClass", ocv }, { "uid", uidv }, { "JPEGPHOTO", phv } };
    dir_entry *e = dir_entry_from_attrs("uid=carol", attrs, 3, NULL, NULL, NULL);
    assert_non_null(e);
    assert_string_equal(e->photo, "a9993e364706816aba3e25717850c26c9cd0d89d");   /* SHA-1("abc") */
    dir_entry *f = dir_entry_from_attrs("uid=carol", attrs, 2, NULL, NULL, NULL);
    assert_string_equal(f->photo, "");
    assert_false(dir_entry_same(e, f));       /* a photo change is a change */
    dir_entry_free(e);
    dir_entry_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_gif_webp),
        cmocka_unit_test(test_jpeg),
        cmocka_unit_test(test_reader_photo_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
