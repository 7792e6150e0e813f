// SPDX-License-Identifier: MIT
#include "tests/k8s/rig.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <criterion/criterion.h>

namespace k8stest {

namespace {

std::string make_temp_dir()
{
	char tmpl[] = "/tmp/vfpool-k8s-test.XXXXXX";

	cr_assert(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
	return tmpl;
}

void write_file(const std::string &path, const std::string &text)
{
	std::ofstream f(path);

	f << text;
	cr_assert(f.good(), "%s: cannot write", path.c_str());
}

} // namespace

Rig::Rig(const std::string &config_json)
	: dir(make_temp_dir()), plugin_dir(dir + "/device-plugins"),
	  podres_socket(dir + "/pod-resources/kubelet.sock"), devinfo_dir(dir + "/devinfo/dp"),
	  vfio_dir(dir + "/vfio"), config_path(dir + "/config.json"), log_path(dir + "/plugin.log"),
	  kubelet(plugin_dir, podres_socket)
{
	for (const auto &d : { plugin_dir, dir + "/pod-resources", vfio_dir })
		cr_assert(mkdir(d.c_str(), 0755) == 0, "%s: %s", d.c_str(), strerror(errno));
	if (!config_json.empty())
		write_file(config_path, config_json);
	else
		config_path.clear(); /* one pool per PF driver */
	kubelet.start();
}

Rig::~Rig()
{
	if (plugin_pid_ > 0) {
		kill(plugin_pid_, SIGKILL);
		waitpid(plugin_pid_, nullptr, 0);
	}
	kubelet.stop();
	if (daemon.pid > 0) {
		test_daemon_stop(&daemon); /* removes its run directory */
	} else if (daemon.run_dir[0]) {
		std::string cmd = std::string("rm -rf '") + daemon.run_dir + "'";
		if (system(cmd.c_str()) != 0)
			fprintf(stderr, "could not remove %s\n", daemon.run_dir);
	}
	std::string cmd = "rm -rf '" + dir + "'";
	if (system(cmd.c_str()) != 0)
		fprintf(stderr, "could not remove %s\n", dir.c_str());
}

void Rig::make_run_dir()
{
	snprintf(daemon.run_dir, sizeof(daemon.run_dir), "/tmp/vfpool-test.XXXXXX");
	cr_assert(mkdtemp(daemon.run_dir), "mkdtemp: %s", strerror(errno));
}

void Rig::start_daemon(const char *simulate, const std::vector<const char *> &args)
{
	const char *a[8] = { nullptr };

	cr_assert(args.size() < 8);
	for (size_t i = 0; i < args.size(); i++)
		a[i] = args[i];
	if (daemon.run_dir[0])
		test_daemon_restart(&daemon, simulate, a[0], a[1], a[2], a[3], a[4], a[5], a[6],
				    a[7]);
	else
		test_daemon_start(&daemon, simulate, a[0], a[1], a[2], a[3], a[4], a[5], a[6],
				  a[7]);
}

void Rig::kill_daemon()
{
	cr_assert(daemon.pid > 0);
	kill(daemon.pid, SIGKILL);
	waitpid(daemon.pid, nullptr, 0);
	daemon.pid = 0;
}

void Rig::start_plugin(const std::vector<std::string> &extra)
{
	std::vector<std::string> args = {
		test_build_path("vfpool-k8s"),
		"--run-dir", daemon.run_dir,
		"--device-plugin-dir", plugin_dir,
		"--pod-resources-socket", podres_socket,
		"--devinfo-dir", devinfo_dir,
		"--vfio-dir", vfio_dir,
		"--reconcile-interval-ms", "100",
		"--grace-period-ms", "300",
		"--log-level", "debug",
	};
	std::vector<char *> argv;

	cr_assert(daemon.run_dir[0], "the run directory comes first");
	if (!config_path.empty()) {
		args.push_back("--config");
		args.push_back(config_path);
	}
	args.insert(args.end(), extra.begin(), extra.end());
	for (auto &s : args)
		argv.push_back(s.data());
	argv.push_back(nullptr);
	plugin_pid_ = fork();
	cr_assert(plugin_pid_ >= 0, "fork: %s", strerror(errno));
	if (plugin_pid_ == 0) {
		int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test */
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv.data());
		_exit(127);
	}
}

int Rig::stop_plugin()
{
	int status = -1;

	cr_assert(plugin_pid_ > 0, "no plugin running");
	kill(plugin_pid_, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(plugin_pid_, &status, WNOHANG) == plugin_pid_) {
			plugin_pid_ = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				std::string cmd = "sed 's/^/  plugin: /' '" + log_path + "' >&2";
				if (system(cmd.c_str()) != 0)
					fprintf(stderr, "no plugin log\n");
			}
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(10000);
	}
	kill(plugin_pid_, SIGKILL);
	waitpid(plugin_pid_, &status, 0);
	plugin_pid_ = 0;
	return -1;
}

bool Rig::log_has(const std::string &needle)
{
	std::ifstream f(log_path);
	std::string line;

	while (std::getline(f, line))
		if (line.find(needle) != std::string::npos)
			return true;
	return false;
}

bool Rig::wait_log(const std::string &needle)
{
	for (int i = 0; i < 2000; i++) {
		if (log_has(needle))
			return true;
		usleep(10000);
	}
	return false;
}

bool Rig::vf(const std::string &pci, vfpool_vf_info *ret)
{
	struct vfpool_snapshot *s;
	vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	bool found = false;

	if (vfpool_snapshot_take(daemon.run_dir, &s) < 0)
		return false;
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s) && !found; i++)
		found = vfpool_snapshot_vf(s, i, &v) == 0 && pci == v.pci_addr;
	vfpool_snapshot_free(s);
	if (found)
		*ret = v;
	return found;
}

bool Rig::wait_vf(const std::string &pci, const std::function<bool(const vfpool_vf_info &)> &pred)
{
	vfpool_vf_info v;

	for (int i = 0; i < 2000; i++) {
		if (vf(pci, &v) && pred(v))
			return true;
		usleep(10000);
	}
	return false;
}

int Rig::launcher_alloc(const std::string &vm, const std::string &pci, std::string *why)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = vm.c_str(),
						  .vnic_id = "nic0", .network = "red",
						  .pin_pci = pci.c_str());
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h;
	char buf[160] = "";
	int r = vfpool_connect(daemon.run_dir, nullptr, &h);

	if (r < 0)
		return r;
	r = vfpool_alloc(h, &req, &l, buf, sizeof(buf));
	if (why)
		*why = buf;
	vfpool_close(h);
	return r;
}

int Rig::launcher_release(const std::string &vm)
{
	struct vfpool *h;
	int r = vfpool_connect(daemon.run_dir, nullptr, &h);

	if (r < 0)
		return r;
	r = vfpool_release(h, vm.c_str(), "nic0", 0, nullptr, 0);
	vfpool_close(h);
	return r;
}

v1beta1::AllocateRequest allocate_request(const std::vector<std::string> &ids)
{
	v1beta1::AllocateRequest req;
	auto *c = req.add_container_requests();

	for (const auto &id : ids)
		c->add_devices_ids(id);
	return req;
}

} // namespace k8stest
