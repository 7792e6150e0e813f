// SPDX-License-Identifier: MIT
/*
 * vfpool-k8s end to end: the real plugin binary between a real vfpoold --simulate and the
 * fake kubelet. The simulated host 4x16: PFs ens1f0/ens1f1 (0000:3b:00.0/.1, NUMA 0) and
 * ens2f0/ens2f1 (0000:3c:00.0/.1, NUMA 1), VF v of PF p at 000<p+1>:00:0<v/8>.<v%8>, and VF
 * 15 of each PF shares its IOMMU group (blocked). Pool "a" takes PFs 0, 1 and 2, pool "b"
 * PF 3. Every wait is bounded; no timing is asserted.
 */
#include <criterion/criterion.h>
#include <fstream>
#include <csignal>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

extern "C" {
#include "tests/netns_links.h"
}
#include "tests/k8s/rig.h"

#include <netlink/socket.h>

using namespace k8stest;

namespace {

const char *const config_ab = R"({"pools": [
	{"name": "a", "network": "red", "pfPciAddresses": ["0000:3b:*", "0000:3c:00.0"]},
	{"name": "b", "network": "red", "pfNames": ["ens2f1"]}]})";

/* VF v of PF p on the simulated host */
std::string vf_pci(unsigned p, unsigned v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%u", p + 1, v / 256, (v / 8) % 32, v % 8);
	return buf;
}

void start_all(Rig &r, const std::vector<std::string> &extra = {})
{
	r.start_daemon("4x16");
	r.start_plugin(extra);
	cr_assert(r.kubelet.wait_registration("vfpool.io/a", 1), "pool a never registered");
	cr_assert(r.kubelet.wait_registration("vfpool.io/b", 1), "pool b never registered");
}

unsigned healthy(const v1beta1::ListAndWatchResponse &l)
{
	unsigned n = 0;

	for (const auto &d : l.devices())
		n += d.health() == "Healthy";
	return n;
}

bool health_is(const v1beta1::ListAndWatchResponse &l, const std::string &id, const char *h)
{
	const v1beta1::Device *d = find_device(l, id);

	return d && d->health() == h;
}

grpc::Status allocate(v1beta1::DevicePlugin::Stub &stub, const std::vector<std::string> &ids,
		      v1beta1::AllocateResponse *out)
{
	grpc::ClientContext ctx;
	auto req = allocate_request(ids);

	ctx.set_deadline(std::chrono::system_clock::now() + wait_bound);
	return stub.Allocate(&ctx, req, out);
}

std::string read_file(const std::string &path)
{
	std::ifstream f(path);
	std::stringstream s;

	s << f.rdbuf();
	return s.str();
}

bool leased_by_plugin(const vfpool_vf_info &v)
{
	return v.status == VFPOOL_VF_STATUS_LEASED && std::string("k8s-") + v.pci_addr == v.vm_id &&
	       std::string(v.vnic_id) == "vf";
}

void stop_clean(Rig &r)
{
	cr_assert_eq(r.stop_plugin(), 0, "vfpool-k8s did not stop cleanly; log above");
}

} // namespace

TestSuite(k8s_plugin, .timeout = 120);

Test(k8s_plugin, registers_each_pool_only_once_vfpoold_is_ready)
{
	Rig r(config_ab);
	v1beta1::RegisterRequest req;

	r.make_run_dir();
	r.start_plugin();
	cr_assert(r.wait_log("event=waiting_for_vfpoold"), "the plugin never looked for vfpoold");
	cr_assert_eq(r.kubelet.registrations().size(), 0u, "registered before vfpoold was ready");
	r.start_daemon("4x16");
	cr_assert(r.kubelet.wait_registration("vfpool.io/a", 1, &req));
	assert_str_eq(req.version().c_str(), "v1beta1");
	assert_str_eq(req.endpoint().c_str(), "vfpool-a.sock");
	cr_assert(req.options().get_preferred_allocation_available());
	cr_assert_not(req.options().pre_start_required());
	cr_assert(r.kubelet.wait_registration("vfpool.io/b", 1, &req));
	assert_str_eq(req.endpoint().c_str(), "vfpool-b.sock");
	cr_assert_eq(r.kubelet.registrations().size(), 2u, "one registration per pool");
	stop_clean(r);
}

