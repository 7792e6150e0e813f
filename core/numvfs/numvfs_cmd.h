/* SPDX-License-Identifier: MIT */
/*
 * `pf set PF --numvfs N` over the control socket: validates against the model and the
 * leases, then drives a numvfs_op (core/numvfs/numvfs.h) from the daemon's loop: each write
 * is an IORING_OP_WRITE on sriov_numvfs, each wait is fed by the host watch's udev changes
 * (it listens to the watch) and bounded by a loop timer. One change per PF at a time; the
 * reply is sent when it is done.
 */
#ifndef VFPOOL_CORE_NUMVFS_CMD_H
#define VFPOOL_CORE_NUMVFS_CMD_H

#include <liburing.h>

#include "core/ctl_command.h"
#include "core/host/host_watch.h"
#include "core/model/engine.h"
#include "core/model/host.h"

struct numvfs_cmd_opts {
	struct io_uring *ring;
	struct engine *engine;       /* whose leases a change must not take away */
	struct host *const *model;   /* the daemon's model of the host (replaced as it changes) */
	struct host_watch *watch;    /* NULL: a simulated host, where changes are refused */
	const char *state_dir;       /* a change is persisted there (core/numvfs/numvfs_store.c) */
	unsigned timeout_ms;         /* each step of a change; 0: the default */
};

struct numvfs_cmd;

/* The table's context is the struct numvfs_cmd. */
extern const struct ctl_command numvfs_commands[];

/* Listens to the watch (its changes feed the changes in progress, and a PF with one
 * stays busy for the allocator). */
int numvfs_cmd_new(const struct numvfs_cmd_opts *opts, struct numvfs_cmd **ret_cmd);
/* After the loop's ring is gone: frees every change, answering nobody. */
void numvfs_cmd_free(struct numvfs_cmd *n);

#endif
