/* SPDX-License-Identifier: MIT */
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>

#include "tests/link_msg.h"

struct nl_msg *link_msg_build(const struct link_msg_spec *spec)
{
	struct ifinfomsg ifi = { .ifi_family = (unsigned char)spec->family,
				 .ifi_index = spec->ifindex };
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
