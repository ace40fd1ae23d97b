/* adhoc_form.c: the XEP-0004 data forms of the administration commands:
 * building the forms a client shows (FORM_TYPE of XEP-0133) and reading
 * the submitted values. Pure functions on xnodes; the limits callers pass
 * keep hostile submissions (thousands of values, huge lines) out. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/alloc.h"
#include "modules/adhoc.h"

static void add_value(xnode *field, const char *v, size_t len)
{
    xnode *val = xnode_add_child(field, "value", NS_XDATA);
    xnode_add_text(val, v, len);
}

xnode *adhoc_form_new(const char *type, const char *title, const char *instructions)
{
    xnode *x = xnode_new("x", NS_XDATA);
    xnode_set_attr(x, "type", type);
    if (title) {
        xnode *t = xnode_add_child(x, "title", NS_XDATA);
        xnode_add_text(t, title, strlen(title));
    }
    if (instructions) {
        xnode *i = xnode_add_child(x, "instructions", NS_XDATA);
        xnode_add_text(i, instructions, strlen(instructions));
    }
    adhoc_form_field(x, "FORM_TYPE", "hidden", NULL, NS_ADMIN, false);
    return x;
}

xnode *adhoc_form_field(xnode *x, const char *var, const char *type, const char *label,
                        const char *value, bool required)
{
    xnode *f = xnode_add_child(x, "field", NS_XDATA);
    xnode_set_attr(f, "var", var);
    if (type)
        xnode_set_attr(f, "type", type);
    if (label)
        xnode_set_attr(f, "label", label);
    if (required)
        xnode_add_child(f, "required", NS_XDATA);
    if (!value)
        return f;
    bool multi = type && (!strcmp(type, "text-multi") || !strcmp(type, "jid-multi"));
    if (!multi) {
        add_value(f, value, strlen(value));
        return f;
    }
    const char *p = value;
    for (;;) {
        const char *nl = strchr(p, '\n');
        add_value(f, p, nl ? (size_t)(nl - p) : strlen(p));
        if (!nl)
            break;
        p = nl + 1;
    }
    return f;
}

static const xnode *field_of(const xnode *x, const char *var)
{
    for (const xnode *f = xnode_first_element(x); f; f = xnode_next_element(f)) {
        if (strcmp(f->name, "field") || strcmp(f->ns, NS_XDATA))
            continue;
        const char *v = xnode_attr(f, "var");
        if (v && !strcmp(v, var))
            return f;
    }
    return NULL;
}

const xnode *adhoc_form_submitted(const xnode *command)
{
    const xnode *x = xnode_child(command, "x", NS_XDATA);
    const char *type = x ? xnode_attr(x, "type") : NULL;
    if (!type || strcmp(type, "submit"))
        return NULL;
    const xnode *ft = field_of(x, "FORM_TYPE");
    if (ft) {
        const xnode *v = xnode_child(ft, "value", NS_XDATA);
        char *t = v ? xnode_text(v) : NULL;
        bool ok = t && !strcmp(t, NS_ADMIN);
        free(t);
        if (!ok)
            return NULL;
    }
    return x;
}

char *adhoc_form_text(const xnode *x, const char *var, size_t max, size_t maxlen, bool *bad)
{
    const xnode *f = field_of(x, var);
    if (!f)
        return NULL;
    buf out;
    buf_init(&out);
    size_t n = 0;
    for (const xnode *v = xnode_first_element(f); v; v = xnode_next_element(v)) {
        if (strcmp(v->name, "value") || strcmp(v->ns, NS_XDATA))
            continue;
        char *t = xnode_text(v);
        size_t len = t ? strlen(t) : 0;
        if (++n > max || len > maxlen) {
            free(t);
            buf_free(&out);
            *bad = true;
            return NULL;
        }
        if (n > 1)
            buf_append(&out, "\n", 1);
        buf_append(&out, t ? t : "", len);
        free(t);
    }
    char *s = buf_steal(&out);
    return s ? s : xstrdup("");
}
