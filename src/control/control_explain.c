/* control_explain.c: the communication restrictions (plucs/mod/filter,
 * directory.md) of one snapshot in words, for `plucs explain`. The verdicts
 * are the compiled bits the router's policy step tests (dir_may_message /
 * dir_may_see, or the same bits when the filter is off), so what this says
 * is what happens; the reasons are derived from the same resolved group
 * lists and policies the compiler used: for each group of the sender (or
 * observer), whether its list names a group of the other side, or is empty
 * and the policy decides. Pure: the daemon runs it on its current snapshot
 * (control.c), `plucs explain --offline` on one it compiled itself. */
#include "control/control.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/jid.h"

/* --- finding the accounts -------------------------------------------------- */

static void served_list(const dir_snapshot *s, char *text, size_t len)
{
    size_t o = 0;
    text[0] = '\0';
    for (size_t i = 0; i < s->ndomains && o < len; i++)
        o += (size_t)snprintf(text + o, len - o, "%s%s", i ? ", " : "", s->domains[i]);
    if (s->ndomains == 0)
        snprintf(text, len, "none");
}

/* The accounts with this uid, in any domain: count, and their domains. */
static size_t accounts_with_uid(const dir_snapshot *s, const char *uid, const dir_account **first,
                                char *domains, size_t len)
{
    size_t n = 0, o = 0;
    domains[0] = '\0';
    for (uint32_t i = 0; i < s->naccounts; i++) {
        if (strcmp(s->accounts[i].uid, uid) != 0)
            continue;
        if (!n)
            *first = &s->accounts[i];
        n++;
        if (o < len)
            o += (size_t)snprintf(domains + o, len - o, "%s%s", o ? ", " : "", s->accounts[i].bare);
    }
    return n;
}

static const dir_account *resolve(const dir_snapshot *s, const char *text, char *err, size_t errlen)
{
    if (!s->complete) {
        snprintf(err, errlen, "the directory has not been read yet; try again in a moment");
        return NULL;
    }
    char served[512], others[512];
    const dir_account *a = NULL;
    if (!strchr(text, '@')) {
        char *uid = jid_nodeprep(text);
        if (!uid) {
            snprintf(err, errlen, "%s: not a valid user name", text);
            return NULL;
        }
        size_t n = accounts_with_uid(s, uid, &a, others, sizeof others);
        free(uid);
        if (n == 1)
            return a;
        if (n == 0)
            snprintf(err, errlen, "%s: not an account in any served domain (no enabled XMPP "
                     "account with this uid, or more than one entry has it)", text);
        else
            snprintf(err, errlen, "%s: an account in several domains (%s); name one as user@domain",
                     text, others);
        return NULL;
    }
    jid j;
    if (jid_parse(text, &j) != 0 || !j.node) {
        snprintf(err, errlen, "%s: not a user address (user@domain)", text);
        return NULL;
    }
    if (!dir_snapshot_serves(s, j.domain)) {
        served_list(s, served, sizeof served);
        snprintf(err, errlen, "%s: not an account: this server does not serve %s (served: %s)",
                 text, j.domain, served);
    } else if (!(a = dir_snapshot_account(s, j.node, j.domain))) {
        const dir_account *other = NULL;
        if (accounts_with_uid(s, j.node, &other, others, sizeof others))
            snprintf(err, errlen, "%s: not an account in %s (but %s is); an account has "
                     "exactly one xmppDomain", text, j.domain, others);
        else
            snprintf(err, errlen, "%s: not an account (no entry with uid %s, xmppDomain %s and "
                     "xmppEnabled TRUE, or more than one such entry)", text, j.node, j.domain);
    }
    jid_clear(&j);
    return a;
}

/* --- pieces of text ------------------------------------------------------------ */

static bool in_group(const dir_account *a, uint32_t g)
{
    uint32_t lo = 0, hi = a->ngroups;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a->groups[mid] == g)
            return true;
        if (a->groups[mid] < g)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static void names(buf *out, const dir_snapshot *s, const uint32_t *l, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        buf_printf(out, "%s%s", i ? ", " : "", s->groups[l[i]].cn);
}

static const char *policy_word(bool allow) { return allow ? "allow" : "deny"; }

