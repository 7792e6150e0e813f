/* SPDX-License-Identifier: MIT */
/* numvfs: the store, the request check, the change state machine (the test is the loop
 * owner and plays the kernel on the testbed) and the boot-time restore. */
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "core/host/host_monitor.h"
#include "core/host/host_udev.h"
#include "core/numvfs/numvfs.h"
#include "tests/fake_kernel.h"
#include "tests/state_dir.h"
#include "tests/udev_testbed.h"
#include "tests/watchdog.h"

#define INTEL0 "/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0"
#define INTEL1 "/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.1"
#define MLX    "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0"

TestSuite(numvfs, .init = make_state_dir, .fini = remove_state_dir);

static void read_state_file(const char *name, char *buf, size_t len)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/virtual_functions/%s", state_dir, name);
	f = fopen(path, "re");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void write_state_file(const char *name, const char *content)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/virtual_functions", state_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/virtual_functions/%s", state_dir, name);
	f = fopen(path, "we");
	cr_assert_not_null(f);
	fputs(content, f);
	fclose(f);
}

/* ---- store ---------------------------------------------------------------------------- */

Test(numvfs, store_save_writes_the_number_atomically)
{
	char buf[32], tmp[256];
	unsigned n = 99;

	cr_assert_eq(numvfs_store_save(state_dir, "0000:3b:00.0", 7), 0);
	read_state_file("0000:3b:00.0", buf, sizeof(buf));
	cr_assert_str_eq(buf, "7\n");
	snprintf(tmp, sizeof(tmp), "%s/virtual_functions/.0000:3b:00.0.tmp", state_dir);
	cr_assert_neq(access(tmp, F_OK), 0, "temp file left behind");
	cr_assert_eq(numvfs_store_load(state_dir, "0000:3b:00.0", &n, NULL, 0), 0);
	cr_assert_eq(n, 7);
}

Test(numvfs, store_save_replaces_the_previous_value)
{
	char buf[32];

	cr_assert_eq(numvfs_store_save(state_dir, "0000:3b:00.0", 12), 0);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:3b:00.0", 3), 0);
	read_state_file("0000:3b:00.0", buf, sizeof(buf));
	cr_assert_str_eq(buf, "3\n");
}

Test(numvfs, store_refuses_names_that_are_not_pci_addresses)
{
	cr_assert_eq(numvfs_store_save(state_dir, "../etc/passwd", 1), -EINVAL);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:3b:00.0", NUMVFS_MAX + 1), -EINVAL);
}

Test(numvfs, store_load_of_unmanaged_pf_is_enoent)
{
	unsigned n = 5;

	cr_assert_eq(numvfs_store_load(state_dir, "0000:3b:00.0", &n, NULL, 0), -ENOENT);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:5e:00.0", 1), 0);
	cr_assert_eq(numvfs_store_load(state_dir, "0000:3b:00.0", &n, NULL, 0), -ENOENT);
	cr_assert_eq(n, 5, "output written on failure");
}

Test(numvfs, store_corrupt_file_is_not_trusted_and_named)
{
	static const char *const bad[] = { "4x\n", "", "-1\n", "007\n", " 4\n", "4\n\n", "70000\n" };
	char why[256];
	unsigned n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_state_file("0000:3b:00.0", bad[i]);
		why[0] = '\0';
		cr_assert_eq(numvfs_store_load(state_dir, "0000:3b:00.0", &n, why, sizeof(why)),
			     -EBADMSG, "content \"%s\" accepted", bad[i]);
		cr_assert(strstr(why, "virtual_functions/0000:3b:00.0"), "why: %s", why);
	}
}

Test(numvfs, store_list_holds_only_managed_pfs_sorted)
{
	struct numvfs_entry *e;
	struct numvfs_bad_entry *bad;
	size_t n, n_bad;

	cr_assert_eq(numvfs_store_list(state_dir, &e, &n, &bad, &n_bad, NULL, 0), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(n_bad, 0);
	free(e);
	free(bad);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:5e:00.0", 3), 0);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:3b:00.1", 0), 0);
	cr_assert_eq(numvfs_store_list(state_dir, &e, &n, &bad, &n_bad, NULL, 0), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(n_bad, 0);
	cr_assert_str_eq(e[0].pci_addr, "0000:3b:00.1");
	cr_assert_eq(e[0].n, 0);
	cr_assert_str_eq(e[1].pci_addr, "0000:5e:00.0");
	cr_assert_eq(e[1].n, 3);
	free(e);
	free(bad);
}

static void store_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/virtual_functions", state_dir);
	mkdir(buf, 0755);
	snprintf(buf, len, "%s/virtual_functions/%s", state_dir, name);
}

static void make_fifo(const char *name)
{
	char path[256];

	store_path(path, sizeof(path), name);
	cr_assert_eq(mkfifo(path, 0644), 0, "%s: %s", path, strerror(errno));
}

