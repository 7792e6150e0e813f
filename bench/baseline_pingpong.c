/* SPDX-License-Identifier: MIT */
/*
 * pingpong: two threads on two CPUs bounce a counter through two cache lines, one written
 * by each side (the shape of sq_tail/cq_tail in a ring). One sample is one round trip:
 * the physical floor for any request/response through shared memory on this machine.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "bench/scenario.h"

#define PP_STOP UINT64_MAX

struct pp_line {
	_Alignas(64) _Atomic uint64_t v;
};

struct pp_shared {
	struct pp_line req;  /* written by the client */
	struct pp_line resp; /* written by the server */
};

static void *pp_server(void *arg)
{
	struct pp_shared *s = arg;
	uint64_t seen = 0;

	bench_pin(0);
	for (;;) {
		uint64_t v;

		/* acquire/release pairs: the minimum a real ring needs to publish a payload */
		while ((v = atomic_load_explicit(&s->req.v, memory_order_acquire)) == seen)
			bench_cpu_relax();
		if (v == PP_STOP)
			return NULL;
		seen = v;
		atomic_store_explicit(&s->resp.v, v, memory_order_release);
	}
}

static inline void round_trip(struct pp_shared *s, uint64_t v)
{
	atomic_store_explicit(&s->req.v, v, memory_order_release);
	while (atomic_load_explicit(&s->resp.v, memory_order_acquire) != v)
		bench_cpu_relax();
}

void bench_pingpong(const struct bench_opts *o)
{
	struct bench_budget bud = bench_budget_for(o, 1000000, 2.0);
	struct pp_shared *s = aligned_alloc(64, sizeof(*s));
	uint64_t *samples = calloc(bud.ops, sizeof(*samples));
	struct bench_result r = { .name = "pingpong" };
	uint64_t v = 0, start, end, deadline;
	size_t n = 0;
	pthread_t th;

	if (s) {
		atomic_init(&s->req.v, 0);
		atomic_init(&s->resp.v, 0);
	}
	if (!s || !samples || pthread_create(&th, NULL, pp_server, s) != 0) {
		bench_error("pingpong: out of memory or threads");
		free(s);
		free(samples);
		return;
	}
	bench_pin(1);
	for (size_t i = 0; i < bud.ops / 10; i++) /* warm-up: caches, branch predictors */
		round_trip(s, ++v);
	start = bench_now_ns();
	deadline = start + bud.cap_ns;
	while (n < bud.ops) {
		uint64_t t0 = bench_now_ns();

		round_trip(s, ++v);
		samples[n++] = bench_now_ns() - t0;
		if ((n & 1023) == 0 && bench_now_ns() > deadline)
			break;
	}
	end = bench_now_ns();
	atomic_store_explicit(&s->req.v, PP_STOP, memory_order_release);
	pthread_join(th, NULL);
	bench_unpin();

	bench_percentiles(samples, n, &r);
	r.ops_per_s = (double)n * 1e9 / (double)(end - start);
	r.note = "1 round trip/op, 2 pinned threads, per-op clock (~20 ns of it is the clock)";
	bench_emit(&r);
	free(samples);
	free(s);
}
