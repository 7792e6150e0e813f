// SPDX-License-Identifier: MIT
/* The kubelet's services the plugin calls: Registration and PodResources. */
#include <grpcpp/grpcpp.h>

#include "client/k8s/proto/deviceplugin/v1beta1/api.grpc.pb.h"
#include "client/k8s/proto/podresources/v1/api.grpc.pb.h"
#include "client/k8s/service.h"

namespace vfk8s {

namespace {

constexpr std::chrono::seconds call_deadline{ 5 };

std::shared_ptr<grpc::Channel> unix_channel(const std::string &path)
{
	return grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials());
}

} // namespace

bool kubelet_register(const std::string &kubelet_socket, const std::string &endpoint,
		      const std::string &resource, std::string *why)
{
	auto stub = v1beta1::Registration::NewStub(unix_channel(kubelet_socket));
	grpc::ClientContext ctx;
	v1beta1::RegisterRequest req;
	v1beta1::Empty out;

	ctx.set_deadline(std::chrono::system_clock::now() + call_deadline);
	req.set_version(device_plugin_version);
	req.set_endpoint(endpoint);
	req.set_resource_name(resource);
	req.mutable_options()->set_pre_start_required(false);
	req.mutable_options()->set_get_preferred_allocation_available(true);
	grpc::Status s = stub->Register(&ctx, req, &out);
	if (!s.ok()) {
		*why = kubelet_socket + ": " + s.error_message();
		return false;
	}
	return true;
}

bool pod_resources_held(const std::string &socket, const std::string &prefix,
			std::map<std::string, std::string> *held, std::string *why)
{
	auto stub = v1::PodResourcesLister::NewStub(unix_channel(socket));
	grpc::ClientContext ctx;
	v1::ListPodResourcesRequest req;
	v1::ListPodResourcesResponse out;
	std::string want = prefix + "/";

	ctx.set_deadline(std::chrono::system_clock::now() + call_deadline);
	grpc::Status s = stub->List(&ctx, req, &out);
	if (!s.ok()) {
		*why = socket + ": " + s.error_message();
		return false;
	}
	held->clear();
	for (const auto &pod : out.pod_resources())
		for (const auto &c : pod.containers())
			for (const auto &d : c.devices())
				if (d.resource_name().compare(0, want.size(), want) == 0)
					for (const auto &id : d.device_ids())
						(*held)[id] = pod.namespace_() + "/" + pod.name();
	return true;
}

} // namespace vfk8s
