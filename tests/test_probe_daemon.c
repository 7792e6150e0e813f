/* SPDX-License-Identifier: MIT */
/*
 * The link-event probe inside the real daemon. Each test makes its own network namespace,
 * puts veth devices named like the simulated VF netdevs in it (vfpoold --simulate 1x4 names
 * them ens1f0v0..ens1f0v3), starts vfpoold there and watches the state segment through
 * libvfpool. Every behaviour runs in suite probe_daemon_bpf (filter in the kernel) and
 * probe_daemon_fallback (forced into userspace).
 *
 * What the daemon finds at start is in the segment before its socket accepts (the fixture
 * waits for that). Events are handled in the daemon's own time, so each check after one
 * polls the snapshot until the expected state shows or a generous bound passes; nothing
 * asserts how long it took.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "tests/daemon_fixture.h"
#include "tests/netns_links.h"
#include "tests/prom_parse.h"
#include "vfpool/vfpool.h"

#define WAIT_POLLS 5000   /* x POLL_US: the bound on waiting for the daemon */
#define POLL_US    2000
#define VF_PCI(n)  "0001:00:00." #n /* the simulated VF n of PF 0 */

struct rig {
	bool fallback;
	struct nl_sock *sk;
	struct test_daemon d;
	struct vfpool_snapshot *snap;
};

/* The namespace with ens1f0v0..3 in it; the daemon is started by rig_start. */
static void rig_links(struct rig *r, bool fallback)
{
	char name[IFNAMSIZ];

	r->fallback = fallback;
	r->sk = netns_enter();
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "ens1f0v%d", i);
		netns_add_veth(r->sk, name);
	}
}

static void rig_start(struct rig *r)
{
	test_daemon_start(&r->d, "1x4", r->fallback ? "--probe=fallback" : "--probe=bpf", NULL);
	cr_assert_eq(vfpool_snapshot_take(r->d.run_dir, &r->snap), 0, "first snapshot");
}

static void rig_start_busy_when_up(struct rig *r)
{
	test_daemon_start(&r->d, "1x4", r->fallback ? "--probe=fallback" : "--probe=bpf",
			  "--busy-when-up", NULL);
	cr_assert_eq(vfpool_snapshot_take(r->d.run_dir, &r->snap), 0, "first snapshot");
}

static void rig_stop(struct rig *r)
{
	vfpool_snapshot_free(r->snap);
	cr_assert_eq(test_daemon_stop(&r->d), 0, "daemon did not shut down cleanly");
	nl_socket_free(r->sk);
}

static void vf_info(struct rig *r, unsigned vf, struct vfpool_vf_info *ret)
{
	cr_assert_eq(vfpool_snapshot_vf(r->snap, vf, ret), 0);
}

static void daemon_info(struct rig *r, struct vfpool_daemon_info *ret)
{
	cr_assert_eq(vfpool_snapshot_daemon(r->snap, ret), 0);
}

static void refresh(struct rig *r)
{
	int err = vfpool_snapshot_refresh(r->snap);

	cr_assert_eq(err, 0, "snapshot: %s", vfpool_strerror(err));
	cr_assert(test_daemon_alive(&r->d), "vfpoold died; see %s", r->d.log_path);
}

/* Waits until VF vf shows status with reason; fails with what it showed last. */
static void wait_vf(struct rig *r, unsigned vf, enum vfpool_vf_status status, const char *reason)
{
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

	for (int i = 0; i < WAIT_POLLS; i++) {
		refresh(r);
		vf_info(r, vf, &v);
		if (v.status == status && strcmp(v.reason, reason) == 0)
			return;
		usleep(POLL_US);
	}
	cr_assert_fail("VF %u (%s): still %s \"%s\", expected %s \"%s\"; see %s", vf, v.netdev,
		       vfpool_vf_status_name(v.status), v.reason, vfpool_vf_status_name(status),
		       reason, r->d.log_path);
}

/* Waits until the published filter counters reach at least the given values. */
static void wait_counters(struct rig *r, uint64_t passed, uint64_t dropped,
			  struct vfpool_daemon_info *ret)
{
	for (int i = 0; i < WAIT_POLLS; i++) {
		refresh(r);
		daemon_info(r, ret);
		if (ret->probe_passed >= passed && ret->probe_dropped >= dropped)
			return;
		usleep(POLL_US);
	}
	cr_assert_fail("probe counters: %llu passed, %llu dropped; expected at least %llu, %llu",
		       (unsigned long long)ret->probe_passed, (unsigned long long)ret->probe_dropped,
		       (unsigned long long)passed, (unsigned long long)dropped);
}

