/* SPDX-License-Identifier: MIT */
/* A dead daemon's state is never served as live: the state segment outlives its writer,
 * so readers check the writer's process and heartbeat (shm/liveness.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm/layout.h"
#include "shm/liveness.h"
#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"
#include "vfpool/vfpool.h"

static const char *ctl(void)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s", test_build_path("vfpoolctl"));
	return path;
}

static void alloc_one(const struct test_daemon *d)
{
	struct vfpool *h;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = "vm1", .vnic_id = "nic0",
						  .network = "red");

	cr_assert_eq(vfpool_connect(d->run_dir, NULL, &h), 0);
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	vfpool_close(h);
}

/* SIGKILL, reaped: what a crash leaves in the run dir. */
static void crash(struct test_daemon *d)
{
	int status;

	cr_assert_eq(kill(d->pid, SIGKILL), 0);
	cr_assert_eq(waitpid(d->pid, &status, 0), d->pid);
	d->pid = 0;
}

static void remove_tree(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	cr_assert_eq(system(cmd), 0);
}

#define NOT_RUNNING "vfpoold is not running (last state from "

/* Each view of a crashed daemon: exit 1, the message, none of its state on stdout. */
Test(liveness, views_of_a_killed_daemon_say_it_is_not_running_and_exit_1)
{
	static const char *const views[] = { "snapshot", "lease list", "capacity", "pf list",
					     "snapshot --json" };
	char tf[] = "/tmp/vfpool-textfile.XXXXXX", prom[96], *out, *text;
	struct test_daemon d;

	test_daemon_start(&d, "1x4", NULL);
	alloc_one(&d);
	cr_assert(mkdtemp(tf));
	snprintf(prom, sizeof(prom), "%s/vfpool.prom", tf);
	/* a live run's textfile: what the collector would keep serving */
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics --textfile %s", ctl(), d.run_dir,
				 tf), 0);
	free(out);
	text = read_whole_file(prom);
	cr_assert(strstr(text, "vfpool_vfs{"), "%s", text);
	free(text);
	crash(&d);

	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		cr_assert_eq(run_capture(&out, "%s --run-dir %s %s 2>&1", ctl(), d.run_dir, views[i]),
			     1, "vfpoolctl %s of a dead daemon must fail", views[i]);
		cr_assert(strstr(out, NOT_RUNNING), "vfpoolctl %s said:\n%s", views[i], out);
		cr_assert(!strstr(out, "vm1"), "vfpoolctl %s showed a dead daemon's lease:\n%s",
			  views[i], out);
		free(out);
	}
	/* metrics: vfpool_up 0 and no gauge of the last state, on stdout and in the textfile */
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics 2>/dev/null", ctl(), d.run_dir), 1);
	cr_assert(strstr(out, "vfpool_up 0\n"), "%s", out);
	cr_assert(!strstr(out, "vfpool_vfs"), "stale gauges exported:\n%s", out);
	free(out);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics --textfile %s 2>&1", ctl(),
				 d.run_dir, tf), 1);
	cr_assert(strstr(out, NOT_RUNNING), "%s", out);
	free(out);
	text = read_whole_file(prom);
	cr_assert(strstr(text, "vfpool_up 0\n"), "%s", text);
	cr_assert(!strstr(text, "vfpool_vfs"), "the textfile kept stale gauges:\n%s", text);
	free(text);
	remove_tree(tf);
	remove_tree(d.run_dir);
}

/* The library: take refuses (-EOWNERDEAD), take_last and a refresh still give the last
 * state, and liveness says why. */
