/* http.c: placeholder. */
#include "transport/http.h"

void http_accept(worker *w, evutil_socket_t fd, const char *peer) { evutil_closesocket(fd); }
void http_worker_shutdown(void) {}
void http_worker_cleanup(void) {}