Test(k8s_plugin, list_and_watch_reports_each_vf_with_its_health_and_numa_node)
{
	Rig r(config_ab);
	v1beta1::ListAndWatchResponse l;
	v1beta1::DevicePluginOptions opts;
	grpc::ClientContext ctx;

	start_all(r);
	auto a = r.kubelet.dial("vfpool-a.sock");
	cr_assert(a->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &opts).ok());
	cr_assert(opts.get_preferred_allocation_available());
	{
		DeviceWatch w(*a);

		cr_assert(w.wait([](const auto &x) { return x.devices_size() == 48; }, &l),
			  "pool a: %d devices", l.devices_size());
	}
	std::set<std::string> want;
	for (unsigned p = 0; p < 3; p++)
		for (unsigned v = 0; v < 16; v++)
			want.insert(vf_pci(p, v));
	for (const auto &d : l.devices()) {
		unsigned p = (unsigned)std::stoul(d.id().substr(0, 4), nullptr, 16) - 1;
		bool shared = d.id().substr(5) == "00:01.7"; /* VF 15: IOMMU group shared */

		cr_assert(want.erase(d.id()), "%s: not a VF of pool a, or listed twice",
			  d.id().c_str());
		assert_str_eq(d.health().c_str(), shared ? "Unhealthy" : "Healthy", "%s",
				 d.id().c_str());
		cr_assert_eq(d.topology().nodes_size(), 1, "%s: topology", d.id().c_str());
		cr_assert_eq(d.topology().nodes(0).id(), p < 2 ? 0 : 1, "%s: NUMA node",
			     d.id().c_str());
	}
	cr_assert(want.empty(), "pool a lacks %zu VFs", want.size());

	auto b = r.kubelet.dial("vfpool-b.sock");
	DeviceWatch wb(*b);
	cr_assert(wb.wait([](const auto &x) { return x.devices_size() == 16; }, &l));
	cr_assert_eq(healthy(l), 15u);
	cr_assert(find_device(l, vf_pci(3, 0)), "pool b is PF 3");
	stop_clean(r);
}

Test(k8s_plugin, a_vf_leased_outside_kubernetes_is_pushed_unhealthy_and_cannot_be_allocated)
{
	Rig r(config_ab);
	std::string x = vf_pci(0, 3), why;
	v1beta1::AllocateResponse resp;
	vfpool_vf_info v;

	start_all(r);
	auto a = r.kubelet.dial("vfpool-a.sock");
	DeviceWatch w(*a);
	cr_assert(w.wait([&](const auto &l) { return health_is(l, x, "Healthy"); }));

	cr_assert_eq(r.launcher_alloc("launcher-vm", x, &why), 0, "%s", why.c_str());
	cr_assert(w.wait([&](const auto &l) { return health_is(l, x, "Unhealthy"); }),
		  "%s: leased by a launcher, still Healthy", x.c_str());
	auto s = allocate(*a, { x }, &resp);
	cr_assert_eq(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION, "%d: %s",
		     s.error_code(), s.error_message().c_str());
	cr_assert(s.error_message().find("leased to launcher-vm/nic0") != std::string::npos, "%s",
		  s.error_message().c_str());
	cr_assert(r.vf(x, &v));
	assert_str_eq(v.vm_id, "launcher-vm", "the launcher's lease was taken");

	cr_assert_eq(r.launcher_release("launcher-vm"), 0);
	cr_assert(w.wait([&](const auto &l) { return health_is(l, x, "Healthy"); }),
		  "%s: released, still Unhealthy", x.c_str());
	stop_clean(r);
}

Test(k8s_plugin, a_vf_turning_host_busy_is_pushed_unhealthy_and_back)
{
	struct nl_sock *sk = netns_enter(); /* skips, saying why, when not root */
	char name[16];

	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "ens1f0v%d", i);
		netns_add_veth(sk, name);
	}
	Rig r(R"({"pools": [{"name": "a", "pfNames": ["ens1f0"]}]})");
	std::string x = vf_pci(0, 1);

	r.start_daemon("1x4");
	r.start_plugin();
	cr_assert(r.kubelet.wait_registration("vfpool.io/a", 1));
	auto a = r.kubelet.dial("vfpool-a.sock");
	DeviceWatch w(*a);
	cr_assert(w.wait([](const auto &l) { return healthy(l) == 4; }));

	netns_add_macvtap_passthru(sk, "mvt0", "ens1f0v1");
	cr_assert(w.wait([&](const auto &l) {
		return health_is(l, x, "Unhealthy") && healthy(l) == 3;
	}),
		  "%s: a macvtap on top, still Healthy", x.c_str());
	netns_del_link(sk, "mvt0");
	cr_assert(w.wait([](const auto &l) { return healthy(l) == 4; }),
		  "%s: free again, still Unhealthy", x.c_str());
	stop_clean(r);
	nl_socket_free(sk);
}

