/* SPDX-License-Identifier: MIT */
/*
 * The real vfpoold without --simulate, on a umockdev testbed the test builds from
 * tests/fixtures/host_two_vendors.umockdev: discovery, allocation from the discovered host,
 * numvfs changes over the control socket while the test plays the kernel, lost leases,
 * the boot-time restore, and the admin check. The daemon inherits umockdev-wrapper's
 * preload and the testbed's UMOCKDEV_DIR, so its libudev and its /sys are the testbed's.
 *
 * Fixture: ens1f0 (0000:3b:00.0, 8 slots, 4 VFs: 02.1 shares IOMMU group 51 with 3c:00.0,
 * 02.2 is bound to vfio-pci), ens1f1 (0000:3b:00.1, 8 slots, 2 VFs), ens2f0 (0000:5e:00.0,
 * 4 slots, 2 VFs: 5e:00.2 and 5e:00.3).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "core/numvfs/numvfs.h"
#include "shm/layout.h"
#include "tests/daemon_fixture.h"
#include "tests/fake_kernel.h"
#include "tests/netns_links.h"
#include "tests/run_cmd.h"
#include "tests/state_dir.h"
#include <netlink/socket.h>
#include "tests/udev_testbed.h"
#include "tests/watchdog.h"
#include "vfpool/vfpool.h"

#define INTEL0 "/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0"
#define INTEL1 "/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.1"
#define MLX    "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0"
#define MLX_PF_INDEX 2u /* PFs ascend by PCI address */

struct bed {
	UMockdevTestbed *tb;
	char state_dir[64];
	struct test_daemon d;
	bool running;
};

static void bed_open(struct bed *b)
{
	memset(b, 0, sizeof(*b));
	b->tb = testbed_from_fixture("host_two_vendors.umockdev");
	state_dir_make(b->state_dir, sizeof(b->state_dir));
}

static void bed_start(struct bed *b, const char *timeout_ms)
{
	test_daemon_start_discovered(&b->d, b->state_dir, "--numvfs-timeout-ms", timeout_ms,
				     "--spin-us", "0", NULL);
	b->running = true;
}

static void bed_stop(struct bed *b)
{
	if (!b->running)
		return;
	b->running = false;
	cr_assert_eq(test_daemon_stop(&b->d), 0, "vfpoold did not shut down cleanly");
}

static void bed_close(struct bed *b)
{
	bed_stop(b);
	state_dir_remove(b->state_dir);
	g_object_unref(b->tb);
}

/* ---- reading the daemon's state ------------------------------------------------------- */

static struct vfpool_pf_info pf_info(const struct bed *b, unsigned index)
{
	struct vfpool_snapshot *s;
	struct vfpool_pf_info i = VFPOOL_OPTS(vfpool_pf_info);

	cr_assert_eq(vfpool_snapshot_take(b->d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_pf(s, index, &i), 0);
	vfpool_snapshot_free(s);
	return i;
}

static bool vf_by_pci(const struct bed *b, const char *pci, struct vfpool_vf_info *ret)
{
	struct vfpool_snapshot *s;
	bool found = false;

	cr_assert_eq(vfpool_snapshot_take(b->d.run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s) && !found; i++) {
		cr_assert_eq(vfpool_snapshot_vf(s, i, ret), 0);
		found = strcmp(ret->pci_addr, pci) == 0;
	}
	vfpool_snapshot_free(s);
	return found;
}

/* The header fields the public snapshot does not carry (host kind, lost leases). */
struct hdr_facts {
	uint32_t host_kind;
	uint64_t leases_lost;
};

static struct hdr_facts hdr_facts(const struct bed *b)
{
	char path[128];
	struct hdr_facts f;
	const struct vfpool_state_hdr *h;
	int fd;

	snprintf(path, sizeof(path), "%s/state", b->d.run_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	h = mmap(NULL, sizeof(*h), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	cr_assert(h != MAP_FAILED);
	f.host_kind = h->host_kind; /* written once at start, before any test reads it */
	/* relaxed: a counter; the test polls it */
	f.leases_lost = atomic_load_explicit(&h->leases_lost, memory_order_relaxed);
	munmap((void *)h, sizeof(*h));
	return f;
}

/* Polls (bounded, no timing asserted) until the MLX PF shows `existing` VFs. */
static bool wait_existing(const struct bed *b, unsigned index, unsigned existing)
{
	for (int i = 0; i < 1000; i++) {
		if (pf_info(b, index).existing == existing)
			return true;
		usleep(10000);
	}
	return false;
}

static int command(const struct bed *b, char **out, const char *pf, const char *n)
{
	const char *words[] = { "pf", "set", pf, "--numvfs", n };
	struct vfpool *h;
	int r;

	cr_assert_eq(vfpool_connect(b->d.run_dir, NULL, &h), 0);
	r = vfpool_command(h, 5, words, out);
	vfpool_close(h);
	return r;
}

static int alloc_pinned(struct vfpool *h, const char *vm, const char *pci, struct vfpool_lease *l,
			char *why, size_t why_len)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = vm, .vnic_id = "nic0", .network = "red", .pin_pci = pci, .numa_node = -1);

	return vfpool_alloc(h, &req, l, why, why_len);
}

static unsigned testbed_numvfs(struct bed *b, const char *pf)
{
	char rel[128], buf[16];

	snprintf(rel, sizeof(rel), "%s/sriov_numvfs", pf + strlen("/sys/"));
	testbed_read(b->tb, rel, buf, sizeof(buf));
	return (unsigned)strtoul(buf, NULL, 10);
}

static bool wait_log(const struct bed *b, const char *needle);

static bool log_has(const struct bed *b, const char *needle)
{
	FILE *f = fopen(b->d.log_path, "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	cr_assert(f, "%s: %s", b->d.log_path, strerror(errno));
	while (!found && getline(&line, &cap, f) > 0)
		found = strstr(line, needle) != NULL;
	free(line);
	fclose(f);
	return found;
}

TestSuite(daemon_udev, .timeout = 60);

/* ---- discovery and allocation --------------------------------------------------------- */

Test(daemon_udev, discovers_the_testbed_host_with_exact_per_pf_counts)
{
	struct bed b;
	struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

	bed_open(&b);
	bed_start(&b, "120000");
	cr_assert_eq(hdr_facts(&b).host_kind, VFPOOL_HOST_UDEV);
	p = pf_info(&b, 0);
	cr_assert_str_eq(p.netdev, "ens1f0");
	cr_assert_eq(p.total_vfs, 8);
	cr_assert_eq(p.existing, 4);
	cr_assert_eq(p.free, 2);
	cr_assert_eq(p.iommu_shared, 1);
	cr_assert_eq(p.bound_other, 1);
	p = pf_info(&b, 1);
	cr_assert_str_eq(p.netdev, "ens1f1");
	cr_assert_eq(p.total_vfs, 8);
	cr_assert_eq(p.existing, 2);
	cr_assert_eq(p.free, 2);
	p = pf_info(&b, MLX_PF_INDEX);
	cr_assert_str_eq(p.pci_addr, "0000:5e:00.0");
	cr_assert_eq(p.total_vfs, 4);
	cr_assert_eq(p.existing, 2);
	cr_assert_eq(p.free, 2);
	bed_close(&b);
}

Test(daemon_udev, serves_every_free_vf_and_never_a_shared_or_foreign_bound_one)
{
	struct bed b;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160], vm[16];
	int got = 0;

	bed_open(&b);
	bed_start(&b, "120000");
	cr_assert_eq(vfpool_connect(b.d.run_dir, NULL, &h), 0);
	for (int i = 0; i < 7; i++) {
		struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
			.vm_id = vm, .vnic_id = "nic0", .network = "red", .numa_node = -1);
		int r;

		snprintf(vm, sizeof(vm), "vm%d", i);
		r = vfpool_alloc(h, &req, &l, why, sizeof(why));
		if (r == 0) {
			got++;
			cr_assert_str_neq(l.pci_addr, "0000:3b:02.1", "handed out an IOMMU-shared VF");
			cr_assert_str_neq(l.pci_addr, "0000:3b:02.2", "handed out a vfio-bound VF");
		} else {
			cr_assert_eq(r, -ENOSPC, "%s", why);
		}
	}
	cr_assert_eq(got, 6, "6 VFs are free on the testbed, %d were served", got);
	vfpool_close(h);
	bed_close(&b);
}

