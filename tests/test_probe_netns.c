/* SPDX-License-Identifier: MIT */
/*
 * The probe and link_watch against real kernel events, in a network namespace each test makes
 * for itself (Criterion runs every test in its own process). veth devices stand in for VF
 * netdevs. Every behaviour runs twice: suite probe_bpf (socket filter in the kernel) and suite
 * probe_fallback (filter forced off, same decisions in userspace).
 *
 * Kernel events are queued on the probe socket before the rtnetlink request that caused them
 * is acknowledged, so draining the socket right after each request sees them all: no sleeps.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/if_link.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/macvtap.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vlan.h>

#include <umockdev.h>

#include "bpf/probe.h"
#include "core/probe/link_watch.h"
#include "tests/netns_links.h"

struct transition {
	uint32_t slot;
	bool busy;
	uint32_t uses;
	char reason[LINK_WATCH_REASON_MAX];
};

struct rig {
	bool fallback;
	struct nl_sock *sk; /* makes links */
	struct probe *probe;
	struct link_watch *lw;
	unsigned n;
	struct transition ev[64];
};

static void record(void *userdata, uint32_t slot, const struct link_watch_verdict *v)
{
	struct rig *r = userdata;

	cr_assert_lt(r->n, 64, "more transitions than any test expects");
	r->ev[r->n].slot = slot;
	r->ev[r->n].busy = v->busy;
	r->ev[r->n].uses = v->uses;
	snprintf(r->ev[r->n].reason, sizeof(r->ev[r->n].reason), "%s", v->reason);
	r->n++;
}

/* The devices over the VFs follow into the probe's filter, as probe_source does it. */
static void relate(void *userdata, int ifindex, bool related)
{
	struct rig *r = userdata;

	if (related)
		cr_assert_eq(probe_relate(r->probe, ifindex), 0, "relating ifindex %d", ifindex);
	else
		cr_assert_eq(probe_unrelate(r->probe, ifindex), 0, "unrelating ifindex %d", ifindex);
}

static void enter_netns(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: creates a network namespace and links");
	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("needs root: unshare(CLONE_NEWNET) failed: %s", strerror(errno));
}

static void rig_links(struct rig *r)
{
	enter_netns();
	r->sk = nl_socket_alloc();
	cr_assert_not_null(r->sk);
	cr_assert_eq(nl_connect(r->sk, NETLINK_ROUTE), 0);
}

static void rig_probe(struct rig *r, bool fallback, int rcvbuf)
{
	struct probe_opts o = { .force_fallback = fallback, .rcvbuf = rcvbuf };

	r->fallback = fallback;
	cr_assert_eq(probe_open(&o, &r->probe), 0, "probe_open");
	if (fallback) {
		cr_assert_str_eq(probe_mode(r->probe), "fallback");
		cr_assert_str_eq(probe_fallback_reason(r->probe),
				 "BPF socket filter disabled by configuration");
	} else {
		cr_assert_str_eq(probe_mode(r->probe), "bpf", "fell back: %s",
				 probe_fallback_reason(r->probe));
	}
	cr_assert_eq(link_watch_new(&r->lw, record, r), 0);
	link_watch_set_related_cb(r->lw, relate, r);
	if (fallback)
		link_watch_set_filter(r->lw, probe_filter, r->probe);
}

static void rig_free(struct rig *r)
{
	link_watch_free(r->lw);
	probe_close(r->probe);
	nl_socket_free(r->sk);
}

static int ifindex_of(struct rig *r, const char *name)
{
	struct rtnl_link *l;
	int ifindex;

	cr_assert_eq(rtnl_link_get_kernel(r->sk, 0, name, &l), 0, "looking up %s", name);
	ifindex = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return ifindex;
}

/* A veth pair; returns the ifindex of name, the one playing the VF. */
static int add_vf(struct rig *r, const char *name)
{
	char peer[IFNAMSIZ];
	int err;

	snprintf(peer, sizeof(peer), "%sp", name);
	err = rtnl_link_veth_add(r->sk, name, peer, getpid());
	cr_assert_eq(err, 0, "creating veth %s: %s", name, nl_geterror(err));
	return ifindex_of(r, name);
}

static void track(struct rig *r, int ifindex, uint32_t slot)
{
	cr_assert_eq(probe_track(r->probe, ifindex, slot), 0);
	cr_assert_eq(link_watch_track_vf(r->lw, ifindex, slot), 0);
}

