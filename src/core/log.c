/* log.c: stderr logger with an atomically adjustable level (see log.h). One
 * write(2) per line so lines from different threads never interleave.
 * Messages carry user input (JIDs, resources, stanza ids, peer strings);
 * every C0 control and DEL is escaped here, in the one place all lines pass,
 * so a CR LF in a resource can never forge a second log line. */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = PLOG_WARN;

void log_set_level(int level) { atomic_store(&log_level, level); }
int log_get_level(void) { return atomic_load(&log_level); }

size_t log_escape(char *out, size_t outlen, const char *in, size_t inlen)
{
    static const char hex[] = "0123456789abcdef";
    if (!outlen)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i < inlen; i++) {
        unsigned char ch = (unsigned char)in[i];
        char esc[4];
        size_t k = 0;
        if (ch >= 0x20 && ch != 0x7f && ch != '\\') {
            esc[k++] = (char)ch;
        } else {
            esc[k++] = '\\';
            switch (ch) {
            case '\n': esc[k++] = 'n'; break;
            case '\r': esc[k++] = 'r'; break;
            case '\t': esc[k++] = 't'; break;
            case '\\': esc[k++] = '\\'; break;
            default:
                esc[k++] = 'x';
                esc[k++] = hex[ch >> 4];
                esc[k++] = hex[ch & 15];
            }
        }
        if (o + k >= outlen)
            break;   /* never half an escape */
        memcpy(out + o, esc, k);
        o += k;
    }
    out[o] = '\0';
    return o;
}

void log_msg(int level, const char *fmt, ...)
{
    static const char *names[] = { "none", "crit", "error", "warning", "info", "debug" };
    if (level > atomic_load(&log_level) || level < PLOG_CRIT)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t mlen = w < 0 ? 0 : (size_t)w < sizeof msg ? (size_t)w : sizeof msg - 1;

    char line[4096];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ld plucsd[%s] ", ts.tv_nsec / 1000000,
                          names[level > PLOG_DEBUG ? PLOG_DEBUG : level]);
    n += log_escape(line + n, sizeof line - n - 1, msg, mlen);
    line[n++] = '\n';
    ssize_t r = write(STDERR_FILENO, line, n);
    (void)r;
}

bool log_budget_take(log_budget *b, int per_second, int *dropped)
{
    time_t now = time(NULL);
    *dropped = 0;
    if (now != b->second) {
        *dropped = b->dropped;
        b->second = now;
        b->count = b->dropped = 0;
    }
    if (b->count++ < per_second)
        return true;
    b->dropped++;
    return false;
}
