/* SPDX-License-Identifier: MIT */
/* What a lease's VF is configured to: the network's VLAN and MTU taken from the policy,
 * checked in the netlink message that carries them (built, then parsed back with libnl). */
#include <criterion/criterion.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "core/model/policy.h"
#include "core/vfconfig/vf_config_want.h"

static void policy_with_red(struct policy *p, uint16_t vlan, uint32_t mtu)
{
	struct policy_network n = { .name = "red", .vlan = vlan, .mtu = mtu };
	char why[128];

	cr_assert_eq(policy_init(p, 1, NULL, NULL), 0);
	cr_assert_eq(policy_network_add(p, &n, why, sizeof(why)), 0, "%s", why);
}

static struct request alloc_req(void)
{
	struct request r = { .op = VFPOOL_OP_ALLOC, .flags = VFPOOL_REQ_F_MAC, .numa_node = -1,
			     .mac = { 0x52, 0x54, 0x00, 0, 0, 1 } };

	strcpy(r.vm_id, "vm1");
	strcpy(r.vnic_id, "nic0");
	return r;
}

Test(vf_config_want, the_network_vlan_is_in_the_pf_setlink)
{
	struct policy p;
	struct request r = alloc_req();
	struct vf_state want, got;
	struct nl_msg *msg;

	policy_with_red(&p, 100, 0);
	vf_config_want(&p, "red", &r, &want);
	cr_assert_eq(vf_msg_build_pf(7, 3, &want, &msg), 0);
	cr_assert_eq(vf_msg_parse(nlmsg_hdr(msg), 3, &got), 0);
	cr_assert(got.fields & VF_F_VLAN, "the message carries a VLAN");
	cr_assert_eq(got.vlan, 100);
	cr_assert_eq(got.qos, 0, "the network has no priority: QoS 0");
	cr_assert(got.fields & VF_F_MAC);
	cr_assert_eq(got.mac[5], 1, "the request's MAC travels with it");
	nlmsg_free(msg);
	policy_fini(&p);
}

Test(vf_config_want, an_untagged_network_clears_the_vlan_explicitly)
{
	struct policy p;
	struct request r = alloc_req();
	struct vf_state want, got;
	struct nl_msg *msg;

	policy_with_red(&p, 0, 0);
	vf_config_want(&p, "red", &r, &want);
	cr_assert_eq(vf_msg_build_pf(7, 0, &want, &msg), 0);
	cr_assert_eq(vf_msg_parse(nlmsg_hdr(msg), 0, &got), 0);
	cr_assert(got.fields & VF_F_VLAN, "VLAN 0 is written, not left as it was");
	cr_assert_eq(got.vlan, 0);
	nlmsg_free(msg);
	policy_fini(&p);
}

Test(vf_config_want, the_network_mtu_is_in_the_vf_netdev_setlink)
{
	struct policy p;
	struct request r = alloc_req();
	struct vf_state want;
	struct nlattr *tb[IFLA_MAX + 1];
	struct nl_msg *msg;

	policy_with_red(&p, 0, 1400);
	vf_config_want(&p, "red", &r, &want);
	cr_assert(want.fields & VF_F_MTU);
	cr_assert_eq(want.mtu, 1400u);
	cr_assert_eq(vf_msg_build_mtu(11, want.mtu, &msg), 0);
	cr_assert_eq(nlmsg_parse(nlmsg_hdr(msg), sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL), 0);
	cr_assert_not_null(tb[IFLA_MTU]);
	cr_assert_eq(nla_get_u32(tb[IFLA_MTU]), 1400u);
	nlmsg_free(msg);
	policy_fini(&p);
}

Test(vf_config_want, a_network_without_mtu_leaves_the_mtu_alone)
{
	struct policy p;
	struct request r = alloc_req();
	struct vf_state want;

	policy_with_red(&p, 10, 0);
	vf_config_want(&p, "red", &r, &want);
	cr_assert_not(want.fields & VF_F_MTU);
	policy_fini(&p);
}

Test(vf_config_want, without_a_policy_no_vlan_or_mtu_is_set)
{
	struct request r = alloc_req();
	struct vf_state want;

	vf_config_want(NULL, "red", &r, &want);
	cr_assert_not(want.fields & (VF_F_VLAN | VF_F_MTU));
	cr_assert(want.fields & VF_F_SPOOFCHK);
	cr_assert(want.spoofchk);
}

