/* SPDX-License-Identifier: MIT */
/* A vfpoold of our own for the daemon scenarios: started from build/vfpoold (next to this
 * binary) on a simulated host in a temporary run dir, stopped with SIGTERM. */
#ifndef VFPOOL_BENCH_DAEMON_H
#define VFPOOL_BENCH_DAEMON_H

#include <sys/types.h>

struct bench_daemon {
	pid_t pid;
	char dir[64];      /* temporary: holds run/, state/ and the daemon's log */
	char run_dir[96];  /* pass to vfpool_connect / vfpool_snapshot_take */
	char state_dir[96];
	char log[96];
};

/* Starts vfpoold --simulate spec --spin-us spin_us, pinned to CPU index cpu (< 0: not
 * pinned), and waits for its socket. 0, or a negative errno after saying why. */
int bench_daemon_start(struct bench_daemon *d, const char *spec, unsigned spin_us, int cpu);
/* The same with further vfpoold arguments (a NULL-terminated list, at most 8). */
int bench_daemon_start_ex(struct bench_daemon *d, const char *spec, unsigned spin_us, int cpu,
			  const char *const *extra);
/* SIGTERM, wait (SIGKILL after a while), remove the temporary directory. */
void bench_daemon_stop(struct bench_daemon *d);

#endif
