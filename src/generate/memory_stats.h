/*
 * memory_stats.h — the process's peak resident set size, for the
 * statistics `vlm generate --verbose` and `vlm bench` print.
 */
#ifndef VLM_GENERATE_MEMORY_STATS_H
#define VLM_GENERATE_MEMORY_STATS_H

/* Peak RSS in MB (10^6 bytes): /proc/self/status VmHWM on Linux, else
 * getrusage's ru_maxrss. 0 when neither is available. */
double peak_rss_mb(void);

#endif
