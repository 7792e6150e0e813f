/* SPDX-License-Identifier: MIT */
/* The pool and the seqlock under concurrent mutators. Plain functions, so that both the
 * Criterion suite and the ThreadSanitizer runner (vfpool-stress) run the same code:
 * Criterion cannot run under TSan (Snaipe/Criterion#274). */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/host.h"
#include "core/pool.h"
#include "core/state_segment.h"
#include "shm/seqlock.h"
#include "shm/state.h"
#include "tests/concurrency/scenarios.h"

#define CHECK(cond, ...) do { if (!(cond)) { snprintf(why, why_len, __VA_ARGS__); goto out; } } while (0)

#define SLOTS 256
#define ROUNDS 20000

struct stress {
	struct pool_pf pf;
	_Atomic uint64_t *mem;
	_Atomic int holders[SLOTS]; /* how many threads believe they hold each slot */
	_Atomic int violations;
	_Atomic int busy_claimed;   /* a slot handed out while host-busy was set before */
	_Atomic int stop;
};

static void *allocator(void *arg)
{
	struct stress *s = arg;
	uint32_t held[32];
	unsigned n = 0;

	for (int i = 0; i < ROUNDS; i++) {
		uint32_t slot;

		if (n < 32 && pool_claim_vf(&s->pf, &slot) == 0) {
			/* relaxed: the counter itself is the checked value, no data hangs off it */
			if (atomic_fetch_add_explicit(&s->holders[slot], 1, memory_order_relaxed) != 0)
				atomic_fetch_add_explicit(&s->violations, 1, memory_order_relaxed);
			held[n++] = slot;
		}
		if (n && (i % 3 == 0 || n == 32)) {
			uint32_t back = held[--n];

			atomic_fetch_sub_explicit(&s->holders[back], 1, memory_order_relaxed);
			if (pool_release_vf(&s->pf, back) != 0)
				atomic_fetch_add_explicit(&s->violations, 1, memory_order_relaxed);
		}
	}
	while (n) {
		uint32_t slot = held[--n];

		atomic_fetch_sub_explicit(&s->holders[slot], 1, memory_order_relaxed);
		pool_release_vf(&s->pf, slot);
	}
	return NULL;
}

static void *flipper(void *arg)
{
	struct stress *s = arg;
	unsigned x = 12345;

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		x = x * 1103515245 + 12345;
		uint32_t slot = (x >> 8) % SLOTS;
		enum vfpool_block_reason r = (x >> 20) % 2 ? VFPOOL_BLOCK_HOST_BUSY : VFPOOL_BLOCK_DIRTY;

		pool_set_blocked(&s->pf, slot, r, true);
		pool_set_blocked(&s->pf, slot, r, false);
	}
	return NULL;
}

int conc_no_vf_handed_out_twice(char *why, size_t why_len)
{
	struct stress *s = calloc(1, sizeof(*s));
	pthread_t a1, a2, f;
	struct pf_block_counts c;
	int ret = -1;

	s->mem = aligned_alloc(64, 64 * ((pool_pf_words(SLOTS) * 8 + 63) / 64));
	pool_pf_format(s->mem, SLOTS);
	pool_pf_attach(&s->pf, s->mem, SLOTS, 0);
	pthread_create(&f, NULL, flipper, s);
	pthread_create(&a1, NULL, allocator, s);
	pthread_create(&a2, NULL, allocator, s);
	pthread_join(a1, NULL);
	pthread_join(a2, NULL);
	atomic_store(&s->stop, 1);
	pthread_join(f, NULL);

	CHECK(atomic_load(&s->violations) == 0, "%d slots held by two claimers or double-released",
	      atomic_load(&s->violations));
	pool_pf_count(&s->pf, &c);
	CHECK(c.leased == 0, "%u slots still leased after every claim was released", c.leased);
	CHECK(c.allocatable == SLOTS, "%u of %u slots allocatable after the flips", c.allocatable,
	      SLOTS);
	/* the summary levels still lead to every slot */
	for (int i = 0; i < SLOTS; i++) {
		uint32_t slot;
		CHECK(pool_claim_vf(&s->pf, &slot) == 0, "claim %d failed after the storm", i);
	}
	ret = 0;
out:
	free(s->mem);
	free(s);
	return ret;
}

struct blocked_race {
	struct pool_pf pf;
	_Atomic uint64_t *mem;
	_Atomic int go;
	_Atomic int claimed;
};

