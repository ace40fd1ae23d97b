/* privacy_stats.c: what privacy lists (XEP-0016) count for `plucs status`
 * (control/control_status.c) and /metrics (metrics/metrics.c), which
 * reference the two line functions weakly, as for group chat. */
#include <stdatomic.h>

#include "core/buf.h"
#include "modules/privacy.h"

static atomic_uint_fast64_t refused;

void privacy_stat_refused(void) { atomic_fetch_add_explicit(&refused, 1, memory_order_relaxed); }

void privacy_status_lines(buf *out);
void privacy_metrics_lines(buf *out);

void privacy_status_lines(buf *out)
{
    buf_printf(out, "privacy/lists: %zu\n", pcache_lists());
    buf_printf(out, "privacy/refused: %llu\n", (unsigned long long)atomic_load(&refused));
    buf_printf(out, "privacy/held: %zu\n", privacy_offline_held());
}

void privacy_metrics_lines(buf *out)
{
    buf_printf(out, "# HELP plucs_privacy_lists Privacy lists (XEP-0016) of online accounts in memory.\n"
                    "# TYPE plucs_privacy_lists gauge\n"
                    "plucs_privacy_lists %zu\n"
                    "# HELP plucs_privacy_refused_total Stanzas refused by privacy lists (XEP-0016).\n"
                    "# TYPE plucs_privacy_refused_total counter\n"
                    "plucs_privacy_refused_total %llu\n",
               pcache_lists(), (unsigned long long)atomic_load(&refused));
}
