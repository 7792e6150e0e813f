/* SPDX-License-Identifier: MIT */
/*
 * vfpoold as a service: the readiness protocol (a fake $NOTIFY_SOCKET, a datagram socket
 * this test reads, stands in for systemd), the control socket that appears only once the
 * daemon serves, SIGHUP that reloads instead of killing, --version.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "tests/run_cmd.h"
#include "vfpool/vfpool.h"

/* The service manager's end: a datagram socket at <dir>/notify, named to the daemon
 * through $NOTIFY_SOCKET (the daemon inherits it from this test process). */
struct fake_manager {
	int fd;
	char path[108];
};

static void manager_open(struct fake_manager *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/vfpool-notify.XXXXXX";

	cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(m->path, sizeof(m->path), "%s/notify", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", m->path);
	m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(m->fd >= 0);
	cr_assert_eq(bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s: %s", m->path,
		     strerror(errno));
	cr_assert_eq(setenv("NOTIFY_SOCKET", m->path, 1), 0);
}

static void manager_close(struct fake_manager *m)
{
	char *slash;

	unsetenv("NOTIFY_SOCKET");
	close(m->fd);
	unlink(m->path);
	slash = strrchr(m->path, '/');
	*slash = '\0';
	rmdir(m->path);
}

/* The next message that holds want (earlier ones are skipped), NUL-terminated into buf;
 * fails the test when none comes in 10 s. */
static void manager_expect(struct fake_manager *m, const char *want, char *buf, size_t len)
{
	for (;;) {
		struct pollfd p = { .fd = m->fd, .events = POLLIN };
		ssize_t n;

		cr_assert_eq(poll(&p, 1, 10000), 1, "no message with \"%s\" from vfpoold in 10 s",
			     want);
		n = recv(m->fd, buf, len - 1, 0);
		cr_assert(n >= 0, "recv: %s", strerror(errno));
		buf[n] = '\0';
		if (strstr(buf, want))
			return;
	}
}

static void kill_keep_run_dir(struct test_daemon *d, int sig)
{
	int status;

	kill(d->pid, sig);
	cr_assert_eq(waitpid(d->pid, &status, 0), d->pid);
	d->pid = 0;
}

static void alloc_ok(const struct test_daemon *d, const char *vm, const char *vnic)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = vm, .vnic_id = vnic,
						  .network = "red");
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h = connect_ok(d);
	char why[160] = "";
	int r = vfpool_alloc(h, &req, &l, why, sizeof(why));

	cr_assert_eq(r, 0, "alloc %s/%s: %s %s", vm, vnic, vfpool_strerror(r), why);
	vfpool_close(h);
}

/* READY=1 comes once the journal is replayed: its STATUS= already counts the lease the
 * last run left (and what the daemon serves), and the socket is there to connect to. */
Test(service, ready_after_journal_replay_and_status_says_what_it_serves)
{
	struct fake_manager m;
	struct test_daemon d;
	char msg[512], sock[128];

	test_daemon_start(&d, "2x4", NULL);
	alloc_ok(&d, "vm1", "nic0");
	kill_keep_run_dir(&d, SIGKILL);
	manager_open(&m);
	test_daemon_restart(&d, "2x4", NULL);
	manager_expect(&m, "READY=1", msg, sizeof(msg));
	cr_assert(strstr(msg, "STATUS=serving 2 PFs, 8 VFs (1 leased), 0 clients"),
		  "READY=1 without the replayed lease in its status: %s", msg);
	snprintf(sock, sizeof(sock), "%s/vfpool.sock", d.run_dir);
	cr_assert_eq(access(sock, F_OK), 0, "READY=1 before the socket has its name");
	/* STATUS= follows the clients */
	struct vfpool *h = connect_ok(&d);
	manager_expect(&m, "STATUS=serving 2 PFs, 8 VFs (1 leased), 1 client", msg, sizeof(msg));
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
	manager_close(&m);
}

Test(service, stopping_is_said_on_sigterm)
{
	struct fake_manager m;
	struct test_daemon d;
	char msg[512];

	manager_open(&m);
	test_daemon_start(&d, "1x2", NULL);
	manager_expect(&m, "READY=1", msg, sizeof(msg));
	cr_assert_eq(test_daemon_stop(&d), 0);
	manager_expect(&m, "STOPPING=1", msg, sizeof(msg));
	cr_assert(strstr(msg, "STATUS=stopping: SIGTERM"), "%s", msg);
	manager_close(&m);
}

