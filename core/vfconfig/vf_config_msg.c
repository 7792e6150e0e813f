/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>

#include "core/nl_errno.h"
#include "core/vfconfig/vf_config_msg.h"

void vf_state_clean(struct vf_state *s)
{
	memset(s, 0, sizeof(*s));
	s->fields = VF_F_PF_ALL;
	s->spoofchk = true;
	s->link_state = IFLA_VF_LINK_STATE_AUTO;
}

bool vf_state_differs(const struct vf_state *a, const struct vf_state *b)
{
	uint32_t both = a->fields & b->fields;

	if ((both & VF_F_MAC) && memcmp(a->mac, b->mac, sizeof(a->mac)) != 0)
		return true;
	if ((both & VF_F_VLAN) && (a->vlan != b->vlan || a->qos != b->qos))
		return true;
	if ((both & VF_F_SPOOFCHK) && a->spoofchk != b->spoofchk)
		return true;
	if ((both & VF_F_TRUST) && a->trust != b->trust)
		return true;
	if ((both & VF_F_LINK) && a->link_state != b->link_state)
		return true;
	if ((both & VF_F_RATE) &&
	    (a->min_tx_rate != b->min_tx_rate || a->max_tx_rate != b->max_tx_rate))
		return true;
	return (both & VF_F_MTU) && a->mtu != b->mtu;
}

static int set_vf_fields(struct rtnl_link_vf *vf, const struct vf_state *s)
{
	if (s->fields & VF_F_MAC) {
		struct nl_addr *a = nl_addr_build(AF_LLC, s->mac, sizeof(s->mac));

		if (!a)
			return -ENOMEM;
		rtnl_link_vf_set_addr(vf, a);
		nl_addr_put(a);
	}
	if (s->fields & VF_F_VLAN) {
		nl_vf_vlans_t *v;
		int r = rtnl_link_vf_vlan_alloc(&v, 1);

		if (r < 0)
			return nl_errno(r);
		v->vlans[0].vf_vlan = s->vlan;
		v->vlans[0].vf_vlan_qos = s->qos;
		v->vlans[0].vf_vlan_proto = ETH_P_8021Q;
		rtnl_link_vf_set_vlans(vf, v);
		rtnl_link_vf_vlan_put(v);
	}
	if (s->fields & VF_F_SPOOFCHK)
		rtnl_link_vf_set_spoofchk(vf, s->spoofchk);
	if (s->fields & VF_F_TRUST)
		rtnl_link_vf_set_trust(vf, s->trust);
	if (s->fields & VF_F_LINK)
		rtnl_link_vf_set_linkstate(vf, s->link_state);
	if (s->fields & VF_F_RATE) {
		struct nl_vf_rate rate = {
			.api = RTNL_LINK_VF_RATE_API_NEW,
			.min_tx_rate = s->min_tx_rate,
			.max_tx_rate = s->max_tx_rate,
		};

		rtnl_link_vf_set_rate(vf, &rate);
	}
	return 0;
}

/* A change request turned into RTM_SETLINK: libnl builds RTM_NEWLINK, which the kernel
 * would also take as a change, but SETLINK can never create a link by accident. */
static int finish_setlink(struct rtnl_link *orig, struct rtnl_link *chg, struct nl_msg **ret)
{
	struct nl_msg *msg = NULL;
	int r = nl_errno(rtnl_link_build_change_request(orig, chg, 0, &msg));

	if (r < 0)
		return r;
	nlmsg_hdr(msg)->nlmsg_type = RTM_SETLINK;
	nlmsg_hdr(msg)->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	*ret = msg;
	return 0;
}

int vf_msg_build_pf(int pf_ifindex, uint32_t vf_index, const struct vf_state *s,
		    struct nl_msg **ret_msg)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
	struct rtnl_link_vf *vf = rtnl_link_vf_alloc();
	int r = -ENOMEM;

	if (!orig || !chg || !vf)
		goto out;
	rtnl_link_set_ifindex(orig, pf_ifindex);
	rtnl_link_set_ifindex(chg, pf_ifindex);
	rtnl_link_vf_set_index(vf, vf_index);
	r = set_vf_fields(vf, s);
	if (r < 0)
		goto out;
	r = nl_errno(rtnl_link_vf_add(chg, vf));
	if (r < 0)
		goto out;
	r = finish_setlink(orig, chg, ret_msg);
out:
	if (vf)
		rtnl_link_vf_put(vf);
	rtnl_link_put(chg);
	rtnl_link_put(orig);
	return r;
}

int vf_msg_build_mtu(int ifindex, uint32_t mtu, struct nl_msg **ret_msg)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
	int r = -ENOMEM;

	if (orig && chg) {
		rtnl_link_set_ifindex(orig, ifindex);
		rtnl_link_set_ifindex(chg, ifindex);
		rtnl_link_set_mtu(chg, mtu);
		r = finish_setlink(orig, chg, ret_msg);
	}
	rtnl_link_put(chg);
	rtnl_link_put(orig);
	return r;
}

int vf_msg_build_getlink(int ifindex, struct nl_msg **ret_msg)
{
	struct nl_msg *msg = NULL;
	int r = nl_errno(rtnl_link_build_get_request(ifindex, NULL, &msg));

	if (r < 0)
		return r;
	r = nl_errno(nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_VF));
	if (r < 0) {
		nlmsg_free(msg);
		return r;
	}
	/* libnl adds NLM_F_REQUEST only when it sends; we send ourselves, and the kernel
	 * acknowledges a message without it as a no-op: no RTM_NEWLINK, no saved state */
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	*ret_msg = msg;
	return 0;
}

