/* SPDX-License-Identifier: MIT */
/*
 * vfpool-k8s's configuration: which VFs make up each extended resource.
 *
 * A pool is a set of interchangeable VFs, advertised as one resource "<prefix>/<name>".
 * Pools select PFs (every VF of a selected PF is in the pool) by PF netdev glob, PF PCI
 * address glob, PF driver glob and PCI vendor:device; every selector kind given must match,
 * any entry within a kind may. A PF belongs to the first pool that selects it, so a VF is
 * never advertised twice. Without a configuration file every PF driver gets a pool of its
 * own, named after the driver.
 *
 * The file is JSON (man vfpool-k8s):
 *   { "resourcePrefix": "vfpool.io",
 *     "pools": [ { "name": "fast", "network": "red", "placement": "spread",
 *                  "pfNames": ["ens1f*"], "pfPciAddresses": ["0000:3b:00.*"],
 *                  "drivers": ["i40e"], "devices": ["8086:1572", "15b3:*"],
 *                  "vfDriver": "vfio-pci" } ] }
 */
#ifndef VFPOOL_K8S_CONFIG_H
#define VFPOOL_K8S_CONFIG_H

#include <string>
#include <vector>

struct vfpool_pf_info;

namespace vfk8s {

enum class Placement {
	spread, /* across PFs: one PF's failure takes the fewest of a pod's VFs */
	pack,   /* onto the fullest PF: keeps whole PFs free for large requests */
};

struct DeviceId {
	int vendor; /* -1: any */
	int device; /* -1: any */
};

struct PoolConfig {
	std::string name;    /* the resource is "<prefix>/<name>" */
	std::string network; /* vfpool network the leases are made on ("" : the name) */
	std::string profile; /* vfpool vNIC profile, instead of or with the network */
	Placement placement = Placement::spread;
	std::vector<std::string> pf_names; /* globs, fnmatch(3) */
	std::vector<std::string> pf_pci;
	std::vector<std::string> drivers;
	std::vector<DeviceId> devices;
	/* "vfDriver": "vfio-pci": leases bind the VFs to vfio-pci (vfpool's managed binding,
	 * VFPOOL_ALLOC_VFIO), and Allocate passes /dev/vfio/vfio and the VF's group */
	bool vfio = false;
	bool auto_pool = false; /* made for a driver when there is no configuration */
};

struct Config {
	std::string resource_prefix = "vfpool.io";
	std::vector<PoolConfig> pools; /* empty with auto_pools: one per PF driver */
	bool auto_pools = false;
};

/* Parses the JSON text; on failure returns false and says why (naming the pool and key). */
bool config_parse(const std::string &text, Config *ret, std::string *why);
/* Reads and parses path. */
bool config_load(const std::string &path, Config *ret, std::string *why);
/* The configuration used when there is no file: one pool per PF driver. */
Config config_auto();

/* Does the pool select this PF? */
bool pool_selects(const PoolConfig &pool, const vfpool_pf_info &pf);
/* The network the pool's leases are made on. */
const std::string &pool_network(const PoolConfig &pool);

/* Names the resource and network rules accept (exposed for the tests). */
bool valid_pool_name(const std::string &s);   /* a DNS label-like name, 1..63 */
bool valid_prefix(const std::string &s);      /* a DNS subdomain, 1..253 */
bool valid_vfpool_name(const std::string &s); /* 1..31 of [A-Za-z0-9._-] */

} // namespace vfk8s

#endif
