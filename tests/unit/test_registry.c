/* test_registry.c: unit tests of the registry (src/core/registry*.c) and the
 * typed configuration (src/core/config.c): parsing, editing that preserves
 * the file, atomic saving, every value type, and config_load's derivations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/registry.h"

/* ---- helpers ---- */

static char tmpdir[256];

static int make_tmpdir(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/plucs-test-registry.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path_in_tmp(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

typedef struct {
    char lines[16][512];
    int n;
} reports;

static void collect(void *ud, const char *line)
{
    reports *r = ud;
    if (r->n < 16)
        snprintf(r->lines[r->n++], sizeof r->lines[0], "%s", line);
}

static bool valid(const char *key, const char *value)
{
    char err[512];
    return reg_validate(key, value, err, sizeof err) == 0;
}

/* ---- the variable table ---- */

static void test_table(void **state)
{
    size_t n;
    const reg_var *v = reg_vars(&n);
    assert_true(n >= 45);
    for (size_t i = 0; i < n; i++) {
        assert_true(reg_key_valid(v[i].key));
        assert_non_null(v[i].desc_en);
        assert_non_null(v[i].desc_de);
        /* every literal default passes its own validation */
        if (v[i].def && v[i].def[0]) {
            char err[512];
            if (reg_validate(v[i].key, v[i].def, err, sizeof err) != 0)
                fail_msg("default of %s invalid: %s", v[i].key, err);
        }
        assert_ptr_equal(reg_var_find(v[i].key), &v[i]);
    }
    assert_null(reg_var_find("plucs/nope"));
    assert_true(reg_var_find("ldap/base")->flags & REG_F_REQUIRED);
    assert_true(reg_var_find("ldap/hostdn")->flags & REG_F_REQUIRED);
    assert_true(reg_var_find("plucs/c2s/port")->flags & REG_F_RESTART);
    assert_true(reg_var_find("plucs/threads")->flags & REG_F_STATIC);
    assert_true(reg_var_find("plucs/store")->flags & REG_F_STATIC);
    assert_true(reg_var_find("plucs/rundir")->flags & REG_F_STATIC);
    assert_string_equal(reg_default(reg_var_find("plucs/ldap/poll")), "30");
    assert_string_equal(reg_default(reg_var_find("plucs/ldap/port")), "7636");
    assert_string_equal(reg_type_name(REG_URLPATH), "urlpath");
}

static void test_computed_defaults(void **state)
{
    const char *h = reg_default(reg_var_find("hostname"));
    assert_true(h[0] != '\0');
    assert_null(strchr(h, '.'));
    const char *d = reg_default(reg_var_find("domainname"));
    assert_true(d[0] != '\0');
    const char *lang = reg_default(reg_var_find("plucs/language"));
    assert_true(strcmp(lang, "en") == 0 || strcmp(lang, "de") == 0);
    assert_string_equal(reg_default(reg_var_find("plucs/s2s/certfile")), "/etc/plucs/certs/plucs.pem");
    assert_string_equal(reg_default(reg_var_find("ldap/base")), "");
}

/* ---- parsing ---- */

static void test_parse(void **state)
{
    const char *p = path_in_tmp("parse.conf");
    write_file(p, "# a comment\n"
                  "\n"
                  "plucs/tls: required\n"
                  "ldap/base: dc=example,dc=com\n"
                  "empty/one:\n"
                  "empty/two: \n"
                  "colon/inside: a: b: c\n"
                  "spaces/kept:   two  words  \n"
                  "dup/key: first\n"
                  "this is junk\n"
                  "Upper/Case: x\n"
                  "nospace:value\n"
                  "dup/key: second\n"
                  "   # indented comment\n");
    registry *r = registry_load(p);
    assert_non_null(r);
    assert_string_equal(registry_get_raw(r, "plucs/tls"), "required");
    assert_string_equal(registry_get_raw(r, "ldap/base"), "dc=example,dc=com");
    assert_string_equal(registry_get_raw(r, "empty/one"), "");
    assert_string_equal(registry_get_raw(r, "empty/two"), "");
    assert_string_equal(registry_get_raw(r, "colon/inside"), "a: b: c");
    assert_string_equal(registry_get_raw(r, "spaces/kept"), "  two  words  ");
    assert_string_equal(registry_get_raw(r, "dup/key"), "second");
    assert_null(registry_get_raw(r, "nospace"));
    assert_null(registry_get_raw(r, "plucs/c2s/port"));
    assert_string_equal(registry_get(r, "plucs/c2s/port"), "5222");
    assert_null(registry_get(r, "unknown/key"));

    reports rep = { 0 };
    assert_int_equal(registry_check(r, collect, &rep), 3);
    assert_string_equal(rep.lines[0], "line 10: not a 'key: value' line");
    assert_string_equal(rep.lines[1], "line 11: not a 'key: value' line");
    assert_string_equal(rep.lines[2], "line 12: not a 'key: value' line");
    registry_free(r);

    /* a missing file is an empty registry */
    r = registry_load(path_in_tmp("does-not-exist"));
    assert_non_null(r);
    assert_null(registry_get_raw(r, "plucs/tls"));
    assert_string_equal(registry_get(r, "plucs/tls"), "true");
    registry_free(r);
}

static void count_keys(void *ud, const char *key, const char *value)
{
    (*(int *)ud)++;
}

static void test_check_values(void **state)
{
    const char *p = path_in_tmp("check.conf");
    write_file(p, "plucs/tls: maybe\nplucs/c2s/port: 0\nplucs/c2s/port: 5222\nfree/var: anything\n");
    registry *r = registry_load(p);
    reports rep = { 0 };
    assert_int_equal(registry_check(r, collect, &rep), 1);   /* the overridden port 0 does not count */
    assert_string_equal(rep.lines[0], "plucs/tls: invalid value 'maybe' (allowed: true, false, required)");
    int keys = 0;
    registry_each(r, count_keys, &keys);
    assert_int_equal(keys, 3);
    registry_free(r);
}

/* ---- editing and saving ---- */

static void test_set_unset_preserves(void **state)
{
    const char *p = path_in_tmp("edit.conf");
    write_file(p, "# header\n"
                  "plucs/tls: true\n"
                  "\n"
                  "other/service: keep me\n"
                  "junk line\n"
                  "plucs/loglevel: 2\n"
                  "plucs/loglevel: 4\n"
                  "# trailer\n");
    chmod(p, 0640);
    registry *r = registry_load(p);
    registry_set(r, "plucs/tls", "required");
    registry_set(r, "plucs/loglevel", "5");        /* replaces the last occurrence */
    registry_set(r, "plucs/c2s/port", "5223");     /* appended */
    assert_true(registry_unset(r, "other/service"));
    assert_false(registry_unset(r, "not/there"));
    assert_int_equal(registry_save(r, p), 0);
    registry_free(r);

    assert_string_equal(read_file(p), "# header\n"
                                      "plucs/tls: required\n"
                                      "\n"
                                      "junk line\n"
                                      "plucs/loglevel: 2\n"
                                      "plucs/loglevel: 5\n"
                                      "# trailer\n"
                                      "plucs/c2s/port: 5223\n");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);

    /* unset removes every occurrence of a duplicate key */
    r = registry_load(p);
    assert_true(registry_unset(r, "plucs/loglevel"));
    assert_null(registry_get_raw(r, "plucs/loglevel"));
    assert_string_equal(registry_get(r, "plucs/loglevel"), "3");
    registry_free(r);
}

static void test_save_roundtrip_new_file(void **state)
{
    const char *p = path_in_tmp("new.conf");
    unlink(p);
    registry *r = registry_new();
    registry_set(r, "ldap/base", "dc=a,dc=b");
    registry_set(r, "empty/value", "");
    registry_set(r, "with/colon", "x: y");
    assert_int_equal(registry_save(r, p), 0);
    registry_free(r);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    r = registry_load(p);
    assert_string_equal(registry_get_raw(r, "ldap/base"), "dc=a,dc=b");
    assert_string_equal(registry_get_raw(r, "empty/value"), "");
    assert_string_equal(registry_get_raw(r, "with/colon"), "x: y");
    registry_free(r);
    /* no temporary files are left behind */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q '^\\.new.conf'", tmpdir);
    assert_int_not_equal(system(cmd), 0);

    /* a folder that does not exist: -1, not a crash */
    r = registry_new();
    assert_int_equal(registry_save(r, "/nonexistent-plucs-dir/x.conf"), -1);
    registry_free(r);
}

/* ---- value types ---- */

static void test_bool(void **state)
{
    const char *yes[] = { "yes", "true", "1", "enable", "enabled", "on", "YES", "True", "ON" };
    const char *no[] = { "no", "false", "0", "disable", "disabled", "off", "No", "FALSE" };
    bool b;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        assert_true(reg_parse_bool(yes[i], &b));
        assert_true(b);
        assert_true(valid("plucs/s2s", yes[i]));
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        assert_true(reg_parse_bool(no[i], &b));
        assert_false(b);
        assert_true(valid("plucs/s2s", no[i]));
    }
    assert_false(reg_parse_bool("maybe", &b));
    assert_false(reg_parse_bool("", &b));
    assert_false(reg_parse_bool(" yes", &b));
    assert_false(reg_parse_bool(NULL, &b));
    assert_false(valid("plucs/s2s", "2"));
    assert_false(valid("plucs/s2s", ""));
}

