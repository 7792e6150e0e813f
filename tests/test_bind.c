/* SPDX-License-Identifier: MIT */
/* Process-bound leases (VFPOOL_ALLOC_BIND_PID) and clients that survive a daemon restart. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/model/request.h"
#include "tests/daemon_fixture.h"
#include "tests/state_dir.h"
#include "vfpool/vfpool.h"

extern char **environ;

/* ---- decoding (its refusals are rows of the table in tests/test_request.c) ------------- */

static struct vfpool_sqe alloc_entry(void)
{
	struct vfpool_sqe e;

	memset(&e, 0, sizeof(e));
	e.opcode = VFPOOL_OP_ALLOC;
	e.numa_node = -1;
	strcpy(e.vm_id, "vm1");
	strcpy(e.vnic_id, "nic0");
	strcpy(e.network, "red");
	return e;
}

Test(bind_decode, bind_flag_on_alloc_carries_the_pid)
{
	struct vfpool_sqe e = alloc_entry();
	struct request r;
	const char *why = NULL;

	e.flags = VFPOOL_REQ_F_BIND_PID;
	e.bind_pid = 1234;
	cr_assert_eq(request_decode(&e, &r, &why), 0, "%s", why);
	cr_assert_eq(r.bind_pid, 1234);
}

Test(bind_decode, bind_to_pid_zero_is_left_for_the_connection_to_resolve)
{
	struct vfpool_sqe e = alloc_entry();
	struct request r;
	const char *why = NULL;

	e.flags = VFPOOL_REQ_F_BIND_PID;
	cr_assert_eq(request_decode(&e, &r, &why), 0, "%s", why);
	cr_assert_eq(r.bind_pid, 0);
}

/* ---- the daemon ---------------------------------------------------------------------- */

TestSuite(bind);

/* A process that lives until killed: what a QEMU is to the daemon. Spawned (an exec, not
 * a bare fork): a fork of a Criterion worker would carry the runner's state along. */
static pid_t spawn_sleeper(void)
{
	char *const argv[] = { "sleep", "3600", NULL };
	pid_t pid;

	cr_assert_eq(posix_spawnp(&pid, "sleep", NULL, NULL, argv, environ), 0);
	return pid;
}

static void end_process(pid_t pid)
{
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
}

static void crash(struct test_daemon *d)
{
	kill(d->pid, SIGKILL);
	cr_assert_eq(waitpid(d->pid, NULL, 0), d->pid);
	d->pid = 0;
}

/* The (VM, vNIC)'s lease in the snapshot, or false. */
static bool leased(const struct test_daemon *d, const char *vm, const char *vnic)
{
	struct vfpool_snapshot *s;
	bool found = false;

	cr_assert_eq(vfpool_snapshot_take(d->run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s) && !found; i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		cr_assert_eq(vfpool_snapshot_vf(s, i, &v), 0);
		found = v.status == VFPOOL_VF_STATUS_LEASED && strcmp(v.vm_id, vm) == 0 &&
			strcmp(v.vnic_id, vnic) == 0;
	}
	vfpool_snapshot_free(s);
	return found;
}

/* Polls (bounded; no timing asserted) until the lease is gone. */
static bool wait_released(const struct test_daemon *d, const char *vm, const char *vnic)
{
	for (int i = 0; i < 1000; i++) {
		if (!leased(d, vm, vnic))
			return true;
		usleep(10000);
	}
	return false;
}

static bool log_has(const struct test_daemon *d, const char *needle)
{
	static char buf[65536];
	FILE *f = fopen(d->log_path, "re");
	size_t n;

	cr_assert(f, "%s: %s", d->log_path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

static int alloc_bound(struct vfpool *h, const char *vnic, pid_t pid, struct vfpool_lease *l,
		       char *why, size_t why_len)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = vnic, .network = "red", .numa_node = -1,
		.flags = VFPOOL_ALLOC_BIND_PID, .bind_pid = pid);

	return vfpool_alloc(h, &req, l, why, why_len);
}

