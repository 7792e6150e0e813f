/* SPDX-License-Identifier: MIT */
/*
 * link_watch's decisions on decoded messages: messages built with libnl (as the kernel sends
 * them) and fed to link_watch_feed(). No kernel state involved, so the VLAN case, which this
 * kernel cannot produce, is covered here.
 */
#include <criterion/criterion.h>
#include <errno.h>
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
#define SLOT    3u

struct seen {
	unsigned n;
	struct {
		uint32_t slot;
		bool busy;
		char reason[LINK_WATCH_REASON_MAX];
	} ev[16];
};

static void record(void *userdata, uint32_t slot, bool busy, const char *reason)
{
	struct seen *s = userdata;

	cr_assert_lt(s->n, 16, "more transitions than any test expects");
	s->ev[s->n].slot = slot;
	s->ev[s->n].busy = busy;
	snprintf(s->ev[s->n].reason, sizeof(s->ev[s->n].reason), "%s", reason);
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

static void feed(const struct link_msg_spec *spec)
{
	struct nl_msg *m = link_msg_build(spec);
	struct nlmsghdr *nlh;

	cr_assert_not_null(m, "building link message for ifindex %d", spec->ifindex);
	nlh = nlmsg_hdr(m);
	cr_assert_eq(link_watch_feed(lw, nlh, nlh->nlmsg_len), 0, "feeding ifindex %d",
		     spec->ifindex);
	nlmsg_free(m);
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

Test(link_decide, bond_master_is_no_change)
{
	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0", .master = BOND,
				      .slave_kind = "bond" });
	cr_assert_eq(seen.n, 0);
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
	cr_assert_eq(seen.n, 1, "a second holder is not a transition");

	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .ifindex = UPPER, .name = "macvtap0" });
	cr_assert_eq(seen.n, 2);
	expect(1, true, "vlan vf0.100 on top"); /* still busy: the reason names who holds it now */

	feed(&(struct link_msg_spec){ .type = RTM_DELLINK, .ifindex = UPPER2, .name = "vf0.100" });
	cr_assert_eq(seen.n, 3);
	expect(2, true, "enslaved to bridge #700201");

	feed(&(struct link_msg_spec){ .ifindex = VF, .name = "vf0" });
	cr_assert_eq(seen.n, 4);
	expect(3, false, "");
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
	cr_assert_eq(link_watch_vf_state(lw, VF, &busy, NULL), 0);
	cr_assert(!busy);
	cr_assert_eq(link_watch_vf_state(lw, VF2, &busy, NULL), 0);
	cr_assert(busy);
}

Test(link_decide, untracked_vf_is_ignored)
{
	cr_assert_eq(link_watch_untrack_vf(lw, VF), 0);
	feed(&(struct link_msg_spec){ .ifindex = UPPER, .name = "macvtap0", .kind = "macvtap",
				      .link = VF });
	cr_assert_eq(seen.n, 0);
	cr_assert_eq(link_watch_vf_state(lw, VF, NULL, NULL), -ENOENT);
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
