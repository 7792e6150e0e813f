/* SPDX-License-Identifier: MIT */
/* An in-process pool shaped like the daemon's simulated host, so the baselines run the
 * same allocation logic (core/model/pool.c) on the same shape as vfpoold --simulate NxM. */
#ifndef VFPOOL_BENCH_POOL_H
#define VFPOOL_BENCH_POOL_H

#include "core/model/pool.h"

/* The host every scenario uses: 4 PFs of 64 VFs, as "--simulate 4x64". */
#define BENCH_SIM_PFS  4u
#define BENCH_SIM_VFS  64u
#define BENCH_SIM_SPEC "4x64"

struct bench_pool {
	struct pool pool;
	struct pool_pf *pfs;
	_Atomic uint64_t *mem; /* all PF blocks, back to back */
};

/* n_pfs PFs of vfs_per_pf slots; like host_simulate(), every 16th VF is blocked (its IOMMU
 * group is shared) and PFs alternate NUMA nodes in pairs. 0 or -ENOMEM/-EINVAL. */
int bench_pool_init(struct bench_pool *bp, unsigned n_pfs, unsigned vfs_per_pf);
void bench_pool_fini(struct bench_pool *bp);

#endif
