/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "shm/pf_block.h"

static uint32_t words_for(uint32_t bits)
{
	return bits ? (bits + 63) / 64 : 1;
}

int pf_block_layout(uint32_t n_slots, struct pf_block_layout *ret_layout)
{
	struct pf_block_layout l = { .n_slots = n_slots };
	uint32_t off, below;

	if (n_slots == 0 || n_slots > PF_BLOCK_MAX_SLOTS)
		return -EINVAL;
	l.n_leaf = words_for(n_slots);
	l.free_off = 0;
	off = l.n_leaf;
	for (int r = 0; r < VFPOOL_BLOCK_NR; r++) {
		l.reason_off[r] = off;
		off += l.n_leaf;
	}
	below = l.n_leaf;
	do {
		if (l.n_levels == PF_BLOCK_MAX_LEVELS)
			return -EINVAL;
		l.level_off[l.n_levels] = off;
		l.level_words[l.n_levels] = words_for(below);
		off += l.level_words[l.n_levels];
		below = l.level_words[l.n_levels];
		l.n_levels++;
	} while (below > 1);
	l.total_words = off;
	*ret_layout = l;
	return 0;
}

static uint64_t load_relaxed(const _Atomic uint64_t *w)
{
	/* relaxed: a count is a statistic; consistency comes from the seqlock around it */
	return atomic_load_explicit(w, memory_order_relaxed);
}

void pf_block_count(const struct pf_block_layout *l, const _Atomic uint64_t *block,
		    struct pf_block_counts *ret_counts)
{
	struct pf_block_counts c = { 0 };

	for (uint32_t w = 0; w < l->n_leaf; w++) {
		uint32_t bits = l->n_slots - w * 64;
		uint64_t valid = bits >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << bits) - 1;
		uint64_t absent = load_relaxed(&block[l->reason_off[VFPOOL_BLOCK_ABSENT] + w]);
		uint64_t existing = valid & ~absent;
		uint64_t free = load_relaxed(&block[l->free_off + w]);
		uint64_t any = 0;

		for (int r = 0; r < VFPOOL_BLOCK_NR; r++) {
			uint64_t b = load_relaxed(&block[l->reason_off[r] + w]);
			any |= b;
			if (r != VFPOOL_BLOCK_ABSENT)
				c.blocked[r] += (uint32_t)__builtin_popcountll(b & existing);
		}
		c.existing += (uint32_t)__builtin_popcountll(existing);
		c.leased += (uint32_t)__builtin_popcountll(existing & ~free);
		c.allocatable += (uint32_t)__builtin_popcountll(existing & free & ~any);
	}
	c.blocked[VFPOOL_BLOCK_ABSENT] = l->n_slots - c.existing;
	*ret_counts = c;
}

bool pf_block_test(const struct pf_block_layout *l, const _Atomic uint64_t *block,
		   uint32_t off, uint32_t slot)
{
	if (slot >= l->n_slots)
		return false;
	return (load_relaxed(&block[off + slot / 64]) >> (slot % 64)) & 1;
}
