// SPDX-License-Identifier: MIT
#include "tests/k8s/fake_kubelet.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

namespace k8stest {

using grpc::ServerContext;
using grpc::Status;

class FakeKubelet::Registration final : public v1beta1::Registration::Service {
public:
	explicit Registration(FakeKubelet &k) : k_(k) {}

	Status Register(ServerContext *, const v1beta1::RegisterRequest *req,
			v1beta1::Empty *) override
	{
		/* the kubelet's own checks: the version it speaks, a socket name, a name */
		if (req->version() != "v1beta1")
			return Status(grpc::StatusCode::INVALID_ARGUMENT,
				      "unsupported version " + req->version());
		if (req->endpoint().empty() || req->endpoint().find('/') != std::string::npos ||
		    req->resource_name().find('/') == std::string::npos)
			return Status(grpc::StatusCode::INVALID_ARGUMENT, "bad endpoint or name");
		std::lock_guard<std::mutex> lk(k_.mu_);
		k_.regs_.push_back(*req);
		k_.cv_.notify_all();
		return Status::OK;
	}

private:
	FakeKubelet &k_;
};

class FakeKubelet::PodResources final : public v1::PodResourcesLister::Service {
public:
	explicit PodResources(FakeKubelet &k) : k_(k) {}

	Status List(ServerContext *, const v1::ListPodResourcesRequest *,
		    v1::ListPodResourcesResponse *out) override
	{
		std::lock_guard<std::mutex> lk(k_.mu_);

		k_.list_calls_++;
		k_.cv_.notify_all();
		if (k_.list_failing_)
			return Status(grpc::StatusCode::UNAVAILABLE, "kubelet busy");
		for (const auto &[key, pod] : k_.pods_)
			*out->add_pod_resources() = pod;
		return Status::OK;
	}

