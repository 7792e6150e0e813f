/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_pool.h"

#define SHARED_IOMMU_EVERY 16 /* as core/model/host_sim.c */

int bench_pool_init(struct bench_pool *bp, unsigned n_pfs, unsigned vfs_per_pf)
{
	uint32_t words = pool_pf_words(vfs_per_pf);
	size_t bytes;

	memset(bp, 0, sizeof(*bp));
	if (words == 0 || n_pfs == 0 || n_pfs > POOL_MAX_PFS)
		return -EINVAL;
	/* each block on its own cache lines, as PF blocks are laid out in the state segment */
	words = (words + 7) & ~7u;
	bytes = (size_t)words * n_pfs * sizeof(uint64_t);
	bp->mem = aligned_alloc(64, bytes);
	bp->pfs = calloc(n_pfs, sizeof(*bp->pfs));
	if (!bp->mem || !bp->pfs) {
		bench_pool_fini(bp);
		return -ENOMEM;
	}
	for (unsigned p = 0; p < n_pfs; p++) {
		_Atomic uint64_t *block = bp->mem + (size_t)p * words;

		pool_pf_format(block, vfs_per_pf);
		pool_pf_attach(&bp->pfs[p], block, vfs_per_pf, (int32_t)((p / 2) % 2));
		for (unsigned v = SHARED_IOMMU_EVERY - 1; v < vfs_per_pf; v += SHARED_IOMMU_EVERY)
			pool_set_blocked(&bp->pfs[p], v, VFPOOL_BLOCK_IOMMU_SHARED, true);
	}
	bp->pool.pfs = bp->pfs;
	bp->pool.n_pfs = n_pfs;
	atomic_init(&bp->pool.rotor, 0);
	return 0;
}

void bench_pool_fini(struct bench_pool *bp)
{
	free(bp->mem);
	free(bp->pfs);
	memset(bp, 0, sizeof(*bp));
}
