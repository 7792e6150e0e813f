/* SPDX-License-Identifier: MIT */
/* The lock-free pool on plain malloc'd memory: one test per behaviour. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/pool.h"
#include "core/model/pool_internal.h"

static _Atomic uint64_t *new_block(uint32_t slots, struct pool_pf *pf, int32_t numa)
{
	uint32_t words = pool_pf_words(slots);
	_Atomic uint64_t *mem = aligned_alloc(64, ((words * 8 + 63) / 64) * 64);

	cr_assert(mem);
	cr_assert_eq(pool_pf_format(mem, slots), 0);
	cr_assert_eq(pool_pf_attach(pf, mem, slots, numa), 0);
	return mem;
}

Test(pool, claims_every_slot_once_then_reports_exhaustion)
{
	struct pool_pf pf;
	_Atomic uint64_t *mem = new_block(200, &pf, 0);
	uint8_t seen[200] = { 0 };
	uint32_t slot;

	for (int i = 0; i < 200; i++) {
		cr_assert_eq(pool_claim_vf(&pf, &slot), 0, "claim %d failed", i);
		cr_assert_lt(slot, 200u);
		cr_assert_eq(seen[slot], 0, "slot %u handed out twice", slot);
		seen[slot] = 1;
	}
	cr_assert_eq(pool_claim_vf(&pf, &slot), -ENOSPC);
	free(mem);
}

Test(pool, released_slot_is_claimed_again)
{
	struct pool_pf pf;
	_Atomic uint64_t *mem = new_block(64, &pf, 0);
	uint32_t slot;

	for (int i = 0; i < 64; i++)
		cr_assert_eq(pool_claim_vf(&pf, &slot), 0);
	cr_assert_eq(pool_release_vf(&pf, 37), 0);
	cr_assert_eq(pool_claim_vf(&pf, &slot), 0);
	cr_assert_eq(slot, 37u);
	cr_assert_eq(pool_claim_vf(&pf, &slot), -ENOSPC);
	free(mem);
}

Test(pool, double_release_is_refused)
{
	struct pool_pf pf;
	_Atomic uint64_t *mem = new_block(8, &pf, 0);
	uint32_t slot;

	cr_assert_eq(pool_claim_vf(&pf, &slot), 0);
	cr_assert_eq(pool_release_vf(&pf, slot), 0);
	cr_assert_eq(pool_release_vf(&pf, slot), -EALREADY);
	free(mem);
}

Test(pool, each_block_reason_keeps_a_free_slot_out_until_cleared)
{
	for (int r = 0; r < VFPOOL_BLOCK_NR; r++) {
		struct pool_pf pf;
		_Atomic uint64_t *mem = new_block(1, &pf, 0);
		uint32_t slot;

		cr_assert_eq(pool_set_blocked(&pf, 0, (enum vfpool_block_reason)r, true), 0);
		cr_assert_eq(pool_claim_vf(&pf, &slot), -ENOSPC, "reason %d did not block", r);
		cr_assert_eq(pool_set_blocked(&pf, 0, (enum vfpool_block_reason)r, false), 1);
		cr_assert_eq(pool_claim_vf(&pf, &slot), 0, "reason %d cleared but still blocked", r);
		free(mem);
	}
}

Test(pool, two_reasons_both_must_clear)
{
	struct pool_pf pf;
	_Atomic uint64_t *mem = new_block(4, &pf, 0);
	uint32_t slot;

	for (uint32_t s = 1; s < 4; s++)
		pool_set_blocked(&pf, s, VFPOOL_BLOCK_ABSENT, true);
	pool_set_blocked(&pf, 0, VFPOOL_BLOCK_HOST_BUSY, true);
	pool_set_blocked(&pf, 0, VFPOOL_BLOCK_IOMMU_SHARED, true);
	pool_set_blocked(&pf, 0, VFPOOL_BLOCK_HOST_BUSY, false);
	cr_assert_eq(pool_claim_vf(&pf, &slot), -ENOSPC);
	pool_set_blocked(&pf, 0, VFPOOL_BLOCK_IOMMU_SHARED, false);
	cr_assert_eq(pool_claim_vf(&pf, &slot), 0);
	cr_assert_eq(slot, 0u);
	free(mem);
}

Test(pool, pinned_claim_reports_leased_blocked_and_range)
{
	struct pool_pf pf;
	_Atomic uint64_t *mem = new_block(16, &pf, 0);
	enum vfpool_block_reason why = VFPOOL_BLOCK_NR;

	cr_assert_eq(pool_claim_vf_at(&pf, 3, NULL), 0);
	cr_assert_eq(pool_claim_vf_at(&pf, 3, NULL), -EBUSY);
	pool_set_blocked(&pf, 5, VFPOOL_BLOCK_BOUND_OTHER, true);
	cr_assert_eq(pool_claim_vf_at(&pf, 5, &why), -EPERM);
	cr_assert_eq(why, VFPOOL_BLOCK_BOUND_OTHER);
	cr_assert_eq(pool_claim_vf_at(&pf, 16, NULL), -ERANGE);
	free(mem);
}

Test(pool, summary_levels_find_the_last_free_slot_of_a_65536_pool)
{
	struct pool_pf pf;
	_Atomic uint64_t *mem = new_block(65536, &pf, 0);
	uint32_t slot;

	cr_assert_eq(pf.layout.n_levels, 2u, "65536 slots: 1024 leaf words, 16, then 1");
	for (uint32_t s = 0; s < 65536; s++)
		cr_assert_eq(pool_claim_vf_at(&pf, s, NULL), 0);
	cr_assert_eq(pool_release_vf(&pf, 40000), 0);
	cr_assert_eq(pool_claim_vf(&pf, &slot), 0);
	cr_assert_eq(slot, 40000u);
	cr_assert_eq(pool_claim_vf(&pf, &slot), -ENOSPC);
	free(mem);
}

Test(pool, counts_match_bits)
{
	struct pool_pf pf;
	_Atomic uint64_t *mem = new_block(100, &pf, 0);
	struct pf_block_counts c;
	uint32_t slot;

	for (uint32_t s = 90; s < 100; s++)
		pool_set_blocked(&pf, s, VFPOOL_BLOCK_ABSENT, true);
	pool_set_blocked(&pf, 0, VFPOOL_BLOCK_HOST_BUSY, true);
	pool_set_blocked(&pf, 1, VFPOOL_BLOCK_IOMMU_SHARED, true);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(pool_claim_vf(&pf, &slot), 0);
	pool_pf_count(&pf, &c);
	cr_assert_eq(c.existing, 90u);
	cr_assert_eq(c.leased, 5u);
	cr_assert_eq(c.allocatable, 83u);
	cr_assert_eq(c.blocked[VFPOOL_BLOCK_HOST_BUSY], 1u);
	cr_assert_eq(c.blocked[VFPOOL_BLOCK_IOMMU_SHARED], 1u);
	cr_assert_eq(c.blocked[VFPOOL_BLOCK_ABSENT], 10u);
	free(mem);
}

Test(pool, alloc_prefers_the_requested_numa_node)
{
	struct pool_pf pfs[4];
	_Atomic uint64_t *mem[4];
	struct pool pool = { .pfs = pfs, .n_pfs = 4 };
	struct pool_pick pick;

	for (int i = 0; i < 4; i++)
		mem[i] = new_block(8, &pfs[i], i / 2); /* PFs 0,1 on node 0; 2,3 on node 1 */
	for (int i = 0; i < 16; i++) {
		cr_assert_eq(pool_alloc(&pool, NULL, 1, &pick), 0);
		cr_assert(pick.pf == 2 || pick.pf == 3, "pick %d went to PF %u on node 0", i, pick.pf);
		cr_assert_not(pick.numa_miss);
	}
	/* node 1 is full: the next one goes elsewhere and says so */
	cr_assert_eq(pool_alloc(&pool, NULL, 1, &pick), 0);
	cr_assert(pick.pf == 0 || pick.pf == 1);
	cr_assert(pick.numa_miss);
	for (int i = 0; i < 4; i++)
		free(mem[i]);
}

