/* mod_hello.c: answers <query xmlns='urn:example:hello'/> with the number
 * of messages this session has sent. */
#include <stdint.h>
#include <stdio.h>

#include "modules/module.h"
#include "xmpp/stanza.h"

#define NS_HELLO "urn:example:hello"

static int slot = -1;   /* per session: messages sent, as an integer */

static hook_result count_message(session *s, xnode *st)
{
    if (stanza_kind_of(st) == STANZA_MESSAGE)
        s->slots[slot] = (void *)((uintptr_t)s->slots[slot] + 1);
    return HOOK_CONTINUE;   /* only counting: routing goes on */
}

static void hello_iq(session *s, const xnode *iq, const xnode *payload)
{
    xnode *r = iq_result(iq);
    char n[24];
    snprintf(n, sizeof n, "%lu", (unsigned long)(uintptr_t)s->slots[slot]);
    xnode *q = xnode_add_child(r, "query", NS_HELLO);
    xnode_set_attr(q, "sent", n);
    session_send_free(s, r);
}

static void hello_init(void)
{
    module_register_iq(NS_HELLO, hello_iq);
    module_add_feature(NS_HELLO);
    module_hook_stanza(EV_OUTBOUND, count_message);
}

const module mod_hello = {
    .name = "hello",
    .init = hello_init,
    .slot = &slot,   /* an integer in the pointer: nothing to free */
};
