/* mam_proto.c: archive ids, timestamps and query parsing for XEP-0313
 * (see mam_proto.h). */
#include "modules/mam_proto.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"

static const char B32[] = "0123456789abcdefghjkmnpqrstvwxyz";

void mam_id_encode(int64_t id, char out[MAM_ID_LEN + 1])
{
    uint64_t v = (uint64_t)id;
    for (int i = MAM_ID_LEN - 1; i >= 0; i--) {
        out[i] = B32[v & 31];
        v >>= 5;
    }
    out[MAM_ID_LEN] = '\0';
}

int64_t mam_id_decode(const char *s)
{
    if (!s || strlen(s) != MAM_ID_LEN)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < MAM_ID_LEN; i++) {
        const char *p = strchr(B32, tolower((unsigned char)s[i]));
        if (!p || !*p)
            return -1;
        /* 13 * 5 = 65 bits: the top character carries the top 3 bits of
         * a non-negative 64-bit id, so it is at most '7' */
        if (i == 0 && p - B32 > 7)
            return -1;
        v = (v << 5) | (uint64_t)(p - B32);
    }
    return (int64_t)v;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int64_t mam_time_parse(const char *s)
{
    if (!s || strlen(s) < 20)
        return -1;
    int Y = digits(s, 4), M = digits(s + 5, 2), D = digits(s + 8, 2);
    int h = digits(s + 11, 2), m = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (Y < 0 || M < 1 || M > 12 || D < 1 || D > 31 || h < 0 || h > 23 || m < 0 || m > 59 ||
        sec < 0 || sec > 60 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return -1;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        int64_t scale = 100000;
        while (isdigit((unsigned char)*p)) {
            if (n < 6) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
            n++;
            p++;
        }
        if (n == 0)
            return -1;
    }
    int64_t off = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = digits(p + 1, 2), om = p[3] == ':' ? digits(p + 4, 2) : -1;
        if (oh < 0 || om < 0)
            return -1;
        off = (int64_t)(oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
                     .tm_hour = h, .tm_min = m, .tm_sec = sec };
    time_t t = timegm(&tm);
    return ((int64_t)t - off) * 1000000 + frac;
}

void mam_time_format(int64_t us, char *out, size_t len)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%06dZ", (int)(us % 1000000));
}

void mam_request_clear(mam_request *r)
{
    free(r->with);
    memset(r, 0, sizeof *r);
}

/* The single <value/> text of field f (NULL when none), malloc'ed. */
static char *field_value(const xnode *f)
{
    xnode *v = xnode_child(f, "value", NS_XDATA);
    return v ? xnode_text(v) : NULL;
}

static int64_t id_of(const char *s)
{
    int64_t id = mam_id_decode(s);
    return id > 0 ? id : -1;
}

int mam_request_parse(const xnode *query, mam_request *out, const char **why)
{
    memset(out, 0, sizeof *out);
    out->start_us = out->end_us = -1;
    out->max = MAM_MAX_DEFAULT;
    const xnode *x = xnode_child(query, "x", NS_XDATA);
    for (const xnode *f = x ? xnode_first_element(x) : NULL; f; f = xnode_next_element(f)) {
        if (strcmp(f->name, "field") || f->ns != x->ns)
            continue;
        const char *var = xnode_attr(f, "var");
        if (!var)
            continue;
        char *v = field_value(f);
        int bad = 0;
        if (!strcmp(var, "FORM_TYPE")) {
            bad = !v || strcmp(v, NS_MAM);
            if (bad)
                *why = "FORM_TYPE is not urn:xmpp:mam:2";
        } else if (!strcmp(var, "with")) {
            free(out->with);
            out->with = v;
            v = NULL;
            bad = !out->with || !*out->with;
            if (bad)
                *why = "empty 'with'";
        } else if (!strcmp(var, "start") || !strcmp(var, "end")) {
            int64_t t = mam_time_parse(v);
            bad = t < 0;
            if (bad)
                *why = "malformed date in 'start' or 'end'";
            else if (var[0] == 's')
                out->start_us = t;
            else
                out->end_us = t;
        } else if (!strcmp(var, "after-id")) {
            out->after_id = v && *v ? id_of(v) : 0;
        } else if (!strcmp(var, "before-id")) {
            out->before_id = v && *v ? id_of(v) : 0;
        } else {
            *why = "unsupported field";
            bad = 1;
        }
        free(v);
        if (bad) {
            mam_request_clear(out);
            return -1;
        }
    }
    const xnode *set = xnode_child(query, "set", NS_RSM);
    if (set) {
        xnode *m = xnode_child(set, "max", NS_RSM);
        if (m) {
            char *t = xnode_text(m);
            char *end = NULL;
            long n = t ? strtol(t, &end, 10) : -1;
            bool ok = t && *t && end && !*end && n >= 0;
            free(t);
            if (!ok) {
                *why = "malformed RSM max";
                mam_request_clear(out);
                return -1;
            }
            out->max = n > MAM_MAX_CAP ? MAM_MAX_CAP : (int)n;
        }
        xnode *a = xnode_child(set, "after", NS_RSM);
        if (a) {
            char *t = xnode_text(a);
            out->rsm_after = t && *t ? id_of(t) : 0;
            free(t);
        }
        xnode *b = xnode_child(set, "before", NS_RSM);
        if (b) {
            char *t = xnode_text(b);
            if (t && *t)
                out->rsm_before = id_of(t);
            else
                out->rsm_before_empty = true;
            free(t);
        }
    }
    out->flip = xnode_child(query, "flip-page", NS_MAM) != NULL;
    return 0;
}
