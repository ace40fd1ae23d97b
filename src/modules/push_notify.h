/* push_notify.h: what mod_push.c (registrations, triggers) asks of
 * push_notify.c (sending). A push is an iq set from the account's domain to
 * the app server: <pubsub><publish node><item><notification
 * xmlns='urn:xmpp:push:0'> with the summary form (FORM_TYPE
 * urn:xmpp:push:summary; message-count; last-message-sender unless the
 * registration's publish-options hold include-sender=false;
 * last-message-body, at most 256 bytes, only with include-body=true), then
 * <publish-options/> with the form the client gave, unchanged. */
#ifndef PLUCS_PUSH_NOTIFY_H
#define PLUCS_PUSH_NOTIFY_H

#include <stdbool.h>

#include "router/events.h"
#include "store/store_push.h"
#include "xml/xml.h"

#define NS_PUSH "urn:xmpp:push:0"
#define NS_XDATA "jabber:x:data"

/* plucs/push in the current configuration. */
bool push_on(void);
/* The text of the first <value/> of field var in data form x (malloc'ed),
 * or NULL. */
char *push_form_value(const xnode *x, const char *var);
/* After push_state_note(): one push per registration of bare now, or a
 * trailing one when plucs/push/interval has not passed (regs borrowed). */
void push_notify(const char *bare, const store_push_regs *regs);
/* EV_SERVER_IQ_REPLY: an answer to one of our pushes. */
hook_result push_notify_answer(session *s, xnode *st);
/* Frees the trailing pushes still waiting on this worker. */
void push_notify_thread_exit(void);

#endif
