/* SPDX-License-Identifier: MIT */
/* The pool and the seqlock under concurrent mutators. Plain functions, so that both the
 * Criterion suite and the ThreadSanitizer runner (vfpool-stress) run the same code:
 * Criterion cannot run under TSan (Snaipe/Criterion#274). */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/engine.h"
#include "core/model/host.h"
#include "core/model/pool.h"
#include "core/model/state_segment.h"
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

/*
 * A blocker and a claimer race over the same slots: the blocker blocks 0, 1, 2, ... and the
 * claimer's claims go to the lowest allocatable slot, which is the blocker's next one. The
 * pool promises: a slot blocked before a claim's AND on the free word is never returned.
 * From outside the pool that AND is invisible, so the blocker, right after blocking slot s,
 * reads whether s was still free (a seq_cst load after its seq_cst OR). "Free" proves that
 * the OR came before any AND that takes s, so a claim that returns s broke the promise: the
 * pool without the re-check after the take (the VFPOOL_MUTANT_NO_RECHECK build of
 * core/model/pool.c, run by make check) is caught that way.
 */
/* Rounds run until enough claims overlapped a block: a loaded machine that leaves the two
 * threads one CPU between them gets more rounds, not a vacuous pass. */
#define BLOCK_ROUNDS_MIN 400
#define BLOCK_ROUNDS_MAX 40000
#define BLOCK_OVERLAPS 1000

enum { SEEN_NOT_YET, SEEN_FREE, SEEN_LEASED };

struct blocked_race {
	struct pool_pf pf;
	_Atomic uint64_t *mem;
	pthread_barrier_t start, end;
	_Atomic unsigned arrived; /* the spinning start line, see spin_start */
	_Atomic int stop;
	/* the blocker's progress: slots below blocked_upto are blocked and have their seen[] */
	_Atomic uint32_t blocked_upto;
	_Atomic uint8_t seen[SLOTS];
};

/* Whether the slot's free bit is set, read seq_cst (pool_is_leased reads relaxed): ordered
 * after the blocker's seq_cst OR in the single total order the argument above relies on. */
static bool slot_free_sc(const struct pool_pf *pf, uint32_t slot)
{
	return (atomic_load(&pf->block[pf->layout.free_off + slot / 64]) >> (slot % 64)) & 1;
}

/* Returns when both threads are running: a pthread barrier wakes its sleeper through the
 * kernel, later than a whole round takes, so only a spinning start makes the two overlap. */
static void spin_start(struct blocked_race *b, unsigned round)
{
	/* relaxed: the pthread barrier before it already published the round's reset */
	atomic_fetch_add_explicit(&b->arrived, 1, memory_order_relaxed);
	while (atomic_load_explicit(&b->arrived, memory_order_relaxed) < 2 * (round + 1))
		seqlock_cpu_relax();
}

static void *blocker(void *arg)
{
	struct blocked_race *b = arg;

	for (unsigned round = 0;; round++) {
		pthread_barrier_wait(&b->start);
		if (atomic_load_explicit(&b->stop, memory_order_relaxed))
			return NULL;
		spin_start(b, round);
		for (uint32_t s = 0; s < SLOTS; s++) {
			pool_set_blocked(&b->pf, s, VFPOOL_BLOCK_HOST_BUSY, true);
			/* relaxed: published by the release store of blocked_upto below */
			atomic_store_explicit(&b->seen[s],
					      slot_free_sc(&b->pf, s) ? SEEN_FREE : SEEN_LEASED,
					      memory_order_relaxed);
			/* release: pairs with the claimer's acquire loads; slot s is blocked and
			 * seen[s] written before the claimer reads s < blocked_upto */
			atomic_store_explicit(&b->blocked_upto, s + 1, memory_order_release);
		}
		pthread_barrier_wait(&b->end);
	}
}

