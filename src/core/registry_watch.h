/* registry_watch.h: notices changes of the registry file(s) made by any
 * tool (`ucr set`, an editor, configuration management) with inotify on
 * their folder, so plucsd reloads without a SIGHUP and `plucs apache follow`
 * rewrites the Apache snippet. Editors and UCR replace a file by renaming a
 * new one over it, which a watch on the file itself would miss; a watch on
 * the folder sees writes, renames, creations and removals alike. Events are
 * debounced: the callback runs once, debounce_ms after the last event (and
 * at the latest 5 s after the first one of a burst). Everything runs on the
 * given event base: nothing here blocks. */
#ifndef PLUCS_REGISTRY_WATCH_H
#define PLUCS_REGISTRY_WATCH_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
typedef struct registry_watch registry_watch;

/* Watches the registry file path and, when it is a UCR base.conf, its other
 * layers (registry_layers.h). fn(ud) runs on base. NULL when inotify is not
 * available or the folder cannot be watched: err says why. */
registry_watch *registry_watch_new(struct event_base *base, const char *path, int debounce_ms,
                                   void (*fn)(void *ud), void *ud, char *err, size_t errlen);
void registry_watch_free(registry_watch *w);

/* A fingerprint of what PLUCS reads from the registry at path, all layers
 * merged: every variable of its table and every plucs/ key with its value,
 * and the number of validation problems. It tells a change that matters from
 * a reload that already applied it (`plucs config set` asks for one itself)
 * and from changes of other services' variables in a shared UCR base.conf. */
uint64_t registry_fingerprint(const char *path);

#endif
