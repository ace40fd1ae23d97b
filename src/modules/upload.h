/* upload.h: what mod_upload.c tells the rest of the server: the upload
 * service host of a served domain (for the server's disco#items), and the
 * lines of `plucs status` and /metrics. */
#ifndef PLUCS_UPLOAD_H
#define PLUCS_UPLOAD_H

#include "core/buf.h"

#define NS_HTTP_UPLOAD "urn:xmpp:http:upload:0"

/* "upload.D" (malloc'ed) while plucs/upload is on and the store works,
 * else NULL. */
char *upload_service_host(const char *domain);

void upload_status_lines(buf *out);
void upload_metrics_lines(buf *out);

#endif