/* One round: the calling thread claims until nothing is left. 0, or -1 with why set. */
static int blocked_round(struct blocked_race *b, unsigned round, unsigned *overlaps, char *why,
			 size_t why_len)
{
	bool claimed[SLOTS] = { false };
	uint32_t slot;
	int ret = -1;

	pool_pf_format(b->mem, SLOTS);
	pool_pf_attach(&b->pf, b->mem, SLOTS, 0);
	atomic_store_explicit(&b->blocked_upto, 0, memory_order_relaxed);
	for (uint32_t s = 0; s < SLOTS; s++)
		atomic_store_explicit(&b->seen[s], SEEN_NOT_YET, memory_order_relaxed);
	pthread_barrier_wait(&b->start); /* publishes the reset to the blocker */
	spin_start(b, round);
	for (;;) {
		/* acquire: pairs with the blocker's release store of its progress */
		uint32_t before = atomic_load_explicit(&b->blocked_upto, memory_order_acquire);

		if (pool_claim_vf(&b->pf, &slot) != 0)
			break;
		uint32_t after = atomic_load_explicit(&b->blocked_upto, memory_order_acquire);

		claimed[slot] = true;
		*overlaps += after > before;
		if (slot < before) {
			snprintf(why, why_len, "round %u: slot %u returned although blocked before "
				 "the claim began", round, slot);
			goto out_join;
		}
		if (slot < after &&
		    atomic_load_explicit(&b->seen[slot], memory_order_relaxed) == SEEN_FREE) {
			snprintf(why, why_len, "round %u: slot %u returned although blocked while "
				 "still free", round, slot);
			goto out_join;
		}
	}
	ret = 0;
out_join:
	pthread_barrier_wait(&b->end);
	if (ret)
		return ret;
	/* the claims whose slot the blocker had not reached yet when they returned */
	for (uint32_t s = 0; s < SLOTS; s++) {
		uint8_t seen = atomic_load_explicit(&b->seen[s], memory_order_relaxed);

		CHECK(seen != SEEN_NOT_YET, "the blocker skipped slot %u", s);
		CHECK(!(claimed[s] && seen == SEEN_FREE),
		      "round %u: slot %u returned although blocked while still free", round, s);
	}
	/* every slot is now blocked or held; nothing else can be claimed */
	CHECK(pool_claim_vf(&b->pf, &slot) == -ENOSPC, "slot %u claimed although all are blocked",
	      slot);
	return 0;
out:
	return -1;
}

int conc_blocked_slot_never_returned(char *why, size_t why_len)
{
	struct blocked_race *b = calloc(1, sizeof(*b));
	unsigned overlaps = 0, round;
	pthread_t t;
	int ret = 0;

	b->mem = aligned_alloc(64, 64 * ((pool_pf_words(SLOTS) * 8 + 63) / 64));
	pthread_barrier_init(&b->start, NULL, 2);
	pthread_barrier_init(&b->end, NULL, 2);
	pthread_create(&t, NULL, blocker, b);
	for (round = 0; ret == 0 && round < BLOCK_ROUNDS_MAX &&
			(round < BLOCK_ROUNDS_MIN || overlaps < BLOCK_OVERLAPS); round++)
		ret = blocked_round(b, round, &overlaps, why, why_len);
	atomic_store_explicit(&b->stop, 1, memory_order_relaxed);
	pthread_barrier_wait(&b->start); /* publishes stop */
	pthread_join(t, NULL);
	if (ret == 0 && overlaps == 0) {
		snprintf(why, why_len, "no claim overlapped a block in %u rounds: the race did not "
			 "happen", round);
		ret = -1;
	} else if (ret == 0) {
		snprintf(why, why_len, "%u claims overlapped a block in %u rounds", overlaps,
			 round);
	}
	pthread_barrier_destroy(&b->start);
	pthread_barrier_destroy(&b->end);
	free(b->mem);
	free(b);
	return ret;
}

/*
 * The seqlock under a writer that does not stop until the reader has been interrupted by
 * writes (a read that began during a write, or whose copy a write changed) and has taken
 * consistent copies between writes, SNAP_OVERLAPS of each.
 */
