/* log.h: the one logging facility. Everything goes to stderr with a time
 * stamp and level; the threshold is plucs/loglevel (0 none .. 5 debug) and
 * may change at any moment (reload), so it is an atomic read per call.
 * Every message is one line: control characters in it (user input such as
 * a resource with CR LF) are escaped, see log_escape(). */
#ifndef PLUCS_LOG_H
#define PLUCS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum { PLOG_NONE = 0, PLOG_CRIT = 1, PLOG_ERR = 2, PLOG_WARN = 3, PLOG_INFO = 4, PLOG_DEBUG = 5 };

void log_set_level(int level);
int log_get_level(void);
/* Copies in[0..inlen) to out with C0 controls and DEL escaped (\n, \r, \t,
 * \xNN) and backslash doubled, so an escaped line is unambiguous; stops
 * before an escape that would not fit. out is NUL-terminated (outlen >= 1);
 * returns the length written. */
size_t log_escape(char *out, size_t outlen, const char *in, size_t inlen);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A per-second budget for a flood of similar lines (refused logins,
 * refused messages): keep one per kind, thread-local. log_budget_take()
 * says whether this line may be written; when a new second begins after
 * lines were dropped, *dropped gets their number (else 0) so the caller
 * can log one summary line. */
typedef struct log_budget {
    time_t second;
    int count, dropped;
} log_budget;
bool log_budget_take(log_budget *b, int per_second, int *dropped);

#define log_crit(...)  log_msg(PLOG_CRIT, __VA_ARGS__)
#define log_err(...)   log_msg(PLOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(PLOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(PLOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_get_level() >= PLOG_DEBUG) log_msg(PLOG_DEBUG, __VA_ARGS__); } while (0)

#endif
