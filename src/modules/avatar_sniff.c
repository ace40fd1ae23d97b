/* avatar_sniff.c: image type and size from the magic bytes and headers of
 * PNG (IHDR), GIF (logical screen), WebP (VP8/VP8L/VP8X) and JPEG (the
 * first SOFn marker), bounds-checked on every read (avatar_sniff.h). */
#include "modules/avatar_sniff.h"

#include <stdint.h>
#include <string.h>

static unsigned be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static unsigned le16(const unsigned char *p) { return (unsigned)p[1] << 8 | p[0]; }
static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* JPEG: walk the segments up to the first start-of-frame (SOF0..SOF15 but
 * DHT C4, JPG C8, DAC CC). */
static void jpeg_size(const unsigned char *p, size_t len, avatar_info *out)
{
    size_t i = 2;
    while (i + 4 <= len) {
        if (p[i] != 0xFF)
            return;
        unsigned m = p[i + 1];
        if (m == 0xFF) {            /* fill byte */
            i++;
            continue;
        }
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            i += 2;                 /* markers without a length */
            continue;
        }
        if (m == 0xD9 || m == 0xDA) /* end of image, start of scan */
            return;
        unsigned seg = be16(p + i + 2);
        if (seg < 2)
            return;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (i + 9 > len)
                return;
            out->height = be16(p + i + 5);
            out->width = be16(p + i + 7);
            return;
        }
        i += 2 + (size_t)seg;
    }
}

static void webp_size(const unsigned char *p, size_t len, avatar_info *out)
{
    if (len < 30)
        return;
    if (!memcmp(p + 12, "VP8 ", 4) && p[23] == 0x9D && p[24] == 0x01 && p[25] == 0x2A) {
        out->width = le16(p + 26) & 0x3FFF;
        out->height = le16(p + 28) & 0x3FFF;
    } else if (!memcmp(p + 12, "VP8L", 4) && p[20] == 0x2F) {
        uint32_t b = (uint32_t)p[21] | (uint32_t)p[22] << 8 | (uint32_t)p[23] << 16 |
                     (uint32_t)p[24] << 24;
        out->width = (b & 0x3FFF) + 1;
        out->height = ((b >> 14) & 0x3FFF) + 1;
    } else if (!memcmp(p + 12, "VP8X", 4)) {
        out->width = ((unsigned)p[24] | (unsigned)p[25] << 8 | (unsigned)p[26] << 16) + 1;
        out->height = ((unsigned)p[27] | (unsigned)p[28] << 8 | (unsigned)p[29] << 16) + 1;
    }
}

void avatar_sniff(const void *data, size_t len, avatar_info *out)
{
    const unsigned char *p = data;
    out->type = "image/jpeg";
    out->width = out->height = 0;
    if (!p)
        return;
    if (len >= 24 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8) && !memcmp(p + 12, "IHDR", 4)) {
        out->type = "image/png";
        uint32_t w = be32(p + 16), h = be32(p + 20);
        if (w <= 65535 && h <= 65535) {
            out->width = w;
            out->height = h;
        }
    } else if (len >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6))) {
        out->type = "image/gif";
        if (len >= 10) {
            out->width = le16(p + 6);
            out->height = le16(p + 8);
        }
    } else if (len >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) {
        out->type = "image/webp";
        webp_size(p, len, out);
    } else if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
        jpeg_size(p, len, out);
    }
}
