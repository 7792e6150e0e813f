/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/macvtap.h>
#include <netlink/route/link/veth.h>

#include "tests/netns_links.h"

struct nl_sock *netns_enter(void)
{
	struct nl_sock *sk;

	if (geteuid() != 0)
		cr_skip_test("needs root: creates a network namespace and links");
	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("needs root: unshare(CLONE_NEWNET) failed: %s", strerror(errno));
	sk = nl_socket_alloc();
	cr_assert_not_null(sk);
	cr_assert_eq(nl_connect(sk, NETLINK_ROUTE), 0, "rtnetlink socket in the test namespace");
	return sk;
}

int netns_ifindex(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l;
	int ifindex, err = rtnl_link_get_kernel(sk, 0, name, &l);

	cr_assert_eq(err, 0, "looking up %s: %s", name, nl_geterror(err));
	ifindex = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return ifindex;
}

int netns_add_veth(struct nl_sock *sk, const char *name)
{
	char peer[IFNAMSIZ];
	int err;

	snprintf(peer, sizeof(peer), "%sp", name);
	err = rtnl_link_veth_add(sk, name, peer, getpid());
	cr_assert_eq(err, 0, "creating veth %s: %s", name, nl_geterror(err));
	return netns_ifindex(sk, name);
}

void netns_add_macvtap_passthru(struct nl_sock *sk, const char *name, const char *lower)
{
	struct rtnl_link *l = rtnl_link_macvtap_alloc();
	int err;

	cr_assert_not_null(l);
	rtnl_link_set_name(l, name);
	rtnl_link_set_link(l, netns_ifindex(sk, lower));
	cr_assert_eq(rtnl_link_macvtap_set_mode(l, MACVLAN_MODE_PASSTHRU), 0);
	err = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	cr_assert_eq(err, 0, "creating macvtap %s on %s: %s", name, lower, nl_geterror(err));
}

void netns_add_bridge(struct nl_sock *sk, const char *name)
{
	int err = rtnl_link_bridge_add(sk, name);

	cr_assert_eq(err, 0, "creating bridge %s: %s", name, nl_geterror(err));
}

void netns_enslave(struct nl_sock *sk, const char *bridge, const char *port)
{
	int err = rtnl_link_enslave_ifindex(sk, netns_ifindex(sk, bridge), netns_ifindex(sk, port));

	cr_assert_eq(err, 0, "enslaving %s to %s: %s", port, bridge, nl_geterror(err));
}

void netns_release(struct nl_sock *sk, const char *port)
{
	int err = rtnl_link_release_ifindex(sk, netns_ifindex(sk, port));

	cr_assert_eq(err, 0, "releasing %s from its bridge: %s", port, nl_geterror(err));
}

void netns_set_up(struct nl_sock *sk, const char *name, bool up)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int err;

	cr_assert_not_null(l);
	rtnl_link_set_name(l, name);
	if (up)
		rtnl_link_set_flags(l, IFF_UP);
	else
		rtnl_link_unset_flags(l, IFF_UP);
	err = rtnl_link_change(sk, l, l, 0);
	rtnl_link_put(l);
	cr_assert_eq(err, 0, "setting %s %s: %s", name, up ? "up" : "down", nl_geterror(err));
}

void netns_del_link(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int err;

	cr_assert_not_null(l);
	rtnl_link_set_name(l, name);
	err = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	cr_assert_eq(err, 0, "deleting %s: %s", name, nl_geterror(err));
}