/* A link to a good file elsewhere: its content would parse, it must not be read. */
static void make_symlink(const char *name)
{
	char path[256], target[256];
	FILE *f;

	snprintf(target, sizeof(target), "%s/elsewhere", state_dir);
	f = fopen(target, "we");
	cr_assert_not_null(f);
	fputs("3\n", f);
	fclose(f);
	store_path(path, sizeof(path), name);
	cr_assert_eq(symlink(target, path), 0, "%s: %s", path, strerror(errno));
}

/* Regression: opening a FIFO in the store blocked until someone wrote to it: forever at
 * boot. The watchdog makes the unfixed code fail instead of hanging. */
Test(numvfs, store_load_refuses_a_fifo_without_blocking)
{
	struct watchdog w;
	char why[256] = "";
	unsigned n = 9;
	int r;

	make_fifo("0000:3b:00.0");
	watchdog_start(&w, 30, "numvfs_store_load of a FIFO");
	r = numvfs_store_load(state_dir, "0000:3b:00.0", &n, why, sizeof(why));
	watchdog_stop(&w);
	cr_assert_eq(r, -EBADMSG);
	cr_assert(strstr(why, "virtual_functions/0000:3b:00.0: a FIFO"), "why: %s", why);
	cr_assert(strstr(why, "not trusted"), "why: %s", why);
	cr_assert_eq(n, 9, "output written on failure");
}

Test(numvfs, store_load_refuses_a_symlink_even_to_a_good_file)
{
	char why[256] = "";
	unsigned n = 9;

	make_symlink("0000:3b:00.0");
	cr_assert_eq(numvfs_store_load(state_dir, "0000:3b:00.0", &n, why, sizeof(why)), -EBADMSG);
	cr_assert(strstr(why, "virtual_functions/0000:3b:00.0: a symbolic link"), "why: %s", why);
	cr_assert_eq(n, 9);
}

Test(numvfs, store_load_refuses_a_directory_and_an_oversized_file)
{
	char why[256] = "", path[256];
	unsigned n;
	FILE *f;

	store_path(path, sizeof(path), "0000:3b:00.0");
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(numvfs_store_load(state_dir, "0000:3b:00.0", &n, why, sizeof(why)), -EBADMSG);
	cr_assert(strstr(why, "0000:3b:00.0: a directory"), "why: %s", why);
	store_path(path, sizeof(path), "0000:3b:00.1");
	f = fopen(path, "we");
	cr_assert_not_null(f);
	for (int i = 0; i < 100000; i++)
		fputs("0", f);
	fclose(f);
	cr_assert_eq(numvfs_store_load(state_dir, "0000:3b:00.1", &n, why, sizeof(why)), -EBADMSG);
	cr_assert(strstr(why, "0000:3b:00.1: 100000 bytes, too large"), "why: %s", why);
}

static const struct numvfs_bad_entry *find_bad(const struct numvfs_bad_entry *bad, size_t n,
					       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(bad[i].name, name) == 0)
			return &bad[i];
	return NULL;
}

/* Regression: one bad file failed the whole list, so no PF was restored. */
Test(numvfs, store_list_keeps_the_good_pfs_and_names_each_bad_file)
{
	struct watchdog w;
	static const struct { const char *name, *why; } want[] = {
		{ "eth0", "virtual_functions/eth0: not a PCI address" },
		{ "0000:3b:00.0", "virtual_functions/0000:3b:00.0: a FIFO" },
		{ "0000:3b:00.1", "virtual_functions/0000:3b:00.1: a symbolic link" },
		{ "0000:99:00.0", "virtual_functions/0000:99:00.0: corrupt" },
	};
	struct numvfs_entry *e = NULL;
	struct numvfs_bad_entry *bad = NULL;
	size_t n, n_bad;

	cr_assert_eq(numvfs_store_save(state_dir, "0000:5e:00.0", 3), 0);
	write_state_file("eth0", "3\n");
	make_fifo("0000:3b:00.0");
	make_symlink("0000:3b:00.1");
	write_state_file("0000:99:00.0", "three\n");
	watchdog_start(&w, 30, "numvfs_store_list with a FIFO");
	cr_assert_eq(numvfs_store_list(state_dir, &e, &n, &bad, &n_bad, NULL, 0), 0);
	watchdog_stop(&w);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(e[0].pci_addr, "0000:5e:00.0");
	cr_assert_eq(e[0].n, 3);
	cr_assert_eq(n_bad, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct numvfs_bad_entry *b = find_bad(bad, n_bad, want[i].name);

		cr_assert_not_null(b, "%s not reported", want[i].name);
		cr_assert(strstr(b->why, want[i].why), "%s: %s", want[i].name, b->why);
		cr_assert_eq(b->err, -EBADMSG);
	}
	free(e);
	free(bad);
}

/* ---- the changes in flight ------------------------------------------------------------ */

