/* mod_carbons.c: message carbons (XEP-0280): copies of one-to-one chats to every resource of the account that asked for them. */
#include "modules/module.h"

const module mod_carbons = { .name = "carbons" };
