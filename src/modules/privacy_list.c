/* privacy_list.c: a privacy list (XEP-0016 1.7 §2.1) as a value: parsed
 * from a client's <list/> with every check the XEP asks for, written back
 * as XML, and kept in the store as text, one line per item:
 *   "<order> <a|d> <j|g|s|-> <kinds hex> <value>\n"
 * with '\\' and newline in the value escaped as "\\\\" and "\\n". Pure
 * code: no locks, no I/O (unit-tested in tests/unit/test_privacy.c). */
#include "modules/privacy.h"
#include "core/alloc.h"
#include "core/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sub_names[] = { "none", "to", "from", "both" };

static int sub_parse(const char *s, privacy_sub *out)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, sub_names[i])) {
            *out = (privacy_sub)i;
            return 0;
        }
    return -1;
}

void privacy_item_clear(privacy_item *it)
{
    free(it->value);
    it->value = NULL;
    if (it->type == PRIV_JID)
        jid_clear(&it->j);
    memset(&it->j, 0, sizeof it->j);
}

void privacy_item_copy(privacy_item *dst, const privacy_item *src)
{
    *dst = *src;
    dst->value = src->value ? xstrdup(src->value) : NULL;
    memset(&dst->j, 0, sizeof dst->j);
    if (src->type == PRIV_JID)
        jid_copy(&src->j, &dst->j);
}

bool privacy_item_is_block(const privacy_item *it)
{
    return it->type == PRIV_JID && !it->allow && it->kinds == 0;
}

static int cmp_item(const void *a, const void *b)
{
    uint32_t x = ((const privacy_item *)a)->order, y = ((const privacy_item *)b)->order;
    return x < y ? -1 : x > y;
}

privacy_list *privacy_list_new(const char *name, privacy_item *items, size_t n)
{
    privacy_list *l = xcalloc(1, sizeof *l);
    atomic_init(&l->refs, 1);
    l->name = xstrdup(name);
    l->items = items;
    l->n = n;
    if (n)
        qsort(items, n, sizeof *items, cmp_item);
    for (size_t i = 0; i < n; i++)
        if (items[i].type == PRIV_GROUP || items[i].type == PRIV_SUB)
            l->needs_roster = true;
    return l;
}

privacy_list *privacy_list_ref(privacy_list *l)
{
    if (l)
        atomic_fetch_add(&l->refs, 1);
    return l;
}

void privacy_list_unref(privacy_list *l)
{
    if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    for (size_t i = 0; i < l->n; i++)
        privacy_item_clear(&l->items[i]);
    free(l->items);
    free(l->name);
    free(l);
}

static void items_free(privacy_item *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        privacy_item_clear(&v[i]);
    free(v);
}