Test(numvfs, intent_is_saved_listed_with_its_boot_and_cleared)
{
	struct numvfs_intent *in = NULL;
	struct numvfs_bad_entry *bad = NULL;
	char boot[NUMVFS_BOOT_ID_MAX];
	size_t n = 9, n_bad = 9;

	cr_assert_eq(numvfs_intent_list(state_dir, &in, &n, &bad, &n_bad), 0);
	cr_assert_eq(n + n_bad, 0, "no directory: nothing in flight");
	cr_assert_eq(numvfs_intent_save(state_dir, "0000:5e:00.0", 2, 4), 0);
	cr_assert_eq(numvfs_intent_list(state_dir, &in, &n, &bad, &n_bad), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(n_bad, 0);
	cr_assert_str_eq(in[0].pci_addr, "0000:5e:00.0");
	cr_assert_eq(in[0].from, 2);
	cr_assert_eq(in[0].to, 4);
	cr_assert_eq(numvfs_boot_id(boot), 0);
	cr_assert_str_eq(in[0].boot_id, boot);
	free(in);
	free(bad);
	cr_assert_eq(numvfs_intent_clear(state_dir, "0000:5e:00.0"), 0);
	cr_assert_eq(numvfs_intent_clear(state_dir, "0000:5e:00.0"), 0, "clearing twice");
	cr_assert_eq(numvfs_intent_list(state_dir, &in, &n, &bad, &n_bad), 0);
	cr_assert_eq(n + n_bad, 0);
	cr_assert_eq(numvfs_intent_save(state_dir, "../etc", 2, 4), -EINVAL);
}

Test(numvfs, intent_that_is_not_one_is_not_trusted)
{
	struct numvfs_intent *in = NULL;
	struct numvfs_bad_entry *bad = NULL;
	char path[512];
	size_t n, n_bad;
	FILE *f;

	cr_assert_eq(numvfs_intent_save(state_dir, "0000:5e:00.0", 0, 3), 0);
	snprintf(path, sizeof(path), "%s/%s/0000:3b:00.0", state_dir, NUMVFS_INTENT_DIR);
	f = fopen(path, "we");
	cr_assert(f);
	fputs("2 x\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s/0000:3b:00.1", state_dir, NUMVFS_INTENT_DIR);
	cr_assert_eq(symlink("/etc/passwd", path), 0);
	cr_assert_eq(numvfs_intent_list(state_dir, &in, &n, &bad, &n_bad), 0);
	cr_assert_eq(n, 1, "only the good one");
	cr_assert_str_eq(in[0].pci_addr, "0000:5e:00.0");
	cr_assert_eq(n_bad, 2);
	for (size_t i = 0; i < n_bad; i++)
		cr_assert(strstr(bad[i].why, "not a numvfs change in flight, not trusted"), "%s",
			  bad[i].why);
	free(in);
	free(bad);
}

/* ---- request check -------------------------------------------------------------------- */

struct bed {
	UMockdevTestbed *tb;
	struct udev *udev;
	struct udev_monitor *mon;
	struct host *host;
};

static void bed_open(struct bed *b)
{
	b->tb = testbed_from_fixture("host_two_vendors.umockdev");
	b->udev = udev_new();
	cr_assert(b->udev);
	cr_assert_eq(host_monitor_new(b->udev, &b->mon), 0);
	cr_assert_eq(host_discover(b->udev, &b->host), 0);
	cr_assert_eq(b->host->n_pfs, 3);
}

static void bed_close(struct bed *b)
{
	host_free(b->host);
	if (b->mon)
		udev_monitor_unref(b->mon);
	udev_unref(b->udev);
	g_object_unref(b->tb);
}

Test(numvfs, check_request_refuses_more_than_totalvfs)
{
	struct bed b;
	char why[128];

	bed_open(&b);
	cr_assert_eq(numvfs_check_request(b.host, 2, 5, NULL, why, sizeof(why)), -ERANGE);
	cr_assert_str_eq(why, "ens2f0: 5 VFs requested, the PF supports 0..4");
	cr_assert_eq(numvfs_check_request(b.host, 2, 4, NULL, why, sizeof(why)), 0);
	cr_assert_eq(numvfs_check_request(b.host, 2, 0, NULL, why, sizeof(why)), 0);
	bed_close(&b);
}

Test(numvfs, check_request_refuses_while_vfs_are_in_use)
{
	struct bed b;
	struct numvfs_vf_use *uses;
	char why[256];

	bed_open(&b);
	/* PF 0 has a VF bound to vfio-pci by someone else: the model alone knows that much */
	cr_assert_eq(numvfs_check_request(b.host, 0, 8, NULL, why, sizeof(why)), -EBUSY);
	cr_assert_str_eq(why, "ens1f0: 1 of 4 VFs in use: 0000:3b:02.2 bound to vfio-pci by "
			      "another party");
	uses = calloc(b.host->n_vfs, sizeof(*uses));
	cr_assert(uses);
	cr_assert_eq(numvfs_check_request(b.host, 0, 8, uses, why, sizeof(why)), 0,
		     "no VF in use: %s", why);
	snprintf(uses[0].why, sizeof(uses[0].why), "leased by vm1/nic0");
	snprintf(uses[3].why, sizeof(uses[3].why), "host-busy (vlan ens1f0v3.7 on top)");
	cr_assert_eq(numvfs_check_request(b.host, 0, 8, uses, why, sizeof(why)), -EBUSY);
	cr_assert_str_eq(why, "ens1f0: 2 of 4 VFs in use: 0000:3b:02.0 leased by vm1/nic0; "
			      "0000:3b:02.3 host-busy (vlan ens1f0v3.7 on top)");
	/* the other PFs' VFs are not theirs */
	cr_assert_eq(numvfs_check_request(b.host, 1, 0, uses, why, sizeof(why)), 0);
	free(uses);
	bed_close(&b);
}

Test(numvfs, check_request_counts_the_vfs_it_has_no_room_to_name)
{
	struct bed b;
	struct numvfs_vf_use *uses;
	char why[80];

	bed_open(&b);
	uses = calloc(b.host->n_vfs, sizeof(*uses));
	cr_assert(uses);
	for (size_t i = 0; i < 4; i++)
		snprintf(uses[i].why, sizeof(uses[i].why), "leased by vm%zu/nic0", i);
	cr_assert_eq(numvfs_check_request(b.host, 0, 0, uses, why, sizeof(why)), -EBUSY);
	cr_assert_str_eq(why, "ens1f0: 4 of 4 VFs in use: 0000:3b:02.0 leased by vm0/nic0; "
			      "and 3 more");
	free(uses);
	bed_close(&b);
}

/* ---- the change ----------------------------------------------------------------------- */

/* The owner's write: libc on the /sys path, like the daemon's fd handed to io_uring. */
static long owner_write(const char *pf_syspath, unsigned value)
{
	char path[256], buf[16];
	int fd, len;
	long r;

	snprintf(path, sizeof(path), "%s/sriov_numvfs", pf_syspath);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	len = snprintf(buf, sizeof(buf), "%u\n", value);
	r = write(fd, buf, (size_t)len);
	close(fd);
	return r < 0 ? -errno : r;
}

/* Feeds every queued udev event to the op; the events were emitted before this runs. */
static unsigned feed_events(struct bed *b, struct numvfs_op *op)
{
	struct pollfd p = { .fd = udev_monitor_get_fd(b->mon), .events = POLLIN };
	unsigned used = 0;

	while (poll(&p, 1, 0) > 0) {
		struct udev_device *d = udev_monitor_receive_device(b->mon);
		struct host_change c;

		if (!d)
			continue;
		if (host_change_from_udev(d, &c) == 0 && numvfs_op_observe(op, &c) == 0)
			used++;
		udev_device_unref(d);
	}
	return used;
}

/* One WRITE action performed by the owner with the kernel answering, or with an injected
 * result instead of the kernel's answer. */
static void do_write(struct bed *b, struct numvfs_op *op, const char *pf, unsigned want,
		     long inject)
{
	struct numvfs_action a;

	numvfs_op_next_action(op, &a);
	cr_assert_eq(a.kind, NUMVFS_ACT_WRITE, "expected a write, state %d", numvfs_op_state(op));
	cr_assert_eq(a.value, want);
	cr_assert_eq(a.timeout_ms, 60000);
	if (inject) {
		cr_assert_eq(numvfs_op_write_done(op, a.step, inject), 0);
		return;
	}
	cr_assert_eq(numvfs_op_write_done(op, a.step, owner_write(pf, a.value)), 0);
	fake_kernel_apply(b->tb, pf);
	numvfs_op_next_action(op, &a);
	if (a.kind == NUMVFS_ACT_WAIT)
		cr_assert_gt(feed_events(b, op), 0, "no udev event moved the op");
}

static void assert_testbed_numvfs(struct bed *b, const char *pf, unsigned n)
{
	struct host *h;
	char buf[16], want[16];
	size_t existing = 0;

	char rel[256];

	snprintf(want, sizeof(want), "%u\n", n);
	snprintf(rel, sizeof(rel), "%s/sriov_numvfs", pf + strlen("/sys/"));
	testbed_read(b->tb, rel, buf, sizeof(buf));
	/* the fixture's value has no newline, a written one has: compare the number */
	cr_assert_eq(strtoul(buf, NULL, 10), n, "sriov_numvfs holds \"%s\", want %s", buf, want);
	cr_assert_eq(host_discover(b->udev, &h), 0);
	for (size_t i = 0; i < h->n_vfs; i++)
		existing += strcmp(h->pfs[h->vfs[i].pf].pci_addr, strrchr(pf, '/') + 1) == 0;
	cr_assert_eq(existing, n, "%zu VFs exist, want %u", existing, n);
	host_free(h);
}

Test(numvfs, change_completes_when_the_vf_events_arrive)
{
	struct numvfs_op *op;
	struct numvfs_action a;
	const char *msg;
	char buf[16];
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_op_new(b.host, 2, 4, 60000, &op), 0);
	do_write(&b, op, MLX, 0, 0);
	cr_assert_eq(numvfs_op_state(op), NUMVFS_WRITE_N, "state %d", numvfs_op_state(op));
	do_write(&b, op, MLX, 4, 0);
	numvfs_op_next_action(op, &a);
	cr_assert_eq(a.kind, NUMVFS_ACT_FINISHED);
	cr_assert_eq(numvfs_op_result(op, &msg), 0);
	cr_assert_str_eq(msg, "0000:5e:00.0: sriov_numvfs=4");
	assert_testbed_numvfs(&b, MLX, 4);
	/* the owner persists on success */
	cr_assert_eq(numvfs_store_save(state_dir, numvfs_op_pf(op), numvfs_op_target(op)), 0);
	read_state_file("0000:5e:00.0", buf, sizeof(buf));
	cr_assert_str_eq(buf, "4\n");
	numvfs_op_free(op);
	bed_close(&b);
}

