/* SPDX-License-Identifier: MIT */
/*
 * The current view, shared by the thread that follows vfpool's state (the only writer) and
 * the gRPC threads that read it (ListAndWatch, GetPreferredAllocation, Allocate). A view is
 * immutable once published: readers hold it by shared_ptr, so a publication never waits for
 * a reader. Each resource has a version, bumped when what the kubelet sees of it changes;
 * ListAndWatch streams wait for their resource's version to move.
 */
#ifndef VFPOOL_K8S_HUB_H
#define VFPOOL_K8S_HUB_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "client/k8s/model.h"

namespace vfk8s {

class Hub {
public:
	Hub();

	std::shared_ptr<const View> view() const;
	/* Publishes v; bumps (and wakes the waiters of) each resource whose devices changed. */
	void publish(std::shared_ptr<const View> v);
	/* Waits until resource's version differs from seen, stop is set, or max passes.
	 * Returns the version now and the view it belongs to. */
	uint64_t wait_change(const std::string &resource, uint64_t seen,
			     const std::atomic<bool> *stop, std::chrono::milliseconds max,
			     std::shared_ptr<const View> *ret_view);
	/* Wakes every waiter (a server stopping: its waiters see their stop flag). */
	void wake_all();

private:
	mutable std::mutex mu_;
	std::condition_variable cv_;
	std::shared_ptr<const View> view_;
	std::map<std::string, uint64_t> version_;
};

} // namespace vfk8s

#endif