Test(daemon_udev, pinning_a_blocked_vf_is_refused_with_its_reason)
{
	struct bed b;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160];

	bed_open(&b);
	bed_start(&b, "120000");
	cr_assert_eq(vfpool_connect(b.d.run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_pinned(h, "vm1", "0000:3b:02.2", &l, why, sizeof(why)), -EPERM);
	cr_assert_str_eq(why, "0000:3b:02.2: bound to vfio-pci without a lease");
	cr_assert_eq(alloc_pinned(h, "vm1", "0000:3b:02.1", &l, why, sizeof(why)), -EPERM);
	cr_assert_str_eq(why, "0000:3b:02.1: IOMMU group 51 shared with 0000:3c:00.0");
	vfpool_close(h);
	bed_close(&b);
}

/* ---- numvfs over the control socket --------------------------------------------------- */

Test(daemon_udev, pf_set_changes_numvfs_persists_it_and_the_snapshot_shows_it)
{
	static const char *const pfs[] = { MLX };
	struct bed b;
	struct fake_kernel *k;
	char *out = NULL, file[160], buf[16] = "";
	FILE *f;

	bed_open(&b);
	bed_start(&b, "120000");
	k = fake_kernel_start(b.tb, pfs, 1);
	cr_assert_eq(command(&b, &out, "ens2f0", "4"), 0, "%s", out);
	fake_kernel_stop(k, NULL);
	cr_assert_str_eq(out, "ens2f0: 4 VFs");
	free(out);
	snprintf(file, sizeof(file), "%s/%s/0000:5e:00.0", b.state_dir, NUMVFS_DIR);
	f = fopen(file, "re");
	cr_assert(f, "%s: %s", file, strerror(errno));
	cr_assert(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, "4\n");
	cr_assert_eq(testbed_numvfs(&b, MLX), 4);
	/* the reply comes after the segment shows the change */
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).existing, 4);
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).free, 4);
	bed_close(&b);
}

Test(daemon_udev, pf_set_by_pci_address_works_like_by_netdev)
{
	static const char *const pfs[] = { MLX };
	struct bed b;
	struct fake_kernel *k;
	char *out = NULL;

	bed_open(&b);
	bed_start(&b, "120000");
	k = fake_kernel_start(b.tb, pfs, 1);
	cr_assert_eq(command(&b, &out, "0000:5e:00.0", "1"), 0, "%s", out);
	fake_kernel_stop(k, NULL);
	cr_assert_str_eq(out, "ens2f0: 1 VFs");
	free(out);
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).existing, 1);
	bed_close(&b);
}

Test(daemon_udev, pf_set_is_refused_while_a_vf_of_the_pf_is_allocated)
{
	struct bed b;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160], *out = NULL;

	bed_open(&b);
	bed_start(&b, "120000");
	cr_assert_eq(vfpool_connect(b.d.run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_pinned(h, "vm1", "0000:5e:00.2", &l, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(command(&b, &out, "ens2f0", "4"), -EBUSY);
	cr_assert_str_eq(out, "ens2f0: 1 of 2 VFs in use: 0000:5e:00.2 leased by vm1/nic0");
	free(out);
	cr_assert_eq(testbed_numvfs(&b, MLX), 2, "sriov_numvfs was written");
	vfpool_close(h);
	bed_close(&b);
}

static void read_store(const struct bed *b, const char *pci, char *buf, size_t len)
{
	char file[160];
	FILE *f;

	snprintf(file, sizeof(file), "%s/%s/%s", b->state_dir, NUMVFS_DIR, pci);
	f = fopen(file, "re");
	cr_assert(f, "%s: %s", file, strerror(errno));
	cr_assert(fgets(buf, (int)len, f), "%s: empty", file);
	fclose(f);
}

/* The kernel would do nothing either; the daemon does not even write, leased VFs or not. */
Test(daemon_udev, pf_set_to_the_current_value_writes_nothing_and_succeeds_even_while_vfs_are_in_use)
{
	static const char *const pfs[] = { MLX };
	char values[1][FAKE_KERNEL_VALUES_MAX];
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct fake_kernel *k;
	struct vfpool *h;
	struct bed b;
	char why[160], buf[16], *out = NULL;

	bed_open(&b);
	bed_start(&b, "120000");
	cr_assert_eq(vfpool_connect(b.d.run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_pinned(h, "vm1", "0000:5e:00.2", &l, why, sizeof(why)), 0, "%s", why);
	k = fake_kernel_start(b.tb, pfs, 1);
	cr_assert_eq(command(&b, &out, "ens2f0", "2"), 0, "%s", out);
	fake_kernel_stop_values(k, values);
	cr_assert_str_eq(out, "ens2f0: already 2 VFs");
	free(out);
	cr_assert_str_eq(values[0], "", "written to sriov_numvfs: %s", values[0]);
	/* pf set makes the PF managed at that value */
	read_store(&b, "0000:5e:00.0", buf, sizeof(buf));
	cr_assert_str_eq(buf, "2\n");
	cr_assert(vf_by_pci(&b, "0000:5e:00.2", &v));
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_LEASED);
	vfpool_close(h);
	bed_close(&b);
}

/* What reaches sriov_numvfs: 0 first only when VFs exist (the kernel refuses N over M),
 * nothing at all for the current value. */
Test(daemon_udev, pf_set_writes_only_n_from_zero_and_zero_then_m_otherwise)
{
	static const char *const pfs[] = { MLX };
	static const struct {
		const char *n, *reply;
	} steps[] = {
		{ "0", "ens2f0: 0 VFs" },
		{ "3", "ens2f0: 3 VFs" },
		{ "1", "ens2f0: 1 VFs" },
		{ "0", "ens2f0: 0 VFs" },
		{ "0", "ens2f0: already 0 VFs" },
	};
	char values[1][FAKE_KERNEL_VALUES_MAX];
	struct fake_kernel *k;
	struct bed b;
	char *out = NULL;

	bed_open(&b);
	bed_start(&b, "120000");
	k = fake_kernel_start(b.tb, pfs, 1);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		cr_assert_eq(command(&b, &out, "ens2f0", steps[i].n), 0, "%s", out);
		cr_assert_str_eq(out, steps[i].reply);
		free(out);
	}
	fake_kernel_stop_values(k, values);
	/* 2 -> 0: "0"; 0 -> 3: "3"; 3 -> 1: "0 1"; 1 -> 0: "0"; 0 -> 0: nothing */
	cr_assert_str_eq(values[0], "0 3 0 1 0");
	cr_assert_eq(testbed_numvfs(&b, MLX), 0);
	bed_close(&b);
}

/* Polls (bounded, no timing asserted) until the VF shows status. */
static bool wait_vf_status(const struct bed *b, const char *pci, enum vfpool_vf_status status,
			   struct vfpool_vf_info *ret)
{
	for (int i = 0; i < 1000; i++) {
		if (vf_by_pci(b, pci, ret) && ret->status == status)
			return true;
		usleep(10000);
	}
	return false;
}

/* A change destroys every VF of the PF: one the host uses (here a macvtap on one VF netdev,
 * the other a bridge port) must stop it, named with its reason, and nothing is written. */
Test(daemon_udev, pf_set_is_refused_while_a_vf_carries_a_macvtap_or_a_bridge_port)
{
	static const char *const pfs[] = { MLX };
	struct nl_sock *sk = netns_enter(); /* skips, saying why, without root */
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	struct fake_kernel *k;
	unsigned writes = 0;
	struct bed b;
	char *out = NULL;

	netns_add_veth(sk, "ens2f0v0");
	netns_add_veth(sk, "ens2f0v1");
	netns_add_macvtap_passthru(sk, "mvt0", "ens2f0v0");
	netns_add_bridge(sk, "br0");
	netns_enslave(sk, "br0", "ens2f0v1");
	bed_open(&b);
	bed_start(&b, "120000");
	cr_assert(wait_vf_status(&b, "0000:5e:00.2", VFPOOL_VF_STATUS_HOST_BUSY, &v),
		  "0000:5e:00.2 under mvt0: %s \"%s\"", vfpool_vf_status_name(v.status), v.reason);
	cr_assert(wait_vf_status(&b, "0000:5e:00.3", VFPOOL_VF_STATUS_HOST_BUSY, &v),
		  "0000:5e:00.3 in br0: %s \"%s\"", vfpool_vf_status_name(v.status), v.reason);
	k = fake_kernel_start(b.tb, pfs, 1);
	cr_assert_eq(command(&b, &out, "ens2f0", "4"), -EBUSY, "%s", out);
	fake_kernel_stop(k, &writes);
	cr_assert_str_eq(out, "ens2f0: 2 of 2 VFs in use: 0000:5e:00.2 host-busy (mvt0 (macvtap) "
			      "on top); 0000:5e:00.3 host-busy (enslaved to bridge br0)");
	free(out);
	cr_assert_eq(writes, 0, "sriov_numvfs was written %u times", writes);
	cr_assert_eq(testbed_numvfs(&b, MLX), 2);
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).existing, 2);
	/* the macvtap gone, the bridge port still refuses */
	netns_del_link(sk, "mvt0");
	cr_assert(wait_vf_status(&b, "0000:5e:00.2", VFPOOL_VF_STATUS_FREE, &v));
	cr_assert_eq(command(&b, &out, "ens2f0", "0"), -EBUSY, "%s", out);
	cr_assert_str_eq(out, "ens2f0: 1 of 2 VFs in use: 0000:5e:00.3 host-busy (enslaved to "
			      "bridge br0)");
	free(out);
	cr_assert_eq(testbed_numvfs(&b, MLX), 2);
	nl_socket_free(sk);
	bed_close(&b);
}

