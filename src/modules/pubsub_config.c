/* pubsub_config.c: node configuration forms, preconditions, stored text and
 * access decisions for the PubSub engine (rules: pubsub_config.h). */
#include "modules/pubsub_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"

static const char *const access_names[] = { "open", "presence", "roster", "whitelist" };
static const char *const send_names[] = { "never", "on_sub", "on_sub_and_presence" };
static const char *const publish_names[] = { "publishers", "open" };
static const char *const aff_names[] = { "none", "outcast", "member", "publisher", "owner" };

static int find_name(const char *const *names, int n, const char *v)
{
    for (int i = 0; v && i < n; i++)
        if (!strcmp(names[i], v))
            return i;
    return -1;
}

const char *ps_aff_name(ps_aff a) { return aff_names[a]; }

int ps_aff_parse(const char *s, ps_aff *out)
{
    int i = find_name(aff_names, 5, s);
    if (i < 0)
        return -1;
    *out = (ps_aff)i;
    return 0;
}

void ps_config_defaults(ps_config *c, bool pep, int limit)
{
    memset(c, 0, sizeof *c);
    c->access = pep ? PEP_ACCESS_PRESENCE : PEP_ACCESS_OPEN;
    c->publish_model = PS_PUBLISH_PUBLISHERS;
    c->persist_items = true;
    c->max_items = pep ? 1 : (limit < 10 ? (limit > 0 ? limit : 1) : 10);
    c->send_last = pep ? PS_SEND_ON_SUB_AND_PRESENCE : PS_SEND_NEVER;
    c->notify_retract = true;
    c->notify_delete = true;
    c->deliver_payloads = true;
}

void ps_config_clear(ps_config *c)
{
    for (int i = 0; c->groups[i]; i++) {
        free(c->groups[i]);
        c->groups[i] = NULL;
    }
}

void ps_config_copy(ps_config *dst, const ps_config *src)
{
    *dst = *src;
    for (int i = 0; src->groups[i]; i++)
        dst->groups[i] = xstrdup(src->groups[i]);
}

static bool parse_bool(const char *v, bool *out)
{
    if (!v)
        return false;
    if (!strcmp(v, "1") || !strcmp(v, "true")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "0") || !strcmp(v, "false")) {
        *out = false;
        return true;
    }
    return false;
}

/* max_items: a positive number up to limit, or "max" (= limit). */
static bool parse_max(const char *v, int limit, int *out)
{
    if (!v)
        return false;
    if (!strcmp(v, "max")) {
        *out = limit;
        return true;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == 0 || *end || n < 1 || n > limit)
        return false;
    *out = (int)n;
    return true;
}

static const char *first_value(const xnode *field, char **owned)
{
    const xnode *v = xnode_child(field, "value", NS_XDATA);
    *owned = v ? xnode_text(v) : NULL;
    return *owned ? *owned : NULL;
}

static const char *form_type(const xnode *x)
{
    for (const xnode *f = xnode_first_element(x); f; f = xnode_next_element(f)) {
        const char *var = xnode_attr(f, "var");
        if (strcmp(f->name, "field") || !var || strcmp(var, "FORM_TYPE"))
            continue;
        const xnode *v = xnode_child(f, "value", NS_XDATA);
        return v && v->children && v->children->text ? v->children->text : "";
    }
    return NULL;
}

static bool form_type_ok(const xnode *x)
{
    const char *t = form_type(x);
    return !t || !strcmp(t, PS_FORM_NODE_CONFIG) || !strcmp(t, PS_FORM_PUBLISH_OPTIONS);
}

