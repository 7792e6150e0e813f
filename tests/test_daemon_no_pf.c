/* SPDX-License-Identifier: MIT */
/*
 * vfpoold on a host without any SR-IOV PF (an empty umockdev testbed): a uniform fleet
 * rollout reaches such hosts too, so the daemon starts, serves an empty pool and stays up;
 * every allocation says why it cannot be served, and the views show an empty host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"
#include "tests/state_dir.h"
#include "tests/udev_testbed.h"
#include "vfpool/vfpool.h"

struct empty_host {
	UMockdevTestbed *tb;
	char state_dir[64];
	struct test_daemon d;
};

static void empty_host_start(struct empty_host *h)
{
	testbed_require_wrapper();
	memset(h, 0, sizeof(*h));
	h->tb = umockdev_testbed_new(); /* no device at all: no PCI, no SR-IOV */
	cr_assert(h->tb);
	state_dir_make(h->state_dir, sizeof(h->state_dir));
	test_daemon_start_discovered(&h->d, h->state_dir, "--spin-us", "0", NULL);
}

static void empty_host_stop(struct empty_host *h)
{
	cr_assert_eq(test_daemon_stop(&h->d), 0, "vfpoold did not shut down cleanly");
	state_dir_remove(h->state_dir);
	g_object_unref(h->tb);
}

static char *ctl(const struct empty_host *h, int want_status, const char *args)
{
	char *out;
	int st = run_capture(&out, "%s --run-dir %s %s", test_build_path("vfpoolctl"), h->d.run_dir,
			     args);

	cr_assert_eq(st, want_status, "vfpoolctl %s: status %d, output:\n%s", args, st, out);
	return out;
}

TestSuite(daemon_no_pf, .timeout = 60);

Test(daemon_no_pf, starts_reports_ready_and_serves_an_empty_pool)
{
	struct empty_host h;
	struct vfpool_snapshot *s;
	char *log;

	empty_host_start(&h);
	cr_assert(test_daemon_alive(&h.d), "vfpoold exited on a host without SR-IOV");
	cr_assert_eq(vfpool_snapshot_take(h.d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_pf_count(s), 0u);
	cr_assert_eq(vfpool_snapshot_vf_count(s), 0u);
	vfpool_snapshot_free(s);
	log = read_whole_file(h.d.log_path);
	cr_assert(strstr(log, "no SR-IOV PF on this host"), "log:\n%s", log);
	cr_assert(strstr(log, "ready"), "no ready line:\n%s", log);
	free(log);
	empty_host_stop(&h);
}

Test(daemon_no_pf, allocation_is_refused_with_no_sriov_pf_on_this_host_and_daemon_stays_up)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1",
		.vnic_id = "nic0", .network = "red", .numa_node = -1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct empty_host h;
	struct vfpool *c;
	char why[256] = "";

	empty_host_start(&h);
	c = connect_ok(&h.d);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(vfpool_alloc(c, &req, &l, why, sizeof(why)), -ENOSPC);
		cr_assert_str_eq(why, "no SR-IOV PF on this host");
	}
	vfpool_close(c);
	cr_assert(test_daemon_alive(&h.d));
	empty_host_stop(&h);
}

Test(daemon_no_pf, pf_list_is_an_empty_table_and_capacity_is_zero)
{
	struct empty_host h;
	char *out;

	empty_host_start(&h);
	out = ctl(&h, 0, "pf list");
	cr_assert(strstr(out, "PF"), "no table header:\n%s", out);
	cr_assert_eq(count_substr(out, "\n"), 1u, "rows on an empty host:\n%s", out);
	free(out);
	out = ctl(&h, 0, "pf list --json");
	cr_assert(strstr(out, "[ ]") || strstr(out, "[]"), "not an empty JSON array:\n%s", out);
	free(out);
	out = ctl(&h, 0, "capacity");
	cr_assert(strstr(out, "all PFs: 0 free on 0 PFs (no SR-IOV PF on this host)"),
		  "capacity:\n%s", out);
	free(out);
	out = ctl(&h, 0, "capacity --json");
	cr_assert(strstr(out, "\"networks\":[],\"pfs\":0,\"free\":0"), "capacity:\n%s", out);
	free(out);
	empty_host_stop(&h);
}
