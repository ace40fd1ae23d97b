/* listener.h: the listening sockets, owned by the main thread's event base.
 * Accepted connections are handed round-robin to the workers. On reload
 * listeners_apply() opens what the new configuration adds before closing
 * what it drops, so a port change never leaves the service unreachable.
 * A c2s connection over plucs/c2s/max_per_ip or max_preauth is accepted and
 * closed at once (a policy-violation stream error on the plain port); out
 * of descriptors, accepting pauses briefly instead of spinning. */
#ifndef PLUCS_LISTENER_H
#define PLUCS_LISTENER_H

#include "core/config.h"

struct event_base;

/* Returns the number of listeners that failed to open (each logged). */
int listeners_apply(struct event_base *base, const config *c);
void listeners_close_all(void);

#endif
