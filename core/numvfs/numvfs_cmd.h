/* SPDX-License-Identifier: MIT */
/*
 * `pf set PF --numvfs N` over the control socket: validates against the model and the
 * leases, then drives a numvfs_op (core/numvfs/numvfs.h) from the daemon's loop: each write is an
 * IORING_OP_WRITE on sriov_numvfs, each wait is fed by the host watch's udev changes and
 * bounded by a loop timer. One change per PF at a time; the reply is sent when it is done.
 */
#ifndef VFPOOL_CORE_NUMVFS_CMD_H
#define VFPOOL_CORE_NUMVFS_CMD_H

#include <stdbool.h>

#include "core/ctl_command.h"
#include "core/host/host_monitor.h"

struct daemon;

extern const struct ctl_command numvfs_commands[];

/* Feeds a decoded udev change to the changes in progress. */
void numvfs_cmd_observe(struct daemon *d, const struct host_change *change);
/* One flag per model PF: a change is in progress on it. malloc'd; NULL when out of memory. */
bool *numvfs_cmd_busy_flags(const struct daemon *d);
/* After the loop's ring is gone: frees every change, answering nobody. */
void numvfs_cmd_free_all(struct daemon *d);

#endif
