/* SPDX-License-Identifier: MIT */
/* The scenarios' entry points (bench/main.c runs them), and the helpers they share beyond
 * bench.h: budgets (stats.c), CPUs (cpu.c), the --only filter and failures (results.c). */
#ifndef VFPOOL_BENCH_SCENARIO_H
#define VFPOOL_BENCH_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_result;

struct bench_opts {
	bool quick; /* --quick: the same set, about a tenth of the work */
};

/* Idle time between ops where a sleeping server is measured (rtt_sleep*, unix_socket*):
 * long enough that the server is asleep when each request comes, so every op pays the
 * wakeup path, and the same for the baseline and for vfpool. */
#define BENCH_IDLE_GAP_US 50u

/* How much one scenario may do: it stops at whichever comes first. */
struct bench_budget {
	size_t ops;
	uint64_t cap_ns;
};

/* The standard budget, or the --quick one (a tenth, with a floor so percentiles still mean
 * something). */
struct bench_budget bench_budget_for(const struct bench_opts *o, size_t ops, double seconds);

/* --only filter: true when this result name was asked for (everything without --only). */
bool bench_wanted(const char *name);

/* Logical CPUs this process may run on (sched_getaffinity), and the i-th of them. */
int bench_cpu_count(void);
int bench_cpu_id(int i);
/* Undoes bench_pin for the calling thread: back to the set the process started with. */
void bench_unpin(void);

/* A spin-wait hint: lets a hyperthread sibling run and saves power while polling. */
static inline void bench_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* A scenario could not run: says why on stderr and makes the exit status 1. */
void bench_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Scenarios, in the order they run: baselines first so every later row has its ratios. */
void bench_pingpong(const struct bench_opts *o);
void bench_unix_socket(const struct bench_opts *o);
void bench_mutex_inproc(const struct bench_opts *o);
void bench_scale(const struct bench_opts *o);
void bench_sqlite_claim(const struct bench_opts *o);
void bench_rtt(const struct bench_opts *o);
void bench_snapshot(const struct bench_opts *o);
void bench_k8s(const struct bench_opts *o);
/* vfpoold's footprint at 65,536 VFs with 256 clients (bench/memory.c): run once */
void bench_memory(const struct bench_opts *o);

/* Rounds of the whole set when --reps is not given. */
#define BENCH_DEFAULT_ROUNDS 5

/* The directory the daemon scenarios put their journal in (tmpfs /dev/shm when writable,
 * as /run is on a real host; else /tmp): the database baseline uses the same file system. */
const char *bench_journal_fs(void);

#endif
