/* SPDX-License-Identifier: MIT */
/*
 * link_watch's decisions on decoded messages: link, address and route messages built with
 * libnl (as the kernel sends them) and fed to link_watch_feed(). No kernel state involved,
 * so the VLAN and bond cases, which this host's kernel cannot produce, are covered here (and
 * on a real kernel by the guest harness, tests/kernel: netprobe/vlan_on_vf_*,
 * netprobe/bond_member_vf_*).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>

#include "core/probe/link_watch.h"
#include "core/nl_errno.h"
#include "tests/link_msg.h"

/* Ifindexes far above anything on the test host, so bridge names cannot resolve by accident. */
#define VF      700001
#define VF2     700002
#define UPPER   700101
#define UPPER2  700102
#define BRIDGE  700201
#define BOND    700202
#define TEAM    700203
#define VRF     700204
#define ETH0    700301 /* a host NIC that is no VF */
#define SLOT    3u

struct seen {
	unsigned n;
	struct {
		uint32_t slot;
		bool busy;
		uint32_t uses;
		char reason[LINK_WATCH_REASON_MAX];
	} ev[16];
};

static void record(void *userdata, uint32_t slot, const struct link_watch_verdict *v)
{
	struct seen *s = userdata;

	cr_assert_lt(s->n, 16, "more transitions than any test expects");
	s->ev[s->n].slot = slot;
	s->ev[s->n].busy = v->busy;
	s->ev[s->n].uses = v->uses;
	snprintf(s->ev[s->n].reason, sizeof(s->ev[s->n].reason), "%s", v->reason);
	s->n++;
}

static struct link_watch *lw;
static struct seen seen;

static void setup(void)
{
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(link_watch_new(&lw, record, &seen), 0);
	cr_assert_eq(link_watch_track_vf(lw, VF, SLOT), 0);
}

static void teardown(void)
{
	link_watch_free(lw);
}

static void feed_msg(struct nl_msg *m, const char *what)
{
	struct nlmsghdr *nlh;

	cr_assert_not_null(m, "building %s", what);
	nlh = nlmsg_hdr(m);
	cr_assert_eq(link_watch_feed(lw, nlh, nlh->nlmsg_len), 0, "feeding %s", what);
	nlmsg_free(m);
}

static void feed(const struct link_msg_spec *spec)
{
	feed_msg(link_msg_build(spec), "a link message");
}

static void feed_addr(const struct addr_msg_spec *spec)
{
	feed_msg(addr_msg_build(spec), spec->addr);
}

static void feed_route(const struct route_msg_spec *spec)
{
	feed_msg(route_msg_build(spec), "a route message");
}

/* The VF's verdict now, whatever was reported on the way. */
static void expect_now(bool busy, uint32_t uses, const char *reason)
{
	char why[LINK_WATCH_REASON_MAX];
	uint32_t u;
	bool b;

	cr_assert_eq(link_watch_vf_state(lw, VF, &b, &u, why), 0);
	cr_expect_eq(b, busy, "busy: %d, reason \"%s\"", b, why);
	cr_expect_eq(u, uses, "uses: %#x, reason \"%s\"", u, why);
	cr_expect_str_eq(why, reason);
}

static void expect(unsigned i, bool busy, const char *reason)
{
	cr_assert_gt(seen.n, i, "transition %u not reported (%u seen)", i, seen.n);
	cr_expect_eq(seen.ev[i].slot, SLOT);
	cr_expect_eq(seen.ev[i].busy, busy, "transition %u: busy", i);
	cr_expect_str_eq(seen.ev[i].reason, reason);
}

TestSuite(link_decide, .init = setup, .fini = teardown);

Test(link_decide, macvtap_on_vf_makes_it_busy)
{
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "macvtap0", .kind = "macvtap",
				      .link = VF });
	cr_assert_eq(seen.n, 1);
	expect(0, true, "macvtap0 (macvtap) on top");
}

Test(link_decide, macvtap_removed_frees_vf)
{
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "macvtap0", .kind = "macvtap",
				      .link = VF });
	/* The kernel's RTM_DELLINK carries IFLA_LINK too; this one deliberately does not, so
	 * the decision must come from the table of uppers, not the message. */
	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .ifindex = UPPER, .name = "macvtap0" });
	cr_assert_eq(seen.n, 2);
	expect(1, false, "");
}