static void add_macvtap(struct rig *r, const char *name, int lower)
{
	struct rtnl_link *l = rtnl_link_macvtap_alloc();
	int err;

	cr_assert_not_null(l);
	rtnl_link_set_name(l, name);
	rtnl_link_set_link(l, lower);
	cr_assert_eq(rtnl_link_macvtap_set_mode(l, MACVLAN_MODE_PASSTHRU), 0);
	err = rtnl_link_add(r->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	cr_assert_eq(err, 0, "creating macvtap %s: %s", name, nl_geterror(err));
	rtnl_link_put(l);
}

static void del_link(struct rig *r, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int err;

	cr_assert_not_null(l);
	rtnl_link_set_name(l, name);
	err = rtnl_link_delete(r->sk, l);
	cr_assert_eq(err, 0, "deleting %s: %s", name, nl_geterror(err));
	rtnl_link_put(l);
}

static void set_up(struct rig *r, const char *name, bool up)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int err;

	cr_assert_not_null(l);
	rtnl_link_set_name(l, name);
	if (up)
		rtnl_link_set_flags(l, IFF_UP);
	else
		rtnl_link_unset_flags(l, IFF_UP);
	err = rtnl_link_change(r->sk, l, l, 0);
	cr_assert_eq(err, 0, "setting %s %s: %s", name, up ? "up" : "down", nl_geterror(err));
	rtnl_link_put(l);
}

static void add_bridge(struct rig *r, const char *name)
{
	int err = rtnl_link_bridge_add(r->sk, name);

	cr_assert_eq(err, 0, "creating bridge %s: %s", name, nl_geterror(err));
}

/* Receives and feeds everything queued; -ENOBUFS when the socket overran. */
static int pump(struct rig *r)
{
	static unsigned char buf[65536];

	for (;;) {
		ssize_t n = recv(probe_fd(r->probe), buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -errno;
		cr_assert_eq(link_watch_feed(r->lw, buf, (size_t)n), 0);
	}
}

static void pump_ok(struct rig *r)
{
	int err = pump(r);

	cr_assert_eq(err, 0, "receiving link events: %s", strerror(-err));
}

/* IPv6 announces an address from a work queue, after the request that added it was
 * acknowledged: pumps until done(r) holds, waiting for events in between, up to a bound
 * that only a lost event reaches. */
static void pump_until(struct rig *r, bool (*done)(struct rig *r, uint64_t arg), uint64_t arg,
		       const char *what)
{
	struct pollfd pfd = { .fd = probe_fd(r->probe), .events = POLLIN };

	for (int i = 0; i < 100; i++) {
		pump_ok(r);
		if (done(r, arg))
			return;
		poll(&pfd, 1, 100);
	}
	cr_assert_fail("%s: not seen", what);
}

static bool transitions_reach(struct rig *r, uint64_t n)
{
	return r->n >= n;
}

static void expect(struct rig *r, unsigned i, uint32_t slot, bool busy, const char *reason)
{
	cr_assert_gt(r->n, i, "transition %u not reported (%u seen)", i, r->n);
	cr_expect_eq(r->ev[i].slot, slot, "transition %u: slot", i);
	cr_expect_eq(r->ev[i].busy, busy, "transition %u: busy", i);
	cr_expect_str_eq(r->ev[i].reason, reason, "transition %u: reason", i);
}

/* One body, two suites. */
#define BOTH_MODES(name)                                                                    \
	static void name##_body(bool fallback);                                              \
	Test(probe_bpf, name) { name##_body(false); }                                        \
	Test(probe_fallback, name) { name##_body(true); }                                    \
	static void name##_body(bool fallback)

BOTH_MODES(macvtap_passthru_on_vf_makes_it_busy_and_delete_frees_it)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);

	add_macvtap(&r, "mvt0", vf);
	pump_ok(&r);
	cr_assert_eq(r.n, 1);
	expect(&r, 0, 0, true, "mvt0 (macvtap) on top");

	del_link(&r, "mvt0");
	pump_ok(&r);
	cr_assert_eq(r.n, 2);
	expect(&r, 1, 0, false, "");
	rig_free(&r);
}

BOTH_MODES(vf_enslaved_to_bridge_is_busy_until_released)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	add_bridge(&r, "br0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 7);

	cr_assert_eq(rtnl_link_enslave_ifindex(r.sk, ifindex_of(&r, "br0"), vf), 0);
	pump_ok(&r);
	cr_assert_eq(r.n, 1);
	expect(&r, 0, 7, true, "enslaved to bridge br0");

	cr_assert_eq(rtnl_link_release_ifindex(r.sk, vf), 0);
	pump_ok(&r);
	cr_assert_eq(r.n, 2);
	expect(&r, 1, 7, false, "");
	rig_free(&r);
}

BOTH_MODES(veth_peer_of_vf_is_no_change)
{
	struct rig r = { 0 };
	struct link_watch_stats st;

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);

	/* vf0p's IFLA_LINK is vf0: it passes the filter, and is still not a reason. */
	set_up(&r, "vf0p", true);
	set_up(&r, "vf0p", false);
	pump_ok(&r);
	link_watch_get_stats(r.lw, &st);
	cr_assert_geq(st.decoded, 2, "the peer's events should reach link_watch");
	cr_assert_eq(r.n, 0);
	rig_free(&r);
}

