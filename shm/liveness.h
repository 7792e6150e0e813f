/* SPDX-License-Identifier: MIT */
/*
 * Is the daemon that wrote a state segment still running? The segment outlives its writer
 * (a crash leaves <run-dir>/state as it was), so a reader must not serve a dead daemon's
 * last state as live. The writer records who it is (pid, the pid's start time, its pid and
 * time namespaces) and advances a heartbeat from a timer; a reader checks the process at
 * once (a crash is seen immediately) and the heartbeat's age (a stopped or hung daemon
 * within VFPOOL_HEARTBEAT_STALE_MS).
 */
#ifndef VFPOOL_SHM_LIVENESS_H
#define VFPOOL_SHM_LIVENESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

/* Writer: records the calling process as the segment's writer and beats once (before the
 * segment is published). */
void state_writer_init(struct vfpool_state_hdr *h);
/* Writer: one heartbeat (two relaxed stores; no seqlock section). */
void state_heartbeat(struct vfpool_state_hdr *h);

/* The reader's own namespaces, looked up with each process check (not on every read). */
struct state_reader_ns {
	uint64_t pidns, timens; /* 0: unknown */
};

/*
 * Reader, on a consistent copy of the segment. Each returns 0 while the writer may run,
 * -EOWNERDEAD when it does not (it died: what the segment holds is its last state),
 * with why saying how that was found.
 *  - process: the writer's pid is gone, a zombie, or another program now ("process 12 is
 *    gone"). Microseconds (/proc): a polling reader does it now and then. Refreshes *ns;
 *    the pid is only looked at from the writer's own pid namespace, where it means
 *    something.
 *  - beat: the writer shut down ("process 12 shut down"), or its heartbeat is older than
 *    VFPOOL_HEARTBEAT_STALE_MS ("no heartbeat from process 12 for 9 s"): a clock read, for
 *    every read. ns as the last process check left it.
 */
int state_writer_process_check(const struct vfpool_state_hdr *copy, struct state_reader_ns *ns,
			       char *why, size_t why_len);
int state_writer_beat_check(const struct vfpool_state_hdr *copy, const struct state_reader_ns *ns,
			    char *why, size_t why_len);

/* The /proc/<pid>/stat start time (clock ticks after boot) and state letter of pid
 * (0: this process): 0, -ENOENT when there is no such process, other -errno. */
int proc_stat_start(int pid, uint64_t *ret_starttime, char *ret_state);

#endif
