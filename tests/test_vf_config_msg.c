/* SPDX-License-Identifier: MIT */
/* VF configuration messages: each one built, then parsed back with libnl and compared
 * attribute by attribute with what was asked. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "core/vfconfig/vf_config_msg.h"

static struct vf_state full_config(void)
{
	struct vf_state s = {
		.fields = VF_F_PF_ALL,
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		.vlan = 100,
		.qos = 3,
		.spoofchk = false,
		.trust = true,
		.link_state = IFLA_VF_LINK_STATE_ENABLE,
		.min_tx_rate = 100,
		.max_tx_rate = 2500,
	};
	return s;
}

Test(vf_config_msg, pf_setlink_carries_every_vf_attribute)
{
	struct vf_state want = full_config(), got;
	struct nl_msg *msg;
	struct nlmsghdr *h;

	cr_assert_eq(vf_msg_build_pf(7, 5, &want, &msg), 0);
	h = nlmsg_hdr(msg);
	cr_assert_eq(h->nlmsg_type, RTM_SETLINK);
	cr_assert(h->nlmsg_flags & NLM_F_ACK);
	cr_assert_eq(((struct ifinfomsg *)nlmsg_data(h))->ifi_index, 7);
	cr_assert_eq(vf_msg_parse(h, 5, &got), 0);
	cr_assert_eq(got.fields, VF_F_PF_ALL);
	cr_assert_arr_eq(got.mac, want.mac, 6);
	cr_assert_eq(got.vlan, 100);
	cr_assert_eq(got.qos, 3);
	cr_assert_eq(got.spoofchk, false);
	cr_assert_eq(got.trust, true);
	cr_assert_eq(got.link_state, IFLA_VF_LINK_STATE_ENABLE);
	cr_assert_eq(got.min_tx_rate, 100u);
	cr_assert_eq(got.max_tx_rate, 2500u);
	cr_assert_not(vf_state_differs(&want, &got));
	nlmsg_free(msg);
}

Test(vf_config_msg, only_the_fields_asked_for_are_sent)
{
	struct vf_state want = { .fields = VF_F_VLAN, .vlan = 42 }, got;
	struct nl_msg *msg;

	cr_assert_eq(vf_msg_build_pf(3, 0, &want, &msg), 0);
	cr_assert_eq(vf_msg_parse(nlmsg_hdr(msg), 0, &got), 0);
	cr_assert_eq(got.fields, VF_F_VLAN);
	cr_assert_eq(got.vlan, 42);
	cr_assert_eq(got.qos, 0);
	nlmsg_free(msg);
}

Test(vf_config_msg, another_vf_index_is_not_found)
{
	struct vf_state want = full_config(), got;
	struct nl_msg *msg;

	cr_assert_eq(vf_msg_build_pf(3, 2, &want, &msg), 0);
	cr_assert_eq(vf_msg_parse(nlmsg_hdr(msg), 1, &got), -ENOENT);
	nlmsg_free(msg);
}

Test(vf_config_msg, restoring_clean_state_sends_the_clean_values)
{
	struct vf_state clean, got;
	struct nl_msg *msg;

	vf_state_clean(&clean);
	cr_assert_eq(vf_msg_build_pf(3, 1, &clean, &msg), 0);
	cr_assert_eq(vf_msg_parse(nlmsg_hdr(msg), 1, &got), 0);
	cr_assert_not(vf_state_differs(&clean, &got));
	cr_assert_eq(got.fields, VF_F_PF_ALL);
	cr_assert(got.spoofchk);
	cr_assert_eq(got.link_state, IFLA_VF_LINK_STATE_AUTO);
	nlmsg_free(msg);
}

Test(vf_config_msg, mtu_setlink_targets_the_vf_netdev)
{
	struct nlattr *tb[IFLA_MAX + 1];
	struct nl_msg *msg;
	struct nlmsghdr *h;

	cr_assert_eq(vf_msg_build_mtu(11, 9000, &msg), 0);
	h = nlmsg_hdr(msg);
	cr_assert_eq(h->nlmsg_type, RTM_SETLINK);
	cr_assert_eq(((struct ifinfomsg *)nlmsg_data(h))->ifi_index, 11);
	cr_assert_eq(nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL), 0);
	cr_assert_not_null(tb[IFLA_MTU]);
	cr_assert_eq(nla_get_u32(tb[IFLA_MTU]), 9000u);
	cr_assert_null(tb[IFLA_VFINFO_LIST]);
	nlmsg_free(msg);
}

Test(vf_config_msg, a_link_message_says_its_own_mtu_or_none)
{
	struct nl_msg *msg;
	struct vf_state st;

	cr_assert_eq(vf_msg_build_mtu(11, 1400, &msg), 0);
	cr_assert_eq(vf_msg_parse_mtu(nlmsg_hdr(msg), &st), 0);
	cr_assert_eq(st.fields, VF_F_MTU);
	cr_assert_eq(st.mtu, 1400u);
	nlmsg_free(msg);
	cr_assert_eq(vf_msg_build_getlink(11, &msg), 0);
	cr_assert_eq(vf_msg_parse_mtu(nlmsg_hdr(msg), &st), -ENOENT);
	nlmsg_free(msg);
}

Test(vf_config_msg, getlink_asks_for_vf_info)
{
	struct nlattr *tb[IFLA_MAX + 1];
	struct nl_msg *msg;
	struct nlmsghdr *h;

	cr_assert_eq(vf_msg_build_getlink(4, &msg), 0);
	h = nlmsg_hdr(msg);
	cr_assert_eq(h->nlmsg_type, RTM_GETLINK);
	cr_assert_eq(nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL), 0);
	cr_assert_not_null(tb[IFLA_EXT_MASK]);
	cr_assert(nla_get_u32(tb[IFLA_EXT_MASK]) & RTEXT_FILTER_VF);
	nlmsg_free(msg);
}

Test(vf_config_msg, a_differing_mac_is_a_difference)
{
	struct vf_state a = full_config(), b = full_config();

	b.mac[5] ^= 1;
	cr_assert(vf_state_differs(&a, &b));
	b.fields &= ~VF_F_MAC; /* not known on one side: not compared */
	cr_assert_not(vf_state_differs(&a, &b));
}

Test(vf_config_msg, getlink_is_a_request_the_kernel_answers)
{
	struct nl_msg *msg;

	/* without NLM_F_REQUEST the kernel only acknowledges: no state comes back */
	cr_assert_eq(vf_msg_build_getlink(3, &msg), 0);
	cr_assert(nlmsg_hdr(msg)->nlmsg_flags & NLM_F_REQUEST);
	cr_assert(nlmsg_hdr(msg)->nlmsg_flags & NLM_F_ACK);
	nlmsg_free(msg);
}
