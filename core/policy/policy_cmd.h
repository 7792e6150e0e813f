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
#include "core/model/engine.h"
#include "core/model/host.h"
#include "core/model/policy.h"
#include "core/model/state_segment.h"

/* What the policy commands work on, for the daemon's life. */
struct policy_cmd_ctx {
	struct engine *engine;  /* engine->policy points at policy while it is started */
	struct policy *policy;  /* the daemon's */
	struct state_seg *seg;  /* policy is published to its network table */
	const char *state_dir;  /* where it is persisted (core/policy/policy_store.h) */
};

/* The table's context is a struct policy_cmd_ctx. */
extern const struct ctl_command policy_commands[];

/* Builds the policy for host, loads the persisted one, attaches it to the engine and
 * publishes it. Logs and returns -errno on failure (then nothing is left to stop). */
int policy_daemon_start(const struct policy_cmd_ctx *ctx, const struct host *host);
/* Reads <state-dir>/policy again (SIGHUP) and makes it the daemon's policy, published; no
 * file is the empty policy. A file that cannot be read changes nothing: logged, -errno. */
int policy_daemon_reload(const struct policy_cmd_ctx *ctx);
void policy_daemon_stop(const struct policy_cmd_ctx *ctx);
/* The host gained PFs (found after start): the policy takes them, each with what the
 * persisted policy says of its PCI address (every network when nothing), and is published.
 * Nothing happens while h has no more PFs than the policy. */
int policy_daemon_grow(const struct policy_cmd_ctx *ctx, const struct host *h);
/* Writes the policy to the state segment's network table, inside its seqlock. */
void policy_daemon_publish(const struct policy_cmd_ctx *ctx);

#endif
