/* mod_search.c: the user directory search (XEP-0055 jabber:iq:search with
 * XEP-0004 data forms), served at the domain's own JID.
 *
 * get: the form (hidden FORM_TYPE, text-single fields user, given, family,
 * email, labels in the requester's language) plus the legacy instructions
 * and fields. set: a submitted form (FORM_TYPE ignored) or the legacy
 * fields <nick/> <first/> <last/> <email/>; the directory thread searches
 * the requester's own domain (dir_query_search: case-insensitive substring
 * per filled field, ANDed, every character literal) and the answer comes
 * back in the style of the request: a result form with reported fields and
 * items, or legacy <item/>s. At most SEARCH_MAX results, sorted by user id.
 * Another domain's JID (even one served here) does not offer the service
 * to this user: service-unavailable, so no account of another domain can
 * ever be listed. */
#include "modules/module.h"
#include "core/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/i18n.h"
#include "core/log.h"
#include "directory/dir_query.h"
#include "modules/vcard_build.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define NS_SEARCH "jabber:iq:search"
#define NS_DATA   "jabber:x:data"
#define SEARCH_MAX 50              /* results per search (T_SEARCH_TRUNCATED says 50) */
#define SEARCH_MAX_PENDING 4       /* searches in flight per session */

static const char *const search_attrs[] = {
    "uid", "givenName", "sn", "mailPrimaryAddress", "mail", NULL,
};

/* Per-session slot: the number of searches in flight, kept in the pointer
 * itself (no allocation, nothing to free). */
static int slot = -1;

static unsigned pending(session *s)
{
    return slot < 0 ? 0 : (unsigned)(uintptr_t)s->slots[slot];
}

static void pending_add(session *s, int d)
{
    if (slot >= 0)
        s->slots[slot] = (void *)(uintptr_t)(pending(s) + (unsigned)d);
}

static const char *lang_of(session *s, const xnode *iq)
{
    const char *lang = xnode_attr(iq, "xml:lang");
    return lang && *lang ? lang : s->lang;
}

/* ---- building the forms ---- */

static void add_text(xnode *parent, const char *name, const char *ns, const char *value)
{
    xnode *c = xnode_add_child(parent, name, ns);
    if (value)
        xnode_add_text(c, value, strlen(value));
}

static xnode *add_field(xnode *x, const char *var, const char *type, const char *label)
{
    xnode *f = xnode_add_child(x, "field", NS_DATA);
    xnode_set_attr(f, "var", var);
    if (type)
        xnode_set_attr(f, "type", type);
    if (label)
        xnode_set_attr(f, "label", label);
    return f;
}

static void add_form_type(xnode *x)
{
    add_text(add_field(x, "FORM_TYPE", "hidden", NULL), "value", NS_DATA, NS_SEARCH);
}

static const struct {
    const char *var;
    text_id label;
} fields[] = {
    { "user", T_SEARCH_USER },
    { "given", T_SEARCH_GIVEN },
    { "family", T_SEARCH_FAMILY },
    { "email", T_SEARCH_EMAIL },
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static xnode *search_form(const char *lang)
{
    xnode *q = xnode_new("query", NS_SEARCH);
    add_text(q, "instructions", NS_SEARCH, i18n(lang, T_SEARCH_INSTRUCTIONS));
    /* legacy fields for clients without data forms */
    static const char *const legacy[] = { "first", "last", "nick", "email" };
    for (size_t i = 0; i < 4; i++)
        xnode_add_child(q, legacy[i], NS_SEARCH);
    xnode *x = xnode_add_child(q, "x", NS_DATA);
    xnode_set_attr(x, "type", "form");
    add_text(x, "title", NS_DATA, i18n(lang, T_SEARCH_TITLE));
    add_text(x, "instructions", NS_DATA, i18n(lang, T_SEARCH_INSTRUCTIONS));
    add_form_type(x);
    for (size_t i = 0; i < NFIELDS; i++)
        add_field(x, fields[i].var, "text-single", i18n(lang, fields[i].label));
    return q;
}

/* One result row, with texts borrowed from the record. */
typedef struct row {
    char *uid;                 /* nodeprep'ed, owned */
    const char *given, *family, *email;
} row;

static int row_cmp(const void *a, const void *b)
{
    return strcmp(((const row *)a)->uid, ((const row *)b)->uid);
}

/* The accounts among the records, sorted by user id. A uid that is not a
 * valid localpart, or that several entries share (then none of them is an
 * account, directory.md), is left out. Returns the count; *out malloc'ed. */
static size_t collect_rows(const dir_query_result *res, row **out)
{
    row *rows = xcalloc(res->nrecords ? res->nrecords : 1, sizeof *rows);
    size_t n = 0;
    for (size_t i = 0; rows && i < res->nrecords; i++) {
        const dir_record *r = &res->records[i];
        const char *uid = vcard_text(r, "uid");
        char *prepped = uid ? jid_nodeprep(uid) : NULL;
        if (!prepped)
            continue;
        const char *mail = vcard_text(r, "mailPrimaryAddress");
        rows[n].uid = prepped;
        rows[n].given = vcard_text(r, "givenName");
        rows[n].family = vcard_text(r, "sn");
        rows[n].email = mail ? mail : vcard_text(r, "mail");
        n++;
    }
    if (!rows) {
        *out = NULL;
        return 0;
    }
    qsort(rows, n, sizeof *rows, row_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && !strcmp(rows[j].uid, rows[i].uid))
            j++;
        if (j - i == 1) {
            rows[m++] = rows[i];
        } else {
            log_info("search: %zu entries share uid %s; not an account", j - i, rows[i].uid);
            for (size_t k = i; k < j; k++)
                free(rows[k].uid);
        }
        i = j;
    }
    *out = rows;
    return m;
}