Test(k8s_plugin, a_pf_whose_link_goes_down_is_pushed_with_its_vfs_unhealthy_and_back)
{
	struct nl_sock *sk = netns_enter(); /* skips, saying why, when not root */

	/* the simulated host's PF netdev, a veth whose peer carries its carrier */
	netns_add_veth(sk, "ens1f0");
	netns_set_up(sk, "ens1f0p", true);
	netns_set_up(sk, "ens1f0", true);
	Rig r(R"({"pools": [{"name": "a", "pfNames": ["ens1f0"]}]})");

	r.start_daemon("1x4");
	r.start_plugin();
	cr_assert(r.kubelet.wait_registration("vfpool.io/a", 1));
	auto a = r.kubelet.dial("vfpool-a.sock");
	DeviceWatch w(*a);
	cr_assert(w.wait([](const auto &l) { return healthy(l) == 4; }), "the link is up");

	netns_set_up(sk, "ens1f0p", false); /* no carrier on ens1f0 */
	cr_assert(w.wait([](const auto &l) { return l.devices_size() == 4 && healthy(l) == 0; }),
		  "ens1f0 lost its carrier, its VFs still Healthy");
	netns_set_up(sk, "ens1f0p", true);
	cr_assert(w.wait([](const auto &l) { return healthy(l) == 4; }),
		  "ens1f0 up again, its VFs still Unhealthy");
	netns_set_up(sk, "ens1f0", false); /* administratively down */
	cr_assert(w.wait([](const auto &l) { return healthy(l) == 0; }),
		  "ens1f0 set down, its VFs still Healthy");
	stop_clean(r);
	nl_socket_free(sk);
}

Test(k8s_plugin,
     preferred_allocation_keeps_to_one_numa_node_spreads_over_pfs_and_honours_must_include)
{
	Rig r(config_ab);
	v1beta1::PreferredAllocationRequest req;
	v1beta1::PreferredAllocationResponse out;
	grpc::ClientContext ctx;
	std::vector<std::string> avail;

	start_all(r);
	for (unsigned p = 0; p < 3; p++)
		for (unsigned v = 0; v < 15; v++)
			avail.push_back(vf_pci(p, v));
	auto add = [&](const std::vector<std::string> &av, const std::vector<std::string> &must,
		       int n) {
		auto *c = req.add_container_requests();

		for (const auto &id : av)
			c->add_available_deviceids(id);
		for (const auto &id : must)
			c->add_must_include_deviceids(id);
		c->set_allocation_size(n);
	};
	add(avail, {}, 3);                 /* NUMA 0 (PFs 0, 1: 30 free) over NUMA 1 (15) */
	add(avail, { vf_pci(2, 1) }, 3);   /* NUMA 1, where the must-include device is */
	add({ vf_pci(0, 0), vf_pci(2, 0), vf_pci(2, 1) }, {}, 2); /* the node that holds both */
	auto a = r.kubelet.dial("vfpool-a.sock");
	cr_assert(a->GetPreferredAllocation(&ctx, req, &out).ok());
	cr_assert_eq(out.container_responses_size(), 3);
	auto ids = [&](int i) {
		std::string s;

		for (const auto &id : out.container_responses(i).deviceids())
			s += (s.empty() ? "" : ",") + id;
		return s;
	};
	assert_str_eq(ids(0).c_str(),
		      (vf_pci(0, 0) + "," + vf_pci(1, 0) + "," + vf_pci(0, 1)).c_str());
	assert_str_eq(ids(1).c_str(),
		      (vf_pci(2, 1) + "," + vf_pci(2, 0) + "," + vf_pci(2, 2)).c_str());
	assert_str_eq(ids(2).c_str(), (vf_pci(2, 0) + "," + vf_pci(2, 1)).c_str());
	stop_clean(r);
}

