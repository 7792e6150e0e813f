/* SPDX-License-Identifier: MIT */
/*
 * PFs that come and go after vfpoold started (a hot-plugged card, a driver loaded late): a
 * new PF joins the pool without a restart, in the room the state segment reserved
 * (--max-pfs, --max-vfs); one that goes has its VFs marked absent and its record kept
 * (VFPOOL_PF_GONE) until it comes back. The test plays the kernel on a umockdev testbed:
 * it adds the devices, then sends their uevents, as the kernel would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"
#include "tests/state_dir.h"
#include "tests/udev_testbed.h"
#include "vfpool/vfpool.h"

#define MLX "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0"

struct bed {
	UMockdevTestbed *tb;
	char state_dir[64];
	struct test_daemon d;
};

static void bed_start(struct bed *b, const char *fixture, const char *max_pfs)
{
	testbed_require_wrapper();
	memset(b, 0, sizeof(*b));
	b->tb = fixture ? testbed_from_fixture(fixture) : umockdev_testbed_new();
	cr_assert(b->tb);
	state_dir_make(b->state_dir, sizeof(b->state_dir));
	test_daemon_start_discovered(&b->d, b->state_dir, "--spin-us", "0", "--max-pfs", max_pfs,
				     NULL);
}

static void bed_close(struct bed *b)
{
	cr_assert_eq(test_daemon_stop(&b->d), 0, "vfpoold did not shut down cleanly");
	state_dir_remove(b->state_dir);
	g_object_unref(b->tb);
}

/* A PF at 0000:<bus>:00.0 (netdev <netdev>, an E810 under ice) with n of its 4 VFs, each
 * in an IOMMU group of its own; added to the testbed, then announced VFs first. */
static void plug_pf(struct bed *b, unsigned bus, const char *netdev, unsigned n)
{
	char pf[64], *s;
	GString *g = g_string_new(NULL);
	GError *err = NULL;

	snprintf(pf, sizeof(pf), "0000:%02x:00.0", bus);
	g_string_append_printf(g, "P: /devices/pci0000:%02x/%s\nE: SUBSYSTEM=pci\n"
			       "E: PCI_SLOT_NAME=%s\nA: vendor=0x8086\nA: device=0x1592\n"
			       "A: class=0x020000\nA: numa_node=1\nA: sriov_totalvfs=4\n"
			       "A: sriov_numvfs=%u\n", bus, pf, pf, n);
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(g, "L: virtfn%u=../0000:%02x:01.%u\n", i, bus, i);
	g_string_append_printf(g, "\nP: /devices/pci0000:%02x/%s/net/%s\nE: SUBSYSTEM=net\n"
			       "E: INTERFACE=%s\nA: ifindex=%u\n", bus, pf, netdev, netdev,
			       200 + bus);
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(g, "\nP: /devices/pci0000:%02x/0000:%02x:01.%u\n"
				       "E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:%02x:01.%u\n"
				       "A: vendor=0x8086\nA: device=0x1889\nA: class=0x020000\n"
				       "L: physfn=../%s\n"
				       "L: iommu_group=../../../kernel/iommu_groups/%u\n",
				       bus, bus, i, bus, i, pf, 700 + bus * 8 + i);
	s = g_string_free(g, FALSE);
	cr_assert(umockdev_testbed_add_from_string(b->tb, s, &err), "%s", err ? err->message : "");
	g_free(s);
	for (unsigned i = 0; i < n; i++) {
		char vf[96];

		snprintf(vf, sizeof(vf), "/sys/devices/pci0000:%02x/0000:%02x:01.%u", bus, bus, i);
		umockdev_testbed_uevent(b->tb, vf, "add");
	}
	snprintf(pf, sizeof(pf), "/sys/devices/pci0000:%02x/0000:%02x:00.0", bus, bus);
	umockdev_testbed_uevent(b->tb, pf, "add");
}

