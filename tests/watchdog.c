/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/watchdog.h"

void watchdog_start(struct watchdog *w, unsigned seconds, const char *what)
{
	pid_t test = getpid();

	w->pid = fork();
	cr_assert(w->pid >= 0, "fork: %s", strerror(errno));
	if (w->pid == 0) {
		/* gone with the test if it ends first (and watchdog_stop is never reached) */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != test)
			_exit(0);
		sleep(seconds);
		fprintf(stderr, "watchdog: %s did not return within %u s: killing the test\n", what,
			seconds);
		kill(test, SIGKILL);
		_exit(0);
	}
}

void watchdog_stop(struct watchdog *w)
{
	if (w->pid <= 0)
		return;
	kill(w->pid, SIGKILL);
	waitpid(w->pid, NULL, 0);
	w->pid = 0;
}

int watchdog_waitpid(pid_t pid, unsigned seconds, int *status)
{
	/* polled: the bound is the point, not how fast the end is noticed */
	for (unsigned i = 0; i < seconds * 100u; i++) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		cr_assert_eq(r, 0, "waitpid: %s", strerror(errno));
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return -ETIMEDOUT;
}
