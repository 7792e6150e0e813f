// SPDX-License-Identifier: MIT
#include "client/k8s/hub.h"

namespace vfk8s {

Hub::Hub() : view_(std::make_shared<View>())
{
}

std::shared_ptr<const View> Hub::view() const
{
	std::lock_guard<std::mutex> lk(mu_);

	return view_;
}

void Hub::publish(std::shared_ptr<const View> v)
{
	bool changed = false;

	{
		std::lock_guard<std::mutex> lk(mu_);

		for (const auto &p : v->pools) {
			const Pool *old = view_->find(p.resource);
			auto it = version_.find(p.resource);

			if (it == version_.end()) {
				version_[p.resource] = 1;
				changed = true;
			} else if (!old || !same_devices(*old, p)) {
				it->second++;
				changed = true;
			}
		}
		view_ = std::move(v);
	}
	if (changed)
		cv_.notify_all();
}

uint64_t Hub::wait_change(const std::string &resource, uint64_t seen, const std::atomic<bool> *stop,
			  std::chrono::milliseconds max, std::shared_ptr<const View> *ret_view)
{
	std::unique_lock<std::mutex> lk(mu_);
	auto version = [&] {
		auto it = version_.find(resource);
		return it == version_.end() ? 0 : it->second;
	};

	cv_.wait_for(lk, max, [&] { return stop->load() || version() != seen; });
	*ret_view = view_;
	return version();
}

void Hub::wake_all()
{
	{
		/* under the lock: a waiter between its predicate and its sleep cannot miss it */
		std::lock_guard<std::mutex> lk(mu_);
	}
	cv_.notify_all();
}

} // namespace vfk8s
