/* SPDX-License-Identifier: MIT */
/*
 * A watchdog for a test whose unfixed code would block forever (a FIFO opened for reading,
 * say): a child process that SIGKILLs the test after a bound, so the test fails (the
 * runner reports the crash) instead of hanging the suite. A process, not alarm(): the
 * test runner's threads block most signals, and a blocked SIGALRM never fires.
 */
#ifndef VFPOOL_TESTS_WATCHDOG_H
#define VFPOOL_TESTS_WATCHDOG_H

#include <sys/types.h>

struct watchdog {
	pid_t pid;
};

/* what: said on stderr when the watchdog fires ("numvfs_store_load of a FIFO"). */
void watchdog_start(struct watchdog *w, unsigned seconds, const char *what);
void watchdog_stop(struct watchdog *w);

/* waitpid for a child running the program under test, bounded: after seconds it is
 * SIGKILLed and reaped, and -ETIMEDOUT returned (a signal of its own cannot do: under
 * umockdev's preload a program runs with most signals blocked). 0 and *status otherwise. */
int watchdog_waitpid(pid_t pid, unsigned seconds, int *status);

#endif
