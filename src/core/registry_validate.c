/* registry_validate.c: checks one registry value against its variable's type
 * (bool, int range, enum, str, path, urlpath) and the few variables that need
 * more (LDAP URIs, store, attribute names, domain and address lists). Every
 * refusal is one line naming the key, the value and what is allowed, so an
 * administrator can fix it without reading code. */
#include "core/registry.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *bool_true[] = { "yes", "true", "1", "enable", "enabled", "on" };
static const char *bool_false[] = { "no", "false", "0", "disable", "disabled", "off" };

bool reg_parse_bool(const char *s, bool *out)
{
    if (!s)
        return false;
    for (size_t i = 0; i < sizeof bool_true / sizeof bool_true[0]; i++) {
        if (strcasecmp(s, bool_true[i]) == 0) {
            if (out)
                *out = true;
            return true;
        }
        if (strcasecmp(s, bool_false[i]) == 0) {
            if (out)
                *out = false;
            return true;
        }
    }
    return false;
}

bool reg_key_valid(const char *key)
{
    if (!key || !*key)
        return false;
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' ||
              *p == '.' || *p == '-'))
            return false;
    return true;
}

/* Digits only (no sign, no blanks), no overflow, within [min, max]. */
static bool parse_int_range(const char *s, int min, int max)
{
    if (!s || !*s)
        return false;
    long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
        if (v > max)
            return false;
    }
    return v >= min;
}

/* One DNS label per dot; letters, digits, '-' and non-ASCII bytes (IDN). */
static bool dns_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    size_t label = 0;
    char prev = '.';
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            if (label == 0 || prev == '-')
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80) {
            label++;
        } else if (c == '-') {
            if (label == 0)
                return false;
            label++;
        } else {
            return false;
        }
        if (label > 63)
            return false;
        prev = (char)c;
    }
    return label > 0 && prev != '-';
}

static bool ip_literal_valid(const char *s)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

static bool host_valid(const char *s)
{
    return ip_literal_valid(s) || dns_name_valid(s);
}

/* plucs/muc/host, plucs/pubsub/host: a DNS name in which %s (at most
 * once) stands for the served domain. */
static bool service_host_valid(const char *s)
{
    char name[300];
    const char *pct = strstr(s, "%s");
    if (strlen(s) >= 250 || (pct && strstr(pct + 2, "%s")))
        return false;
    for (const char *p = s; *p; p++)
        if (*p == '%' && p != pct)
            return false;
    if (pct)
        snprintf(name, sizeof name, "%.*sexample.org%s", (int)(pct - s), s, pct + 2);
    else
        snprintf(name, sizeof name, "%s", s);
    return dns_name_valid(name);
}

/* A group's cn as an LDAP value: printable, no filter metacharacters. */
static bool group_cn_valid(const char *s)
{
    if (!*s || strlen(s) > 256)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < ' ' || *p == '(' || *p == ')' || *p == '*' || *p == '\\')
            return false;
    return true;
}

/* HOST:PORT, [IPV6]:PORT: a DNS name or address and a port 1-65535. */
static bool hostport_valid(const char *s)
{
    char host[300];
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            return false;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = 0;
        unsigned char addr[16];
        if (inet_pton(AF_INET6, host, addr) != 1)
            return false;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return false;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
        if (!host_valid(host) || strchr(host, ':'))
            return false;
    }
    return parse_int_range(colon + 1, 1, 65535);
}

/* Applies ok() to every space-separated word; false when any fails or,
 * with need_one, when there is no word at all. */
static bool each_word(const char *s, bool need_one, bool (*ok)(const char *word))
{
    char word[512];
    size_t words = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, " \t");
        if (n >= sizeof word)
            return false;
        memcpy(word, p, n);
        word[n] = '\0';
        if (!ok(word))
            return false;
        words++;
        p += n;
    }
    return words > 0 || !need_one;
}

static bool ldap_uri_valid(const char *w)
{
    return strncmp(w, "ldap://", 7) == 0 || strncmp(w, "ldaps://", 8) == 0 ||
           strncmp(w, "ldapi://", 8) == 0;
}