Test(liveness, snapshot_of_a_killed_daemon_is_eownerdead_with_its_last_state_readable)
{
	struct vfpool_snapshot *before, *s;
	struct vfpool_liveness l = VFPOOL_OPTS(vfpool_liveness);
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	struct test_daemon d;
	char why[64];
	int pid;

	test_daemon_start(&d, "1x4", NULL);
	alloc_one(&d);
	cr_assert_eq(vfpool_snapshot_take(d.run_dir, &before), 0);
	cr_assert_eq(vfpool_snapshot_liveness(before, &l), 0);
	cr_assert_eq(l.running, 1);
	cr_assert_eq(l.pid, d.pid);
	pid = d.pid;
	crash(&d);

	s = (struct vfpool_snapshot *)0x1;
	cr_assert_eq(vfpool_snapshot_take(d.run_dir, &s), -EOWNERDEAD);
	cr_assert_eq(s, (struct vfpool_snapshot *)0x1, "no output on failure");

	/* a reader that polls: its next refresh says so (the process is looked at again once
	 * 100 ms have passed), and the copy is the last state */
	usleep(120 * 1000);
	cr_assert_eq(vfpool_snapshot_refresh(before), -EOWNERDEAD);
	cr_assert_eq(vfpool_snapshot_vf(before, 0, &v), 0);
	cr_assert_str_eq(v.vm_id, "vm1");
	vfpool_snapshot_free(before);

	cr_assert_eq(vfpool_snapshot_take_last(d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_liveness(s, &l), 0);
	cr_assert_eq(l.running, 0);
	snprintf(why, sizeof(why), "process %d is gone", pid);
	cr_assert_str_eq(l.why, why);
	cr_assert_gt(l.heartbeat_ns, 0u);
	cr_assert_eq(vfpool_snapshot_vf(s, 0, &v), 0);
	cr_assert_str_eq(v.vm_id, "vm1", "the last state is readable");
	vfpool_snapshot_free(s);
	cr_assert_str_eq(vfpool_strerror(-EOWNERDEAD),
			 "vfpoold is not running (the snapshot holds its last state)");
	remove_tree(d.run_dir);
}

/* A clean shutdown marks the segment: nobody updates it any more. */
Test(liveness, snapshot_after_a_clean_shutdown_is_not_running)
{
	struct vfpool_snapshot *s;
	struct vfpool_liveness l = VFPOOL_OPTS(vfpool_liveness);
	struct test_daemon d;
	char *out;
	int status;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(kill(d.pid, SIGTERM), 0);
	cr_assert_eq(waitpid(d.pid, &status, 0), d.pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(vfpool_snapshot_take(d.run_dir, &s), -EOWNERDEAD);
	cr_assert_eq(vfpool_snapshot_take_last(d.run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_liveness(s, &l), 0);
	cr_assert_eq(l.running, 0);
	cr_assert(strstr(l.why, "shut down"), "%s", l.why);
	vfpool_snapshot_free(s);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s snapshot 2>&1", ctl(), d.run_dir), 1);
	cr_assert(strstr(out, NOT_RUNNING), "%s", out);
	free(out);
	remove_tree(d.run_dir);
}

/* A watch that outlives its daemon: it showed the live state, then stops with the message
 * and exit 1 instead of showing the last state as current. */
Test(liveness, watch_of_a_daemon_that_dies_says_it_is_not_running_and_exits_1, .timeout = 60)
{
	char err_path[] = "/tmp/vfpool-watch-err.XXXXXX", buf[4096], *err;
	int out[2], err_fd, status;
	struct test_daemon d;
	ssize_t n;
	pid_t w;

	test_daemon_start(&d, "1x4", NULL);
	err_fd = mkstemp(err_path);
	cr_assert_geq(err_fd, 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	w = fork();
	cr_assert_geq(w, 0);
	if (w == 0) {
		if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0)
			_exit(126);
		execl(ctl(), "vfpoolctl", "--run-dir", d.run_dir, "watch", "--interval", "100",
		      (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(err_fd);
	/* its first frame: the daemon was live when the watch began */
	n = read(out[0], buf, sizeof(buf));
	cr_assert_gt(n, 0, "the watch printed no frame of the live daemon");
	crash(&d);
	while (read(out[0], buf, sizeof(buf)) > 0)
		;
	close(out[0]);
	cr_assert_eq(waitpid(w, &status, 0), w);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "watch exit status %#x", status);
	err = read_whole_file(err_path);
	cr_assert(strstr(err, "vfpoolctl watch: " NOT_RUNNING), "%s", err);
	free(err);
	unlink(err_path);
	remove_tree(d.run_dir);
}

/* ---- no false positive ------------------------------------------------------------- */

static uint64_t heartbeat_of(const char *run_dir)
{
	char path[128];
	struct stat st;
	void *mem;
	uint64_t v;
	int fd;

	snprintf(path, sizeof(path), "%s/state", run_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(mem, MAP_FAILED);
	close(fd);
	v = atomic_load_explicit(&((const struct vfpool_state_hdr *)mem)->heartbeat_mono_ns,
				 memory_order_relaxed);
	munmap(mem, (size_t)st.st_size);
	return v;
}

/* A daemon that sleeps (no spinning, no client) still beats: after just over one
 * heartbeat period the heartbeat has moved on and every reader calls it live. */
Test(liveness, idle_daemon_beats_while_asleep_and_stays_live)
{
	struct test_daemon d;
	struct vfpool_snapshot *s;
	uint64_t first, now = 0;
	char *out;

	test_daemon_start(&d, "1x4", "--spin-us", "0", NULL);
	first = heartbeat_of(d.run_dir);
	cr_assert_gt(first, 0u, "published with a heartbeat");
	usleep((VFPOOL_HEARTBEAT_MS + 200) * 1000);
	/* the timer fired by now; a loaded machine may run it a little later */
	for (int i = 0; i < 100 && (now = heartbeat_of(d.run_dir)) == first; i++)
		usleep(50 * 1000);
	cr_assert_gt(now, first, "the heartbeat did not advance while the daemon slept");
	cr_assert_eq(vfpool_snapshot_take(d.run_dir, &s), 0);
	vfpool_snapshot_free(s);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s snapshot 2>&1", ctl(), d.run_dir), 0,
		     "%s", out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* ---- the checks one by one, on a copy of a live segment ---------------------------- */

/* A copy of the live daemon's segment in dir/state. */
static void copy_state(const struct test_daemon *d, const char *dir)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/state %s/state", dir, d->run_dir, dir);
	cr_assert_eq(system(cmd), 0);
}

/* Writes len bytes of val at offset of dir/state. */
static void patch(const char *dir, size_t offset, const void *val, size_t len)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/state", dir);
	f = fopen(path, "r+");
	cr_assert(f);
	fseek(f, (long)offset, SEEK_SET);
	cr_assert_eq(fwrite(val, len, 1, f), 1u);
	fclose(f);
}

static void assert_not_running(const char *dir, const char *why_part)
{
	struct vfpool_snapshot *s;
	struct vfpool_liveness l = VFPOOL_OPTS(vfpool_liveness);

	cr_assert_eq(vfpool_snapshot_take(dir, &s), -EOWNERDEAD);
	cr_assert_eq(vfpool_snapshot_take_last(dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_liveness(s, &l), 0);
	cr_assert_eq(l.running, 0);
	cr_assert(strstr(l.why, why_part), "why: %s", l.why);
	vfpool_snapshot_free(s);
}

/* The process exists (SIGSTOP, a deadlock) but the heartbeat stopped long ago. */
Test(liveness, stale_heartbeat_of_a_live_process_is_not_running)
{
	struct test_daemon d;
	struct timespec ts;
	uint64_t old;
	char dir[128];

	test_daemon_start(&d, "1x4", NULL);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	old = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec -
	      (uint64_t)(VFPOOL_HEARTBEAT_STALE_MS + 5000) * 1000000u;
	snprintf(dir, sizeof(dir), "%s/stale", d.run_dir);
	copy_state(&d, dir);
	patch(dir, offsetof(struct vfpool_state_hdr, heartbeat_mono_ns), &old, sizeof(old));
	assert_not_running(dir, "no heartbeat from process");
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* The daemon's pid now belongs to another process (pid reuse): its start time differs. */
Test(liveness, reused_pid_is_not_the_daemon)
{
	struct test_daemon d;
	uint64_t start;
	char dir[128], st;
	int32_t pid = getpid(); /* alive, and not the daemon */

	test_daemon_start(&d, "1x4", NULL);
	snprintf(dir, sizeof(dir), "%s/reused", d.run_dir);
	copy_state(&d, dir);
	patch(dir, offsetof(struct vfpool_state_hdr, daemon_pid), &pid, sizeof(pid));
	/* control: with this process's own start time the copy's writer is this process */
	cr_assert_eq(proc_stat_start(0, &start, &st), 0);
	patch(dir, offsetof(struct vfpool_state_hdr, daemon_starttime), &start, sizeof(start));
	{
		struct vfpool_snapshot *s;

		cr_assert_eq(vfpool_snapshot_take(dir, &s), 0, "a live writer must be live");
		vfpool_snapshot_free(s);
	}
	start += 1;
	patch(dir, offsetof(struct vfpool_state_hdr, daemon_starttime), &start, sizeof(start));
	assert_not_running(dir, "the pid is another process's now");
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* A daemon killed but not reaped yet is a zombie: dead, though its pid answers kill(0). */
Test(liveness, zombie_daemon_is_not_running)
{
	struct test_daemon d;
	uint64_t start;
	char dir[128], st;
	int32_t pid;

	test_daemon_start(&d, "1x4", NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	/* a zombie until reaped: wait for it to become one */
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(proc_stat_start(pid, &start, &st), 0);
		if (st == 'Z')
			break;
		usleep(1000);
	}
	cr_assert_eq(st, 'Z');
	snprintf(dir, sizeof(dir), "%s/zombie", d.run_dir);
	copy_state(&d, dir);
	patch(dir, offsetof(struct vfpool_state_hdr, daemon_pid), &pid, sizeof(pid));
	patch(dir, offsetof(struct vfpool_state_hdr, daemon_starttime), &start, sizeof(start));
	assert_not_running(dir, "has exited");
	waitpid(pid, NULL, 0);
	cr_assert_eq(test_daemon_stop(&d), 0);
}
