/* SPDX-License-Identifier: MIT */
/*
 * mutex_inproc: the same pool calls as the daemon (pool_alloc, then pool_release_vf), each
 * under a pthread mutex, called in-process: what locking costs without any IPC. One op is
 * an alloc+release pair. The pair takes tens of nanoseconds, about what the clock costs,
 * so one sample times a batch of BATCH pairs and divides.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "bench/bench_pool.h"
#include "bench/scenario.h"

#define BATCH 64

struct locked_pool {
	pthread_mutex_t lock;
	struct bench_pool bp;
};

static int locked_alloc(struct locked_pool *lp, struct pool_pick *pick)
{
	int r;

	pthread_mutex_lock(&lp->lock);
	r = pool_alloc(&lp->bp.pool, NULL, -1, pick);
	pthread_mutex_unlock(&lp->lock);
	return r;
}

static int locked_release(struct locked_pool *lp, const struct pool_pick *pick)
{
	int r;

	pthread_mutex_lock(&lp->lock);
	r = pool_release_vf(&lp->bp.pfs[pick->pf], pick->slot);
	pthread_mutex_unlock(&lp->lock);
	return r;
}

static int alloc_release(struct locked_pool *lp)
{
	struct pool_pick pick;
	int r = locked_alloc(lp, &pick);

	return r ? r : locked_release(lp, &pick);
}

void bench_mutex_inproc(const struct bench_opts *o)
{
	struct bench_budget bud = bench_budget_for(o, 40000, 2.0); /* batches */
	uint64_t *samples = calloc(bud.ops, sizeof(*samples));
	struct bench_result r = { .name = "mutex_inproc" };
	struct locked_pool lp;
	uint64_t start, end, deadline;
	size_t n = 0;
	int err = 0;

	if (!samples || bench_pool_init(&lp.bp, BENCH_SIM_PFS, BENCH_SIM_VFS) != 0) {
		bench_error("mutex_inproc: out of memory");
		free(samples);
		return;
	}
	pthread_mutex_init(&lp.lock, NULL);
	bench_pin(1);
	for (size_t i = 0; i < bud.ops * BATCH / 10 && !err; i++)
		err = alloc_release(&lp);
	start = bench_now_ns();
	deadline = start + bud.cap_ns;
	while (n < bud.ops && !err) {
		uint64_t t0 = bench_now_ns();

		for (int k = 0; k < BATCH; k++)
			err |= alloc_release(&lp);
		samples[n++] = (bench_now_ns() - t0) / BATCH;
		if ((n & 255) == 0 && bench_now_ns() > deadline)
			break;
	}
	end = bench_now_ns();
	bench_unpin();
	if (err) {
		bench_error("mutex_inproc: pool call failed (%d)", err);
	} else {
		bench_percentiles(samples, n, &r);
		r.ops_per_s = (double)n * BATCH * 1e9 / (double)(end - start);
		r.note = "alloc+release/op, uncontended mutex, " BENCH_SIM_SPEC
			 " pool; sample = batch of 64 ops / 64";
		bench_emit(&r);
	}
	pthread_mutex_destroy(&lp.lock);
	bench_pool_fini(&lp.bp);
	free(samples);
}
