/* muc_config.c: a room's configuration: defaults, the muc#roomconfig form
 * (XEP-0045 §10.1, §15.5.3) and its submission, and what disco#info says
 * about the room (features and the muc#roominfo form). */
#include "modules/muc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "modules/disco.h"

#define NS_DATA "jabber:x:data"

static const char *const aff_names[] = { "outcast", "none", "member", "admin", "owner" };
static const char *const role_names[] = { "none", "visitor", "participant", "moderator" };
static const char *const pm_names[] = { "anyone", "participants", "moderators", "none" };

const char *muc_affiliation_name(muc_affiliation a) { return aff_names[a]; }
const char *muc_role_name(muc_role r) { return role_names[r]; }

int muc_affiliation_parse(const char *name)
{
    for (int i = 0; name && i < 5; i++)
        if (!strcmp(aff_names[i], name))
            return i;
    return -1;
}

int muc_role_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(role_names[i], name))
            return i;
    return -1;
}

void muc_config_defaults(muc_config *c)
{
    memset(c, 0, sizeof *c);
    c->public_room = true;
    c->max_users = MUC_MAXUSERS_DEFAULT;
    c->whois = MUC_WHOIS_MODERATORS;
    c->history_length = MUC_HISTORY_DEFAULT;
    c->allow_pm = MUC_PM_ANYONE;
    c->allow_invites = false;
    c->change_subject = true;
}

static char *dup0(const char *s) { return s ? xstrdup(s) : NULL; }

void muc_config_copy(muc_config *dst, const muc_config *src)
{
    *dst = *src;
    dst->name = dup0(src->name);
    dst->desc = dup0(src->desc);
    dst->password = dup0(src->password);
}

void muc_config_clear(muc_config *c)
{
    free(c->name);
    free(c->desc);
    free(c->password);
    c->name = c->desc = c->password = NULL;
}

/* ---- the form ---- */

static xnode *field(xnode *x, const char *var, const char *type, const char *label,
                    const char *value)
{
    xnode *f = xnode_add_child(x, "field", NS_DATA);
    xnode_set_attr(f, "var", var);
    if (type)
        xnode_set_attr(f, "type", type);
    if (label)
        xnode_set_attr(f, "label", label);
    if (value) {
        xnode *v = xnode_add_child(f, "value", NS_DATA);
        xnode_add_text(v, value, strlen(value));
    }
    return f;
}

static void option(xnode *f, const char *label, const char *value)
{
    xnode *o = xnode_add_child(f, "option", NS_DATA);
    xnode_set_attr(o, "label", label);
    xnode *v = xnode_add_child(o, "value", NS_DATA);
    xnode_add_text(v, value, strlen(value));
}

static const char *b(bool v) { return v ? "1" : "0"; }

xnode *muc_config_form(const muc_room *r)
{
    const muc_config *c = &r->cfg;
    xnode *x = xnode_new("x", NS_DATA);
    xnode_set_attr(x, "type", "form");
    xnode *t = xnode_add_child(x, "title", NS_DATA);
    xnode_add_text(t, "Room configuration", 18);
    field(x, "FORM_TYPE", "hidden", NULL, NS_MUC_CONFIG);
    field(x, "muc#roomconfig_roomname", "text-single", "Name", c->name ? c->name : "");
    field(x, "muc#roomconfig_roomdesc", "text-single", "Description", c->desc ? c->desc : "");
    field(x, "muc#roomconfig_persistentroom", "boolean", "Persistent", b(c->persistent));
    field(x, "muc#roomconfig_publicroom", "boolean", "Listed in the directory",
          b(c->public_room));
    field(x, "muc#roomconfig_membersonly", "boolean", "Members only", b(c->members_only));
    field(x, "muc#roomconfig_moderatedroom", "boolean", "Moderated", b(c->moderated));
    field(x, "muc#roomconfig_passwordprotectedroom", "boolean", "Password protected",
          b(c->password_protected));
    field(x, "muc#roomconfig_roomsecret", "text-private", "Password",
          c->password ? c->password : "");
    char n[16];
    snprintf(n, sizeof n, "%d", c->max_users);
    xnode *f = field(x, "muc#roomconfig_maxusers", "list-single", "Maximum occupants", n);
    static const char *const sizes[] = { "10", "20", "30", "50", "100", "200", "500", "1000" };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        option(f, sizes[i], sizes[i]);
    f = field(x, "muc#roomconfig_whois", "list-single", "Who may see real JIDs",
              c->whois == MUC_WHOIS_ANYONE ? "anyone" : "moderators");
    option(f, "Moderators", "moderators");
    option(f, "Anyone", "anyone");
    snprintf(n, sizeof n, "%d", c->history_length);
    field(x, "muc#maxhistoryfetch", "text-single", "History length", n);
    snprintf(n, sizeof n, "%d", c->history_length);
    field(x, "muc#roomconfig_historylength", "text-single", "History length", n);
    f = field(x, "muc#roomconfig_allowpm", "list-single", "Who may send private messages",
              pm_names[c->allow_pm]);
    for (int i = 0; i < 4; i++)
        option(f, pm_names[i], pm_names[i]);
    field(x, "muc#roomconfig_allowinvites", "boolean", "Occupants may invite",
          b(c->allow_invites));
    field(x, "muc#roomconfig_changesubject", "boolean", "Occupants may change the subject",
          b(c->change_subject));
    return x;
}

static char *value_of(const xnode *f)
{
    const xnode *v = xnode_child(f, "value", NULL);
    return v ? xnode_text(v) : xstrdup("");
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true"))
        *out = true;
    else if (!strcmp(v, "0") || !strcmp(v, "false"))
        *out = false;
    else
        return false;
    return true;
}

