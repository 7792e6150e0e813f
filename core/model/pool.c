/* SPDX-License-Identifier: MIT */
/*
 * Memory orders: every read-modify-write and load on a shared bitmap is seq_cst. The summary
 * protocol below needs a single total order between "a setter makes a word non-empty, then
 * sets the summary bit" and "a clearer clears the summary bit, then re-reads the word";
 * on x86 the RMWs are locked instructions either way and the loads are plain moves. The
 * format alone is relaxed: its block is not shared yet (pool.h, pool_pf_format).
 */
#include <errno.h>
#include <string.h>

#include "core/model/pool.h"
#include "core/model/pool_internal.h"

#define ONE UINT64_C(1)

static inline uint64_t ld(const _Atomic uint64_t *w)
{
	return atomic_load_explicit(w, memory_order_seq_cst);
}

void pf_set_fill(struct pf_set *s, uint32_t n_pfs)
{
	memset(s, 0, sizeof(*s));
	for (uint32_t i = 0; i < n_pfs && i < POOL_MAX_PFS; i++)
		pf_set_add(s, i);
}

uint32_t pool_pf_words(uint32_t n_slots)
{
	struct pf_block_layout l;

	return pf_block_layout(n_slots, &l) ? 0 : l.total_words;
}

int pool_pf_format(_Atomic uint64_t *block, uint32_t n_slots)
{
	struct pf_block_layout l;
	int r = pf_block_layout(n_slots, &l);

	if (r)
		return r;
	for (uint32_t i = 0; i < l.total_words; i++)
		atomic_init(&block[i], 0);
	for (uint32_t w = 0; w < l.n_leaf; w++) {
		uint32_t bits = n_slots - w * 64;
		atomic_init(&block[l.free_off + w], bits >= 64 ? ~UINT64_C(0) : (ONE << bits) - 1);
	}
	/* every leaf word holds allocatable slots; mark the whole path up */
	for (uint32_t lv = 0; lv < l.n_levels; lv++) {
		uint32_t below = lv ? l.level_words[lv - 1] : l.n_leaf;
		for (uint32_t i = 0; i < below; i++)
			atomic_fetch_or_explicit(&block[l.level_off[lv] + i / 64], ONE << (i % 64),
						 memory_order_relaxed);
	}
	return 0;
}

int pool_pf_attach(struct pool_pf *pf, _Atomic uint64_t *block, uint32_t n_slots, int32_t numa)
{
	int r = pf_block_layout(n_slots, &pf->layout);

	if (r)
		return r;
	pf->block = block;
	pf->numa_node = numa;
	return 0;
}

static uint64_t blocked_word(const struct pool_pf *pf, uint32_t w)
{
	uint64_t any = 0;

	for (int r = 0; r < VFPOOL_BLOCK_NR; r++)
		any |= ld(&pf->block[pf->layout.reason_off[r] + w]);
	return any;
}

static uint64_t avail_word(const struct pool_pf *pf, uint32_t w)
{
	return ld(&pf->block[pf->layout.free_off + w]) & ~blocked_word(pf, w);
}

/* The word that child index idx of level lv-1 (or leaf word idx when lv == 0) reports to. */
static _Atomic uint64_t *summary_word(struct pool_pf *pf, uint32_t lv, uint32_t idx)
{
	return &pf->block[pf->layout.level_off[lv] + idx / 64];
}

static bool child_nonempty(const struct pool_pf *pf, uint32_t lv, uint32_t idx)
{
	if (lv == 0)
		return avail_word(pf, idx) != 0;
	return ld(&pf->block[pf->layout.level_off[lv - 1] + idx]) != 0;
}

/* Leaf word w may now hold an allocatable slot: set its bit at every level, bottom up. The
 * check before each OR keeps the hot lines clean; it is safe because a clearer re-reads
 * the child after clearing (see summary_clear). */
static void summary_set(struct pool_pf *pf, uint32_t w)
{
	uint32_t idx = w;

	for (uint32_t lv = 0; lv < pf->layout.n_levels; lv++) {
		_Atomic uint64_t *sw = summary_word(pf, lv, idx);
		uint64_t bit = ONE << (idx % 64);

		if (!(ld(sw) & bit))
			atomic_fetch_or_explicit(sw, bit, memory_order_seq_cst);
		idx /= 64;
	}
}

/* The child idx at level lv looked empty: clear its summary bit, then re-read the child.
 * A setter that filled the child meanwhile either is seen by the re-read, or its OR comes
 * after our AND in the total order; either way the bit ends up set. */