/* One field into c; 1 applied, 0 unknown field, -1 bad value. */
static int apply_field(ps_config *c, const xnode *f, int limit)
{
    const char *var = xnode_attr(f, "var");
    char *owned = NULL;
    const char *v = first_value(f, &owned);
    int rc = 1;
    bool b;
    int i;
    if (!strcmp(var, "pubsub#access_model")) {
        if ((i = find_name(access_names, 4, v)) < 0)
            rc = -1;
        else
            c->access = (pep_access)i;
    } else if (!strcmp(var, "pubsub#publish_model")) {
        if ((i = find_name(publish_names, 2, v)) < 0)
            rc = -1;
        else
            c->publish_model = (ps_publish_model)i;
    } else if (!strcmp(var, "pubsub#send_last_published_item")) {
        if ((i = find_name(send_names, 3, v)) < 0)
            rc = -1;
        else
            c->send_last = (ps_send_last)i;
    } else if (!strcmp(var, "pubsub#persist_items")) {
        if (!parse_bool(v, &b))
            rc = -1;
        else
            c->persist_items = b;
    } else if (!strcmp(var, "pubsub#notify_retract")) {
        if (!parse_bool(v, &b))
            rc = -1;
        else
            c->notify_retract = b;
    } else if (!strcmp(var, "pubsub#notify_delete")) {
        if (!parse_bool(v, &b))
            rc = -1;
        else
            c->notify_delete = b;
    } else if (!strcmp(var, "pubsub#deliver_payloads")) {
        if (!parse_bool(v, &b))
            rc = -1;
        else
            c->deliver_payloads = b;
    } else if (!strcmp(var, "pubsub#max_items")) {
        if (!parse_max(v, limit, &i))
            rc = -1;
        else
            c->max_items = i;
    } else if (!strcmp(var, "pubsub#title")) {
        snprintf(c->title, sizeof c->title, "%s", v ? v : "");
    } else if (!strcmp(var, "pubsub#roster_groups_allowed")) {
        ps_config_clear(c);
        int n = 0;
        for (const xnode *e = xnode_first_element(f); e; e = xnode_next_element(e)) {
            if (strcmp(e->name, "value"))
                continue;
            if (n == PS_GROUPS_MAX) {
                rc = -1;
                break;
            }
            char *g = xnode_text(e);
            if (g && *g)
                c->groups[n++] = g;
            else
                free(g);
        }
    } else if (!strcmp(var, "pubsub#deliver_notifications") ||
               !strcmp(var, "pubsub#notification_type") || !strcmp(var, "pubsub#type") ||
               !strcmp(var, "pubsub#node_type") || !strcmp(var, "pubsub#presence_based_delivery")) {
        rc = 1;     /* accepted, fixed behaviour */
    } else {
        rc = 0;
    }
    free(owned);
    return rc;
}

int ps_config_apply(ps_config *c, const xnode *x, int limit, bool strict, const char **bad)
{
    *bad = NULL;
    if (!x || strcmp(x->name, "x") || strcmp(x->ns, NS_XDATA) || !form_type_ok(x)) {
        *bad = "FORM_TYPE";
        return -1;
    }
    const char *type = xnode_attr(x, "type");
    if (type && !strcmp(type, "cancel"))
        return 0;
    ps_config tmp;
    ps_config_copy(&tmp, c);
    for (const xnode *f = xnode_first_element(x); f; f = xnode_next_element(f)) {
        const char *var = xnode_attr(f, "var");
        if (strcmp(f->name, "field") || !var || !strcmp(var, "FORM_TYPE"))
            continue;
        int rc = apply_field(&tmp, f, limit);
        if (rc < 0 || (rc == 0 && strict)) {
            static __thread char name[128];
            snprintf(name, sizeof name, "%s", var);
            *bad = name;
            ps_config_clear(&tmp);
            return -1;
        }
    }
    ps_config_clear(c);
    *c = tmp;
    return 0;
}

static bool groups_equal(const ps_config *a, const ps_config *b)
{
    int i = 0;
    for (; a->groups[i] && b->groups[i]; i++)
        if (strcmp(a->groups[i], b->groups[i]))
            return false;
    return !a->groups[i] && !b->groups[i];
}

