/* muc_persist.h: persistent rooms between the room engine and the store
 * (module mod_muc_persist, muc_persist.c). The engine reaches it through
 * muc_set_save_hook; muc_persist_save is the same save with a completion,
 * for answering a client only once its change is committed (issue 13: a
 * change acknowledged to the client survives SIGKILL). */
#ifndef PLUCS_MUC_PERSIST_H
#define PLUCS_MUC_PERSIST_H

#include <stdbool.h>

#include "modules/muc.h"

/* On the room's owner worker: stores v (config and the whole affiliation
 * list; gone or !v->config->persistent: deletes the room from the store).
 * Directory group rooms are not stored (the directory recreates them).
 * done (may be NULL) runs exactly once on the calling worker: after the
 * change was committed (ok true), after a store failure (ok false, logged),
 * or at once when there was nothing to store. If the worker stops first,
 * done does not run and ctx_free (may be NULL) gets ctx. */
void muc_persist_save(const muc_room_view *v, bool gone, void (*done)(void *ctx, bool ok),
                      void *ctx, void (*ctx_free)(void *ctx));

#endif