/* Without systemd, scripts wait for the socket file: whoever connects the moment it
 * appears must be served. The file is watched with inotify (its creation and its rename
 * into place); each start connects and pings at once. Several starts: a socket named
 * before it listens (bind, chmod, chown, then listen) refuses a connect in between. */
Test(service, client_connecting_as_soon_as_the_socket_exists_is_served)
{
	const int starts = 12;

	for (int i = 0; i < starts; i++) {
		char dir[] = "/tmp/vfpool-early.XXXXXX", state[64], buf[4096], *out = NULL;
		const char *argv[] = { "ping", NULL };
		struct vfpool *h = NULL;
		pid_t pid;
		int in, r, status;
		bool seen = false;

		cr_assert(mkdtemp(dir));
		snprintf(state, sizeof(state), "%s.state", dir);
		in = inotify_init1(IN_CLOEXEC);
		cr_assert(in >= 0);
		cr_assert(inotify_add_watch(in, dir, IN_CREATE | IN_MOVED_TO) >= 0);
		pid = fork();
		cr_assert(pid >= 0);
		if (pid == 0) {
			char log[96];
			int fd;

			snprintf(log, sizeof(log), "%s.log", dir);
			fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			dup2(fd, 2);
			execl(test_build_path("vfpoold"), "vfpoold", "--simulate", "2x8", "--run-dir",
			      dir, "--state-dir", state, (char *)NULL);
			_exit(127);
		}
		for (int waited = 0; !seen; waited++) {
			struct pollfd p = { .fd = in, .events = POLLIN };
			ssize_t n;

			cr_assert(waited < 1000, "start %d: no socket in 10 s (see %s.log)", i, dir);
			if (poll(&p, 1, 10) == 0) {
				cr_assert_eq(waitpid(pid, &status, WNOHANG), 0,
					     "start %d: vfpoold exited (see %s.log)", i, dir);
				continue;
			}
			n = read(in, buf, sizeof(buf));
			cr_assert(n > 0, "inotify: %s", strerror(errno));
			for (char *e = buf; e < buf + n;) {
				struct inotify_event *ev = (struct inotify_event *)e;

				seen |= ev->len && strcmp(ev->name, "vfpool.sock") == 0;
				e += sizeof(*ev) + ev->len;
			}
		}
		r = vfpool_connect(dir, NULL, &h);
		cr_assert_eq(r, 0, "start %d: connecting as the socket appeared: %s", i,
			     vfpool_strerror(r));
		r = vfpool_command(h, 1, argv, &out);
		cr_assert_eq(r, 0, "start %d: ping: %s", i, out ? out : vfpool_strerror(r));
		free(out);
		vfpool_close(h);
		close(in);
		kill(pid, SIGTERM);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		cr_assert_eq(run_capture(&out, "rm -rf %s %s.state %s.log", dir, dir, dir), 0);
		free(out);
	}
}

static unsigned networks_in_snapshot(const struct test_daemon *d)
{
	struct vfpool_snapshot *s = NULL;
	unsigned n;

	cr_assert_eq(vfpool_snapshot_take(d->run_dir, &s), 0);
	n = vfpool_snapshot_network_count(s);
	vfpool_snapshot_free(s);
	return n;
}

/* SIGHUP (systemctl reload) reads the policy from the state dir again: an operator's edit
 * or a restored backup takes effect without a restart, and the daemon keeps serving. A
 * file it cannot read changes nothing. Each signal is logged once. */
