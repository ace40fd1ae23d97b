/* push_notify.c: the sending side of push notifications (XEP-0357) for
 * mod_push.c: the iq set with the summary form that goes from the
 * account's domain to an app server (push_notify.h says what it carries),
 * the rate limit per registration with its trailing push (a timer on the
 * worker's loop), and the app server's answer: an error removes the
 * registration (XEP-0357 §6). */
#include "modules/push_notify.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/worker.h"
#include "metrics/metrics.h"
#include "modules/push_state.h"
#include "router/router.h"
#include "xml/xml_fragment.h"
#include "xmpp/stanza.h"

#define NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define FORM_SUMMARY "urn:xmpp:push:summary"
#define PUSH_ID_PREFIX "push-"
#define FORM_MAX_DEPTH 16
#define BODY_MAX 256        /* bytes of the body a push carries at most */

bool push_on(void)
{
    const config *cfg = config_current();
    return cfg && cfg->push;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The text of the first <value/> of field var in data form x, or NULL. */
char *push_form_value(const xnode *x, const char *var)
{
    for (const xnode *f = xnode_first_element(x); f; f = xnode_next_element(f)) {
        const char *v = xnode_attr(f, "var");
        if (!strcmp(f->name, "field") && v && !strcmp(v, var)) {
            const xnode *val = xnode_child(f, "value", NULL);
            return val ? xnode_text(val) : NULL;
        }
    }
    return NULL;
}

static bool form_flag(const xnode *x, const char *var, bool dflt)
{
    char *v = x ? push_form_value(x, var) : NULL;
    bool r = dflt;
    if (v)
        r = !strcmp(v, "true") || !strcmp(v, "1");
    free(v);
    return r;
}

static void add_field(xnode *x, const char *var, const char *value, const char *type)
{
    xnode *f = xnode_add_child(x, "field", NS_XDATA);
    xnode_set_attr(f, "var", var);
    if (type)
        xnode_set_attr(f, "type", type);
    xnode *v = xnode_add_child(f, "value", NS_XDATA);
    xnode_add_text(v, value, strlen(value));
}

/* ---- sending ---- */

/* Sends one push for bare to (jid, node) with the account's current
 * summary; nothing when nothing is counted. */
static void push_send(const char *bare, const char *app, const char *node, const char *form)
{
    push_summary sum;
    if (!push_state_summary(bare, &sum))
        return;
    xnode *opts = form && *form ? xml_fragment_parse(form, strlen(form), NULL, FORM_MAX_DEPTH)
                                : NULL;
    const char *at = strchr(bare, '@');
    char id[48];
    snprintf(id, sizeof id, PUSH_ID_PREFIX "%" PRIu64, push_pending_add(bare, app, node));
    xnode *iq = xnode_new("iq", NS_CLIENT);
    xnode_set_attr(iq, "type", "set");
    xnode_set_attr(iq, "id", id);
    xnode_set_attr(iq, "from", at ? at + 1 : bare);
    xnode_set_attr(iq, "to", app);
    xnode *ps = xnode_add_child(iq, "pubsub", NS_PUBSUB);
    xnode *pub = xnode_add_child(ps, "publish", NS_PUBSUB);
    xnode_set_attr(pub, "node", node);
    xnode *item = xnode_add_child(pub, "item", NS_PUBSUB);
    xnode *n = xnode_add_child(item, "notification", NS_PUSH);
    xnode *x = xnode_add_child(n, "x", NS_XDATA);
    xnode_set_attr(x, "type", "submit");
    add_field(x, "FORM_TYPE", FORM_SUMMARY, "hidden");
    char count[24];
    snprintf(count, sizeof count, "%u", sum.count);
    add_field(x, "message-count", count, NULL);
    if (sum.sender && form_flag(opts, "include-sender", true))
        add_field(x, "last-message-sender", sum.sender, NULL);
    if (sum.body && form_flag(opts, "include-body", false)) {
        size_t len = strlen(sum.body);
        if (len > BODY_MAX) {   /* cut at a character boundary */
            len = BODY_MAX;
            while (len && ((unsigned char)sum.body[len] & 0xC0) == 0x80)
                len--;
            sum.body[len] = '\0';
        }
        add_field(x, "last-message-body", sum.body, NULL);
    }
    if (opts) {
        xnode *po = xnode_add_child(ps, "publish-options", NS_PUBSUB);
        xnode_append(po, opts);
    }
    log_debug("push: notifying %s (node %s) for %s: %u message(s)", app, node, bare, sum.count);
    push_summary_clear(&sum);
    metrics_push_sent();
    router_route(iq);
}

/* Trailing pushes waiting on this worker's loop (freed at thread exit). */
typedef struct trailing {
    struct trailing *prev, *next;
    struct event *ev;
    char *bare, *jid, *node, *form;
} trailing;

static __thread trailing *trailing_list;

static void trailing_free(trailing *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        trailing_list = t->next;
    if (t->next)
        t->next->prev = t->prev;
    event_free(t->ev);
    free(t->bare);
    free(t->jid);
    free(t->node);
    free(t->form);
    free(t);
}

static void trailing_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    trailing *t = arg;
    if (push_on() && push_state_trailing(t->bare, t->jid, t->node, now_ms()))
        push_send(t->bare, t->jid, t->node, t->form);
    trailing_free(t);
}