/* Each VF that is not free is named with its reason; a VF whose IOMMU group is shared is
 * used by nobody and does not block (ens1f0: 02.1 shares group 51, 02.2 is vfio-bound). */
Test(daemon_udev, pf_set_refusal_names_each_vf_and_its_reason_but_not_an_iommu_shared_one)
{
	struct bed b;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160], *out = NULL;

	bed_open(&b);
	bed_start(&b, "120000");
	cr_assert_eq(vfpool_connect(b.d.run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_pinned(h, "vm1", "0000:3b:02.0", &l, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(command(&b, &out, "ens1f0", "0"), -EBUSY, "%s", out);
	cr_assert_str_eq(out, "ens1f0: 2 of 4 VFs in use: 0000:3b:02.0 leased by vm1/nic0; "
			      "0000:3b:02.2 bound to vfio-pci by another party");
	free(out);
	cr_assert_eq(testbed_numvfs(&b, INTEL0), 4, "sriov_numvfs was written");
	vfpool_close(h);
	bed_close(&b);
}

Test(daemon_udev, pf_set_beyond_totalvfs_and_unknown_pf_are_refused_by_name)
{
	struct bed b;
	char *out = NULL;

	bed_open(&b);
	bed_start(&b, "120000");
	cr_assert_eq(command(&b, &out, "ens2f0", "5"), -ERANGE);
	cr_assert_str_eq(out, "ens2f0: 5 VFs requested, the PF supports 0..4");
	free(out);
	cr_assert_eq(command(&b, &out, "eth9", "1"), -ENODEV);
	cr_assert_str_eq(out, "eth9: no such SR-IOV PF on this host");
	free(out);
	cr_assert_eq(command(&b, &out, "ens2f0", "-1"), -EINVAL);
	free(out);
	bed_close(&b);
}

/* A kernel for MLX that accepts the write of `ignored` but never creates its VFs (a driver
 * that fails late), and plays every other write like fake_kernel. With a gate, it holds the
 * first write until the test opens the gate: the change stays in progress until then. */
struct lazy_kernel {
	UMockdevTestbed *tb;
	pthread_t thread;
	int inotify_fd, stop_fd, gate_fd;
	unsigned ignored;
};

static void *lazy_main(void *arg)
{
	struct lazy_kernel *k = arg;
	struct pollfd p[2] = { { .fd = k->inotify_fd, .events = POLLIN },
			       { .fd = k->stop_fd, .events = POLLIN } };
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (poll(p, 2, -1) > 0 && !(p[1].revents & POLLIN)) {
		char rel[128], val[16];

		uint64_t v;

		if (read(k->inotify_fd, buf, sizeof(buf)) <= 0)
			continue;
		if (k->gate_fd >= 0 && read(k->gate_fd, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
			close(k->gate_fd);
			k->gate_fd = -1;
		}
		snprintf(rel, sizeof(rel), "%s/sriov_numvfs", MLX + strlen("/sys/"));
		testbed_read(k->tb, rel, val, sizeof(val));
		if (strtoul(val, NULL, 10) != k->ignored)
			fake_kernel_apply(k->tb, MLX);
	}
	return NULL;
}

static void lazy_start(struct lazy_kernel *k, UMockdevTestbed *tb, unsigned ignored, bool gated)
{
	char *p = testbed_sys_path(tb, MLX "/sriov_numvfs" + strlen("/sys/"));

	k->tb = tb;
	k->gate_fd = gated ? eventfd(0, EFD_CLOEXEC) : -1;
	k->ignored = ignored;
	k->inotify_fd = inotify_init1(IN_CLOEXEC);
	k->stop_fd = eventfd(0, EFD_CLOEXEC);
	cr_assert(inotify_add_watch(k->inotify_fd, p, IN_CLOSE_WRITE) >= 0);
	free(p);
	cr_assert_eq(pthread_create(&k->thread, NULL, lazy_main, k), 0);
}

static void lazy_stop(struct lazy_kernel *k)
{
	uint64_t one = 1;

	cr_assert_eq(write(k->stop_fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	pthread_join(k->thread, NULL);
	close(k->inotify_fd);
	close(k->stop_fd);
	if (k->gate_fd >= 0)
		close(k->gate_fd);
}

static void lazy_open_gate(struct lazy_kernel *k)
{
	uint64_t one = 1;

	cr_assert_eq(write(k->gate_fd, &one, sizeof(one)), (ssize_t)sizeof(one));
}

Test(daemon_udev, failed_change_restores_the_last_value_and_reports_both)
{
	struct bed b;
	struct lazy_kernel k;
	char *out = NULL, file[160];

	bed_open(&b);
	/* steps short enough for the ignored write's wait to fail soon, long enough for the
	 * restore's own steps on a loaded machine (300 ms flaked under load) */
	bed_start(&b, "2000");
	lazy_start(&k, b.tb, 3, false);
	cr_assert_eq(command(&b, &out, "ens2f0", "3"), -ETIMEDOUT, "%s", out);
	lazy_stop(&k);
	cr_assert_str_eq(out, "0000:5e:00.0: writing sriov_numvfs=3 failed: 0 of 3 VFs appeared "
			      "within 2000 ms; restored 2");
	free(out);
	cr_assert_eq(testbed_numvfs(&b, MLX), 2);
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).existing, 2);
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).free, 2);
	snprintf(file, sizeof(file), "%s/%s/0000:5e:00.0", b.state_dir, NUMVFS_DIR);
	cr_assert_neq(access(file, F_OK), 0, "a failed change was persisted");
	bed_close(&b);
}

struct async_cmd {
	const struct bed *b;
	const char *n; /* NULL: 3 */
	int r;
	char *out;
};

static void *run_async(void *arg)
{
	struct async_cmd *a = arg;

	a->r = command(a->b, &a->out, "ens2f0", a->n ? a->n : "3");
	return NULL;
}

Test(daemon_udev, second_change_of_the_same_pf_is_busy_and_other_pfs_keep_serving)
{
	struct bed b;
	struct async_cmd first = { .b = &b };
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct lazy_kernel k;
	pthread_t t;
	char why[160], *out = NULL;
	int i;

	bed_open(&b);
	bed_start(&b, "120000");
	/* the kernel holds the write of 0: the change stays in progress */
	lazy_start(&k, b.tb, UINT32_MAX, true);
	cr_assert_eq(pthread_create(&t, NULL, run_async, &first), 0);
	for (i = 0; i < 1000; i++) {
		if (vf_by_pci(&b, "0000:5e:00.2", &v) && strcmp(v.reason, "numvfs change in progress") == 0)
			break;
		usleep(10000);
	}
	cr_assert_lt(i, 1000, "the change never started");
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_ABSENT, "a VF of a PF being changed is allocatable");
	cr_assert_eq(command(&b, &out, "ens2f0", "4"), -EBUSY);
	cr_assert_str_eq(out, "ens2f0: numvfs change already in progress");
	free(out);
	cr_assert_eq(vfpool_connect(b.d.run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_pinned(h, "vm1", "0000:3b:0a.0", &l, why, sizeof(why)), 0, "%s", why);
	vfpool_close(h);
	lazy_open_gate(&k);
	pthread_join(t, NULL);
	lazy_stop(&k);
	cr_assert_eq(first.r, 0, "%s", first.out);
	cr_assert_str_eq(first.out, "ens2f0: 3 VFs");
	free(first.out);
	bed_close(&b);
}

/* ---- the host changing under the daemon ----------------------------------------------- */

static void remove_device(UMockdevTestbed *tb, const char *path)
{
	umockdev_testbed_uevent(tb, path, "remove");
	umockdev_testbed_remove_device(tb, path);
}

Test(daemon_udev, pf_removed_under_leases_reports_them_lost_and_keeps_them_visible)
{
	struct bed b;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	char why[160];
	int i;

	bed_open(&b);
	bed_start(&b, "120000");
	cr_assert_eq(vfpool_connect(b.d.run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_pinned(h, "vm7", "0000:5e:00.2", &l, why, sizeof(why)), 0, "%s", why);
	remove_device(b.tb, "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.2");
	remove_device(b.tb, "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.3");
	remove_device(b.tb, MLX);
	for (i = 0; i < 1000 && hdr_facts(&b).leases_lost == 0; i++)
		usleep(10000);
	cr_assert_eq(hdr_facts(&b).leases_lost, 1);
	cr_assert(wait_existing(&b, MLX_PF_INDEX, 0), "the removed PF still has VFs");
	cr_assert(vf_by_pci(&b, "0000:5e:00.2", &v));
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_LEASED, "the lost lease was dropped");
	cr_assert_str_eq(v.vm_id, "vm7");
	cr_assert_str_eq(v.reason, "VF vanished");
	cr_assert(v.blocked_mask & (1u << VFPOOL_BLOCK_ABSENT));
	/* the line follows the counter (logged after the segment shows the loss) */
	cr_assert(wait_log(&b, "event=lease_lost vm=vm7 vnic=nic0 pci=0000:5e:00.2"),
		  "no lease_lost line in %s", b.d.log_path);
	/* the launcher can still release it; the slot stays absent */
	cr_assert_eq(vfpool_release(h, "vm7", "nic0", l.generation, NULL, 0), 0);
	vfpool_close(h);
	cr_assert(test_daemon_alive(&b.d));
	bed_close(&b);
}

Test(daemon_udev, vf_bound_to_vfio_by_someone_else_becomes_bound_other)
{
	struct bed b;
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	const char *vf = "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.3";
	int i;

	bed_open(&b);
	bed_start(&b, "120000");
	char *link;

	testbed_add_pci_driver(b.tb, "vfio-pci");
	link = testbed_sys_path(b.tb, "devices/pci0000:5d/0000:5d:00.0/0000:5e:00.3/driver");
	cr_assert_eq(unlink(link), 0, "%s: %s", link, strerror(errno));
	free(link);
	umockdev_testbed_set_attribute_link(b.tb, vf, "driver", "../../../../bus/pci/drivers/vfio-pci");
	umockdev_testbed_set_property(b.tb, vf, "DRIVER", "vfio-pci");
	umockdev_testbed_uevent(b.tb, vf, "bind");
	for (i = 0; i < 1000; i++) {
		cr_assert(vf_by_pci(&b, "0000:5e:00.3", &v));
		if (v.status == VFPOOL_VF_STATUS_BOUND_OTHER)
			break;
		usleep(10000);
	}
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_BOUND_OTHER);
	cr_assert_str_eq(v.reason, "bound to vfio-pci without a lease");
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).free, 1);
	bed_close(&b);
}