static void test_int(void **state)
{
    char err[512];
    assert_true(valid("plucs/c2s/port", "1"));
    assert_true(valid("plucs/c2s/port", "65535"));
    assert_false(valid("plucs/c2s/port", "0"));
    assert_int_equal(reg_validate("plucs/c2s/port", "70000", err, sizeof err), -1);
    assert_string_equal(err, "plucs/c2s/port: invalid value '70000' (allowed: an integer from 1 to 65535)");
    assert_false(valid("plucs/c2s/port", "12abc"));
    assert_false(valid("plucs/c2s/port", " 5"));
    assert_false(valid("plucs/c2s/port", "5 "));
    assert_false(valid("plucs/c2s/port", "-1"));
    assert_false(valid("plucs/c2s/port", "+5"));
    assert_false(valid("plucs/c2s/port", ""));
    assert_false(valid("plucs/c2s/port", "99999999999999999999999999"));
    assert_false(valid("plucs/c2s/port", "0x10"));
    assert_true(valid("plucs/c2s/tls/port", "0"));
    assert_true(valid("plucs/threads", "0"));
    assert_true(valid("plucs/threads", "256"));
    assert_false(valid("plucs/threads", "257"));
    assert_false(valid("plucs/max_stanza_size", "1023"));
    assert_true(valid("plucs/max_stanza_size", "1024"));
    assert_true(valid("plucs/max_stanza_size", "16777216"));
    assert_false(valid("plucs/max_stanza_size", "16777217"));
    assert_true(valid("plucs/loglevel", "0"));
    assert_false(valid("plucs/loglevel", "6"));
    assert_false(valid("plucs/ldap/poll", "0"));
    assert_true(valid("plucs/ldap/poll", "86400"));
}

