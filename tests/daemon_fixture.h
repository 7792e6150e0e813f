/* SPDX-License-Identifier: MIT */
/* Runs the real vfpoold binary (from $VFPOOL_BUILD) in a private run directory. */
#ifndef VFPOOL_TESTS_DAEMON_FIXTURE_H
#define VFPOOL_TESTS_DAEMON_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

struct vfpool;

struct test_daemon {
	pid_t pid;
	char run_dir[64];
	char log_path[96];
};

/* Starts vfpoold --simulate spec with extra arguments (NULL-terminated list), waits until
 * its socket accepts. Aborts the test on failure. */
void test_daemon_start(struct test_daemon *d, const char *simulate, ...);
/* Same without --simulate: the daemon discovers the host through libudev, which under
 * umockdev-wrapper is the testbed the test built (the daemon inherits the preload and
 * UMOCKDEV_DIR). state_dir: persistent state (NULL: the run directory). */
void test_daemon_start_discovered(struct test_daemon *d, const char *state_dir, ...);
/* Starts again in the same run directory after the daemon ended (a crash or a stop that
 * kept it): what a restarted service finds in /run/vfpool, the lease journal included. */
void test_daemon_restart(struct test_daemon *d, const char *simulate, ...);
/* SIGTERM, wait; returns the exit status (0 on a clean shutdown). */
int test_daemon_stop(struct test_daemon *d);
bool test_daemon_alive(const struct test_daemon *d);
/* A libvfpool handle on the daemon; aborts the test when the connect fails. */
struct vfpool *connect_ok(const struct test_daemon *d);
/* Path of a built binary: $VFPOOL_BUILD/name. */
const char *test_build_path(const char *name);

#endif
