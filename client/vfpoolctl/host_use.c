/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>

#include "client/vfpoolctl/host_use.h"
#include "vfpool/vfpool.h"

static const char *const names[CTL_HOST_USE_NR] = {
	"macvtap", "vlan", "bridge_port", "bond_member", "address", "default_route", "up",
};
_Static_assert(VFPOOL_VF_USE_MACVTAP == 1u << 0 && VFPOOL_VF_USE_VLAN == 1u << 1 &&
	       VFPOOL_VF_USE_BRIDGE_PORT == 1u << 2 && VFPOOL_VF_USE_BOND_MEMBER == 1u << 3 &&
	       VFPOOL_VF_USE_ADDRESS == 1u << 4 && VFPOOL_VF_USE_DEFAULT_ROUTE == 1u << 5 &&
	       VFPOOL_VF_USE_UP == 1u << (CTL_HOST_USE_NR - 1), "one name per use, in bit order");

const char *ctl_host_use_name(unsigned i)
{
	return i < CTL_HOST_USE_NR ? names[i] : NULL;
}

struct json_object *ctl_host_use_json(unsigned host_use)
{
	struct json_object *a = json_object_new_array();

	for (unsigned i = 0; i < CTL_HOST_USE_NR; i++)
		if (host_use & (1u << i))
			json_object_array_add(a, json_object_new_string(names[i]));
	return a;
}
