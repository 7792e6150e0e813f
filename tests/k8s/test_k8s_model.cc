// SPDX-License-Identifier: MIT
/*
 * The plugin's pure parts, without a daemon or gRPC: the configuration, the names the
 * kubelet, KubeVirt and the CNI plugins read, and the preferred-allocation ranking.
 */
#include <criterion/criterion.h>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include <vfpool/vfpool.h>

#include "client/k8s/config.h"
#include "client/k8s/model.h"
#include "client/k8s/rank.h"
#include "tests/k8s/assert_str.h"

using namespace vfk8s;

namespace {

bool parse(const std::string &text, Config *c, std::string *why)
{
	return config_parse(text, c, why);
}

void parse_fails(const std::string &text, const std::string &want_why)
{
	Config c;
	std::string why;

	cr_assert_not(parse(text, &c, &why), "accepted: %s", text.c_str());
	assert_str_eq(why.c_str(), want_why.c_str(), "for %s", text.c_str());
}

vfpool_pf_info pf(const char *pci, const char *netdev, const char *driver, unsigned vendor,
		  unsigned device)
{
	vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

	snprintf(p.pci_addr, sizeof(p.pci_addr), "%s", pci);
	snprintf(p.netdev, sizeof(p.netdev), "%s", netdev);
	snprintf(p.driver, sizeof(p.driver), "%s", driver);
	p.vendor = vendor;
	p.device = device;
	return p;
}

/* A pool: PF index -> (NUMA node, free VFs, busy VFs); IDs "p<pf>v<n>". */
Pool make_pool(const std::vector<std::array<unsigned, 3>> &pfs, Placement placement)
{
	Pool p;

	p.resource = "vfpool.io/t";
	p.cfg.name = "t";
	p.cfg.placement = placement;
	for (unsigned i = 0; i < pfs.size(); i++) {
		for (unsigned v = 0; v < pfs[i][1] + pfs[i][2]; v++) {
			Vf vf;

			vf.id = "p" + std::to_string(i) + "v" + std::to_string(v);
			vf.pf_index = i;
			vf.vf_index = v;
			vf.numa = (int)pfs[i][0];
			vf.free = vf.healthy = v < pfs[i][1];
			vf.holder = vf.free ? Holder::none : Holder::plugin;
			p.vfs.push_back(vf);
		}
	}
	return p;
}

std::vector<std::string> all_ids(const Pool &p)
{
	std::vector<std::string> ids;

	for (const auto &v : p.vfs)
		ids.push_back(v.id);
	return ids;
}

std::string join(const std::vector<std::string> &v)
{
	std::string s;

	for (const auto &x : v)
		s += (s.empty() ? "" : ",") + x;
	return s;
}

void ranks(const Pool &p, const std::vector<std::string> &avail,
	   const std::vector<std::string> &must, int size, const char *want)
{
	std::string got = join(rank_preferred(p, avail, must, size));

	assert_str_eq(got.c_str(), want, "size %d must {%s}", size, join(must).c_str());
}

} // namespace

Test(k8s_config, a_full_configuration_parses_into_its_pools)
{
	Config c;
	std::string why;

	cr_assert(parse(R"({"resourcePrefix": "example.com",
		"pools": [{"name": "fast", "network": "red", "placement": "pack",
			   "pfNames": ["ens1f*"], "pfPciAddresses": ["0000:3b:00.*"],
			   "drivers": ["i40e"], "devices": ["8086:1572", "15b3:*"]},
			  {"name": "slow", "profile": "pt", "drivers": ["ixgbe"]}]})",
		      &c, &why), "%s", why.c_str());
	assert_str_eq(c.resource_prefix.c_str(), "example.com");
	cr_assert_not(c.auto_pools);
	cr_assert_eq(c.pools.size(), 2u);
	assert_str_eq(c.pools[0].name.c_str(), "fast");
	assert_str_eq(pool_network(c.pools[0]).c_str(), "red");
	cr_assert(c.pools[0].placement == Placement::pack);
	cr_assert_eq(c.pools[0].devices.size(), 2u);
	cr_assert_eq(c.pools[0].devices[1].vendor, 0x15b3);
	cr_assert_eq(c.pools[0].devices[1].device, -1);
	cr_assert(c.pools[1].placement == Placement::spread, "spread is the default");
	assert_str_eq(c.pools[1].profile.c_str(), "pt");
	assert_str_eq(pool_network(c.pools[1]).c_str(), "", "a profile names its network");
}

Test(k8s_config, a_pool_without_a_network_makes_its_leases_on_its_name)
{
	Config c;
	std::string why;

	cr_assert(parse(R"({"pools": [{"name": "fast", "drivers": ["i40e"]}]})", &c, &why), "%s",
		  why.c_str());
	assert_str_eq(c.resource_prefix.c_str(), "vfpool.io");
	assert_str_eq(pool_network(c.pools[0]).c_str(), "fast");
}

