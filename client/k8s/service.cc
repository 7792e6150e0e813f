// SPDX-License-Identifier: MIT
/* The DevicePlugin service of one resource. */
#include "client/k8s/service.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include "client/k8s/allocator.h"
#include "client/k8s/hub.h"
#include "client/k8s/log.h"
#include "client/k8s/proto/deviceplugin/v1beta1/api.grpc.pb.h"
#include "client/k8s/rank.h"

namespace vfk8s {

namespace {

using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;

/* How often a ListAndWatch stream with nothing to send checks that its kubelet is still
 * there: the synchronous API has no cancellation callback. Changes wake it at once. */
constexpr std::chrono::milliseconds cancel_check{ 1000 };

StatusCode grpc_code(Code c)
{
	switch (c) {
	case Code::ok: return StatusCode::OK;
	case Code::invalid_argument: return StatusCode::INVALID_ARGUMENT;
	case Code::failed_precondition: return StatusCode::FAILED_PRECONDITION;
	case Code::unavailable: return StatusCode::UNAVAILABLE;
	default: return StatusCode::INTERNAL;
	}
}

class PluginService final : public v1beta1::DevicePlugin::Service {
public:
	PluginService(std::string resource, Hub &hub, Allocator &alloc)
		: resource_(std::move(resource)), hub_(hub), alloc_(alloc)
	{
	}

	void stop()
	{
		stopping_ = true;
		hub_.wake_all();
	}

	Status GetDevicePluginOptions(ServerContext *, const v1beta1::Empty *,
				      v1beta1::DevicePluginOptions *out) override
	{
		out->set_pre_start_required(false);
		out->set_get_preferred_allocation_available(true);
		return Status::OK;
	}

	Status ListAndWatch(ServerContext *ctx, const v1beta1::Empty *,
			    grpc::ServerWriter<v1beta1::ListAndWatchResponse> *w) override
	{
		uint64_t seen = 0;

		for (;;) {
			std::shared_ptr<const View> view;
			uint64_t now =
				hub_.wait_change(resource_, seen, &stopping_, cancel_check, &view);

			if (stopping_)
				return Status(StatusCode::UNAVAILABLE, "the plugin is stopping");
			if (ctx->IsCancelled())
				return Status::CANCELLED;
			if (now == seen)
				continue;
			v1beta1::ListAndWatchResponse resp;
			unsigned healthy = 0;

			if (const Pool *p = view->find(resource_)) {
				for (const auto &vf : p->vfs) {
					v1beta1::Device *d = resp.add_devices();

					d->set_id(vf.id);
					d->set_health(vf.healthy ? "Healthy" : "Unhealthy");
					if (vf.numa >= 0)
						d->mutable_topology()->add_nodes()->set_id(vf.numa);
					healthy += vf.healthy;
				}
			}
			if (!w->Write(resp))
				return Status::CANCELLED; /* the kubelet went away */
			k8s_debug("devices_sent", "resource=%s devices=%d healthy=%u version=%llu",
				  resource_.c_str(), resp.devices_size(), healthy,
				  (unsigned long long)now);
			seen = now;
		}
	}

	Status GetPreferredAllocation(ServerContext *,
				      const v1beta1::PreferredAllocationRequest *req,
				      v1beta1::PreferredAllocationResponse *out) override
	{
		std::shared_ptr<const View> view = hub_.view();
		const Pool *p = view->find(resource_);
		Pool empty;

		for (const auto &c : req->container_requests()) {
			std::vector<std::string> avail(c.available_deviceids().begin(),
						       c.available_deviceids().end());
			std::vector<std::string> must(c.must_include_deviceids().begin(),
						      c.must_include_deviceids().end());
			auto *r = out->add_container_responses();

			for (auto &id :
			     rank_preferred(p ? *p : empty, avail, must, c.allocation_size()))
				r->add_deviceids(std::move(id));
		}
		return Status::OK;
	}

	Status Allocate(ServerContext *, const v1beta1::AllocateRequest *req,
			v1beta1::AllocateResponse *out) override
	{
		std::vector<std::vector<std::string>> containers;
		std::vector<ContainerGrant> grants;

		for (const auto &c : req->container_requests())
			containers.emplace_back(c.devices_ids().begin(), c.devices_ids().end());
		Outcome o = alloc_.allocate(*hub_.view(), resource_, containers, &grants);
		if (o.code != Code::ok)
			return Status(grpc_code(o.code), o.message);
		for (const auto &g : grants) {
			auto *r = out->add_container_responses();

			for (const auto &[k, v] : g.envs)
				(*r->mutable_envs())[k] = v;
			for (const auto &d : g.devices) {
				auto *spec = r->add_devices();

				spec->set_container_path(d.container_path);
				spec->set_host_path(d.host_path);
				spec->set_permissions(d.permissions);
			}
		}
		return Status::OK;
	}

	Status PreStartContainer(ServerContext *, const v1beta1::PreStartContainerRequest *,
				 v1beta1::PreStartContainerResponse *) override
	{
		return Status::OK; /* not required (GetDevicePluginOptions): never called */
	}

private:
	std::string resource_;
	Hub &hub_;
	Allocator &alloc_;
	std::atomic<bool> stopping_{ false };
};

class Server final : public ResourceServer {
public:
	Server(std::string path, std::string resource, Hub &hub, Allocator &alloc)
		: path_(std::move(path)), resource_(std::move(resource)),
		  service_(resource_, hub, alloc)
	{
	}

	~Server() override
	{
		struct stat st;

		if (!server_)
			return;
		service_.stop();
		server_->Shutdown(std::chrono::system_clock::now() +
				  std::chrono::milliseconds(500));
		server_->Wait();
		/* only our own socket: a new server may already listen under the name */
		if (socket_is_ours() && lstat(path_.c_str(), &st) == 0)
			unlink(path_.c_str());
	}

	bool start(std::string *why)
	{
		grpc::ServerBuilder b;
		struct stat st;

		if (lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path_.c_str()); /* a previous run's */
		b.AddListeningPort("unix:" + path_, grpc::InsecureServerCredentials());
		b.RegisterService(&service_);
		server_ = b.BuildAndStart();
		if (!server_) {
			*why = path_ + ": cannot listen";
			return false;
		}
		if (lstat(path_.c_str(), &st) < 0) {
			*why = path_ + ": " + strerror(errno);
			return false;
		}
		dev_ = st.st_dev;
		ino_ = st.st_ino;
		return true;
	}

	const std::string &resource() const override { return resource_; }
	const std::string &socket_path() const override { return path_; }

	bool socket_is_ours() const override
	{
		struct stat st;

		return lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
	}

private:
	std::string path_, resource_;
	PluginService service_;
	std::unique_ptr<grpc::Server> server_;
	dev_t dev_ = 0;
	ino_t ino_ = 0;
};

} // namespace

std::unique_ptr<ResourceServer> resource_server_start(const std::string &socket_path,
						      const std::string &resource, Hub &hub,
						      Allocator &alloc, std::string *why)
{
	auto s = std::make_unique<Server>(socket_path, resource, hub, alloc);

	if (!s->start(why))
		return nullptr;
	return s;
}

} // namespace vfk8s
