/*
 * memory_stats.c — peak resident set size (see memory_stats.h).
 */
#include "generate/memory_stats.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* VmHWM from /proc/self/status in kB, or -1. */
static long long proc_vm_hwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6) && sscanf(line + 6, "%lld", &kb) == 1) break;
    fclose(f);
    return kb;
}

double peak_rss_mb(void) {
    long long kb = proc_vm_hwm_kb();
    if (kb >= 0) return (double)kb * 1024.0 / 1e6;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0;
#if defined(__APPLE__)
    return (double)ru.ru_maxrss / 1e6;          /* bytes on macOS */
#else
    return (double)ru.ru_maxrss * 1024.0 / 1e6; /* kB elsewhere */
#endif
}
