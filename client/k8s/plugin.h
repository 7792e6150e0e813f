/* SPDX-License-Identifier: MIT */
/*
 * The plugin process: follows vfpoold's state, serves one DevicePlugin per pool, registers
 * with the kubelet and again whenever the kubelet restarts, and reconciles leases against
 * the pods that hold them.
 *
 * One thread (run()) owns every event source, in one epoll: inotify on the device-plugins
 * directory (kubelet.sock created: the kubelet (re)started; a plugin socket deleted: the
 * kubelet cleared the directory), on vfpoold's run directory (its socket and state segment
 * appearing: the daemon is up) and on the PodResources socket's directory; a signalfd; a
 * timerfd for retries. vfpoold publishes no notification of state changes, so that thread
 * also tests the state segment's sequence (vfpool_snapshot_changed: one load from the shared
 * mapping) at an adaptive interval, 5 ms after a change up to 40 ms when quiet (and never
 * sooner than the last read took: a huge host's reads are paced by their cost): a change
 * reaches the kubelet well within 100 ms. A second thread reconciles; gRPC's threads serve.
 */
#ifndef VFPOOL_K8S_PLUGIN_H
#define VFPOOL_K8S_PLUGIN_H

#include <string>

namespace vfk8s {

struct Options {
	std::string config_path; /* "": one pool per PF driver */
	std::string run_dir = "/run/vfpool";
	std::string plugin_dir = "/var/lib/kubelet/device-plugins";
	std::string pod_resources = "/var/lib/kubelet/pod-resources/kubelet.sock";
	std::string devinfo_dir = "/var/run/k8s.cni.cncf.io/devinfo/dp";
	std::string vfio_dir = "/dev/vfio";
	unsigned reconcile_ms = 10000; /* PodResources is asked this often */
	unsigned grace_ms = 30000;     /* a lease no pod holds this long is released */
	unsigned timeout_ms = 5000;    /* the longest a request to vfpoold may take */
};

/* Runs until SIGTERM or SIGINT (which the caller has blocked in every thread). 0 on a
 * clean stop, 1 when the plugin cannot run (said on stderr). */
int plugin_run(const Options &opts);

} // namespace vfk8s

#endif