BOTH_MODES(unrelated_devices_never_reach_link_watch)
{
	enum { PAIRS = 100 }; /* 200 devices */
	struct rig r = { 0 };
	struct link_watch_stats st;
	uint64_t passed0, dropped0, passed, dropped;
	char name[IFNAMSIZ], peer[IFNAMSIZ];

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 1 << 22);
	track(&r, vf, 0);
	pump_ok(&r);
	cr_assert_eq(probe_counters(r.probe, &passed0, &dropped0), 0);

	for (int i = 0; i < PAIRS; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		snprintf(peer, sizeof(peer), "u%dp", i);
		cr_assert_eq(rtnl_link_veth_add(r.sk, name, peer, getpid()), 0, "creating %s", name);
		set_up(&r, name, true);
		set_up(&r, name, false);
	}
	for (int i = 0; i < PAIRS; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		del_link(&r, name);
	}
	pump_ok(&r);

	cr_assert_eq(probe_counters(r.probe, &passed, &dropped), 0);
	link_watch_get_stats(r.lw, &st);
	/* Each pair: 2 new, 2 flaps, 2 deleted at least. */
	cr_assert_geq(dropped - dropped0, 6 * PAIRS, "dropped %llu",
		      (unsigned long long)(dropped - dropped0));
	cr_assert_eq(passed - passed0, 0, "an unrelated event passed the filter");
	cr_assert_eq(st.decoded, 0, "link_watch decoded an unrelated event");
	if (fallback)
		cr_assert_eq(st.filtered, dropped - dropped0, "every event came up to userspace");
	else
		cr_assert_eq(st.fed, 0, "the kernel let an unrelated event through to userspace");
	cr_assert_eq(r.n, 0);
	rig_free(&r);
}

BOTH_MODES(overrun_forces_a_resync_that_finds_the_right_state)
{
	struct rig r = { 0 };
	char name[IFNAMSIZ];

	rig_links(&r);
	int vf0 = add_vf(&r, "vf0");
	int vf1 = add_vf(&r, "vf1");
	add_bridge(&r, "br0");
	rig_probe(&r, fallback, 1); /* the kernel rounds it up to its minimum */
	track(&r, vf0, 0);
	track(&r, vf1, 1);

	/* A burst of relevant events, unread: more than the socket can hold. */
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "mvt%d", i);
		add_macvtap(&r, name, vf0);
		del_link(&r, name);
	}
	add_macvtap(&r, "last", vf0);
	cr_assert_eq(rtnl_link_enslave_ifindex(r.sk, ifindex_of(&r, "br0"), vf1), 0);

	int err = pump(&r);
	cr_assert_eq(err, -ENOBUFS, "expected an overrun, got %d (%s)", err, strerror(-err));
	cr_assert_geq(probe_drain(r.probe), 0);

	unsigned before = r.n;
	cr_assert_eq(link_watch_resync(r.lw, NULL), 0);
	bool busy0, busy1;
	char reason0[LINK_WATCH_REASON_MAX], reason1[LINK_WATCH_REASON_MAX];
	cr_assert_eq(link_watch_vf_state(r.lw, vf0, &busy0, NULL, reason0), 0);
	cr_assert_eq(link_watch_vf_state(r.lw, vf1, &busy1, NULL, reason1), 0);
	cr_assert(busy0);
	cr_assert_str_eq(reason0, "last (macvtap) on top");
	cr_assert(busy1);
	cr_assert_str_eq(reason1, "enslaved to bridge br0");
	cr_assert_leq(r.n - before, 2, "resync reported more than the real transitions");

	/* Events flow again after the resync (with room for them: a macvtap's removal alone
	 * is several events, more than the minimum buffer holds). */
	int big = 1 << 20;
	cr_assert_eq(setsockopt(probe_fd(r.probe), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)),
		     0);
	del_link(&r, "last");
	pump_ok(&r);
	cr_assert_eq(link_watch_vf_state(r.lw, vf0, &busy0, NULL, NULL), 0);
	cr_assert(!busy0);
	expect(&r, r.n - 1, 0, false, "");
	rig_free(&r);
}

BOTH_MODES(state_present_before_start_is_found_by_resync)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf0 = add_vf(&r, "vf0");
	int vf1 = add_vf(&r, "vf1");
	int vf2 = add_vf(&r, "vf2");
	add_bridge(&r, "br0");
	cr_assert_eq(rtnl_link_enslave_ifindex(r.sk, ifindex_of(&r, "br0"), vf0), 0);
	add_macvtap(&r, "mvt1", vf1);

	rig_probe(&r, fallback, 0);
	track(&r, vf0, 0);
	track(&r, vf1, 1);
	track(&r, vf2, 2);
	cr_assert_eq(link_watch_resync(r.lw, NULL), 0);

	cr_assert_eq(r.n, 2, "vf2 is free and must not be reported");
	for (unsigned i = 0; i < r.n; i++) {
		if (r.ev[i].slot == 0)
			expect(&r, i, 0, true, "enslaved to bridge br0");
		else
			expect(&r, i, 1, true, "mvt1 (macvtap) on top");
	}
	/* A second resync with nothing changed reports nothing. */
	cr_assert_eq(link_watch_resync(r.lw, NULL), 0);
	cr_assert_eq(r.n, 2);

	/* And events continue from there: deleting the bridge releases vf0. */
	del_link(&r, "br0");
	pump_ok(&r);
	cr_assert_eq(r.n, 3);
	expect(&r, 2, 0, false, "");
	rig_free(&r);
}

