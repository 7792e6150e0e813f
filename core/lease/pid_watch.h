/* SPDX-License-Identifier: MIT */
/*
 * Process-bound leases (VFPOOL_REQ_F_BIND_PID): one pidfd per bound lease, polled on the
 * loop's ring; when the process exits, the lease is released through the engine (so the
 * release is journaled and the VF reset hook runs), exactly as if its launcher had
 * released it. The journal keeps each lease's bound pid (core/lease/lease_durable.h), so a
 * restarted daemon watches the restored leases again; one whose process is already gone
 * is released on the first loop turn.
 *
 * A pid only names a process while it lives: after a daemon restart a recycled pid would
 * keep a lease bound to an unrelated process. The periodic sweep (core/lease/lease_sweep.h)
 * reports what it can see; nothing here can tell a recycled pid from the original.
 */
#ifndef VFPOOL_CORE_PID_WATCH_H
#define VFPOOL_CORE_PID_WATCH_H

#include <liburing.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/model/engine.h"
#include "core/lease/lease_durable.h"
#include "core/model/pid_check.h"

struct pid_watch;

/* Hooks into ld (every bound lease made or released is seen) and watches the bound leases
 * the journal restored. */
int pid_watch_start(struct engine *e, struct lease_durable *ld, struct io_uring *ring,
		    struct pid_watch **ret_watch);
/* After the ring is gone (its requests point into the watch). */
void pid_watch_free(struct pid_watch *w);

/* Leases released because their process exited, since start. */
uint64_t pid_watch_released(const struct pid_watch *w);

/* Releases the lease on slot through the engine if it still is generation gen; why is
 * logged. 0, or -ENOENT when the lease moved on. Shared with the sweep. */
int pid_watch_release_lease(struct engine *e, struct completion_sink *sink, uint32_t slot,
			    uint64_t gen, const char *event, const char *why);

#endif
