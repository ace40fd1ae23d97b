/* muc_grouprooms_set.c: the pure part of directory group rooms
 * (muc_grouprooms_set.h): which rooms a snapshot calls for, and how two
 * such sets differ. */
#include "modules/muc_grouprooms_set.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "xmpp/jid.h"

char *grouprooms_host(const char *fmt, const char *domain)
{
    if (!fmt || !*fmt)
        fmt = "conference.%s";
    const char *p = strstr(fmt, "%s");
    size_t dl = strlen(domain), fl = strlen(fmt);
    char *out = xmalloc(fl + dl + 1);
    if (p) {
        size_t pre = (size_t)(p - fmt);
        memcpy(out, fmt, pre);
        memcpy(out + pre, domain, dl);
        strcpy(out + pre + dl, p + 2);
    } else {
        strcpy(out, fmt);
    }
    for (char *c = out; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return out;
}

static int room_cmp(const void *a, const void *b)
{
    return strcmp(((const gr_room *)a)->jid, ((const gr_room *)b)->jid);
}

static int aff_cmp(const void *a, const void *b)
{
    return strcmp(((const gr_aff *)a)->bare, ((const gr_aff *)b)->bare);
}

static void room_clear(gr_room *r)
{
    for (size_t i = 0; i < r->naffs; i++)
        free(r->affs[i].bare);
    free(r->affs);
    free(r->jid);
    free(r->cn);
    free(r->name);
}

void grouprooms_set_free(gr_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        room_clear(&s->rooms[i]);
    free(s->rooms);
    free(s);
}

const gr_room *grouprooms_find(const gr_set *s, const char *room_jid)
{
    if (!s || !room_jid || !s->n)
        return NULL;
    gr_room key = { .jid = (char *)room_jid };
    return bsearch(&key, s->rooms, s->n, sizeof *s->rooms, room_cmp);
}

/* Whether account index a is in g->members (ascending). */
static bool has_member(const dir_group *g, uint32_t a)
{
    size_t lo = 0, hi = g->nmembers;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->members[mid] == a)
            return true;
        if (g->members[mid] < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* The room of group g in domain d, or false when g has no member there. */
static bool build_room(const dir_snapshot *snap, const dir_group *g, const dir_group *owners,
                       const char *local, const char *host, const char *d, gr_room *out)
{
    size_t cap = g->nmembers + (owners ? owners->nmembers : 0);
    gr_aff *affs = xcalloc(cap ? cap : 1, sizeof *affs);
    size_t n = 0;
    bool any = false;
    for (uint32_t i = 0; i < g->nmembers; i++) {
        const dir_account *a = &snap->accounts[g->members[i]];
        if (strcmp(a->domain, d) != 0)
            continue;
        any = true;
        affs[n].bare = xstrdup(a->bare);
        affs[n].aff = owners && has_member(owners, g->members[i]) ? MUC_AFF_OWNER
                                                                   : MUC_AFF_MEMBER;
        n++;
    }
    if (!any) {
        free(affs);
        return false;
    }
    for (uint32_t i = 0; owners && i < owners->nmembers; i++) {
        const dir_account *a = &snap->accounts[owners->members[i]];
        if (strcmp(a->domain, d) == 0 && has_member(g, owners->members[i]))
            continue;       /* already there as owner */
        affs[n].bare = xstrdup(a->bare);
        affs[n].aff = MUC_AFF_OWNER;
        n++;
    }
    qsort(affs, n, sizeof *affs, aff_cmp);
    size_t len = strlen(local) + strlen(host) + 2;
    out->jid = xmalloc(len);
    snprintf(out->jid, len, "%s@%s", local, host);
    out->cn = xstrdup(g->cn);
    out->name = xstrdup(g->label && *g->label ? g->label : g->cn);
    out->affs = affs;
    out->naffs = n;
    return true;
}

gr_set *grouprooms_desired(const dir_snapshot *snap, const config *cfg)
{
    gr_set *s = xcalloc(1, sizeof *s);
    if (!snap || !snap->complete || !cfg || !cfg->muc || !cfg->muc_grouprooms)
        return s;
    s->active = true;
    const dir_group *owners = cfg->muc_grouprooms_owners && *cfg->muc_grouprooms_owners
                                  ? dir_snapshot_group(snap, cfg->muc_grouprooms_owners)
                                  : NULL;
    size_t cap = 0;
    for (size_t di = 0; di < snap->ndomains; di++) {
        const char *d = snap->domains[di];
        char *host = grouprooms_host(cfg->muc_host, d);
        size_t first = s->n;
        for (uint32_t gi = 0; gi < snap->ngroups; gi++) {
            const dir_group *g = &snap->groups[gi];
            char *local = g->cn ? jid_nodeprep(g->cn) : NULL;
            if (!local || !*local) {
                free(local);
                continue;
            }
            bool taken = false;
            size_t ll = strlen(local);
            for (size_t k = first; k < s->n && !taken; k++)
                taken = strncmp(s->rooms[k].jid, local, ll) == 0 && s->rooms[k].jid[ll] == '@';
            if (!taken) {
                if (s->n == cap) {
                    cap = cap ? cap * 2 : 16;
                    s->rooms = xrealloc(s->rooms, cap * sizeof *s->rooms);
                }
                memset(&s->rooms[s->n], 0, sizeof s->rooms[s->n]);
                if (build_room(snap, g, owners, local, host, d, &s->rooms[s->n]))
                    s->n++;
            }
            free(local);
        }
        free(host);
    }
    if (s->n)
        qsort(s->rooms, s->n, sizeof *s->rooms, room_cmp);
    /* Two domains with the same host (a host without %s): keep the first. */
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (w && strcmp(s->rooms[w - 1].jid, s->rooms[i].jid) == 0) {
            room_clear(&s->rooms[i]);
            continue;
        }
        s->rooms[w++] = s->rooms[i];
    }
    s->n = w;
    return s;
}

static void diff_affs(const gr_room *o, const gr_room *n,
                      void (*fn)(const gr_change *ch, void *ud), void *ud)
{
    size_t i = 0, j = 0;
    while (i < o->naffs || j < n->naffs) {
        int c = i >= o->naffs ? 1 : j >= n->naffs ? -1 : strcmp(o->affs[i].bare, n->affs[j].bare);
        gr_change ch = { .kind = GR_AFF, .room = n };
        if (c < 0) {
            ch.bare = o->affs[i].bare;
            ch.aff = MUC_AFF_NONE;
            fn(&ch, ud);
            i++;
        } else if (c > 0) {
            ch.bare = n->affs[j].bare;
            ch.aff = n->affs[j].aff;
            fn(&ch, ud);
            j++;
        } else {
            if (o->affs[i].aff != n->affs[j].aff) {
                ch.bare = n->affs[j].bare;
                ch.aff = n->affs[j].aff;
                fn(&ch, ud);
            }
            i++;
            j++;
        }
    }
}

void grouprooms_diff(const gr_set *old, const gr_set *now,
                     void (*fn)(const gr_change *ch, void *ud), void *ud)
{
    size_t on = old ? old->n : 0, nn = now ? now->n : 0;
    size_t i = 0, j = 0;
    while (i < on || j < nn) {
        int c = i >= on ? 1 : j >= nn ? -1 : strcmp(old->rooms[i].jid, now->rooms[j].jid);
        if (c < 0) {
            gr_change ch = { .kind = GR_DESTROY, .room = &old->rooms[i++] };
            fn(&ch, ud);
        } else if (c > 0) {
            gr_change ch = { .kind = GR_CREATE, .room = &now->rooms[j++] };
            fn(&ch, ud);
        } else {
            const gr_room *o = &old->rooms[i++], *n = &now->rooms[j++];
            if (strcmp(o->name, n->name) != 0) {
                gr_change ch = { .kind = GR_RENAME, .room = n };
                fn(&ch, ud);
            }
            diff_affs(o, n, fn, ud);
        }
    }
}

bool grouprooms_is_group_room(const dir_snapshot *snap, const config *cfg, const char *room_jid)
{
    if (!snap || !snap->complete || !cfg || !cfg->muc || !cfg->muc_grouprooms || !room_jid)
        return false;
    const char *at = strchr(room_jid, '@');
    if (!at || at == room_jid)
        return false;
    size_t ll = (size_t)(at - room_jid);
    for (size_t di = 0; di < snap->ndomains; di++) {
        char *host = grouprooms_host(cfg->muc_host, snap->domains[di]);
        bool same = strcmp(host, at + 1) == 0;
        free(host);
        if (!same)
            continue;
        for (uint32_t gi = 0; gi < snap->ngroups; gi++) {
            const dir_group *g = &snap->groups[gi];
            char *local = g->cn ? jid_nodeprep(g->cn) : NULL;
            bool match = local && strlen(local) == ll && strncmp(local, room_jid, ll) == 0;
            free(local);
            if (!match)
                continue;
            for (uint32_t i = 0; i < g->nmembers; i++)
                if (strcmp(snap->accounts[g->members[i]].domain, snap->domains[di]) == 0)
                    return true;
        }
    }
    return false;
}
