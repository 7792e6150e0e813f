/* SPDX-License-Identifier: MIT */
/* What every vfpool-bench scenario reports, and the few helpers they share. */
#ifndef VFPOOL_BENCH_H
#define VFPOOL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_result {
	const char *name;  /* stable: the JSON "name" (pingpong, rtt_poll, ...) */
	double p50_ns;
	double p99_ns;
	double p999_ns;
	double ops_per_s;
	double count;      /* a scenario's own count, for a target (probe_storm: wakeups) */
	const char *note;  /* free text for the table, may be NULL */
};

/* Records one result (table row and JSON entry) in the run's record (bench/results.c). */
void bench_emit(const struct bench_result *r);

/* Fills p50/p99/p99.9 from n latency samples (sorts them in place). */
void bench_percentiles(uint64_t *samples_ns, size_t n, struct bench_result *r);

uint64_t bench_now_ns(void);

/* Pins the calling thread to a CPU (ignored where it fails). */
void bench_pin(int cpu);

/* Optional scenario sets, linked in when their file is present (weak: may be NULL). */
void bench_probe(bool quick) __attribute__((weak));

#endif
