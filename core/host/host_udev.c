/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libudev.h>

#include "core/base/array.h"
#include "core/host/host_udev.h"
#include "core/host/udev_attr.h"

/* One PCI device of the host, whatever it is: group membership needs all of them. */
struct pci_entry {
	char addr[VFPOOL_PCI_ADDR_MAX];
	int32_t group; /* -1: none */
	bool is_pf;
	bool is_our_vf;
};

struct scan {
	struct udev *udev;
	struct pci_entry *pci;
	size_t n_pci;
	struct host *host;
	size_t cap_vfs, cap_groups;
};

static int cmp_pci(const void *a, const void *b)
{
	return strcmp(((const struct pci_entry *)a)->addr, ((const struct pci_entry *)b)->addr);
}

static int cmp_group(const void *a, const void *b)
{
	int32_t x = ((const struct host_iommu_group *)a)->group;
	int32_t y = ((const struct host_iommu_group *)b)->group;

	return (x > y) - (x < y);
}

static struct pci_entry *find_pci(struct scan *s, const char *addr)
{
	struct pci_entry key;

	if (uattr_copy(key.addr, sizeof(key.addr), addr) < 0)
		return NULL;
	return bsearch(&key, s->pci, s->n_pci, sizeof(*s->pci), cmp_pci);
}

/* Every PCI device: address, IOMMU group and whether it is a PF, sorted by address. */
static int scan_pci(struct scan *s)
{
	struct udev_enumerate *e;
	struct udev_list_entry *le;
	size_t cap = 0;
	int r;

	errno = 0;
	e = udev_enumerate_new(s->udev);
	if (!e)
		return uattr_errno(errno, ENOMEM);
	r = udev_enumerate_add_match_subsystem(e, "pci");
	if (r >= 0)
		r = udev_enumerate_scan_devices(e);
	if (r < 0)
		goto out;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e)) {
		struct udev_device *dev = udev_device_new_from_syspath(s->udev,
								      udev_list_entry_get_name(le));
		struct pci_entry *p;

		if (!dev)
			continue; /* vanished between the scan and now: not part of this host */
		r = array_reserve(s->pci, cap, s->n_pci + 1, 16);
		if (r < 0) {
			udev_device_unref(dev);
			goto out;
		}
		p = &s->pci[s->n_pci];
		memset(p, 0, sizeof(*p));
		if (uattr_copy(p->addr, sizeof(p->addr), udev_device_get_sysname(dev)) < 0) {
			udev_device_unref(dev);
			continue; /* not a PCI address: not a device we can name */
		}
		if (uattr_iommu_group(dev, &p->group) < 0)
			p->group = -1;
		p->is_pf = udev_device_get_sysattr_value(dev, "sriov_totalvfs") != NULL;
		s->n_pci++;
		udev_device_unref(dev);
	}
	if (s->n_pci)
		qsort(s->pci, s->n_pci, sizeof(*s->pci), cmp_pci);
	r = 0;
out:
	udev_enumerate_unref(e);
	return r;
}

/* The first (by name) net child of a PCI device: its netdev and, for a PF, its bond. */
static int read_netdev(struct scan *s, struct udev_device *pci, char name[VFPOOL_IFNAME_MAX],
		       int32_t *ret_ifindex, char bond[VFPOOL_IFNAME_MAX])
{
	struct udev_enumerate *e;
	struct udev_list_entry *le;
	const char *best = NULL;
	int r;

	name[0] = '\0';
	if (bond)
		bond[0] = '\0';
	errno = 0;
	e = udev_enumerate_new(s->udev);
	if (!e)
		return uattr_errno(errno, ENOMEM);
	r = udev_enumerate_add_match_subsystem(e, "net");
	if (r >= 0)
		r = udev_enumerate_add_match_parent(e, pci);
	if (r >= 0)
		r = udev_enumerate_scan_devices(e);
	if (r < 0)
		goto out;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e)) {
		const char *path = udev_list_entry_get_name(le);

		if (!best || strcmp(path, best) < 0)
			best = path;
	}
	if (best) {
		struct udev_device *net = udev_device_new_from_syspath(s->udev, best);
		char path[PATH_MAX];
		struct stat st;

		if (!net)
			goto out; /* renamed or gone since the scan: the monitor will report it */
		if (uattr_copy(name, VFPOOL_IFNAME_MAX, udev_device_get_sysname(net)) < 0)
			name[0] = '\0';
		if (ret_ifindex && uattr_read_i32(net, "ifindex", ret_ifindex) < 0)
			*ret_ifindex = 0;
		/* bonding_slave/ exists only under a bond's slaves; a bridge master is not a bond */
		if (bond && snprintf(path, sizeof(path), "%s/bonding_slave", best) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && uattr_link_name(net, "master", bond, VFPOOL_IFNAME_MAX) < 0)
			bond[0] = '\0';
		udev_device_unref(net);
	}
	r = 0;
out:
	udev_enumerate_unref(e);
	return r;
}

static void read_driver(struct udev_device *dev, char driver[VFPOOL_DRIVER_MAX])
{
	const char *d = udev_device_get_driver(dev);

	if (!d || uattr_copy(driver, VFPOOL_DRIVER_MAX, d) < 0)
		driver[0] = '\0';
}