#define SNAP_MIN_OPS 5000
#define SNAP_MAX_OPS 5000000 /* a bound, not a timing: the reader must get its turns */
#define SNAP_OVERLAPS 32

struct snap_race {
	struct host *host;
	void *mem;
	size_t size;
	struct engine e;
	pthread_barrier_t start;
	_Atomic int stop;
	_Atomic int inconsistent;
	_Atomic unsigned reads;      /* consistent copies */
	_Atomic unsigned overlapped; /* reads a write interrupted */
};

static void *snapshot_reader(void *arg)
{
	struct snap_race *r = arg;
	struct vfpool_state_hdr *copy = malloc(r->size);
	const struct vfpool_state_hdr *live = r->mem;

	pthread_barrier_wait(&r->start);
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		/* relaxed: only looks whether a write is open; read_begin below synchronizes */
		bool open = atomic_load_explicit(&live->seq, memory_order_relaxed) & 1;
		uint64_t seq = seqlock_read_begin(&live->seq);

		seqlock_copy(copy, live, r->size);
		if (seqlock_read_retry(&live->seq, seq)) {
			atomic_fetch_add_explicit(&r->overlapped, 1, memory_order_relaxed);
			continue;
		}
		if (open)
			atomic_fetch_add_explicit(&r->overlapped, 1, memory_order_relaxed);
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

static bool reader_had_its_turns(struct snap_race *r)
{
	return atomic_load_explicit(&r->overlapped, memory_order_relaxed) >= SNAP_OVERLAPS &&
	       atomic_load_explicit(&r->reads, memory_order_relaxed) >= SNAP_OVERLAPS;
}

int conc_snapshot_consistent(char *why, size_t why_len)
{
	struct snap_race *r = calloc(1, sizeof(*r));
	pthread_t t;
	struct vfpool_cqe c;
	int ret = -1, i;

	host_simulate(2, 64, &r->host);
	state_seg_size(r->host, &r->size);
	r->mem = aligned_alloc(64, r->size);
	state_seg_format(r->mem, r->size, r->host);
	engine_init(&r->e, r->mem);
	pthread_barrier_init(&r->start, NULL, 2);
	pthread_create(&t, NULL, snapshot_reader, r);
	pthread_barrier_wait(&r->start);
	/* the writer stops only once the reader has had its turns while writes went on */
	for (i = 0; i < SNAP_MAX_OPS && (i < SNAP_MIN_OPS || !reader_had_its_turns(r)); i++) {
		struct request q;

		memset(&q, 0, sizeof(q));
		q.op = (i / 50) % 2 ? VFPOOL_OP_RELEASE : VFPOOL_OP_ALLOC;
		q.numa_node = -1;
		snprintf(q.vm_id, sizeof(q.vm_id), "vm%d", i % 50);
		snprintf(q.vnic_id, sizeof(q.vnic_id), "nic0");
		snprintf(q.network, sizeof(q.network), "red");
		engine_serve(&r->e, &q, NULL, &c);
	}
	atomic_store(&r->stop, 1);
	pthread_join(t, NULL);
	CHECK(atomic_load(&r->inconsistent) == 0, "%d snapshots mixed two states",
	      atomic_load(&r->inconsistent));
	CHECK(atomic_load(&r->overlapped) > 0 && atomic_load(&r->reads) > 0,
	      "in %d writes, %u reads overlapped a write and %u were consistent: the race did "
	      "not happen", i, atomic_load(&r->overlapped), atomic_load(&r->reads));
	snprintf(why, why_len, "%u reads overlapped a write, %u consistent, in %d writes",
		 atomic_load(&r->overlapped), atomic_load(&r->reads), i);
	ret = 0;
out:
	pthread_barrier_destroy(&r->start);
	engine_fini(&r->e);
	free(r->mem);
	host_free(r->host);
	free(r);
	return ret;
}
