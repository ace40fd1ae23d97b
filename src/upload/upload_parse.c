/* upload_parse.c: see upload_parse.h. Everything here judges bytes that
 * came from the network (a slot request, a request line, a header), so
 * each function accepts only a narrow, explicit shape. */
#include "upload/upload_parse.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmpp/utf8.h"

bool upload_filename_ok(const char *name)
{
    if (!name)
        return false;
    size_t n = strlen(name);
    if (n == 0 || n > UPLOAD_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
            return false;
    return utf8_valid(name, n);
}

bool upload_ctype_ok(const char *ctype)
{
    if (!ctype)
        return false;
    size_t n = strlen(ctype);
    if (n < 3 || n > UPLOAD_CTYPE_MAX)
        return false;
    /* type "/" subtype: RFC 9110 tokens */
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    size_t i = 0, slash = 0, subtype = 0;
    for (; i < n && ctype[i] != ';'; i++) {
        char ch = ctype[i];
        if (ch == '/') {
            if (slash || i == 0)
                return false;
            slash = i;
            continue;
        }
        if (ch == ' ' || ch == '\t')
            break;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              strchr(tchar, ch)))
            return false;
        if (slash)
            subtype++;
    }
    if (!slash || !subtype)
        return false;
    while (i < n && (ctype[i] == ' ' || ctype[i] == '\t'))
        i++;
    if (i < n && ctype[i] != ';')
        return false;   /* "type/subtype junk" */
    /* parameters: printable ASCII only (no CR, LF or other controls) */
    for (; i < n; i++)
        if ((unsigned char)ctype[i] < 0x20 || (unsigned char)ctype[i] >= 0x7f)
            return false;
    return true;
}

bool upload_ctype_inline(const char *ctype)
{
    if (!ctype)
        return false;
    static const char *const ok[] = { "image/png", "image/jpeg", "image/gif", "image/webp",
                                      "text/plain", "audio/", "video/" };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        size_t n = strlen(ok[i]);
        if (strncasecmp(ctype, ok[i], n))
            continue;
        char next = ctype[n];
        if (ok[i][n - 1] == '/' ? next && next != ';' : !next || next == ';' || next == ' ')
            return true;
    }
    return false;
}

static bool is_hex_id(const char *s, size_t n)
{
    if (n != UPLOAD_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

upload_path_result upload_path_parse(const char *path, char id[UPLOAD_ID_LEN + 1])
{
    id[0] = 0;
    if (!path)
        return UPLOAD_PATH_NOT_FOUND;
    /* tricks first, so that they are logged even where the id is unknown */
    if (strstr(path, "..") || strchr(path, '\\'))
        return UPLOAD_PATH_HOSTILE;
    for (const char *p = strchr(path, '%'); p; p = strchr(p + 1, '%')) {
        if (!strncasecmp(p, "%2e", 3) || !strncasecmp(p, "%2f", 3) || !strncasecmp(p, "%5c", 3) ||
            !strncmp(p, "%00", 3) || !strncasecmp(p, "%25", 3))
            return UPLOAD_PATH_HOSTILE;
    }
    size_t pre = strlen(UPLOAD_PATH_PREFIX);
    if (strncmp(path, UPLOAD_PATH_PREFIX, pre))
        return UPLOAD_PATH_NOT_FOUND;
    const char *s = path + pre;
    const char *slash = strchr(s, '/');
    if (!slash || !is_hex_id(s, (size_t)(slash - s)))
        return UPLOAD_PATH_NOT_FOUND;
    const char *name = slash + 1;
    if (!*name || strchr(name, '/') || strlen(name) > 3 * UPLOAD_NAME_MAX)
        return UPLOAD_PATH_NOT_FOUND;
    memcpy(id, s, UPLOAD_ID_LEN);
    id[UPLOAD_ID_LEN] = 0;
    return UPLOAD_PATH_OK;
}

bool upload_query_token(const char *url, char out[UPLOAD_ID_LEN + 1])
{
    out[0] = 0;
    const char *q = url ? strchr(url, '?') : NULL;
    if (!q)
        return false;
    for (const char *p = q + 1; *p;) {
        size_t len = strcspn(p, "&#");
        if (len > 6 && !strncmp(p, "token=", 6) && is_hex_id(p + 6, len - 6)) {
            memcpy(out, p + 6, UPLOAD_ID_LEN);
            out[UPLOAD_ID_LEN] = 0;
            return true;
        }
        if (p[len] != '&')
            break;
        p += len + 1;
    }
    return false;
}

/* A decimal number of at most 19 digits; the end in *end. */
static bool parse_u64(const char *s, const char **end, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        if (n == 19)
            return false;
        v = v * 10 + (uint64_t)(s[n] - '0');
        n++;
    }
    if (!n)
        return false;
    *end = s + n;
    *out = v;
    return true;
}

upload_range_result upload_range_parse(const char *hdr, uint64_t size, uint64_t *start,
                                       uint64_t *len)
{
    if (!hdr)
        return UPLOAD_RANGE_NONE;
    while (*hdr == ' ' || *hdr == '\t')
        hdr++;
    if (strncasecmp(hdr, "bytes=", 6))
        return UPLOAD_RANGE_NONE;   /* other units are ignored */
    const char *p = hdr + 6;
    while (*p == ' ')
        p++;
    if (strchr(p, ','))
        return UPLOAD_RANGE_NONE;   /* several ranges: the whole file */
    uint64_t a = 0, b = 0;
    const char *e;
    if (*p == '-') {   /* suffix: the last b bytes */
        if (!parse_u64(p + 1, &e, &b))
            return UPLOAD_RANGE_NONE;
        while (*e == ' ')
            e++;
        if (*e)
            return UPLOAD_RANGE_NONE;
        if (b == 0 || size == 0)
            return UPLOAD_RANGE_UNSATISFIABLE;
        if (b > size)
            b = size;
        *start = size - b;
        *len = b;
        return UPLOAD_RANGE_PARTIAL;
    }
    if (!parse_u64(p, &e, &a) || *e != '-')
        return UPLOAD_RANGE_NONE;
    p = e + 1;
    bool open_end = true;
    if (*p >= '0' && *p <= '9') {
        if (!parse_u64(p, &e, &b))
            return UPLOAD_RANGE_NONE;
        open_end = false;
        p = e;
    }
    while (*p == ' ')
        p++;
    if (*p || (!open_end && b < a))
        return UPLOAD_RANGE_NONE;   /* invalid: ignored (RFC 9110 §14.2) */
    if (a >= size)
        return UPLOAD_RANGE_UNSATISFIABLE;
    if (open_end || b >= size)
        b = size - 1;
    *start = a;
    *len = b - a + 1;
    return UPLOAD_RANGE_PARTIAL;
}

void upload_pct_encode(buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            buf_append(out, p, 1);
        } else {
            char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            buf_append(out, e, 3);
        }
    }
}

int upload_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw || RAND_bytes(raw, (int)nbytes) != 1)
        return -1;
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}
