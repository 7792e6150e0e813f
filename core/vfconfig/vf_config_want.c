/* SPDX-License-Identifier: MIT */
#include <linux/if_link.h>
#include <string.h>

#include "core/vfconfig/vf_config_want.h"

void vf_config_want(const struct policy *p, const char *network, const struct request *req,
		    struct vf_state *ret_want)
{
	const struct policy_network *net = p && network[0] ? policy_find_network(p, network) : NULL;
	const struct policy_profile *pr = p && (req->flags & VFPOOL_REQ_F_PROFILE)
						  ? policy_find_profile(p, req->profile) : NULL;
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
	if (pr) {
		if (pr->trust != POLICY_SWITCH_DEFAULT)
			w.trust = pr->trust == POLICY_SWITCH_ON;
		if (pr->spoofchk != POLICY_SWITCH_DEFAULT)
			w.spoofchk = pr->spoofchk == POLICY_SWITCH_ON;
		w.link_state = pr->link_state == POLICY_LINK_ENABLE ? IFLA_VF_LINK_STATE_ENABLE
			     : pr->link_state == POLICY_LINK_DISABLE ? IFLA_VF_LINK_STATE_DISABLE
								     : IFLA_VF_LINK_STATE_AUTO;
		/* a rate only when the profile sets one: the restore puts back the VF's own */
		if (pr->max_tx_rate || pr->min_tx_rate) {
			w.max_tx_rate = pr->max_tx_rate;
			w.min_tx_rate = pr->min_tx_rate;
			w.fields |= VF_F_RATE;
		}
	}
	*ret_want = w;
}