/* ---- boot-time restore ---------------------------------------------------------------- */

/* vfpoold --restore-numvfs, waiting wait_ms (--restore-wait-ms) for PFs not present. */
static int run_restore(struct bed *b, const char *wait_ms, char *out, size_t out_len, char *err,
		       size_t err_len)
{
	char out_path[128], err_path[128];
	pid_t pid;
	int status;
	FILE *f;
	size_t n;

	snprintf(out_path, sizeof(out_path), "%s.out", b->state_dir);
	snprintf(err_path, sizeof(err_path), "%s.err", b->state_dir);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		dup2(o, 1);
		dup2(e, 2);
		execl(test_build_path("vfpoold"), "vfpoold", "--restore-numvfs", "--state-dir",
		      b->state_dir, "--numvfs-timeout-ms", "5000", "--restore-wait-ms", wait_ms,
		      (char *)NULL);
		_exit(127);
	}
	/* a restore that hangs (a FIFO in the store did) is killed and fails the test,
	 * instead of hanging it */
	cr_assert_eq(watchdog_waitpid(pid, 30, &status), 0,
		     "vfpoold --restore-numvfs did not finish within 30 s (blocked?)");
	f = fopen(out_path, "re");
	cr_assert(f);
	n = fread(out, 1, out_len - 1, f);
	out[n] = '\0';
	fclose(f);
	f = fopen(err_path, "re");
	cr_assert(f);
	n = fread(err, 1, err_len - 1, f);
	err[n] = '\0';
	fclose(f);
	unlink(out_path);
	unlink(err_path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(daemon_udev, restore_after_reboot_brings_back_the_count_and_leaves_unmanaged_pfs_alone)
{
	static const char *const one[] = { MLX };
	static const char *const all[] = { INTEL0, INTEL1, MLX };
	struct bed b;
	struct fake_kernel *k;
	unsigned writes[3];
	char *out = NULL, rout[1024], rerr[1024];

	bed_open(&b);
	bed_start(&b, "120000");
	k = fake_kernel_start(b.tb, one, 1);
	cr_assert_eq(command(&b, &out, "ens2f0", "4"), 0, "%s", out);
	fake_kernel_stop(k, NULL);
	free(out);
	bed_stop(&b);
	/* the reboot: the kernel comes up with the firmware's VF counts again */
	g_object_unref(b.tb);
	b.tb = testbed_from_fixture("host_two_vendors.umockdev");
	cr_assert_eq(testbed_numvfs(&b, MLX), 2);
	k = fake_kernel_start(b.tb, all, 3);
	cr_assert_eq(run_restore(&b, "0", rout, sizeof(rout), rerr, sizeof(rerr)), 0, "%s", rerr);
	fake_kernel_stop(k, writes);
	cr_assert(strstr(rout, "0000:5e:00.0: sriov_numvfs=4 restored"), "report: %s", rout);
	cr_assert_eq(testbed_numvfs(&b, MLX), 4);
	cr_assert_eq(writes[0], 0, "unmanaged ens1f0 was written");
	cr_assert_eq(writes[1], 0, "unmanaged ens1f1 was written");
	cr_assert_eq(testbed_numvfs(&b, INTEL1), 2);
	/* the daemon after the reboot sees the restored host */
	bed_start(&b, "120000");
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).existing, 4);
	cr_assert_eq(pf_info(&b, 1).existing, 2);
	bed_close(&b);
}

