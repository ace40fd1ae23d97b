/* dir_text.c: the XML-safety check and cleaner for directory strings (see
 * dir_text.h). */
#include "directory/dir_text.h"
#include "core/alloc.h"

#include <string.h>

/* Length of the valid UTF-8 character at s[0..len) (len > 0), or 0 when the
 * bytes there do not start one. *cp receives the code point. */
static size_t utf8_char(const unsigned char *s, size_t len, unsigned *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;   /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        *cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        *cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;                     /* overlong */
        else if (c == 0xED)
            hi = 0x9F;                     /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        *cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;                     /* overlong */
        else if (c == 0xF4)
            hi = 0x8F;                     /* above U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[k] & 0x3F);
    }
    return n;
}

static bool control(unsigned cp) { return cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r'; }
static bool nonchar(unsigned cp) { return cp == 0xFFFE || cp == 0xFFFF; }

bool dir_text_ok(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = utf8_char(s + i, len - i, &cp);
        if (n == 0 || control(cp) || nonchar(cp))
            return false;
        i += n;
    }
    return true;
}

char *dir_text_clean(const char *str, size_t len, size_t *outlen)
{
    static const char fffd[] = "\xEF\xBF\xBD";
    const unsigned char *s = (const unsigned char *)str;
    char *out = xmalloc(len * 3 + 1);      /* at worst every byte becomes U+FFFD */
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = utf8_char(s + i, len - i, &cp);
        if (n == 0) {
            memcpy(out + o, fffd, 3);
            o += 3;
            i++;
            continue;
        }
        if (nonchar(cp)) {
            memcpy(out + o, fffd, 3);
            o += 3;
        } else if (!control(cp)) {
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return out;
}

char *dir_text_dup(const char *s)
{
    return s ? dir_text_clean(s, strlen(s), NULL) : NULL;
}