BOTH_MODES(vlan_on_vf_makes_it_busy)
{
	struct rig r = { 0 };
	struct rtnl_link *vlan;
	int err;

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);

	vlan = rtnl_link_vlan_alloc();
	cr_assert_not_null(vlan);
	rtnl_link_set_name(vlan, "vf0.100");
	rtnl_link_set_link(vlan, vf);
	cr_assert_eq(rtnl_link_vlan_set_id(vlan, 100), 0);
	err = rtnl_link_add(r.sk, vlan, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(vlan);
	if (err < 0) {
		rig_free(&r);
		cr_skip_test("kernel has no 802.1Q support (modprobe 8021q fails): creating vlan "
			     "vf0.100 failed: %s", nl_geterror(err));
	}
	pump_ok(&r);
	cr_assert_eq(r.n, 1);
	expect(&r, 0, 0, true, "vlan vf0.100 on top");
	del_link(&r, "vf0.100");
	pump_ok(&r);
	cr_assert_eq(r.n, 2);
	expect(&r, 1, 0, false, "");
	rig_free(&r);
}

BOTH_MODES(counters_count_what_passed)
{
	struct rig r = { 0 };
	uint64_t passed0, dropped0, passed, dropped;

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);
	pump_ok(&r);
	cr_assert_eq(probe_counters(r.probe, &passed0, &dropped0), 0);

	add_macvtap(&r, "mvt0", vf);
	pump_ok(&r);
	cr_assert_eq(probe_counters(r.probe, &passed, &dropped), 0);
	cr_assert_geq(passed - passed0, 1);

	/* Untracked (as probe_source untracks a VF netdev that went: in both, so the macvtap
	 * on it stops being related too): the same event is now dropped. */
	cr_assert_eq(probe_untrack(r.probe, vf), 0);
	cr_assert_eq(probe_untrack(r.probe, vf), -ENOENT);
	cr_assert_eq(link_watch_untrack_vf(r.lw, vf), 0);
	passed0 = passed;
	dropped0 = dropped;
	del_link(&r, "mvt0");
	pump_ok(&r);
	cr_assert_eq(probe_counters(r.probe, &passed, &dropped), 0);
	cr_assert_eq(passed, passed0);
	cr_assert_geq(dropped - dropped0, 1);
	rig_free(&r);
}

/* ---- free means free: addresses, the default route, up ---------------------------------- */

/* The VF's verdict now, whatever was reported on the way. */
static void expect_now(struct rig *r, int vf, bool busy, uint32_t uses, const char *reason)
{
	char why[LINK_WATCH_REASON_MAX];
	uint32_t u;
	bool b;

	cr_assert_eq(link_watch_vf_state(r->lw, vf, &b, &u, why), 0);
	cr_expect_eq(b, busy, "busy %d, reason \"%s\"", b, why);
	cr_expect_eq(u, uses, "uses %#x, reason \"%s\"", u, why);
	cr_expect_str_eq(why, reason);
}

/* What link_watch decoded: proves an event that changed nothing did get through. */
static uint64_t decoded(struct rig *r)
{
	struct link_watch_stats st;

	link_watch_get_stats(r->lw, &st);
	return st.decoded;
}

static bool decoded_beyond(struct rig *r, uint64_t n)
{
	return decoded(r) > n;
}

BOTH_MODES(address_on_vf_makes_it_busy_and_delete_frees_it)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 2);

	netns_add_addr(r.sk, "vf0", "192.0.2.10/24");
	pump_ok(&r);
	cr_assert_eq(r.n, 1);
	expect(&r, 0, 2, true, "address 192.0.2.10 configured");
	cr_assert_eq(r.ev[0].uses, VFPOOL_HOST_USE_ADDRESS);

	netns_del_addr(r.sk, "vf0", "192.0.2.10/24");
	pump_ok(&r);
	cr_assert_eq(r.n, 2);
	expect(&r, 1, 2, false, "");
	rig_free(&r);
}

BOTH_MODES(ipv6_link_local_address_is_no_change_and_a_global_one_is)
{
	struct rig r = { 0 };
	uint64_t before;

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);

	before = decoded(&r);
	netns_add_addr(r.sk, "vf0", "fe80::10/64");
	pump_until(&r, decoded_beyond, before, "the link-local address's event");
	cr_assert_eq(r.n, 0, "a link-local address made the VF busy: %s", r.n ? r.ev[0].reason : "");

	netns_add_addr(r.sk, "vf0", "2001:db8::10/64");
	pump_until(&r, transitions_reach, 1, "the global address's event");
	cr_assert_eq(r.n, 1);
	expect(&r, 0, 0, true, "address 2001:db8::10 configured");
	rig_free(&r);
}

