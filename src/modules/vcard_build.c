/* vcard_build.c: builds the vCard of an account from its directory entry
 * (see vcard_build.h). The directory is the only source: nothing here is
 * stored or editable, and a value the XML stream could not carry is left
 * out rather than sent broken. */
#include "modules/vcard_build.h"
#include "core/alloc.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "directory/dir_text.h"
#include "xmpp/sasl.h"

static const char *const attrs[] = {
    "uid", "givenName", "sn", "displayName", "mailPrimaryAddress", "mail",
    "telephoneNumber", "o", "street", "l", "postalCode", "univentionBirthday",
    "jpegPhoto", NULL,
};

const char *const *vcard_attrs(void)
{
    return attrs;
}

/* Text that may go into an XML text node: what dir_text_ok() accepts (the
 * one check for directory strings), and not empty. */
static bool text_ok(const dir_value *v)
{
    return v && v->len > 0 && dir_text_ok(v->data, v->len);
}

const char *vcard_text(const dir_record *r, const char *name)
{
    const dir_attr *a = dir_record_attr(r, name);
    for (size_t i = 0; a && i < a->nvalues; i++)
        if (text_ok(&a->values[i]))
            return a->values[i].data;
    return NULL;
}

static void add_text_child(xnode *parent, const char *name, const char *value)
{
    xnode *c = xnode_add_child(parent, name, NS_VCARD);
    xnode_add_text(c, value, strlen(value));
}

static void add_flag(xnode *parent, const char *name)
{
    xnode_add_child(parent, name, NS_VCARD);
}

static void add_fn(xnode *vc, const dir_record *r, const char *uid)
{
    const char *given = vcard_text(r, "givenName"), *sn = vcard_text(r, "sn");
    const char *display = vcard_text(r, "displayName");
    if (given && sn) {
        size_t n = strlen(given) + 1 + strlen(sn) + 1;
        char *fn = xmalloc(n);
        if (fn) {
            strcpy(fn, given);
            strcat(fn, " ");
            strcat(fn, sn);
            add_text_child(vc, "FN", fn);
            free(fn);
        }
        return;
    }
    const char *fn = display ? display : given ? given : sn ? sn : uid;
    if (fn && *fn)
        add_text_child(vc, "FN", fn);
}

static void add_photo(xnode *vc, const dir_record *r)
{
    const dir_attr *a = dir_record_attr(r, "jpegPhoto");
    if (!a || a->nvalues == 0 || a->values[0].len == 0)
        return;
    const dir_value *v = &a->values[0];
    char *b64 = base64_encode(v->data, v->len);
    if (!b64)
        return;
    xnode *photo = xnode_add_child(vc, "PHOTO", NS_VCARD);
    add_text_child(photo, "TYPE", vcard_photo_type(v->data, v->len));
    add_text_child(photo, "BINVAL", b64);
    free(b64);
}

xnode *vcard_build(const dir_record *r, const char *uid)
{
    xnode *vc = xnode_new("vCard", NS_VCARD);
    const char *nick = vcard_text(r, "uid");
    if (!nick)
        nick = uid;
    add_fn(vc, r, nick);

    const char *given = vcard_text(r, "givenName"), *sn = vcard_text(r, "sn");
    if (given || sn) {
        xnode *n = xnode_add_child(vc, "N", NS_VCARD);
        if (sn)
            add_text_child(n, "FAMILY", sn);
        if (given)
            add_text_child(n, "GIVEN", given);
    }
    if (nick && *nick)
        add_text_child(vc, "NICKNAME", nick);

    const char *mail = vcard_text(r, "mailPrimaryAddress");
    if (!mail)
        mail = vcard_text(r, "mail");
    if (mail) {
        xnode *e = xnode_add_child(vc, "EMAIL", NS_VCARD);
        add_flag(e, "INTERNET");
        add_flag(e, "PREF");
        add_text_child(e, "USERID", mail);
    }

    const dir_attr *tel = dir_record_attr(r, "telephoneNumber");
    for (size_t i = 0; tel && i < tel->nvalues; i++) {
        if (!text_ok(&tel->values[i]))
            continue;
        xnode *t = xnode_add_child(vc, "TEL", NS_VCARD);
        add_flag(t, "VOICE");
        add_flag(t, "WORK");
        add_text_child(t, "NUMBER", tel->values[i].data);
    }

    const char *org = vcard_text(r, "o");
    if (org)
        add_text_child(xnode_add_child(vc, "ORG", NS_VCARD), "ORGNAME", org);

    const char *street = vcard_text(r, "street"), *l = vcard_text(r, "l");
    const char *pcode = vcard_text(r, "postalCode");
    if (street || l || pcode) {
        xnode *adr = xnode_add_child(vc, "ADR", NS_VCARD);
        add_flag(adr, "WORK");
        if (street)
            add_text_child(adr, "STREET", street);
        if (l)
            add_text_child(adr, "LOCALITY", l);
        if (pcode)
            add_text_child(adr, "PCODE", pcode);
    }

    const char *bday = vcard_text(r, "univentionBirthday");
    if (bday)
        add_text_child(vc, "BDAY", bday);

    add_photo(vc, r);
    return vc;
}

const char *vcard_photo_type(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return "image/png";
    if (len >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6)))
        return "image/gif";
    return "image/jpeg";      /* FF D8 FF, or unknown in an attribute named jpegPhoto */
}

int vcard_photo_hash(const void *data, size_t len, char out[41])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        return -1;
    for (unsigned int i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[40] = '\0';
    return 0;
}
