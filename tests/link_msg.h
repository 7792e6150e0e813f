/* SPDX-License-Identifier: MIT */
/* Builds rtnetlink link, address and route messages with libnl, as the kernel would send
 * them, for tests that feed link_watch or the probe's userspace filter without a kernel. */
#ifndef VFPOOL_TESTS_LINK_MSG_H
#define VFPOOL_TESTS_LINK_MSG_H

#include <netlink/msg.h>

struct link_msg_spec {
	int type;   /* RTM_NEWLINK (default when 0) or RTM_DELLINK */
	int family; /* AF_UNSPEC unless set */
	int ifindex;
	unsigned flags;         /* ifi_flags (IFF_UP) */
	const char *name;
	const char *kind;       /* IFLA_INFO_KIND, or NULL */
	const char *slave_kind; /* IFLA_INFO_SLAVE_KIND, or NULL */
	int link;               /* IFLA_LINK, 0: absent */
	int master;             /* IFLA_MASTER, 0: absent */
};

/* A message per spec; NULL on allocation failure. nlmsg_free() it. */
struct nl_msg *link_msg_build(const struct link_msg_spec *spec);

struct addr_msg_spec {
	int type;           /* RTM_NEWADDR (default when 0) or RTM_DELADDR */
	int ifindex;
	const char *addr;   /* "192.0.2.1" or "2001:db8::1": its family is the message's */
	int prefixlen;
};

struct nl_msg *addr_msg_build(const struct addr_msg_spec *spec);

struct route_msg_spec {
	int type;           /* RTM_NEWROUTE (default when 0) or RTM_DELROUTE */
	unsigned nlmsg_flags; /* e.g. NLM_F_REPLACE */
	int family;         /* AF_INET (default when 0) or AF_INET6 */
	int dst_len;        /* 0: a default route */
	int table;          /* RT_TABLE_MAIN when 0 */
	unsigned priority;
	const char *gateway; /* NULL: none */
	int oif[4];         /* one: RTA_OIF; more: RTA_MULTIPATH; 0 ends the list */
};

struct nl_msg *route_msg_build(const struct route_msg_spec *spec);

#endif