static void trailing_arm(const char *bare, const store_push_reg *r, int64_t wait_ms)
{
    worker *w = worker_self();
    if (!w)
        return;
    trailing *t = xcalloc(1, sizeof *t);
    t->bare = xstrdup(bare);
    t->jid = xstrdup(r->jid);
    t->node = xstrdup(r->node);
    t->form = xstrdup(r->form ? r->form : "");
    t->ev = evtimer_new(worker_base(w), trailing_fire, t);
    t->next = trailing_list;
    if (trailing_list)
        trailing_list->prev = t;
    trailing_list = t;
    struct timeval tv = { (time_t)(wait_ms / 1000), (suseconds_t)(wait_ms % 1000) * 1000 };
    evtimer_add(t->ev, &tv);
}

void push_notify_thread_exit(void)
{
    while (trailing_list)
        trailing_free(trailing_list);
}

void push_notify(const char *bare, const store_push_regs *regs)
{
    int64_t interval = (int64_t)config_current()->push_interval * 1000;
    for (size_t i = 0; i < regs->n; i++) {
        const store_push_reg *r = &regs->items[i];
        int64_t wait = 0;
        bool schedule = false;
        if (push_state_may_send(bare, r->jid, r->node, now_ms(), interval, &wait, &schedule))
            push_send(bare, r->jid, r->node, r->form);
        else if (schedule)
            trailing_arm(bare, r, wait);
    }
}

/* EV_SERVER_IQ_REPLY: an app server's answer to one of our pushes. */
hook_result push_notify_answer(session *s, xnode *st)
{
    (void)s;
    const char *type = xnode_attr(st, "type"), *id = xnode_attr(st, "id");
    const char *from = xnode_attr(st, "from");
    if (!type || !id || !from || strncmp(id, PUSH_ID_PREFIX, strlen(PUSH_ID_PREFIX)))
        return HOOK_CONTINUE;
    char *end = NULL;
    uint64_t n = strtoull(id + strlen(PUSH_ID_PREFIX), &end, 10);
    char *bare = NULL, *jid_s = NULL, *node = NULL;
    if (!end || *end || !push_pending_take(n, &bare, &jid_s, &node))
        return HOOK_CONTINUE;
    /* Only the app server itself (the JID registered, or a resource of it)
     * may end a registration. */
    size_t len = strlen(jid_s);
    bool from_app = !strcmp(from, jid_s) ||
                    (!strchr(jid_s, '/') && !strncmp(from, jid_s, len) && from[len] == '/');
    if (from_app && !strcmp(type, "error")) {
        const xnode *e = xnode_child(st, "error", NULL);
        const xnode *cond = e ? xnode_first_element(e) : NULL;
        log_info("push: app server %s answered %s to a push for %s (node %s): "
                 "registration removed (XEP-0357 §6)", jid_s, cond ? cond->name : "an error",
                 bare, node);
        store_push_remove(NULL, bare, jid_s, node, NULL, NULL, NULL);
        push_state_forget(bare, jid_s, node);
    }
    free(bare);
    free(jid_s);
    free(node);
    return from_app ? HOOK_STOP : HOOK_CONTINUE;
}