Test(link_decide, macvlan_on_vf_makes_it_busy)
{
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "mv0", .kind = "macvlan",
				      .link = VF });
	cr_assert_eq(seen.n, 1);
	expect(0, true, "mv0 (macvlan) on top");
}

/* Built the way iproute2 asks for it: libnl's vlan link and its add request. */
static void feed_vlan_add(int ifindex, const char *name, int lower)
{
	struct rtnl_link *vlan = rtnl_link_vlan_alloc();
	struct nl_msg *m = NULL;
	struct nlmsghdr *nlh;

	cr_assert_not_null(vlan);
	rtnl_link_set_ifindex(vlan, ifindex);
	rtnl_link_set_name(vlan, name);
	rtnl_link_set_link(vlan, lower);
	cr_assert_eq(rtnl_link_vlan_set_id(vlan, 100), 0);
	cr_assert_eq(rtnl_link_build_add_request(vlan, NLM_F_CREATE, &m), 0);
	nlh = nlmsg_hdr(m);
	cr_assert_eq(nlh->nlmsg_type, RTM_NEWLINK);
	cr_assert_eq(link_watch_feed(lw, nlh, nlh->nlmsg_len), 0);
	nlmsg_free(m);
	rtnl_link_put(vlan);
}

Test(link_decide, vlan_on_vf_makes_it_busy)
{
	feed_vlan_add(UPPER, "eth0.100", VF);
	cr_assert_eq(seen.n, 1);
	expect(0, true, "vlan eth0.100 on top");
}

Test(link_decide, vlan_removed_frees_vf)
{
	feed_vlan_add(UPPER, "eth0.100", VF);
	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .ifindex = UPPER, .name = "eth0.100",
				      .kind = "vlan", .link = VF });
	cr_assert_eq(seen.n, 2);
	expect(1, false, "");
}

Test(link_decide, vf_enslaved_to_bridge_is_busy_and_release_frees_it)
{
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BRIDGE,
				      .slave_kind = "bridge" });
	cr_assert_eq(seen.n, 1);
	expect(0, true, "enslaved to bridge #700201");
	/* Released: the VF's own NEWLINK comes without IFLA_MASTER. */
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0" });
	cr_assert_eq(seen.n, 2);
	expect(1, false, "");
}

Test(link_decide, bridge_port_dellink_is_not_a_release)
{
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BRIDGE,
				      .slave_kind = "bridge" });
	/* The bridge driver's own AF_BRIDGE notifications, including RTM_DELLINK. */
	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .family = AF_BRIDGE, .ifindex = VF,
				      .name = "vf0", .master = BRIDGE });
	cr_assert_eq(seen.n, 1, "an AF_BRIDGE message changed the decision");
	expect(0, true, "enslaved to bridge #700201");
}

Test(link_decide, other_upper_device_is_no_change)
{
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "ipvl0", .kind = "ipvlan",
				      .link = VF });
	feed(&(struct link_msg_spec){ .ifindex = UPPER2, .name = "peer0", .kind = "veth",
				      .link = VF });
	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .ifindex = UPPER, .name = "ipvl0" });
	cr_assert_eq(seen.n, 0);
}

Test(link_decide, unrelated_link_is_no_change)
{
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "mv9", .kind = "macvtap",
				      .link = 700999 });
	feed(&(struct link_msg_spec){ .ifindex = 700998, .name = "p9", .master = BRIDGE,
				      .slave_kind = "bridge" });
	cr_assert_eq(seen.n, 0);
}

Test(link_decide, several_uppers_keep_vf_busy_until_the_last_goes)
{
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "macvtap0", .kind = "macvtap",
				      .link = VF });
	feed_vlan_add(UPPER2, "vf0.100", VF);
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BRIDGE,
				      .slave_kind = "bridge" });
	/* each holder adds its use; the oldest names the reason */
	cr_assert_eq(seen.n, 3);
	expect(1, true, "macvtap0 (macvtap) on top");
	expect(2, true, "macvtap0 (macvtap) on top");
	cr_assert_eq(seen.ev[2].uses, VFPOOL_HOST_USE_MACVTAP | VFPOOL_HOST_USE_VLAN |
				      VFPOOL_HOST_USE_BRIDGE_PORT);

	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .ifindex = UPPER, .name = "macvtap0" });
	cr_assert_eq(seen.n, 4);
	expect(3, true, "vlan vf0.100 on top"); /* still busy: the reason names who holds it now */

	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .ifindex = UPPER2, .name = "vf0.100" });
	cr_assert_eq(seen.n, 5);
	expect(4, true, "enslaved to bridge #700201");
	cr_assert_eq(seen.ev[4].uses, VFPOOL_HOST_USE_BRIDGE_PORT);

	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0" });
	cr_assert_eq(seen.n, 6);
	expect(5, false, "");
	cr_assert_eq(seen.ev[5].uses, 0);
}