	Status GetAllocatableResources(ServerContext *, const v1::AllocatableResourcesRequest *,
				       v1::AllocatableResourcesResponse *) override
	{
		return Status::OK;
	}

private:
	FakeKubelet &k_;
};

FakeKubelet::FakeKubelet(std::string plugin_dir, std::string pod_resources_socket)
	: plugin_dir_(std::move(plugin_dir)), podres_path_(std::move(pod_resources_socket))
{
}

FakeKubelet::~FakeKubelet()
{
	stop();
	if (podres_server_) {
		podres_server_->Shutdown(std::chrono::system_clock::now());
		podres_server_->Wait();
	}
}

void FakeKubelet::start()
{
	grpc::ServerBuilder b;

	reg_service_ = std::make_unique<Registration>(*this);
	b.AddListeningPort("unix:" + plugin_dir_ + "/kubelet.sock",
			   grpc::InsecureServerCredentials());
	b.RegisterService(reg_service_.get());
	reg_server_ = b.BuildAndStart();
	if (!podres_server_) {
		grpc::ServerBuilder p;

		podres_service_ = std::make_unique<PodResources>(*this);
		p.AddListeningPort("unix:" + podres_path_, grpc::InsecureServerCredentials());
		p.RegisterService(podres_service_.get());
		podres_server_ = p.BuildAndStart();
	}
}

void FakeKubelet::stop()
{
	if (!reg_server_)
		return;
	reg_server_->Shutdown(std::chrono::system_clock::now());
	reg_server_->Wait();
	reg_server_.reset();
	unlink((plugin_dir_ + "/kubelet.sock").c_str());
}

void FakeKubelet::restart()
{
	DIR *d;

	stop();
	/* the kubelet's device manager starts by removing every socket it finds */
	d = opendir(plugin_dir_.c_str());
	if (d) {
		while (struct dirent *e = readdir(d)) {
			std::string path = plugin_dir_ + "/" + e->d_name;
			struct stat st;

			if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
				unlink(path.c_str());
		}
		closedir(d);
	}
	start();
}

std::vector<v1beta1::RegisterRequest> FakeKubelet::registrations()
{
	std::lock_guard<std::mutex> lk(mu_);

	return regs_;
}

size_t FakeKubelet::registration_count(const std::string &resource)
{
	std::lock_guard<std::mutex> lk(mu_);
	size_t n = 0;

	for (const auto &r : regs_)
		n += r.resource_name() == resource;
	return n;
}

bool FakeKubelet::wait_registration(const std::string &resource, size_t count,
				    v1beta1::RegisterRequest *ret)
{
	std::unique_lock<std::mutex> lk(mu_);
	const v1beta1::RegisterRequest *last = nullptr;
	bool ok = cv_.wait_for(lk, wait_bound, [&] {
		size_t n = 0;

		for (const auto &r : regs_) {
			if (r.resource_name() == resource) {
				n++;
				last = &r;
			}
		}
		return n >= count;
	});

	if (ok && ret)
		*ret = *last;
	return ok;
}

void FakeKubelet::set_pod(const std::string &ns, const std::string &name,
			  const std::string &resource, const std::vector<std::string> &ids)
{
	std::lock_guard<std::mutex> lk(mu_);
	v1::PodResources p;
	auto *c = p.add_containers();
	auto *d = c->add_devices();

	p.set_name(name);
	p.set_namespace_(ns);
	c->set_name("c0");
	d->set_resource_name(resource);
	for (const auto &id : ids)
		d->add_device_ids(id);
	pods_[ns + "/" + name] = p;
}

void FakeKubelet::remove_pod(const std::string &ns, const std::string &name)
{
	std::lock_guard<std::mutex> lk(mu_);

	pods_.erase(ns + "/" + name);
}

void FakeKubelet::set_list_failing(bool failing)
{
	std::lock_guard<std::mutex> lk(mu_);

	list_failing_ = failing;
}

unsigned FakeKubelet::list_calls()
{
	std::lock_guard<std::mutex> lk(mu_);

	return list_calls_;
}

bool FakeKubelet::wait_list_calls(unsigned at_least)
{
	std::unique_lock<std::mutex> lk(mu_);

	return cv_.wait_for(lk, wait_bound, [&] { return list_calls_ >= at_least; });
}

std::unique_ptr<v1beta1::DevicePlugin::Stub> FakeKubelet::dial(const std::string &endpoint)
{
	return v1beta1::DevicePlugin::NewStub(grpc::CreateChannel(
		"unix:" + plugin_dir_ + "/" + endpoint, grpc::InsecureChannelCredentials()));
}

DeviceWatch::DeviceWatch(v1beta1::DevicePlugin::Stub &stub)
	: th_([this, &stub] { run(stub); })
{
}

DeviceWatch::~DeviceWatch()
{
	ctx_.TryCancel();
	th_.join();
}

void DeviceWatch::run(v1beta1::DevicePlugin::Stub &stub)
{
	v1beta1::Empty e;
	auto reader = stub.ListAndWatch(&ctx_, e);
	v1beta1::ListAndWatchResponse m;

	while (reader->Read(&m)) {
		std::lock_guard<std::mutex> lk(mu_);

		latest_ = m;
		received_++;
		cv_.notify_all();
	}
	reader->Finish();
	std::lock_guard<std::mutex> lk(mu_);
	ended_ = true;
	cv_.notify_all();
}

bool DeviceWatch::wait(const std::function<bool(const v1beta1::ListAndWatchResponse &)> &pred,
		       v1beta1::ListAndWatchResponse *ret)
{
	std::unique_lock<std::mutex> lk(mu_);
	bool ok = cv_.wait_for(lk, wait_bound, [&] { return received_ > 0 && pred(latest_); });

	if (ret)
		*ret = latest_;
	return ok;
}

bool DeviceWatch::wait_ended()
{
	std::unique_lock<std::mutex> lk(mu_);

	return cv_.wait_for(lk, wait_bound, [&] { return ended_; });
}

unsigned DeviceWatch::lists_received()
{
	std::lock_guard<std::mutex> lk(mu_);

	return received_;
}

const v1beta1::Device *find_device(const v1beta1::ListAndWatchResponse &l, const std::string &id)
{
	for (const auto &d : l.devices())
		if (d.id() == id)
			return &d;
	return nullptr;
}

} // namespace k8stest