static char *row_jid(const row *r, const char *domain)
{
    size_t n = strlen(r->uid) + 1 + strlen(domain) + 1;
    char *j = xmalloc(n);
    if (j)
        snprintf(j, n, "%s@%s", r->uid, domain);
    return j;
}

static void add_item_field(xnode *item, const char *var, const char *value)
{
    xnode *f = xnode_add_child(item, "field", NS_DATA);
    xnode_set_attr(f, "var", var);
    add_text(f, "value", NS_DATA, value ? value : "");
}

static xnode *result_form(const row *rows, size_t n, bool truncated, const char *domain,
                          const char *lang)
{
    xnode *q = xnode_new("query", NS_SEARCH);
    xnode *x = xnode_add_child(q, "x", NS_DATA);
    xnode_set_attr(x, "type", "result");
    add_text(x, "title", NS_DATA, i18n(lang, truncated ? T_SEARCH_TRUNCATED : T_SEARCH_TITLE));
    add_form_type(x);
    xnode *rep = xnode_add_child(x, "reported", NS_DATA);
    add_field(rep, "jid", "jid-single", i18n(lang, T_SEARCH_JID));
    for (size_t i = 0; i < NFIELDS; i++)
        add_field(rep, fields[i].var, "text-single", i18n(lang, fields[i].label));
    for (size_t i = 0; i < n; i++) {
        char *j = row_jid(&rows[i], domain);
        if (!j)
            continue;
        xnode *item = xnode_add_child(x, "item", NS_DATA);
        add_item_field(item, "jid", j);
        add_item_field(item, "user", rows[i].uid);
        add_item_field(item, "given", rows[i].given);
        add_item_field(item, "family", rows[i].family);
        add_item_field(item, "email", rows[i].email);
        free(j);
    }
    return q;
}

static xnode *result_legacy(const row *rows, size_t n, const char *domain)
{
    xnode *q = xnode_new("query", NS_SEARCH);
    for (size_t i = 0; i < n; i++) {
        char *j = row_jid(&rows[i], domain);
        if (!j)
            continue;
        xnode *item = xnode_add_child(q, "item", NS_SEARCH);
        xnode_set_attr(item, "jid", j);
        add_text(item, "first", NS_SEARCH, rows[i].given);
        add_text(item, "last", NS_SEARCH, rows[i].family);
        add_text(item, "nick", NS_SEARCH, rows[i].uid);
        add_text(item, "email", NS_SEARCH, rows[i].email);
        free(j);
    }
    return q;
}

/* ---- the asynchronous answer ---- */

typedef struct sq {
    worker *w;
    uint64_t sid;
    xnode *iq;
    bool form;                 /* answer with a data form (else legacy) */
} sq;

static void sq_free(void *p)
{
    sq *q = p;
    xnode_free(q->iq);
    free(q);
}

