/* everyday.h: the small modules for the everyday XEPs (issue 3, point 8),
 * each in its own file: software version (XEP-0092), entity time
 * (XEP-0202), last activity (XEP-0012), private XML storage (XEP-0049),
 * blocking command (XEP-0191) and the server's entity capabilities
 * (XEP-0115). modules_init() calls the inits; modules_shutdown() the
 * shutdowns. */
#ifndef PLUCS_EVERYDAY_H
#define PLUCS_EVERYDAY_H

void mod_version_init(void);
void mod_time_init(void);
void mod_last_init(void);
void mod_private_init(void);
void mod_blocking_init(void);
void mod_caps_init(void);

/* Frees the process-wide blocklist table (after the workers stopped). */
void mod_blocking_shutdown(void);

#endif