static int add_vf(struct scan *s, uint32_t pf, uint32_t index, const char *addr)
{
	struct host *h = s->host;
	struct udev_device *dev;
	struct host_vf *vf;
	char physfn[VFPOOL_PCI_ADDR_MAX];
	struct pci_entry *pe;
	int r;

	errno = 0;
	dev = udev_device_new_from_subsystem_sysname(s->udev, "pci", addr);
	if (!dev)
		return 0; /* a virtfn link to a device that is going away: not an existing VF */
	/* the VF must name this PF as its parent, or the links are mid-change */
	if (uattr_link_name(dev, "physfn", physfn, sizeof(physfn)) < 0 ||
	    strcmp(physfn, h->pfs[pf].pci_addr) != 0) {
		udev_device_unref(dev);
		return 0;
	}
	r = array_reserve(h->vfs, s->cap_vfs, h->n_vfs + 1, 16);
	if (r < 0)
		goto out;
	vf = &h->vfs[h->n_vfs];
	memset(vf, 0, sizeof(*vf));
	vf->pf = pf;
	vf->vf_index = index;
	r = uattr_copy(vf->pci_addr, sizeof(vf->pci_addr), addr);
	if (r < 0)
		goto out;
	read_driver(dev, vf->driver);
	vf->bound_other = vf->driver[0] && host_driver_is_passthrough(vf->driver);
	if (uattr_read_i32(dev, "numa_node", &vf->numa_node) < 0)
		vf->numa_node = h->pfs[pf].numa_node;
	if (uattr_iommu_group(dev, &vf->iommu_group) < 0)
		vf->iommu_group = -1;
	r = read_netdev(s, dev, vf->netdev, &vf->ifindex, NULL);
	if (r < 0)
		goto out;
	pe = find_pci(s, addr);
	if (pe)
		pe->is_our_vf = true;
	h->n_vfs++;
out:
	udev_device_unref(dev);
	return r;
}

static int add_pf(struct scan *s, const char *addr, size_t *cap_pfs)
{
	struct host *h = s->host;
	struct udev_device *dev;
	struct host_pf *pf;
	uint32_t v, pf_index = (uint32_t)h->n_pfs;
	int r;

	errno = 0;
	dev = udev_device_new_from_subsystem_sysname(s->udev, "pci", addr);
	if (!dev)
		return 0; /* removed since the scan: the monitor reports it */
	r = array_reserve(h->pfs, *cap_pfs, h->n_pfs + 1, 16);
	if (r < 0)
		goto out;
	pf = &h->pfs[h->n_pfs];
	memset(pf, 0, sizeof(*pf));
	r = uattr_copy(pf->pci_addr, sizeof(pf->pci_addr), addr);
	if (r < 0)
		goto out;
	read_driver(dev, pf->driver);
	pf->vendor = uattr_read_u32(dev, "vendor", &v) == 0 ? (uint16_t)v : 0;
	pf->device = uattr_read_u32(dev, "device", &v) == 0 ? (uint16_t)v : 0;
	pf->pci_class = uattr_read_u32(dev, "class", &v) == 0 ? v & 0xffffffu : 0;
	if (uattr_read_i32(dev, "numa_node", &pf->numa_node) < 0)
		pf->numa_node = -1;
	/* a PF whose SR-IOV counts cannot be read is listed with no VF slots, not dropped:
	 * doctor and operators still need to see it */
	if (uattr_read_u32(dev, "sriov_totalvfs", &pf->total_vfs) < 0)
		pf->total_vfs = 0;
	if (uattr_read_u32(dev, "sriov_numvfs", &pf->num_vfs) < 0)
		pf->num_vfs = 0;
	r = read_netdev(s, dev, pf->netdev, NULL, pf->bond_master);
	if (r < 0)
		goto out;
	h->n_pfs++;
	for (uint32_t i = 0; i < pf->total_vfs; i++) {
		char link[32], vf_addr[VFPOOL_PCI_ADDR_MAX];

		snprintf(link, sizeof(link), "virtfn%u", i);
		if (uattr_link_name(dev, link, vf_addr, sizeof(vf_addr)) < 0)
			continue;
		r = add_vf(s, pf_index, i, vf_addr);
		if (r < 0)
			goto out;
	}
out:
	udev_device_unref(dev);
	return r;
}

static int build_groups(struct scan *s)
{
	struct host *h = s->host;

	for (size_t i = 0; i < h->n_vfs; i++) {
		struct host_iommu_group *g;
		int r;

		if (h->vfs[i].iommu_group < 0 || host_find_group(h, h->vfs[i].iommu_group))
			continue;
		r = array_reserve(h->groups, s->cap_groups, h->n_groups + 1, 16);
		if (r < 0)
			return r;
		g = &h->groups[h->n_groups++];
		memset(g, 0, sizeof(*g));
		g->group = h->vfs[i].iommu_group;
		for (size_t j = 0; j < s->n_pci; j++) {
			if (s->pci[j].group != g->group)
				continue;
			g->n_devices++;
			if (!s->pci[j].is_our_vf && !g->other_dev[0])
				memcpy(g->other_dev, s->pci[j].addr, sizeof(g->other_dev));
		}
		/* keep the array sorted as it grows: host_find_group above bsearches it */
		qsort(h->groups, h->n_groups, sizeof(*h->groups), cmp_group);
	}
	return 0;
}

int host_discover(struct udev *udev, struct host **ret_host)
{
	struct scan s = { .udev = udev };
	size_t cap_pfs = 0;
	int r;

	if (!udev || !ret_host)
		return -EINVAL;
	s.host = calloc(1, sizeof(*s.host));
	if (!s.host)
		return -ENOMEM;
	r = scan_pci(&s);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < s.n_pci; i++) {
		if (!s.pci[i].is_pf)
			continue;
		r = add_pf(&s, s.pci[i].addr, &cap_pfs);
		if (r < 0)
			goto fail;
	}
	r = build_groups(&s);
	if (r < 0)
		goto fail;
	free(s.pci);
	*ret_host = s.host;
	return 0;
fail:
	free(s.pci);
	host_free(s.host);
	return r;
}