BOTH_MODES(vf_up_with_nothing_on_it_is_reported_not_busy)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);

	netns_set_up(r.sk, "vf0", true);
	pump_ok(&r);
	cr_assert_eq(r.n, 1);
	expect(&r, 0, 0, false, "up on the host, not leased");
	cr_assert_eq(r.ev[0].uses, VFPOOL_HOST_USE_UP);
	netns_set_up(r.sk, "vf0", false);
	pump_ok(&r);
	expect_now(&r, vf, false, 0, "");
	rig_free(&r);
}

BOTH_MODES(vf_up_with_nothing_on_it_is_busy_with_busy_when_up)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	link_watch_set_busy_when_up(r.lw, true);
	track(&r, vf, 0);

	netns_set_up(r.sk, "vf0", true);
	pump_ok(&r);
	cr_assert_eq(r.n, 1);
	expect(&r, 0, 0, true, "up on the host, not leased");
	rig_free(&r);
}

static void default_route_through_vf(bool fallback, int family)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);
	netns_set_up(r.sk, "vf0", true); /* a route needs its device up */

	netns_add_default_route(r.sk, family, "vf0");
	pump_ok(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_DEFAULT_ROUTE, "holds the default route");
	netns_del_default_route(r.sk, family, "vf0");
	pump_ok(&r);
	expect_now(&r, vf, false, VFPOOL_HOST_USE_UP, "up on the host, not leased");
	rig_free(&r);
}

BOTH_MODES(ipv4_default_route_through_vf_makes_it_busy_until_deleted)
{
	default_route_through_vf(fallback, AF_INET);
}

BOTH_MODES(ipv6_default_route_through_vf_makes_it_busy_until_deleted)
{
	default_route_through_vf(fallback, AF_INET6);
}

BOTH_MODES(default_route_through_a_bridge_over_the_vf_makes_it_busy)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	netns_add_bridge(r.sk, "br0");
	netns_set_up(r.sk, "br0", true);
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);
	cr_assert_eq(link_watch_resync(r.lw, NULL), 0);

	netns_enslave(r.sk, "br0", "vf0");
	netns_add_default_route(r.sk, AF_INET, "br0");
	pump_ok(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_BRIDGE_PORT | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");
	/* an address on the bridge is the bridge's, not the VF's */
	netns_add_addr(r.sk, "br0", "192.0.2.1/24");
	pump_ok(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_BRIDGE_PORT | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");
	netns_del_default_route(r.sk, AF_INET, "br0");
	pump_ok(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_BRIDGE_PORT, "enslaved to bridge br0");
	rig_free(&r);
}

BOTH_MODES(default_route_through_a_macvlan_on_the_vf_makes_it_busy)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);

	netns_add_macvlan(r.sk, "mv0", "vf0");
	netns_set_up(r.sk, "mv0", true);
	netns_add_default_route(r.sk, AF_INET6, "mv0");
	pump_ok(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_MACVTAP | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");
	netns_del_link(r.sk, "mv0");
	pump_ok(&r);
	expect_now(&r, vf, false, 0, "");
	rig_free(&r);
}

/* The route's device stacked on a bridge before the VF joined the bridge: its events were
 * none of the probe's business then, so the join asks for a resync, which finds it. */
BOTH_MODES(default_route_on_a_device_stacked_before_the_vf_joined_is_found_by_the_resync)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	netns_add_bridge(r.sk, "br0");
	netns_set_up(r.sk, "br0", true);
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);
	cr_assert_eq(link_watch_resync(r.lw, NULL), 0);

	netns_add_macvlan(r.sk, "mv0", "br0");
	netns_set_up(r.sk, "mv0", true);
	netns_add_default_route(r.sk, AF_INET, "mv0");
	pump_ok(&r);
	expect_now(&r, vf, false, 0, "");

	netns_enslave(r.sk, "br0", "vf0");
	pump_ok(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_BRIDGE_PORT, "enslaved to bridge br0");
	cr_assert(link_watch_resync_due(r.lw), "br0 joined as vf0's master: a resync is due");
	cr_assert_eq(link_watch_resync(r.lw, NULL), 0);
	cr_assert(!link_watch_resync_due(r.lw));
	expect_now(&r, vf, true, VFPOOL_HOST_USE_BRIDGE_PORT | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");

	/* from now on mv0's events are seen: the route leaves with it */
	netns_del_link(r.sk, "mv0");
	pump_ok(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_BRIDGE_PORT, "enslaved to bridge br0");
	rig_free(&r);
}

