/* mod_private.c: XEP-0049 private XML storage (jabber:iq:private). A user
 * stores elements under their (namespace, name) and reads them back; used
 * by clients for bookmarks (XEP-0048) and preferences. Rules:
 * - only one's own storage: 'to' absent or the user's bare JID, else
 *   forbidden;
 * - a query needs a child element (bad-request); a get asks for exactly
 *   one; a set may store several at once (all or none);
 * - reserved namespaces (XEP-0049 §2: 'jabber:...', 'http://jabber.org/...',
 *   'vcard-temp', and the stream/stanza namespaces) are not-acceptable;
 * - the stanza size limit (plucs/max_stanza_size) bounds each element,
 *   plucs/quota/private what one user stores in all (elements, namespaces
 *   and names, counted by the store in the same transaction as the write):
 *   a set beyond it is refused with resource-constraint, nothing written.
 * Elements are stored serialized and parsed again for the reply. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/i18n.h"
#include "core/log.h"
#include "modules/module.h"
#include "modules/quota.h"
#include "store/store_private.h"
#include "xml/xml_fragment.h"
#include "xmpp/stanza.h"

#define NS_PRIVATE "jabber:iq:private"
#define STORED_MAX_DEPTH 64

static bool reserved(const char *ns)
{
    static const char *const prefixes[] = {
        "jabber:", "http://jabber.org/", "urn:ietf:params:xml:ns:xmpp-",
        "http://etherx.jabber.org/",
    };
    if (!ns || !*ns || !strcmp(ns, "vcard-temp"))
        return true;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (!strncmp(ns, prefixes[i], strlen(prefixes[i])))
            return true;
    return false;
}

typedef struct priv_job {
    uint64_t sid;
    xnode *iq;          /* id, from, to of the request */
    xnode *asked;       /* get: the requested (empty) element */
} priv_job;

static void job_free(void *p)
{
    priv_job *j = p;
    xnode_free(j->iq);
    xnode_free(j->asked);
    free(j);
}

static priv_job *job_new(session *s, const xnode *iq)
{
    priv_job *j = xcalloc(1, sizeof *j);
    j->sid = s->id;
    j->iq = iq_envelope(iq);
    return j;
}

static session *job_session(const priv_job *j)
{
    session *s = session_find(worker_self(), j->sid);
    return s && !s->closing ? s : NULL;
}

static void got(void *arg, store_private *res)
{
    priv_job *j = arg;
    session *s = job_session(j);
    if (s && (res->status == STORE_OK || res->status == STORE_NOT_FOUND)) {
        xnode *el = NULL;
        if (res->xml) {
            el = xml_fragment_parse(res->xml, strlen(res->xml), NULL, STORED_MAX_DEPTH);
            if (!el)
                log_err("private: stored data of %s cannot be parsed; answering it empty",
                        s->bare);
        }
        if (!el) {
            el = j->asked;
            j->asked = NULL;
        }
        xnode *r = iq_result(j->iq);
        xnode_append(xnode_add_child(r, "query", NS_PRIVATE), el);
        session_send_free(s, r);
    } else if (s) {
        session_send_free(s, stanza_error_reply(j->iq, ERR_WAIT, "internal-server-error", NULL));
    }
    store_private_free(res);
    job_free(j);
}

static void stored(void *arg, store_status st, int64_t value)
{
    priv_job *j = arg;
    session *s = job_session(j);
    if (s && st == STORE_OK) {
        session_send_free(s, iq_result(j->iq));
    } else if (s && st == STORE_FULL) {
        quota_refused(s->bare, "plucs/quota/private", config_current()->quota_private);
        session_send_free(s, stanza_error_reply(j->iq, ERR_WAIT, "resource-constraint",
                                                i18n(s->lang, T_PRIVATE_FULL)));
    } else if (s)
        session_send_free(s, stanza_error_reply(j->iq, ERR_WAIT, "internal-server-error", NULL));
    job_free(j);
}

static void private_get(session *s, const xnode *iq, const xnode *el)
{
    priv_job *j = job_new(s, iq);
    j->asked = xnode_new(el->name, el->ns);
    store_private_get(s->w, s->bare, el->name, el->ns, got, j, job_free);
}

static void private_set(session *s, const xnode *iq, const xnode *payload, size_t n)
{
    store_private_entry *e = xcalloc(n, sizeof *e);
    char **xml = xcalloc(n, sizeof *xml);
    size_t k = 0;
    for (const xnode *c = xnode_first_element(payload); c; c = xnode_next_element(c), k++) {
        xml[k] = xml_to_string(c, NULL);
        e[k].name = c->name;
        e[k].ns = c->ns;
        e[k].xml = xml[k];
    }
    int quota = config_current()->quota_private;
    store_private_set(s->w, s->bare, e, n, quota > 0 ? quota : 0, stored, job_new(s, iq),
                      job_free);
    for (size_t i = 0; i < n; i++)
        free(xml[i]);
    free(xml);
    free(e);
}

static void private_iq(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type");
    const char *to = xnode_attr(iq, "to");
    if (to && strcmp(to, s->bare)) {
        log_info("private: %s asked for private data of %s: forbidden", s->bare, to);
        session_send_free(s, stanza_error_reply(iq, ERR_AUTH, "forbidden", NULL));
        return;
    }
    size_t n = 0;
    for (const xnode *c = xnode_first_element(payload); c; c = xnode_next_element(c)) {
        if (reserved(c->ns)) {
            session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "not-acceptable", NULL));
            return;
        }
        n++;
    }
    bool get = type && !strcmp(type, "get");
    if (strcmp(payload->name, "query") || n == 0 || (get && n != 1)) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    if (get)
        private_get(s, iq, xnode_first_element(payload));
    else
        private_set(s, iq, payload, n);
}

static void private_init(void)
{
    module_register_iq(NS_PRIVATE, private_iq);
    module_add_feature(NS_PRIVATE);
}

const module mod_private = {
    .name = "private",
    .init = private_init,
};
