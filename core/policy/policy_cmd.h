/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of the policy: loaded from <state-dir>/policy at start (a corrupt file
 * stops the start: a policy that cannot be read is never guessed), published to the state
 * segment's network table, changed by admin commands over the control socket (persisted
 * first, then applied, then published, then answered: an allocation that follows the
 * reply sees the new lists).
 */
#ifndef VFPOOL_CORE_POLICY_CMD_H
#define VFPOOL_CORE_POLICY_CMD_H

#include "core/ctl_command.h"

struct daemon;

extern const struct ctl_command policy_commands[];

/* Builds the policy for d->host, loads the persisted one, attaches it to the engine and
 * publishes it. Logs and returns -errno on failure. */
int policy_daemon_start(struct daemon *d);
void policy_daemon_stop(struct daemon *d);
/* Writes d->policy to the state segment's network table, inside its seqlock. */
void policy_daemon_publish(struct daemon *d);

#endif
