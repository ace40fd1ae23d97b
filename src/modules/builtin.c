/* builtin.c: the one table of built-in modules. Adding a feature is one new
 * file exporting `const module mod_NAME` plus one line here. The order is
 * the order of init and of every event's hooks: blocking and privacy come
 * early because their inbound hooks decide whether a stanza arrives at all. */
#include "modules/module.h"

#define BUILTIN_MODULES(X) \
    X(disco)               \
    X(ping)                \
    X(session)             \
    X(blocking)            \
    X(privacy)             \
    X(version)             \
    X(time)                \
    X(last)                \
    X(private)             \
    X(caps)                \
    X(presence)            \
    X(vcard)               \
    X(search)              \
    X(roster)              \
    X(push)                \
    X(offline)             \
    X(live)                \
    X(muc)                 \
    X(muc_persist)         \
    X(muc_grouprooms)      \
    X(mam)                 \
    X(carbons)             \
    X(csi)                 \
    X(sm)                  \
    X(pubsub)              \
    X(pepdata)             \
    X(upload)              \
    X(fast)                \
    X(adhoc)

#define DECLARE(name) extern const module mod_##name;
BUILTIN_MODULES(DECLARE)

#define ENTRY(name) &mod_##name,
const module *const builtin_modules[] = { BUILTIN_MODULES(ENTRY) };
const size_t builtin_modules_count = sizeof builtin_modules / sizeof builtin_modules[0];
