/* SPDX-License-Identifier: MIT */
/* Which CPUs we may use, and pinning to them. CPU numbers given to bench_pin are indices
 * into the set the process started with, so "0" and "1" are two distinct CPUs even under
 * taskset. That set is captured once: a pinned thread's own affinity would hide the rest. */
#include <pthread.h>
#include <sched.h>

#include "bench/bench.h"
#include "bench/scenario.h"

static cpu_set_t start_set;
static int start_count;
static pthread_once_t start_once = PTHREAD_ONCE_INIT;

static void capture_start_set(void)
{
	if (sched_getaffinity(0, sizeof(start_set), &start_set) != 0) {
		CPU_ZERO(&start_set);
		CPU_SET(0, &start_set);
	}
	start_count = CPU_COUNT(&start_set);
}

int bench_cpu_count(void)
{
	pthread_once(&start_once, capture_start_set);
	return start_count;
}

int bench_cpu_id(int i)
{
	int seen = 0;

	pthread_once(&start_once, capture_start_set);
	if (start_count == 0 || i < 0)
		return -1;
	i %= start_count; /* fewer CPUs than asked for: share rather than fail */
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &start_set) && seen++ == i)
			return cpu;
	}
	return -1;
}

void bench_pin(int cpu)
{
	int id = bench_cpu_id(cpu);
	cpu_set_t set;

	if (id < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(id, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void bench_unpin(void)
{
	pthread_once(&start_once, capture_start_set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(start_set), &start_set);
}
