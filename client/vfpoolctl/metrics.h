/* SPDX-License-Identifier: MIT */
/* The snapshot as Prometheus text exposition (format 0.0.4). */
#ifndef VFPOOL_VFPOOLCTL_METRICS_H
#define VFPOOL_VFPOOLCTL_METRICS_H

#include <stdio.h>

#include "vfpool/vfpool.h"

/* Writes every metric family (HELP, TYPE, samples). -ENOMEM if a per-network table cannot
 * be built; nothing else fails (stream errors are the caller's to check). */
int metrics_write(FILE *f, const struct vfpool_snapshot *s);
/* What is exported while vfpoold is not running: vfpool_up 0, and no gauge of its last
 * state (a dead daemon's free VFs are nobody's to count on). */
void metrics_write_down(FILE *f);

#endif