static bool same(const ps_config *a, const ps_config *b, const char *var)
{
    if (!strcmp(var, "pubsub#access_model"))
        return a->access == b->access;
    if (!strcmp(var, "pubsub#publish_model"))
        return a->publish_model == b->publish_model;
    if (!strcmp(var, "pubsub#send_last_published_item"))
        return a->send_last == b->send_last;
    if (!strcmp(var, "pubsub#persist_items"))
        return a->persist_items == b->persist_items;
    if (!strcmp(var, "pubsub#notify_retract"))
        return a->notify_retract == b->notify_retract;
    if (!strcmp(var, "pubsub#notify_delete"))
        return a->notify_delete == b->notify_delete;
    if (!strcmp(var, "pubsub#deliver_payloads"))
        return a->deliver_payloads == b->deliver_payloads;
    if (!strcmp(var, "pubsub#max_items"))
        return a->max_items == b->max_items;
    if (!strcmp(var, "pubsub#title"))
        return !strcmp(a->title, b->title);
    if (!strcmp(var, "pubsub#roster_groups_allowed"))
        return groups_equal(a, b);
    return true;
}

bool ps_config_matches(const ps_config *c, const xnode *x, int limit, const char **bad)
{
    *bad = NULL;
    if (!x || strcmp(x->name, "x") || strcmp(x->ns, NS_XDATA) || !form_type_ok(x)) {
        *bad = "FORM_TYPE";
        return false;
    }
    for (const xnode *f = xnode_first_element(x); f; f = xnode_next_element(f)) {
        const char *var = xnode_attr(f, "var");
        if (strcmp(f->name, "field") || !var || !strcmp(var, "FORM_TYPE"))
            continue;
        ps_config want;
        ps_config_copy(&want, c);
        int rc = apply_field(&want, f, limit);
        bool ok = rc > 0 && same(c, &want, var);
        ps_config_clear(&want);
        if (!ok) {
            static __thread char name[128];
            snprintf(name, sizeof name, "%s", var);
            *bad = name;
            return false;
        }
    }
    return true;
}

static void add_field(xnode *x, const char *var, const char *type, const char *value)
{
    xnode *f = xnode_add_child(x, "field", NS_XDATA);
    xnode_set_attr(f, "var", var);
    if (type)
        xnode_set_attr(f, "type", type);
    if (value) {
        xnode *v = xnode_add_child(f, "value", NS_XDATA);
        xnode_add_text(v, value, strlen(value));
    }
}

static void add_options(xnode *f, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        xnode *o = xnode_add_child(f, "option", NS_XDATA);
        xnode *v = xnode_add_child(o, "value", NS_XDATA);
        xnode_add_text(v, names[i], strlen(names[i]));
    }
}

xnode *ps_config_form(const ps_config *c, int limit)
{
    (void)limit;
    xnode *x = xnode_new("x", NS_XDATA);
    xnode_set_attr(x, "type", "form");
    add_field(x, "FORM_TYPE", "hidden", PS_FORM_NODE_CONFIG);
    add_field(x, "pubsub#title", "text-single", c->title);
    add_field(x, "pubsub#access_model", "list-single", access_names[c->access]);
    add_options(x->last, access_names, 4);
    add_field(x, "pubsub#publish_model", "list-single", publish_names[c->publish_model]);
    add_options(x->last, publish_names, 2);
    add_field(x, "pubsub#persist_items", "boolean", c->persist_items ? "1" : "0");
    char n[24];
    snprintf(n, sizeof n, "%d", c->max_items);
    add_field(x, "pubsub#max_items", "text-single", n);
    add_field(x, "pubsub#send_last_published_item", "list-single", send_names[c->send_last]);
    add_options(x->last, send_names, 3);
    add_field(x, "pubsub#notify_retract", "boolean", c->notify_retract ? "1" : "0");
    add_field(x, "pubsub#notify_delete", "boolean", c->notify_delete ? "1" : "0");
    add_field(x, "pubsub#deliver_payloads", "boolean", c->deliver_payloads ? "1" : "0");
    add_field(x, "pubsub#roster_groups_allowed", "list-multi", NULL);
    for (int i = 0; c->groups[i]; i++) {
        xnode *v = xnode_add_child(x->last, "value", NS_XDATA);
        xnode_add_text(v, c->groups[i], strlen(c->groups[i]));
    }
    return x;
}

