/* SPDX-License-Identifier: MIT */
/*
 * GetPreferredAllocation: which of the kubelet's available devices a container should get.
 *
 * The devices the kubelet must include come first. The rest come from one NUMA node when
 * one can hold them all (the node of the must-include devices if there are any, else the
 * node with the most free devices), then from the nearest others. Within a node the pool's
 * placement decides: spread takes one VF from each PF in turn (the PF with the fewest of
 * this container's VFs so far, then the one with the most free), pack fills the PF with
 * the fewest free VFs first. Devices vfpool does not show free (a lease of this plugin
 * whose pod is gone, awaiting release) come after every free one; devices unknown to the
 * pool last, in the kubelet's order.
 */
#ifndef VFPOOL_K8S_RANK_H
#define VFPOOL_K8S_RANK_H

#include <string>
#include <vector>

#include "client/k8s/model.h"

namespace vfk8s {

/* Up to size device IDs, must_include first; never an ID outside available or
 * must_include, never one twice. */
std::vector<std::string> rank_preferred(const Pool &pool, const std::vector<std::string> &available,
					const std::vector<std::string> &must_include, int size);

} // namespace vfk8s

#endif
