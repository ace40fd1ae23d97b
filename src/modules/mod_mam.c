/* mod_mam.c: message archive (XEP-0313): one-to-one messages archived for both parties, queried with RSM paging. */
#include "modules/module.h"

const module mod_mam = { .name = "mam" };
