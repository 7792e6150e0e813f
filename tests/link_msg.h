/* SPDX-License-Identifier: MIT */
/* Builds rtnetlink link messages with libnl, as the kernel would send them, for tests that
 * feed link_watch or the probe's userspace filter without a kernel. */
#ifndef VFPOOL_TESTS_LINK_MSG_H
#define VFPOOL_TESTS_LINK_MSG_H

#include <netlink/msg.h>

struct link_msg_spec {
	int type;   /* RTM_NEWLINK (default when 0) or RTM_DELLINK */
	int family; /* AF_UNSPEC unless set */
	int ifindex;
	const char *name;
	const char *kind;       /* IFLA_INFO_KIND, or NULL */
	const char *slave_kind; /* IFLA_INFO_SLAVE_KIND, or NULL */
	int link;               /* IFLA_LINK, 0: absent */
	int master;             /* IFLA_MASTER, 0: absent */
};

/* A message per spec; NULL on allocation failure. nlmsg_free() it. */
struct nl_msg *link_msg_build(const struct link_msg_spec *spec);

#endif