static void test_enum(void **state)
{
    char err[512];
    assert_true(valid("plucs/tls", "true"));
    assert_true(valid("plucs/tls", "false"));
    assert_true(valid("plucs/tls", "required"));
    assert_int_equal(reg_validate("plucs/tls", "maybe", err, sizeof err), -1);
    assert_string_equal(err, "plucs/tls: invalid value 'maybe' (allowed: true, false, required)");
    assert_false(valid("plucs/tls", ""));
    assert_false(valid("plucs/tls", "requir"));
    const char *s2s[] = { "false", "optional", "required", "required_trusted", "true" };
    for (size_t i = 0; i < 5; i++)
        assert_true(valid("plucs/s2s/tls", s2s[i]));
    assert_false(valid("plucs/s2s/tls", "trusted"));
    assert_true(valid("plucs/roster/scope", "member"));
    assert_false(valid("plucs/roster/scope", "all"));
    assert_true(valid("plucs/mod/filter/message_policy", "allow"));
    assert_false(valid("plucs/mod/filter/message_policy", "permit"));
}

static void test_path_urlpath(void **state)
{
    assert_true(valid("plucs/certfile", "/etc/ssl/x.pem"));
    assert_false(valid("plucs/certfile", "etc/ssl/x.pem"));
    assert_false(valid("plucs/certfile", ""));
    assert_true(valid("plucs/http/bind/url", "/http-bind/"));
    assert_true(valid("plucs/http/bind/url", "/"));
    assert_true(valid("plucs/http/bind/url", "/a/b/"));
    assert_false(valid("plucs/http/bind/url", "/http-bind"));
    assert_false(valid("plucs/http/bind/url", "http-bind/"));
    assert_false(valid("plucs/http/bind/url", "/a b/"));
    assert_false(valid("plucs/http/bind/url", "/a?b/"));
    assert_false(valid("plucs/http/bind/url", "/a#b/"));
    assert_false(valid("plucs/http/bind/url", ""));
}