/* Regression: a FIFO in the store hung `vfpoold --restore-numvfs` forever, and one corrupt
 * file aborted the restore of every PF. */
Test(daemon_udev, restore_with_a_fifo_a_symlink_and_a_corrupt_file_restores_the_good_pf)
{
	static const char *const one[] = { MLX };
	struct bed b;
	struct fake_kernel *k;
	char rout[2048], rerr[2048], dir[160], path[200];
	int r;
	FILE *f;

	bed_open(&b);
	cr_assert_eq(numvfs_store_save(b.state_dir, "0000:5e:00.0", 4), 0);
	snprintf(dir, sizeof(dir), "%s/%s", b.state_dir, NUMVFS_DIR);
	snprintf(path, sizeof(path), "%s/0000:3b:00.0", dir);
	cr_assert_eq(mkfifo(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/0000:3b:00.1", dir);
	cr_assert_eq(symlink("0000:5e:00.0", path), 0); /* a good file's content, by a link */
	snprintf(path, sizeof(path), "%s/0000:99:00.0", dir);
	f = fopen(path, "we");
	cr_assert_not_null(f);
	fputs("\x7f\x45LF", f);
	fclose(f);
	k = fake_kernel_start(b.tb, one, 1);
	r = run_restore(&b, "0", rout, sizeof(rout), rerr, sizeof(rerr));
	fake_kernel_stop(k, NULL);
	cr_assert_eq(r, 1, "exit %d; stderr: %s", r, rerr);
	cr_assert(strstr(rout, "0000:5e:00.0: sriov_numvfs=4 restored"), "report: %s", rout);
	cr_assert_eq(testbed_numvfs(&b, MLX), 4);
	/* each untrusted file on stderr, by name and reason */
	cr_assert(strstr(rerr, "virtual_functions/0000:3b:00.0: a FIFO"), "stderr: %s", rerr);
	cr_assert(strstr(rerr, "virtual_functions/0000:3b:00.1: a symbolic link"), "stderr: %s",
		  rerr);
	cr_assert(strstr(rerr, "virtual_functions/0000:99:00.0: corrupt"), "stderr: %s", rerr);
	cr_assert_null(strstr(rerr, "0000:5e:00.0"), "the restored PF reported failed: %s", rerr);
	bed_close(&b);
}

Test(daemon_udev, restore_failure_exits_nonzero_naming_the_pf)
{
	struct bed b;
	char rout[1024], rerr[1024];

	bed_open(&b);
	cr_assert_eq(numvfs_store_save(b.state_dir, "0000:99:00.0", 2), 0);
	cr_assert_eq(run_restore(&b, "300", rout, sizeof(rout), rerr, sizeof(rerr)), 1);
	cr_assert(strstr(rout, "waiting up to 300 ms for 1 persisted PF(s) to appear: "
			 "0000:99:00.0\n"), "report: %s", rout);
	cr_assert(strstr(rout, "0000:99:00.0: sriov_numvfs=2 not restored: no such SR-IOV PF "
			 "with a driver within 300 ms"), "report: %s", rout);
	cr_assert(strstr(rerr, "0000:99:00.0"), "stderr does not name the PF: %s", rerr);
	bed_close(&b);
}

/* ---- rights --------------------------------------------------------------------------- */

Test(daemon_udev, non_admin_peer_gets_eperm_for_pf_set)
{
	struct bed b;
	struct group *g = getgrnam("nogroup");
	pid_t pid;
	int status;

	if (!g)
		cr_skip_test("no group 'nogroup' to give an unprivileged peer the socket");
	if (geteuid() != 0)
		cr_skip_test("needs root to drop to uid 65534 in the peer");
	bed_open(&b);
	test_daemon_start_discovered(&b.d, b.state_dir, "--socket-group", "nogroup", NULL);
	b.running = true;
	cr_assert_eq(chmod(b.d.run_dir, 0755), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		const char *words[] = { "pf", "set", "ens2f0", "--numvfs", "4" };
		struct vfpool *h;
		char *out = NULL;
		int r;

		if (setgroups(0, NULL) < 0 || setgid(g->gr_gid) < 0 || setuid(65534) < 0)
			_exit(10);
		if (vfpool_connect(b.d.run_dir, NULL, &h) != 0)
			_exit(11);
		r = vfpool_command(h, 5, words, &out);
		vfpool_close(h);
		_exit(r == -EPERM && out && strstr(out, "needs root or the admin group") ? 0 : 12);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0,
		     "peer: 10 = could not drop rights, 11 = no connection, 12 = not EPERM");
	cr_assert_eq(testbed_numvfs(&b, MLX), 2);
	bed_close(&b);
}

/* ---- the event probe on a discovered host ------------------------------------------- */

/* A VF netdev that shows up after the daemon started (a numvfs change, a driver reload) is
 * watched by the event probe as soon as udev announces it: a macvtap on it then makes the
 * VF host-busy. */
Test(daemon_udev, vf_netdev_appearing_after_start_is_watched_by_the_probe)
{
	struct nl_sock *sk = netns_enter(); /* skips, saying why, without root */
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	struct bed b;
	int i, ifindex;

	bed_open(&b);
	bed_start(&b, "120000"); /* ens1f0v0 does not exist yet in this namespace */
	cr_assert(vf_by_pci(&b, "0000:3b:02.0", &v));
	cr_assert_eq(v.ifindex, 0, "nothing to watch yet");
	ifindex = netns_add_veth(sk, "ens1f0v0");
	umockdev_testbed_uevent(b.tb, INTEL0 "/../0000:3b:02.0/net/ens1f0v0", "add");
	for (i = 0; i < 500; i++) {
		cr_assert(vf_by_pci(&b, "0000:3b:02.0", &v));
		if (v.ifindex == ifindex)
			break;
		usleep(10000);
	}
	cr_assert_eq(v.ifindex, ifindex, "the VF netdev was not picked up");
	netns_add_macvtap_passthru(sk, "mvt0", "ens1f0v0");
	for (i = 0; i < 500; i++) {
		cr_assert(vf_by_pci(&b, "0000:3b:02.0", &v));
		if (v.status == VFPOOL_VF_STATUS_HOST_BUSY)
			break;
		usleep(10000);
	}
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_HOST_BUSY);
	cr_assert_str_eq(v.reason, "mvt0 (macvtap) on top");
	nl_socket_free(sk);
	bed_close(&b);
}

/* ---- the periodic lease sweep ------------------------------------------------------------ */

static void sweep_case(struct bed *b, const char *mode, struct vfpool **ret_h, struct vfpool_lease *l)
{
	char why[160];

	bed_open(b);
	test_daemon_start_discovered(&b->d, b->state_dir, "--spin-us", "0", "--sweep-interval-s",
				     "1", "--sweep", mode, NULL);
	b->running = true;
	cr_assert_eq(vfpool_connect(b->d.run_dir, NULL, ret_h), 0);
	cr_assert_eq(alloc_pinned(*ret_h, "vm7", "0000:5e:00.2", l, why, sizeof(why)), 0, "%s", why);
	remove_device(b->tb, "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.2");
	remove_device(b->tb, "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.3");
	remove_device(b->tb, MLX);
}

/* Polls (bounded, no timing asserted) for a log line. */
static bool wait_log(const struct bed *b, const char *needle)
{
	for (int i = 0; i < 1000; i++) {
		if (log_has(b, needle))
			return true;
		usleep(10000);
	}
	return false;
}

Test(daemon_udev, sweep_reports_a_lease_whose_vf_vanished_and_keeps_it)
{
	struct bed b;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

	sweep_case(&b, "report", &h, &l);
	cr_assert(wait_log(&b, "event=sweep_stale_lease vm=vm7 vnic=nic0 pci=0000:5e:00.2"),
		  "no sweep_stale_lease line in %s", b.d.log_path);
	cr_assert(log_has(&b, "reason=\"VF vanished\" action=report"));
	cr_assert(vf_by_pci(&b, "0000:5e:00.2", &v));
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_LEASED, "a report-only sweep released a lease");
	vfpool_close(h);
	bed_close(&b);
}