static void ignored_note(buf *out, const control_explain_ctx *c, const dir_group *g, bool presence)
{
    const char *ign = c->ignored ? c->ignored(c->ignored_ud, g, presence) : NULL;
    if (ign && *ign)
        buf_printf(out, " (ignored, not XMPP groups: %s)", ign);
}

/* "staff, managers" or "empty" plus what an empty list means. */
static void list_text(buf *out, const control_explain_ctx *c, const dir_group *g, bool presence)
{
    const uint32_t *l = presence ? g->pgroups : g->mgroups;
    uint32_t n = presence ? g->npgroups : g->nmgroups;
    if (n)
        names(out, c->snap, l, n);
    else
        buf_printf(out, "empty");
    ignored_note(out, c, g, presence);
    if (!n) {
        bool allow = presence ? c->pres_allow : c->msg_allow;
        buf_printf(out, " -> %s %s: %s", presence ? "presence_policy" : "message_policy",
                   policy_word(allow), allow ? "everyone" : "nobody");
    }
}

static void header(buf *out, const control_explain_ctx *c)
{
    const dir_snapshot *s = c->snap;
    if (s->filter)
        buf_printf(out, "filter: on; message_policy: %s; presence_policy: %s\n",
                   policy_word(c->msg_allow), policy_word(c->pres_allow));
    else
        buf_printf(out, "filter: off (plucs/mod/filter is false): everything is allowed; below is "
                   "what the rules would do with it on (message_policy: %s; presence_policy: %s)\n",
                   policy_word(c->msg_allow), policy_word(c->pres_allow));
}

static void describe_account(buf *out, const control_explain_ctx *c, const dir_account *a)
{
    const dir_snapshot *s = c->snap;
    if (a->ngroups == 0) {
        buf_printf(out, "%s: in no XMPP group (counts as one group with empty lists)\n", a->bare);
        return;
    }
    buf_printf(out, "%s: group%s ", a->bare, a->ngroups == 1 ? "" : "s");
    names(out, s, a->groups, a->ngroups);
    buf_puts(out, "\n");
    for (uint32_t i = 0; i < a->ngroups; i++) {
        const dir_group *g = &s->groups[a->groups[i]];
        buf_printf(out, "  %s: message list (xmppMessageGroups): ", g->cn);
        list_text(out, c, g, false);
        buf_printf(out, "\n  %*s  presence list (xmppPresenceGroups): ", (int)strlen(g->cn), "");
        list_text(out, c, g, true);
        buf_puts(out, "\n");
    }
}

/* --- one direction --------------------------------------------------------------- */

/* The compiled bit, also when the filter is off (directory.h: bit a*n+b). */
static bool compiled(const dir_snapshot *s, bool presence, const dir_account *a, const dir_account *b)
{
    const uint64_t *m = presence ? s->pres_allow : s->msg_allow;
    uint32_t n = s->nclasses;
    if (!m || a->pclass >= n || b->pclass >= n)
        return false;
    size_t i = (size_t)a->pclass * n + b->pclass;
    return (m[i / 64] >> (i % 64)) & 1;
}

/* Why actor may (not) send to / see target: one line per group of actor;
 * returns what the definitions give. */
static bool reasons(buf *out, const control_explain_ctx *c, bool presence,
                    const dir_account *actor, const dir_account *target)
{
    const dir_snapshot *s = c->snap;
    const char *what = presence ? "presence list" : "message list";
    const char *pol = presence ? "presence_policy" : "message_policy";
    bool allow = presence ? c->pres_allow : c->msg_allow;
    if (actor->ngroups == 0) {
        buf_printf(out, "  %c %s is in no XMPP group: one group with empty lists; %s %s: %s\n",
                   allow ? '+' : '-', actor->bare, pol, policy_word(allow),
                   allow ? "everyone" : "nobody");
        return allow;
    }
    bool granted = false;
    for (uint32_t i = 0; i < actor->ngroups; i++) {
        const dir_group *g = &s->groups[actor->groups[i]];
        const uint32_t *l = presence ? g->pgroups : g->mgroups;
        uint32_t n = presence ? g->npgroups : g->nmgroups;
        if (n == 0) {
            granted |= allow;
            buf_printf(out, "  %c %s: its %s is empty", allow ? '+' : '-', g->cn, what);
            ignored_note(out, c, g, presence);
            buf_printf(out, "; %s %s: %s\n", pol, policy_word(allow), allow ? "everyone" : "nobody");
            continue;
        }
        uint32_t hits[64], nhits = 0;
        for (uint32_t k = 0; k < n; k++)
            if (in_group(target, l[k]) && nhits < 64)
                hits[nhits++] = l[k];
        granted |= nhits > 0;
        buf_printf(out, "  %c %s: its %s names ", nhits ? '+' : '-', g->cn, what);
        names(out, s, l, n);
        ignored_note(out, c, g, presence);
        if (nhits) {
            buf_printf(out, "; %s is in ", target->bare);
            names(out, s, hits, nhits);
        } else {
            buf_printf(out, "; %s is in none of them", target->bare);
        }
        buf_puts(out, "\n");
    }
    return granted;
}