Test(pool, alloc_spreads_load_across_equal_pfs)
{
	struct pool_pf pfs[4];
	_Atomic uint64_t *mem[4];
	struct pool pool = { .pfs = pfs, .n_pfs = 4 };
	struct pool_pick pick;
	unsigned per_pf[4] = { 0 };

	for (int i = 0; i < 4; i++)
		mem[i] = new_block(64, &pfs[i], 0);
	for (int i = 0; i < 40; i++) {
		cr_assert_eq(pool_alloc(&pool, NULL, -1, &pick), 0);
		per_pf[pick.pf]++;
	}
	for (int i = 0; i < 4; i++)
		cr_assert_eq(per_pf[i], 10u, "PF %d got %u of 40", i, per_pf[i]);
	for (int i = 0; i < 4; i++)
		free(mem[i]);
}

Test(pool, alloc_uses_only_allowed_pfs)
{
	struct pool_pf pfs[3];
	_Atomic uint64_t *mem[3];
	struct pool pool = { .pfs = pfs, .n_pfs = 3 };
	struct pf_set allowed = { 0 };
	struct pool_pick pick;

	for (int i = 0; i < 3; i++)
		mem[i] = new_block(2, &pfs[i], 0);
	pf_set_add(&allowed, 1);
	cr_assert_eq(pool_alloc(&pool, &allowed, -1, &pick), 0);
	cr_assert_eq(pick.pf, 1u);
	cr_assert_eq(pool_alloc(&pool, &allowed, -1, &pick), 0);
	cr_assert_eq(pick.pf, 1u);
	cr_assert_eq(pool_alloc(&pool, &allowed, -1, &pick), -ENOSPC);
	for (int i = 0; i < 3; i++)
		free(mem[i]);
}

/* Regression: a claim that found its slot blocked gave it back without re-announcing the
 * word, so an unblock that ran while the claim held it left a free, allocatable slot that
 * no search could reach. The interleaving, step by step: */
Test(pool, slot_given_back_after_an_unblock_stays_reachable)
{
	struct pool_pf pf;
	_Atomic uint64_t *mem = new_block(1, &pf, 0);
	struct pf_block_counts c;
	uint32_t slot;

	pool_set_blocked(&pf, 0, VFPOOL_BLOCK_HOST_BUSY, true);  /* B blocks the slot */
	cr_assert(pool_take_slot(&pf, 0));                       /* A wins its free bit */
	cr_assert_eq(pool_claim_vf(&pf, &slot), -ENOSPC);        /* D finds nothing, clears summary */
	pool_set_blocked(&pf, 0, VFPOOL_BLOCK_HOST_BUSY, false); /* C unblocks: slot looks taken */
	pool_give_back(&pf, 0);                                  /* A saw the block: gives it back */
	pool_pf_count(&pf, &c);
	cr_assert_eq(c.allocatable, 1u);
	cr_assert_eq(pool_claim_vf(&pf, &slot), 0, "the allocatable slot must be reachable");
	cr_assert_eq(slot, 0u);
	free(mem);
}