static int alloc_pinned(struct rig *r, const char *pci, const char *vnic, char *why, size_t n,
			struct vfpool_lease *ret_lease)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = vnic, .network = "red", .pin_pci = pci, .numa_node = -1);
	struct vfpool *h = NULL;
	int err = vfpool_connect(r->d.run_dir, NULL, &h);

	cr_assert_eq(err, 0, "connect: %s", vfpool_strerror(err));
	why[0] = '\0';
	err = vfpool_alloc(h, &req, ret_lease, why, n);
	vfpool_close(h);
	return err;
}

/* Lines of the daemon's log that contain needle. */
static unsigned log_count(struct rig *r, const char *needle)
{
	char line[512];
	unsigned n = 0;
	FILE *f = fopen(r->d.log_path, "re");

	cr_assert_not_null(f, "%s: %s", r->d.log_path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* One body, two suites. */
#define BOTH_MODES(name)                                                                    \
	static void name##_body(bool fallback);                                              \
	Test(probe_daemon_bpf, name) { name##_body(false); }                                 \
	Test(probe_daemon_fallback, name) { name##_body(true); }                             \
	static void name##_body(bool fallback)

BOTH_MODES(snapshot_shows_the_mode_and_the_vf_ifindexes_of_this_namespace)
{
	struct rig r = { 0 };
	struct vfpool_daemon_info d = VFPOOL_OPTS(vfpool_daemon_info);
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

	rig_links(&r, fallback);
	rig_start(&r);
	daemon_info(&r, &d);
	if (fallback) {
		cr_assert_str_eq(d.probe_mode, "fallback");
		cr_assert_str_eq(d.probe_reason, "BPF socket filter disabled by configuration");
		cr_assert_eq(log_count(&r, "event=probe_fallback"), 1,
			     "the fallback reason is logged once");
	} else {
		cr_assert_str_eq(d.probe_mode, "bpf", "fell back: %s", d.probe_reason);
		cr_assert_str_eq(d.probe_reason, "");
		cr_assert_eq(log_count(&r, "event=probe_fallback"), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		vf_info(&r, i, &v);
		cr_assert_eq(v.ifindex, netns_ifindex(r.sk, v.netdev), "VF %u (%s): ifindex", i,
			     v.netdev);
	}
	rig_stop(&r);
}

BOTH_MODES(macvtap_passthru_makes_the_vf_host_busy_and_refuses_a_pinned_alloc_until_deleted)
{
	struct rig r = { 0 };
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	char why[160];
	int err;

	rig_links(&r, fallback);
	rig_start(&r);
	vf_info(&r, 1, &v);
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_FREE, "before: %s", vfpool_vf_status_name(v.status));

	netns_add_macvtap_passthru(r.sk, "mvt0", "ens1f0v1");
	wait_vf(&r, 1, VFPOOL_VF_STATUS_HOST_BUSY, "mvt0 (macvtap) on top");
	err = alloc_pinned(&r, VF_PCI(1), "nic0", why, sizeof(why), &l);
	cr_assert_eq(err, -EPERM, "pinned alloc of a host-busy VF: %d (%s)", err, why);
	cr_assert_str_eq(why, VF_PCI(1) ": mvt0 (macvtap) on top");

	netns_del_link(r.sk, "mvt0");
	wait_vf(&r, 1, VFPOOL_VF_STATUS_FREE, "");
	err = alloc_pinned(&r, VF_PCI(1), "nic0", why, sizeof(why), &l);
	cr_assert_eq(err, 0, "pinned alloc after the macvtap went: %s", why);
	cr_assert_str_eq(l.pci_addr, VF_PCI(1));
	rig_stop(&r);
}

BOTH_MODES(vf_enslaved_to_a_bridge_is_host_busy_until_released)
{
	struct rig r = { 0 };
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

	rig_links(&r, fallback);
	netns_add_bridge(r.sk, "br0");
	rig_start(&r);
	vf_info(&r, 2, &v);
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_FREE, "before: %s", vfpool_vf_status_name(v.status));

	netns_enslave(r.sk, "br0", "ens1f0v2");
	wait_vf(&r, 2, VFPOOL_VF_STATUS_HOST_BUSY, "enslaved to bridge br0");
	netns_release(r.sk, "ens1f0v2");
	wait_vf(&r, 2, VFPOOL_VF_STATUS_FREE, "");
	rig_stop(&r);
}

BOTH_MODES(bridge_on_a_vf_before_the_daemon_starts_is_host_busy_at_start)
{
	struct rig r = { 0 };
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

	rig_links(&r, fallback);
	netns_add_bridge(r.sk, "br0");
	netns_enslave(r.sk, "br0", "ens1f0v3");
	rig_start(&r);

	/* no event after the start: the daemon found it in its first dump */
	vf_info(&r, 3, &v);
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_HOST_BUSY, "VF 3 is %s", vfpool_vf_status_name(v.status));
	cr_assert_str_eq(v.reason, "enslaved to bridge br0");
	for (unsigned i = 0; i < 3; i++) {
		vf_info(&r, i, &v);
		cr_assert_eq(v.status, VFPOOL_VF_STATUS_FREE, "VF %u (%s) is %s", i, v.netdev,
			     vfpool_vf_status_name(v.status));
	}
	rig_stop(&r);
}

BOTH_MODES(unrelated_devices_flapping_are_dropped_and_the_vfs_stay_free)
{
	enum { PAIRS = 30 };
	struct rig r = { 0 };
	struct vfpool_daemon_info before = VFPOOL_OPTS(vfpool_daemon_info);
	struct vfpool_daemon_info after = VFPOOL_OPTS(vfpool_daemon_info);
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	char name[IFNAMSIZ];

	rig_links(&r, fallback);
	rig_start(&r);
	daemon_info(&r, &before);

	for (int i = 0; i < PAIRS; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		netns_add_veth(r.sk, name);
		netns_set_up(r.sk, name, true);
		netns_set_up(r.sk, name, false);
		netns_del_link(r.sk, name);
	}
	/* In bpf mode the kernel dropped all of that without waking the daemon; an event about
	 * a VF wakes it, and it publishes the counters with every batch it reads. */
	netns_set_up(r.sk, "ens1f0v0", true);

	/* each pair: created, up, down, deleted, each seen as at least one message */
	wait_counters(&r, before.probe_passed + 1, before.probe_dropped + 4 * PAIRS, &after);
	cr_log_info("%s: %llu passed, %llu dropped", after.probe_mode,
		    (unsigned long long)after.probe_passed, (unsigned long long)after.probe_dropped);
	cr_assert_lt(after.probe_passed - before.probe_passed,
		     after.probe_dropped - before.probe_dropped,
		     "more events passed the filter than it dropped");
	for (unsigned i = 0; i < 4; i++) {
		vf_info(&r, i, &v);
		cr_assert_eq(v.status, VFPOOL_VF_STATUS_FREE, "VF %u (%s) is %s: %s", i, v.netdev,
			     vfpool_vf_status_name(v.status), v.reason);
	}
	rig_stop(&r);
}

/* Runs vfpoolctl against the rig's daemon; returns its whole stdout (static buffer) and its
 * wait status. */
static const char *vfpoolctl_status(struct rig *r, const char *args, int *ret_status)
{
	static char out[32768];
	char cmd[512];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' --run-dir '%s' %s", test_build_path("vfpoolctl"),
		 r->d.run_dir, args);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "%s: %s", cmd, strerror(errno));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	*ret_status = pclose(p);
	return out;
}

