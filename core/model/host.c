/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/host.h"

bool host_driver_is_passthrough(const char *driver)
{
	static const char *const drivers[] = { "vfio-pci", "pci-stub", "uio_pci_generic",
					       "igb_uio", "vfio_pci" };

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(driver, drivers[i]) == 0)
			return true;
	return false;
}

const struct host_iommu_group *host_find_group(const struct host *host, int32_t group)
{
	size_t lo = 0, hi = host->n_groups;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (host->groups[mid].group == group)
			return &host->groups[mid];
		if (host->groups[mid].group < group)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void host_free(struct host *host)
{
	if (!host)
		return;
	free(host->pfs);
	free(host->vfs);
	free(host->groups);
	free(host);
}
