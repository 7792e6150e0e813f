/* SPDX-License-Identifier: MIT */
/*
 * A kubelet for the tests, on the same generated code as the plugin: the Registration
 * service on <plugin dir>/kubelet.sock, the PodResources service on its own socket, and a
 * DevicePlugin client for what the plugin registered. Like the real kubelet, a restart
 * removes every socket in the device-plugins directory before it listens again, and a
 * registration with another API version is refused.
 */
#ifndef VFPOOL_TESTS_K8S_FAKE_KUBELET_H
#define VFPOOL_TESTS_K8S_FAKE_KUBELET_H

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "client/k8s/proto/deviceplugin/v1beta1/api.grpc.pb.h"
#include "client/k8s/proto/podresources/v1/api.grpc.pb.h"

namespace k8stest {

/* Every wait gives up after this long: a bound on a broken plugin, not a timing. */
constexpr std::chrono::seconds wait_bound{ 20 };

class FakeKubelet {
public:
	FakeKubelet(std::string plugin_dir, std::string pod_resources_socket);
	~FakeKubelet();

	void start();
	/* Stops, removes every socket in the device-plugins directory, starts again. */
	void restart();
	void stop();

	/* Registrations received, in order. */
	std::vector<v1beta1::RegisterRequest> registrations();
	size_t registration_count(const std::string &resource);
	/* Waits until resource has at least count registrations; the last one. */
	bool wait_registration(const std::string &resource, size_t count,
			       v1beta1::RegisterRequest *ret = nullptr);

	/* PodResources: container "c0" of pod namespace/name holds ids of resource. */
	void set_pod(const std::string &ns, const std::string &name, const std::string &resource,
		     const std::vector<std::string> &ids);
	void remove_pod(const std::string &ns, const std::string &name);
	/* List fails (UNAVAILABLE) while set. */
	void set_list_failing(bool failing);
	unsigned list_calls();
	bool wait_list_calls(unsigned at_least);

	/* A DevicePlugin client on <plugin dir>/<endpoint>. */
	std::unique_ptr<v1beta1::DevicePlugin::Stub> dial(const std::string &endpoint);
	const std::string &plugin_dir() const { return plugin_dir_; }

private:
	class Registration;
	class PodResources;

	std::string plugin_dir_, podres_path_;
	std::mutex mu_;
	std::condition_variable cv_;
	std::vector<v1beta1::RegisterRequest> regs_;
	std::map<std::string, v1::PodResources> pods_; /* by "namespace/name" */
	bool list_failing_ = false;
	unsigned list_calls_ = 0;
	std::unique_ptr<Registration> reg_service_;
	std::unique_ptr<PodResources> podres_service_;
	std::unique_ptr<grpc::Server> reg_server_, podres_server_;
};

/* A ListAndWatch stream read by a thread of its own. */
class DeviceWatch {
public:
	explicit DeviceWatch(v1beta1::DevicePlugin::Stub &stub);
	~DeviceWatch();

	/* Waits until the latest list satisfies pred; copies it to ret. */
	bool wait(const std::function<bool(const v1beta1::ListAndWatchResponse &)> &pred,
		  v1beta1::ListAndWatchResponse *ret = nullptr);
	/* Waits until the stream has ended (the plugin closed it). */
	bool wait_ended();
	unsigned lists_received();

private:
	void run(v1beta1::DevicePlugin::Stub &stub);

	grpc::ClientContext ctx_;
	std::mutex mu_;
	std::condition_variable cv_;
	v1beta1::ListAndWatchResponse latest_;
	unsigned received_ = 0;
	bool ended_ = false;
	std::thread th_;
};

/* The device of a list by ID; nullptr if absent. */
const v1beta1::Device *find_device(const v1beta1::ListAndWatchResponse &l, const std::string &id);

} // namespace k8stest

#endif