Test(link_decide, repeated_newlink_reports_once)
{
	for (int i = 0; i < 3; i++)
		feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "macvtap0",
					      .kind = "macvtap", .link = VF });
	cr_assert_eq(seen.n, 1);
}

Test(link_decide, vf_netdev_removed_frees_it)
{
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "macvtap0", .kind = "macvtap",
				      .link = VF });
	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .ifindex = VF, .name = "vf0" });
	cr_assert_eq(seen.n, 2);
	expect(1, false, "");
	/* The upper's own DELLINK that follows changes nothing more. */
	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .ifindex = UPPER, .name = "macvtap0" });
	cr_assert_eq(seen.n, 2);
}

Test(link_decide, two_vfs_are_decided_apart)
{
	cr_assert_eq(link_watch_track_vf(lw, VF2, SLOT + 1), 0);
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "macvtap0", .kind = "macvtap",
				      .link = VF2 });
	cr_assert_eq(seen.n, 1);
	cr_assert_eq(seen.ev[0].slot, SLOT + 1);

	bool busy = true;
	cr_assert_eq(link_watch_vf_state(lw, VF, &busy, NULL, NULL), 0);
	cr_assert(!busy);
	cr_assert_eq(link_watch_vf_state(lw, VF2, &busy, NULL, NULL), 0);
	cr_assert(busy);
}

Test(link_decide, untracked_vf_is_ignored)
{
	cr_assert_eq(link_watch_untrack_vf(lw, VF), 0);
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "macvtap0", .kind = "macvtap",
				      .link = VF });
	cr_assert_eq(seen.n, 0);
	cr_assert_eq(link_watch_vf_state(lw, VF, NULL, NULL, NULL), -ENOENT);
	cr_assert_eq(link_watch_untrack_vf(lw, VF), -ENOENT);
}

Test(link_decide, tracking_twice_is_refused)
{
	cr_assert_eq(link_watch_track_vf(lw, VF, SLOT), -EEXIST);
	cr_assert_eq(link_watch_track_vf(lw, 0, SLOT), -EINVAL);
}

Test(link_decide, batch_of_messages_in_one_buffer)
{
	struct nl_msg *a = link_msg_build(&(struct link_msg_spec){
		.ifindex = UPPER, .name = "macvtap0", .kind = "macvtap", .link = VF });
	struct nl_msg *b = link_msg_build(&(struct link_msg_spec){
		.type = RTM_DELLINK, .ifindex = UPPER, .name = "macvtap0" });
	unsigned char buf[4096];
	size_t la, lb;

	cr_assert(a && b);
	la = NLMSG_ALIGN(nlmsg_hdr(a)->nlmsg_len);
	lb = nlmsg_hdr(b)->nlmsg_len;
	cr_assert_leq(la + lb, sizeof(buf));
	memcpy(buf, nlmsg_hdr(a), nlmsg_hdr(a)->nlmsg_len);
	memcpy(buf + la, nlmsg_hdr(b), lb);
	cr_assert_eq(link_watch_feed(lw, buf, la + lb), 0);
	cr_assert_eq(seen.n, 2);
	expect(0, true, "macvtap0 (macvtap) on top");
	expect(1, false, "");
	nlmsg_free(a);
	nlmsg_free(b);
}

Test(link_decide, truncated_buffer_is_rejected)
{
	struct nl_msg *a = link_msg_build(&(struct link_msg_spec){
		.ifindex = UPPER, .name = "macvtap0", .kind = "macvtap", .link = VF });

	cr_assert_not_null(a);
	cr_assert_eq(link_watch_feed(lw, nlmsg_hdr(a), nlmsg_hdr(a)->nlmsg_len - 1), -EBADMSG);
	cr_assert_eq(seen.n, 0);
	nlmsg_free(a);
}

