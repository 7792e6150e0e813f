/* SPDX-License-Identifier: MIT */
/*
 * What the plugin advertises, computed from a vfpool snapshot: each pool's VFs with their
 * health, NUMA node, IOMMU group and holder. Pure: no gRPC, no I/O beyond the snapshot.
 *
 * Health (what ListAndWatch reports):
 *   Healthy    the VF is free, or leased by this plugin (a pod holds it)
 *   Unhealthy  leased by anyone else, blocked (host-busy, IOMMU group shared, bound by
 *              another party, absent, dirty), its PF's link is down (VFPOOL_PF_LINK_DOWN,
 *              the daemon's link probe), or vfpoold is not running
 */
#ifndef VFPOOL_K8S_MODEL_H
#define VFPOOL_K8S_MODEL_H

#include <cstdint>
#include <string>
#include <vector>

#include "client/k8s/config.h"

struct vfpool_snapshot;

namespace vfk8s {

enum class Holder { none, plugin, other };

struct Vf {
	std::string id; /* the device ID: the VF's PCI address */
	std::string pf_pci, pf_netdev;
	unsigned pf_index = 0, vf_index = 0;
	int numa = -1;
	int iommu_group = -1;
	bool healthy = false;
	bool free = false; /* allocatable now */
	Holder holder = Holder::none;
	std::string holder_name; /* "vm/vnic" of another party's lease */
	uint64_t generation = 0;
	std::string why;         /* why it is unhealthy */
};

struct Pool {
	std::string resource; /* "<prefix>/<name>" */
	PoolConfig cfg;
	std::vector<Vf> vfs;  /* by PF, then VF slot (the snapshot's order) */

	const Vf *find(const std::string &id) const;
};

struct View {
	bool daemon_up = false;
	std::vector<Pool> pools; /* configuration order (auto pools: by first PF) */

	const Pool *find(const std::string &resource) const;
};

/* The view of a snapshot. Configured pools are always there, empty when they select no PF;
 * VFs of PFs no pool selects are not advertised. */
View view_build(const Config &cfg, const vfpool_snapshot *snap);
/* The same devices, every one Unhealthy: vfpoold is not running. */
View view_daemon_down(const View &last);
/* Do the two pools show the same thing to the kubelet (IDs, health, topology)? */
bool same_devices(const Pool &a, const Pool &b);

/* The lease a device becomes: VM "k8s-<pci>", vNIC "vf". Keyed by device, since the
 * kubelet names no pod at Allocate. */
std::string lease_vm_id(const std::string &pci);
inline constexpr const char *lease_vnic_id = "vf";

/* The SR-IOV device plugin's convention, which KubeVirt and the CNI plugins read:
 * "PCIDEVICE_" + the resource name upper-cased with '.' and '/' as '_'. */
std::string env_name(const std::string &resource);
/* The Network Plumbing WG device-info file of a device:
 * <dir>/<resource with '/' as '-'>-<id with '/' as '-'>-device.json */
std::string devinfo_path(const std::string &dir, const std::string &resource,
			 const std::string &id);
/* Its contents: {"type":"pci","version":"1.1.0","pci":{"pci-address":...,
 * "pf-pci-address":...}} */
std::string devinfo_json(const Vf &vf);

} // namespace vfk8s

#endif