static bool ldap_attr_valid(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return false;
    for (const char *p = s + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

static bool urlpath_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[0] != '/' || s[n - 1] != '/')
        return false;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == 0x7f || c == '?' || c == '#')
            return false;
    }
    return true;
}

static bool language_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 8)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < 'a' || *p > 'z')
            return false;
    return true;
}

static bool enum_valid(const char *choices, const char *s)
{
    size_t n = strlen(s);
    const char *p = choices;
    while (p && *p) {
        size_t len = strcspn(p, ",");
        if (len == n && n > 0 && strncasecmp(p, s, n) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

const char *reg_allowed(const reg_var *v, char *buf, size_t len)
{
    if (!buf || len == 0)
        return "";
    buf[0] = '\0';
    if (!v)
        return buf;
    const char *k = v->key;
    if (strcmp(k, "plucs/store") == 0)
        snprintf(buf, len, "sqlite: followed by an absolute path, e.g. sqlite:/var/lib/plucs/plucs.db");
    else if (strcmp(k, "plucs/ldap/uri") == 0)
        snprintf(buf, len, "empty, or space-separated URIs starting with ldap://, ldaps:// or ldapi://");
    else if (strcmp(k, "plucs/userlabel") == 0 || strcmp(k, "plucs/grouplabel") == 0)
        snprintf(buf, len, "an LDAP attribute name (a letter, then letters, digits or '-')");
    else if (strcmp(k, "plucs/domains") == 0)
        snprintf(buf, len, "empty, or space-separated DNS domain names");
    else if (strcmp(k, "plucs/c2s/address") == 0 || strcmp(k, "plucs/http/address") == 0)
        snprintf(buf, len, "one or more space-separated IPv4 or IPv6 addresses, e.g. :: or 0.0.0.0 for all");
    else if (strcmp(k, "plucs/s2s/address") == 0)
        snprintf(buf, len, "one or more space-separated IPv4 or IPv6 addresses, e.g. :: or 0.0.0.0 for all");
    else if (strcmp(k, "plucs/s2s/route/") == 0)
        snprintf(buf, len, "HOST:PORT, e.g. xmpp.example.org:5269 or [2001:db8::1]:5269");
    else if (strcmp(k, "plucs/s2s/cafile") == 0)
        snprintf(buf, len, "empty, or an absolute path");
    else if (strcmp(k, "plucs/muc/host") == 0)
        snprintf(buf, len, "a DNS name, where %%s stands for the served domain, e.g. conference.%%s");
    else if (strcmp(k, "plucs/pubsub/host") == 0)
        snprintf(buf, len, "a DNS name, where %%s stands for the served domain, e.g. pubsub.%%s");
    else if (strcmp(k, "plucs/upload/url") == 0)
        snprintf(buf, len, "empty, or the http:// or https:// origin the files are fetched from, e.g. https://chat.example.org (the path /upload/ is added)");
    else if (strcmp(k, "plucs/muc/create") == 0)
        snprintf(buf, len, "all, none, or the cn of a directory group");
    else if (strcmp(k, "plucs/muc/grouprooms/owners") == 0 || strcmp(k, "plucs/admin/group") == 0)
        snprintf(buf, len, "empty, or the cn of a directory group");
    else if (strcmp(k, "hostname") == 0)
        snprintf(buf, len, "a host name without dots");
    else if (strcmp(k, "domainname") == 0)
        snprintf(buf, len, "a DNS domain name");
    else if (strcmp(k, "ldap/server/name") == 0)
        snprintf(buf, len, "a host name or IP address");
    else if (strcmp(k, "ldap/server/addition") == 0)
        snprintf(buf, len, "empty, or space-separated host names or IP addresses");
    else if (strcmp(k, "plucs/language") == 0)
        snprintf(buf, len, "a language code such as en or de");
    else {
        switch (v->type) {
        case REG_BOOL:
            snprintf(buf, len, "yes, true, 1, enable, enabled, on, no, false, 0, disable, disabled, off");
            break;
        case REG_INT:
            snprintf(buf, len, "an integer from %d to %d", v->min, v->max);
            break;
        case REG_ENUM: {
            size_t o = 0;
            for (const char *p = v->choices; p && *p && o + 3 < len; p++) {
                if (*p == ',') {
                    buf[o++] = ',';
                    buf[o++] = ' ';
                } else {
                    buf[o++] = *p;
                }
            }
            buf[o] = '\0';
            break;
        }
        case REG_STR:
            snprintf(buf, len, "any text on one line");
            break;
        case REG_PATH:
            snprintf(buf, len, "an absolute path");
            break;
        case REG_URLPATH:
            snprintf(buf, len, "a URL path starting and ending with '/', without blanks, '?' or '#'");
            break;
        }
    }
    return buf;
}

/* true when the value is fine for this (known) variable. */
static bool value_ok(const reg_var *v, const char *s)
{
    const char *k = v->key;
    switch (v->type) {
    case REG_BOOL: return reg_parse_bool(s, NULL);
    case REG_INT: return parse_int_range(s, v->min, v->max);
    case REG_ENUM: return enum_valid(v->choices, s);
    case REG_PATH: return s[0] == '/';
    case REG_URLPATH: return urlpath_valid(s);
    case REG_STR: break;
    }
    if (strcmp(k, "plucs/store") == 0)
        return strncmp(s, "sqlite:/", 8) == 0 && s[8] != '\0';
    if (strcmp(k, "plucs/ldap/uri") == 0)
        return each_word(s, false, ldap_uri_valid);
    if (strcmp(k, "plucs/userlabel") == 0 || strcmp(k, "plucs/grouplabel") == 0)
        return ldap_attr_valid(s);
    if (strcmp(k, "plucs/domains") == 0)
        return each_word(s, false, dns_name_valid);
    if (strcmp(k, "plucs/c2s/address") == 0 || strcmp(k, "plucs/http/address") == 0 ||
        strcmp(k, "plucs/s2s/address") == 0)
        return each_word(s, true, ip_literal_valid);
    if (strcmp(k, "plucs/s2s/route/") == 0)
        return hostport_valid(s);
    if (strcmp(k, "plucs/s2s/cafile") == 0)
        return s[0] == '\0' || s[0] == '/';
    if (strcmp(k, "plucs/upload/url") == 0)
        return s[0] == '\0' || ((strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) &&
                                 !strpbrk(s, " \t\r\n\"<>"));
    if (strcmp(k, "plucs/muc/host") == 0 || strcmp(k, "plucs/pubsub/host") == 0)
        return service_host_valid(s);
    if (strcmp(k, "plucs/muc/create") == 0 || strcmp(k, "plucs/muc/grouprooms/owners") == 0 ||
        strcmp(k, "plucs/admin/group") == 0)
        return s[0] == '\0' ? strcmp(k, "plucs/muc/create") != 0 : group_cn_valid(s);
    if (strcmp(k, "hostname") == 0)
        return dns_name_valid(s) && !strchr(s, '.');
    if (strcmp(k, "domainname") == 0)
        return dns_name_valid(s);
    if (strcmp(k, "ldap/server/name") == 0)
        return s[0] == '\0' || host_valid(s);
    if (strcmp(k, "ldap/server/addition") == 0)
        return each_word(s, false, host_valid);
    if (strcmp(k, "plucs/language") == 0)
        return language_valid(s);
    return true;
}

int reg_validate(const char *key, const char *value, char *err, size_t errlen)
{
    char allowed[256];
    if (err && errlen)
        err[0] = '\0';
    if (!key || !value) {
        if (err)
            snprintf(err, errlen, "%s: no value", key ? key : "(null)");
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p < ' ' && *p != '\t') {
            if (err)
                snprintf(err, errlen, "%s: invalid value (control characters or line breaks are not allowed)", key);
            return -1;
        }
    }
    const reg_var *v = reg_var_find(key);
    if (!v)
        return 0;
    if (value_ok(v, value))
        return 0;
    if (err) {
        if (strcmp(key, "plucs/store") == 0 && strncmp(value, "postgresql:", 11) == 0)
            snprintf(err, errlen, "%s: invalid value '%s' (postgresql is not supported yet; allowed: %s)", key,
                     value, reg_allowed(v, allowed, sizeof allowed));
        else
            snprintf(err, errlen, "%s: invalid value '%s' (allowed: %s)", key, value,
                     reg_allowed(v, allowed, sizeof allowed));
    }
    return -1;
}