Test(bind, lease_bound_to_a_process_is_released_when_it_exits,
     .init = make_state_dir, .fini = remove_state_dir)
{
	struct test_daemon d;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160] = "";
	pid_t qemu = spawn_sleeper();

	test_daemon_start(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert_eq(vfpool_connect(d.run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_bound(h, "nic0", qemu, &l, why, sizeof(why)), 0, "%s", why);
	cr_assert(leased(&d, "vm1", "nic0"));
	end_process(qemu);
	cr_assert(wait_released(&d, "vm1", "nic0"), "the lease outlived its process");
	cr_assert(log_has(&d, "event=lease_released_process_exited vm=vm1 vnic=nic0"));
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(bind, lease_bound_to_a_live_process_stays, .init = make_state_dir, .fini = remove_state_dir)
{
	struct test_daemon d;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char out_path[128], *out = NULL;
	const char *words[] = { "lease", "list" };
	char want[64];
	pid_t qemu = spawn_sleeper();

	test_daemon_start(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert_eq(vfpool_connect(d.run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_bound(h, "nic0", qemu, &l, NULL, 0), 0);
	/* the lease list shows whom the lease is bound to */
	cr_assert_eq(vfpool_command(h, 2, words, &out), 0);
	snprintf(want, sizeof(want), "pid %d", (int)qemu);
	cr_assert(strstr(out, want), "lease list: %s", out);
	free(out);
	(void)out_path;
	vfpool_close(h);
	/* the client that made it went away; the process it names did not */
	cr_assert(leased(&d, "vm1", "nic0"));
	end_process(qemu);
	cr_assert(wait_released(&d, "vm1", "nic0"));
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(bind, bind_to_a_process_that_does_not_exist_fails_with_esrch,
     .init = make_state_dir, .fini = remove_state_dir)
{
	struct test_daemon d;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160] = "", want[96];
	pid_t gone = spawn_sleeper();

	end_process(gone);
	test_daemon_start(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert_eq(vfpool_connect(d.run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_bound(h, "nic0", gone, &l, why, sizeof(why)), -ESRCH, "%s", why);
	snprintf(want, sizeof(want), "vm1/nic0: process %d does not exist", (int)gone);
	cr_assert_str_eq(why, want);
	cr_assert(!leased(&d, "vm1", "nic0"));
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(bind, bind_to_pid_zero_binds_to_the_connecting_client,
     .init = make_state_dir, .fini = remove_state_dir)
{
	struct test_daemon d;
	int pipefd[2];
	char ok = 0;
	pid_t client;

	test_daemon_start(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert_eq(pipe(pipefd), 0);
	client = fork();
	cr_assert_geq(client, 0);
	if (client == 0) {
		struct vfpool *h;
		struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);

		close(pipefd[0]);
		if (vfpool_connect(d.run_dir, NULL, &h) == 0 &&
		    alloc_bound(h, "nic0", 0, &l, NULL, 0) == 0)
			ok = 1;
		if (write(pipefd[1], &ok, 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	cr_assert_eq(read(pipefd[0], &ok, 1), 1);
	close(pipefd[0]);
	cr_assert_eq(ok, 1, "the client's bound alloc failed");
	cr_assert(leased(&d, "vm1", "nic0"));
	end_process(client);
	cr_assert(wait_released(&d, "vm1", "nic0"), "the lease outlived its client");
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* vm1/nic0 bound to qemu, then the daemon is SIGKILLed (its run dir and journal stay). */
static void bound_lease_then_crash(struct test_daemon *d, pid_t qemu)
{
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);

	test_daemon_start(d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert_eq(vfpool_connect(d->run_dir, NULL, &h), 0);
	cr_assert_eq(alloc_bound(h, "nic0", qemu, &l, NULL, 0), 0);
	vfpool_close(h);
	crash(d);
}

Test(bind, bound_lease_is_watched_again_after_a_restart,
     .init = make_state_dir, .fini = remove_state_dir)
{
	struct test_daemon d;
	pid_t qemu = spawn_sleeper();

	bound_lease_then_crash(&d, qemu);
	test_daemon_restart(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert(leased(&d, "vm1", "nic0"), "the bound lease was not restored");
	end_process(qemu);
	cr_assert(wait_released(&d, "vm1", "nic0"), "the restored lease outlived its process");
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(bind, bound_lease_whose_process_died_while_the_daemon_was_down_is_released_at_start,
     .init = make_state_dir, .fini = remove_state_dir)
{
	struct test_daemon d;
	pid_t qemu = spawn_sleeper();

	bound_lease_then_crash(&d, qemu);
	end_process(qemu);
	test_daemon_restart(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert(wait_released(&d, "vm1", "nic0"), "a lease of a dead process was kept");
	cr_assert(log_has(&d, "event=lease_released_process_exited vm=vm1 vnic=nic0"));
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* ---- clients across a daemon restart --------------------------------------------------- */

Test(reconnect, sync_alloc_after_a_daemon_restart_reconnects_and_finds_the_earlier_lease,
     .init = make_state_dir, .fini = remove_state_dir)
{
	struct test_daemon d;
	struct vfpool *h;
	struct vfpool_lease first = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_lease again = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_lease second = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "nic0", .network = "red", .numa_node = -1);
	struct vfpool_alloc_req req2 = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "nic1", .network = "red", .numa_node = -1);

	test_daemon_start(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert_eq(vfpool_connect(d.run_dir, NULL, &h), 0);
	cr_assert_eq(vfpool_alloc(h, &req, &first, NULL, 0), 0);
	crash(&d);
	test_daemon_restart(&d, "1x4", "--state-dir", state_dir, NULL);
	/* the same handle: the call reconnects by itself */
	cr_assert_eq(vfpool_alloc(h, &req, &again, NULL, 0), 0);
	cr_assert(again.flags & VFPOOL_LEASE_EXISTING, "the earlier lease was not found");
	cr_assert_str_eq(again.pci_addr, first.pci_addr);
	cr_assert_eq(again.generation, first.generation);
	cr_assert_eq(vfpool_alloc(h, &req2, &second, NULL, 0), 0);
	cr_assert_str_neq(second.pci_addr, first.pci_addr);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(reconnect, sync_release_after_a_daemon_restart_reconnects_and_releases,
     .init = make_state_dir, .fini = remove_state_dir)
{
	struct test_daemon d;
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "nic0", .network = "red", .numa_node = -1);

	test_daemon_start(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert_eq(vfpool_connect(d.run_dir, NULL, &h), 0);
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	crash(&d);
	test_daemon_restart(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", l.generation, NULL, 0), 0);
	cr_assert(!leased(&d, "vm1", "nic0"));
	/* never sent before: the daemon's own answer stands */
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", 0, NULL, 0), -ENOENT);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(reconnect, async_handle_reports_econnreset_and_vfpool_reconnect_restores_it,
     .init = make_state_dir, .fini = remove_state_dir)
{
	struct test_daemon d;
	struct vfpool *h;
	struct vfpool_completion c = VFPOOL_OPTS(vfpool_completion);
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "nic0", .network = "red", .numa_node = -1);

	test_daemon_start(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert_eq(vfpool_connect(d.run_dir, NULL, &h), 0);
	crash(&d);
	cr_assert_eq(vfpool_submit_alloc(h, &req, 7), 0);
	vfpool_flush(h);
	cr_assert_eq(vfpool_reap(h, &c, 1, 1, 5000), -ECONNRESET);
	test_daemon_restart(&d, "1x4", "--state-dir", state_dir, NULL);
	cr_assert_eq(vfpool_reconnect(h), 0);
	cr_assert_eq(vfpool_submit_alloc(h, &req, 8), 0);
	vfpool_flush(h);
	cr_assert_eq(vfpool_reap(h, &c, 1, 1, 5000), 1);
	cr_assert_eq(c.res, 0, "%s", c.why);
	cr_assert_eq(c.user_data, 8u);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}