static void test_special_strings(void **state)
{
    char err[512];
    /* LDAP URIs */
    assert_true(valid("plucs/ldap/uri", ""));
    assert_true(valid("plucs/ldap/uri", "ldaps://a.example:636"));
    assert_true(valid("plucs/ldap/uri", "ldap://a ldaps://b  ldapi://%2frun%2fslapd"));
    assert_false(valid("plucs/ldap/uri", "ldap://a http://b"));
    assert_false(valid("plucs/ldap/uri", "a.example"));
    /* store */
    assert_true(valid("plucs/store", "sqlite:/var/lib/plucs/plucs.db"));
    assert_false(valid("plucs/store", "sqlite:relative.db"));
    assert_false(valid("plucs/store", "sqlite:"));
    assert_false(valid("plucs/store", "/var/lib/plucs.db"));
    assert_int_equal(reg_validate("plucs/store", "postgresql://db/plucs", err, sizeof err), -1);
    assert_non_null(strstr(err, "not supported yet"));
    /* attribute names */
    assert_true(valid("plucs/userlabel", "displayName"));
    assert_true(valid("plucs/grouplabel", "x-label2"));
    assert_false(valid("plucs/userlabel", "2cn"));
    assert_false(valid("plucs/userlabel", "cn;lang-de"));
    assert_false(valid("plucs/userlabel", ""));
    /* domains */
    assert_true(valid("plucs/domains", ""));
    assert_true(valid("plucs/domains", "example.com Chat.Example.org"));
    assert_false(valid("plucs/domains", "exa_mple.com"));
    assert_false(valid("plucs/domains", "-a.com"));
    assert_false(valid("plucs/domains", "a..com"));
    /* addresses */
    assert_true(valid("plucs/c2s/address", "::"));
    assert_true(valid("plucs/c2s/address", "0.0.0.0"));
    assert_true(valid("plucs/http/address", "127.0.0.1 ::1"));
    assert_false(valid("plucs/http/address", "localhost"));
    assert_false(valid("plucs/c2s/address", ""));
    assert_false(valid("plucs/c2s/address", "300.1.1.1"));
    /* host identity */
    assert_true(valid("hostname", "ucs-master"));
    assert_false(valid("hostname", "a.b"));
    assert_true(valid("ldap/server/name", "ldap.example.com"));
    assert_true(valid("ldap/server/name", "fd00::1"));
    assert_false(valid("ldap/server/name", "ldap://x"));
    /* no line breaks in any value, known or not */
    assert_false(valid("free/var", "a\nb"));
    assert_true(valid("free/var", "anything at all"));
    /* keys */
    assert_true(reg_key_valid("plucs/http/bind/url"));
    assert_false(reg_key_valid("Plucs/x"));
    assert_false(reg_key_valid("a b"));
    assert_false(reg_key_valid(""));
}

/* ---- config_load ---- */

static config *load_text(const char *text, reports *rep)
{
    const char *p = path_in_tmp("config.conf");
    write_file(p, text);
    return config_load(p, collect, rep);
}