Test(daemon_udev, sweep_in_release_mode_releases_a_lease_whose_vf_vanished)
{
	struct bed b;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);

	sweep_case(&b, "release", &h, &l);
	cr_assert(wait_log(&b, "event=sweep_lease_released vm=vm7 vnic=nic0 pci=0000:5e:00.2"),
		  "no sweep_lease_released line in %s", b.d.log_path);
	/* released through the engine: the launcher's own release finds nothing left */
	cr_assert_eq(vfpool_release(h, "vm7", "nic0", 0, NULL, 0), -ENOENT);
	vfpool_close(h);
	bed_close(&b);
}

/* ---- SIGKILL in the middle of a numvfs change -------------------------------------------- */

Test(daemon_udev, sigkill_mid_numvfs_change_keeps_every_acknowledged_lease)
{
	struct bed b;
	struct async_cmd change = { .b = &b };
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	struct vfpool *h;
	struct vfpool_lease l0 = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_lease l1 = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_lease again = VFPOOL_OPTS(vfpool_lease);
	struct lazy_kernel k;
	pthread_t t;
	char why[160];
	int i;

	bed_open(&b);
	bed_start(&b, "120000");
	cr_assert_eq(vfpool_connect(b.d.run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_pinned(h, "vm1", "0000:3b:0a.0", &l0, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(alloc_pinned(h, "vm2", "0000:3b:0a.1", &l1, why, sizeof(why)), 0, "%s", why);
	/* the kernel holds the write: the change is in progress when the daemon dies */
	lazy_start(&k, b.tb, UINT32_MAX, true);
	cr_assert_eq(pthread_create(&t, NULL, run_async, &change), 0);
	for (i = 0; i < 1000; i++) {
		if (vf_by_pci(&b, "0000:5e:00.2", &v) && strcmp(v.reason, "numvfs change in progress") == 0)
			break;
		usleep(10000);
	}
	cr_assert_lt(i, 1000, "the change never started");
	kill(b.d.pid, SIGKILL);
	cr_assert_eq(waitpid(b.d.pid, NULL, 0), b.d.pid);
	b.d.pid = 0;
	b.running = false;
	pthread_join(t, NULL);
	cr_assert_lt(change.r, 0, "a change whose daemon died was reported done");
	free(change.out);
	lazy_open_gate(&k);
	lazy_stop(&k);

	test_daemon_restart(&b.d, NULL, "--state-dir", b.state_dir, "--spin-us", "0", NULL);
	b.running = true;
	cr_assert(vf_by_pci(&b, "0000:3b:0a.0", &v));
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_LEASED, "an acknowledged lease was lost");
	cr_assert_str_eq(v.vm_id, "vm1");
	cr_assert_eq(v.generation, l0.generation);
	cr_assert(vf_by_pci(&b, "0000:3b:0a.1", &v));
	cr_assert_eq(v.status, VFPOOL_VF_STATUS_LEASED, "an acknowledged lease was lost");
	cr_assert_str_eq(v.vm_id, "vm2");
	/* the old handle reconnects by itself and finds its lease */
	cr_assert_eq(alloc_pinned(h, "vm1", "0000:3b:0a.0", &again, why, sizeof(why)), 0, "%s", why);
	cr_assert(again.flags & VFPOOL_LEASE_EXISTING);
	cr_assert_eq(again.generation, l0.generation);
	vfpool_close(h);
	bed_close(&b);
}

/* ---- a VF announced before its link to its PF ------------------------------------------- */

#define MLX_VF0 "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.2"
#define MLX_VF1 "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.3"

static void add_mlx_vf(struct bed *b, const char *addr, bool linked)
{
	GError *err = NULL;
	char *s = g_strdup_printf("P: /devices/pci0000:5d/0000:5d:00.0/%s\nE: SUBSYSTEM=pci\n"
				  "E: PCI_SLOT_NAME=%s\nA: vendor=0x15b3\nA: device=0x1018\n"
				  "L: iommu_group=../../../../kernel/iommu_groups/%d\n%s",
				  addr, addr, strcmp(addr, "0000:5e:00.2") == 0 ? 61 : 62,
				  linked ? "L: physfn=../0000:5e:00.0\n" : "");

	cr_assert(umockdev_testbed_add_from_string(b->tb, s, &err), "%s", err ? err->message : "");
	g_free(s);
}

/* Regression (the kernel suite's numvfs_killed_while_vfs_come hung in 2 of 8 runs): the
 * kernel sends a new VF's add uevent (pci_device_add) before it makes the VF's physfn link
 * (pci_iov_sysfs_link). The daemon decoded the event, found no link, dropped it as "not
 * SR-IOV", and the change waited for that VF until its step timed out. Played here: VF 0's
 * add arrives unlinked and is seen so, then the links come, then VF 1 as usual. */
Test(daemon_udev, vf_announced_before_its_physfn_link_still_completes_the_change)
{
	static const char *const pfs[] = { MLX };
	struct async_cmd change = { .n = "2" };
	struct fake_kernel *k;
	struct bed b;
	char *out = NULL;
	pthread_t t;
	bool seen_unlinked;
	int i;

	bed_open(&b);
	change.b = &b;
	test_daemon_start_discovered(&b.d, b.state_dir, "--numvfs-timeout-ms", "5000",
				     "--spin-us", "0", "--log-level", "debug", NULL);
	b.running = true;
	k = fake_kernel_start(b.tb, pfs, 1);
	cr_assert_eq(command(&b, &out, "ens2f0", "0"), 0, "%s", out);
	free(out);
	fake_kernel_stop(k, NULL);
	/* the test is the kernel now: the write of 2 lands, then the VFs come by hand */
	cr_assert_eq(pthread_create(&t, NULL, run_async, &change), 0);
	for (i = 0; i < 1000 && testbed_numvfs(&b, MLX) != 2; i++)
		usleep(10000);
	cr_assert_lt(i, 1000, "the daemon never wrote 2");
	add_mlx_vf(&b, "0000:5e:00.2", false);
	umockdev_testbed_uevent(b.tb, MLX_VF0, "add");
	/* the daemon decodes it before the links exist (on the base it drops it silently: the
	 * wait ends unmet and the change then times out) */
	seen_unlinked = wait_log(&b, "event=host_event kind=pci-added pci=0000:5e:00.2 ");
	umockdev_testbed_set_attribute_link(b.tb, MLX_VF0, "physfn", "../0000:5e:00.0");
	umockdev_testbed_set_attribute_link(b.tb, MLX, "virtfn0", "../0000:5e:00.2");
	add_mlx_vf(&b, "0000:5e:00.3", true);
	umockdev_testbed_set_attribute_link(b.tb, MLX, "virtfn1", "../0000:5e:00.3");
	umockdev_testbed_uevent(b.tb, MLX_VF1, "add");
	pthread_join(t, NULL);
	cr_assert_eq(change.r, 0, "%s", change.out);
	cr_assert_str_eq(change.out, "ens2f0: 2 VFs");
	cr_assert(seen_unlinked, "the unlinked add was not seen as such; see %s", b.d.log_path);
	free(change.out);
	cr_assert(log_has(&b, "event=host_event kind=vf-added pci=0000:5e:00.2 pf=0000:5e:00.0"));
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).existing, 2);
	bed_close(&b);
}