static void search_done(void *arg, const dir_query_result *res)
{
    sq *q = arg;
    session *s = session_find(q->w, q->sid);
    if (!s || s->closing) {
        sq_free(q);
        return;
    }
    if (pending(s))
        pending_add(s, -1);
    const char *lang = lang_of(s, q->iq);
    if (res->status != DIR_QUERY_OK) {
        xnode *r = stanza_error_reply(q->iq, ERR_WAIT, "internal-server-error",
                                      i18n(lang, T_DIRECTORY_BUSY));
        xnode *e = r ? xnode_child(r, "error", NULL) : NULL;
        xnode *t = e ? xnode_child(e, "text", NS_STANZAS) : NULL;
        if (t)
            xnode_set_attr(t, "xml:lang", i18n_lang(lang));
        session_send_free(s, r);
        sq_free(q);
        return;
    }
    row *rows = NULL;
    size_t n = collect_rows(res, &rows);
    xnode *r = iq_result(q->iq);
    xnode_append(r, q->form ? result_form(rows, n, res->truncated, s->domain, lang)
                            : result_legacy(rows, n, s->domain));
    session_send_free(s, r);
    log_debug("search: %s searched %s: %zu results%s", s->bare, s->domain, n,
              res->truncated ? " (truncated)" : "");
    for (size_t i = 0; i < n; i++)
        free(rows[i].uid);
    free(rows);
    sq_free(q);
}

/* ---- the iq handler ---- */

static char *child_text(const xnode *parent, const char *name, const char *ns)
{
    xnode *c = xnode_child(parent, name, ns);
    return c ? xnode_text(c) : NULL;
}

/* The first <value/> of the form field var, malloc'ed, or NULL. */
static char *form_value(const xnode *x, const char *var)
{
    for (xnode *f = xnode_first_element(x); f; f = xnode_next_element(f)) {
        if (strcmp(f->name, "field") != 0 || strcmp(f->ns, NS_DATA) != 0)
            continue;
        const char *v = xnode_attr(f, "var");
        if (v && !strcmp(v, var))
            return child_text(f, "value", NS_DATA);
    }
    return NULL;
}

static void search_iq(session *s, const xnode *iq, const xnode *payload)
{
    const char *to = xnode_attr(iq, "to");
    if (strcmp(payload->name, "query") != 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    /* Only at one's own domain's JID. */
    if (!to || strcmp(to, s->domain) != 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "service-unavailable", NULL));
        return;
    }
    const char *lang = lang_of(s, iq);
    const char *type = xnode_attr(iq, "type");
    if (!type || strcmp(type, "set") != 0) {
        xnode *r = iq_result(iq);
        xnode_append(r, search_form(lang));
        session_send_free(s, r);
        return;
    }
    xnode *x = xnode_child(payload, "x", NS_DATA);
    const char *xtype = x ? xnode_attr(x, "type") : NULL;
    if (x && xtype && strcmp(xtype, "submit") != 0) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    if (pending(s) >= SEARCH_MAX_PENDING) {
        session_send_free(s, stanza_error_reply(iq, ERR_WAIT, "resource-constraint", NULL));
        return;
    }
    char *uid, *given, *family, *email;
    if (x) {
        uid = form_value(x, "user");
        given = form_value(x, "given");
        family = form_value(x, "family");
        email = form_value(x, "email");
    } else {
        uid = child_text(payload, "nick", NS_SEARCH);
        given = child_text(payload, "first", NS_SEARCH);
        family = child_text(payload, "last", NS_SEARCH);
        email = child_text(payload, "email", NS_SEARCH);
    }
    sq *q = xcalloc(1, sizeof *q);
    if (!q) {
        session_send_free(s, stanza_error_reply(iq, ERR_WAIT, "resource-constraint", NULL));
    } else {
        q->w = s->w;
        q->sid = s->id;
        q->iq = xnode_copy(iq);
        q->form = x != NULL;
        pending_add(s, 1);
        dir_search_terms t = { uid, given, family, email };
        dir_query_search(s->w, s->domain, &t, SEARCH_MAX, search_attrs, search_done, sq_free, q);
    }
    free(uid);
    free(given);
    free(family);
    free(email);
}

static void search_init(void)
{
    module_register_iq(NS_SEARCH, search_iq);
    module_add_feature(NS_SEARCH);
}

const module mod_search = {
    .name = "search",
    .init = search_init,
    .slot = &slot,
};
