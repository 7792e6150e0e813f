/* SPDX-License-Identifier: MIT */
/*
 * The run's record: the results the scenarios emit (bench_emit, bench.h), in emission order
 * and through the --only filter (bench_wanted, scenario.h), and whether a scenario could not
 * run (bench_error, scenario.h). main sets the filter and asks whether the run failed;
 * report.c and targets.c read the results.
 */
#ifndef VFPOOL_BENCH_RESULTS_H
#define VFPOOL_BENCH_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

struct bench_result;

/* Adds a result name to the --only filter (the caller checked that it exists).
 * 0, -E2BIG (too many names) or -ENOMEM. */
int bench_only_add(const char *name);
/* The probe's results, named by the probe's author: wanted without --only, or with "probe"
 * in it. */
bool bench_probe_wanted(void);

/* Rounds: the whole scenario set runs n times, interleaved (round 0 all scenarios, then
 * round 1, ...), so a noisy stretch of the machine hits one round of every scenario rather
 * than every round of one. bench_emit records into the current round. */
#define BENCH_MAX_ROUNDS 16
void bench_rounds_begin(size_t n);
void bench_round_set(size_t i);
size_t bench_round(void);
size_t bench_round_count(void);
/* One round's result by name; NULL if that round has none. */
const struct bench_result *bench_result_in_round(size_t round, const char *name);
/* The median of v[0..n) (sorts it in place); 0 for n == 0. */
double bench_median(double *v, size_t n);

/* The run's summary, in first-emission order: per result name, each figure the median of
 * the rounds that have it. */
size_t bench_result_count(void);
const struct bench_result *bench_result_at(size_t i);
const struct bench_result *bench_result_find(const char *name); /* NULL if absent */

/* Whether bench_error was called: the exit status is 1 then. */
bool bench_failed(void);

/* Frees the results and the filter. */
void bench_results_free(void);

#endif
