/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/host/host_select.h"

struct pf_sel_device host_select_device(const struct host_pf *pf)
{
	return (struct pf_sel_device){
		.pci_addr = pf->pci_addr, .netdev = pf->netdev, .driver = pf->driver,
		.vendor = pf->vendor, .device = pf->device, .pci_class = pf->pci_class,
	};
}

int host_select(struct host *host, const struct pf_selectors *sel, unsigned *ret_dropped_pfs)
{
	uint32_t *new_index = calloc(host->n_pfs ? host->n_pfs : 1, sizeof(*new_index));
	size_t n_pfs = 0, n_vfs = 0;
	unsigned dropped = 0;

	if (!new_index)
		return -ENOMEM;
	for (size_t p = 0; p < host->n_pfs; p++) {
		struct pf_sel_device d = host_select_device(&host->pfs[p]);

		if (!pf_selectors_manage_pf(sel, &d)) {
			new_index[p] = UINT32_MAX;
			dropped++;
			continue;
		}
		new_index[p] = (uint32_t)n_pfs;
		if (n_pfs != p)
			host->pfs[n_pfs] = host->pfs[p];
		n_pfs++;
	}
	for (size_t i = 0; i < host->n_vfs; i++) {
		struct host_vf *vf = &host->vfs[i];
		struct pf_sel_device d;

		if (vf->pf >= host->n_pfs || new_index[vf->pf] == UINT32_MAX)
			continue;
		d = host_select_device(&host->pfs[new_index[vf->pf]]);
		if (!pf_selectors_manage_vf(sel, &d, vf->vf_index))
			continue;
		host->vfs[n_vfs] = *vf;
		host->vfs[n_vfs].pf = new_index[vf->pf];
		n_vfs++;
	}
	host->n_pfs = n_pfs;
	host->n_vfs = n_vfs;
	free(new_index);
	if (ret_dropped_pfs)
		*ret_dropped_pfs = dropped;
	return 0;
}