/* Decimal digits only, within uint32 (xs:unsignedInt). */
static int order_parse(const char *s, uint32_t *out)
{
    if (!s || !*s || strlen(s) > 10)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static unsigned kind_of_name(const char *name)
{
    if (!strcmp(name, "message"))
        return PRIV_K_MESSAGE;
    if (!strcmp(name, "iq"))
        return PRIV_K_IQ;
    if (!strcmp(name, "presence-in"))
        return PRIV_K_PRESENCE_IN;
    if (!strcmp(name, "presence-out"))
        return PRIV_K_PRESENCE_OUT;
    return 0;
}

/* One <item/>; NULL on success, else the reason. */
static const char *item_parse(const xnode *x, privacy_item *it)
{
    memset(it, 0, sizeof *it);
    const char *type = xnode_attr(x, "type"), *value = xnode_attr(x, "value");
    const char *action = xnode_attr(x, "action"), *order = xnode_attr(x, "order");
    if (!action || (strcmp(action, "allow") && strcmp(action, "deny")))
        return "item without a valid action";
    it->allow = !strcmp(action, "allow");
    if (order_parse(order, &it->order) != 0)
        return "item without a valid order";
    for (const xnode *c = xnode_first_element(x); c; c = xnode_next_element(c)) {
        unsigned k = strcmp(c->ns, NS_PRIVACY) ? 0 : kind_of_name(c->name);
        if (!k)
            return "item with an unknown child";
        it->kinds |= k;
    }
    if (it->kinds == (PRIV_K_MESSAGE | PRIV_K_IQ | PRIV_K_PRESENCE_IN | PRIV_K_PRESENCE_OUT))
        it->kinds = 0;
    if (!type) {
        if (value)
            return "item with a value but no type";
        it->type = PRIV_FALL;
        return NULL;
    }
    if (!value || !*value)
        return "item with a type but no value";
    if (strlen(value) > PRIVACY_MAX_NAME)
        return "item value too long";
    if (!strcmp(type, "jid")) {
        if (jid_parse(value, &it->j) != 0)
            return "item with an invalid JID";
        it->type = PRIV_JID;
        it->value = jid_to_string(&it->j);
    } else if (!strcmp(type, "group")) {
        it->type = PRIV_GROUP;
        it->value = xstrdup(value);
    } else if (!strcmp(type, "subscription")) {
        if (sub_parse(value, &it->sub) != 0)
            return "item with an unknown subscription";
        it->type = PRIV_SUB;
        it->value = xstrdup(sub_names[it->sub]);
    } else {
        return "item with an unknown type";
    }
    return NULL;
}

privacy_list *privacy_list_parse(const xnode *list, size_t max_items, privacy_err *err,
                                 const char **why)
{
    *err = PRIV_BAD;
    const char *name = xnode_attr(list, "name");
    if (!name || !*name || strlen(name) > PRIVACY_MAX_NAME) {
        *why = "list without a valid name";
        return NULL;
    }
    size_t cap = 0;
    for (const xnode *c = xnode_first_element(list); c; c = xnode_next_element(c))
        if (++cap > max_items) {
            *err = PRIV_TOO_MANY;
            *why = "too many items";
            return NULL;
        }
    privacy_item *v = xcalloc(cap ? cap : 1, sizeof *v);
    size_t n = 0;
    for (const xnode *c = xnode_first_element(list); c; c = xnode_next_element(c)) {
        if (strcmp(c->name, "item") || strcmp(c->ns, NS_PRIVACY)) {
            *why = "unknown element in the list";
            goto bad;
        }
        const char *r = item_parse(c, &v[n]);
        n++;
        if (r) {
            *why = r;
            goto bad;
        }
    }
    privacy_list *l = privacy_list_new(name, v, n);
    for (size_t i = 1; i < l->n; i++)
        if (l->items[i].order == l->items[i - 1].order) {
            privacy_list_unref(l);
            *why = "two items with the same order";
            return NULL;
        }
    *err = PRIV_OK;
    return l;
bad:
    items_free(v, n);
    return NULL;
}

static const char *const type_names[] = { NULL, "jid", "group", "subscription" };

xnode *privacy_list_xml(const privacy_list *l)
{
    xnode *x = xnode_new("list", NS_PRIVACY);
    xnode_set_attr(x, "name", l->name);
    for (size_t i = 0; i < l->n; i++) {
        const privacy_item *it = &l->items[i];
        xnode *e = xnode_add_child(x, "item", NS_PRIVACY);
        if (it->type != PRIV_FALL) {
            xnode_set_attr(e, "type", type_names[it->type]);
            xnode_set_attr(e, "value", it->value);
        }
        xnode_set_attr(e, "action", it->allow ? "allow" : "deny");
        char ord[16];
        snprintf(ord, sizeof ord, "%u", (unsigned)it->order);
        xnode_set_attr(e, "order", ord);
        if (it->kinds & PRIV_K_MESSAGE)
            xnode_add_child(e, "message", NS_PRIVACY);
        if (it->kinds & PRIV_K_IQ)
            xnode_add_child(e, "iq", NS_PRIVACY);
        if (it->kinds & PRIV_K_PRESENCE_IN)
            xnode_add_child(e, "presence-in", NS_PRIVACY);
        if (it->kinds & PRIV_K_PRESENCE_OUT)
            xnode_add_child(e, "presence-out", NS_PRIVACY);
    }
    return x;
}

static const char type_letters[] = "-jgs";

char *privacy_list_encode(const privacy_list *l)
{
    buf b;
    buf_init(&b);
    for (size_t i = 0; i < l->n; i++) {
        const privacy_item *it = &l->items[i];
        char head[48];
        int k = snprintf(head, sizeof head, "%u %c %c %x ", (unsigned)it->order,
                         it->allow ? 'a' : 'd', type_letters[it->type], it->kinds);
        buf_append(&b, head, (size_t)k);
        for (const char *p = it->value ? it->value : ""; *p; p++) {
            if (*p == '\\')
                buf_append(&b, "\\\\", 2);
            else if (*p == '\n')
                buf_append(&b, "\\n", 2);
            else
                buf_append(&b, p, 1);
        }
        buf_append(&b, "\n", 1);
    }
    char *s = buf_steal(&b);
    return s ? s : xstrdup("");
}

/* One line (without its newline) into it; 0 or -1. */
static int line_decode(const char *s, size_t len, privacy_item *it)
{
    memset(it, 0, sizeof *it);
    char *line = xmalloc(len + 1);
    memcpy(line, s, len);
    line[len] = '\0';
    unsigned order = 0, kinds = 0;
    char act = 0, typ = 0;
    int used = 0;
    int rc = -1;
    if (sscanf(line, "%u %c %c %x %n", &order, &act, &typ, &kinds, &used) < 4 || used <= 0 ||
        (act != 'a' && act != 'd') || kinds > 15)
        goto out;
    const char *t = strchr(type_letters, typ);
    if (!t || !typ)
        goto out;
    it->type = (privacy_type)(t - type_letters);
    it->allow = act == 'a';
    it->order = order;
    it->kinds = kinds;
    char *v = xmalloc(len - (size_t)used + 1), *o = v;
    for (const char *p = line + used; *p; p++) {
        if (*p == '\\' && p[1] == 'n') {
            *o++ = '\n';
            p++;
        } else if (*p == '\\' && p[1] == '\\') {
            *o++ = '\\';
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    if (it->type == PRIV_FALL) {
        free(v);
        rc = *(line + used) ? -1 : 0;
        goto out;
    }
    it->value = v;
    if (it->type == PRIV_JID && jid_parse(v, &it->j) != 0) {
        it->type = PRIV_FALL;
        goto out;
    }
    if (it->type == PRIV_SUB && sub_parse(v, &it->sub) != 0)
        goto out;
    rc = 0;
out:
    free(line);
    if (rc != 0) {
        free(it->value);
        it->value = NULL;
        memset(&it->j, 0, sizeof it->j);
    }
    return rc;
}

privacy_list *privacy_list_decode(const char *name, const char *text)
{
    if (!name || !text)
        return NULL;
    size_t cap = 0;
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    privacy_item *v = xcalloc(cap ? cap : 1, sizeof *v);
    size_t n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl || n >= cap || line_decode(p, (size_t)(nl - p), &v[n]) != 0) {
            items_free(v, n);
            return NULL;
        }
        n++;
        p = nl + 1;
    }
    return privacy_list_new(name, v, n);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **privacy_list_blocks(const privacy_list *l, size_t *n)
{
    *n = 0;
    char **v = xcalloc(l && l->n ? l->n : 1, sizeof *v);
    for (size_t i = 0; l && i < l->n; i++)
        if (privacy_item_is_block(&l->items[i]))
            v[(*n)++] = xstrdup(l->items[i].value);
    qsort(v, *n, sizeof *v, cmp_str);
    /* one value may appear in two items */
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        if (k && !strcmp(v[k - 1], v[i]))
            free(v[i]);
        else
            v[k++] = v[i];
    }
    *n = k;
    return v;
}

privacy_list *privacy_list_with_blocks(const privacy_list *base, const char *name,
                                       char *const *jids, size_t n)
{
    size_t nb = base ? base->n : 0;
    privacy_item *v = xcalloc(nb + n + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        jid parsed;
        if (jid_parse(jids[i], &parsed) != 0)
            continue;
        char *str = jid_to_string(&parsed);
        bool have = false;
        for (size_t j = 0; j < nb && !have; j++)
            have = privacy_item_is_block(&base->items[j]) && !strcmp(base->items[j].value, str);
        for (size_t j = 0; j < k && !have; j++)
            have = !strcmp(v[j].value, str);
        if (have) {
            free(str);
            jid_clear(&parsed);
            continue;
        }
        privacy_item *it = &v[k++];
        it->type = PRIV_JID;
        it->j = parsed;
        it->value = str;
        it->allow = false;
    }
    size_t nnew = k;
    uint32_t first = nb ? base->items[0].order : 0;
    bool room = first >= nnew;
    for (size_t i = 0; i < nnew; i++)
        v[i].order = room ? first - (uint32_t)(nnew - i) : (uint32_t)i;
    for (size_t j = 0; j < nb; j++) {
        privacy_item_copy(&v[k], &base->items[j]);
        if (!room)
            v[k].order = (uint32_t)k;    /* renumbered, same sequence */
        k++;
    }
    return privacy_list_new(name, v, k);
}
