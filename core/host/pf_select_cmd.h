/* SPDX-License-Identifier: MIT */
/*
 * The PF selectors as the daemon keeps them: loaded from the state dir at start
 * (core/host/pf_selector_store.h), edited by admin commands (pf select list|add|del),
 * reloaded from the file on request (SIGHUP). A change is judged against a fresh discovery
 * first: one that would leave a leased VF unmanaged is refused, naming the lease. Then it
 * is persisted, then applied (the watch rediscovers with it), then answered.
 */
#ifndef VFPOOL_CORE_HOST_PF_SELECT_CMD_H
#define VFPOOL_CORE_HOST_PF_SELECT_CMD_H

#include "core/ctl_command.h"
#include "core/host/host_watch.h"
#include "core/host/pf_selector.h"
#include "core/model/engine.h"

struct pf_select_cmd_ctx {
	struct host_watch *watch; /* NULL: a simulated host, which has no selectors */
	struct engine *engine;    /* whose segment says which VFs are leased */
	const char *state_dir;
};

/* The table's context is a struct pf_select_cmd_ctx. */
extern const struct ctl_command pf_select_commands[];

/* Loads <state-dir>/pf-selectors for the daemon's start; logs and returns -errno when it
 * cannot be read or parsed (the daemon does not start on selectors it cannot read). */
int pf_selectors_load(const char *state_dir, struct pf_selectors *ret);

/* Reads the file again and applies it (the SIGHUP hook). A file that does not parse, or
 * that would leave a leased VF unmanaged, is refused: logged, the current selectors stay.
 * Loop thread only. */
int pf_selectors_reload(struct pf_select_cmd_ctx *ctx);

#endif
