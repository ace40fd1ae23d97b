/* mod_fast.c: the server side of FAST tokens (XEP-0484) that is not the
 * stream's: loading the token key at start-up, revoking tokens when the
 * directory reports an account disabled, removed or its password changed
 * (snapshot hook), and the counters of `plucs status` and /metrics. The
 * SASL2 exchange itself is transport/sasl2_stream.c; the stored tokens
 * are store/store_fast.h. */
#include "modules/module.h"

#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/worker.h"
#include "directory/directory.h"
#include "store/store_fast.h"
#include "xmpp/fast_key.h"

void fast_status_lines(buf *out);
void fast_metrics_lines(buf *out);

static bool same(const char *a, const char *b)
{
    return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

/* Runs on every worker; worker 0 alone acts (one revocation per change). */
static void fast_snapshot(const dir_snapshot *old, const config *old_cfg, const dir_snapshot *snap)
{
    (void)old_cfg;
    worker *w = worker_self();
    if (!old || old == snap || !snap || !w || worker_id(w) != 0)
        return;
    /* A snapshot not read completely says nothing about missing accounts. */
    if (!snap->complete || !old->complete)
        return;
    for (uint32_t i = 0; i < old->naccounts; i++) {
        const dir_account *a = &old->accounts[i];
        const dir_account *b = dir_snapshot_account(snap, a->uid, a->domain);
        const char *why = !b ? "disabled or removed in the directory"
                         : !same(a->pwstamp, b->pwstamp) ? "password changed in the directory"
                                                          : NULL;
        if (!why)
            continue;
        log_info("fast: %s: %s; its FAST tokens are revoked", a->bare, why);
        store_fast_revoke(NULL, a->bare, NULL, NULL, NULL);
    }
}

static void fast_init(void)
{
    const config *cfg = config_current();
    char err[256];
    if (cfg && fast_key_load(cfg->store, err, sizeof err) != 0)
        log_warn("fast: FAST tokens (XEP-0484) not offered: %s", err);
    module_hook_snapshot(fast_snapshot);
}

void fast_status_lines(buf *out)
{
    uint64_t ok, failed, issued;
    fast_counts(&ok, &failed, &issued);
    buf_printf(out, "fast/logins: %llu\n", (unsigned long long)ok);
    buf_printf(out, "fast/failed: %llu\n", (unsigned long long)failed);
    buf_printf(out, "fast/tokens_issued: %llu\n", (unsigned long long)issued);
}

void fast_metrics_lines(buf *out)
{
    uint64_t ok, failed, issued;
    fast_counts(&ok, &failed, &issued);
    buf_printf(out, "# HELP plucs_fast_logins_total FAST token logins (XEP-0484) by result.\n"
                    "# TYPE plucs_fast_logins_total counter\n"
                    "plucs_fast_logins_total{result=\"success\"} %llu\n"
                    "plucs_fast_logins_total{result=\"failure\"} %llu\n"
                    "# HELP plucs_fast_tokens_issued_total FAST tokens issued (XEP-0484).\n"
                    "# TYPE plucs_fast_tokens_issued_total counter\n"
                    "plucs_fast_tokens_issued_total %llu\n",
               (unsigned long long)ok, (unsigned long long)failed, (unsigned long long)issued);
}

const module mod_fast = { .name = "fast", .init = fast_init };
