/* SPDX-License-Identifier: MIT */
/*
 * One test's world: a temporary directory (device-plugins dir, PodResources socket,
 * device-info dir, a stand-in /dev/vfio, the plugin's configuration), a real vfpoold
 * (tests/daemon_fixture), the fake kubelet, and the real vfpool-k8s binary from
 * $VFPOOL_BUILD, which must stop cleanly (exit 0: under ASan, no leak) when the test ends.
 */
#ifndef VFPOOL_TESTS_K8S_RIG_H
#define VFPOOL_TESTS_K8S_RIG_H

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <vfpool/vfpool.h>

extern "C" {
#include "tests/daemon_fixture.h"
}
#include "tests/k8s/assert_str.h"
#include "tests/k8s/fake_kubelet.h"

namespace k8stest {

class Rig {
public:
	/* config_json "": no configuration file (one pool per PF driver) */
	explicit Rig(const std::string &config_json);
	~Rig();

	/* Makes the run directory without a daemon (for a plugin that starts first). */
	void make_run_dir();
	/* vfpoold --simulate spec [args...], in the run directory if there is one already. */
	void start_daemon(const char *simulate, const std::vector<const char *> &args = {});
	void kill_daemon(); /* SIGKILL: its leases stay in the journal */
	void start_plugin(const std::vector<std::string> &extra = {});
	int stop_plugin();  /* SIGTERM, wait: the exit status */

	/* The plugin's log has a line containing needle (waits for it, bounded). */
	bool wait_log(const std::string &needle);
	bool log_has(const std::string &needle);

	/* The daemon's record of the VF with this PCI address. */
	bool vf(const std::string &pci, vfpool_vf_info *ret);
	/* Waits until pred holds for that VF. */
	bool wait_vf(const std::string &pci,
		     const std::function<bool(const vfpool_vf_info &)> &pred);
	/* A lease outside Kubernetes, as a VM launcher makes one (0 or -errno). */
	int launcher_alloc(const std::string &vm, const std::string &pci,
			   std::string *why = nullptr);
	int launcher_release(const std::string &vm);

	std::string dir, plugin_dir, podres_socket, devinfo_dir, vfio_dir, config_path, log_path;
	struct test_daemon daemon = {};
	FakeKubelet kubelet;

private:
	pid_t plugin_pid_ = 0;
};

/* An AllocateRequest for one container. */
v1beta1::AllocateRequest allocate_request(const std::vector<std::string> &ids);

} // namespace k8stest

#endif
