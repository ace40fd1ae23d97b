/* bench/bench_stats.c: what plucs-bench measures besides counting: exact
 * latency percentiles (every sample kept as 32-bit microseconds, sorted at
 * the end of a phase) and the server's RSS and CPU time, summed over the
 * processes given with --pid, read from /proc so every server is measured
 * the same way whatever it is written in. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LAT_MAX_SAMPLES (64u << 20)

void lat_add(struct lat *l, uint64_t us)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4096;
        if (nc > LAT_MAX_SAMPLES) {
            l->dropped++;
            return;
        }
        uint32_t *v = realloc(l->v, nc * sizeof *v);
        if (!v) {
            l->dropped++;
            return;
        }
        l->v = v;
        l->cap = nc;
    }
    l->v[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

void lat_reset(struct lat *l)
{
    l->n = 0;
    l->dropped = 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

double lat_pct_ms(struct lat *l, double p)
{
    if (!l->n)
        return 0;
    qsort(l->v, l->n, sizeof *l->v, cmp_u32);
    size_t k = (size_t)(p / 100.0 * (double)(l->n - 1) + 0.5);
    if (k >= l->n)
        k = l->n - 1;
    return l->v[k] / 1000.0;
}

double lat_max_ms(struct lat *l)
{
    uint32_t m = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] > m)
            m = l->v[i];
    return m / 1000.0;
}

static void sample_one(int pid, struct proc_sample *out)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return;
    unsigned long ut = 0, st = 0;
    /* fields after ')': state(3) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return;
    out->cpu_s += (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(buf, sizeof buf, f))
        if (strncmp(buf, "VmRSS:", 6) == 0)
            out->rss_kib += strtol(buf + 6, NULL, 10);
    fclose(f);
    out->nproc++;
}

void proc_sample(const char *pids, struct proc_sample *out)
{
    memset(out, 0, sizeof *out);
    if (!pids || !*pids)
        return;
    const char *p = pids;
    while (*p) {
        char *e;
        long pid = strtol(p, &e, 10);
        if (e == p)
            break;
        if (pid > 0)
            sample_one((int)pid, out);
        p = *e ? e + 1 : e;
    }
}