Test(k8s_plugin, allocate_returns_the_environment_vfio_devices_and_device_info_files)
{
	Rig r(config_ab);
	std::string x = vf_pci(0, 0), y = vf_pci(1, 1);
	v1beta1::AllocateResponse resp, again;
	vfpool_vf_info vx, vy, vx2;

	start_all(r);
	/* VF x is bound to vfio-pci: its group node exists; y's does not */
	cr_assert(r.vf(x, &vx) && r.vf(y, &vy));
	std::string group = std::to_string(vx.iommu_group);
	for (const auto &f : { std::string("vfio"), group })
		std::ofstream(r.vfio_dir + "/" + f) << "";
	r.kubelet.set_pod("default", "vm-1", "vfpool.io/a", { x, y });

	auto a = r.kubelet.dial("vfpool-a.sock");
	auto s = allocate(*a, { x, y }, &resp);
	cr_assert(s.ok(), "%s", s.error_message().c_str());
	cr_assert_eq(resp.container_responses_size(), 1);
	const auto &c = resp.container_responses(0);
	cr_assert_eq(c.envs().size(), 1u);
	auto env = c.envs().find("PCIDEVICE_VFPOOL_IO_A");
	cr_assert(env != c.envs().end(), "no PCIDEVICE_VFPOOL_IO_A");
	assert_str_eq(env->second.c_str(), (x + "," + y).c_str());
	cr_assert_eq(c.devices_size(), 2, "/dev/vfio/vfio and x's group, not y's");
	assert_str_eq(c.devices(0).container_path().c_str(), "/dev/vfio/vfio");
	assert_str_eq(c.devices(0).host_path().c_str(), (r.vfio_dir + "/vfio").c_str());
	assert_str_eq(c.devices(0).permissions().c_str(), "rw");
	assert_str_eq(c.devices(1).container_path().c_str(), ("/dev/vfio/" + group).c_str());
	assert_str_eq(c.devices(1).host_path().c_str(), (r.vfio_dir + "/" + group).c_str());
	assert_str_eq(read_file(r.devinfo_dir + "/vfpool.io-a-" + x + "-device.json").c_str(),
		      ("{\"type\":\"pci\",\"version\":\"1.1.0\",\"pci\":{\"pci-address\":\"" + x +
		       "\",\"pf-pci-address\":\"0000:3b:00.0\"}}\n")
			      .c_str());
	assert_str_eq(read_file(r.devinfo_dir + "/vfpool.io-a-" + y + "-device.json").c_str(),
		      ("{\"type\":\"pci\",\"version\":\"1.1.0\",\"pci\":{\"pci-address\":\"" + y +
		       "\",\"pf-pci-address\":\"0000:3b:00.1\"}}\n")
			      .c_str());
	cr_assert(r.vf(x, &vx) && leased_by_plugin(vx), "%s: %s %s/%s", x.c_str(),
		  vfpool_vf_status_name(vx.status), vx.vm_id, vx.vnic_id);
	cr_assert(r.vf(y, &vy) && leased_by_plugin(vy));

	/* the kubelet hands an init container's devices on: the same lease, granted again */
	s = allocate(*a, { x }, &again);
	cr_assert(s.ok(), "%s", s.error_message().c_str());
	cr_assert(r.vf(x, &vx2) && leased_by_plugin(vx2));
	cr_assert_eq(vx2.generation, vx.generation, "a second lease was made");
	assert_str_eq(again.container_responses(0).envs().at("PCIDEVICE_VFPOOL_IO_A").c_str(),
			 x.c_str());

	DeviceWatch w(*a);
	cr_assert(w.wait([&](const auto &l) {
		return health_is(l, x, "Healthy") && health_is(l, y, "Healthy");
	}), "devices a pod holds are Healthy");
	stop_clean(r);
}

/* A device's file for its next Allocate is written ahead (<file>.next, renamed into place
 * on Allocate's path); when that one is gone, the file is written whole all the same. */