Test(k8s_config, bad_configurations_are_refused_naming_the_pool_and_key)
{
	parse_fails("{", "not JSON: unexpected end of data");
	parse_fails("[]", "not a JSON object");
	parse_fails(R"({"pool": []})", "pool: unknown key");
	parse_fails(R"({"pools": []})", "no pools: give at least one, or no configuration file "
					 "for one pool per PF driver");
	parse_fails(
		R"({"resourcePrefix": "Vfpool.IO", "pools": [{"name": "a", "drivers": ["x"]}]})",
		"resourcePrefix \"Vfpool.IO\" is not a DNS subdomain (lowercase letters, digits, "
		"'-' and '.')");
	parse_fails(R"({"pools": [{"name": "a", "pfname": ["x"]}]})",
		    "pools[0].pfname: unknown key");
	parse_fails(R"({"pools": [{"drivers": ["x"]}]})", "pools[0]: no name");
	parse_fails(
		R"({"pools": [{"name": "-a", "drivers": ["x"]}]})",
		"pool -a: the name must be 1..63 letters, digits, '-', '_' or '.', beginning and "
		"ending with a letter or digit");
	parse_fails(R"({"pools": [{"name": "a"}]})",
		    "pool a: selects no PF (give pfNames, pfPciAddresses, drivers or devices)");
	parse_fails(R"({"pools": [{"name": "a", "devices": ["8086"]}]})",
		    "pools[0].devices: \"8086\" is not vendor:device (4 hex digits each, or *)");
	parse_fails(R"({"pools": [{"name": "a", "drivers": []}]})",
		    "pools[0].drivers: empty (leave it out to select on other keys)");
	parse_fails(R"({"pools": [{"name": "a", "drivers": "i40e"}]})",
		    "pools[0].drivers: not a list of strings");
	parse_fails(R"({"pools": [{"name": "a", "placement": "fill", "drivers": ["x"]}]})",
		    "pools[0].placement: \"fill\" is neither \"spread\" nor \"pack\"");
	parse_fails(
		R"({"pools": [{"name": "a", "network": "red net", "drivers": ["x"]}]})",
		"pool a: network \"red net\" is not a vfpool name (1..31 of A-Z a-z 0-9 . _ -)");
	parse_fails(
		R"({"pools": [{"name": "a-name-that-is-longer-than-31-chars", "drivers": ["x"]}]})",
		"pool a-name-that-is-longer-than-31-chars: the name is no vfpool network name "
		"(up to 31 characters): give \"network\"");
	parse_fails(
		R"({"pools": [{"name": "a", "drivers": ["x"]}, {"name": "a", "drivers": ["y"]}]})",
		"pool a: defined twice");
}

Test(k8s_config, a_vfio_pool_asks_vfpool_to_bind_its_vfs)
{
	Config c;
	std::string why;

	cr_assert(parse(R"({"pools": [{"name": "vm", "drivers": ["i40e"], "vfDriver": "vfio-pci"},
			  {"name": "net", "drivers": ["ixgbe"]}]})", &c, &why), "%s", why.c_str());
	cr_assert(c.pools[0].vfio);
	cr_assert_not(c.pools[1].vfio, "the VFs' own driver unless asked");
	parse_fails(R"({"pools": [{"name": "a", "drivers": ["x"], "vfDriver": "igb_uio"}]})",
		    "pools[0].vfDriver: \"igb_uio\" is not \"vfio-pci\" (leave it out: the VFs' "
		    "own driver)");
}

Test(k8s_config, selectors_must_all_match_and_any_entry_of_one_may)
{
	Config c;
	std::string why;

	cr_assert(parse(R"({"pools": [{"name": "a", "pfNames": ["ens1f*", "eth9"],
		"devices": ["8086:*"]}]})", &c, &why), "%s", why.c_str());
	const PoolConfig &p = c.pools[0];
	cr_assert(pool_selects(p, pf("0000:3b:00.0", "ens1f0", "i40e", 0x8086, 0x1572)));
	cr_assert(pool_selects(p, pf("0000:5e:00.0", "eth9", "ice", 0x8086, 0x159b)));
	cr_assert_not(pool_selects(p, pf("0000:3b:00.1", "ens1f1", "mlx5_core", 0x15b3, 0x101d)),
		      "the name matches, the vendor does not");
	cr_assert_not(pool_selects(p, pf("0000:3c:00.0", "ens2f0", "i40e", 0x8086, 0x1572)),
		      "the vendor matches, the name does not");
}

