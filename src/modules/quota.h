/* quota.h: the log line of a refused per-user quota (the plucs/quota
 * variables and the roster item limits; plucs/c2s/max_sessions is logged by
 * session.c). A client that keeps hitting a limit gets an error every
 * time, but the log gets one line per user and limit per minute, with the
 * number of refusals left out since the previous line. */
#ifndef PLUCS_QUOTA_H
#define PLUCS_QUOTA_H

/* Logs (info) that user was refused by the limit named `what` (a registry
 * variable or a short description) with value limit, unless the same user
 * and limit were logged less than a minute ago. Any thread. */
void quota_refused(const char *user, const char *what, long limit);

#endif
