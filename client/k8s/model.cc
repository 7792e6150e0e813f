// SPDX-License-Identifier: MIT
#include "client/k8s/model.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>

#include <vfpool/vfpool.h>

namespace vfk8s {

namespace {

/* An auto pool's name: the driver, in the characters a resource name allows. */
std::string driver_pool_name(const char *driver)
{
	std::string s;

	for (const char *p = driver; *p && s.size() < 63; p++)
		s += isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-' ? *p : '-';
	while (!s.empty() && !isalnum((unsigned char)s.back()))
		s.pop_back();
	return s.empty() ? std::string("unknown") : s;
}

Vf make_vf(const vfpool_vf_info &v, const vfpool_pf_info &pf)
{
	Vf d;

	d.id = v.pci_addr;
	d.pf_pci = pf.pci_addr;
	d.pf_netdev = pf.netdev;
	d.pf_index = v.pf_index;
	d.vf_index = v.vf_index;
	d.numa = v.numa_node;
	d.iommu_group = v.iommu_group;
	d.generation = v.generation;
	switch (v.status) {
	case VFPOOL_VF_STATUS_FREE:
		d.healthy = d.free = true;
		break;
	case VFPOOL_VF_STATUS_LEASED:
		/* "k8s-" + the VF's own address, vNIC "vf": without building the string */
		if (strncmp(v.vm_id, "k8s-", 4) == 0 && strcmp(v.vm_id + 4, v.pci_addr) == 0 &&
		    strcmp(v.vnic_id, lease_vnic_id) == 0) {
			d.holder = Holder::plugin;
			d.healthy = true;
		} else {
			d.holder = Holder::other;
			d.holder_name = std::string(v.vm_id) + "/" + v.vnic_id;
			d.why = "leased to " + d.holder_name;
		}
		break;
	default:
		d.why = vfpool_vf_status_name(v.status);
		if (v.reason[0])
			d.why += std::string(": ") + v.reason;
		break;
	}
	/* free or held, a VF of a PF whose link is down carries no traffic */
	if (d.healthy && (pf.flags & VFPOOL_PF_LINK_DOWN)) {
		d.healthy = false;
		d.why = std::string("PF ") + (pf.netdev[0] ? pf.netdev : pf.pci_addr) +
			": link down";
	}
	return d;
}

} // namespace

const Vf *Pool::find(const std::string &id) const
{
	for (const auto &v : vfs)
		if (v.id == id)
			return &v;
	return nullptr;
}

const Pool *View::find(const std::string &resource) const
{
	for (const auto &p : pools)
		if (p.resource == resource)
			return &p;
	return nullptr;
}

View view_build(const Config &cfg, const vfpool_snapshot *snap)
{
	View view;
	std::vector<int> pf_pool; /* PF index -> pool index, -1: none */
	unsigned n_pfs = vfpool_snapshot_pf_count(snap), n_vfs = vfpool_snapshot_vf_count(snap);
	std::vector<vfpool_pf_info> pfs(n_pfs, VFPOOL_OPTS(vfpool_pf_info));

	view.daemon_up = true;
	for (const auto &pc : cfg.pools) {
		Pool p;

		p.cfg = pc;
		p.resource = cfg.resource_prefix + "/" + pc.name;
		view.pools.push_back(std::move(p));
	}
	for (unsigned i = 0; i < n_pfs; i++) {
		int which = -1;

		if (vfpool_snapshot_pf(snap, i, &pfs[i]) < 0) {
			pf_pool.push_back(-1);
			continue;
		}
		if (cfg.auto_pools) {
			std::string name = driver_pool_name(pfs[i].driver);

			for (size_t k = 0; k < view.pools.size() && which < 0; k++)
				if (view.pools[k].cfg.name == name)
					which = (int)k;
			if (which < 0) {
				Pool p;

				p.cfg.name = name;
				p.cfg.auto_pool = true;
				p.cfg.drivers.push_back(pfs[i].driver);
				p.resource = cfg.resource_prefix + "/" + name;
				view.pools.push_back(std::move(p));
				which = (int)view.pools.size() - 1;
			}
		} else {
			/* the first pool that selects the PF: a VF is advertised once */
			for (size_t k = 0; k < cfg.pools.size() && which < 0; k++)
				if (pool_selects(cfg.pools[k], pfs[i]))
					which = (int)k;
		}
		pf_pool.push_back(which);
	}
	for (auto &p : view.pools)
		p.vfs.reserve(n_vfs / (n_pfs ? n_pfs : 1));
	/* the snapshot's order is the pools' order: by PF, then VF slot */
	for (unsigned i = 0; i < n_vfs; i++) {
		vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		if (vfpool_snapshot_vf(snap, i, &v) < 0 || !v.pci_addr[0] || v.pf_index >= n_pfs ||
		    pf_pool[v.pf_index] < 0)
			continue;
		view.pools[(size_t)pf_pool[v.pf_index]].vfs.push_back(make_vf(v, pfs[v.pf_index]));
	}
	return view;
}

View view_daemon_down(const View &last)
{
	View v = last;

	v.daemon_up = false;
	for (auto &p : v.pools) {
		for (auto &d : p.vfs) {
			d.healthy = d.free = false;
			d.why = "vfpoold is not running";
		}
	}
	return v;
}

bool same_devices(const Pool &a, const Pool &b)
{
	if (a.vfs.size() != b.vfs.size())
		return false;
	for (size_t i = 0; i < a.vfs.size(); i++) {
		const Vf &x = a.vfs[i], &y = b.vfs[i];

		if (x.id != y.id || x.healthy != y.healthy || x.numa != y.numa)
			return false;
	}
	return true;
}

std::string lease_vm_id(const std::string &pci)
{
	return "k8s-" + pci;
}

std::string env_name(const std::string &resource)
{
	std::string s = "PCIDEVICE_";

	for (char c : resource)
		s += c == '.' || c == '/' ? '_' : (char)toupper((unsigned char)c);
	return s;
}

std::string devinfo_path(const std::string &dir, const std::string &resource,
			 const std::string &id)
{
	std::string r = resource, d = id;

	std::replace(r.begin(), r.end(), '/', '-');
	std::replace(d.begin(), d.end(), '/', '-');
	return dir + "/" + r + "-" + d + "-device.json";
}

/* The daemon's strings are PCI addresses, but they come from a segment another process
 * writes: escaped all the same. */
static std::string json_string(const std::string &s)
{
	std::string out = "\"";
	char buf[8];

	for (unsigned char c : s) {
		if (c == '"' || c == '\\') {
			out += '\\';
			out += (char)c;
		} else if (c < 0x20) {
			snprintf(buf, sizeof(buf), "\\u%04x", c);
			out += buf;
		} else {
			out += (char)c;
		}
	}
	return out + "\"";
}

std::string devinfo_json(const Vf &vf)
{
	return "{\"type\":\"pci\",\"version\":\"1.1.0\",\"pci\":{\"pci-address\":" +
	       json_string(vf.id) + ",\"pf-pci-address\":" + json_string(vf.pf_pci) + "}}\n";
}

} // namespace vfk8s
