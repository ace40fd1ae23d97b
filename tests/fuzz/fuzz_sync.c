/* fuzz_sync.c: libFuzzer target for the RFC 4533 decoding of the change
 * feed (src/directory/dir_sync.c): the value of a Sync State control (on
 * every entry of the feed) and of a Sync Info message (new cookie,
 * refreshDelete/refreshPresent, syncIdSet), both straight from the
 * directory server, and the Sync Request control value built from a cookie
 * the server sent. Checked: no crash, leak or out-of-bounds read; a decoded
 * cookie is a substring of the input; the UUID text is at most 36 characters; a
 * request built with a decoded cookie decodes back to the same mode and
 * cookie. The whole input is given to both decoders. */
#include <lber.h>
#include <ldap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "directory/dir_internal.h"

static void inside(const struct berval *c, const uint8_t *data, size_t size)
{
    if (c->bv_len && !memmem(data, size, c->bv_val, c->bv_len))
        abort();
}

static void request_round_trip(int mode, const struct berval *cookie)
{
    struct berval out = { 0, NULL };
    if (dir_sync_request_value(mode, cookie, &out) != 0)
        abort();
    BerElement *ber = ber_init(&out);
    if (!ber)
        abort();
    ber_int_t m = -1;
    struct berval c = { 0, NULL };
    ber_len_t len;
    if (ber_scanf(ber, "{e", &m) == LBER_ERROR || m != mode)
        abort();
    if (ber_peek_tag(ber, &len) == LBER_OCTETSTRING && ber_scanf(ber, "m", &c) == LBER_ERROR)
        abort();
    if (c.bv_len != (cookie ? cookie->bv_len : 0) ||
        (c.bv_len && memcmp(c.bv_val, cookie->bv_val, c.bv_len)))
        abort();
    ber_free(ber, 1);
    ber_memfree(out.bv_val);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy of exactly size bytes: reads past it are caught */
    char *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    struct berval v = { size, copy };

    int state;
    char key[40];
    struct berval cookie;
    if (dir_sync_state_decode(&v, &state, key, &cookie) == 0) {
        inside(&cookie, (const uint8_t *)copy, size);
        if (strlen(key) > 36)
            abort();
        request_round_trip(LDAP_SYNC_REFRESH_AND_PERSIST, &cookie);
        ber_memfree(cookie.bv_val);
    }
    dir_sync_info in;
    int rc = dir_sync_info_decode(&v, &in);
    inside(&in.cookie, (const uint8_t *)copy, size);
    if (rc == 0 && in.uuids)
        for (size_t i = 0; in.uuids[i].bv_val; i++)
            if (in.uuids[i].bv_len > size)
                abort();
    if (in.cookie.bv_len)
        request_round_trip(LDAP_SYNC_REFRESH_ONLY, &in.cookie);
    ber_bvarray_free(in.uuids);
    ber_memfree(in.cookie.bv_val);
    free(copy);
    return 0;
}
