/* mod_upload.c: HTTP file upload (XEP-0363): slots at upload.DOMAIN, files served by the HTTP listener. */
#include "modules/module.h"

const module mod_upload = { .name = "upload" };
