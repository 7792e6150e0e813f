/* SPDX-License-Identifier: MIT */
/* The simulated host behind --simulate NxM: enough of a real one (PCI addresses, netdevs,
 * NUMA nodes, shared IOMMU groups) to run everything without SR-IOV hardware or root. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/parse_uint.h"
#include "core/model/host.h"

#define SIM_SHARED_EVERY 16 /* VF 15, 31, ... share their IOMMU group with a non-VF device */

/* vsnprintf: the names are bounded by construction; a truncation would only shorten one. */
__attribute__((format(printf, 2, 3))) static void set_name(char dst[16], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, 16, fmt, ap);
	va_end(ap);
}

int host_parse_simulate_spec(const char *spec, unsigned *ret_pfs, unsigned *ret_vfs)
{
	const char *end;
	unsigned pfs, vfs;
	int r;

	r = parse_uint_prefix(spec, 256, &pfs, &end);
	if (r)
		return r;
	if (*end != 'x')
		return -EINVAL;
	r = parse_uint(end + 1, 65536, &vfs);
	if (r)
		return r;
	if (pfs == 0 || vfs == 0 || (uint64_t)pfs * vfs > (UINT64_C(1) << 20))
		return -ERANGE;
	*ret_pfs = pfs;
	*ret_vfs = vfs;
	return 0;
}

int host_simulate(unsigned n_pfs, unsigned vfs_per_pf, struct host **ret_host)
{
	struct host *h = calloc(1, sizeof(*h));
	size_t n_vfs = (size_t)n_pfs * vfs_per_pf;

	if (!h)
		return -ENOMEM;
	h->pfs = calloc(n_pfs, sizeof(*h->pfs));
	h->vfs = calloc(n_vfs, sizeof(*h->vfs));
	h->groups = calloc(n_vfs, sizeof(*h->groups));
	if (!h->pfs || !h->vfs || !h->groups) {
		host_free(h);
		return -ENOMEM;
	}
	h->n_pfs = n_pfs;
	h->n_vfs = n_vfs;
	for (unsigned p = 0; p < n_pfs; p++) {
		struct host_pf *pf = &h->pfs[p];

		/* bus 0x3b.. per PF pair, like a dual-port card per bus */
		set_name(pf->pci_addr, "0000:%02x:00.%u", 0x3b + p / 2, p % 2);
		set_name(pf->netdev, "ens%uf%u", 1 + p / 2, p % 2);
		set_name(pf->driver, "%s", p % 2 ? "mlx5_core" : "i40e");
		pf->vendor = p % 2 ? 0x15b3 : 0x8086;
		pf->device = p % 2 ? 0x101d : 0x1572;
		pf->pci_class = 0x020000; /* Ethernet controller */
		pf->numa_node = (int32_t)((p / 2) % 2);
		pf->total_vfs = vfs_per_pf;
		pf->num_vfs = vfs_per_pf;
	}
	for (size_t i = 0; i < n_vfs; i++) {
		struct host_vf *vf = &h->vfs[i];
		unsigned p = (unsigned)(i / vfs_per_pf), v = (unsigned)(i % vfs_per_pf);
		struct host_iommu_group *g = &h->groups[i];

		vf->pf = p;
		vf->vf_index = v;
		/* one PCI domain per PF keeps every address unique up to 65536 VFs */
		set_name(vf->pci_addr, "%04x:%02x:%02x.%u", p + 1, v / 256, (v / 8) % 32, v % 8);
		set_name(vf->netdev, "ens%uf%uv%u", 1 + p / 2, p % 2, v);
		set_name(vf->driver, "%s", p % 2 ? "mlx5_core" : "iavf");
		vf->ifindex = (int32_t)(1000 + i);
		vf->iommu_group = (int32_t)(100 + i);
		vf->numa_node = h->pfs[p].numa_node;
		g->group = vf->iommu_group;
		g->n_devices = 1;
		if (v % SIM_SHARED_EVERY == SIM_SHARED_EVERY - 1) {
			g->n_devices = 2;
			set_name(g->other_dev, "0000:00:1c.%u", v % 8);
		}
	}
	h->n_groups = n_vfs;
	*ret_host = h;
	return 0;
}