static bool reject_all(void *ctx, const struct nlmsghdr *nlh)
{
	(void)nlh;
	(*(unsigned *)ctx)++;
	return false;
}

Test(link_decide, filter_rejected_messages_are_not_decoded)
{
	struct link_watch_stats st;
	unsigned asked = 0;

	link_watch_set_filter(lw, reject_all, &asked);
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "macvtap0", .kind = "macvtap",
				      .link = VF });
	cr_assert_eq(asked, 1);
	cr_assert_eq(seen.n, 0);
	link_watch_get_stats(lw, &st);
	cr_assert_eq(st.fed, 1);
	cr_assert_eq(st.filtered, 1);
	cr_assert_eq(st.decoded, 0);
}

Test(nl_errno, libnl_codes_become_errno)
{
	cr_assert_eq(nl_errno(-NLE_NOMEM), -ENOMEM);
	cr_assert_eq(nl_errno(-NLE_PERM), -EPERM);
	cr_assert_eq(nl_errno(-NLE_EXIST), -EEXIST);
	cr_assert_eq(nl_errno(-NLE_OBJ_NOTFOUND), -ENOENT);
	cr_assert_eq(nl_errno(-9999), -EIO, "unknown codes are still errors");
	cr_assert_eq(nl_errno(0), 0);
	cr_assert_eq(nl_errno(7), 7, "non-negative results pass through");
}

/* ---- free means free: bonds, addresses, the default route, up ------------------------- */

Test(link_decide, vf_enslaved_to_a_bond_is_a_bond_member_until_released)
{
	feed(&(struct link_msg_spec){ .ifindex = BOND, .name = "bond7", .kind = "bond",
				      .flags = IFF_UP });
	cr_assert_eq(seen.n, 0, "a bond nothing is enslaved to changes nothing");
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BOND,
				      .slave_kind = "bond", .flags = IFF_UP });
	cr_assert_eq(seen.n, 1);
	expect(0, true, "bond member of bond7");
	cr_assert_eq(seen.ev[0].uses, VFPOOL_HOST_USE_BOND_MEMBER, "up is no use of its own");
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0" });
	cr_assert_eq(seen.n, 2);
	expect(1, false, "");
}

Test(link_decide, master_kind_is_the_masters_own_not_its_name)
{
	/* named like each other's kind: only IFLA_INFO_KIND counts */
	feed(&(struct link_msg_spec){ .ifindex = BOND, .name = "br0", .kind = "bond" });
	feed(&(struct link_msg_spec){ .ifindex = BRIDGE, .name = "bond0", .kind = "bridge" });
	/* no IFLA_INFO_SLAVE_KIND in the VF's message: the table of devices decides */
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BOND });
	expect_now(true, VFPOOL_HOST_USE_BOND_MEMBER, "bond member of br0");
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BRIDGE });
	expect_now(true, VFPOOL_HOST_USE_BRIDGE_PORT, "enslaved to bridge bond0");
}

Test(link_decide, bond_not_seen_yet_is_known_by_the_kind_the_kernel_states_and_asks_a_resync)
{
	cr_assert(!link_watch_resync_due(lw));
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BOND,
				      .slave_kind = "bond" });
	cr_assert_eq(seen.n, 1);
	expect(0, true, "bond member of #700202");
	/* devices stacked on the bond before the VF joined it were none of ours */
	cr_assert(link_watch_resync_due(lw));
	/* its own message, now that it is related, names it */
	feed(&(struct link_msg_spec){ .ifindex = BOND, .name = "bond7", .kind = "bond" });
	expect_now(true, VFPOOL_HOST_USE_BOND_MEMBER, "bond member of bond7");
}

Test(link_decide, team_member_is_a_bond_member)
{
	feed(&(struct link_msg_spec){ .ifindex = TEAM, .name = "team0", .kind = "team" });
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = TEAM,
				      .slave_kind = "team" });
	expect_now(true, VFPOOL_HOST_USE_BOND_MEMBER, "team member of team0");
}