static void direction(buf *out, const control_explain_ctx *c, bool presence,
                      const dir_account *actor, const dir_account *target)
{
    const dir_snapshot *s = c->snap;
    if (presence)
        buf_printf(out, "presence: %s sees %s: ", actor->bare, target->bare);
    else
        buf_printf(out, "message: %s -> %s: ", actor->bare, target->bare);
    if (actor == target) {
        buf_puts(out, "allowed\n  the same account: stanzas between its resources are never filtered\n");
        return;
    }
    bool bit = compiled(s, presence, actor, target);
    if (!s->filter) {
        buf_printf(out, "allowed\n  the filter is off (plucs/mod/filter is false): everything is allowed\n"
                        "  with the filter on it would be %s:\n", bit ? "allowed" : "refused");
    } else {
        buf_printf(out, "%s\n", bit ? "allowed" : "refused");
    }
    bool derived = reasons(out, c, presence, actor, target);
    if (derived != bit)
        buf_printf(out, "  note: the compiled rules say %s; the policies changed after this "
                   "snapshot was built (it is rebuilt at once)\n", bit ? "allowed" : "refused");
}

int control_explain(const control_explain_ctx *c, const char *from, const char *to,
                    buf *out, char *err, size_t errlen)
{
    const dir_snapshot *s = c->snap;
    const dir_account *a = resolve(s, from, err, errlen);
    if (!a)
        return -1;
    const dir_account *b = resolve(s, to, err, errlen);
    if (!b)
        return -1;
    buf_printf(out, "explain %s and %s (%s, directory snapshot %llu)\n", a->bare, b->bare,
               c->source ? c->source : "?", (unsigned long long)s->serial);
    header(out, c);
    buf_puts(out, "a user's permissions are the union over its groups; a group is in its own "
                  "lists only when they name it\n\n");
    describe_account(out, c, a);
    if (b != a)
        describe_account(out, c, b);
    buf_puts(out, "\n");
    direction(out, c, false, a, b);
    direction(out, c, false, b, a);
    direction(out, c, true, a, b);
    direction(out, c, true, b, a);
    return 0;
}

/* --- the group x group table ----------------------------------------------------------- */

static uint32_t members_in(const dir_snapshot *s, const dir_group *g, const char *domain)
{
    if (!domain)
        return g->nmembers;
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->nmembers; i++)
        if (strcmp(s->accounts[g->members[i]].domain, domain) == 0)
            n++;
    return n;
}

static bool names_group(const uint32_t *l, uint32_t n, uint32_t h)
{
    for (uint32_t i = 0; i < n; i++)
        if (l[i] == h)
            return true;
    return false;
}

/* Cell text for row group r (UINT32_MAX: no group) and column group h
 * (UINT32_MAX: users in no group). */
static const char *cell(const control_explain_ctx *c, uint32_t r, uint32_t h)
{
    bool m, p;
    if (r == UINT32_MAX) {
        m = c->msg_allow;
        p = c->pres_allow;
    } else {
        const dir_group *g = &c->snap->groups[r];
        m = g->nmgroups ? (h != UINT32_MAX && names_group(g->mgroups, g->nmgroups, h)) : c->msg_allow;
        p = g->npgroups ? (h != UINT32_MAX && names_group(g->pgroups, g->npgroups, h)) : c->pres_allow;
    }
    return m ? (p ? "mp" : "m") : (p ? "p" : "-");
}