Test(k8s_plugin, a_device_allocated_again_gets_its_whole_device_info_file_written_ahead_or_not)
{
	Rig r(config_ab);
	v1beta1::AllocateResponse resp;
	std::string x = vf_pci(0, 3);
	std::string info = r.devinfo_dir + "/vfpool.io-a-" + x + "-device.json";
	std::string ahead = info + ".next";
	std::string want = "{\"type\":\"pci\",\"version\":\"1.1.0\",\"pci\":{\"pci-address\":\"" +
			   x + "\",\"pf-pci-address\":\"0000:3b:00.0\"}}\n";
	auto written_ahead = [&] {
		struct stat st;

		for (int i = 0; i < 2000; i++) {
			if (stat(ahead.c_str(), &st) == 0)
				return true;
			usleep(10000);
		}
		return false;
	};
	struct stat st;

	start_all(r);
	r.kubelet.set_pod("default", "vm-1", "vfpool.io/a", { x });
	auto a = r.kubelet.dial("vfpool-a.sock");
	auto s = allocate(*a, { x }, &resp);
	cr_assert(s.ok(), "%s", s.error_message().c_str());
	assert_str_eq(read_file(info).c_str(), want.c_str());

	/* the file gone (as when the lease is released), the device allocated again: the
	 * file written ahead is the one renamed into place */
	cr_assert(written_ahead(), "%s: never written ahead", ahead.c_str());
	assert_str_eq(read_file(ahead).c_str(), want.c_str());
	cr_assert_eq(stat(ahead.c_str(), &st), 0);
	ino_t ahead_ino = st.st_ino;
	cr_assert_eq(unlink(info.c_str()), 0);
	s = allocate(*a, { x }, &resp);
	cr_assert(s.ok(), "%s", s.error_message().c_str());
	assert_str_eq(read_file(info).c_str(), want.c_str());
	/* the same inode: renamed into place (the plugin may already have written the next
	 * one ahead, so the .next name itself proves nothing) */
	cr_assert_eq(stat(info.c_str(), &st), 0);
	cr_assert_eq(st.st_ino, ahead_ino, "%s: not the file used", ahead.c_str());

	/* both gone (a tmpfs cleaned up): written whole on Allocate's path */
	cr_assert(written_ahead(), "%s: never written ahead again", ahead.c_str());
	cr_assert_eq(unlink(ahead.c_str()), 0);
	cr_assert_eq(unlink(info.c_str()), 0);
	s = allocate(*a, { x }, &resp);
	cr_assert(s.ok(), "%s", s.error_message().c_str());
	assert_str_eq(read_file(info).c_str(), want.c_str());
	stop_clean(r);
}

Test(k8s_plugin, a_request_naming_a_device_twice_or_a_blocked_one_is_refused_and_leases_nothing)
{
	Rig r(config_ab);
	v1beta1::AllocateResponse resp;
	std::string x = vf_pci(0, 2), blocked = vf_pci(0, 15);
	vfpool_vf_info v;

	start_all(r);
	auto a = r.kubelet.dial("vfpool-a.sock");
	auto s = allocate(*a, { x, x }, &resp);
	cr_assert_eq(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT, "%s",
		     s.error_message().c_str());
	assert_str_eq(s.error_message().c_str(), (x + ": asked for twice in one request").c_str());
	s = allocate(*a, { vf_pci(3, 0) }, &resp);
	cr_assert_eq(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
	assert_str_eq(s.error_message().c_str(),
		      (vf_pci(3, 0) + ": not a device of vfpool.io/a").c_str());
	/* all or nothing: x is leased first, then given back when the blocked VF is refused */
	s = allocate(*a, { x, blocked }, &resp);
	cr_assert_eq(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION, "%s",
		     s.error_message().c_str());
	cr_assert(s.error_message().find(blocked) == 0, "%s", s.error_message().c_str());
	cr_assert(r.vf(x, &v));
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_FREE, "%s: %s, left leased by a failed request",
		     x.c_str(), vfpool_vf_status_name(v.status));
	cr_assert(r.vf(vf_pci(3, 0), &v));
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_FREE);
	struct stat st;
	std::string info = r.devinfo_dir + "/vfpool.io-a-" + x + "-device.json";
	cr_assert(stat(info.c_str(), &st) < 0, "a device-info file for a refused request");

	/* a device a pod holds stays held, its file too, when a request naming it fails */
	r.kubelet.set_pod("default", "vm-1", "vfpool.io/a", { x });
	cr_assert(allocate(*a, { x }, &resp).ok());
	cr_assert(r.vf(x, &v) && leased_by_plugin(v));
	uint64_t gen = v.generation;
	s = allocate(*a, { x, blocked }, &resp);
	cr_assert_eq(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
	cr_assert(r.vf(x, &v) && leased_by_plugin(v) && v.generation == gen,
		  "the pod's lease was undone with the failed request");
	cr_assert_eq(stat(info.c_str(), &st), 0, "the pod's device-info file went");
	stop_clean(r);
}

