/* SPDX-License-Identifier: MIT */
/*
 * The lock-free VF pool: one bitmap block per PF (shm/pf_block.h) in caller-given memory.
 *
 * Any number of threads may call any function here at once: the allocator claims, releasers
 * release, discovery and the event probe flip blocked bits. No function takes a lock or
 * allocates. Linearization: a claim takes effect at its atomic AND on the free word; a slot
 * blocked before that AND completes is never returned (the claim re-reads the reason words
 * after winning and backs off).
 */
#ifndef VFPOOL_CORE_POOL_H
#define VFPOOL_CORE_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/layout.h"
#include "shm/pf_block.h"

#define POOL_MAX_PFS 256u

struct pool_pf {
	_Atomic uint64_t *block; /* points into shared (or test) memory */
	struct pf_block_layout layout;
	int32_t numa_node;
};

struct pool {
	struct pool_pf *pfs;
	uint32_t n_pfs;
	_Atomic uint32_t rotor; /* where the next PF search starts: spreads load */
};

/* A set of PFs, by index. */
struct pf_set {
	uint64_t bits[POOL_MAX_PFS / 64];
};

static inline void pf_set_add(struct pf_set *s, uint32_t pf)
{
	s->bits[pf / 64] |= UINT64_C(1) << (pf % 64);
}
static inline bool pf_set_has(const struct pf_set *s, uint32_t pf)
{
	return (s->bits[pf / 64] >> (pf % 64)) & 1;
}
void pf_set_fill(struct pf_set *s, uint32_t n_pfs);

/* Formats a block of pool_pf_words(n_slots) words: every slot free, none blocked. The
 * block is not shared yet: it reaches other threads and processes through something that
 * orders by itself (thread creation; the state file's rename before any reader can map
 * it), so no fence here, which would have no partner. */
uint32_t pool_pf_words(uint32_t n_slots);
int pool_pf_format(_Atomic uint64_t *block, uint32_t n_slots);
/* Attaches a view to an already formatted block. */
int pool_pf_attach(struct pool_pf *pf, _Atomic uint64_t *block, uint32_t n_slots, int32_t numa);

/* Claims any allocatable slot: 0 and *ret_slot, or -ENOSPC. */
int pool_claim_vf(struct pool_pf *pf, uint32_t *ret_slot);
/* Claims that slot: 0, -EBUSY (leased), -EPERM (blocked; *ret_reason says which reason
 * when not NULL) or -ERANGE. */
int pool_claim_vf_at(struct pool_pf *pf, uint32_t slot, enum vfpool_block_reason *ret_reason);
/* Returns a leased slot to the pool. -EALREADY if it was not leased. */
int pool_release_vf(struct pool_pf *pf, uint32_t slot);

/* Sets or clears one blocked reason; returns the previous value (0/1) or -ERANGE. */
int pool_set_blocked(struct pool_pf *pf, uint32_t slot, enum vfpool_block_reason reason, bool on);
bool pool_is_blocked(const struct pool_pf *pf, uint32_t slot, enum vfpool_block_reason reason);
bool pool_is_leased(const struct pool_pf *pf, uint32_t slot);
void pool_pf_count(const struct pool_pf *pf, struct pf_block_counts *ret_counts);

struct pool_pick {
	uint32_t pf;
	uint32_t slot;
	bool numa_miss; /* numa was asked for and no PF on that node had a VF */
};

/* Claims a VF on one of the allowed PFs. PFs on numa_node (>= 0) are tried first; among
 * equals the search starts at a rotating PF so load spreads. -ENOSPC when none has one. */
int pool_alloc(struct pool *pool, const struct pf_set *allowed, int32_t numa_node,
	       struct pool_pick *ret_pick);

#define POOL_ALLOC_PACK          (1u << 0) /* the PF with fewest free VFs, not the rotor's */
#define POOL_ALLOC_NUMA_REQUIRED (1u << 1) /* only PFs on numa_node (>= 0) */
/* pool_alloc, the search as how (POOL_ALLOC_*) says. */
int pool_alloc_how(struct pool *pool, const struct pf_set *allowed, int32_t numa_node,
		   unsigned how, struct pool_pick *ret_pick);

#endif
