/* avatar_sniff.h: what XEP-0084 metadata says about an image (type, width,
 * height), read from its first bytes without decoding it. Pure functions,
 * so that the unit tests feed bytes directly (tests/unit/test_avatar_sniff.c). */
#ifndef PLUCS_AVATAR_SNIFF_H
#define PLUCS_AVATAR_SNIFF_H

#include <stddef.h>

typedef struct avatar_info {
    const char *type;       /* "image/png", "image/gif", "image/jpeg", "image/webp" */
    unsigned width, height; /* 0 when not found cheaply */
} avatar_info;

/* Fills *out from data (len bytes). Unknown formats count as image/jpeg
 * (the attribute is jpegPhoto) with no size. */
void avatar_sniff(const void *data, size_t len, avatar_info *out);

#endif
