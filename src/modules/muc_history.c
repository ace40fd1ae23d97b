/* muc_history.c: a room's discussion history (XEP-0045 §7.2.15): a ring of
 * at most history_length messages (≤ MUC_HISTORY_MAX), sent to a joiner
 * with <delay/> (XEP-0203) and filtered by the join's <history/> request
 * (maxstanzas, maxchars, seconds, since). */
#include "modules/muc_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "router/router.h"

#define NS_DELAY "urn:xmpp:delay"

void muc_hist_clear(muc_room *r)
{
    for (size_t i = 0; i < r->hn; i++)
        xnode_free(r->hist[(r->hstart + i) % r->hcap].msg);
    r->hn = r->hstart = 0;
}

void muc_hist_resize(muc_room *r)
{
    size_t cap = (size_t)r->cfg.history_length;
    if (cap == r->hcap)
        return;
    /* keep the newest min(hn, cap) */
    muc_hist *n = cap ? xcalloc(cap, sizeof *n) : NULL;
    size_t keep = r->hn < cap ? r->hn : cap;
    for (size_t i = 0; i < r->hn; i++) {
        muc_hist *h = &r->hist[(r->hstart + i) % r->hcap];
        if (i >= r->hn - keep)
            n[i - (r->hn - keep)] = *h;
        else
            xnode_free(h->msg);
    }
    free(r->hist);
    r->hist = n;
    r->hcap = cap;
    r->hn = keep;
    r->hstart = 0;
}

void muc_hist_add(muc_room *r, const xnode *msg)
{
    if (!r->hcap)
        return;
    muc_hist h = { xnode_copy(msg), time(NULL), 0 };
    char *s = xml_to_string(msg, NS_CLIENT);
    h.chars = s ? strlen(s) : 0;
    free(s);
    if (r->hn == r->hcap) {
        xnode_free(r->hist[r->hstart].msg);
        r->hist[r->hstart] = h;
        r->hstart = (r->hstart + 1) % r->hcap;
    } else {
        r->hist[(r->hstart + r->hn) % r->hcap] = h;
        r->hn++;
    }
}

static long attr_long(const xnode *n, const char *name, long dflt)
{
    const char *v = n ? xnode_attr(n, name) : NULL;
    if (!v)
        return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    return *end || x < 0 ? dflt : x;
}

static time_t parse_since(const char *s)
{
    struct tm tm = { 0 };
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return timegm(&tm);
}

void muc_hist_send(muc_room *r, const muc_occ *o, const xnode *req)
{
    long maxstanzas = attr_long(req, "maxstanzas", LONG_MAX);
    long maxchars = attr_long(req, "maxchars", LONG_MAX);
    long seconds = attr_long(req, "seconds", -1);
    time_t since = parse_since(req ? xnode_attr(req, "since") : NULL);
    time_t now = time(NULL);
    /* walk back from the newest to find where to start */
    size_t first = r->hn;
    long chars = 0, count = 0;
    while (first > 0 && count < maxstanzas) {
        const muc_hist *h = &r->hist[(r->hstart + first - 1) % r->hcap];
        if (seconds == 0 || (seconds > 0 && now - h->when > seconds))
            break;
        if (since && h->when < since)
            break;
        if (chars + (long)h->chars > maxchars)
            break;
        chars += (long)h->chars;
        count++;
        first--;
    }
    for (size_t i = first; i < r->hn; i++) {
        const muc_hist *h = &r->hist[(r->hstart + i) % r->hcap];
        xnode *m = xnode_copy(h->msg);
        xnode *d = xnode_add_child(m, "delay", NS_DELAY);
        char ts[32];
        struct tm tm;
        gmtime_r(&h->when, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        xnode_set_attr(d, "stamp", ts);
        xnode_set_attr(d, "from", r->jid);
        muc_send_occ(r, o, m);
    }
}