/* The same for a command that must succeed. */
static const char *vfpoolctl(struct rig *r, const char *args)
{
	int status;
	const char *out = vfpoolctl_status(r, args, &status);

	cr_assert_eq(status, 0, "vfpoolctl %s failed: %s", args, out);
	return out;
}

BOTH_MODES(vfpoolctl_snapshot_shows_the_probe_in_the_table_and_in_json)
{
	struct rig r = { 0 };
	char want[256];
	const char *out;

	rig_links(&r, fallback);
	rig_start(&r);
	/* the counters move between two reads: match up to them */
	out = vfpoolctl(&r, "snapshot");
	snprintf(want, sizeof(want), "\nprobe: %s, ", fallback ? "fallback" : "bpf");
	cr_assert_not_null(strstr(out, want), "no \"%s\" line in:\n%s", want + 1, out);
	cr_assert_not_null(strstr(out, " passed, "), "%s", out);
	if (fallback)
		cr_assert_not_null(strstr(out, " dropped (BPF socket filter disabled by "
					   "configuration)\n"), "%s", out);
	out = vfpoolctl(&r, "--json snapshot");
	snprintf(want, sizeof(want), "\"probe\":{\"mode\":\"%s\",\"passed\":",
		 fallback ? "fallback" : "bpf");
	cr_assert_not_null(strstr(out, want), "no %s in:\n%s", want, out);
	snprintf(want, sizeof(want), "\"reason\":\"%s\"}",
		 fallback ? "BPF socket filter disabled by configuration" : "");
	cr_assert_not_null(strstr(out, want), "no %s in:\n%s", want, out);
	rig_stop(&r);
}