char *ps_config_serialize(const ps_config *c)
{
    buf b = {0};
    buf_printf(&b, "access=%s\npublish=%s\npersist=%d\nmax=%d\nsend_last=%s\nnotify_retract=%d\n"
               "notify_delete=%d\ndeliver_payloads=%d\n", access_names[c->access],
               publish_names[c->publish_model], c->persist_items, c->max_items,
               send_names[c->send_last], c->notify_retract, c->notify_delete,
               c->deliver_payloads);
    if (c->title[0] && !strchr(c->title, '\n'))
        buf_printf(&b, "title=%s\n", c->title);
    for (int i = 0; c->groups[i]; i++)
        if (!strchr(c->groups[i], '\n'))
            buf_printf(&b, "group=%s\n", c->groups[i]);
    return buf_steal(&b);
}

void ps_config_parse(ps_config *c, const char *text, int limit)
{
    int ng = 0;
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        char line[1100];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1),
                 text);
        char *eq = strchr(line, '=');
        if (eq) {
            *eq = 0;
            const char *k = line, *v = eq + 1;
            int i;
            if (!strcmp(k, "access") && (i = find_name(access_names, 4, v)) >= 0)
                c->access = (pep_access)i;
            else if (!strcmp(k, "publish") && (i = find_name(publish_names, 2, v)) >= 0)
                c->publish_model = (ps_publish_model)i;
            else if (!strcmp(k, "send_last") && (i = find_name(send_names, 3, v)) >= 0)
                c->send_last = (ps_send_last)i;
            else if (!strcmp(k, "persist"))
                c->persist_items = atoi(v) != 0;
            else if (!strcmp(k, "max")) {
                i = atoi(v);
                c->max_items = i < 1 ? 1 : i > limit ? limit : i;
            } else if (!strcmp(k, "notify_retract"))
                c->notify_retract = atoi(v) != 0;
            else if (!strcmp(k, "notify_delete"))
                c->notify_delete = atoi(v) != 0;
            else if (!strcmp(k, "deliver_payloads"))
                c->deliver_payloads = atoi(v) != 0;
            else if (!strcmp(k, "title"))
                snprintf(c->title, sizeof c->title, "%s", v);
            else if (!strcmp(k, "group") && ng < PS_GROUPS_MAX && *v)
                c->groups[ng++] = xstrdup(v);
        }
        text = nl ? nl + 1 : NULL;
    }
}

ps_access_result ps_access_check(const ps_config *c, const ps_rel *r)
{
    if (r->aff == PS_AFF_OUTCAST)
        return PS_ACCESS_OUTCAST;
    if (r->owner || r->aff >= PS_AFF_MEMBER)
        return PS_ACCESS_OK;
    switch (c->access) {
    case PEP_ACCESS_OPEN:
        return PS_ACCESS_OK;
    case PEP_ACCESS_PRESENCE:
        return r->presence_sub ? PS_ACCESS_OK : PS_ACCESS_PRESENCE_REQUIRED;
    case PEP_ACCESS_ROSTER:
        for (int i = 0; c->groups[i]; i++)
            for (int j = 0; r->groups && r->groups[j]; j++)
                if (!strcmp(c->groups[i], r->groups[j]))
                    return PS_ACCESS_OK;
        return PS_ACCESS_NOT_IN_GROUP;
    case PEP_ACCESS_WHITELIST:
        return PS_ACCESS_CLOSED;
    }
    return PS_ACCESS_CLOSED;
}

bool ps_may_publish(const ps_config *c, const ps_rel *r)
{
    if (r->aff == PS_AFF_OUTCAST)
        return false;
    if (r->owner || r->aff >= PS_AFF_PUBLISHER)
        return true;
    return c->publish_model == PS_PUBLISH_OPEN;
}