/* The kernel takes N over 0 as it is: no 0 first; and 0 over 0 is nothing to write. */
Test(numvfs, change_from_zero_writes_only_n_and_zero_to_zero_writes_nothing)
{
	struct numvfs_op *op;
	struct numvfs_action a;
	const char *msg;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_op_new(b.host, 2, 0, 60000, &op), 0);
	do_write(&b, op, MLX, 0, 0);
	numvfs_op_free(op);
	assert_testbed_numvfs(&b, MLX, 0);
	host_free(b.host);
	cr_assert_eq(host_discover(b.udev, &b.host), 0);

	cr_assert_eq(numvfs_op_new(b.host, 2, 0, 60000, &op), 0);
	numvfs_op_next_action(op, &a);
	cr_assert_eq(a.kind, NUMVFS_ACT_FINISHED, "0 to 0: action %d", a.kind);
	cr_assert_eq(numvfs_op_result(op, &msg), 0);
	cr_assert_str_eq(msg, "0000:5e:00.0: sriov_numvfs=0");
	numvfs_op_free(op);

	cr_assert_eq(numvfs_op_new(b.host, 2, 3, 60000, &op), 0);
	do_write(&b, op, MLX, 3, 0); /* the first write is 3 */
	numvfs_op_next_action(op, &a);
	cr_assert_eq(a.kind, NUMVFS_ACT_FINISHED);
	cr_assert_eq(numvfs_op_result(op, &msg), 0, "%s", msg);
	assert_testbed_numvfs(&b, MLX, 3);
	numvfs_op_free(op);
	bed_close(&b);
}

