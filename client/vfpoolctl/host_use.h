/* SPDX-License-Identifier: MIT */
/* The names vfpoolctl gives the ways the host uses a VF (vfpool_vf_info.host_use): the
 * snapshot's JSON, `pf show` and the metrics' reason label use them. */
#ifndef VFPOOL_VFPOOLCTL_HOST_USE_H
#define VFPOOL_VFPOOLCTL_HOST_USE_H

struct json_object;

#define CTL_HOST_USE_NR 7

/* "macvtap", "vlan", "bridge_port", "bond_member", "address", "default_route", "up" for
 * bit i (1u << i); NULL beyond. */
const char *ctl_host_use_name(unsigned i);
/* ["bond_member","address"]: the uses set in host_use, as a JSON array. */
struct json_object *ctl_host_use_json(unsigned host_use);

#endif
