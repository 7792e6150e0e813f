/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "tests/daemon_socket.h"
#include "vfpool/vfpool.h"

const char *test_build_path(const char *name)
{
	static char path[512];
	const char *b = getenv("VFPOOL_BUILD");

	cr_assert(b, "VFPOOL_BUILD is not set: run the tests through tests/run.sh or make check");
	snprintf(path, sizeof(path), "%s/%s", b, name);
	return path;
}

/* simulate NULL: the host is discovered (a umockdev testbed under the test's wrapper). */
static void start_argv(struct test_daemon *d, const char *simulate, const char *state_dir,
		       bool reuse_run_dir, va_list ap)
{
	const char *argv[32];
	int argc = 0;
	const char *a;

	if (!reuse_run_dir) {
		memset(d, 0, sizeof(*d));
		snprintf(d->run_dir, sizeof(d->run_dir), "/tmp/vfpool-test.XXXXXX");
		cr_assert(mkdtemp(d->run_dir), "mkdtemp: %s", strerror(errno));
	} else {
		char sock[128];

		/* the dead daemon's socket may still take connects until the kernel has torn
		 * its io_uring down: readiness must be the new daemon's socket */
		snprintf(sock, sizeof(sock), "%s/vfpool.sock", d->run_dir);
		unlink(sock);
	}
	snprintf(d->log_path, sizeof(d->log_path), "%s/daemon.log", d->run_dir);
	argv[argc++] = test_build_path("vfpoold");
	if (simulate) {
		argv[argc++] = "--simulate";
		argv[argc++] = simulate;
	}
	argv[argc++] = "--run-dir";
	argv[argc++] = d->run_dir;
	argv[argc++] = "--state-dir";
	argv[argc++] = state_dir ? state_dir : d->run_dir;
	while ((a = va_arg(ap, const char *)) && argc < 30)
		argv[argc++] = a;
	argv[argc] = NULL;

	d->pid = fork();
	cr_assert(d->pid >= 0, "fork: %s", strerror(errno));
	if (d->pid == 0) {
		int fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		/* dies with the test process, and never holds the runner's output pipe */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (socket_accepts(d->run_dir))
			return;
		cr_assert(test_daemon_alive(d), "vfpoold exited early; see %s", d->log_path);
		usleep(10000);
	}
	cr_assert_fail("vfpoold did not open its socket in 5 s; see %s", d->log_path);
}

void test_daemon_start(struct test_daemon *d, const char *simulate, ...)
{
	va_list ap;

	va_start(ap, simulate);
	start_argv(d, simulate, NULL, false, ap);
	va_end(ap);
}

void test_daemon_restart(struct test_daemon *d, const char *simulate, ...)
{
	va_list ap;

	cr_assert(d->run_dir[0] && !test_daemon_alive(d), "restart needs a daemon that has ended");
	va_start(ap, simulate);
	start_argv(d, simulate, NULL, true, ap);
	va_end(ap);
}

void test_daemon_start_discovered(struct test_daemon *d, const char *state_dir, ...)
{
	va_list ap;

	va_start(ap, state_dir);
	start_argv(d, NULL, state_dir, false, ap);
	va_end(ap);
}

bool test_daemon_alive(const struct test_daemon *d)
{
	int status;

	return d->pid > 0 && waitpid(d->pid, &status, WNOHANG) == 0;
}

int test_daemon_stop(struct test_daemon *d)
{
	int status = -1;
	char cmd[400];

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			/* an unclean exit fails the test: show why it ended before the log goes */
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				snprintf(cmd, sizeof(cmd), "sed 's/^/  daemon: /' '%s' >&2", d->log_path);
				if (system(cmd) != 0)
					fprintf(stderr, "no daemon log at %s\n", d->log_path);
			}
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->run_dir);
			if (system(cmd) != 0)
				fprintf(stderr, "could not remove %s\n", d->run_dir);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(10000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	return -1;
}

struct vfpool *connect_ok(const struct test_daemon *d)
{
	struct vfpool *h = NULL;
	int r = vfpool_connect(d->run_dir, NULL, &h);

	cr_assert_eq(r, 0, "connect: %s", vfpool_strerror(r));
	return h;
}
