/* SPDX-License-Identifier: MIT */
/*
 * The host as vfpool sees it: PFs, their VF slots and IOMMU groups, as plain arrays.
 * Produced by exactly one of: host_simulate() (demos, --simulate NxM) or host discovery
 * through libudev (the real host, and umockdev testbeds in tests). The pool and the state
 * segment are built from it; nothing downstream knows which produced it.
 */
#ifndef VFPOOL_CORE_HOST_H
#define VFPOOL_CORE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

struct host_pf {
	char pci_addr[VFPOOL_PCI_ADDR_MAX];
	char netdev[VFPOOL_IFNAME_MAX]; /* "" when the PF has no netdev */
	char driver[VFPOOL_DRIVER_MAX];
	char bond_master[VFPOOL_IFNAME_MAX]; /* "" unless a bond slave */
	uint16_t vendor;
	uint16_t device;
	uint32_t pci_class; /* the 24-bit class code (0x020000: Ethernet); 0: unknown */
	int32_t numa_node; /* -1: unknown */
	uint32_t total_vfs; /* sriov_totalvfs */
	uint32_t num_vfs;   /* sriov_numvfs */
};

struct host_vf {
	uint32_t pf;       /* index into host.pfs */
	uint32_t vf_index; /* N of the PF's virtfnN link */
	char pci_addr[VFPOOL_PCI_ADDR_MAX];
	char netdev[VFPOOL_IFNAME_MAX]; /* "" when none (e.g. bound to vfio-pci) */
	char driver[VFPOOL_DRIVER_MAX]; /* "" when unbound */
	int32_t ifindex;     /* 0: unknown */
	int32_t iommu_group; /* -1: none */
	int32_t numa_node;
	bool bound_other; /* bound to a passthrough driver by someone without a lease */
};

struct host_iommu_group {
	int32_t group;
	uint32_t n_devices; /* every PCI device in the group */
	char other_dev[VFPOOL_PCI_ADDR_MAX]; /* a member that is not a VF of ours, if any */
};

struct host {
	struct host_pf *pfs;
	size_t n_pfs;
	struct host_vf *vfs; /* grouped by PF, ascending vf_index */
	size_t n_vfs;
	struct host_iommu_group *groups; /* ascending group */
	size_t n_groups;
};

/* Drivers that mean "handed to a VM or a userspace driver", not a host netdev. */
bool host_driver_is_passthrough(const char *driver);

/* A simulated host of n_pfs PFs with vfs_per_pf VFs each: two NUMA nodes, netdev names,
 * one IOMMU group per VF except every 16th VF (index 15, 31, ...), whose group also holds
 * a non-VF device, so the IOMMU rule has something to refuse. */
int host_simulate(unsigned n_pfs, unsigned vfs_per_pf, struct host **ret_host);

/* Parses "NxM" (e.g. "4x64"). */
int host_parse_simulate_spec(const char *spec, unsigned *ret_pfs, unsigned *ret_vfs);

const struct host_iommu_group *host_find_group(const struct host *host, int32_t group);

void host_free(struct host *host);

#endif