static void summary_clear(struct pool_pf *pf, uint32_t lv, uint32_t idx)
{
	while (lv < pf->layout.n_levels) {
		_Atomic uint64_t *sw = summary_word(pf, lv, idx);
		uint64_t bit = ONE << (idx % 64);
		uint64_t old = atomic_fetch_and_explicit(sw, ~bit, memory_order_seq_cst);

		if (child_nonempty(pf, lv, idx)) {
			atomic_fetch_or_explicit(sw, bit, memory_order_seq_cst);
			return;
		}
		if ((old & ~bit) != 0)
			return; /* siblings keep the parent's bit meaningful */
		idx /= 64;
		lv++;
	}
}

/* Atomic AND-NOT on the free word: its return value says whether this thread took the
 * slot, so unlike a CAS on the whole word it never fails because a neighbour changed. */
bool pool_take_slot(struct pool_pf *pf, uint32_t slot)
{
	uint64_t bit = ONE << (slot % 64);
	_Atomic uint64_t *fw = &pf->block[pf->layout.free_off + slot / 64];

	if (!(ld(fw) & bit))
		return false;
	return atomic_fetch_and_explicit(fw, ~bit, memory_order_seq_cst) & bit;
}

/* Returns a slot taken by pool_take_slot that the claimer does not keep. Like a release,
 * it must re-announce the word when the slot is allocatable by now: an unblock that ran
 * while we held the slot saw it taken and left the summary alone. */
void pool_give_back(struct pool_pf *pf, uint32_t slot)
{
	uint64_t bit = ONE << (slot % 64);
	uint32_t w = slot / 64;

	atomic_fetch_or_explicit(&pf->block[pf->layout.free_off + w], bit, memory_order_seq_cst);
	if (!(blocked_word(pf, w) & bit))
		summary_set(pf, w);
}

/* After winning a slot, a reason set before our AND must win: give the slot back. */
static bool blocked_after_take(struct pool_pf *pf, uint32_t slot, enum vfpool_block_reason *why)
{
	uint64_t bit = ONE << (slot % 64);

	for (int r = 0; r < VFPOOL_BLOCK_NR; r++) {
		if (ld(&pf->block[pf->layout.reason_off[r] + slot / 64]) & bit) {
			pool_give_back(pf, slot);
			if (why)
				*why = (enum vfpool_block_reason)r;
			return true;
		}
	}
	return false;
}

int pool_claim_vf(struct pool_pf *pf, uint32_t *ret_slot)
{
	const struct pf_block_layout *l = &pf->layout;

	for (;;) {
		uint32_t idx = 0, lv = l->n_levels;
		bool stale = false;

		/* descend: top level is one word; each set bit names a child that may have room */
		while (lv-- > 0) {
			uint64_t word = ld(&pf->block[l->level_off[lv] + idx]);

			if (word == 0) {
				if (lv == l->n_levels - 1)
					return -ENOSPC;
				summary_clear(pf, lv + 1, idx);
				stale = true;
				break;
			}
			idx = idx * 64 + (uint32_t)__builtin_ctzll(word);
		}
		if (stale)
			continue;

		uint64_t avail = avail_word(pf, idx);
		if (avail == 0) {
			summary_clear(pf, 0, idx);
			continue;
		}
		uint32_t slot = idx * 64 + (uint32_t)__builtin_ctzll(avail);
		if (!pool_take_slot(pf, slot))
			continue; /* another claimer won it */
#ifndef VFPOOL_MUTANT_NO_RECHECK /* a test-only build without it: tests/concurrency/ */
		if (blocked_after_take(pf, slot, NULL))
			continue;
#endif
		*ret_slot = slot;
		return 0;
	}
}

int pool_claim_vf_at(struct pool_pf *pf, uint32_t slot, enum vfpool_block_reason *ret_reason)
{
	enum vfpool_block_reason why;
	uint64_t bit = ONE << (slot % 64);

	if (slot >= pf->layout.n_slots)
		return -ERANGE;
	for (int r = 0; r < VFPOOL_BLOCK_NR; r++) {
		if (ld(&pf->block[pf->layout.reason_off[r] + slot / 64]) & bit) {
			if (ret_reason)
				*ret_reason = (enum vfpool_block_reason)r;
			return -EPERM;
		}
	}
	if (!pool_take_slot(pf, slot))
		return -EBUSY;
	if (blocked_after_take(pf, slot, &why)) {
		if (ret_reason)
			*ret_reason = why;
		return -EPERM;
	}
	return 0;
}

int pool_release_vf(struct pool_pf *pf, uint32_t slot)
{
	uint64_t bit = ONE << (slot % 64);
	uint32_t w = slot / 64;

	if (slot >= pf->layout.n_slots)
		return -ERANGE;
	if (atomic_fetch_or_explicit(&pf->block[pf->layout.free_off + w], bit,
				     memory_order_seq_cst) & bit)
		return -EALREADY;
	if (!(blocked_word(pf, w) & bit))
		summary_set(pf, w);
	return 0;
}

