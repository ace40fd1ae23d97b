/* mod_caps.c: XEP-0115 entity capabilities of the server (see caps.h).
 * caps_ver() is the §5.1 algorithm over any disco#info <query/>: sorted
 * identities "category/type/lang/name<", sorted features "var<", then the
 * extended forms (XEP-0128) sorted by FORM_TYPE with their fields sorted
 * by var and values sorted, hashed with SHA-1 and base64-encoded. The
 * server's own string is computed once from disco_server_info(). */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/alloc.h"
#include "modules/caps.h"
#include "modules/disco.h"
#include "modules/module.h"

#define NS_DATA "jabber:x:data"

/* ---- the algorithm ---- */

typedef struct ident {
    const char *category, *type, *lang, *name;
} ident;

static const char *nz(const char *s) { return s ? s : ""; }

static int cmp_ident(const void *a, const void *b)
{
    const ident *x = a, *y = b;
    int c = strcmp(x->category, y->category);
    if (!c)
        c = strcmp(x->type, y->type);
    if (!c)
        c = strcmp(x->lang, y->lang);
    if (!c)
        c = strcmp(x->name, y->name);
    return c;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A field of a form: its var and its values (text, malloc'ed). */
typedef struct field {
    const char *var;
    char **values;
    size_t n;
} field;

static int cmp_field(const void *a, const void *b)
{
    return strcmp(((const field *)a)->var, ((const field *)b)->var);
}

typedef struct form {
    char *form_type;
    field *fields;
    size_t n;
} form;

static int cmp_form(const void *a, const void *b)
{
    return strcmp(((const form *)a)->form_type, ((const form *)b)->form_type);
}

static size_t count_children(const xnode *n, const char *name, const char *ns)
{
    size_t k = 0;
    for (const xnode *c = xnode_first_element(n); c; c = xnode_next_element(c))
        k += !strcmp(c->name, name) && !strcmp(c->ns, ns);
    return k;
}

static void form_clear(form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        for (size_t k = 0; k < f->fields[i].n; k++)
            free(f->fields[i].values[k]);
        free(f->fields[i].values);
    }
    free(f->fields);
    free(f->form_type);
}

/* Reads form x (a jabber:x:data element). 0, 1 when it has no FORM_TYPE
 * (ignored per §5.4), -1 when malformed (FORM_TYPE without one value). */
static int form_read(const xnode *x, form *f)
{
    memset(f, 0, sizeof *f);
    size_t nf = count_children(x, "field", NS_DATA);
    f->fields = xcalloc(nf ? nf : 1, sizeof *f->fields);
    int rc = 1;
    for (const xnode *c = xnode_first_element(x); c; c = xnode_next_element(c)) {
        if (strcmp(c->name, "field") || strcmp(c->ns, NS_DATA))
            continue;
        const char *var = xnode_attr(c, "var");
        size_t nv = count_children(c, "value", NS_DATA);
        if (var && !strcmp(var, "FORM_TYPE")) {
            const xnode *v = xnode_child(c, "value", NS_DATA);
            if (nv != 1 || f->form_type)
                return -1;
            f->form_type = xnode_text(v);
            if (!f->form_type)
                f->form_type = xstrdup("");
            rc = 0;
            continue;
        }
        field *fd = &f->fields[f->n++];
        fd->var = nz(var);
        fd->values = xcalloc(nv ? nv : 1, sizeof *fd->values);
        for (const xnode *v = xnode_first_element(c); v; v = xnode_next_element(v)) {
            if (strcmp(v->name, "value") || strcmp(v->ns, NS_DATA))
                continue;
            char *t = xnode_text(v);
            fd->values[fd->n++] = t ? t : xstrdup("");
        }
        qsort(fd->values, fd->n, sizeof *fd->values, cmp_str);
    }
    qsort(f->fields, f->n, sizeof *f->fields, cmp_field);
    return rc;
}

static void put(buf *b, const char *s)
{
    buf_puts(b, s);
    buf_puts(b, "<");
}

int caps_ver(const xnode *query, char out[CAPS_VER_LEN])
{
    const char *ns = query->ns;
    size_t ni = count_children(query, "identity", ns), nf = count_children(query, "feature", ns);
    size_t nx = count_children(query, "x", NS_DATA);
    ident *ids = xcalloc(ni ? ni : 1, sizeof *ids);
    const char **feats = xcalloc(nf ? nf : 1, sizeof *feats);
    form *forms = xcalloc(nx ? nx : 1, sizeof *forms);
    size_t i = 0, k = 0, m = 0;
    int rc = 0;
    for (const xnode *c = xnode_first_element(query); c; c = xnode_next_element(c)) {
        if (!strcmp(c->name, "identity") && !strcmp(c->ns, ns)) {
            ids[i].category = nz(xnode_attr(c, "category"));
            ids[i].type = nz(xnode_attr(c, "type"));
            ids[i].lang = nz(xnode_attr(c, "xml:lang"));
            ids[i].name = nz(xnode_attr(c, "name"));
            i++;
        } else if (!strcmp(c->name, "feature") && !strcmp(c->ns, ns)) {
            feats[k++] = nz(xnode_attr(c, "var"));
        } else if (!strcmp(c->name, "x") && !strcmp(c->ns, NS_DATA)) {
            int r = form_read(c, &forms[m]);
            if (r == 0)
                m++;
            else
                form_clear(&forms[m]);
            if (r < 0)
                rc = -1;
        }
    }
    qsort(ids, i, sizeof *ids, cmp_ident);
    qsort(feats, k, sizeof *feats, cmp_str);
    qsort(forms, m, sizeof *forms, cmp_form);
    buf s;
    buf_init(&s);
    buf_puts(&s, "");
    for (size_t a = 0; a < i; a++) {
        buf_printf(&s, "%s/%s/%s/%s<", ids[a].category, ids[a].type, ids[a].lang, ids[a].name);
        if (a && !cmp_ident(&ids[a - 1], &ids[a]))
            rc = -1;       /* duplicate identity (§5.4) */
    }
    for (size_t a = 0; a < k; a++) {
        put(&s, feats[a]);
        if (a && !strcmp(feats[a - 1], feats[a]))
            rc = -1;       /* duplicate feature */
    }
    for (size_t a = 0; a < m; a++) {
        put(&s, forms[a].form_type);
        if (a && !strcmp(forms[a - 1].form_type, forms[a].form_type))
            rc = -1;
        for (size_t f = 0; f < forms[a].n; f++) {
            put(&s, forms[a].fields[f].var);
            for (size_t v = 0; v < forms[a].fields[f].n; v++)
                put(&s, forms[a].fields[f].values[v]);
        }
    }
    if (rc == 0) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (EVP_Digest(s.data, s.len, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
            rc = -1;
        else
            EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
    }
    buf_free(&s);
    for (size_t a = 0; a < m; a++)
        form_clear(&forms[a]);
    free(forms);
    free(ids);
    free(feats);
    return rc;
}

/* ---- the server's own ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char ver[CAPS_VER_LEN];
static char feature[256];
static size_t computed_for = (size_t)-1;   /* the feature count it was computed with */

/* Under lock: (re)computes when the registered features changed. */
static void compute(void)
{
    size_t nf;
    module_features(&nf);
    if (computed_for == nf)
        return;
    xnode *q = disco_server_info();
    if (caps_ver(q, ver) != 0)
        ver[0] = 0;           /* a duplicate feature: advertise nothing wrong */
    xnode_free(q);
    if (ver[0])
        snprintf(feature, sizeof feature,
                 "<c xmlns='" NS_CAPS "' hash='sha-1' node='" CAPS_NODE "' ver='%s'/>", ver);
    else
        feature[0] = 0;
    computed_for = nf;
}

const char *caps_stream_feature(void)
{
    pthread_mutex_lock(&lock);
    compute();
    pthread_mutex_unlock(&lock);
    return feature;
}

bool caps_node_is_current(const char *node)
{
    size_t len = strlen(CAPS_NODE);
    if (!node || strncmp(node, CAPS_NODE, len) || node[len] != '#')
        return false;
    pthread_mutex_lock(&lock);
    compute();
    bool r = ver[0] && !strcmp(node + len + 1, ver);
    pthread_mutex_unlock(&lock);
    return r;
}

/* XEP-0115 §6.3: the server's own capabilities, after authentication. */
static void caps_stream_features(const session *s, buf *out) { buf_puts(out, caps_stream_feature()); }

static void caps_init(void)
{
    module_add_feature(NS_CAPS);
}

const module mod_caps = {
    .name = "caps",
    .init = caps_init,
    .stream_features = caps_stream_features,
};
