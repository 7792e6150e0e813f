/* SPDX-License-Identifier: MIT */
#ifndef VFPOOL_VFPOOLCTL_CMDS_H
#define VFPOOL_VFPOOLCTL_CMDS_H

#define VFPOOL_CTL_ARGS_MAX 64

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vfpool/vfpool.h"

/* Exit codes (documented in vfpoolctl --help). */
enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };

struct ctl_opts {
	const char *run_dir;
	bool json;
	bool all;
	int argc;     /* the command's own arguments */
	char **argv;
};

int cmd_snapshot(const struct ctl_opts *o);
int cmd_alloc(const struct ctl_opts *o);
int cmd_release(const struct ctl_opts *o);
int cmd_watch(const struct ctl_opts *o);
int cmd_pf(const struct ctl_opts *o);
int cmd_lease(const struct ctl_opts *o);
int cmd_metrics(const struct ctl_opts *o);

/* The snapshot a view shows (view_snapshot.c). When vfpoold is not running it says so,
 * once, on stderr ("vfpoolctl CMD: vfpoold is not running (last state from T); process
 * 123 is gone") and fails: a dead daemon's state is never shown as current. CTL_EXIT_OK
 * (*ret_snap set) or CTL_EXIT_FAIL. */
int ctl_snapshot_take(const struct ctl_opts *o, const char *cmd, struct vfpool_snapshot **ret_snap);
/* The message above, for a snapshot whose daemon is not running (nothing otherwise). */
void ctl_print_not_running(const char *cmd, const struct vfpool_snapshot *s);
/* Local time of a CLOCK_REALTIME ns value, "2026-01-31 12:00:00 UTC". */
void ctl_format_time(char *buf, size_t len, uint64_t ns);

/* Shared by the snapshot views (snapshot_cmd.c). */
void ctl_json_str(FILE *f, const char *s);
void snapshot_print_table(FILE *f, const struct vfpool_snapshot *s, bool all_vfs);
void snapshot_print_pf_table(FILE *f, const struct vfpool_snapshot *s);
void snapshot_print_pf_json(FILE *f, unsigned index, const struct vfpool_pf_info *p);
int cmd_capacity(const struct ctl_opts *o);
/* Exit status as vfpoolctl_doctor returns it: 0 pass, 1 warn, 2 fail. */
int cmd_doctor(const struct ctl_opts *o);
/* Any command the daemon implements: words in o->argv, passed as they are. */
int cmd_daemon(const struct ctl_opts *o);

#endif