/* The PF with this netdev in a fresh snapshot (false: none). */
static bool pf_by_netdev(const struct bed *b, const char *netdev, struct vfpool_pf_info *ret)
{
	struct vfpool_snapshot *s;
	bool found = false;

	cr_assert_eq(vfpool_snapshot_take(b->d.run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_pf_count(s) && !found; i++) {
		cr_assert_eq(vfpool_snapshot_pf(s, i, ret), 0);
		found = strcmp(ret->netdev, netdev) == 0;
	}
	vfpool_snapshot_free(s);
	return found;
}

/* Polls (bounded; no timing asserted) until the PF shows `existing` VFs. */
static bool wait_pf(const struct bed *b, const char *netdev, unsigned existing,
		    struct vfpool_pf_info *ret)
{
	for (int i = 0; i < 1000; i++) {
		if (pf_by_netdev(b, netdev, ret) && ret->existing == existing)
			return true;
		usleep(10000);
	}
	return false;
}

static bool log_has(const struct bed *b, const char *needle)
{
	char *log = read_whole_file(b->d.log_path);
	bool found = strstr(log, needle) != NULL;

	free(log);
	return found;
}

static void ctl_ok(const struct bed *b, const char *args)
{
	char *out;
	int st = run_capture(&out, "%s --run-dir %s %s 2>&1", test_build_path("vfpoolctl"),
			     b->d.run_dir, args);

	cr_assert_eq(st, 0, "vfpoolctl %s: %s", args, out);
	free(out);
}

TestSuite(daemon_hotplug, .timeout = 60);

Test(daemon_hotplug, a_pf_plugged_after_start_is_managed_and_allocatable_without_restart)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1",
		.vnic_id = "nic0", .network = "red", .numa_node = -1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);
	struct vfpool_snapshot *early;
	struct vfpool *c;
	struct bed b;
	char why[256] = "";

	bed_start(&b, NULL, "4"); /* a host without SR-IOV, so far */
	/* a policy with a network: the new PF must join it to serve the network */
	ctl_ok(&b, "network add red");
	cr_assert_eq(vfpool_snapshot_take(b.d.run_dir, &early), 0);
	cr_assert_eq(vfpool_snapshot_pf_count(early), 0u);
	c = connect_ok(&b.d);
	cr_assert_eq(vfpool_alloc(c, &req, &l, why, sizeof(why)), -ENOSPC);
	cr_assert_str_eq(why, "no SR-IOV PF on this host");

	plug_pf(&b, 0xaf, "ens9f0", 2);
	cr_assert(wait_pf(&b, "ens9f0", 2, &p), "the plugged PF was not managed");
	cr_assert_eq(p.total_vfs, 4u);
	cr_assert_eq(p.free, 2u);
	cr_assert_eq(p.vendor, 0x8086);
	/* a reader that mapped the segment before follows it: same object, refreshed */
	cr_assert_eq(vfpool_snapshot_refresh(early), 0);
	cr_assert_eq(vfpool_snapshot_pf_count(early), 1u);
	cr_assert_eq(vfpool_snapshot_vf_count(early), 4u);
	vfpool_snapshot_free(early);

	cr_assert_eq(vfpool_alloc(c, &req, &l, why, sizeof(why)), 0, "%s", why);
	cr_assert(strncmp(l.pci_addr, "0000:af:01.", 11) == 0, "leased %s", l.pci_addr);
	cr_assert_str_eq(l.pf_netdev, "ens9f0");
	cr_assert_eq(vfpool_release(c, "vm1", "nic0", l.generation, NULL, 0), 0);
	vfpool_close(c);
	cr_assert(log_has(&b, "event=pf_added pci=0000:af:00.0 netdev=ens9f0"));
	bed_close(&b);
}

