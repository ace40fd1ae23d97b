/* muc_persist_codec.c: room configuration to and from the stored text
 * (muc_persist_codec.h). */
#include "modules/muc_persist_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"

static void put_str(buf *b, const char *key, const char *v)
{
    if (!v)
        return;
    buf_puts(b, key);
    buf_puts(b, "\t");
    for (const char *p = v; *p; p++) {
        if (*p == '\\')
            buf_puts(b, "\\\\");
        else if (*p == '\t')
            buf_puts(b, "\\t");
        else if (*p == '\n')
            buf_puts(b, "\\n");
        else
            buf_append(b, p, 1);
    }
    buf_puts(b, "\n");
}

static void put_int(buf *b, const char *key, long v)
{
    char s[32];
    snprintf(s, sizeof s, "%ld", v);
    put_str(b, key, s);
}

char *muc_config_encode(const muc_config *c)
{
    buf b;
    buf_init(&b);
    put_str(&b, "name", c->name);
    put_str(&b, "desc", c->desc);
    put_str(&b, "password", c->password);
    put_int(&b, "persistent", c->persistent);
    put_int(&b, "public", c->public_room);
    put_int(&b, "membersonly", c->members_only);
    put_int(&b, "moderated", c->moderated);
    put_int(&b, "passwordprotected", c->password_protected);
    put_int(&b, "maxusers", c->max_users);
    put_int(&b, "whois", c->whois);
    put_int(&b, "history", c->history_length);
    put_int(&b, "allowpm", c->allow_pm);
    put_int(&b, "allowinvites", c->allow_invites);
    put_int(&b, "changesubject", c->change_subject);
    char *out = buf_steal(&b);
    return out ? out : xstrdup("");
}

/* The unescaped copy of v[0..n). */
static char *unescape(const char *v, size_t n)
{
    char *out = xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\\' && i + 1 < n) {
            i++;
            *o++ = v[i] == 't' ? '\t' : v[i] == 'n' ? '\n' : v[i];
        } else {
            *o++ = v[i];
        }
    }
    *o = '\0';
    return out;
}

static void set_str(char **dst, char *v)
{
    free(*dst);
    *dst = v;
}

static long clamp(const char *v, long lo, long hi, long dflt)
{
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (!end || end == v || *end)
        return dflt;
    return n < lo ? lo : n > hi ? hi : n;
}

static void apply(muc_config *c, const char *key, char *v)
{
    if (!strcmp(key, "name")) {
        set_str(&c->name, v);
        return;
    }
    if (!strcmp(key, "desc")) {
        set_str(&c->desc, v);
        return;
    }
    if (!strcmp(key, "password")) {
        set_str(&c->password, v);
        return;
    }
    if (!strcmp(key, "persistent"))
        c->persistent = clamp(v, 0, 1, c->persistent);
    else if (!strcmp(key, "public"))
        c->public_room = clamp(v, 0, 1, c->public_room);
    else if (!strcmp(key, "membersonly"))
        c->members_only = clamp(v, 0, 1, c->members_only);
    else if (!strcmp(key, "moderated"))
        c->moderated = clamp(v, 0, 1, c->moderated);
    else if (!strcmp(key, "passwordprotected"))
        c->password_protected = clamp(v, 0, 1, c->password_protected);
    else if (!strcmp(key, "maxusers"))
        c->max_users = (int)clamp(v, 1, MUC_MAXUSERS_CAP, c->max_users);
    else if (!strcmp(key, "whois"))
        c->whois = (muc_whois)clamp(v, MUC_WHOIS_MODERATORS, MUC_WHOIS_ANYONE, c->whois);
    else if (!strcmp(key, "history"))
        c->history_length = (int)clamp(v, 0, MUC_HISTORY_MAX, c->history_length);
    else if (!strcmp(key, "allowpm"))
        c->allow_pm = (muc_allowpm)clamp(v, MUC_PM_ANYONE, MUC_PM_NONE, c->allow_pm);
    else if (!strcmp(key, "allowinvites"))
        c->allow_invites = clamp(v, 0, 1, c->allow_invites);
    else if (!strcmp(key, "changesubject"))
        c->change_subject = clamp(v, 0, 1, c->change_subject);
    free(v);
}

void muc_config_decode(const char *text, muc_config *c)
{
    const char *p = text ? text : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *tab = memchr(p, '\t', len);
        if (tab && (size_t)(tab - p) < 32) {
            char key[32];
            memcpy(key, p, (size_t)(tab - p));
            key[tab - p] = '\0';
            apply(c, key, unescape(tab + 1, len - (size_t)(tab - p) - 1));
        }
        p += len;
        if (*p == '\n')
            p++;
    }
}
