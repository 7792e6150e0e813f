/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "core/model/host_counts.h"

bool host_vf_iommu_shared(const struct host *host, const struct host_vf *vf)
{
	const struct host_iommu_group *g;

	if (vf->iommu_group < 0)
		return false;
	g = host_find_group(host, vf->iommu_group);
	return g && g->n_devices > 1;
}

int host_pf_counts(const struct host *host, uint32_t pf, const bool *vf_leased,
		   struct host_pf_counts *ret_counts)
{
	struct host_pf_counts c = { 0 };

	if (pf >= host->n_pfs)
		return -ERANGE;
	c.total = host->pfs[pf].total_vfs;
	for (size_t i = 0; i < host->n_vfs; i++) {
		const struct host_vf *vf = &host->vfs[i];
		bool leased = vf_leased && vf_leased[i], shared;

		if (vf->pf != pf)
			continue;
		shared = host_vf_iommu_shared(host, vf);
		c.existing++;
		c.leased += leased;
		c.bound_other += vf->bound_other;
		c.iommu_shared += shared;
		if (!leased && !vf->bound_other && !shared)
			c.free++;
	}
	*ret_counts = c;
	return 0;
}
