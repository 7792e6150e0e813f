/* SPDX-License-Identifier: MIT */
/* Operator commands on leases: lease list, lease release, lease gc. */
#ifndef VFPOOL_CORE_LEASE_CMD_H
#define VFPOOL_CORE_LEASE_CMD_H

#include "core/ctl_command.h"
#include "core/lease/lease_durable.h"
#include "core/model/engine.h"

/* What the lease commands work on, for the daemon's life. */
struct lease_cmd_ctx {
	struct engine *engine;               /* releases go through it, like a client's */
	const struct lease_durable *durable; /* each lease's bound process */
};

/* The table's context is a struct lease_cmd_ctx. */
extern const struct ctl_command lease_commands[];

#endif
