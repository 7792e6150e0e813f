/* SPDX-License-Identifier: MIT */
/* Per-PF VF counts in the oVirt sense (hostdevListByCaps): total is what the PF reports,
 * existing are the VFs whose parent it is, free are existing VFs that can be handed out. */
#ifndef VFPOOL_CORE_HOST_COUNTS_H
#define VFPOOL_CORE_HOST_COUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model/host.h"

struct host_pf_counts {
	uint32_t total;        /* sriov_totalvfs */
	uint32_t existing;     /* VFs in the model whose pf is this PF */
	uint32_t free;         /* existing, not leased, not bound_other, IOMMU group alone */
	uint32_t iommu_shared; /* existing VFs whose group holds another device */
	uint32_t bound_other;
	uint32_t leased;
};

/* Whether the VF's IOMMU group holds any device besides it. */
bool host_vf_iommu_shared(const struct host *host, const struct host_vf *vf);

/* vf_leased: NULL, or one flag per host->vfs entry. -ERANGE for a bad pf index. */
int host_pf_counts(const struct host *host, uint32_t pf, const bool *vf_leased,
		   struct host_pf_counts *ret_counts);

#endif
