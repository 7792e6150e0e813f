/* SPDX-License-Identifier: MIT */
/*
 * The state segment's heartbeat: a timer in the loop advances it every VFPOOL_HEARTBEAT_MS,
 * whether the loop is asleep in io_uring_enter (the timer's completion wakes it) or busy
 * serving (completions are reaped every turn). Readers call a segment whose heartbeat
 * stopped a dead daemon's (shm/liveness.h).
 */
#ifndef VFPOOL_CORE_HEARTBEAT_H
#define VFPOOL_CORE_HEARTBEAT_H

#include <stdbool.h>

#include "core/loop.h"
#include "shm/layout.h"

struct heartbeat;

/* stop: the loop's flag; once set the timer is not re-armed. */
int heartbeat_start(struct io_uring *ring, struct vfpool_state_hdr *hdr, const bool *stop,
		    struct heartbeat **ret_hb);
/* After the ring is gone (its timer points into the heartbeat). */
void heartbeat_free(struct heartbeat *hb);

#endif