/* ---- a change in flight when the daemon is killed: journaled, reconciled at the restart -- */

static bool store_is(const struct bed *b, const char *pci, const char *want)
{
	char file[160], buf[16] = "";
	FILE *f;

	snprintf(file, sizeof(file), "%s/%s/%s", b->state_dir, NUMVFS_DIR, pci);
	f = fopen(file, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strcmp(buf, want) == 0;
}

static bool intent_exists(const struct bed *b, const char *pci)
{
	char file[160];

	snprintf(file, sizeof(file), "%s/%s/%s", b->state_dir, NUMVFS_INTENT_DIR, pci);
	return access(file, F_OK) == 0;
}

/* Starts `pf set ens2f0 n` in a thread and kills the daemon once the kernel's sriov_numvfs
 * reads at: the change is provably in the middle. */
static void kill_mid_change(struct bed *b, struct async_cmd *change, pthread_t *t,
			    unsigned at)
{
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	int i;

	cr_assert_eq(pthread_create(t, NULL, run_async, change), 0);
	for (i = 0; i < 1000; i++) {
		if (vf_by_pci(b, "0000:5e:00.2", &v) &&
		    strcmp(v.reason, "numvfs change in progress") == 0 && testbed_numvfs(b, MLX) == at)
			break;
		usleep(10000);
	}
	cr_assert_lt(i, 1000, "the change never reached sriov_numvfs=%u", at);
	cr_assert(intent_exists(b, "0000:5e:00.0"), "the change in flight is not journaled");
	kill(b->d.pid, SIGKILL);
	cr_assert_eq(waitpid(b->d.pid, NULL, 0), b->d.pid);
	b->d.pid = 0;
	b->running = false;
	pthread_join(*t, NULL);
	cr_assert_lt(change->r, 0, "a change whose daemon died was reported done");
	free(change->out);
}

static bool wait_reconciled(const struct bed *b, unsigned existing, const char *stored)
{
	for (int i = 0; i < 1000; i++) {
		if (pf_info(b, MLX_PF_INDEX).existing == existing && store_is(b, "0000:5e:00.0", stored) &&
		    !intent_exists(b, "0000:5e:00.0"))
			return true;
		usleep(10000);
	}
	return false;
}

/* Killed after writing 0 (2 -> 3): the kernel has neither count; the restart rolls back to
 * 2 (writing only 2 over 0) and persists it: kernel and state dir agree again. */
Test(daemon_udev, killed_between_zero_and_n_the_restart_rolls_back_and_persists)
{
	static const char *const pfs[] = { MLX };
	char values[1][FAKE_KERNEL_VALUES_MAX];
	struct async_cmd change = { .n = "3" };
	struct lazy_kernel lazy;
	struct fake_kernel *k;
	struct bed b;
	char *out = NULL;
	pthread_t t;

	bed_open(&b);
	change.b = &b;
	bed_start(&b, "120000");
	lazy_start(&lazy, b.tb, 3, false); /* takes 0, ignores 3: the wait for VFs never ends */
	kill_mid_change(&b, &change, &t, 3);
	lazy_stop(&lazy);
	/* the kernel undoes nothing: 0 VFs behind a sriov_numvfs that says 3 */
	k = fake_kernel_start(b.tb, pfs, 1);
	test_daemon_restart(&b.d, NULL, "--state-dir", b.state_dir, "--spin-us", "0", NULL);
	b.running = true;
	cr_assert(wait_reconciled(&b, 2, "2\n"), "not rolled back to 2; see %s", b.d.log_path);
	cr_assert(log_has(&b, "event=numvfs_changed pf=ens2f0 pci=0000:5e:00.0 numvfs=2"));
	cr_assert_eq(command(&b, &out, "ens2f0", "1"), 0, "%s", out);
	free(out);
	fake_kernel_stop_values(k, values);
	/* the rollback starts from the 3 sriov_numvfs says, so it writes 0 first (numvfs_op's
	 * rule, tested there); the fake kernel records the value it reads on each wake, and a
	 * 0 followed at once by 2 (no VF to wait for) can be read as "2 2" or, the two close
	 * events merged by inotify, "2": only what follows is exact */
	cr_assert(log_has(&b, "event=numvfs_change_started pf=ens2f0 pci=0000:5e:00.0 from=3 to=2"),
		  "see %s", b.d.log_path);
	{
		size_t l = strlen(values[0]);

		cr_assert(l >= 5 && strcmp(values[0] + l - 5, "2 0 1") == 0,
			  "written after the restart: %s", values[0]);
	}
	cr_assert(store_is(&b, "0000:5e:00.0", "1\n"));
	bed_close(&b);
}

/* Killed after the kernel made the VFs but before the count was persisted (2 -> 4): the
 * restart finishes the change: 4 persisted, nothing written. */
Test(daemon_udev, killed_after_the_kernel_made_the_vfs_the_restart_persists_the_count)
{
	struct async_cmd change = { .n = "4" };
	struct lazy_kernel lazy;
	struct bed b;
	pthread_t t;

	bed_open(&b);
	change.b = &b;
	bed_start(&b, "120000");
	cr_assert(!store_is(&b, "0000:5e:00.0", "2\n"));
	lazy_start(&lazy, b.tb, 4, false);
	kill_mid_change(&b, &change, &t, 4);
	lazy_stop(&lazy);
	fake_kernel_apply(b.tb, MLX); /* the VFs the write of 4 makes, their events unheard */
	test_daemon_restart(&b.d, NULL, "--state-dir", b.state_dir, "--spin-us", "0", NULL);
	b.running = true;
	cr_assert(wait_reconciled(&b, 4, "4\n"), "4 not persisted; see %s", b.d.log_path);
	cr_assert(log_has(&b, "event=numvfs_change_reconciled pci=0000:5e:00.0 from=2 to=4 "
			  "action=finished"));
	cr_assert_eq(testbed_numvfs(&b, MLX), 4);
	bed_close(&b);
}

/* ---- PF selectors (which PFs and VFs are managed) ------------------------------------- */

static void write_selectors(const struct bed *b, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pf-selectors", b->state_dir);
	f = fopen(path, "we");
	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static unsigned pf_count(const struct bed *b)
{
	struct vfpool_snapshot *s;
	unsigned n;

	cr_assert_eq(vfpool_snapshot_take(b->d.run_dir, &s), 0);
	n = vfpool_snapshot_pf_count(s);
	vfpool_snapshot_free(s);
	return n;
}

static int ctl_run(const struct bed *b, char **out, const char *args)
{
	return run_capture(out, "%s --run-dir %s %s 2>&1", test_build_path("vfpoolctl"),
			   b->d.run_dir, args);
}

Test(daemon_udev, selectors_in_the_state_dir_at_start_limit_the_pool_to_their_pfs_and_vfs)
{
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	struct bed b;

	bed_open(&b);
	write_selectors(&b, "# ens1f0's first two VFs only\ninclude pf=ens1f0#0-1\n");
	bed_start(&b, "5000");
	cr_assert_eq(pf_count(&b), 1u, "PFs outside the selectors are not in the pool");
	cr_assert_str_eq(pf_info(&b, 0).netdev, "ens1f0");
	cr_assert_eq(pf_info(&b, 0).existing, 2u);
	cr_assert(vf_by_pci(&b, "0000:3b:02.1", &v), "VF 1 is in the range");
	cr_assert(!vf_by_pci(&b, "0000:3b:02.3", &v), "VF 3 is outside the range: no record");
	cr_assert(!vf_by_pci(&b, "0000:5e:00.2", &v), "a VF of an unmanaged PF is listed");
	cr_assert(log_has(&b, "unmanaged_pfs=2"));
	bed_close(&b);
}

Test(daemon_udev, by_default_a_pf_that_is_no_network_controller_is_unmanaged_and_never_written)
{
	char *out = NULL;
	struct bed b;

	bed_open(&b);
	/* ens2f0 as a storage controller (NVMe's class): outside the default selector */
	umockdev_testbed_set_attribute(b.tb, MLX, "class", "0x010802");
	bed_start(&b, "5000");
	cr_assert_eq(pf_count(&b), 2u);
	cr_assert_eq(command(&b, &out, "ens2f0", "1"), -ENODEV);
	free(out);
	cr_assert_eq(testbed_numvfs(&b, MLX), 2, "an unmanaged PF was written");
	bed_close(&b);
}

Test(daemon_udev, pf_select_add_list_del_persist_apply_and_show_json)
{
	char *out, path[128], *file;
	struct bed b;

	bed_open(&b);
	bed_start(&b, "5000");
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).existing, 2u);
	cr_assert_eq(ctl_run(&b, &out, "pf select list"), 0, "%s", out);
	cr_assert(strstr(out, "default include class=02 (no include selector set)"), "%s", out);
	free(out);
	cr_assert_eq(ctl_run(&b, &out, "pf select add --exclude pf=ens2f0#1"), 0, "%s", out);
	cr_assert_str_eq(out, "0 exclude pf=ens2f0 vfs=1\n");
	free(out);
	/* persisted, in the form the file keeps */
	snprintf(path, sizeof(path), "%s/pf-selectors", b.state_dir);
	file = read_whole_file(path);
	cr_assert(strstr(file, "\nexclude pf=ens2f0 vfs=1\n"), "%s", file);
	free(file);
	/* applied at once: VF 1 of ens2f0 (5e:00.3) leaves the pool */
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).existing, 1u);
	cr_assert_eq(ctl_run(&b, &out, "pf select list --json"), 0, "%s", out);
	cr_assert(strstr(out, "{\"index\":0,\"default\":false,\"action\":\"exclude\","
			      "\"pf\":\"ens2f0\",\"vfs\":\"1\",\"text\":\"exclude pf=ens2f0 vfs=1\"}"),
		  "%s", out);
	cr_assert(strstr(out, "\"index\":null,\"default\":true,\"action\":\"include\","
			      "\"class\":\"02\""), "%s", out);
	free(out);
	cr_assert_eq(ctl_run(&b, &out, "pf select add bogus"), 1, "%s", out);
	cr_assert(strstr(out, "bogus: expected KEY=VALUE"), "%s", out);
	free(out);
	cr_assert_eq(ctl_run(&b, &out, "pf select del 0"), 0, "%s", out);
	free(out);
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).existing, 2u);
	cr_assert_eq(ctl_run(&b, &out, "pf select del 0"), 1, "%s", out);
	cr_assert(strstr(out, "selector 0: none (0 selectors)"), "%s", out);
	free(out);
	bed_close(&b);
}