Test(daemon_hotplug, a_pf_that_disappears_has_its_vfs_absent_and_comes_back_to_its_record)
{
	struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);
	static const char *const vfs[] = {
		"/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.2",
		"/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.3",
	};
	struct vfpool_snapshot *s;
	struct bed b;
	int i;

	bed_start(&b, "host_two_vendors.umockdev", "32");
	cr_assert(wait_pf(&b, "ens2f0", 2, &p));
	cr_assert_eq(p.flags & VFPOOL_PF_GONE, 0u);
	for (i = 0; i < 2; i++) {
		umockdev_testbed_uevent(b.tb, vfs[i], "remove");
		umockdev_testbed_remove_device(b.tb, vfs[i]);
	}
	/* the kernel takes the PF's netdev first, then the PF */
	umockdev_testbed_uevent(b.tb, MLX "/net/ens2f0", "remove");
	umockdev_testbed_remove_device(b.tb, MLX "/net/ens2f0");
	umockdev_testbed_uevent(b.tb, MLX, "remove");
	umockdev_testbed_remove_device(b.tb, MLX);
	for (i = 0; i < 1000; i++) {
		if (pf_by_netdev(&b, "ens2f0", &p) && (p.flags & VFPOOL_PF_GONE))
			break;
		usleep(10000);
	}
	cr_assert(p.flags & VFPOOL_PF_GONE, "the removed PF is not marked gone");
	cr_assert_eq(p.existing, 0u, "the removed PF's VFs are not absent");
	cr_assert_eq(p.free, 0u);
	cr_assert_eq(vfpool_snapshot_take(b.d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_pf_count(s), 3u, "the record of a gone PF is kept");
	vfpool_snapshot_free(s);
	cr_assert(log_has(&b, "event=pf_gone pci=0000:5e:00.0"));

	/* back under the same address (a re-plug, a driver reload): the same record */
	{
		GError *err = NULL;
		const char *again =
			"P: /devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0\nE: SUBSYSTEM=pci\n"
			"E: PCI_SLOT_NAME=0000:5e:00.0\nA: vendor=0x15b3\nA: device=0x101d\n"
			"A: class=0x020000\nA: numa_node=1\nA: sriov_totalvfs=4\n"
			"A: sriov_numvfs=1\nL: virtfn0=../0000:5e:00.2\n\n"
			"P: /devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0/net/ens2f0\n"
			"E: SUBSYSTEM=net\nE: INTERFACE=ens2f0\nA: ifindex=12\n\n"
			"P: /devices/pci0000:5d/0000:5d:00.0/0000:5e:00.2\nE: SUBSYSTEM=pci\n"
			"E: PCI_SLOT_NAME=0000:5e:00.2\nA: vendor=0x15b3\nA: device=0x101e\n"
			"L: physfn=../0000:5e:00.0\n"
			"L: iommu_group=../../../../kernel/iommu_groups/90\n";

		cr_assert(umockdev_testbed_add_from_string(b.tb, again, &err), "%s",
			  err ? err->message : "");
	}
	umockdev_testbed_uevent(b.tb, vfs[0], "add");
	umockdev_testbed_uevent(b.tb, MLX, "add");
	cr_assert(wait_pf(&b, "ens2f0", 1, &p), "the PF did not come back");
	cr_assert_eq(p.flags & VFPOOL_PF_GONE, 0u);
	cr_assert_eq(vfpool_snapshot_take(b.d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_pf_count(s), 3u, "it came back as a new record");
	vfpool_snapshot_free(s);
	bed_close(&b);
}

Test(daemon_hotplug, a_pf_beyond_max_pfs_is_left_unmanaged_and_logged)
{
	static const char want[] = "event=pf_not_managed pci=0000:b0:00.0 netdev=ens10f0 "
		"total_vfs=4 reason=\"no room left in the state segment (1 PFs, 4096 VF slots: "
		"--max-pfs, --max-vfs); restart vfpoold to manage it\"";
	struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);
	struct vfpool_snapshot *s;
	struct bed b;
	int i;

	bed_start(&b, NULL, "1");
	plug_pf(&b, 0xaf, "ens9f0", 2);
	cr_assert(wait_pf(&b, "ens9f0", 2, &p));
	plug_pf(&b, 0xb0, "ens10f0", 1);
	/* the whole line, waited for: the PF's first event may come before its netdev does,
	 * and the refusal is said again at each later burst */
	for (i = 0; i < 1000 && !log_has(&b, want); i++)
		usleep(10000);
	cr_assert(log_has(&b, want), "see %s", b.d.log_path);
	cr_assert_eq(vfpool_snapshot_take(b.d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_pf_count(s), 1u);
	vfpool_snapshot_free(s);
	cr_assert(test_daemon_alive(&b.d));
	bed_close(&b);
}

Test(daemon_hotplug, a_selector_added_at_run_time_manages_a_pf_without_restart)
{
	struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);
	struct bed b;

	testbed_require_wrapper();
	memset(&b, 0, sizeof(b));
	b.tb = testbed_from_fixture("host_two_vendors.umockdev");
	/* ens2f0 as a storage controller: the default selector leaves it out */
	umockdev_testbed_set_attribute(b.tb, MLX, "class", "0x010802");
	state_dir_make(b.state_dir, sizeof(b.state_dir));
	test_daemon_start_discovered(&b.d, b.state_dir, "--spin-us", "0", NULL);
	cr_assert(!pf_by_netdev(&b, "ens2f0", &p));
	ctl_ok(&b, "pf select add class=02");
	ctl_ok(&b, "pf select add id=15b3:1017");
	if (!wait_pf(&b, "ens2f0", 2, &p)) {
		char *log = read_whole_file(b.d.log_path);

		cr_assert_fail("the selected PF did not join; log:\n%s", log);
	}
	bed_close(&b);
}

/* The VF with this PCI address in a fresh snapshot: leased by vm/vnic? */
static bool vf_leased_to(const struct bed *b, const char *pci, const char *vm, const char *vnic)
{
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	struct vfpool_snapshot *s;
	bool found = false;

	cr_assert_eq(vfpool_snapshot_take(b->d.run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s) && !found; i++) {
		cr_assert_eq(vfpool_snapshot_vf(s, i, &v), 0);
		found = strcmp(v.pci_addr, pci) == 0 && v.status == VFPOOL_VF_STATUS_LEASED &&
			strcmp(v.vm_id, vm) == 0 && strcmp(v.vnic_id, vnic) == 0;
	}
	vfpool_snapshot_free(s);
	return found;
}

