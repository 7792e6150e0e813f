/* SPDX-License-Identifier: MIT */
/* Operator commands on leases: lease list, lease release, lease gc. */
#ifndef VFPOOL_CORE_LEASE_CMD_H
#define VFPOOL_CORE_LEASE_CMD_H

#include "core/ctl_command.h"

extern const struct ctl_command lease_commands[];

#endif
