/* SPDX-License-Identifier: MIT */
/* Percentiles, the clock, and run budgets. */
#include <stdlib.h>
#include <time.h>

#include "bench/bench.h"
#include "bench/scenario.h"
#include "core/base/clock.h"

#define QUICK_DIVISOR 10
#define QUICK_MIN_OPS 2000

uint64_t bench_now_ns(void)
{
	/* ~20 ns (core/base/clock.h): scenarios with sub-100 ns operations time batches and
	 * divide instead of paying this per op */
	return clock_ns(CLOCK_MONOTONIC);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least q of all samples at or below it. */
static double rank(const uint64_t *sorted, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n + 0.999999);

	if (k == 0)
		k = 1;
	if (k > n)
		k = n;
	return (double)sorted[k - 1];
}

void bench_percentiles(uint64_t *samples_ns, size_t n, struct bench_result *r)
{
	if (n == 0) {
		r->p50_ns = r->p99_ns = r->p999_ns = 0;
		return;
	}
	qsort(samples_ns, n, sizeof(*samples_ns), cmp_u64);
	r->p50_ns = rank(samples_ns, n, 0.50);
	r->p99_ns = rank(samples_ns, n, 0.99);
	r->p999_ns = rank(samples_ns, n, 0.999);
}

struct bench_budget bench_budget_for(const struct bench_opts *o, size_t ops, double seconds)
{
	struct bench_budget b = { .ops = ops, .cap_ns = (uint64_t)(seconds * 1e9) };

	if (o->quick) {
		b.ops = ops / QUICK_DIVISOR;
		if (b.ops < QUICK_MIN_OPS)
			b.ops = ops < QUICK_MIN_OPS ? ops : QUICK_MIN_OPS;
		b.cap_ns /= QUICK_DIVISOR;
	}
	return b;
}