Test(numvfs, change_waits_for_events_not_for_the_write)
{
	struct numvfs_op *op;
	struct numvfs_action a;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_op_new(b.host, 2, 3, 60000, &op), 0);
	do_write(&b, op, MLX, 0, 0);
	numvfs_op_next_action(op, &a);
	cr_assert_eq(numvfs_op_write_done(op, a.step, owner_write(MLX, 3)), 0);
	/* the write returned, the kernel has not created the VFs yet: still waiting */
	numvfs_op_next_action(op, &a);
	cr_assert_eq(a.kind, NUMVFS_ACT_WAIT);
	cr_assert_eq(numvfs_op_state(op), NUMVFS_WAIT_VFS);
	fake_kernel_apply(b.tb, MLX);
	feed_events(&b, op);
	cr_assert_eq(numvfs_op_state(op), NUMVFS_DONE);
	numvfs_op_free(op);
	bed_close(&b);
}

Test(numvfs, ebusy_is_retried_once_from_zero)
{
	struct numvfs_op *op;
	const char *msg;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_op_new(b.host, 2, 3, 60000, &op), 0);
	do_write(&b, op, MLX, 0, 0);
	do_write(&b, op, MLX, 3, -EBUSY);
	cr_assert_not(numvfs_op_rolling_back(op));
	do_write(&b, op, MLX, 0, 0);
	do_write(&b, op, MLX, 3, 0);
	cr_assert_eq(numvfs_op_result(op, &msg), 0, "%s", msg);
	assert_testbed_numvfs(&b, MLX, 3);
	numvfs_op_free(op);
	bed_close(&b);
}

Test(numvfs, write_failure_restores_the_last_known_value)
{
	struct numvfs_op *op;
	const char *msg;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_op_new(b.host, 2, 4, 60000, &op), 0);
	do_write(&b, op, MLX, 0, 0);
	do_write(&b, op, MLX, 4, -EBUSY);
	do_write(&b, op, MLX, 0, 0);
	do_write(&b, op, MLX, 4, -EBUSY); /* the second EBUSY is a failure */
	cr_assert(numvfs_op_rolling_back(op));
	do_write(&b, op, MLX, 0, 0);
	do_write(&b, op, MLX, 2, 0);
	cr_assert_eq(numvfs_op_result(op, &msg), -EBUSY);
	cr_assert_str_eq(msg, "0000:5e:00.0: writing sriov_numvfs=4 failed: "
			      "Device or resource busy; restored 2");
	assert_testbed_numvfs(&b, MLX, 2);
	numvfs_op_free(op);
	bed_close(&b);
}

