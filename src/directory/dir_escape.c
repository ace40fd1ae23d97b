/* dir_escape.c: RFC 4515 escaping of assertion values before they enter an
 * LDAP search filter (uid, xmppDomain, cn of the host object), so that a
 * user name such as "a)(uid=*" can never change a filter's meaning. */
#include "directory/directory.h"
#include "core/alloc.h"

#include <stdlib.h>

char *ldap_filter_escape_len(const char *value, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *out = xmalloc(len * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)value[i];
        if (ch == 0 || ch == '(' || ch == ')' || ch == '*' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            out[o++] = (char)ch;     /* UTF-8 and other bytes stay as they are */
        }
    }
    out[o] = '\0';
    return out;
}

char *ldap_filter_escape(const char *value)
{
    if (!value)
        value = "";
    size_t len = 0;
    while (value[len])
        len++;
    return ldap_filter_escape_len(value, len);
}