static bool parse_int(const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || x < lo)
        return false;
    *out = x > hi ? hi : (int)x;
    return true;
}

int muc_config_apply(muc_room *r, const xnode *x)
{
    muc_config c;
    muc_config_copy(&c, &r->cfg);
    bool ok = true;
    for (const xnode *f = xnode_first_element(x); f && ok; f = xnode_next_element(f)) {
        const char *var = xnode_attr(f, "var");
        if (!var || strcmp(f->name, "field"))
            continue;
        char *v = value_of(f);
        if (!strcmp(var, "FORM_TYPE")) {
            ok = !strcmp(v, NS_MUC_CONFIG);   /* another form: not ours to apply */
        } else if (!strcmp(var, "muc#roomconfig_roomname")) {
            free(c.name);
            c.name = *v ? xstrdup(v) : NULL;
        } else if (!strcmp(var, "muc#roomconfig_roomdesc")) {
            free(c.desc);
            c.desc = *v ? xstrdup(v) : NULL;
        } else if (!strcmp(var, "muc#roomconfig_roomsecret")) {
            free(c.password);
            c.password = *v ? xstrdup(v) : NULL;
        } else if (!strcmp(var, "muc#roomconfig_persistentroom")) {
            ok = parse_bool(v, &c.persistent);
        } else if (!strcmp(var, "muc#roomconfig_publicroom")) {
            ok = parse_bool(v, &c.public_room);
        } else if (!strcmp(var, "muc#roomconfig_membersonly")) {
            ok = parse_bool(v, &c.members_only);
        } else if (!strcmp(var, "muc#roomconfig_moderatedroom")) {
            ok = parse_bool(v, &c.moderated);
        } else if (!strcmp(var, "muc#roomconfig_passwordprotectedroom")) {
            ok = parse_bool(v, &c.password_protected);
        } else if (!strcmp(var, "muc#roomconfig_allowinvites")) {
            ok = parse_bool(v, &c.allow_invites);
        } else if (!strcmp(var, "muc#roomconfig_changesubject")) {
            ok = parse_bool(v, &c.change_subject);
        } else if (!strcmp(var, "muc#roomconfig_maxusers")) {
            ok = !strcmp(v, "none") ? (c.max_users = MUC_MAXUSERS_CAP, true)
                                    : parse_int(v, 1, MUC_MAXUSERS_CAP, &c.max_users);
        } else if (!strcmp(var, "muc#roomconfig_historylength") ||
                   !strcmp(var, "muc#maxhistoryfetch")) {
            ok = parse_int(v, 0, MUC_HISTORY_MAX, &c.history_length);
        } else if (!strcmp(var, "muc#roomconfig_whois")) {
            if (!strcmp(v, "anyone"))
                c.whois = MUC_WHOIS_ANYONE;
            else if (!strcmp(v, "moderators"))
                c.whois = MUC_WHOIS_MODERATORS;
            else
                ok = false;
        } else if (!strcmp(var, "muc#roomconfig_allowpm")) {
            int i = 0;
            while (i < 4 && strcmp(pm_names[i], v))
                i++;
            ok = i < 4;
            if (ok)
                c.allow_pm = (muc_allowpm)i;
        }
        free(v);
    }
    if (ok && c.password_protected && !c.password)
        ok = false;
    if (!ok) {
        muc_config_clear(&c);
        return -1;
    }
    bool was_persistent = r->cfg.persistent;
    muc_config_clear(&r->cfg);
    r->cfg = c;
    muc_hist_resize(r);
    (void)was_persistent;
    return 0;
}

/* ---- disco#info of a room ---- */

static void feature(xnode *q, const char *var)
{
    xnode_set_attr(xnode_add_child(q, "feature", NS_DISCO_INFO), "var", var);
}

xnode *muc_room_info(const muc_room *r)
{
    const muc_config *c = &r->cfg;
    xnode *q = xnode_new("query", NS_DISCO_INFO);
    xnode *id = xnode_add_child(q, "identity", NS_DISCO_INFO);
    xnode_set_attr(id, "category", "conference");
    xnode_set_attr(id, "type", "text");
    if (c->name)
        xnode_set_attr(id, "name", c->name);
    feature(q, NS_MUC);
    feature(q, NS_DISCO_INFO);
    feature(q, NS_DISCO_ITEMS);
    feature(q, "urn:xmpp:sid:0");
    feature(q, "urn:xmpp:ping");
    feature(q, c->persistent ? "muc_persistent" : "muc_temporary");
    feature(q, c->members_only ? "muc_membersonly" : "muc_open");
    feature(q, c->moderated ? "muc_moderated" : "muc_unmoderated");
    feature(q, c->password_protected ? "muc_passwordprotected" : "muc_unsecured");
    feature(q, c->public_room ? "muc_public" : "muc_hidden");
    feature(q, c->whois == MUC_WHOIS_ANYONE ? "muc_nonanonymous" : "muc_semianonymous");
    xnode *x = xnode_add_child(q, "x", NS_DATA);
    xnode_set_attr(x, "type", "result");
    field(x, "FORM_TYPE", "hidden", NULL, NS_MUC_INFO);
    field(x, "muc#roominfo_description", NULL, "Description", c->desc ? c->desc : "");
    char n[16];
    snprintf(n, sizeof n, "%zu", r->nocc);
    field(x, "muc#roominfo_occupants", NULL, "Occupants", n);
    char *subj = NULL;
    const xnode *s = r->subject ? xnode_child(r->subject, "subject", NULL) : NULL;
    if (s)
        subj = xnode_text(s);
    field(x, "muc#roominfo_subject", NULL, "Subject", subj ? subj : "");
    free(subj);
    field(x, "muc#roomconfig_changesubject", NULL, NULL, c->change_subject ? "1" : "0");
    return q;
}