Test(numvfs, failed_write_back_reports_both_failures)
{
	struct numvfs_op *op;
	const char *msg;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_op_new(b.host, 2, 4, 60000, &op), 0);
	do_write(&b, op, MLX, 0, -EIO);
	do_write(&b, op, MLX, 0, -EIO);
	cr_assert_eq(numvfs_op_state(op), NUMVFS_FAILED);
	cr_assert_eq(numvfs_op_result(op, &msg), -EIO);
	cr_assert_str_eq(msg, "0000:5e:00.0: writing sriov_numvfs=4 failed: Input/output error; "
			      "restoring 2 also failed: Input/output error");
	numvfs_op_free(op);
	bed_close(&b);
}

Test(numvfs, timeout_waiting_for_vfs_rolls_back)
{
	struct numvfs_op *op;
	struct numvfs_action a;
	const char *msg;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_op_new(b.host, 2, 4, 60000, &op), 0);
	do_write(&b, op, MLX, 0, 0);
	numvfs_op_next_action(op, &a);
	cr_assert_eq(numvfs_op_write_done(op, a.step, owner_write(MLX, 4)), 0);
	/* the driver never creates the VFs: the owner's timer fires */
	numvfs_op_next_action(op, &a);
	cr_assert_eq(a.kind, NUMVFS_ACT_WAIT);
	cr_assert_eq(numvfs_op_timeout(op, a.step), 0);
	cr_assert(numvfs_op_rolling_back(op));
	do_write(&b, op, MLX, 0, 0);
	do_write(&b, op, MLX, 2, 0);
	cr_assert_eq(numvfs_op_result(op, &msg), -ETIMEDOUT);
	cr_assert_str_eq(msg, "0000:5e:00.0: writing sriov_numvfs=4 failed: 0 of 4 VFs appeared "
			      "within 60000 ms; restored 2");
	assert_testbed_numvfs(&b, MLX, 2);
	numvfs_op_free(op);
	bed_close(&b);
}

Test(numvfs, stale_inputs_are_ignored)
{
	struct numvfs_op *op;
	struct numvfs_action a;
	uint32_t old;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_op_new(b.host, 2, 4, 60000, &op), 0);
	numvfs_op_next_action(op, &a);
	old = a.step;
	do_write(&b, op, MLX, 0, 0);
	cr_assert_eq(numvfs_op_timeout(op, old), -ESTALE);
	cr_assert_eq(numvfs_op_write_done(op, old, 2), -ESTALE);
	cr_assert_eq(numvfs_op_state(op), NUMVFS_WRITE_N);
	numvfs_op_free(op);
	bed_close(&b);
}

Test(numvfs, pf_removed_fails_without_write_back)
{
	struct numvfs_op *op;
	struct host_change c = { .kind = HOST_PF_REMOVED, .pci_addr = "0000:5e:00.0" };
	const char *msg;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_op_new(b.host, 2, 4, 60000, &op), 0);
	do_write(&b, op, MLX, 0, 0);
	do_write(&b, op, MLX, 4, 0);
	cr_assert_eq(numvfs_op_state(op), NUMVFS_DONE);
	numvfs_op_free(op);

	cr_assert_eq(numvfs_op_new(b.host, 0, 2, 60000, &op), 0);
	memcpy(c.pci_addr, "0000:3b:00.0", 13);
	cr_assert_eq(numvfs_op_observe(op, &c), 0);
	cr_assert_eq(numvfs_op_result(op, &msg), -ENODEV);
	cr_assert_str_eq(msg, "0000:3b:00.0: writing sriov_numvfs=2 failed: the PF was removed; "
			      "4 not restored: the PF is gone");
	numvfs_op_free(op);
	bed_close(&b);
}

/* ---- boot-time restore ---------------------------------------------------------------- */

/* A reboot as the restore sees it: the managed PFs come up with no VFs. */
static void reboot(struct bed *b, const char *pf)
{
	/* the restore listens on its own monitor; an undrained one would fill up */
	if (b->mon) {
		udev_monitor_unref(b->mon);
		b->mon = NULL;
	}
	owner_write(pf, 0);
	fake_kernel_apply(b->tb, pf);
	assert_testbed_numvfs(b, pf, 0);
}

