/* SPDX-License-Identifier: MIT */
/*
 * Devices become leases: Allocate and the reconciliation that ends them.
 *
 * Allocate turns each device ID into a vfpool lease pinned to that VF, owned by the plugin
 * (VM "k8s-<pci>", vNIC "vf"), writes the device-info file Multus and the CNI plugins read,
 * and says what the container gets: PCIDEVICE_<RESOURCE>, and /dev/vfio/vfio plus
 * /dev/vfio/<group> when the VF's VFIO group node exists (the VF is bound to vfio-pci).
 * All or nothing for one request; a device the plugin already holds is granted again (the
 * kubelet hands an init container's devices on to the app containers), a device held by
 * anyone else is refused with the daemon's reason. Nothing here waits on anything slower
 * than the lease itself (one request to vfpoold, bounded by the handle's timeout).
 *
 * The kubelet never says when a pod lets go of its devices. reconcile() does, from the
 * PodResources API: a lease whose device no pod has held for the grace period is released,
 * so vfpoold resets the VF and it is free again.
 */
#ifndef VFPOOL_K8S_ALLOCATOR_H
#define VFPOOL_K8S_ALLOCATOR_H

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/k8s/model.h"

struct vfpool;
struct vfpool_alloc_req;
struct vfpool_lease;

namespace vfk8s {

using Clock = std::chrono::steady_clock;

struct AllocatorOptions {
	std::string run_dir;     /* vfpoold's */
	std::string devinfo_dir; /* device-info files */
	std::string vfio_dir;    /* where VFIO group nodes are, normally /dev/vfio */
	unsigned timeout_ms = 5000;
};

/* gRPC's codes for what can go wrong, without gRPC in this header. */
enum class Code { ok, invalid_argument, failed_precondition, unavailable, internal };

struct Outcome {
	Code code = Code::ok;
	std::string message;
};

struct DevSpec {
	std::string container_path, host_path, permissions;
};

struct ContainerGrant {
	std::map<std::string, std::string> envs;
	std::vector<DevSpec> devices;
};

class Allocator {
public:
	explicit Allocator(AllocatorOptions o);
	~Allocator();
	Allocator(const Allocator &) = delete;
	Allocator &operator=(const Allocator &) = delete;

	/* Connects to vfpoold ahead of the first Allocate (which would otherwise pay for the
	 * handshake). 0 or a negative errno; Allocate tries again when this failed. */
	int prepare();

	/* One AllocateRequest for resource: containers[i] are container i's device IDs. */
	Outcome allocate(const View &view, const std::string &resource,
			 const std::vector<std::vector<std::string>> &containers,
			 std::vector<ContainerGrant> *ret);

	/* Writes the device-info files that Allocates used up ahead of the next Allocate of
	 * their devices (see write_devinfo); off Allocate's path: the plugin's main loop. */
	void restage();

	/* held: device ID -> "namespace/pod" for every device of this plugin's resources that
	 * a pod holds, as PodResources listed them; list_started: when that List was sent
	 * (a lease made since is not judged by it). Releases the leases no pod has held for
	 * grace. Returns when the next lease falls due (Clock::time_point::max(): none). */
	Clock::time_point reconcile(const View &view,
				    const std::map<std::string, std::string> &held,
				    Clock::time_point list_started,
				    std::chrono::milliseconds grace);

private:
	struct Book {
		Clock::time_point allocated_at;
		std::optional<Clock::time_point> unheld_since; /* when first seen held by no pod */
		std::string pod;                                /* the last pod seen holding it */
		std::string resource;
	};
	struct Made {
		std::string id;
		uint64_t generation;
		bool fresh; /* made by this request: undone if the request fails */
		int vfio_group = -1; /* bound to vfio-pci by vfpoold for the lease: its group */
	};

	/* Devices one AllocateRequest leases at once; more go one by one. */
	static constexpr size_t ring_entries = 64;

	int ensure_handle();
	void fill_req(const Pool &pool, const Vf &vf, const std::string &vm,
		      struct vfpool_alloc_req *req);
	int finish(const Pool &pool, const Vf &vf, int res, const struct vfpool_lease &lease,
		   const char *msg, Made *ret, std::string *why);
	int lease(const Pool &pool, const Vf &vf, Made *ret, std::string *why);
	int lease_all(const Pool &pool, const std::vector<const Vf *> &vfs,
		      const std::function<void()> &meanwhile, std::vector<Made> *made,
		      std::string *why);
	void undo(const std::vector<Made> &made);
	int devinfo_dir_fd(bool reopen, std::string *why);
	int write_file_at(int dir, const std::string &name, const std::string &body);
	int write_devinfo(const std::string &resource, const Vf &vf, std::string *why);
	void remove_devinfo(const std::string &resource, const std::string &id);
	std::set<int> group_nodes(const std::vector<const Vf *> &vfs);
	ContainerGrant grant(const Pool &pool, const std::vector<std::string> &ids,
			     const std::vector<Made> &made, const std::set<int> &nodes);

	AllocatorOptions opts_;
	std::mutex mu_; /* the handle is single-producer; the book goes with it */
	struct vfpool *h_ = nullptr;
	uint64_t batch_ = 0; /* tags each request's completions (user_data >> 16) */
	int dir_fd_ = -1; /* the device-info directory */
	std::map<std::string, Book> book_;
	Clock::time_point started_;
	/* Device-info files written ahead under "<name>.next", by final name: their body
	 * (ready) or what to write next (wanted). Its own lock: restage() never holds up an
	 * Allocate for its writes. */
	std::mutex stage_mu_;
	std::map<std::string, std::string> staged_, wanted_;
};

} // namespace vfk8s

#endif