static void *block_all(void *arg)
{
	struct blocked_race *b = arg;

	while (!atomic_load(&b->go))
		;
	for (uint32_t s = 0; s < SLOTS; s++)
		pool_set_blocked(&b->pf, s, VFPOOL_BLOCK_HOST_BUSY, true);
	return NULL;
}

int conc_blocked_slot_never_returned(char *why, size_t why_len)
{
	struct blocked_race *b = calloc(1, sizeof(*b));
	pthread_t t;
	uint32_t slot;
	int ret = -1, bad = 0;

	b->mem = aligned_alloc(64, 64 * ((pool_pf_words(SLOTS) * 8 + 63) / 64));
	pool_pf_format(b->mem, SLOTS);
	pool_pf_attach(&b->pf, b->mem, SLOTS, 0);
	pthread_create(&t, NULL, block_all, b);
	atomic_store(&b->go, 1);
	while (pool_claim_vf(&b->pf, &slot) == 0) {
		/* whatever we won was not blocked when our claim re-checked it */
		bad += !pool_is_leased(&b->pf, slot);
	}
	pthread_join(t, NULL);
	CHECK(bad == 0, "%d claimed slots not marked leased", bad);
	/* every slot is now blocked; nothing else can be claimed */
	CHECK(pool_claim_vf(&b->pf, &slot) == -ENOSPC, "slot %u claimed although all are blocked",
	      slot);
	ret = 0;
out:
	free(b->mem);
	free(b);
	return ret;
}

struct snap_race {
	struct host *host;
	void *mem;
	size_t size;
	struct engine e;
	_Atomic int stop;
	_Atomic int inconsistent;
	_Atomic int reads;
};

static void *snapshot_reader(void *arg)
{
	struct snap_race *r = arg;
	struct vfpool_state_hdr *copy = malloc(r->size);
	const struct vfpool_state_hdr *live = r->mem;

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		uint64_t seq = seqlock_read_begin(&live->seq);

		seqlock_copy(copy, live, r->size);
		if (seqlock_read_retry(&live->seq, seq))
			continue;
		/* a consistent copy: leased bits and LEASED records agree exactly */
		for (uint32_t p = 0; p < copy->n_pfs; p++) {
			const struct vfpool_shm_pf *pf = &state_pfs(copy)[p];
			struct pf_block_layout l;
			struct pf_block_counts c;
			unsigned records = 0;

			pf_block_layout(pf->total_vfs, &l);
			pf_block_count(&l, state_bitmap(copy) + pf->bm_off, &c);
			for (uint32_t s = 0; s < pf->total_vfs; s++)
				records += state_vfs(copy)[pf->vf_first + s].state == VFPOOL_VF_LEASED;
			if (records != c.leased)
				atomic_fetch_add(&r->inconsistent, 1);
		}
		atomic_fetch_add_explicit(&r->reads, 1, memory_order_relaxed);
	}
	free(copy);
	return NULL;
}

int conc_snapshot_consistent(char *why, size_t why_len)
{
	struct snap_race *r = calloc(1, sizeof(*r));
	pthread_t t;
	struct vfpool_cqe c;
	int ret = -1;

	host_simulate(2, 64, &r->host);
	state_seg_size(r->host, &r->size);
	r->mem = aligned_alloc(64, r->size);
	state_seg_format(r->mem, r->size, r->host);
	engine_init(&r->e, r->mem);
	pthread_create(&t, NULL, snapshot_reader, r);
	for (int i = 0; i < 5000; i++) {
		struct request q;

		memset(&q, 0, sizeof(q));
		q.op = (i / 50) % 2 ? VFPOOL_OP_RELEASE : VFPOOL_OP_ALLOC;
		q.numa_node = -1;
		snprintf(q.vm_id, sizeof(q.vm_id), "vm%d", i % 50);
		snprintf(q.vnic_id, sizeof(q.vnic_id), "nic0");
		snprintf(q.network, sizeof(q.network), "red");
		engine_serve(&r->e, &q, NULL, &c);
	}
	while (atomic_load(&r->reads) < 10)
		;
	atomic_store(&r->stop, 1);
	pthread_join(t, NULL);
	CHECK(atomic_load(&r->inconsistent) == 0, "%d snapshots mixed two states",
	      atomic_load(&r->inconsistent));
	ret = 0;
out:
	engine_fini(&r->e);
	free(r->mem);
	host_free(r->host);
	free(r);
	return ret;
}