Test(numvfs, restore_after_reboot_brings_back_persisted_values)
{
	static const char *const pfs[] = { MLX, INTEL1, INTEL0 };
	struct fake_kernel *k;
	unsigned writes[3];
	char *report = NULL;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:5e:00.0", 3), 0);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:3b:00.1", 5), 0);
	reboot(&b, MLX);
	reboot(&b, INTEL1);
	k = fake_kernel_start(b.tb, pfs, 3);
	cr_assert_eq(numvfs_restore_all(b.udev, state_dir, &(struct numvfs_restore_opts){ .timeout_ms = 60000 },
					&report), 0, "%s", report);
	fake_kernel_stop(k, writes);
	cr_assert(strstr(report, "0000:5e:00.0: sriov_numvfs=3 restored"), "%s", report);
	cr_assert(strstr(report, "0000:3b:00.1: sriov_numvfs=5 restored"), "%s", report);
	cr_assert_null(strstr(report, "0000:3b:00.0"), "%s", report);
	assert_testbed_numvfs(&b, MLX, 3);
	assert_testbed_numvfs(&b, INTEL1, 5);
	/* the unmanaged PF: never written, its four VFs as they were */
	cr_assert_eq(writes[2], 0);
	assert_testbed_numvfs(&b, INTEL0, 4);
	free(report);
	bed_close(&b);
}

Test(numvfs, restore_without_state_touches_nothing)
{
	char *report = NULL;
	struct bed b;

	bed_open(&b);
	udev_monitor_unref(b.mon);
	b.mon = NULL;
	cr_assert_eq(numvfs_restore_all(b.udev, state_dir, &(struct numvfs_restore_opts){ .timeout_ms = 1000 },
					&report), 0);
	cr_assert_str_eq(report, "");
	assert_testbed_numvfs(&b, INTEL0, 4);
	assert_testbed_numvfs(&b, MLX, 2);
	free(report);
	bed_close(&b);
}

Test(numvfs, restore_failure_names_the_pf)
{
	static const char *const pfs[] = { MLX };
	struct fake_kernel *k;
	char *report = NULL;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:99:00.0", 2), 0);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:5e:00.0", 3), 0);
	reboot(&b, MLX);
	k = fake_kernel_start(b.tb, pfs, 1);
	cr_assert_eq(numvfs_restore_all(b.udev, state_dir, &(struct numvfs_restore_opts){ .timeout_ms = 60000 },
					&report), -ENODEV);
	fake_kernel_stop(k, NULL);
	cr_assert(strstr(report, "0000:99:00.0: sriov_numvfs=2 not restored: no such SR-IOV PF"),
		  "%s", report);
	/* the others are still restored */
	cr_assert(strstr(report, "0000:5e:00.0: sriov_numvfs=3 restored"), "%s", report);
	free(report);
	bed_close(&b);
}

Test(numvfs, restore_timeout_names_the_pf)
{
	char *report = NULL;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:5e:00.0", 3), 0);
	reboot(&b, MLX);
	/* no kernel answers: the VFs never appear, and the write-back of 0 finds none */
	cr_assert_eq(numvfs_restore_all(b.udev, state_dir, &(struct numvfs_restore_opts){ .timeout_ms = 100 },
					&report), -ETIMEDOUT);
	cr_assert(strstr(report, "0000:5e:00.0: writing sriov_numvfs=3 failed: 0 of 3 VFs appeared"),
		  "%s", report);
	free(report);
	bed_close(&b);
}

/* Regression: a FIFO in the store hung the boot restore forever, and one corrupt file
 * aborted the restore of every PF. Now the good PF is restored and each bad file named;
 * the watchdog makes the unfixed code fail instead of hanging. */
Test(numvfs, restore_restores_the_good_pf_and_reports_each_bad_file)
{
	struct watchdog w;
	int r;
	static const char *const pfs[] = { MLX };
	struct fake_kernel *k;
	unsigned writes[1];
	char *report = NULL;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:5e:00.0", 3), 0);
	make_fifo("0000:3b:00.0");
	make_symlink("0000:3b:00.1");
	write_state_file("0000:99:00.0", "x\n");
	reboot(&b, MLX);
	k = fake_kernel_start(b.tb, pfs, 1);
	watchdog_start(&w, 60, "numvfs_restore_all with a FIFO in the store");
	r = numvfs_restore_all(b.udev, state_dir, &(struct numvfs_restore_opts){ .timeout_ms = 60000 },
					&report);
	watchdog_stop(&w);
	fake_kernel_stop(k, writes);
	cr_assert_eq(r, -EBADMSG, "%s", report);
	cr_assert(strstr(report, "0000:5e:00.0: sriov_numvfs=3 restored"), "%s", report);
	cr_assert(strstr(report, "virtual_functions/0000:3b:00.0: a FIFO"), "%s", report);
	cr_assert(strstr(report, "virtual_functions/0000:3b:00.1: a symbolic link"), "%s", report);
	cr_assert(strstr(report, "virtual_functions/0000:99:00.0: corrupt"), "%s", report);
	assert_testbed_numvfs(&b, MLX, 3);
	/* the PFs whose files were not trusted are not touched */
	assert_testbed_numvfs(&b, INTEL0, 4);
	free(report);
	bed_close(&b);
}

