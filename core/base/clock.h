/* SPDX-License-Identifier: MIT */
/* A clock's reading in nanoseconds: the daemon's deadlines, spin budgets and latency samples
 * (CLOCK_MONOTONIC), checks that a few milliseconds of staleness cannot hurt
 * (CLOCK_MONOTONIC_COARSE, a third of the cost), wall-clock stamps (CLOCK_REALTIME), and the
 * bench's CPU time of a thread (CLOCK_THREAD_CPUTIME_ID). */
#ifndef VFPOOL_CORE_BASE_CLOCK_H
#define VFPOOL_CORE_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC  UINT64_C(1000000000)
#define NSEC_PER_MSEC UINT64_C(1000000)

/* clock_gettime cannot fail for these clocks with a valid pointer: no error to return. Through
 * the vDSO: no system call, ~20 ns for CLOCK_MONOTONIC. */
static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

#endif
