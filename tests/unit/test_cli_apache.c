/* test_cli_apache.c: the Apache snippet proxies exactly the enabled URLs,
 * each with and without its trailing slash, to the loopback listener
 * (IPv6 in brackets), with WebSocket over ws:// (mod_proxy_wstunnel), and
 * names the modules to enable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_apache.h"
#include "core/buf.h"

static char *snippet(bool bind, bool poll, bool ws, const char *addr, const char *bind_url)
{
    char *addrs[] = { (char *)addr, NULL };
    config c = { 0 };
    c.http_bind = bind;
    c.http_poll = poll;
    c.http_websocket = ws;
    c.http_bind_url = (char *)bind_url;
    c.http_poll_url = "/http-poll/";
    c.http_websocket_url = "/xmpp-websocket/";
    c.http_addresses = addrs;
    c.http_port = 5280;
    buf b;
    buf_init(&b);
    apache_snippet(&c, &b);
    return buf_steal(&b);
}

static void test_enabled_urls_only(void **state)
{
    char *s = snippet(true, false, true, "127.0.0.1", "/http-bind/");
    assert_non_null(strstr(s, "ProxyPassMatch \"^(/http-bind)/?$\" \"http://127.0.0.1:5280$1/\""));
    assert_non_null(strstr(s, "ProxyPassMatch \"^(/xmpp-websocket)/?$\" \"ws://127.0.0.1:5280$1/\""));
    assert_null(strstr(s, "http-poll)"));
    assert_non_null(strstr(s, "proxy proxy_http proxy_wstunnel"));
    assert_non_null(strstr(s, "<IfModule mod_proxy.c>"));
    free(s);
}

static void test_ipv6_and_escaping(void **state)
{
    char *s = snippet(true, true, false, "::1", "/x.bind+/");
    assert_non_null(strstr(s, "\"^(/x\\.bind\\+)/?$\" \"http://[::1]:5280$1/\""));
    assert_non_null(strstr(s, "\"^(/http-poll)/?$\" \"http://[::1]:5280$1/\""));
    free(s);
    s = snippet(false, false, false, "0.0.0.0", "/http-bind/");
    assert_null(strstr(s, "ProxyPassMatch"));
    assert_non_null(strstr(s, "nothing to proxy"));
    free(s);
}

static void test_upload_path(void **state)
{
    char *addrs[] = { "127.0.0.1", NULL };
    config c = { 0 };
    c.http_addresses = addrs;
    c.http_port = 5280;
    c.upload = true;
    c.upload_max_size = 104857600;
    buf b;
    buf_init(&b);
    apache_snippet(&c, &b);
    char *s = buf_steal(&b);
    assert_non_null(strstr(s, "<Location \"/upload/\">"));
    assert_non_null(strstr(s, "ProxyPass \"http://127.0.0.1:5280/upload/\" nocanon"));
    assert_non_null(strstr(s, "LimitRequestBody 104857600"));
    assert_null(strstr(s, "nothing to proxy"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enabled_urls_only),
        cmocka_unit_test(test_ipv6_and_escaping),
        cmocka_unit_test(test_upload_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