Test(numvfs, restore_refuses_a_corrupt_state_file)
{
	char *report = NULL;
	struct bed b;

	bed_open(&b);
	write_state_file("0000:5e:00.0", "three\n");
	cr_assert_eq(numvfs_restore_all(b.udev, state_dir, &(struct numvfs_restore_opts){ .timeout_ms = 1000 },
					&report), -EBADMSG);
	cr_assert(strstr(report, "virtual_functions/0000:5e:00.0: corrupt"), "%s", report);
	assert_testbed_numvfs(&b, MLX, 2);
	free(report);
	bed_close(&b);
}

/* ---- a PF that comes late ------------------------------------------------------------- */

struct restore_run {
	struct bed *b;
	FILE *progress;
	char *report;
	int r;
};

static void *restore_main(void *arg)
{
	struct restore_run *run = arg;
	struct numvfs_restore_opts opts = {
		.timeout_ms = 60000, .wait_ms = 30000, .progress = run->progress,
	};

	run->r = numvfs_restore_all(run->b->udev, state_dir, &opts, &run->report);
	fclose(run->progress); /* the test's read ends */
	return NULL;
}

/* The MLX PF as a late driver or a hot-plug brings it: no VFs, no driver yet. */
static const char late_pf[] =
	"P: /devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0\n"
	"E: SUBSYSTEM=pci\nE: PCI_SLOT_NAME=0000:5e:00.0\n"
	"A: vendor=0x15b3\nA: device=0x1017\nA: class=0x020000\nA: numa_node=1\nA: sriov_totalvfs=4\n"
	"A: sriov_numvfs=0\nA: sriov_offset=2\nA: sriov_stride=1\n"
	"L: iommu_group=../../../../kernel/iommu_groups/60\n";

/* The persisted PF is absent when the restore starts; it appears (udev add), then its
 * driver binds (udev bind): the restore, told so by udev, restores it then. */
Test(numvfs, restore_waits_on_udev_for_a_pf_that_appears_after_start)
{
	static const char *const pfs[] = { MLX };
	char values[1][FAKE_KERNEL_VALUES_MAX], line[256];
	struct restore_run run = { 0 };
	struct fake_kernel *k;
	GError *err = NULL;
	struct bed b;
	pthread_t t;
	FILE *in;
	int fds[2];

	bed_open(&b);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:5e:00.0", 3), 0);
	reboot(&b, MLX);
	umockdev_testbed_remove_device(b.tb, MLX);
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	in = fdopen(fds[0], "r");
	run.progress = fdopen(fds[1], "w");
	cr_assert(in && run.progress);
	run.b = &b;
	cr_assert_eq(pthread_create(&t, NULL, restore_main, &run), 0);
	/* the restore says what it waits for once it listens: only then does the PF come */
	cr_assert_not_null(fgets(line, sizeof(line), in), "the restore ended without waiting");
	cr_assert_str_eq(line, "waiting up to 30000 ms for 1 persisted PF(s) to appear: "
			       "0000:5e:00.0\n");
	cr_assert(umockdev_testbed_add_from_string(b.tb, late_pf, &err), "%s",
		  err ? err->message : "");
	k = fake_kernel_start(b.tb, pfs, 1);
	umockdev_testbed_uevent(b.tb, MLX, "add");
	umockdev_testbed_set_attribute_link(b.tb, MLX, "driver",
					    "../../../../bus/pci/drivers/mlx5_core");
	umockdev_testbed_uevent(b.tb, MLX, "bind");
	pthread_join(t, NULL);
	fake_kernel_stop_values(k, values);
	fclose(in);
	cr_assert_eq(run.r, 0, "%s", run.report);
	cr_assert(strstr(run.report, "0000:5e:00.0: sriov_numvfs=3 restored"), "%s", run.report);
	cr_assert_str_eq(values[0], "3", "written: %s", values[0]);
	assert_testbed_numvfs(&b, MLX, 3);
	free(run.report);
	bed_close(&b);
}

/* A persisted PF that never comes fails the restore, named, once the wait is over; the
 * others are restored meanwhile. */
Test(numvfs, restore_gives_up_on_a_pf_that_never_comes_and_names_it)
{
	static const char *const pfs[] = { MLX };
	struct numvfs_restore_opts opts = { .timeout_ms = 60000, .wait_ms = 200 };
	struct fake_kernel *k;
	char *report = NULL;
	struct bed b;

	bed_open(&b);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:99:00.0", 2), 0);
	cr_assert_eq(numvfs_store_save(state_dir, "0000:5e:00.0", 3), 0);
	reboot(&b, MLX);
	k = fake_kernel_start(b.tb, pfs, 1);
	cr_assert_eq(numvfs_restore_all(b.udev, state_dir, &opts, &report), -ENODEV);
	fake_kernel_stop(k, NULL);
	cr_assert(strstr(report, "0000:99:00.0: sriov_numvfs=2 not restored: no such SR-IOV PF "
			 "with a driver within 200 ms\n"), "%s", report);
	cr_assert(strstr(report, "0000:5e:00.0: sriov_numvfs=3 restored"), "%s", report);
	free(report);
	bed_close(&b);
}
