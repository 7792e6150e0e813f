/* SPDX-License-Identifier: MIT */
/*
 * The gRPC side, behind an interface with no gRPC in it (so that only service.cc and
 * kubelet.cc pay for gRPC's headers): one DevicePlugin server per resource, and the two
 * kubelet services the plugin calls (Registration, PodResources).
 */
#ifndef VFPOOL_K8S_SERVICE_H
#define VFPOOL_K8S_SERVICE_H

#include <map>
#include <memory>
#include <string>

namespace vfk8s {

class Allocator;
class Hub;

/* The kubelet's device plugin API version this plugin speaks. */
inline constexpr const char *device_plugin_version = "v1beta1";

/* One resource's DevicePlugin service, listening on its own unix socket (the kubelet tells
 * resources apart only by endpoint). Stops when destroyed. */
class ResourceServer {
public:
	virtual ~ResourceServer() = default;
	virtual const std::string &resource() const = 0;
	virtual const std::string &socket_path() const = 0;
	/* Is the socket file the one this server listens on? (The kubelet deletes the
	 * plugins' sockets when it starts.) */
	virtual bool socket_is_ours() const = 0;
};

/* Listens on socket_path (a stale socket there is replaced). nullptr and why on failure. */
std::unique_ptr<ResourceServer> resource_server_start(const std::string &socket_path,
						      const std::string &resource, Hub &hub,
						      Allocator &alloc, std::string *why);

/* Registration.Register with the kubelet at kubelet_socket. endpoint: the plugin socket's
 * name, relative to the device-plugins directory. */
bool kubelet_register(const std::string &kubelet_socket, const std::string &endpoint,
		      const std::string &resource, std::string *why);

/* PodResourcesLister.List: held receives device ID -> "namespace/pod" for the devices of
 * every resource "<prefix>/..." that a container holds. */
bool pod_resources_held(const std::string &socket, const std::string &prefix,
			std::map<std::string, std::string> *held, std::string *why);

} // namespace vfk8s

#endif