Test(vf_config_want, a_network_the_policy_does_not_define_sets_no_vlan)
{
	struct policy p;
	struct request r = alloc_req();
	struct vf_state want;

	policy_with_red(&p, 10, 1400);
	vf_config_want(&p, "blue", &r, &want);
	cr_assert_not(want.fields & (VF_F_VLAN | VF_F_MTU));
	policy_fini(&p);
}

/* issue 14: a profile's VF settings beyond MAC/VLAN/MTU, in the PF's RTM_SETLINK as the
 * kernel would read them (IFLA_VF_TRUST, IFLA_VF_SPOOFCHK, IFLA_VF_LINK_STATE,
 * IFLA_VF_RATE) */
static struct request profile_req(struct policy *p, const struct policy_profile *pr)
{
	struct request r = alloc_req();
	char why[128];

	cr_assert_eq(policy_profile_add(p, pr, why, sizeof(why)), 0, "%s", why);
	r.flags |= VFPOOL_REQ_F_PROFILE;
	snprintf(r.profile, sizeof(r.profile), "%s", pr->name);
	return r;
}

Test(vf_config_want, a_profiles_vf_settings_are_in_the_pf_setlink)
{
	struct policy p;
	struct policy_profile pr = { .name = "fast", .network = "red",
				     .passthrough = POLICY_PT_MANDATORY,
				     .trust = POLICY_SWITCH_ON, .spoofchk = POLICY_SWITCH_OFF,
				     .link_state = POLICY_LINK_ENABLE, .max_tx_rate = 10000,
				     .min_tx_rate = 2500 };
	struct vf_state want, got;
	struct nl_msg *msg;

	policy_with_red(&p, 100, 0);
	struct request r = profile_req(&p, &pr);
	vf_config_want(&p, "red", &r, &want);
	cr_assert_eq(vf_msg_build_pf(7, 2, &want, &msg), 0);
	cr_assert_eq(vf_msg_parse(nlmsg_hdr(msg), 2, &got), 0);
	cr_assert(got.fields & VF_F_TRUST);
	cr_assert(got.trust, "trust on");
	cr_assert(got.fields & VF_F_SPOOFCHK);
	cr_assert_not(got.spoofchk, "spoofchk off");
	cr_assert(got.fields & VF_F_LINK);
	cr_assert_eq(got.link_state, (uint32_t)IFLA_VF_LINK_STATE_ENABLE);
	cr_assert(got.fields & VF_F_RATE);
	cr_assert_eq(got.max_tx_rate, 10000u);
	cr_assert_eq(got.min_tx_rate, 2500u);
	cr_assert_eq(got.vlan, 100, "the network's VLAN still");
	nlmsg_free(msg);

	pr = (struct policy_profile){ .name = "down", .network = "red",
				      .passthrough = POLICY_PT_MANDATORY,
				      .link_state = POLICY_LINK_DISABLE };
	r = profile_req(&p, &pr);
	vf_config_want(&p, "red", &r, &want);
	cr_assert_eq(vf_msg_build_pf(7, 2, &want, &msg), 0);
	cr_assert_eq(vf_msg_parse(nlmsg_hdr(msg), 2, &got), 0);
	cr_assert_eq(got.link_state, (uint32_t)IFLA_VF_LINK_STATE_DISABLE);
	cr_assert(got.spoofchk && !got.trust, "the rest at the daemon's defaults");
	nlmsg_free(msg);
	policy_fini(&p);
}

Test(vf_config_want, a_profile_without_vf_settings_sends_the_defaults_and_no_rate)
{
	struct policy p;
	struct policy_profile pr = { .name = "plain", .network = "red",
				     .passthrough = POLICY_PT_MANDATORY };
	struct vf_state want, got;
	struct nl_msg *msg;

	policy_with_red(&p, 0, 0);
	struct request r = profile_req(&p, &pr);
	vf_config_want(&p, "red", &r, &want);
	cr_assert_eq(vf_msg_build_pf(7, 0, &want, &msg), 0);
	cr_assert_eq(vf_msg_parse(nlmsg_hdr(msg), 0, &got), 0);
	cr_assert(got.spoofchk);
	cr_assert_not(got.trust);
	cr_assert_eq(got.link_state, (uint32_t)IFLA_VF_LINK_STATE_AUTO);
	cr_assert_not(got.fields & VF_F_RATE, "no rate asked: the VF's own is left alone");
	nlmsg_free(msg);
	policy_fini(&p);
}