Test(k8s_plugin, a_wedged_vfpoold_fails_allocate_in_bounded_time_and_its_late_lease_is_released)
{
	Rig r(config_ab);
	std::string x = vf_pci(0, 9), y = vf_pci(0, 10);
	v1beta1::AllocateResponse resp;
	vfpool_vf_info v;

	start_all(r, { "--timeout-ms", "300" });
	auto a = r.kubelet.dial("vfpool-a.sock");
	r.kubelet.set_pod("default", "vm-1", "vfpool.io/a", { y });
	cr_assert(allocate(*a, { y }, &resp).ok()); /* connected: now the daemon stalls */
	kill(r.daemon.pid, SIGSTOP);
	auto s = allocate(*a, { x }, &resp);
	kill(r.daemon.pid, SIGCONT);
	cr_assert_eq(s.error_code(), grpc::StatusCode::UNAVAILABLE, "%d: %s", s.error_code(),
		     s.error_message().c_str());
	assert_str_eq(s.error_message(), "vfpoold did not answer within 300 ms");
	/* the plugin hung up on the stalled request: the daemon, running again, drops it or
	 * makes a lease no pod holds, which reconciliation releases; after a few rounds of
	 * it, well past the grace period, the VF is free either way */
	unsigned n = r.kubelet.list_calls();
	cr_assert(r.kubelet.wait_list_calls(n + 10));
	cr_assert(r.vf(x, &v));
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_FREE, "%s: %s by %s after the stall", x.c_str(),
		     vfpool_vf_status_name(v.status), v.vm_id);
	r.kubelet.set_pod("default", "vm-2", "vfpool.io/a", { x });
	s = allocate(*a, { x }, &resp);
	cr_assert(s.ok(), "after the stall: %s", s.error_message().c_str());
	cr_assert(r.vf(x, &v) && leased_by_plugin(v));
	cr_assert(r.vf(y, &v) && leased_by_plugin(v), "the other pod's lease went");
	stop_clean(r);
}

Test(k8s_plugin, a_restarted_kubelet_gets_every_pool_registered_again)
{
	Rig r(config_ab);
	v1beta1::ListAndWatchResponse l;

	start_all(r);
	auto a = r.kubelet.dial("vfpool-a.sock");
	DeviceWatch old(*a);
	cr_assert(old.wait([](const auto &x) { return x.devices_size() == 48; }));

	r.kubelet.restart(); /* removes every socket, the plugin's too */
	cr_assert(r.kubelet.wait_registration("vfpool.io/a", 2), "pool a not registered again");
	cr_assert(r.kubelet.wait_registration("vfpool.io/b", 2), "pool b not registered again");
	cr_assert(old.wait_ended(), "the old stream was left open");
	auto a2 = r.kubelet.dial("vfpool-a.sock");
	DeviceWatch w(*a2);
	cr_assert(w.wait([](const auto &x) { return x.devices_size() == 48; }, &l),
		  "the new endpoint lists %d devices", l.devices_size());
	cr_assert(r.log_has("event=kubelet_started"));
	cr_assert(r.log_has("event=socket_recreated resource=vfpool.io/a"));
	stop_clean(r);
}

Test(k8s_plugin, a_lease_is_kept_while_a_pod_holds_it_and_released_when_the_pod_is_gone)
{
	Rig r(config_ab);
	std::string x = vf_pci(2, 5), info;
	v1beta1::AllocateResponse resp;
	vfpool_vf_info v;
	struct stat st;

	start_all(r); /* grace 300 ms, PodResources every 100 ms */
	info = r.devinfo_dir + "/vfpool.io-a-" + x + "-device.json";
	r.kubelet.set_pod("default", "vm-1", "vfpool.io/a", { x });
	auto a = r.kubelet.dial("vfpool-a.sock");
	cr_assert(allocate(*a, { x }, &resp).ok());
	/* well past the grace period, counted in Lists: the pod holds it, it stays */
	unsigned n = r.kubelet.list_calls();
	cr_assert(r.kubelet.wait_list_calls(n + 8));
	cr_assert(r.wait_log("event=lease_held device=" + x + " pod=default/vm-1"));
	cr_assert(r.vf(x, &v) && leased_by_plugin(v), "%s released while its pod held it",
		  x.c_str());
	cr_assert_eq(stat(info.c_str(), &st), 0);

	/* a kubelet that does not answer is no "no pod": nothing is released */
	r.kubelet.set_list_failing(true);
	r.kubelet.remove_pod("default", "vm-1");
	n = r.kubelet.list_calls();
	cr_assert(r.kubelet.wait_list_calls(n + 8));
	cr_assert(r.vf(x, &v) && leased_by_plugin(v), "%s released on a failed List", x.c_str());
	cr_assert(r.log_has("event=pod_resources_unavailable"));

	r.kubelet.set_list_failing(false);
	cr_assert(r.wait_vf(x, [](const auto &vf) { return vf.status == VFPOOL_VF_STATUS_FREE; }),
		  "%s: its pod is gone, the lease stays", x.c_str());
	cr_assert(stat(info.c_str(), &st) < 0, "the device-info file stays");
	cr_assert(r.wait_log("event=lease_released resource=vfpool.io/a device=" + x +
			     " last_pod=\"default/vm-1\""));
	DeviceWatch w(*a);
	cr_assert(w.wait([&](const auto &l) { return health_is(l, x, "Healthy"); }));
	stop_clean(r);
}

