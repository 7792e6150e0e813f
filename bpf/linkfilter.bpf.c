// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket filter for vfpoold's NETLINK_ROUTE link-event socket.
 *
 * Passes only RTM_NEWLINK/RTM_DELLINK (family AF_UNSPEC) about a tracked VF ifindex, or about
 * a link whose IFLA_LINK or IFLA_MASTER is a tracked VF; drops everything else so a busy host's
 * unrelated link churn never wakes the daemon.
 *
 * Built on UAPI headers only: a socket filter needs no CO-RE relocation, so the object loads
 * without kernel BTF (absent under umockdev, where /sys is a testbed).
 *
 * AF_BRIDGE messages are dropped on purpose: the bridge driver reports port changes with them
 * (an RTM_DELLINK of family AF_BRIDGE means "port left the bridge", not "link deleted"), and the
 * same enslave/release is also announced by an AF_UNSPEC message that carries IFLA_MASTER.
 */
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf_helpers.h>

#include "linkfilter.h" /* same directory: the BPF build has no -I */

#define AF_UNSPEC 0 /* <sys/socket.h> is not for the BPF target */

/* rtnetlink notifications carry one message per skb; the bound is for safety, not batching. */
#define MAX_MSGS  4
/* rtnl_fill_ifinfo() puts IFLA_MASTER and IFLA_LINK within the first ~30 attributes. */
#define MAX_ATTRS 64

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LINKFILTER_MAX_TRACKED);
	__type(key, __u32);   /* VF ifindex */
	__type(value, __u32); /* VF slot */
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

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);

	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

/* 1 when the message at off (nlmsg_len len) concerns a tracked VF. */
static __always_inline int msg_matches(struct __sk_buff *skb, __u32 off, __u32 len)
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
			if (is_tracked(val))
				return 1;
		}
		pos += NLA_ALIGN(nla.nla_len);
	}
	/* Walk limit hit before the end: let userspace decide rather than lose an event. */
	return 1;
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
		if ((nlh.nlmsg_type == RTM_NEWLINK || nlh.nlmsg_type == RTM_DELLINK) &&
		    msg_matches(skb, off, nlh.nlmsg_len)) {
			count(LINKFILTER_CTR_PASSED);
			return skb->len;
		}
		off += NLMSG_ALIGN(nlh.nlmsg_len);
	}
	count(LINKFILTER_CTR_DROPPED);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
