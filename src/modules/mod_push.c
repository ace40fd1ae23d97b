/* mod_push.c: push notifications (XEP-0357): wake a phone whose sessions are all detached or offline. */
#include "modules/module.h"

const module mod_push = { .name = "push" };