Test(k8s_plugin, a_lease_whose_pod_is_gone_is_renewed_when_the_device_is_allocated_again)
{
	Rig r(config_ab);
	std::string x = vf_pci(0, 4);
	v1beta1::AllocateResponse resp;
	vfpool_vf_info v1, v2;

	start_all(r, { "--grace-period-ms", "600000" });
	auto a = r.kubelet.dial("vfpool-a.sock");
	cr_assert(allocate(*a, { x }, &resp).ok());
	cr_assert(r.vf(x, &v1) && leased_by_plugin(v1));
	/* no pod ever shows it: seen unheld, not yet released (a long grace) */
	cr_assert(r.wait_log("event=lease_unheld device=" + x));
	cr_assert(allocate(*a, { x }, &resp).ok());
	cr_assert(r.vf(x, &v2) && leased_by_plugin(v2));
	cr_assert_neq(v2.generation, v1.generation, "the next pod got the old lease, VF not reset");
	cr_assert(r.log_has("event=lease_renewed device=" + x));
	stop_clean(r);
}

Test(k8s_plugin, the_plugin_follows_vfpoold_through_a_restart)
{
	Rig r(config_ab);
	std::string x = vf_pci(0, 6), y = vf_pci(0, 7);
	v1beta1::AllocateResponse resp;
	vfpool_vf_info v;

	start_all(r);
	r.kubelet.set_pod("default", "vm-1", "vfpool.io/a", { x });
	auto a = r.kubelet.dial("vfpool-a.sock");
	cr_assert(allocate(*a, { x }, &resp).ok());
	DeviceWatch w(*a);
	cr_assert(w.wait([](const auto &l) { return healthy(l) == 45; }));

	r.kill_daemon();
	cr_assert(w.wait([](const auto &l) { return l.devices_size() == 48 && healthy(l) == 0; }),
		  "vfpoold is gone, devices still Healthy");
	auto s = allocate(*a, { y }, &resp);
	cr_assert_eq(s.error_code(), grpc::StatusCode::UNAVAILABLE, "%s",
		     s.error_message().c_str());
	assert_str_eq(s.error_message().c_str(), "vfpoold is not running");

	r.start_daemon("4x16"); /* the same run directory, its journal */
	cr_assert(w.wait([](const auto &l) { return healthy(l) == 45; }), "not Healthy again");
	cr_assert(r.vf(x, &v) && leased_by_plugin(v), "the lease did not survive the restart");
	s = allocate(*a, { y }, &resp);
	cr_assert(s.ok(), "after the restart: %s", s.error_message().c_str());
	cr_assert(r.vf(y, &v) && leased_by_plugin(v));
	cr_assert(r.log_has("event=vfpoold_down"));
	stop_clean(r);
}

Test(k8s_plugin, without_a_configuration_each_pf_driver_is_a_pool)
{
	Rig r("");
	v1beta1::ListAndWatchResponse l;

	r.start_daemon("4x16");
	r.start_plugin();
	cr_assert(r.kubelet.wait_registration("vfpool.io/i40e", 1));
	cr_assert(r.kubelet.wait_registration("vfpool.io/mlx5_core", 1));
	auto s = r.kubelet.dial("vfpool-i40e.sock");
	DeviceWatch w(*s);
	cr_assert(w.wait([](const auto &x) { return x.devices_size() == 32; }, &l));
	cr_assert(find_device(l, vf_pci(0, 0)) && find_device(l, vf_pci(2, 0)),
		  "PFs 0 and 2 are the i40e ones");
	stop_clean(r);
}