BOTH_MODES(default_route_replaced_onto_another_device_frees_the_vf)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	add_vf(&r, "eth9"); /* a device the probe does not track */
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);
	netns_set_up(r.sk, "vf0", true);
	netns_set_up(r.sk, "eth9", true);

	netns_add_default_route(r.sk, AF_INET, "vf0");
	pump_ok(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_DEFAULT_ROUTE, "holds the default route");
	/* announced only for eth9: the filter must pass a default route of any device */
	netns_replace_default_route(r.sk, AF_INET, "eth9");
	pump_ok(&r);
	expect_now(&r, vf, false, VFPOOL_HOST_USE_UP, "up on the host, not leased");
	rig_free(&r);
}

BOTH_MODES(unrelated_addresses_and_routes_never_reach_link_watch)
{
	struct rig r = { 0 };
	struct link_watch_stats st;
	uint64_t passed0, dropped0, passed, dropped;
	char cidr[32];

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	add_vf(&r, "u0");
	rig_probe(&r, fallback, 1 << 22);
	track(&r, vf, 0);
	netns_set_up(r.sk, "u0", true);
	pump_ok(&r);
	cr_assert_eq(probe_counters(r.probe, &passed0, &dropped0), 0);
	link_watch_get_stats(r.lw, &st);
	uint64_t decoded0 = st.decoded;

	for (int i = 0; i < 20; i++) {
		snprintf(cidr, sizeof(cidr), "198.51.100.%d/24", i + 1);
		netns_add_addr(r.sk, "u0", cidr);
		snprintf(cidr, sizeof(cidr), "2001:db8:%x::1/64", i + 1);
		netns_add_addr(r.sk, "u0", cidr); /* and its prefix route, not a default one */
	}
	pump_ok(&r);
	cr_assert_eq(probe_counters(r.probe, &passed, &dropped), 0);
	link_watch_get_stats(r.lw, &st);
	cr_assert_geq(dropped - dropped0, 40, "dropped %llu", (unsigned long long)(dropped - dropped0));
	cr_assert_eq(passed - passed0, 0, "an unrelated address or route passed the filter");
	cr_assert_eq(st.decoded, decoded0, "link_watch decoded an unrelated event");
	cr_assert_eq(r.n, 0);
	rig_free(&r);
}

BOTH_MODES(overrun_resync_finds_addresses_and_the_default_route)
{
	struct rig r = { 0 };
	char cidr[32];

	rig_links(&r);
	int vf0 = add_vf(&r, "vf0");
	int vf1 = add_vf(&r, "vf1");
	rig_probe(&r, fallback, 1); /* the kernel rounds it up to its minimum */
	track(&r, vf0, 0);
	track(&r, vf1, 1);
	netns_set_up(r.sk, "vf1", true);

	/* A burst of relevant events, unread: more than the socket can hold. */
	for (int i = 0; i < 60; i++) {
		snprintf(cidr, sizeof(cidr), "192.0.2.%d/24", i + 1);
		netns_add_addr(r.sk, "vf0", cidr);
		netns_del_addr(r.sk, "vf0", cidr);
	}
	netns_add_addr(r.sk, "vf0", "192.0.2.200/24");
	netns_add_default_route(r.sk, AF_INET6, "vf1");

	int err = pump(&r);
	cr_assert_eq(err, -ENOBUFS, "expected an overrun, got %d (%s)", err, strerror(-err));
	cr_assert_geq(probe_drain(r.probe), 0);
	cr_assert_eq(link_watch_resync(r.lw, NULL), 0);
	expect_now(&r, vf0, true, VFPOOL_HOST_USE_ADDRESS, "address 192.0.2.200 configured");
	expect_now(&r, vf1, true, VFPOOL_HOST_USE_DEFAULT_ROUTE, "holds the default route");
	rig_free(&r);
}

BOTH_MODES(addresses_and_default_route_present_before_start_are_found_by_resync)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf0 = add_vf(&r, "vf0");
	int vf1 = add_vf(&r, "vf1");
	int vf2 = add_vf(&r, "vf2");
	netns_add_addr(r.sk, "vf0", "2001:db8::5/64");
	netns_set_up(r.sk, "vf1", true);
	netns_add_default_route(r.sk, AF_INET, "vf1");
	netns_set_up(r.sk, "vf2", true);

	rig_probe(&r, fallback, 0);
	track(&r, vf0, 0);
	track(&r, vf1, 1);
	track(&r, vf2, 2);
	cr_assert_eq(link_watch_resync(r.lw, NULL), 0);
	expect_now(&r, vf0, true, VFPOOL_HOST_USE_ADDRESS, "address 2001:db8::5 configured");
	expect_now(&r, vf1, true, VFPOOL_HOST_USE_DEFAULT_ROUTE, "holds the default route");
	expect_now(&r, vf2, false, VFPOOL_HOST_USE_UP, "up on the host, not leased");
	cr_assert_eq(r.n, 3);
	/* nothing changed: nothing reported */
	cr_assert_eq(link_watch_resync(r.lw, NULL), 0);
	cr_assert_eq(r.n, 3);
	rig_free(&r);
}

