/* SPDX-License-Identifier: MIT */
#include <linux/if_link.h>
#include <string.h>

#include "core/vfconfig/vf_config_want.h"

void vf_config_want(const struct policy *p, const char *network, const struct request *req,
		    struct vf_state *ret_want)
{
	const struct policy_network *net = p && network[0] ? policy_find_network(p, network) : NULL;
	struct vf_state w = { .fields = VF_F_SPOOFCHK | VF_F_TRUST | VF_F_LINK,
			      .spoofchk = true, .link_state = IFLA_VF_LINK_STATE_AUTO };

	if (req->flags & VFPOOL_REQ_F_MAC) {
		memcpy(w.mac, req->mac, sizeof(w.mac));
		w.fields |= VF_F_MAC;
	}
	if (net) {
		w.vlan = net->vlan;
		w.qos = 0;
		w.fields |= VF_F_VLAN;
		if (net->mtu) {
			w.mtu = net->mtu;
			w.fields |= VF_F_MTU;
		}
	}
	*ret_want = w;
}