Test(link_decide, openvswitch_port_is_a_bridge_port)
{
	feed(&(struct link_msg_spec){ .ifindex = BRIDGE, .name = "ovs-system",
				      .kind = "openvswitch" });
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BRIDGE,
				      .slave_kind = "openvswitch" });
	expect_now(true, VFPOOL_HOST_USE_BRIDGE_PORT, "enslaved to openvswitch ovs-system");
}

Test(link_decide, other_master_is_no_change)
{
	feed(&(struct link_msg_spec){ .ifindex = VRF, .name = "vrf-blue", .kind = "vrf" });
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = VRF,
				      .slave_kind = "vrf" });
	cr_assert_eq(seen.n, 0);
}

Test(link_decide, address_on_vf_makes_it_busy_until_deleted)
{
	feed_addr(&(struct addr_msg_spec){ .ifindex = VF, .addr = "192.0.2.10", .prefixlen = 24 });
	cr_assert_eq(seen.n, 1);
	expect(0, true, "address 192.0.2.10 configured");
	cr_assert_eq(seen.ev[0].uses, VFPOOL_HOST_USE_ADDRESS);
	/* a second one changes nothing; the reason stays with the first until it goes */
	feed_addr(&(struct addr_msg_spec){ .ifindex = VF, .addr = "2001:db8::10", .prefixlen = 64 });
	cr_assert_eq(seen.n, 1);
	feed_addr(&(struct addr_msg_spec){ .type = RTM_DELADDR, .ifindex = VF, .addr = "192.0.2.10",
					   .prefixlen = 24 });
	cr_assert_eq(seen.n, 2);
	expect(1, true, "address 2001:db8::10 configured");
	feed_addr(&(struct addr_msg_spec){ .type = RTM_DELADDR, .ifindex = VF,
					   .addr = "2001:db8::10", .prefixlen = 64 });
	cr_assert_eq(seen.n, 3);
	expect(2, false, "");
}

Test(link_decide, ipv6_link_local_address_is_no_change)
{
	feed_addr(&(struct addr_msg_spec){ .ifindex = VF, .addr = "fe80::1", .prefixlen = 64 });
	feed_addr(&(struct addr_msg_spec){ .ifindex = VF, .addr = "febf:ffff::1", .prefixlen = 64 });
	cr_assert_eq(seen.n, 0);
	/* fe80::/10 ends there */
	feed_addr(&(struct addr_msg_spec){ .ifindex = VF, .addr = "fec0::1", .prefixlen = 64 });
	cr_assert_eq(seen.n, 1);
	expect(0, true, "address fec0::1 configured");
}

Test(link_decide, address_on_another_device_is_no_change)
{
	feed_addr(&(struct addr_msg_spec){ .ifindex = ETH0, .addr = "192.0.2.1", .prefixlen = 24 });
	cr_assert_eq(seen.n, 0);
}

Test(link_decide, long_ipv6_address_keeps_every_digit)
{
	const char *a = "2001:db8:1234:5678:9abc:def0:1234:5678";
	char want[LINK_WATCH_REASON_MAX];

	feed_addr(&(struct addr_msg_spec){ .ifindex = VF, .addr = a, .prefixlen = 64 });
	cr_assert_eq(seen.n, 1);
	snprintf(want, sizeof(want), "address %s", a);
	expect(0, true, want);
}

Test(link_decide, default_route_through_vf_makes_it_busy_until_deleted)
{
	feed_route(&(struct route_msg_spec){ .oif = { VF }, .gateway = "192.0.2.1" });
	cr_assert_eq(seen.n, 1);
	expect(0, true, "holds the default route");
	cr_assert_eq(seen.ev[0].uses, VFPOOL_HOST_USE_DEFAULT_ROUTE);
	feed_route(&(struct route_msg_spec){ .type = RTM_DELROUTE, .oif = { VF },
					     .gateway = "192.0.2.1" });
	cr_assert_eq(seen.n, 2);
	expect(1, false, "");
}

Test(link_decide, ipv6_default_route_through_vf_makes_it_busy)
{
	feed_route(&(struct route_msg_spec){ .family = AF_INET6, .oif = { VF },
					     .gateway = "fe80::1", .priority = 1024 });
	cr_assert_eq(seen.n, 1);
	expect(0, true, "holds the default route");
}

