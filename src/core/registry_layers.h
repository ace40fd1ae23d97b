/* registry_layers.h: UCR's layered registry. On a UCS host the registry file
 * is UCR's base.conf, and UCR reads five files from its folder, highest
 * precedence first: base-forced.conf, base-schedule.conf, base-ldap.conf
 * (values from UCR policies in LDAP), base.conf, base-defaults.conf. PLUCS reads them the
 * same way whenever the registry file is named "base.conf" (any folder:
 * --registry DIR/base.conf makes it testable); any other file name is a
 * single layer. Readers (config_load, `plucs config get/search`) use the
 * merged view; writers (`plucs config set/unset`) change only the registry
 * file itself, as `ucr set` changes only base.conf. */
#ifndef PLUCS_REGISTRY_LAYERS_H
#define PLUCS_REGISTRY_LAYERS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/registry.h"

/* Lowest precedence first. A single-file registry has only REG_LAYER_BASE. */
enum { REG_LAYER_DEFAULTS, REG_LAYER_BASE, REG_LAYER_LDAP, REG_LAYER_SCHEDULE, REG_LAYER_FORCED,
       REG_LAYER_COUNT };

/* true when path's file name is "base.conf": the UCR layers apply. */
bool registry_is_ucr(const char *path);
/* The file name of layer (a REG_LAYER_*) next to path, written into out
 * (the registry file itself for REG_LAYER_BASE). false when path is not a
 * UCR registry and layer is not REG_LAYER_BASE, or out is too short. */
bool registry_layer_path(const char *path, int layer, char *out, size_t len);
/* The file name of a layer without folder: "base-forced.conf" ... */
const char *registry_layer_name(int layer);

typedef struct registry_stack registry_stack;

/* Loads every layer of path (missing files are empty layers). NULL on an
 * I/O error: errno is set and, when failed_file is not NULL, the file that
 * could not be read is copied there (len bytes). */
registry_stack *registry_stack_load(const char *path, char *failed_file, size_t len);
void registry_stack_free(registry_stack *s);
/* The merged view: each key's value from the highest layer holding it.
 * Owned by the stack. */
const registry *registry_stack_merged(const registry_stack *s);
/* The layer (REG_LAYER_*) the effective value of key comes from; -1 when no
 * layer sets it (the built-in default applies). */
int registry_stack_origin(const registry_stack *s, const char *key);
/* The file a layer was read from (path for REG_LAYER_BASE). */
const char *registry_stack_file(const registry_stack *s, int layer);
/* The raw value of key in one layer, NULL when that layer does not set it. */
const char *registry_stack_layer_get(const registry_stack *s, int layer, const char *key);
/* Validates the effective values, like registry_check() does for one file;
 * for a UCR registry every line reported starts with the layer's file
 * ("/etc/univention/base-forced.conf: plucs/tls: invalid value ...").
 * Values hidden by a higher layer are not checked (they do not apply).
 * Returns the number of problems. */
int registry_stack_check(const registry_stack *s, void (*report)(void *ud, const char *line), void *ud);

#endif
