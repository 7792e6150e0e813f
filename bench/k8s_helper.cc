// SPDX-License-Identifier: MIT
/*
 * vfpool-bench-k8s: the gRPC half of vfpool-bench's k8s scenario (bench/k8s.c runs it; the
 * bench itself is C). Starts vfpool-k8s (from next to this binary) against the vfpoold
 * serving --run-dir, dials the plugin's socket as the kubelet would, and times, in
 * alternating blocks so both see the same machine, each call after the same untimed work
 * (a pinned lease made and released through libvfpool: vfpoold has just worked and gone
 * back to sleep, the plugin's view has moved on):
 *
 *   grpc_unary    GetDevicePluginOptions: a unary call the plugin answers with a constant,
 *                 the floor of any call to that server over its unix socket
 *   k8s_allocate  Allocate of one device: a fresh pinned lease each time (the lease is
 *                 released through libvfpool after the call, untimed), its device-info
 *                 file; the devices taken in turn, as a node hands VFs to successive pods
 *   k8s_health_push  a VF of the pool leased (released) by a launcher outside Kubernetes
 *                 until the plugin's ListAndWatch stream says Unhealthy (Healthy)
 *
 * Prints one line per sample, "<name> <ns>", on stdout; errors on stderr, exit status 1.
 *
 *   vfpool-bench-k8s --run-dir DIR --ops N --cap-ms MS
 */
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <getopt.h>
#include <libgen.h>
#include <climits>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <vfpool/vfpool.h>

#include "client/k8s/proto/deviceplugin/v1beta1/api.grpc.pb.h"

namespace {

constexpr const char *device = "0001:00:00.0"; /* VF 0 of PF ens1f0 on --simulate 4x64 */
constexpr const char *other = "0001:00:00.1";  /* leased by a "launcher": health flips */
constexpr unsigned first_turn = 2, vfs = 64;   /* Allocate takes VFs 2..63 of ens1f0 in turn */
constexpr int block = 100;                      /* samples per block before switching */

uint64_t now_ns()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int fail(const char *fmt, const std::string &what)
{
	fprintf(stderr, "vfpool-bench-k8s: ");
	fprintf(stderr, fmt, what.c_str());
	fputc('\n', stderr);
	return 1;
}

bool accepts(const std::string &path)
{
	struct sockaddr_un sa = {};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path.c_str());
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

struct Plugin {
	pid_t pid = -1;
	std::string dir;