Test(link_decide, default_route_outranks_older_holders)
{
	feed_addr(&(struct addr_msg_spec){ .ifindex = VF, .addr = "192.0.2.10", .prefixlen = 24 });
	feed_route(&(struct route_msg_spec){ .oif = { VF }, .gateway = "192.0.2.1" });
	expect_now(true, VFPOOL_HOST_USE_ADDRESS | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");
}

Test(link_decide, default_route_through_a_vlan_on_the_vf_makes_it_busy)
{
	feed_vlan_add(UPPER, "vf0.100", VF);
	feed_route(&(struct route_msg_spec){ .oif = { UPPER }, .gateway = "192.0.2.1" });
	expect_now(true, VFPOOL_HOST_USE_VLAN | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");
	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .ifindex = UPPER, .name = "vf0.100" });
	expect_now(false, 0, "");
}

Test(link_decide, default_route_through_a_bond_of_the_vf_makes_it_busy)
{
	feed(&(struct link_msg_spec){ .ifindex = BOND, .name = "bond0", .kind = "bond",
				      .flags = IFF_UP });
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BOND,
				      .slave_kind = "bond", .flags = IFF_UP });
	feed_route(&(struct route_msg_spec){ .oif = { BOND }, .gateway = "192.0.2.1" });
	expect_now(true, VFPOOL_HOST_USE_BOND_MEMBER | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");
	/* out of the bond: no longer under the route */
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0" });
	expect_now(false, 0, "");
}

Test(link_decide, default_route_through_a_vlan_on_a_bond_of_the_vf_makes_it_busy)
{
	feed(&(struct link_msg_spec){ .ifindex = BOND, .name = "bond0", .kind = "bond",
				      .flags = IFF_UP });
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BOND,
				      .slave_kind = "bond", .flags = IFF_UP });
	feed_vlan_add(UPPER, "bond0.100", BOND);
	feed_route(&(struct route_msg_spec){ .oif = { UPPER }, .gateway = "192.0.2.1" });
	expect_now(true, VFPOOL_HOST_USE_BOND_MEMBER | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");
}

Test(link_decide, default_route_through_a_bridge_reaches_every_vf_port)
{
	enum { PORTS = 100 };
	uint32_t uses;
	bool busy;

	/* more transitions than the recorder holds: a watch of its own, states read after */
	link_watch_free(lw);
	cr_assert_eq(link_watch_new(&lw, NULL, NULL), 0);
	feed(&(struct link_msg_spec){ .ifindex = BRIDGE, .name = "br0", .kind = "bridge" });
	for (int i = 0; i < PORTS; i++) {
		cr_assert_eq(link_watch_track_vf(lw, 710000 + i, 100u + (unsigned)i), 0);
		feed(&(struct link_msg_spec){ .ifindex = 710000 + i, .name = "vfx",
					      .master = BRIDGE, .slave_kind = "bridge" });
	}
	feed_route(&(struct route_msg_spec){ .oif = { BRIDGE }, .gateway = "192.0.2.1" });
	for (int i = 0; i < PORTS; i++) {
		cr_assert_eq(link_watch_vf_state(lw, 710000 + i, &busy, &uses, NULL), 0);
		cr_assert(busy && (uses & VFPOOL_HOST_USE_DEFAULT_ROUTE), "port %d: uses %#x", i,
			  uses);
	}
}

Test(link_decide, multipath_default_route_through_vf_makes_it_busy)
{
	feed_route(&(struct route_msg_spec){ .oif = { ETH0, VF }, .gateway = "192.0.2.1" });
	expect_now(true, VFPOOL_HOST_USE_DEFAULT_ROUTE, "holds the default route");
	feed_route(&(struct route_msg_spec){ .type = RTM_DELROUTE, .oif = { ETH0, VF },
					     .gateway = "192.0.2.1" });
	expect_now(false, 0, "");
}

Test(link_decide, default_route_elsewhere_or_in_another_table_or_not_default_is_no_change)
{
	feed_route(&(struct route_msg_spec){ .oif = { ETH0 }, .gateway = "192.0.2.1" });
	feed_route(&(struct route_msg_spec){ .oif = { VF }, .table = 100, .gateway = "192.0.2.1" });
	feed_route(&(struct route_msg_spec){ .oif = { VF }, .dst_len = 8, .gateway = "192.0.2.1" });
	cr_assert_eq(seen.n, 0);
}