static void alloc_pinned(struct vfpool *c, const char *vm, const char *pci)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = vm,
		.vnic_id = "nic0", .network = "red", .numa_node = -1, .pin_pci = pci);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[256] = "";

	cr_assert_eq(vfpool_alloc(c, &req, &l, why, sizeof(why)), 0, "%s: %s", pci, why);
	cr_assert_str_eq(l.pci_addr, pci);
}

/* Regression (hot-plug made it likely): the journal names a lease by its VF's slot, and
 * slots are laid out in PCI order at each start. A PF plugged after start was appended
 * after the others; at the restart it sorted before them, every VF after it moved, and
 * their acknowledged leases were dropped as "VF no longer exists". A lease follows its VF
 * by address, and the journal is rewritten at the new slots (a second restart moves
 * nothing). */
Test(daemon_hotplug, leases_follow_their_vfs_to_new_slots_at_a_restart)
{
	struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);
	struct vfpool *c;
	struct bed b;
	char *log;

	bed_start(&b, "host_two_vendors.umockdev", "8");
	cr_assert(wait_pf(&b, "ens2f0", 2, &p));
	plug_pf(&b, 0x10, "ens0f0", 2); /* sorts before every PF of the fixture */
	cr_assert(wait_pf(&b, "ens0f0", 2, &p), "the plugged PF was not managed");
	c = connect_ok(&b.d);
	alloc_pinned(c, "vm1", "0000:10:01.1");
	alloc_pinned(c, "vm2", "0000:5e:00.3");
	vfpool_close(c);

	/* a crash: the journal is as the leases left it */
	kill(b.d.pid, SIGKILL);
	cr_assert_eq(waitpid(b.d.pid, NULL, 0), b.d.pid);
	test_daemon_restart(&b.d, NULL, "--state-dir", b.state_dir, "--spin-us", "0",
			    "--max-pfs", "8", NULL);
	cr_assert(vf_leased_to(&b, "0000:10:01.1", "vm1", "nic0"), "see %s", b.d.log_path);
	cr_assert(vf_leased_to(&b, "0000:5e:00.3", "vm2", "nic0"), "see %s", b.d.log_path);
	log = read_whole_file(b.d.log_path);
	cr_assert_null(strstr(log, "event=lease_lost"), "%s", log);
	cr_assert(strstr(log, "event=lease_moved vm=vm1 vnic=nic0 pci=0000:10:01.1"), "%s", log);
	free(log);

	/* the journal now says the new slots: nothing moves, nothing is lost */
	kill(b.d.pid, SIGKILL);
	cr_assert_eq(waitpid(b.d.pid, NULL, 0), b.d.pid);
	test_daemon_restart(&b.d, NULL, "--state-dir", b.state_dir, "--spin-us", "0",
			    "--max-pfs", "8", NULL);
	cr_assert(vf_leased_to(&b, "0000:10:01.1", "vm1", "nic0"));
	cr_assert(vf_leased_to(&b, "0000:5e:00.3", "vm2", "nic0"));
	log = read_whole_file(b.d.log_path);
	cr_assert_null(strstr(log, "event=lease_lost"), "%s", log);
	cr_assert_null(strstr(log, "event=lease_moved"), "%s", log);
	cr_assert(strstr(log, "restored=2 moved=0"), "%s", log);
	free(log);
	bed_close(&b);
}

/* SIGHUP reads the PF selectors again (issue 16: "SIGHUP reloads the policy and
 * selectors"): a PF the file now excludes leaves the pool as a gone PF does, without a
 * restart; the daemon keeps serving. */
Test(daemon_hotplug, sighup_reloads_the_pf_selectors_from_the_state_dir)
{
	struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);
	char path[128];
	FILE *f;
	int i;
	struct bed b;

	bed_start(&b, "host_two_vendors.umockdev", "8");
	cr_assert(wait_pf(&b, "ens2f0", 2, &p));
	cr_assert_eq(p.flags & VFPOOL_PF_GONE, 0u);
	snprintf(path, sizeof(path), "%s/pf-selectors", b.state_dir);
	f = fopen(path, "we");
	cr_assert(f);
	fputs("exclude pci=0000:5e:00.0\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(kill(b.d.pid, SIGHUP), 0);
	for (i = 0; i < 1000; i++) {
		if (pf_by_netdev(&b, "ens2f0", &p) && (p.flags & VFPOOL_PF_GONE))
			break;
		usleep(10000);
	}
	cr_assert(p.flags & VFPOOL_PF_GONE, "the excluded PF is still managed; see %s",
		  b.d.log_path);
	cr_assert_eq(p.free, 0u);
	cr_assert(test_daemon_alive(&b.d));
	cr_assert(log_has(&b, "event=signal signal=SIGHUP"), "the signal is not logged");
	bed_close(&b);
}
