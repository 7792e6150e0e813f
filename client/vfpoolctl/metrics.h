/* SPDX-License-Identifier: MIT */
/* The snapshot as Prometheus text exposition (format 0.0.4). */
#ifndef VFPOOL_VFPOOLCTL_METRICS_H
#define VFPOOL_VFPOOLCTL_METRICS_H

#include <stdio.h>

#include "vfpool/vfpool.h"

/* Writes every metric family (HELP, TYPE, samples). -ENOMEM if a per-network table cannot
 * be built; nothing else fails (stream errors are the caller's to check). */
int metrics_write(FILE *f, const struct vfpool_snapshot *s);

#endif