int control_matrix(const control_explain_ctx *c, const char *domain, buf *out, char *err, size_t errlen)
{
    const dir_snapshot *s = c->snap;
    char dom[JID_PART_MAX + 1] = "";
    if (domain) {
        char *d = jid_nameprep(domain);
        snprintf(dom, sizeof dom, "%s", d ? d : domain);
        free(d);
        if (!dir_snapshot_serves(s, dom)) {
            char served[512];
            served_list(s, served, sizeof served);
            snprintf(err, errlen, "%s: not a domain this server serves (served: %s)", domain, served);
            return -1;
        }
    }
    if (!s->complete) {
        snprintf(err, errlen, "the directory has not been read yet; try again in a moment");
        return -1;
    }
    const char *d = domain ? dom : NULL;
    uint32_t *rows = xmalloc(((size_t)s->ngroups + 1) * sizeof *rows);
    uint32_t n = 0;
    for (uint32_t g = 0; g < s->ngroups; g++)
        if (!d || members_in(s, &s->groups[g], d))
            rows[n++] = g;
    uint32_t groupless = 0;
    for (uint32_t i = 0; i < s->naccounts; i++)
        if (s->accounts[i].ngroups == 0 && (!d || strcmp(s->accounts[i].domain, d) == 0))
            groupless++;

    buf_printf(out, "matrix %s (%s, directory snapshot %llu)\n", d ? d : "of every domain",
               c->source ? c->source : "?", (unsigned long long)s->serial);
    header(out, c);
    buf_puts(out, "row: a member of that group (last row: a user in no group); column: the members "
                  "of that group (last column: users in no group)\n"
                  "m: may send them messages; p: may see their presence; -: neither\n"
                  "a user in several groups may do what any of its groups' rows allows\n\n");
    const char *none = "(no group)";
    int w0 = (int)strlen(none);
    for (uint32_t i = 0; i < n; i++)
        if ((int)strlen(s->groups[rows[i]].cn) > w0)
            w0 = (int)strlen(s->groups[rows[i]].cn);
    buf_printf(out, "%-*s", w0, "");
    for (uint32_t i = 0; i < n; i++)
        buf_printf(out, "  %s", s->groups[rows[i]].cn);
    buf_printf(out, "  %s\n", none);
    for (uint32_t r = 0; r <= n; r++) {
        uint32_t rg = r < n ? rows[r] : UINT32_MAX;
        buf_printf(out, "%-*s", w0, r < n ? s->groups[rg].cn : none);
        for (uint32_t k = 0; k <= n; k++) {
            uint32_t h = k < n ? rows[k] : UINT32_MAX;
            int w = k < n ? (int)strlen(s->groups[h].cn) : (int)strlen(none);
            buf_printf(out, "  %-*s", w, cell(c, rg, h));
        }
        /* trim the padding of the last column */
        while (out->len && out->data[out->len - 1] == ' ')
            out->data[--out->len] = '\0';
        buf_puts(out, "\n");
    }
    buf_puts(out, "\ngroups:\n");
    for (uint32_t i = 0; i < n; i++) {
        const dir_group *g = &s->groups[rows[i]];
        uint32_t m = members_in(s, g, d);
        buf_printf(out, "  %s (%u member%s%s%s): messages to: ", g->cn, m, m == 1 ? "" : "s",
                   d ? " in " : "", d ? d : "");
        list_text(out, c, g, false);
        buf_puts(out, "; sees presence of: ");
        list_text(out, c, g, true);
        buf_puts(out, "\n");
    }
    buf_printf(out, "  (no group) (%u user%s%s%s): messages to: empty -> message_policy %s: %s; "
               "sees presence of: empty -> presence_policy %s: %s\n",
               groupless, groupless == 1 ? "" : "s", d ? " in " : "", d ? d : "",
               policy_word(c->msg_allow), c->msg_allow ? "everyone" : "nobody",
               policy_word(c->pres_allow), c->pres_allow ? "everyone" : "nobody");
    free(rows);
    return 0;
}
