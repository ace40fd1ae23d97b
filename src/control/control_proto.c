/* control_proto.c: the control socket's line protocol (see control.h), with
 * no I/O so that the daemon (control.c), the `plucs` tool (cli_status.c) and
 * the unit tests share exactly the same rules: request parsing with its
 * limits, answer framing with dot-stuffing, and the status body as JSON for
 * `plucs status --json`. */
#include "control/control.h"
#include "core/alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    control_cmd cmd;
    int min, max;
    const char *usage;
} commands[] = {
    { "reload", CONTROL_RELOAD, 0, 0, "reload" },
    { "status", CONTROL_STATUS, 0, 0, "status" },
    { "explain", CONTROL_EXPLAIN, 2, 2, "explain FROM TO" },
    { "matrix", CONTROL_MATRIX, 0, 1, "matrix [DOMAIN]" },
    { "help", CONTROL_HELP, 0, 0, "help" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const char *control_help(void)
{
    return "reload           re-read the registry and apply waiting directory changes (as SIGHUP)\n"
           "status           version, sessions, domains, directory state (key: value lines)\n"
           "explain FROM TO  what the communication restrictions allow between two accounts\n"
           "matrix [DOMAIN]  the group x group table of the communication restrictions\n"
           "help             this list\n";
}

int control_parse(char *line, control_request *req, char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    if (len > CONTROL_LINE_MAX) {
        snprintf(err, errlen, "request longer than %d bytes", CONTROL_LINE_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch == '\t')
            line[i] = ' ';
        else if (ch < 0x20 || ch == 0x7f) {
            snprintf(err, errlen, "control character in the request");
            return -1;
        }
    }
    char *words[CONTROL_MAX_ARGS + 2];
    int n = 0;
    for (char *p = line; *p;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        if (n == CONTROL_MAX_ARGS + 1) {
            snprintf(err, errlen, "too many arguments");
            return -1;
        }
        words[n++] = p;
        while (*p && *p != ' ')
            p++;
    }
    if (n == 0)
        return 1;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(words[0], commands[i].name) != 0)
            continue;
        int args = n - 1;
        if (args < commands[i].min || args > commands[i].max) {
            snprintf(err, errlen, "usage: %s", commands[i].usage);
            return -1;
        }
        req->cmd = commands[i].cmd;
        req->argc = args;
        for (int a = 0; a < args; a++)
            req->argv[a] = words[a + 1];
        return 0;
    }
    char name[40];
    snprintf(name, sizeof name, "%s", words[0]);
    snprintf(err, errlen, "unknown command '%s%s' (try: help)", name,
             strlen(words[0]) >= sizeof name ? "..." : "");
    return -1;
}

/* --- answers ------------------------------------------------------------- */

void control_reply_begin(buf *out, const char *error)
{
    if (!error) {
        buf_puts(out, "ok\n");
        return;
    }
    buf_puts(out, "error: ");
    for (const char *p = error; *p; p++)       /* one line, whatever it holds */
        buf_append(out, *p == '\n' || *p == '\r' ? " " : p, 1);
    buf_puts(out, "\n");
}

void control_reply_lines(buf *out, const char *text)
{
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, "\n");
        if (*p == '.')
            buf_puts(out, ".");
        buf_append(out, p, n);
        buf_puts(out, "\n");
        p += n;
        if (*p == '\n')
            p++;
    }
}

void control_reply_end(buf *out) { buf_puts(out, ".\n"); }

void control_reply_clear(control_reply *r)
{
    free(r->error);
    buf_free(&r->body);
    r->error = NULL;
    r->ok = false;
}

long control_reply_parse(const char *data, size_t len, control_reply *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body);
    const char *nl = memchr(data, '\n', len);
    if (!nl) {
        /* a status line is short: anything long without one is not ours */
        return len > CONTROL_LINE_MAX ? -1 : 0;
    }
    size_t first = (size_t)(nl - data);
    if (first == 2 && memcmp(data, "ok", 2) == 0) {
        r->ok = true;
    } else if (first >= 7 && memcmp(data, "error: ", 7) == 0) {
        r->ok = false;
    } else {
        return -1;
    }
    size_t pos = first + 1;
    while (pos < len) {
        const char *e = memchr(data + pos, '\n', len - pos);
        if (!e)
            break;
        size_t n = (size_t)(e - (data + pos));
        const char *line = data + pos;
        if (n == 1 && line[0] == '.') {
            if (!r->ok)
                r->error = xstrndup(data + 7, first - 7);
            return (long)(pos + 2);
        }
        if (line[0] == '.') {
            line++;
            n--;
        }
        buf_append(&r->body, line, n);
        buf_puts(&r->body, "\n");
        pos += (size_t)(e - (data + pos)) + 1;
    }
    buf_free(&r->body);
    return 0;
}

/* --- status as JSON -------------------------------------------------------- */

static void json_string(buf *out, const char *s, size_t n)
{
    buf_puts(out, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char esc[2] = { '\\', (char)ch };
            buf_append(out, esc, 2);
        } else if (ch < 0x20) {
            buf_printf(out, "\\u%04x", ch);
        } else {
            buf_append(out, &s[i], 1);
        }
    }
    buf_puts(out, "\"");
}

static bool is_integer(const char *s, size_t n)
{
    size_t i = (n && s[0] == '-') ? 1 : 0;
    if (i == n || n - i > 18 || (s[i] == '0' && n - i > 1))
        return false;
    for (; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

void control_status_json(const char *text, buf *out)
{
    buf_puts(out, "{");
    bool any = false;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        const char *colon = memchr(p, ':', n);
        if (colon && colon > p) {
            const char *v = colon + 1;
            size_t vn = n - (size_t)(v - p);
            while (vn && *v == ' ') {
                v++;
                vn--;
            }
            buf_puts(out, any ? ",\n  " : "\n  ");
            json_string(out, p, (size_t)(colon - p));
            buf_puts(out, ": ");
            if (is_integer(v, vn))
                buf_append(out, v, vn);
            else
                json_string(out, v, vn);
            any = true;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    buf_puts(out, any ? "\n}\n" : "}\n");
}
