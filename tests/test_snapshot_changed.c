/* SPDX-License-Identifier: MIT */
/* vfpool_snapshot_changed: the cheap "has the state moved on?" of a reader that follows the
 * daemon (the Kubernetes device plugin calls it every few milliseconds). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "vfpool/vfpool.h"

static void alloc_one(const struct test_daemon *d, const char *vm)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = vm, .vnic_id = "nic0",
						  .network = "red");
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h = connect_ok(d);
	char why[160] = "";

	cr_assert_eq(vfpool_alloc(h, &req, &l, why, sizeof(why)), 0, "%s", why);
	vfpool_close(h);
}

Test(snapshot_changed, says_when_the_state_moved_on_and_only_then)
{
	struct test_daemon d;
	struct vfpool_snapshot *s;
	struct vfpool_daemon_info info = VFPOOL_OPTS(vfpool_daemon_info);
	int r = 0, old_pid;

	test_daemon_start(&d, "1x8", NULL);
	cr_assert_eq(vfpool_snapshot_take(d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_changed(NULL), -EINVAL);
	cr_assert_eq(vfpool_snapshot_changed(s), 0, "nothing happened since the take");

	/* the lease is in the state before its completion: changed at once */
	alloc_one(&d, "vm1");
	cr_assert_eq(vfpool_snapshot_changed(s), 1, "a lease was made");
	cr_assert_eq(vfpool_snapshot_changed(s), 1, "still: nothing was read since");
	cr_assert_eq(vfpool_snapshot_refresh(s), 0);
	cr_assert_eq(vfpool_snapshot_changed(s), 0, "read again: current");

	/* a daemon killed and started again publishes a new segment: seen, then read */
	cr_assert_eq(vfpool_snapshot_daemon(s, &info), 0);
	old_pid = info.pid;
	kill(d.pid, SIGKILL);
	waitpid(d.pid, NULL, 0);
	/* its death is a change: the refresh reports it, and then the snapshot is current */
	for (int i = 0; i < 500 && (r = vfpool_snapshot_changed(s)) == 0; i++)
		usleep(10000);
	cr_assert_eq(r, 1, "the daemon's death was never noticed");
	cr_assert_eq(vfpool_snapshot_refresh(s), -EOWNERDEAD);
	cr_assert_eq(vfpool_snapshot_changed(s), 0, "nothing new since the refresh said so");
	test_daemon_restart(&d, "1x8", NULL);
	for (int i = 0; i < 500 && (r = vfpool_snapshot_changed(s)) == 0; i++)
		usleep(10000);
	cr_assert_eq(r, 1, "the restarted daemon's segment was never noticed");
	cr_assert_eq(vfpool_snapshot_refresh(s), 0);
	cr_assert_eq(vfpool_snapshot_daemon(s, &info), 0);
	cr_assert_eq(info.pid, d.pid, "read the old segment (pid %d, old %d)", info.pid, old_pid);
	cr_assert_eq(vfpool_snapshot_changed(s), 0);
	vfpool_snapshot_free(s);
	cr_assert_eq(test_daemon_stop(&d), 0);
}
