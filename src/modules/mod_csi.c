/* mod_csi.c: client state indication (XEP-0352): hold what is not urgent while a client says it is inactive. */
#include "modules/module.h"

const module mod_csi = { .name = "csi" };