Test(link_decide, default_route_replaced_onto_another_device_frees_the_vf)
{
	feed_route(&(struct route_msg_spec){ .oif = { VF }, .gateway = "192.0.2.1" });
	expect_now(true, VFPOOL_HOST_USE_DEFAULT_ROUTE, "holds the default route");
	/* the kernel announces a replace only for the route that stays */
	feed_route(&(struct route_msg_spec){ .nlmsg_flags = NLM_F_REPLACE, .oif = { ETH0 },
					     .gateway = "198.51.100.1" });
	expect_now(false, 0, "");
}

Test(link_decide, appended_default_route_does_not_replace)
{
	feed_route(&(struct route_msg_spec){ .oif = { VF }, .gateway = "192.0.2.1" });
	feed_route(&(struct route_msg_spec){ .oif = { ETH0 }, .gateway = "198.51.100.1" });
	expect_now(true, VFPOOL_HOST_USE_DEFAULT_ROUTE, "holds the default route");
}

Test(link_decide, default_route_goes_with_its_device_going_down)
{
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .flags = IFF_UP });
	feed_route(&(struct route_msg_spec){ .oif = { VF }, .gateway = "192.0.2.1" });
	expect_now(true, VFPOOL_HOST_USE_DEFAULT_ROUTE, "holds the default route");
	/* the kernel flushes the routes through a device that goes down, and says nothing */
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0" });
	expect_now(false, 0, "");
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .flags = IFF_UP });
	expect_now(false, VFPOOL_HOST_USE_UP, "up on the host, not leased");
}

Test(link_decide, vf_up_with_nothing_on_it_is_reported_not_busy)
{
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .flags = IFF_UP });
	cr_assert_eq(seen.n, 1);
	expect(0, false, "up on the host, not leased");
	cr_assert_eq(seen.ev[0].uses, VFPOOL_HOST_USE_UP);
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0" });
	cr_assert_eq(seen.n, 2);
	expect(1, false, "");
	cr_assert_eq(seen.ev[1].uses, 0);
}

Test(link_decide, vf_up_with_nothing_on_it_is_busy_when_up_means_busy)
{
	link_watch_set_busy_when_up(lw, true);
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .flags = IFF_UP });
	cr_assert_eq(seen.n, 1);
	expect(0, true, "up on the host, not leased");
	cr_assert_eq(seen.ev[0].uses, VFPOOL_HOST_USE_UP);
}

Test(link_decide, up_is_no_use_beside_another)
{
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .flags = IFF_UP });
	feed_addr(&(struct addr_msg_spec){ .ifindex = VF, .addr = "192.0.2.10", .prefixlen = 24 });
	expect_now(true, VFPOOL_HOST_USE_ADDRESS, "address 192.0.2.10 configured");
}

/* The devices over the VFs, as the probe's filter must know them. */
struct related_log {
	unsigned n;
	int ifindex[8];
	bool related[8];
};

static void on_related(void *userdata, int ifindex, bool related)
{
	struct related_log *l = userdata;

	cr_assert_lt(l->n, 8);
	l->ifindex[l->n] = ifindex;
	l->related[l->n] = related;
	l->n++;
}

Test(link_decide, devices_over_a_vf_are_related_while_they_are)
{
	struct related_log l = { 0 };

	link_watch_set_related_cb(lw, on_related, &l);
	feed(&(struct link_msg_spec){ .ifindex = BOND, .name = "bond0", .kind = "bond" });
	cr_assert_eq(l.n, 0, "a bond of no VF is not related");
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BOND,
				      .slave_kind = "bond" });
	cr_assert_eq(l.n, 1);
	cr_assert(l.ifindex[0] == BOND && l.related[0]);
	feed_vlan_add(UPPER, "bond0.100", BOND);
	cr_assert_eq(l.n, 2);
	cr_assert(l.ifindex[1] == UPPER && l.related[1]);
	/* the veth peer of a VF stands beside it, not over it */
	feed(&(struct link_msg_spec){ .ifindex = UPPER2, .name = "vf0p", .kind = "veth",
				      .link = VF });
	cr_assert_eq(l.n, 2);
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0" });
	cr_assert_eq(l.n, 4, "out of the bond: the bond and its VLAN are no longer related");
	cr_assert(!l.related[2] && !l.related[3]);
}