Test(probe_daemon_off, probe_off_is_shown_and_leaves_the_records_alone)
{
	struct rig r = { 0 };
	struct vfpool_daemon_info d = VFPOOL_OPTS(vfpool_daemon_info);
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

	rig_links(&r, false);
	test_daemon_start(&r.d, "1x4", "--probe=off", NULL);
	cr_assert_eq(vfpool_snapshot_take(r.d.run_dir, &r.snap), 0);
	daemon_info(&r, &d);
	cr_assert_str_eq(d.probe_mode, "off");
	cr_assert_str_eq(d.probe_reason, "disabled by --probe=off");
	vf_info(&r, 0, &v);
	cr_assert_eq(v.ifindex, 1000, "the simulated ifindex was rewritten without a probe");
	rig_stop(&r);
}

/* ---- free means free: what the tools show ------------------------------------------------ */

/* vfpoolctl metrics, parsed: the sum of the samples of name with label. */
static double metric(struct rig *r, const char *name, const char *label)
{
	struct prom_doc doc;
	char why[256];
	double v;

	cr_assert_eq(prom_parse(vfpoolctl(r, "metrics"), &doc, why, sizeof(why)), 0, "%s", why);
	v = prom_sum(&doc, name, label);
	prom_free(&doc);
	return v;
}

static void expect_in(const char *out, const char *want)
{
	cr_assert_not_null(strstr(out, want), "no \"%s\" in:\n%s", want, out);
}

BOTH_MODES(address_on_a_vf_is_host_busy_in_pf_show_the_snapshot_json_and_the_metrics)
{
	struct rig r = { 0 };
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	char why[160];
	int err;

	rig_links(&r, fallback);
	rig_start(&r);
	netns_add_addr(r.sk, "ens1f0v1", "192.0.2.7/24");
	wait_vf(&r, 1, VFPOOL_VF_STATUS_HOST_BUSY, "address 192.0.2.7 configured");
	vf_info(&r, 1, &v);
	cr_assert_eq(v.host_use, VFPOOL_VF_USE_ADDRESS);
	err = alloc_pinned(&r, VF_PCI(1), "nic0", why, sizeof(why), &l);
	cr_assert_eq(err, -EPERM, "pinned alloc of a VF with an address: %d (%s)", err, why);
	cr_assert_str_eq(why, VF_PCI(1) ": address 192.0.2.7 configured");

	expect_in(vfpoolctl(&r, "pf show 0"), "1 host-busy (1 address),");
	expect_in(vfpoolctl(&r, "pf show 0"), "host-busy  address 192.0.2.7 configured\n");
	expect_in(vfpoolctl(&r, "--json pf show 0"),
		  "\"reason\":\"address 192.0.2.7 configured\",\"host_use\":[\"address\"]");
	expect_in(vfpoolctl(&r, "--json snapshot"),
		  "\"reason\":\"address 192.0.2.7 configured\",\"host_use\":[\"address\"]");
	cr_assert_eq(metric(&r, "vfpool_vfs_blocked", "pf=\"ens1f0\",reason=\"address\""), 1.0);
	cr_assert_eq(metric(&r, "vfpool_vfs_blocked", "reason=\"default_route\""), 0.0);

	netns_del_addr(r.sk, "ens1f0v1", "192.0.2.7/24");
	wait_vf(&r, 1, VFPOOL_VF_STATUS_FREE, "");
	cr_assert_eq(metric(&r, "vfpool_vfs_blocked", "reason=\"address\""), 0.0);
	rig_stop(&r);
}

BOTH_MODES(default_route_through_a_vf_is_host_busy_and_refuses_a_pinned_alloc)
{
	struct rig r = { 0 };
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160];
	int err;

	rig_links(&r, fallback);
	rig_start(&r);
	netns_set_up(r.sk, "ens1f0v2", true);
	netns_add_default_route(r.sk, AF_INET, "ens1f0v2");
	wait_vf(&r, 2, VFPOOL_VF_STATUS_HOST_BUSY, "holds the default route");
	err = alloc_pinned(&r, VF_PCI(2), "nic0", why, sizeof(why), &l);
	cr_assert_eq(err, -EPERM, "pinned alloc of the default route's VF: %d (%s)", err, why);
	cr_assert_str_eq(why, VF_PCI(2) ": holds the default route");
	cr_assert_eq(metric(&r, "vfpool_vfs_blocked", "reason=\"default_route\""), 1.0);
	expect_in(vfpoolctl(&r, "--json snapshot"), "\"host_use\":[\"default_route\"]");
	netns_del_default_route(r.sk, AF_INET, "ens1f0v2");
	wait_vf(&r, 2, VFPOOL_VF_STATUS_FREE, "up on the host, not leased");
	rig_stop(&r);
}