static void test_config_derive_uris(void **state)
{
    reports rep = { 0 };
    config *c = load_text("ldap/base: dc=example,dc=com\n"
                          "ldap/hostdn: cn=h,dc=example,dc=com\n"
                          "ldap/server/name: ldap1.example.com\n"
                          "ldap/server/addition: ldap2.example.com  fd00::2\n",
                          &rep);
    assert_int_equal(rep.n, 0);
    assert_non_null(c);
    assert_string_equal(c->ldap_uris[0], "ldaps://ldap1.example.com:7636");
    assert_string_equal(c->ldap_uris[1], "ldaps://ldap2.example.com:7636");
    assert_string_equal(c->ldap_uris[2], "ldaps://[fd00::2]:7636");
    assert_null(c->ldap_uris[3]);
    assert_string_equal(c->ldap_base, "dc=example,dc=com");
    assert_int_equal(c->c2s_port, 5222);
    assert_int_equal(c->tls, TLS_ON);
    assert_int_equal(c->s2s_tls, S2S_TLS_OPTIONAL);
    assert_string_equal(c->s2s_certfile, c->certfile);
    assert_null(c->domains);
    assert_true(c->threads > 0);
    assert_int_equal(c->ldap_poll, 30);
    assert_string_equal(c->c2s_addresses[0], "::");
    assert_null(c->c2s_addresses[1]);
    assert_string_equal(c->http_addresses[0], "127.0.0.1");
    assert_string_equal(c->http_addresses[1], "::1");
    assert_string_equal(c->store, "sqlite:/var/lib/plucs/plucs.db");
    config_free(c);

    c = load_text("ldap/base: dc=x\nldap/hostdn: cn=h,dc=x\nldap/server/name: ldap1\n"
                  "plucs/ldap/tls: no\nplucs/ldap/port: 389\nplucs/tls: required\nplucs/s2s/tls: required_trusted\n"
                  "plucs/certfile: /c.pem\nplucs/domains: Example.COM chat.example.org\nplucs/threads: 3\n"
                  "plucs/roster/scope: member\nplucs/mod/filter/message_policy: allow\n",
                  &rep);
    assert_non_null(c);
    assert_string_equal(c->ldap_uris[0], "ldap://ldap1:389");
    assert_null(c->ldap_uris[1]);
    assert_int_equal(c->tls, TLS_REQUIRED);
    assert_int_equal(c->s2s_tls, S2S_TLS_REQUIRED_TRUSTED);
    assert_string_equal(c->s2s_certfile, "/c.pem");
    assert_string_equal(c->domains[0], "example.com");
    assert_string_equal(c->domains[1], "chat.example.org");
    assert_null(c->domains[2]);
    assert_int_equal(c->threads, 3);
    assert_int_equal(c->roster_scope, ROSTER_SCOPE_MEMBER);
    assert_true(c->filter_message_allow);
    assert_false(c->filter_presence_allow);
    config_free(c);
}

static void test_config_uri_override(void **state)
{
    reports rep = { 0 };
    config *c = load_text("ldap/base: dc=x\nldap/hostdn: cn=h,dc=x\nldap/server/name: ignored\n"
                          "plucs/ldap/uri: ldap://127.0.0.1:3890 ldapi://%2frun%2fs\n",
                          &rep);
    assert_non_null(c);
    assert_string_equal(c->ldap_uris[0], "ldap://127.0.0.1:3890");
    assert_string_equal(c->ldap_uris[1], "ldapi://%2frun%2fs");
    assert_null(c->ldap_uris[2]);
    config_free(c);
    /* uri alone is enough */
    c = load_text("ldap/base: dc=x\nldap/hostdn: cn=h,dc=x\nplucs/ldap/uri: ldap://h\n", &rep);
    assert_non_null(c);
    assert_int_equal(rep.n, 0);
    config_free(c);
}

static void test_config_errors(void **state)
{
    reports rep = { 0 };
    config *c = load_text("ldap/hostdn: cn=h,dc=x\nldap/server/name: h\nplucs/c2s/port: 70000\n", &rep);
    assert_null(c);
    assert_int_equal(rep.n, 2);
    assert_string_equal(rep.lines[0], "plucs/c2s/port: invalid value '70000' (allowed: an integer from 1 to 65535)");
    assert_string_equal(rep.lines[1], "ldap/base: not set (required: the LDAP search base, e.g. dc=example,dc=com)");

    memset(&rep, 0, sizeof rep);
    c = load_text("ldap/base: dc=x\nldap/hostdn: cn=h,dc=x\n", &rep);
    assert_null(c);
    assert_int_equal(rep.n, 1);
    assert_non_null(strstr(rep.lines[0], "ldap/server/name"));
    assert_non_null(strstr(rep.lines[0], "plucs/ldap/uri"));

    memset(&rep, 0, sizeof rep);
    c = load_text("ldap/base:\nldap/hostdn: cn=h\nldap/server/name: h\n", &rep);   /* empty = not set */
    assert_null(c);
    assert_int_equal(rep.n, 1);
}

/* plucs/s2s/route/DOMAIN=HOST:PORT: the value's forms, refusals naming the
 * key, and the routes config_load builds (IPv6 without brackets, the port as a number). */
