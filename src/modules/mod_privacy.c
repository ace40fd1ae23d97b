/* mod_privacy.c: privacy lists (XEP-0016), kept consistent with the blocking command (XEP-0191). */
#include "modules/module.h"

const module mod_privacy = { .name = "privacy" };
