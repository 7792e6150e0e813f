/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink messages of VF configuration, built and parsed with libnl-route-3: the
 * RTM_SETLINK on the PF carrying IFLA_VFINFO_LIST (MAC, VLAN/QoS, spoofchk, trust, link
 * state, TX rates), the RTM_SETLINK on the VF netdev for its MTU, and the RTM_GETLINK with
 * RTEXT_FILTER_VF whose reply says how a VF is configured now. No I/O here.
 */
#ifndef VFPOOL_CORE_VF_CONFIG_MSG_H
#define VFPOOL_CORE_VF_CONFIG_MSG_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

struct nl_msg;

/* Which fields of a vf_state are meaningful. */
#define VF_F_MAC      (1u << 0)
#define VF_F_VLAN     (1u << 1) /* vlan and qos */
#define VF_F_SPOOFCHK (1u << 2)
#define VF_F_TRUST    (1u << 3)
#define VF_F_LINK     (1u << 4)
#define VF_F_RATE     (1u << 5) /* min and max tx rate */
#define VF_F_MTU      (1u << 6) /* of the VF netdev */
#define VF_F_PF_ALL   (VF_F_MAC | VF_F_VLAN | VF_F_SPOOFCHK | VF_F_TRUST | VF_F_LINK | VF_F_RATE)

/* A VF's configuration: what to apply, or what was read back. */
struct vf_state {
	uint32_t fields; /* VF_F_* */
	uint8_t mac[6];
	uint16_t vlan;
	uint8_t qos;
	bool spoofchk;
	bool trust;
	uint32_t link_state; /* IFLA_VF_LINK_STATE_AUTO/ENABLE/DISABLE */
	uint32_t min_tx_rate, max_tx_rate; /* Mbit/s, 0: unlimited */
	uint32_t mtu;
};

/* The state a VF nobody configured has: zero MAC, no VLAN, spoofchk on, not trusted, link
 * state auto, no rate limits. */
void vf_state_clean(struct vf_state *ret_state);

/* True when a and b differ in a field both carry. */
bool vf_state_differs(const struct vf_state *a, const struct vf_state *b);

/* RTM_SETLINK on the PF (pf_ifindex) setting s's PF-side fields of VF vf_index. A message
 * with NLM_F_REQUEST | NLM_F_ACK and no sequence number (the sender sets it); nlmsg_free()
 * it. -errno on failure (libnl's codes already translated). */
int vf_msg_build_pf(int pf_ifindex, uint32_t vf_index, const struct vf_state *s,
		    struct nl_msg **ret_msg);

/* RTM_SETLINK on a netdev setting its MTU. */
int vf_msg_build_mtu(int ifindex, uint32_t mtu, struct nl_msg **ret_msg);

/* RTM_GETLINK of one link with IFLA_EXT_MASK = RTEXT_FILTER_VF. */
int vf_msg_build_getlink(int ifindex, struct nl_msg **ret_msg);

/* Reads VF vf_index's configuration from a link message (an RTM_NEWLINK reply, or a
 * message built above): fields present in the message are set in ret_state->fields; the
 * MTU is the link's own IFLA_MTU. -ENOENT when the message has no entry for that VF,
 * -EBADMSG when it is malformed. */
int vf_msg_parse(const struct nlmsghdr *nlh, uint32_t vf_index, struct vf_state *ret_state);

/* A link message's own MTU (an RTM_NEWLINK of the VF netdev) as a state with only VF_F_MTU.
 * -ENOENT when it carries none, -EBADMSG when it is malformed. */
int vf_msg_parse_mtu(const struct nlmsghdr *nlh, struct vf_state *ret_state);

#endif
