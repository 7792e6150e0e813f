/* SPDX-License-Identifier: MIT */
/* What a run prints once its scenarios are done: the table or the JSON document
 * (report.c), and the performance targets against this run (targets.c). */
#ifndef VFPOOL_BENCH_REPORT_H
#define VFPOOL_BENCH_REPORT_H

void bench_print_table(int cores);
void bench_print_json(int cores);
void bench_print_targets(void);

#endif
