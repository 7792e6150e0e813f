/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bonding.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/macvtap.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/route.h>

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

void netns_add_macvlan(struct nl_sock *sk, const char *name, const char *lower)
{
	struct rtnl_link *l = rtnl_link_macvlan_alloc();
	int err;

	cr_assert_not_null(l);
	rtnl_link_set_name(l, name);
	rtnl_link_set_link(l, netns_ifindex(sk, lower));
	err = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	cr_assert_eq(err, 0, "creating macvlan %s on %s: %s", name, lower, nl_geterror(err));
}

int netns_try_add_bond(struct nl_sock *sk, const char *name)
{
	return rtnl_link_bond_add(sk, name, NULL);
}

int netns_try_add_vlan(struct nl_sock *sk, const char *name, const char *lower, int id)
{
	struct rtnl_link *l = rtnl_link_vlan_alloc();
	int err;

	cr_assert_not_null(l);
	rtnl_link_set_name(l, name);
	rtnl_link_set_link(l, netns_ifindex(sk, lower));
	cr_assert_eq(rtnl_link_vlan_set_id(l, id), 0);
	err = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	return err;
}

static struct rtnl_addr *addr_of(struct nl_sock *sk, const char *dev, const char *cidr)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local;
	int err;

	cr_assert_not_null(a);
	err = nl_addr_parse(cidr, AF_UNSPEC, &local);
	cr_assert_eq(err, 0, "parsing %s: %s", cidr, nl_geterror(err));
	cr_assert_eq(rtnl_addr_set_local(a, local), 0);
	nl_addr_put(local);
	rtnl_addr_set_ifindex(a, netns_ifindex(sk, dev));
	if (rtnl_addr_get_family(a) == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD);
	return a;
}

void netns_add_addr(struct nl_sock *sk, const char *dev, const char *cidr)
{
	struct rtnl_addr *a = addr_of(sk, dev, cidr);
	int err = rtnl_addr_add(sk, a, NLM_F_CREATE | NLM_F_EXCL);

	rtnl_addr_put(a);
	cr_assert_eq(err, 0, "adding %s to %s: %s", cidr, dev, nl_geterror(err));
}

void netns_del_addr(struct nl_sock *sk, const char *dev, const char *cidr)
{
	struct rtnl_addr *a = addr_of(sk, dev, cidr);
	int err = rtnl_addr_delete(sk, a, 0);

	rtnl_addr_put(a);
	cr_assert_eq(err, 0, "deleting %s from %s: %s", cidr, dev, nl_geterror(err));
}

static struct rtnl_route *default_route(struct nl_sock *sk, int family, const char *dev)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst;
	int err;

	cr_assert(r && nh);
	err = nl_addr_parse("default", family, &dst);
	cr_assert_eq(err, 0, "the default destination: %s", nl_geterror(err));
	rtnl_route_set_family(r, (uint8_t)family);
	cr_assert_eq(rtnl_route_set_dst(r, dst), 0);
	nl_addr_put(dst);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_protocol(r, RTPROT_STATIC);
	rtnl_route_set_scope(r, RT_SCOPE_LINK); /* on-link: no gateway */
	rtnl_route_set_type(r, RTN_UNICAST);
	rtnl_route_nh_set_ifindex(nh, netns_ifindex(sk, dev));
	rtnl_route_add_nexthop(r, nh);
	return r;
}

static void route_request(struct nl_sock *sk, int family, const char *dev, int flags,
			  const char *what)
{
	struct rtnl_route *r = default_route(sk, family, dev);
	int err = flags < 0 ? rtnl_route_delete(sk, r, 0) : rtnl_route_add(sk, r, flags);

	rtnl_route_put(r);
	cr_assert_eq(err, 0, "%s the %s default route through %s: %s", what,
		     family == AF_INET ? "IPv4" : "IPv6", dev, nl_geterror(err));
}

void netns_add_default_route(struct nl_sock *sk, int family, const char *dev)
{
	route_request(sk, family, dev, NLM_F_CREATE | NLM_F_EXCL, "adding");
}

void netns_replace_default_route(struct nl_sock *sk, int family, const char *dev)
{
	route_request(sk, family, dev, NLM_F_CREATE | NLM_F_REPLACE, "replacing");
}

void netns_del_default_route(struct nl_sock *sk, int family, const char *dev)
{
	route_request(sk, family, dev, -1, "deleting");
}
