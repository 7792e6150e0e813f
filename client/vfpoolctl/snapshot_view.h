/* SPDX-License-Identifier: MIT */
/* The snapshot's parts, for the views that show them (snapshot, watch, pf). */
#ifndef VFPOOL_VFPOOLCTL_SNAPSHOT_VIEW_H
#define VFPOOL_VFPOOLCTL_SNAPSHOT_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "client/vfpoolctl/format_table.h"
#include "vfpool/vfpool.h"

struct json_object;

/* The whole snapshot as vfpoolctl snapshot --json prints it. */
struct json_object *snapshot_json(const struct vfpool_snapshot *s);
/* "daemon pid ...", "errors: ...", "probe: ..." */
void snapshot_print_head(FILE *f, const struct vfpool_snapshot *s);
/* The PF table and the VF table (leased and blocked VFs; all with all_vfs), to print. */
void snapshot_pf_table(struct table *t, const struct vfpool_snapshot *s);
void snapshot_vf_table(struct table *t, const struct vfpool_snapshot *s, bool all_vfs);

#endif