	~Plugin()
	{
		if (pid > 0) {
			kill(pid, SIGTERM);
			waitpid(pid, nullptr, 0);
		}
		if (!dir.empty() && system(("rm -rf '" + dir + "'").c_str()) != 0)
			fprintf(stderr, "vfpool-bench-k8s: could not remove %s\n", dir.c_str());
	}
};

} // namespace

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "run-dir", required_argument, nullptr, 'r' },
		{ "ops", required_argument, nullptr, 'n' },
		{ "cap-ms", required_argument, nullptr, 'c' },
		{ nullptr, 0, nullptr, 0 },
	};
	std::string run_dir;
	size_t ops = 0, push_ops;
	uint64_t cap_ns = 0;
	char self[PATH_MAX], tmpl[64];
	Plugin p;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, nullptr)) != -1) {
		switch (c) {
		case 'r': run_dir = optarg; break;
		case 'n': ops = strtoul(optarg, nullptr, 10); break;
		case 'c': cap_ns = strtoull(optarg, nullptr, 10) * 1000000ull; break;
		default: return 2;
		}
	}
	if (run_dir.empty() || !ops || !cap_ns)
		return fail("%s", "usage: vfpool-bench-k8s --run-dir DIR --ops N --cap-ms MS");
	push_ops = ops / 100 < 20 ? 20 : ops / 100; /* each is tens of ms */
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k < 0)
		return fail("/proc/self/exe: %s", strerror(errno));
	self[k] = '\0';
	std::string plugin = std::string(dirname(self)) + "/vfpool-k8s";
	/* tmpfs, as /var/run is on a node: the device-info files go there */
	snprintf(tmpl, sizeof(tmpl), "%s/vfpool-bench-k8s.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(tmpl))
		return fail("mkdtemp: %s", strerror(errno));
	p.dir = tmpl;
	std::string dp = p.dir + "/device-plugins", config = p.dir + "/config.json";
	mkdir(dp.c_str(), 0755);
	std::ofstream(config) << R"({"pools": [{"name": "bench", "network": "default",
		"pfNames": ["ens1f0"]}]})";

	std::vector<std::string> args = { plugin, "--run-dir", run_dir, "--device-plugin-dir", dp,
					  "--pod-resources-socket", p.dir + "/no-kubelet.sock",
					  "--devinfo-dir", p.dir + "/devinfo", "--config", config,
					  "--log-level", "err" };
	std::vector<char *> av;
	for (auto &a : args)
		av.push_back(a.data());
	av.push_back(nullptr);
	fflush(nullptr);
	p.pid = fork();
	if (p.pid < 0)
		return fail("fork: %s", strerror(errno));
	if (p.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(STDERR_FILENO, STDOUT_FILENO); /* our stdout carries the samples */
		execv(av[0], av.data());
		_exit(127);
	}
	std::string sock = dp + "/vfpool-bench.sock";
	for (int i = 0; i < 1000 && !accepts(sock); i++) {
		if (waitpid(p.pid, nullptr, WNOHANG) == p.pid) {
			p.pid = -1;
			return fail("%s exited before serving", plugin);
		}
		usleep(10000);
	}
	if (!accepts(sock))
		return fail("%s: not serving within 10 s", sock);

	struct vfpool *h;
	int r = vfpool_connect(run_dir.c_str(), nullptr, &h);
	if (r < 0)
		return fail("vfpool_connect: %s", vfpool_strerror(r));
	auto stub = v1beta1::DevicePlugin::NewStub(
		grpc::CreateChannel("unix:" + sock, grpc::InsecureChannelCredentials()));
	/* VF v of PF 1 is 0001:00:<v / 8>.<v % 8> on --simulate (core/model/host_sim.c) */
	std::vector<v1beta1::AllocateRequest> areqs;
	std::vector<std::string> vms;
	for (unsigned v = first_turn; v < vfs; v++) {
		char pci[16];

		if (v % 16 == 15)
			continue; /* its IOMMU group is shared: never leased (SIM_SHARED_EVERY) */
		snprintf(pci, sizeof(pci), "0001:00:%02x.%u", v / 8, v % 8);
		areqs.emplace_back().add_container_requests()->add_devices_ids(pci);
		vms.push_back(std::string("k8s-") + pci);
	}
	size_t turn = 0;
	std::string pace_vm = std::string("k8s-") + device, err;

	auto unary = [&]() {
		grpc::ClientContext ctx;
		v1beta1::DevicePluginOptions o;
		grpc::Status s = stub->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &o);

		if (!s.ok())
			err = "GetDevicePluginOptions: " + s.error_message();
		return s.ok();
	};
	auto alloc = [&]() {
		grpc::ClientContext ctx;
		v1beta1::AllocateResponse out;
		grpc::Status s = stub->Allocate(&ctx, areqs[turn], &out);

		if (!s.ok())
			err = "Allocate: " + s.error_message();
		return s.ok();
	};
	auto release = [&](const std::string &vm) {
		char why[160] = "";
		int rr = vfpool_release(h, vm.c_str(), "vf", 0, why, sizeof(why));

		if (rr < 0)
			err = std::string("release: ") + (why[0] ? why : vfpool_strerror(rr));
		return rr == 0;
	};
	/* what comes before a timed Allocate: its previous lease released */
	auto release_turn = [&]() {
		bool ok = release(vms[turn]);

		turn = (turn + 1) % vms.size();
		return ok;
	};
	/* the same before a timed unary call: a lease made and released */
	auto pace = [&]() {
		struct vfpool_alloc_req q = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = pace_vm.c_str(),
							.vnic_id = "vf", .network = "default",
							.pin_pci = device);
		struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
		char why[160] = "";
		int rr = vfpool_alloc(h, &q, &l, why, sizeof(why));

		if (rr < 0)
			err = std::string("pace: ") + (why[0] ? why : vfpool_strerror(rr));
		return rr == 0 && release(pace_vm);
	};
	/* warm up: the channel connected, the plugin's and daemon's paths faulted in, every
	 * device allocated once */
	for (size_t i = 0; i < ops / 10 + vms.size() && err.empty(); i++)
		if (pace() && unary() && alloc())
			release_turn();
	std::vector<uint64_t> su, sa;
	su.reserve(ops);
	sa.reserve(ops);
	uint64_t deadline = now_ns() + cap_ns;
	while (err.empty() && (su.size() < ops || sa.size() < ops) && now_ns() < deadline) {
		for (int i = 0; i < block && su.size() < ops && err.empty(); i++) {
			uint64_t t0 = now_ns();

			if (unary()) {
				su.push_back(now_ns() - t0);
				pace();
			}
		}
		for (int i = 0; i < block && sa.size() < ops && err.empty(); i++) {
			uint64_t t0 = now_ns();

			if (alloc()) {
				sa.push_back(now_ns() - t0);
				release_turn();
			}
		}
	}
	/* k8s_health_push: a launcher leases a VF of the pool outside Kubernetes (then gives
	 * it back); timed from its lease (or release) returning to the kubelet's stream
	 * saying Unhealthy (Healthy) */
	std::vector<uint64_t> sp;
	{
		grpc::ClientContext ctx;
		v1beta1::ListAndWatchResponse m;

		ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
		auto stream = stub->ListAndWatch(&ctx, v1beta1::Empty());
		auto health = [&](const char *want) {
			while (stream->Read(&m))
				for (const auto &d : m.devices())
					if (d.id() == other && d.health() == want)
						return true;
			err = "ListAndWatch ended";
			return false;
		};
		struct vfpool_alloc_req oreq = VFPOOL_OPTS(vfpool_alloc_req,
							   .vm_id = "bench-launcher",
							   .vnic_id = "nic0", .network = "default",
							   .pin_pci = other);
		struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
		char why[160] = "";
		if (!stream->Read(&m)) /* the first list */
			err = "ListAndWatch sent nothing";
		for (size_t i = 0; i < push_ops && err.empty() && now_ns() < deadline + cap_ns; i++) {
			/* quiet first: the plugin's test of the sequence backs off to its longest
			 * interval; the release below comes while it is still at its shortest */
			usleep(60000);
			uint64_t t0 = now_ns();

			r = vfpool_alloc(h, &oreq, &l, why, sizeof(why));
			if (r < 0) {
				err = std::string("launcher lease: ") +
				      (why[0] ? why : vfpool_strerror(r));
				break;
			}
			if (!health("Unhealthy"))
				break;
			sp.push_back(now_ns() - t0);
			t0 = now_ns();
			r = vfpool_release(h, oreq.vm_id, oreq.vnic_id, 0, why, sizeof(why));
			if (r < 0) {
				err = std::string("launcher release: ") +
				      (why[0] ? why : vfpool_strerror(r));
				break;
			}
			if (!health("Healthy"))
				break;
			sp.push_back(now_ns() - t0);
		}
		ctx.TryCancel();
		stream->Finish();
	}
	vfpool_close(h);
	if (!err.empty())
		return fail("%s", err);
	for (uint64_t s : su)
		printf("grpc_unary %llu\n", (unsigned long long)s);
	for (uint64_t s : sa)
		printf("k8s_allocate %llu\n", (unsigned long long)s);
	for (uint64_t s : sp)
		printf("k8s_health_push %llu\n", (unsigned long long)s);
	return 0;
}
