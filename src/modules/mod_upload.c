/* mod_upload.c: HTTP file upload (XEP-0363 urn:xmpp:http:upload:0), the
 * XMPP side. For every served domain D, upload.D is a service domain
 * (router/services.h); while plucs/upload is true it answers disco#info
 * (identity store/file, the feature, and the XEP-0128 form with
 * max-file-size) and slot requests from the domain's own accounts. A slot
 * names a random file id and a random PUT secret (upload/upload_store.h);
 * the bytes then travel over the HTTP listener (transport/http_upload.c)
 * at BASE/upload/<id>/<name>, BASE being plucs/upload/url or the
 * listener's own address. While plucs/upload is false, upload.D answers
 * service-unavailable and the server's disco#items does not list it. */
#include "modules/upload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "modules/disco.h"
#include "modules/module.h"
#include "modules/service_host.h"
#include "router/router.h"
#include "router/services.h"
#include "upload/upload_parse.h"
#include "upload/upload_store.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

#define HOST_PREFIX "upload."
#define HOST_FMT HOST_PREFIX "%s"
#define NS_DATA "jabber:x:data"
#define NS_PING "urn:xmpp:ping"

/* ---- the store, opened when the service is on ---- */

/* Whether the service works now: plucs/upload is on and the folder opened
 * (at start, or by the upload I/O thread after a reload turned it on). */
static bool service_on(void)
{
    const config *c = config_current();
    return c && c->upload && upload_store_ready();
}

char *upload_service_host(const char *domain)
{
    if (!domain || !service_on())
        return NULL;
    return service_host_expand(HOST_FMT, domain);
}

static bool service_match(const char *domain) { return service_host_match(HOST_FMT, domain); }

/* ---- counters ---- */

void upload_status_lines(buf *out)
{
    uint64_t files = 0, bytes = 0, ups = 0, upbytes = 0;
    upload_counts(&files, &bytes);
    upload_totals(&ups, &upbytes);
    buf_printf(out, "upload/files: %" PRIu64 "\n", files);
    buf_printf(out, "upload/bytes: %" PRIu64 "\n", bytes);
    buf_printf(out, "upload/uploads: %" PRIu64 "\n", ups);
}

void upload_metrics_lines(buf *out)
{
    uint64_t files = 0, bytes = 0, ups = 0, upbytes = 0;
    upload_counts(&files, &bytes);
    upload_totals(&ups, &upbytes);
    buf_printf(out, "# HELP plucs_upload_files Uploaded files kept (XEP-0363).\n"
                    "# TYPE plucs_upload_files gauge\n"
                    "plucs_upload_files %" PRIu64 "\n"
                    "# HELP plucs_upload_bytes Bytes of uploaded files kept.\n"
                    "# TYPE plucs_upload_bytes gauge\n"
                    "plucs_upload_bytes %" PRIu64 "\n"
                    "# HELP plucs_uploads_total Files uploaded since the start.\n"
                    "# TYPE plucs_uploads_total counter\n"
                    "plucs_uploads_total %" PRIu64 "\n"
                    "# HELP plucs_upload_received_bytes_total Bytes uploaded since the start.\n"
                    "# TYPE plucs_upload_received_bytes_total counter\n"
                    "plucs_upload_received_bytes_total %" PRIu64 "\n",
               files, bytes, ups, upbytes);
}

/* ---- answers ---- */

static void reply_error(const xnode *iq, const char *type, const char *cond, const char *text,
                        long long max_size)
{
    xnode *e = stanza_error_reply(iq, type, cond, text);
    if (!e)
        return;
    if (max_size >= 0) {
        xnode *err = xnode_child(e, "error", NULL);
        xnode *ftl = xnode_add_child(err ? err : e, "file-too-large", NS_HTTP_UPLOAD);
        xnode *m = xnode_add_child(ftl, "max-file-size", NS_HTTP_UPLOAD);
        char v[32];
        int k = snprintf(v, sizeof v, "%lld", max_size);
        xnode_add_text(m, v, (size_t)k);
    }
    router_route_service(e);
}

static void add_field(xnode *x, const char *var, const char *type, const char *value)
{
    xnode *f = xnode_add_child(x, "field", NS_DATA);
    xnode_set_attr(f, "var", var);
    if (type)
        xnode_set_attr(f, "type", type);
    xnode_add_text(xnode_add_child(f, "value", NS_DATA), value, strlen(value));
}

