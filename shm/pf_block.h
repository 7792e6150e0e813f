/* SPDX-License-Identifier: MIT */
/*
 * One PF's bitmap block inside the state segment, as 64-bit words:
 *
 *   [free: n_leaf][blocked reason 0: n_leaf] ... [reason NR-1: n_leaf][summary levels]
 *
 * free bit = 1: nobody leases the slot. Reason bit = 1: the slot is blocked for that reason
 * (enum vfpool_block_reason). A slot is allocatable when free and blocked by nothing.
 * Summary level 0 has one bit per leaf word ("this word may hold an allocatable slot"),
 * level k+1 one bit per word of level k; the last level is one word. The summary is a hint
 * kept by core/model/pool.c; readers ignore it.
 */
#ifndef VFPOOL_SHM_PF_BLOCK_H
#define VFPOOL_SHM_PF_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/layout.h"

#define PF_BLOCK_MAX_LEVELS 4 /* 64^4 leaf words: far beyond a PF's 16-bit VF count */
#define PF_BLOCK_MAX_SLOTS  65536u

struct pf_block_layout {
	uint32_t n_slots;
	uint32_t n_leaf;                          /* words per leaf bitmap */
	uint32_t free_off;                        /* word offsets inside the block */
	uint32_t reason_off[VFPOOL_BLOCK_NR];
	uint32_t n_levels;
	uint32_t level_off[PF_BLOCK_MAX_LEVELS];  /* level 0 sits right above the leaves */
	uint32_t level_words[PF_BLOCK_MAX_LEVELS];
	uint32_t total_words;
};

/* Computes the layout for n_slots (1..PF_BLOCK_MAX_SLOTS). Returns 0 or -EINVAL. */
int pf_block_layout(uint32_t n_slots, struct pf_block_layout *ret_layout);

/* Counts over a block (live shared memory or a snapshot copy). Relaxed loads: callers that
 * need a consistent picture read under the state seqlock. */
struct pf_block_counts {
	uint32_t existing;              /* slots not ABSENT */
	uint32_t leased;                /* existing and not free */
	uint32_t allocatable;           /* existing, free, blocked by nothing */
	uint32_t blocked[VFPOOL_BLOCK_NR]; /* existing slots with that reason set */
};
void pf_block_count(const struct pf_block_layout *l, const _Atomic uint64_t *block,
		    struct pf_block_counts *ret_counts);

bool pf_block_test(const struct pf_block_layout *l, const _Atomic uint64_t *block,
		   uint32_t off, uint32_t slot);

#endif
