/* SPDX-License-Identifier: MIT */
/*
 * What a new lease's VF is configured to. By default: spoofchk on, not trusted, link state
 * auto (a VM never sees frames that are not its own, nor forges them). From the request:
 * its MAC. From the policy: the network's VLAN (a defined network is always written, VLAN
 * 0 included, so a VF never keeps a tag nobody asked for) and its MTU (when the network
 * sets one); the request's profile (when it names one) may set trust, spoofchk and link
 * state otherwise, and TX rates (sent only when it sets one; the release restores what the
 * VF had). The policy's network has no priority field, so the VLAN QoS (802.1p) is always
 * 0; a profile's network-level QoS flag carries no rate.
 * Pure: no I/O, so what goes into the netlink message can be checked in isolation.
 */
#ifndef VFPOOL_CORE_VF_CONFIG_WANT_H
#define VFPOOL_CORE_VF_CONFIG_WANT_H

#include "core/model/policy.h"
#include "core/model/request.h"
#include "core/vfconfig/vf_config_msg.h"

/* network: the lease's resolved network (the VF record's, filled from the profile when the
 * request named one); p NULL or without that network: no VLAN, no MTU. */
void vf_config_want(const struct policy *p, const char *network, const struct request *req,
		    struct vf_state *ret_want);

#endif