/* ---- bonds and VLANs: this host's kernel has neither, the real-kernel guest has both ----- */

static void bond_or_skip(struct rig *r, const char *name)
{
	int err = netns_try_add_bond(r->sk, name);

	if (err < 0) {
		rig_free(r);
		cr_skip_test("kernel has no bonding support (modprobe bonding fails): creating "
			     "bond %s failed: %s", name, nl_geterror(err));
	}
}

static void vlan_or_skip(struct rig *r, const char *name, const char *lower)
{
	int err = netns_try_add_vlan(r->sk, name, lower, 100);

	if (err < 0) {
		rig_free(r);
		cr_skip_test("kernel has no 802.1Q support (modprobe 8021q fails): creating vlan "
			     "%s failed: %s", name, nl_geterror(err));
	}
}

/* What probe_source does after a batch: the resync a master's joining asks for. */
static void pump_and_resync(struct rig *r)
{
	pump_ok(r);
	if (link_watch_resync_due(r->lw))
		cr_assert_eq(link_watch_resync(r->lw, NULL), 0);
}

BOTH_MODES(vf_enslaved_to_a_bond_is_a_bond_member_until_released)
{
	struct rig r = { 0 };
	uint32_t uses;
	bool busy;

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);
	bond_or_skip(&r, "bond7");

	netns_enslave(r.sk, "bond7", "vf0"); /* the VF is down, as bonding wants */
	pump_and_resync(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_BOND_MEMBER, "bond member of bond7");

	netns_release(r.sk, "vf0");
	pump_and_resync(&r);
	cr_assert_eq(link_watch_vf_state(r.lw, vf, &busy, &uses, NULL), 0);
	cr_assert(!busy && !(uses & VFPOOL_HOST_USE_BOND_MEMBER), "released, still %#x", uses);
	rig_free(&r);
}

BOTH_MODES(default_route_through_a_vlan_on_the_vf_makes_it_busy)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);
	vlan_or_skip(&r, "vf0.100", "vf0");

	netns_set_up(r.sk, "vf0", true); /* a VLAN comes up only on a lower that is up */
	netns_set_up(r.sk, "vf0.100", true);
	netns_add_default_route(r.sk, AF_INET, "vf0.100");
	pump_and_resync(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_VLAN | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");
	netns_del_default_route(r.sk, AF_INET, "vf0.100");
	pump_and_resync(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_VLAN, "vlan vf0.100 on top");
	rig_free(&r);
}

BOTH_MODES(default_route_through_a_vlan_on_a_bond_of_the_vf_makes_it_busy)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);
	bond_or_skip(&r, "bond7");
	netns_enslave(r.sk, "bond7", "vf0");
	netns_set_up(r.sk, "bond7", true);
	vlan_or_skip(&r, "bond7.100", "bond7");
	netns_set_up(r.sk, "bond7.100", true);

	netns_add_default_route(r.sk, AF_INET6, "bond7.100");
	pump_and_resync(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_BOND_MEMBER | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");
	rig_free(&r);
}

/* The bond, its VLAN and the route were there before the VF joined the bond: the VLAN's
 * events were none of the probe's business then; the join's resync finds it. */
BOTH_MODES(vf_joining_a_bond_whose_vlan_holds_the_default_route_is_busy_for_the_route)
{
	struct rig r = { 0 };

	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	add_vf(&r, "eth9");
	rig_probe(&r, fallback, 0);
	track(&r, vf, 0);
	cr_assert_eq(link_watch_resync(r.lw, NULL), 0);
	bond_or_skip(&r, "bond7");
	netns_enslave(r.sk, "bond7", "eth9");
	netns_set_up(r.sk, "bond7", true);
	vlan_or_skip(&r, "bond7.100", "bond7");
	netns_set_up(r.sk, "bond7.100", true);
	netns_add_default_route(r.sk, AF_INET, "bond7.100");
	pump_ok(&r);
	expect_now(&r, vf, false, 0, "");

	netns_enslave(r.sk, "bond7", "vf0");
	pump_and_resync(&r);
	expect_now(&r, vf, true, VFPOOL_HOST_USE_BOND_MEMBER | VFPOOL_HOST_USE_DEFAULT_ROUTE,
		   "holds the default route");
	rig_free(&r);
}

/* Drops capabilities from the effective set (the test process is about to exit anyway). */
static void drop_caps(const int *caps, int n)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	cr_assert_eq(syscall(SYS_capget, &hdr, data), 0, "capget: %s", strerror(errno));
	for (int i = 0; i < n; i++)
		data[caps[i] / 32].effective &= ~(1u << (caps[i] % 32));
	cr_assert_eq(syscall(SYS_capset, &hdr, data), 0, "capset: %s", strerror(errno));
}

