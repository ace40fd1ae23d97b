/* secret.c: the one reader of the LDAP host secret file (secret.h), used by
 * the directory thread and by `plucs explain --offline`. Under systemd the
 * unit hands the root-only secret over with LoadCredential= (plucsd runs as
 * the `plucs` user and cannot open /etc/machine.secret itself): a file of
 * the same base name in $CREDENTIALS_DIRECTORY is read instead of the
 * configured path. A credential with nothing but line breaks in it is the
 * unit's stand-in for a secret file that does not exist on this host
 * (SetCredential=, see scripts/plucs.service.in): the configured path is read
 * then. An empty password would be an anonymous LDAP bind, never a secret. */
#include "core/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* True when the file holds at most two bytes, all line breaks (or nothing). */
static bool credential_is_blank(const char *file)
{
    FILE *f = fopen(file, "re");
    if (!f)
        return false;
    char b[3];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n > 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (b[i] != '\n' && b[i] != '\r')
            return false;
    return true;
}

const char *secret_path(const char *path, char *buf, size_t len)
{
    if (!path || !*path)
        return path;
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    if (!dir || !*dir)
        return path;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!*base)
        return path;
    int n = snprintf(buf, len, "%s/%s", dir, base);
    struct stat sb;
    if (n < 0 || (size_t)n >= len || stat(buf, &sb) != 0 || !S_ISREG(sb.st_mode))
        return path;
    if (sb.st_size <= 2 && credential_is_blank(buf))
        return path;
    return buf;
}

int secret_check_mode(const char *path, char *warn, size_t warnlen)
{
    char cred[4096];
    const char *p = secret_path(path, cred, sizeof cred);
    struct stat sb;
    if (!p || !*p || stat(p, &sb) != 0 || !(sb.st_mode & (S_IRGRP | S_IROTH)))
        return 0;
    snprintf(warn, warnlen, "the secret file %s (plucs/ldap/secretfile) has mode %04o: it is "
             "readable by %s; it should be 0600 (or 0400), readable only by plucsd's user",
             p, (unsigned)(sb.st_mode & 07777),
             (sb.st_mode & S_IROTH) ? "every local user" : "its group");
    return 1;
}

int secret_read(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
    buf[0] = '\0';
    if (!path || !*path)
        return 0;
    char cred[4096];
    path = secret_path(path, cred, sizeof cred);
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "cannot read the secret file %s (plucs/ldap/secretfile): %s", path,
                 strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, len - 1, f);
    bool failed = ferror(f) != 0;
    bool too_long = false;
    for (int ch; !failed && (ch = getc(f)) != EOF;)
        if (ch != '\n' && ch != '\r')
            too_long = true;
    failed = failed || ferror(f) != 0;
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (failed || too_long) {
        explicit_bzero(buf, len);
        if (too_long)
            snprintf(err, errlen, "the secret file %s (plucs/ldap/secretfile) holds more than %zu "
                     "bytes", path, len - 1);
        else
            snprintf(err, errlen, "cannot read the secret file %s (plucs/ldap/secretfile)", path);
        return -1;
    }
    return 0;
}
