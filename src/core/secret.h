/* secret.h: reading the LDAP host secret (plucs/ldap/secretfile). It exists
 * so that the directory thread (dir_service.c) and the `plucs` tool's offline
 * snapshot (cli_offline.c) read the file the same way: one implementation,
 * in core because it needs nothing but the C library. Also the start-up
 * check of its permissions and the systemd credential hand-over. */
#ifndef PLUCS_SECRET_H
#define PLUCS_SECRET_H

#include <stddef.h>

/* Reads the secret in path into buf (len bytes, at least 1), trailing
 * newlines (\n, \r) stripped. No path (NULL or "") leaves buf empty and
 * succeeds (anonymous bind); so does an empty file. Returns 0, or -1 with a
 * sentence in err: the file cannot be read, or it holds more than len - 1
 * bytes before its trailing newlines (a truncated secret would only fail the
 * bind later, with a misleading message). buf is wiped on failure. */
int secret_read(const char *path, char *buf, size_t len, char *err, size_t errlen);

/* The file secret_read reads for path: $CREDENTIALS_DIRECTORY/<basename of
 * path> when that variable is set and the file exists there (systemd's
 * LoadCredential=), else path itself. May return buf (len bytes). */
const char *secret_path(const char *path, char *buf, size_t len);

/* 1 and a warning sentence naming the file and its mode when the secret
 * file (as secret_path resolves it) is readable by its group or by
 * everyone; 0 when it is not, or has no path, or cannot be examined. */
int secret_check_mode(const char *path, char *warn, size_t warnlen);

#endif