BOTH_MODES(vf_up_on_the_host_is_allocatable_and_reported_by_the_snapshot_and_doctor)
{
	struct rig r = { 0 };
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	const char *out;
	char why[160];
	int err, status;

	rig_links(&r, fallback);
	rig_start(&r);
	netns_set_up(r.sk, "ens1f0v3", true);
	wait_vf(&r, 3, VFPOOL_VF_STATUS_FREE, "up on the host, not leased");
	vf_info(&r, 3, &v);
	cr_assert_eq(v.host_use, VFPOOL_VF_USE_UP);
	expect_in(vfpoolctl(&r, "--json snapshot"),
		  "\"state\":\"free\",\"reason\":\"up on the host, not leased\",\"host_use\":[\"up\"]");
	expect_in(vfpoolctl(&r, "pf show 0"), "; 1 up on the host, not leased (allocatable)");
	cr_assert_eq(metric(&r, "vfpool_vfs_up_not_leased", "pf=\"ens1f0\""), 1.0);
	cr_assert_eq(metric(&r, "vfpool_vfs_blocked", "reason=\"up\""), 0.0);
	/* the host checks depend on this machine; the VF line does not */
	out = vfpoolctl_status(&r, "doctor", &status);
	expect_in(out, "WARN vf: " VF_PCI(3) " (ens1f0v3): up on the host, not leased: "
		       "allocatable");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) >= 1, "doctor: status %#x", status);

	err = alloc_pinned(&r, VF_PCI(3), "nic0", why, sizeof(why), &l);
	cr_assert_eq(err, 0, "pinned alloc of a VF that is only up: %s", why);
	rig_stop(&r);
}

BOTH_MODES(busy_when_up_makes_a_vf_up_on_the_host_host_busy)
{
	struct rig r = { 0 };
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	const char *out;
	char why[160];
	int err, status;

	rig_links(&r, fallback);
	netns_set_up(r.sk, "ens1f0v0", true); /* up before the start: found by the first dump */
	rig_start_busy_when_up(&r);
	wait_vf(&r, 0, VFPOOL_VF_STATUS_HOST_BUSY, "up on the host, not leased");
	netns_set_up(r.sk, "ens1f0v3", true);
	wait_vf(&r, 3, VFPOOL_VF_STATUS_HOST_BUSY, "up on the host, not leased");
	err = alloc_pinned(&r, VF_PCI(3), "nic0", why, sizeof(why), &l);
	cr_assert_eq(err, -EPERM, "pinned alloc of an up VF with --busy-when-up: %d (%s)", err,
		     why);
	cr_assert_eq(metric(&r, "vfpool_vfs_blocked", "reason=\"up\""), 2.0);
	out = vfpoolctl_status(&r, "doctor", &status);
	expect_in(out, "WARN vf: " VF_PCI(3) " (ens1f0v3): up on the host, not leased: host-busy "
		       "(vfpoold --busy-when-up)");
	netns_set_up(r.sk, "ens1f0v3", false);
	wait_vf(&r, 3, VFPOOL_VF_STATUS_FREE, "");
	rig_stop(&r);
}

/* This host's kernel has no bonding: skips here, runs on the real-kernel guest. */
BOTH_MODES(vf_in_a_bond_is_host_busy_as_a_bond_member)
{
	struct rig r = { 0 };
	int err;

	rig_links(&r, fallback);
	err = netns_try_add_bond(r.sk, "bond7");
	if (err < 0) {
		nl_socket_free(r.sk);
		cr_skip_test("kernel has no bonding support (modprobe bonding fails): creating "
			     "bond bond7 failed: %s", nl_geterror(err));
	}
	rig_start(&r);
	netns_enslave(r.sk, "bond7", "ens1f0v2");
	wait_vf(&r, 2, VFPOOL_VF_STATUS_HOST_BUSY, "bond member of bond7");
	cr_assert_eq(metric(&r, "vfpool_vfs_blocked", "reason=\"bond_member\""), 1.0);
	expect_in(vfpoolctl(&r, "pf show 0"), "1 host-busy (1 bond_member),");
	/* bonding closes a slave it releases: down again, nothing on it */
	netns_release(r.sk, "ens1f0v2");
	wait_vf(&r, 2, VFPOOL_VF_STATUS_FREE, "");
	rig_stop(&r);
}
