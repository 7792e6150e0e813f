/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>

#include "tests/link_msg.h"

struct nl_msg *link_msg_build(const struct link_msg_spec *spec)
{
	struct ifinfomsg ifi = { .ifi_family = (unsigned char)spec->family,
				 .ifi_index = spec->ifindex, .ifi_flags = spec->flags };
	struct nl_msg *m = nlmsg_alloc_simple(spec->type ? spec->type : RTM_NEWLINK, 0);
	struct nlattr *info;

	if (!m)
		return NULL;
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
		goto fail;
	if (spec->name && nla_put_string(m, IFLA_IFNAME, spec->name) < 0)
		goto fail;
	if (spec->master && nla_put_u32(m, IFLA_MASTER, (uint32_t)spec->master) < 0)
		goto fail;
	if (spec->link && nla_put_u32(m, IFLA_LINK, (uint32_t)spec->link) < 0)
		goto fail;
	if (spec->kind || spec->slave_kind) {
		info = nla_nest_start(m, IFLA_LINKINFO);
		if (!info)
			goto fail;
		if (spec->kind && nla_put_string(m, IFLA_INFO_KIND, spec->kind) < 0)
			goto fail;
		if (spec->slave_kind && nla_put_string(m, IFLA_INFO_SLAVE_KIND, spec->slave_kind) < 0)
			goto fail;
		nla_nest_end(m, info);
	}
	return m;
fail:
	nlmsg_free(m);
	return NULL;
}

/* The address's family and bytes; 0 when it is neither IPv4 nor IPv6. */
static int parse_ip(const char *s, unsigned char bytes[16], int *ret_len)
{
	if (inet_pton(AF_INET, s, bytes) == 1) {
		*ret_len = 4;
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, bytes) == 1) {
		*ret_len = 16;
		return AF_INET6;
	}
	return 0;
}

struct nl_msg *addr_msg_build(const struct addr_msg_spec *spec)
{
	unsigned char bytes[16];
	int len, family = parse_ip(spec->addr, bytes, &len);
	struct ifaddrmsg ifa = { .ifa_family = (unsigned char)family,
				 .ifa_prefixlen = (unsigned char)spec->prefixlen,
				 .ifa_index = (unsigned)spec->ifindex };
	struct nl_msg *m;

	if (!family)
		return NULL;
	m = nlmsg_alloc_simple(spec->type ? spec->type : RTM_NEWADDR, 0);
	if (!m)
		return NULL;
	/* as the kernel: IPv4 says IFA_LOCAL and IFA_ADDRESS, IPv6 only IFA_ADDRESS */
	if (nlmsg_append(m, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0 ||
	    nla_put(m, IFA_ADDRESS, len, bytes) < 0 ||
	    (family == AF_INET && nla_put(m, IFA_LOCAL, len, bytes) < 0)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

struct nl_msg *route_msg_build(const struct route_msg_spec *spec)
{
	int family = spec->family ? spec->family : AF_INET, table = spec->table ? spec->table :
									     RT_TABLE_MAIN;
	struct rtmsg rtm = { .rtm_family = (unsigned char)family,
			     .rtm_dst_len = (unsigned char)spec->dst_len,
			     .rtm_table = (unsigned char)(table < 256 ? table : RT_TABLE_COMPAT),
			     .rtm_protocol = RTPROT_STATIC, .rtm_scope = RT_SCOPE_UNIVERSE,
			     .rtm_type = RTN_UNICAST };
	unsigned char gw[16], dst[16] = { 0 };
	int gw_len = 0, n = 0;
	struct nl_msg *m = nlmsg_alloc_simple(spec->type ? spec->type : RTM_NEWROUTE,
					      (int)spec->nlmsg_flags);

	if (!m)
		return NULL;
	while (n < 4 && spec->oif[n])
		n++;
	if (spec->gateway && parse_ip(spec->gateway, gw, &gw_len) != family)
		goto fail;
	if (nlmsg_append(m, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, RTA_TABLE, (uint32_t)table) < 0)
		goto fail;
	if (spec->dst_len &&
	    nla_put(m, RTA_DST, family == AF_INET ? 4 : 16, dst) < 0)
		goto fail;
	if (spec->priority && nla_put_u32(m, RTA_PRIORITY, spec->priority) < 0)
		goto fail;
	if (n == 1) {
		if (nla_put_u32(m, RTA_OIF, (uint32_t)spec->oif[0]) < 0 ||
		    (gw_len && nla_put(m, RTA_GATEWAY, gw_len, gw) < 0))
			goto fail;
	} else if (n > 1) {
		/* struct rtnexthop then its attributes, per hop */
		unsigned char buf[4 * (sizeof(struct rtnexthop) + 64)];
		size_t off = 0;

		for (int i = 0; i < n; i++) {
			struct rtnexthop *nh = (struct rtnexthop *)(buf + off);
			size_t len = RTNH_LENGTH(0);

			*nh = (struct rtnexthop){ .rtnh_ifindex = spec->oif[i] };
			if (gw_len) {
				struct rtattr *a = (struct rtattr *)(buf + off + len);

				a->rta_type = RTA_GATEWAY;
				a->rta_len = (unsigned short)RTA_LENGTH(gw_len);
				memcpy(RTA_DATA(a), gw, (size_t)gw_len);
				len += RTA_ALIGN(a->rta_len);
			}
			nh->rtnh_len = (unsigned short)len;
			off += RTNH_ALIGN(len);
		}
		if (nla_put(m, RTA_MULTIPATH, (int)off, buf) < 0)
			goto fail;
	}
	return m;
fail:
	nlmsg_free(m);
	return NULL;
}