static void disco_info(const xnode *iq)
{
    xnode *res = iq_result(iq);
    xnode *q = xnode_add_child(res, "query", NS_DISCO_INFO);
    xnode *id = xnode_add_child(q, "identity", NS_DISCO_INFO);
    xnode_set_attr(id, "category", "store");
    xnode_set_attr(id, "type", "file");
    xnode_set_attr(id, "name", "HTTP File Upload");
    static const char *const feats[] = { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_HTTP_UPLOAD, NS_PING };
    for (size_t i = 0; i < sizeof feats / sizeof *feats; i++)
        xnode_set_attr(xnode_add_child(q, "feature", NS_DISCO_INFO), "var", feats[i]);
    xnode *x = xnode_add_child(q, "x", NS_DATA);
    xnode_set_attr(x, "type", "result");
    add_field(x, "FORM_TYPE", "hidden", NS_HTTP_UPLOAD);
    char v[32];
    snprintf(v, sizeof v, "%lld", config_current()->upload_max_size);
    add_field(x, "max-file-size", NULL, v);
    router_route_service(res);
}

/* The public base of upload URLs, without a trailing slash, into out. */
static void base_url(const char *domain, buf *out)
{
    const config *c = config_current();
    if (c->upload_url && *c->upload_url) {
        size_t n = strlen(c->upload_url);
        while (n > 0 && c->upload_url[n - 1] == '/')
            n--;
        buf_append(out, c->upload_url, n);
        return;
    }
    const char *a = c->http_addresses && c->http_addresses[0] ? c->http_addresses[0] : "127.0.0.1";
    if (!strcmp(a, "0.0.0.0") || !strcmp(a, "::"))
        a = domain;   /* any address: the domain's name should reach it */
    if (strchr(a, ':'))
        buf_printf(out, "http://[%s]:%d", a, c->http_port);
    else
        buf_printf(out, "http://%s:%d", a, c->http_port);
}

static bool parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 19)
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return true;
}

static void slot_request(const xnode *iq, const xnode *req, const jid *to)
{
    const char *from = xnode_attr(iq, "from");
    jid fj;
    if (jid_parse(from, &fj) != 0) {
        reply_error(iq, ERR_MODIFY, "bad-request", NULL, -1);
        return;
    }
    char *owner = jid_bare_string(&fj);
    const char *fname = xnode_attr(req, "filename");
    const char *size_s = xnode_attr(req, "size");
    const char *ctype = xnode_attr(req, "content-type");
    const config *c = config_current();
    uint64_t size = 0;
    char id[UPLOAD_ID_LEN + 1], secret[UPLOAD_ID_LEN + 1];
    /* only the accounts of this service's own domain */
    if (!fj.node || strcmp(fj.domain, to->domain + strlen(HOST_PREFIX)) || !router_account(owner)) {
        log_info("upload: slot refused to %s: not an account of %s", from, to->domain);
        reply_error(iq, ERR_CANCEL, "not-allowed", "only accounts of this domain may upload", -1);
    } else if (!upload_filename_ok(fname)) {
        log_info("upload: %s: slot refused: bad file name", owner);
        reply_error(iq, ERR_MODIFY, "not-acceptable", "invalid file name", -1);
    } else if (!parse_size(size_s, &size) || size == 0) {
        log_info("upload: %s: slot refused: bad size '%.30s'", owner, size_s ? size_s : "");
        reply_error(iq, ERR_MODIFY, "not-acceptable", "invalid file size", -1);
    } else if (ctype && *ctype && !upload_ctype_ok(ctype)) {
        log_info("upload: %s: slot refused: bad content type", owner);
        reply_error(iq, ERR_MODIFY, "not-acceptable", "invalid content type", -1);
    } else {
        upload_slot_status st = upload_slot_new(owner, fname, size, ctype, id, secret);
        char text[160];
        switch (st) {
        case UPLOAD_SLOT_TOO_LARGE:
            log_info("upload: %s: slot refused: %" PRIu64 " bytes > plucs/upload/max_size %lld",
                     owner, size, c->upload_max_size);
            snprintf(text, sizeof text, "File too large. The maximum file size is %lld bytes",
                     c->upload_max_size);
            reply_error(iq, ERR_MODIFY, "not-acceptable", text, c->upload_max_size);
            break;
        case UPLOAD_SLOT_QUOTA:
            log_info("upload: %s: slot refused: plucs/upload/quota of %lld bytes reached", owner,
                     c->upload_quota);
            snprintf(text, sizeof text, "Quota reached: at most %lld bytes of files per user",
                     c->upload_quota);
            reply_error(iq, ERR_WAIT, "resource-constraint", text, -1);
            break;
        case UPLOAD_SLOT_TOO_MANY:
            log_info("upload: %s: slot refused: %d slots wait for their upload", owner,
                     UPLOAD_MAX_OPEN_SLOTS);
            reply_error(iq, ERR_WAIT, "resource-constraint",
                        "Too many uploads under way; try again later", -1);
            break;
        case UPLOAD_SLOT_FAILED:
            reply_error(iq, ERR_WAIT, "internal-server-error", NULL, -1);
            break;
        case UPLOAD_SLOT_OK: {
            buf path;
            buf_init(&path);
            base_url(to->domain, &path);
            buf_printf(&path, "%s%s/", UPLOAD_PATH_PREFIX, id);
            upload_pct_encode(&path, fname);
            buf_append(&path, "", 1);
            buf put;
            buf_init(&put);
            buf_printf(&put, "%s?token=%s", path.data, secret);
            xnode *res = iq_result(iq);
            xnode *slot = xnode_add_child(res, "slot", NS_HTTP_UPLOAD);
            xnode_set_attr(xnode_add_child(slot, "put", NS_HTTP_UPLOAD), "url", put.data);
            xnode_set_attr(xnode_add_child(slot, "get", NS_HTTP_UPLOAD), "url", path.data);
            log_info("upload: %s: slot %s for %" PRIu64 " bytes", owner, id, size);
            buf_free(&put);
            buf_free(&path);
            router_route_service(res);
            break;
        }
        }
    }
    free(owner);
    jid_clear(&fj);
}