int pool_set_blocked(struct pool_pf *pf, uint32_t slot, enum vfpool_block_reason reason, bool on)
{
	uint64_t bit = ONE << (slot % 64);
	uint32_t w = slot / 64;
	_Atomic uint64_t *rw;
	uint64_t old;

	if (slot >= pf->layout.n_slots || (unsigned)reason >= VFPOOL_BLOCK_NR)
		return -ERANGE;
	rw = &pf->block[pf->layout.reason_off[reason] + w];
	if (on)
		return (atomic_fetch_or_explicit(rw, bit, memory_order_seq_cst) & bit) != 0;
	old = atomic_fetch_and_explicit(rw, ~bit, memory_order_seq_cst);
	if ((old & bit) && (avail_word(pf, w) & bit))
		summary_set(pf, w);
	return (old & bit) != 0;
}

bool pool_is_blocked(const struct pool_pf *pf, uint32_t slot, enum vfpool_block_reason reason)
{
	return pf_block_test(&pf->layout, pf->block, pf->layout.reason_off[reason], slot);
}

bool pool_is_leased(const struct pool_pf *pf, uint32_t slot)
{
	return slot < pf->layout.n_slots &&
	       !pf_block_test(&pf->layout, pf->block, pf->layout.free_off, slot);
}

void pool_pf_count(const struct pool_pf *pf, struct pf_block_counts *ret_counts)
{
	pf_block_count(&pf->layout, pf->block, ret_counts);
}

static int try_pfs(struct pool *pool, const struct pf_set *allowed, int32_t numa, bool match,
		   struct pool_pick *ret_pick)
{
	/* relaxed: the rotor only spreads load; any value is correct */
	uint32_t start = atomic_fetch_add_explicit(&pool->rotor, 1, memory_order_relaxed);

	for (uint32_t i = 0; i < pool->n_pfs; i++) {
		uint32_t p = (start + i) % pool->n_pfs;
		uint32_t slot;

		if (allowed && !pf_set_has(allowed, p))
			continue;
		if (numa >= 0 && (pool->pfs[p].numa_node == numa) != match)
			continue;
		if (pool_claim_vf(&pool->pfs[p], &slot) == 0) {
			ret_pick->pf = p;
			ret_pick->slot = slot;
			ret_pick->numa_miss = numa >= 0 && !match;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Pack: the PF (of those on the node, when match) with fewest allocatable VFs that has one,
 * so that whole PFs stay free. A claim lost to a concurrent change is tried again. */
static int pack_pfs(struct pool *pool, const struct pf_set *allowed, int32_t numa, bool match,
		    struct pool_pick *ret_pick)
{
	for (uint32_t tries = 0; tries <= pool->n_pfs; tries++) {
		uint32_t best = UINT32_MAX, best_free = UINT32_MAX, slot;

		for (uint32_t p = 0; p < pool->n_pfs; p++) {
			struct pf_block_counts c;

			if (allowed && !pf_set_has(allowed, p))
				continue;
			if (numa >= 0 && (pool->pfs[p].numa_node == numa) != match)
				continue;
			pool_pf_count(&pool->pfs[p], &c);
			if (c.allocatable && c.allocatable < best_free) {
				best = p;
				best_free = c.allocatable;
			}
		}
		if (best == UINT32_MAX)
			return -ENOSPC;
		if (pool_claim_vf(&pool->pfs[best], &slot) == 0) {
			ret_pick->pf = best;
			ret_pick->slot = slot;
			ret_pick->numa_miss = numa >= 0 && !match;
			return 0;
		}
	}
	return -ENOSPC;
}

int pool_alloc_how(struct pool *pool, const struct pf_set *allowed, int32_t numa_node,
		   unsigned how, struct pool_pick *ret_pick)
{
	int (*search)(struct pool *, const struct pf_set *, int32_t, bool, struct pool_pick *) =
		how & POOL_ALLOC_PACK ? pack_pfs : try_pfs;

	if (numa_node >= 0 && search(pool, allowed, numa_node, true, ret_pick) == 0)
		return 0;
	if (numa_node >= 0 && (how & POOL_ALLOC_NUMA_REQUIRED))
		return -ENOSPC;
	return search(pool, allowed, numa_node, false, ret_pick);
}

int pool_alloc(struct pool *pool, const struct pf_set *allowed, int32_t numa_node,
	       struct pool_pick *ret_pick)
{
	return pool_alloc_how(pool, allowed, numa_node, 0, ret_pick);
}