Test(daemon_udev, a_selector_that_would_leave_a_leased_vf_unmanaged_is_refused_by_name)
{
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char *out, path[128], why[256];
	struct vfpool *h;
	struct bed b;

	bed_open(&b);
	bed_start(&b, "5000");
	h = connect_ok(&b.d);
	cr_assert_eq(alloc_pinned(h, "vm1", "0000:5e:00.2", &l, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(ctl_run(&b, &out, "pf select add --exclude pf=ens2f0"), 1, "%s", out);
	cr_assert(strstr(out, "0000:5e:00.2 is leased to vm1/nic0 and would be unmanaged: "
			      "release it first"), "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/pf-selectors", b.state_dir);
	cr_assert_neq(access(path, F_OK), 0, "a refused change was persisted");
	cr_assert_eq(pf_info(&b, MLX_PF_INDEX).leased, 1u);
	vfpool_close(h);
	bed_close(&b);
}

Test(daemon_udev, restore_skips_a_pf_outside_the_selectors_and_never_writes_it)
{
	static const char *const one[] = { MLX };
	char rout[1024], rerr[1024];
	struct fake_kernel *k;
	unsigned writes[1];
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_store_save(b.state_dir, "0000:5e:00.0", 4), 0);
	write_selectors(&b, "exclude id=15b3:*\n");
	k = fake_kernel_start(b.tb, one, 1);
	cr_assert_eq(run_restore(&b, "0", rout, sizeof(rout), rerr, sizeof(rerr)), 0, "%s", rerr);
	fake_kernel_stop(k, writes);
	cr_assert(strstr(rout, "0000:5e:00.0: sriov_numvfs=4 skipped: outside the PF selectors"),
		  "report: %s", rout);
	cr_assert_eq(writes[0], 0, "the unmanaged PF was written");
	cr_assert_eq(testbed_numvfs(&b, MLX), 2);
	bed_close(&b);
}

Test(daemon_udev, a_selectors_file_that_does_not_parse_stops_the_start_naming_the_line)
{
	char path[160];
	struct bed b;
	char *log;
	int status;
	pid_t pid;

	bed_open(&b);
	write_selectors(&b, "include id=8086:1572\ninclude vfs=3-1\n");
	snprintf(path, sizeof(path), "%s.log", b.state_dir);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		char run[128];

		snprintf(run, sizeof(run), "%s/run", b.state_dir);
		dup2(fd, 2);
		execl(test_build_path("vfpoold"), "vfpoold", "--run-dir", run, "--state-dir",
		      b.state_dir, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(watchdog_waitpid(pid, 30, &status), 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "vfpoold started anyway");
	log = read_whole_file(path);
	cr_assert(strstr(log, "pf-selectors: line 2: vfs=3-1: range 3-1 runs backwards"), "%s",
		  log);
	free(log);
	unlink(path);
	bed_close(&b);
}