static void service_iq(xnode *iq, const jid *to)
{
    const char *type = xnode_attr(iq, "type");
    if (!type || (strcmp(type, "get") && strcmp(type, "set")))
        return;   /* results and errors to the service: dropped */
    const xnode *q = xnode_first_element(iq);
    if (!service_on()) {
        router_bounce(iq, ERR_CANCEL, "service-unavailable", NULL);
        return;
    }
    bool get = !strcmp(type, "get");
    if (q && get && !strcmp(q->ns, NS_DISCO_INFO) && !xnode_attr(q, "node")) {
        disco_info(iq);
    } else if (q && get && !strcmp(q->ns, NS_DISCO_ITEMS) && !xnode_attr(q, "node")) {
        xnode *res = iq_result(iq);
        xnode_add_child(res, "query", NS_DISCO_ITEMS);
        router_route_service(res);
    } else if (q && get && !strcmp(q->ns, NS_PING)) {
        router_route_service(iq_result(iq));
    } else if (q && get && !strcmp(q->ns, NS_HTTP_UPLOAD) && !strcmp(q->name, "request")) {
        slot_request(iq, q, to);
    } else {
        router_bounce(iq, ERR_CANCEL, "service-unavailable", NULL);
    }
}

static void service_stanza(xnode *st)
{
    jid to;
    if (!service_stanza_to(st, &to))
        return;
    stanza_kind k = stanza_kind_of(st);
    if (k == STANZA_IQ && !to.node && !to.resource)
        service_iq(st, &to);
    else if (k == STANZA_IQ || k == STANZA_MESSAGE)
        router_bounce(st, ERR_CANCEL, "service-unavailable", NULL);
    jid_clear(&to);
    xnode_free(st);
}

static void upload_init(void)
{
    if (router_add_service(service_match, service_stanza) != 0)
        log_warn("upload: the router's service table is full; no upload service");
    const config *c = config_current();
    char err[512] = "";
    if (c && c->upload && upload_store_open(c, err, sizeof err))
        log_err("upload: %s; the upload service is off until it is fixed", err);
    else if (*err)
        log_warn("upload: %s", err);
    err[0] = 0;
    if (upload_store_start(err, sizeof err))
        log_err("upload: %s; no upload service", err);
}

static void upload_shutdown(void) { upload_store_close(); }

const module mod_upload = {
    .name = "upload",
    .init = upload_init,
    .shutdown = upload_shutdown,
};
