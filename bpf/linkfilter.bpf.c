// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket filter for vfpoold's NETLINK_ROUTE event socket (groups: link, IPv4/IPv6 addresses,
 * IPv4/IPv6 routes). Passes only:
 *  - RTM_NEWLINK/RTM_DELLINK (family AF_UNSPEC) about a tracked ifindex (a VF, or a device
 *    stacked over one), or about a link whose IFLA_LINK is one, or whose IFLA_MASTER is a VF;
 *  - RTM_NEWADDR/RTM_DELADDR of an address on a tracked VF;
 *  - RTM_NEWROUTE/RTM_DELROUTE of an IPv4 or IPv6 default route (0.0.0.0/0, ::/0, no source
 *    prefix) of the main table, whatever its device: a route replaced away from a VF is
 *    announced only for the device it goes to, and default routes change rarely;
 * and drops everything else so a busy host's unrelated churn never wakes the daemon.
 * bpf/probe.c decides the same in C (probe_pass_userspace) when this cannot load.
 *
 * Built on UAPI headers only: a socket filter needs no CO-RE relocation, so the object loads
 * without kernel BTF (absent under umockdev, where /sys is a testbed).
 *
 * AF_BRIDGE messages are dropped on purpose: the bridge driver reports port changes with them
 * (an RTM_DELLINK of family AF_BRIDGE means "port left the bridge", not "link deleted"), and the
 * same enslave/release is also announced by an AF_UNSPEC message that carries IFLA_MASTER.
 */
#include <linux/bpf.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf_helpers.h>

#include "linkfilter.h" /* same directory: the BPF build has no -I */

#define AF_UNSPEC 0 /* <sys/socket.h> is not for the BPF target */
#define AF_INET   2
#define AF_INET6  10

/* rtnetlink notifications carry one message per skb; the bound is for safety, not batching. */
#define MAX_MSGS  4
/* rtnl_fill_ifinfo() puts IFLA_MASTER and IFLA_LINK within the first ~30 attributes. */
#define MAX_ATTRS 64

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LINKFILTER_MAX_TRACKED);
	__type(key, __u32);   /* ifindex */
	__type(value, __u32); /* a VF's slot, or LINKFILTER_RELATED */
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LINKFILTER_CTR_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline int is_tracked(__u32 ifindex)
{
	return ifindex && bpf_map_lookup_elem(&tracked, &ifindex) != NULL;
}

static __always_inline int is_vf(__u32 ifindex)
{
	__u32 *v = ifindex ? bpf_map_lookup_elem(&tracked, &ifindex) : NULL;

	return v && *v != LINKFILTER_RELATED;
}

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);

	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

/* 1 when the link message at off (nlmsg_len len) concerns a tracked device. */
static __always_inline int link_matches(struct __sk_buff *skb, __u32 off, __u32 len)
{
	struct ifinfomsg ifi;
	__u32 pos, end = off + len;

	if (len < NLMSG_HDRLEN + sizeof(ifi))
		return 0;
	if (bpf_skb_load_bytes(skb, off + NLMSG_HDRLEN, &ifi, sizeof(ifi)))
		return 0;
	if (ifi.ifi_family != AF_UNSPEC)
		return 0;
	if (is_tracked((__u32)ifi.ifi_index))
		return 1;

	pos = off + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifi));
	for (int i = 0; i < MAX_ATTRS; i++) {
		struct nlattr nla;
		__u32 val;
		__u16 type;

		if (pos + NLA_HDRLEN > end)
			return 0;
		if (bpf_skb_load_bytes(skb, pos, &nla, sizeof(nla)))
			return 0;
		if (nla.nla_len < NLA_HDRLEN)
			return 0;
		type = nla.nla_type & NLA_TYPE_MASK;
		if ((type == IFLA_LINK || type == IFLA_MASTER) && nla.nla_len >= NLA_HDRLEN + 4) {
			if (bpf_skb_load_bytes(skb, pos + NLA_HDRLEN, &val, sizeof(val)))
				return 0;
			if (type == IFLA_LINK ? is_tracked(val) : is_vf(val))
				return 1;
		}
		pos += NLA_ALIGN(nla.nla_len);
	}
	/* Walk limit hit before the end: let userspace decide rather than lose an event. */
	return 1;
}

/* 1 when the address message at off is about an address on a tracked VF. */
static __always_inline int addr_matches(struct __sk_buff *skb, __u32 off, __u32 len)
{
	struct ifaddrmsg ifa;

	if (len < NLMSG_HDRLEN + sizeof(ifa))
		return 0;
	if (bpf_skb_load_bytes(skb, off + NLMSG_HDRLEN, &ifa, sizeof(ifa)))
		return 0;
	return is_vf(ifa.ifa_index);
}

/* 1 when the route message at off is about a default route of the main table. */
static __always_inline int route_matches(struct __sk_buff *skb, __u32 off, __u32 len)
{
	struct rtmsg rtm;

	if (len < NLMSG_HDRLEN + sizeof(rtm))
		return 0;
	if (bpf_skb_load_bytes(skb, off + NLMSG_HDRLEN, &rtm, sizeof(rtm)))
		return 0;
	/* the kernel fills rtm_table with the table id below 256, RT_TABLE_COMPAT above */
	return (rtm.rtm_family == AF_INET || rtm.rtm_family == AF_INET6) &&
	       rtm.rtm_dst_len == 0 && rtm.rtm_src_len == 0 && rtm.rtm_table == RT_TABLE_MAIN;
}

static __always_inline int msg_matches(struct __sk_buff *skb, __u16 type, __u32 off, __u32 len)
{
	switch (type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return link_matches(skb, off, len);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return addr_matches(skb, off, len);
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		return route_matches(skb, off, len);
	default:
		return 0;
	}
}

SEC("socket")
int linkfilter(struct __sk_buff *skb)
{
	__u32 off = 0;

	for (int m = 0; m < MAX_MSGS; m++) {
		struct nlmsghdr nlh;

		if (off + NLMSG_HDRLEN > skb->len)
			break;
		if (bpf_skb_load_bytes(skb, off, &nlh, sizeof(nlh)))
			break;
		if (nlh.nlmsg_len < NLMSG_HDRLEN || nlh.nlmsg_len > skb->len - off)
			break;
		if (msg_matches(skb, nlh.nlmsg_type, off, nlh.nlmsg_len)) {
			count(LINKFILTER_CTR_PASSED);
			return skb->len;
		}
		off += NLMSG_ALIGN(nlh.nlmsg_len);
	}
	count(LINKFILTER_CTR_DROPPED);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