/* Every IFLA_VF_* struct starts with the VF number; a shorter attribute is malformed. */
static const void *vf_attr(struct nlattr *a, size_t size)
{
	return a && (size_t)nla_len(a) >= size ? nla_data(a) : NULL;
}

static int parse_vlan_list(struct nlattr *list, struct vf_state *s)
{
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, list, rem) {
		const struct ifla_vf_vlan_info *v;

		if (nla_type(a) != IFLA_VF_VLAN_INFO)
			continue;
		v = vf_attr(a, sizeof(*v));
		if (!v)
			return -EBADMSG;
		s->vlan = (uint16_t)v->vlan;
		s->qos = (uint8_t)v->qos;
		s->fields |= VF_F_VLAN;
		return 0; /* the first entry is the port VLAN */
	}
	return 0;
}

static int parse_vf_info(struct nlattr *info, uint32_t vf_index, struct vf_state *s)
{
	struct nlattr *t[IFLA_VF_MAX + 1];
	const struct ifla_vf_mac *mac;
	const struct ifla_vf_vlan *vlan;
	const struct ifla_vf_spoofchk *sc;
	const struct ifla_vf_trust *tr;
	const struct ifla_vf_link_state *ls;
	const struct ifla_vf_rate *rate;
	uint32_t idx = UINT32_MAX;

	if (nla_parse_nested(t, IFLA_VF_MAX, info, NULL) < 0)
		return -EBADMSG;
	mac = vf_attr(t[IFLA_VF_MAC], sizeof(*mac));
	vlan = vf_attr(t[IFLA_VF_VLAN], sizeof(*vlan));
	sc = vf_attr(t[IFLA_VF_SPOOFCHK], sizeof(*sc));
	tr = vf_attr(t[IFLA_VF_TRUST], sizeof(*tr));
	ls = vf_attr(t[IFLA_VF_LINK_STATE], sizeof(*ls));
	rate = vf_attr(t[IFLA_VF_RATE], sizeof(*rate));
	if (mac)
		idx = mac->vf;
	else if (vlan)
		idx = vlan->vf;
	else if (sc)
		idx = sc->vf;
	else if (tr)
		idx = tr->vf;
	else if (ls)
		idx = ls->vf;
	else if (rate)
		idx = rate->vf;
	if (idx != vf_index)
		return -ENOENT;
	if (mac) {
		memcpy(s->mac, mac->mac, sizeof(s->mac));
		s->fields |= VF_F_MAC;
	}
	if (vlan) {
		s->vlan = (uint16_t)vlan->vlan;
		s->qos = (uint8_t)vlan->qos;
		s->fields |= VF_F_VLAN;
	} else if (t[IFLA_VF_VLAN_LIST] && parse_vlan_list(t[IFLA_VF_VLAN_LIST], s) < 0) {
		return -EBADMSG;
	}
	/* the kernel reports (u32)-1 when the driver cannot tell */
	if (sc && sc->setting != (uint32_t)-1) {
		s->spoofchk = sc->setting != 0;
		s->fields |= VF_F_SPOOFCHK;
	}
	if (tr && tr->setting != (uint32_t)-1) {
		s->trust = tr->setting != 0;
		s->fields |= VF_F_TRUST;
	}
	if (ls) {
		s->link_state = ls->link_state;
		s->fields |= VF_F_LINK;
	}
	if (rate) {
		s->min_tx_rate = rate->min_tx_rate;
		s->max_tx_rate = rate->max_tx_rate;
		s->fields |= VF_F_RATE;
	}
	return 0;
}

int vf_msg_parse(const struct nlmsghdr *nlh, uint32_t vf_index, struct vf_state *ret_state)
{
	struct nlattr *tb[IFLA_MAX + 1];
	struct vf_state s = { 0 };
	struct nlattr *a;
	int rem, r = -ENOENT;

	if (nlmsg_parse((struct nlmsghdr *)nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0)
		return -EBADMSG;
	if (!tb[IFLA_VFINFO_LIST])
		return -ENOENT;
	nla_for_each_nested(a, tb[IFLA_VFINFO_LIST], rem) {
		if (nla_type(a) != IFLA_VF_INFO)
			continue;
		r = parse_vf_info(a, vf_index, &s);
		if (r != -ENOENT)
			break;
	}
	if (r < 0)
		return r;
	if (tb[IFLA_MTU] && nla_len(tb[IFLA_MTU]) >= 4) {
		s.mtu = nla_get_u32(tb[IFLA_MTU]);
		s.fields |= VF_F_MTU;
	}
	*ret_state = s;
	return 0;
}

int vf_msg_parse_mtu(const struct nlmsghdr *nlh, struct vf_state *ret_state)
{
	struct nlattr *tb[IFLA_MAX + 1];

	if (nlmsg_parse((struct nlmsghdr *)nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0)
		return -EBADMSG;
	if (!tb[IFLA_MTU] || nla_len(tb[IFLA_MTU]) < 4)
		return -ENOENT;
	*ret_state = (struct vf_state){ .fields = VF_F_MTU, .mtu = nla_get_u32(tb[IFLA_MTU]) };
	return 0;
}