Test(k8s_names, the_environment_variable_follows_the_sriov_device_plugin)
{
	assert_str_eq(env_name("vfpool.io/a").c_str(), "PCIDEVICE_VFPOOL_IO_A");
	assert_str_eq(env_name("vfpool.io/mlx5_core").c_str(), "PCIDEVICE_VFPOOL_IO_MLX5_CORE");
	/* KubeVirt looks it up with the same rule: only '.' and '/' become '_' */
	assert_str_eq(env_name("example.com/fast-nic").c_str(), "PCIDEVICE_EXAMPLE_COM_FAST-NIC");
}

Test(k8s_names, the_device_info_file_is_where_multus_looks_and_says_what_the_spec_says)
{
	Vf vf;

	vf.id = "0000:3b:02.1";
	vf.pf_pci = "0000:3b:00.0";
	assert_str_eq(
		devinfo_path("/var/run/k8s.cni.cncf.io/devinfo/dp", "vfpool.io/a", vf.id).c_str(),
		"/var/run/k8s.cni.cncf.io/devinfo/dp/vfpool.io-a-0000:3b:02.1-device.json");
	assert_str_eq(devinfo_json(vf).c_str(),
			 "{\"type\":\"pci\",\"version\":\"1.1.0\",\"pci\":{\"pci-address\":"
			 "\"0000:3b:02.1\",\"pf-pci-address\":\"0000:3b:00.0\"}}\n");
	vf.id = "a\"b\\c\n";
	cr_assert(strstr(devinfo_json(vf).c_str(), "\"a\\\"b\\\\c\\u000a\""),
		  "a hostile string is escaped: %s", devinfo_json(vf).c_str());
	assert_str_eq(lease_vm_id("0000:3b:02.1").c_str(), "k8s-0000:3b:02.1");
}

/* node 0: PF0 4 free, PF1 2 free; node 1: PF2 8 free */
static const std::vector<std::array<unsigned, 3>> three_pfs = { { 0, 4, 0 }, { 0, 2, 0 },
								  { 1, 8, 0 } };

Test(k8s_rank, one_numa_node_serves_the_container_when_one_can)
{
	Pool p = make_pool(three_pfs, Placement::spread);

	ranks(p, all_ids(p), {}, 2, "p2v0,p2v1"); /* node 1 has the most free */
	/* node 0 cannot hold 7 (6 free), node 1 can */
	ranks(p, all_ids(p), {}, 7, "p2v0,p2v1,p2v2,p2v3,p2v4,p2v5,p2v6");
	/* 9: more than a node: the one with the most first, then the next */
	ranks(p, all_ids(p), {}, 9, "p2v0,p2v1,p2v2,p2v3,p2v4,p2v5,p2v6,p2v7,p0v0");
	/* the must-include device's node, even with fewer free */
	ranks(p, all_ids(p), { "p1v1" }, 3, "p1v1,p0v0,p0v1");
}

Test(k8s_rank, spread_takes_from_each_pf_in_turn_and_pack_fills_the_fullest_first)
{
	Pool s = make_pool(three_pfs, Placement::spread), k = make_pool(three_pfs, Placement::pack);
	std::vector<std::string> node0 = { "p0v0", "p0v1", "p0v2", "p0v3", "p1v0", "p1v1" };

	ranks(s, node0, {}, 3, "p0v0,p1v0,p0v1");
	ranks(s, node0, {}, 5, "p0v0,p1v0,p0v1,p1v1,p0v2");
	ranks(k, node0, {}, 3, "p1v0,p1v1,p0v0");
	ranks(k, node0, {}, 5, "p1v0,p1v1,p0v0,p0v1,p0v2");
}

Test(k8s_rank, must_include_comes_first_and_nothing_is_named_twice_or_invented)
{
	Pool p = make_pool(three_pfs, Placement::spread);

	ranks(p, { "p0v0", "p0v0", "p0v1" }, {}, 3, "p0v0,p0v1");
	ranks(p, all_ids(p), { "p0v3", "p0v3", "p2v1" }, 2, "p0v3,p2v1");
	ranks(p, all_ids(p), { "p0v3", "p2v1", "p2v2" }, 2, "p0v3,p2v1,p2v2");
	ranks(p, all_ids(p), {}, 0, "");
}

Test(k8s_rank, free_vfs_before_held_ones_and_unknown_ids_last)
{
	/* PF0: 1 free, 2 held by the plugin (a pod gone, lease not yet released) */
	Pool p = make_pool({ { 0, 1, 2 } }, Placement::spread);

	ranks(p, { "x1", "p0v2", "p0v1", "p0v0" }, {}, 4, "p0v0,p0v2,p0v1,x1");
}

Test(k8s_config, the_shipped_example_parses)
{
	Config c;
	std::string why;

	cr_assert(config_load("dist/k8s/k8s.json", &c, &why), "%s", why.c_str());
	cr_assert_eq(c.pools.size(), 2u);
	cr_assert_not(config_load("dist/k8s/no-such.json", &c, &why));
	assert_str_eq(why, "dist/k8s/no-such.json: No such file or directory");
}