Test(service, sighup_reloads_the_policy_from_the_state_dir)
{
	struct test_daemon d;
	char path[128], *log;
	FILE *f;

	test_daemon_start(&d, "2x4", NULL);
	cr_assert_eq(networks_in_snapshot(&d), 0u);
	snprintf(path, sizeof(path), "%s/policy", d.run_dir); /* the state dir is the run dir */
	f = fopen(path, "w");
	cr_assert(f);
	fputs("vfpool-policy 1\nnetwork red 10 0 -\nnetwork blue 0 9000 -\n", f);
	cr_assert_eq(fclose(f), 0);
	kill(d.pid, SIGHUP);
	for (int i = 0; i < 500 && networks_in_snapshot(&d) != 2; i++)
		usleep(10000);
	cr_assert(test_daemon_alive(&d), "SIGHUP killed the daemon");
	cr_assert_eq(networks_in_snapshot(&d), 2u, "SIGHUP did not load the edited policy");
	alloc_ok(&d, "vm1", "nic0");

	/* a damaged file: refused, the policy in use stays */
	f = fopen(path, "w");
	cr_assert(f);
	fputs("vfpool-policy 1\nnetwork red ten 0 -\n", f);
	cr_assert_eq(fclose(f), 0);
	kill(d.pid, SIGHUP);
	for (int i = 0; i < 500; i++) {
		log = read_whole_file(d.log_path);
		bool done = strstr(log, "event=policy_reload_failed") != NULL;

		free(log);
		if (done)
			break;
		usleep(10000);
	}
	cr_assert(test_daemon_alive(&d));
	cr_assert_eq(networks_in_snapshot(&d), 2u, "a damaged policy file replaced the policy");
	alloc_ok(&d, "vm1", "nic1");
	log = read_whole_file(d.log_path);
	cr_assert_eq(count_substr(log, "signal=SIGHUP"), 2u, "each SIGHUP logged once:\n%s", log);
	cr_assert_eq(count_substr(log, "event=policy_reloaded"), 1u, "%s", log);
	free(log);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Signals the daemon does not act on are logged and ignored, never fatal. */
Test(service, other_signals_are_logged_and_ignored)
{
	struct test_daemon d;
	char *log = NULL;

	test_daemon_start(&d, "1x2", NULL);
	kill(d.pid, SIGUSR1);
	kill(d.pid, SIGUSR2);
	for (int i = 0; i < 500; i++) {
		free(log);
		log = read_whole_file(d.log_path);
		if (strstr(log, "signal=SIGUSR1") && strstr(log, "signal=SIGUSR2"))
			break;
		usleep(10000);
	}
	cr_assert(test_daemon_alive(&d), "a signal killed the daemon");
	cr_assert_eq(count_substr(log, "signal=SIGUSR1 "), 1u, "%s", log);
	cr_assert_eq(count_substr(log, "signal=SIGUSR2 "), 1u, "%s", log);
	free(log);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Both binaries say the same release. */
Test(service, version_is_the_release)
{
	char *out, *ctl;

	cr_assert_eq(run_capture(&out, "%s --version", test_build_path("vfpoold")), 0);
	cr_assert_eq(run_capture(&ctl, "%s --version", test_build_path("vfpoolctl")), 0);
	cr_assert(strncmp(out, "vfpoold ", 8) == 0 && strncmp(ctl, "vfpoolctl ", 10) == 0,
		  "vfpoold: %s vfpoolctl: %s", out, ctl);
	cr_assert_str_eq(out + 8, ctl + 10, "vfpoold %s vs vfpoolctl %s", out, ctl);
	cr_assert_str_neq(out + 8, "unknown\n");
	free(out);
	free(ctl);
}

/* A simulated host's state is its own: without --state-dir, vfpoold --simulate keeps its
 * policy and leases in its run dir, never in /var/lib/vfpool, where the real host's are
 * (it wrote there: `vfpoolctl network add` on a demo daemon changed the real policy). */
Test(service, simulated_host_keeps_its_state_in_the_run_dir)
{
	char dir[] = "/tmp/vfpool-simstate.XXXXXX", log[96], path[128], *out = NULL;
	pid_t pid;
	int status, i;

	cr_assert(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s.log", dir);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 2);
		execl(test_build_path("vfpoold"), "vfpoold", "--simulate", "1x2", "--run-dir", dir,
		      (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/vfpool.sock", dir);
	for (i = 0; i < 1000 && access(path, F_OK) != 0; i++)
		usleep(10000);
	cr_assert_lt(i, 1000, "no socket (see %s)", log);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s network add sim-only-net 2>&1",
				 test_build_path("vfpoolctl"), dir), 0, "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/policy", dir);
	cr_assert_eq(access(path, F_OK), 0, "the policy is not in the run dir (see %s)", log);
	out = read_whole_file(log);
	cr_assert(strstr(out, "state_dir=/var/lib/vfpool") == NULL, "%s", out);
	free(out);
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(run_capture(&out, "rm -rf %s %s", dir, log), 0);
	free(out);
}
