/* secret.c: the one reader of the LDAP host secret file (secret.h), used by
 * the directory thread and by `plucs explain --offline`. */
#include "core/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

int secret_read(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
    buf[0] = '\0';
    if (!path || !*path)
        return 0;
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