static void test_s2s_routes(void **state)
{
    const char *ok[] = { "xmpp.example.org:5269", "1.2.3.4:5269", "[::1]:5269",
                         "[2001:db8::1]:5270", "h:1", "h:65535", "localhost:5269" };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_true(valid("plucs/s2s/route/b.test", ok[i]));
    const char *bad[] = { "", "example.org", "example.org:", "example.org:0", "example.org:65536",
                          "example.org:x", "::1:5269", "[::1]5269", "[::1]", "[host]:5269",
                          "exa_mple.org:5269", "a b:5269", ":5269", "1.2.3.4:5269 x" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(valid("plucs/s2s/route/b.test", bad[i]));
    char err[512];
    assert_int_equal(reg_validate("plucs/s2s/route/b.test", "b.test", err, sizeof err), -1);
    assert_string_equal(err, "plucs/s2s/route/b.test: invalid value 'b.test' (allowed: HOST:PORT, "
                             "e.g. xmpp.example.org:5269 or [2001:db8::1]:5269)");

    reports rep = { 0 };
    config *c = load_text("ldap/base: dc=x\nldap/hostdn: cn=h\nldap/server/name: h\n"
                          "plucs/s2s/route/b.test: [::1]:5270\n"
                          "plucs/s2s/route/c.test: 1.2.3.4:5269\n"
                          "plucs/s2s/route/d.test: xmpp.d.test:5299\n",
                          &rep);
    assert_non_null(c);
    assert_int_equal(rep.n, 0);
    assert_int_equal(c->s2s_nroutes, 3);
    bool seen[3] = { false, false, false };
    for (int i = 0; i < c->s2s_nroutes; i++) {
        const struct s2s_route *r = &c->s2s_routes[i];
        if (!strcmp(r->domain, "b.test")) {
            assert_string_equal(r->host, "::1");
            assert_int_equal(r->port, 5270);
            seen[0] = true;
        } else if (!strcmp(r->domain, "c.test")) {
            assert_string_equal(r->host, "1.2.3.4");
            assert_int_equal(r->port, 5269);
            seen[1] = true;
        } else if (!strcmp(r->domain, "d.test")) {
            assert_string_equal(r->host, "xmpp.d.test");
            assert_int_equal(r->port, 5299);
            seen[2] = true;
        }
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    config_free(c);

    memset(&rep, 0, sizeof rep);
    c = load_text("ldap/base: dc=x\nldap/hostdn: cn=h\nldap/server/name: h\n"
                  "plucs/s2s/route/e.test: e.test\n",
                  &rep);
    assert_null(c);
    assert_int_equal(rep.n, 1);
    assert_non_null(strstr(rep.lines[0], "plucs/s2s/route/e.test: invalid value 'e.test'"));
}

static void test_config_current(void **state)
{
    reports rep = { 0 };
    assert_null(config_current());
    config *a = load_text("ldap/base: dc=x\nldap/hostdn: cn=h\nldap/server/name: h\n", &rep);
    config *b = load_text("ldap/base: dc=y\nldap/hostdn: cn=h\nldap/server/name: h\n", &rep);
    assert_non_null(a);
    assert_non_null(b);
    config_set_current(a);
    assert_ptr_equal(config_current(), a);
    config_set_current(b);
    assert_ptr_equal(config_current(), b);
    assert_string_equal(a->ldap_base, "dc=x");   /* the old one is still valid */
    config_free_all();
    assert_null(config_current());
}

static void test_default_path(void **state)
{
    assert_string_equal(registry_default_path("/x/y.conf"), "/x/y.conf");
    setenv("PLUCS_REGISTRY", "/from/env.conf", 1);
    assert_string_equal(registry_default_path(NULL), "/from/env.conf");
    assert_string_equal(registry_default_path("/x/y.conf"), "/x/y.conf");
    unsetenv("PLUCS_REGISTRY");
    const char *d = registry_default_path(NULL);
    assert_true(strcmp(d, "/etc/univention/base.conf") == 0 || strcmp(d, "/etc/plucs/registry.conf") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_computed_defaults),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_check_values),
        cmocka_unit_test(test_set_unset_preserves),
        cmocka_unit_test(test_save_roundtrip_new_file),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_path_urlpath),
        cmocka_unit_test(test_special_strings),
        cmocka_unit_test(test_config_derive_uris),
        cmocka_unit_test(test_config_uri_override),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_s2s_routes),
        cmocka_unit_test(test_config_current),
        cmocka_unit_test(test_default_path),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