/* Not forced: the program really fails to load, the probe says why and decides in C. */
Test(probe_fallback, load_failure_falls_back_with_the_reason_and_still_decides)
{
	static const int bpf_caps[] = { CAP_BPF, CAP_SYS_ADMIN, CAP_PERFMON };
	struct probe_opts o = { 0 };
	struct rig r = { 0 };
	FILE *f;
	int unpriv = -1;

	rig_links(&r);
	f = fopen("/proc/sys/kernel/unprivileged_bpf_disabled", "re");
	if (f) {
		if (fscanf(f, "%d", &unpriv) != 1)
			unpriv = -1;
		fclose(f);
	}
	if (unpriv == 0)
		cr_skip_test("kernel.unprivileged_bpf_disabled is 0: without CAP_BPF the socket "
			     "filter still loads, so there is no failure to fall back from");
	int vf = add_vf(&r, "vf0");
	drop_caps(bpf_caps, 3);

	cr_assert_eq(probe_open(&o, &r.probe), 0);
	cr_assert_str_eq(probe_mode(r.probe), "fallback");
	cr_log_info("fallback reason: %s", probe_fallback_reason(r.probe));
	cr_assert(strncmp(probe_fallback_reason(r.probe), "loading BPF socket filter linkfilter: ",
			  strlen("loading BPF socket filter linkfilter: ")) == 0,
		  "reason: %s", probe_fallback_reason(r.probe));
	cr_assert(strstr(probe_fallback_reason(r.probe), strerror(EPERM)), "reason: %s",
		  probe_fallback_reason(r.probe));
	cr_assert_eq(link_watch_new(&r.lw, record, &r), 0);
	link_watch_set_related_cb(r.lw, relate, &r);
	link_watch_set_filter(r.lw, probe_filter, r.probe);
	track(&r, vf, 4);

	add_macvtap(&r, "mvt0", vf);
	pump_ok(&r);
	cr_assert_eq(r.n, 1);
	expect(&r, 0, 4, true, "mvt0 (macvtap) on top");
	rig_free(&r);
}

/* Under an active umockdev testbed /sys is the testbed's, so there is no kernel BTF: the
 * filter, built on UAPI headers without CO-RE, must load and filter all the same. The testbed
 * lives in a child process: with one active, Criterion's own reporting from this process is
 * lost. The child reports through its exit status. */
enum { UMOCK_OK, UMOCK_TESTBED, UMOCK_BTF_VISIBLE, UMOCK_OPEN, UMOCK_NOT_BPF, UMOCK_TRACK,
       UMOCK_NO_BUSY };

static int umockdev_child(struct rig *r, int vf)
{
	UMockdevTestbed *tb = umockdev_testbed_new();
	struct probe_opts o = { 0 };
	bool busy = false;

	if (!tb)
		return UMOCK_TESTBED;
	if (access("/sys/kernel/btf/vmlinux", F_OK) == 0)
		return UMOCK_BTF_VISIBLE;
	if (probe_open(&o, &r->probe) < 0)
		return UMOCK_OPEN;
	if (strcmp(probe_mode(r->probe), "bpf") != 0)
		return UMOCK_NOT_BPF;
	if (link_watch_new(&r->lw, record, r) < 0 || probe_track(r->probe, vf, 0) < 0 ||
	    link_watch_track_vf(r->lw, vf, 0) < 0)
		return UMOCK_TRACK;
	add_macvtap(r, "mvt0", vf);
	if (pump(r) < 0 || link_watch_vf_state(r->lw, vf, &busy, NULL, NULL) < 0 || !busy)
		return UMOCK_NO_BUSY;
	return UMOCK_OK;
}

Test(probe_bpf, loads_and_filters_inside_a_umockdev_testbed)
{
	static const char *const what[] = {
		[UMOCK_TESTBED] = "umockdev_testbed_new failed",
		[UMOCK_BTF_VISIBLE] = "kernel BTF visible inside the testbed: the test proves nothing",
		[UMOCK_OPEN] = "probe_open failed",
		[UMOCK_NOT_BPF] = "the filter did not load: fell back",
		[UMOCK_TRACK] = "tracking the VF failed",
		[UMOCK_NO_BUSY] = "a macvtap on the VF was not seen",
	};
	struct rig r = { 0 };
	int status;
	pid_t pid;

	if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "umockdev"))
		cr_skip_test("not running under umockdev-wrapper (run through tests/run.sh)");
	rig_links(&r);
	int vf = add_vf(&r, "vf0");
	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(umockdev_child(&r, vf));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the testbed child crashed (status %#x)", status);
	cr_assert_eq(WEXITSTATUS(status), UMOCK_OK, "%s",
		     WEXITSTATUS(status) < (int)(sizeof(what) / sizeof(what[0])) ?
			     what[WEXITSTATUS(status)] : "unknown failure");
	rig_free(&r);
}
