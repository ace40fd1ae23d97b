/* mod_time.c: XEP-0202 entity time of the server: UTC with milliseconds
 * and the server's offset from UTC. The time zone is read once at start
 * (tzset on the main thread), so answering never touches the disk on a
 * worker. Queries to an account's bare JID are not answered on the user's
 * behalf (service-unavailable). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "modules/module.h"
#include "xmpp/stanza.h"

#define NS_TIME "urn:xmpp:time"

static void add_text_child(xnode *parent, const char *name, const char *text)
{
    xnode *c = xnode_add_child(parent, name, NS_TIME);
    xnode_add_text(c, text, strlen(text));
}

static void time_iq(session *s, const xnode *iq, const xnode *payload)
{
    const char *type = xnode_attr(iq, "type");
    const char *to = xnode_attr(iq, "to");
    if (to && strchr(to, '@')) {
        session_send_free(s, stanza_error_reply(iq, ERR_CANCEL, "service-unavailable", NULL));
        return;
    }
    if (!type || strcmp(type, "get") || strcmp(payload->name, "time")) {
        session_send_free(s, stanza_error_reply(iq, ERR_MODIFY, "bad-request", NULL));
        return;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm utc, local;
    gmtime_r(&tv.tv_sec, &utc);
    localtime_r(&tv.tv_sec, &local);
    char utc_s[40], tzo[8];
    size_t n = strftime(utc_s, sizeof utc_s, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(utc_s + n, sizeof utc_s - n, ".%03dZ", (int)(tv.tv_usec / 1000));
    long off = local.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    off = labs(off);
    snprintf(tzo, sizeof tzo, "%c%02ld:%02ld", sign, (off / 3600) % 100, (off / 60) % 60);

    xnode *r = iq_result(iq);
    xnode *t = xnode_add_child(r, "time", NS_TIME);
    add_text_child(t, "tzo", tzo);
    add_text_child(t, "utc", utc_s);
    session_send_free(s, r);
}

static void time_init(void)
{
    tzset();   /* reads the zone now, on the main thread */
    module_register_iq(NS_TIME, time_iq);
    module_allow_remote(NS_TIME);   /* remote requesters too */
    module_add_feature(NS_TIME);
}

const module mod_time = {
    .name = "time",
    .init = time_init,
};
