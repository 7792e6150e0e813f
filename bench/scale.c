/* SPDX-License-Identifier: MIT */
/*
 * scale_N: does allocation cost stay flat as a PF grows? One PF of N slots (64 .. 65,536)
 * is filled, then a random 1% is freed (99% full), and one op is a claim (pool_claim_vf)
 * and the release of that same slot (pool_release_vf): the cost of one allocation at that
 * fill level. An op is tens of nanoseconds, so one sample times a batch of BATCH ops and
 * divides.
 *
 * The note adds a churn figure: the claim is paired with the release of a random leased
 * slot instead, so free slots wander over the whole bitmap and the lazily kept summary
 * levels do real work (set a bit here, clear a stale one there), as when VMs end in any
 * order. A 64-slot PF has one word and no such work, so this ratio grows with the size.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "bench/scenario.h"
#include "core/model/pool.h"

#define BATCH 64

struct scale_pf {
	struct pool_pf pf;
	_Atomic uint64_t *block;
	uint32_t *leased; /* slots we hold, in no order */
	uint32_t n_leased;
	uint64_t rng;
};

/* xorshift64: cheap and deterministic, so every run frees the same pattern */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Claims every slot, then gives back a random 1% (at least one). */
static int fill_99(struct scale_pf *s, uint32_t n_slots)
{
	uint32_t keep_free = n_slots / 100 ? n_slots / 100 : 1;
	uint32_t slot;

	while (pool_claim_vf(&s->pf, &slot) == 0)
		s->leased[s->n_leased++] = slot;
	if (s->n_leased != n_slots)
		return -1;
	for (uint32_t i = 0; i < keep_free; i++) {
		uint32_t k = (uint32_t)(next_rand(&s->rng) % s->n_leased);

		if (pool_release_vf(&s->pf, s->leased[k]) != 0)
			return -1;
		s->leased[k] = s->leased[--s->n_leased];
	}
	return 0;
}

/* One op: claim whatever the pool hands out; release it again, or with churn a random
 * slot we hold. */
static int claim_release(struct scale_pf *s, bool churn)
{
	uint32_t slot, k;

	if (pool_claim_vf(&s->pf, &slot) != 0)
		return -1;
	if (!churn)
		return pool_release_vf(&s->pf, slot);
	k = (uint32_t)(next_rand(&s->rng) % s->n_leased);
	if (pool_release_vf(&s->pf, s->leased[k]) != 0)
		return -1;
	s->leased[k] = slot;
	return 0;
}

static int scale_one(const struct bench_opts *o, uint32_t n_slots, bool churn,
		     struct bench_result *r)
{
	struct bench_budget bud = bench_budget_for(o, 20000, 1.0); /* batches */
	uint32_t words = (pool_pf_words(n_slots) + 7) & ~7u;
	struct scale_pf s = { .rng = 0x9e3779b97f4a7c15u };
	uint64_t *samples = calloc(bud.ops, sizeof(*samples));
	uint64_t start, end, deadline;
	size_t n = 0;
	int err = -1;

	s.block = aligned_alloc(64, (size_t)words * sizeof(uint64_t));
	s.leased = calloc(n_slots, sizeof(*s.leased));
	if (!samples || !s.block || !s.leased)
		goto out;
	pool_pf_format(s.block, n_slots);
	pool_pf_attach(&s.pf, s.block, n_slots, 0);
	if (fill_99(&s, n_slots) != 0)
		goto out;
	err = 0;
	for (size_t i = 0; i < bud.ops * BATCH / 10 && !err; i++)
		err = claim_release(&s, churn);
	start = bench_now_ns();
	deadline = start + bud.cap_ns;
	while (n < bud.ops && !err) {
		uint64_t t0 = bench_now_ns();

		for (int k = 0; k < BATCH; k++)
			err |= claim_release(&s, churn);
		samples[n++] = (bench_now_ns() - t0) / BATCH;
		if ((n & 255) == 0 && bench_now_ns() > deadline)
			break;
	}
	end = bench_now_ns();
	if (!err) {
		bench_percentiles(samples, n, r);
		r->ops_per_s = (double)n * BATCH * 1e9 / (double)(end - start);
	}
out:
	free(samples);
	free(s.block);
	free(s.leased);
	return err;
}

void bench_scale(const struct bench_opts *o)
{
	static const uint32_t sizes[] = { 64, 1024, 16384, 65536 };
	double p50_64 = 0, churn_64 = 0;

	bench_pin(1);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char name[32], note[200];
		struct bench_result r = { .name = name, .note = note }, churn = { 0 };

		snprintf(name, sizeof(name), "scale_%u", sizes[i]);
		/* scale_64 is every other row's reference, so it runs whenever any does */
		if (!bench_wanted(name) && sizes[i] != 64)
			continue;
		if (scale_one(o, sizes[i], false, &r) != 0 ||
		    scale_one(o, sizes[i], true, &churn) != 0) {
			bench_error("%s: pool setup or call failed", name);
			continue;
		}
		if (sizes[i] == 64) {
			p50_64 = r.p50_ns;
			churn_64 = churn.p50_ns;
		}
		snprintf(note, sizeof(note),
			 "claim+release/op, 1 PF at 99%% full, %.2fx scale_64; churn (random "
			 "release) p50 %.0f ns, %.2fx; batch of %d / %d",
			 p50_64 > 0 ? r.p50_ns / p50_64 : 0, churn.p50_ns,
			 churn_64 > 0 ? churn.p50_ns / churn_64 : 0, BATCH, BATCH);
		bench_emit(&r);
	}
	bench_unpin();
}
