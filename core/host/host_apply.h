/* SPDX-License-Identifier: MIT */
/*
 * Bringing the state segment and the daemon's host model in line with a fresh discovery.
 * A fresh host is mapped onto the segment by PCI address: each slot of a known PF becomes
 * present or absent, takes its VF's netdev, driver verdict and IOMMU verdict; a PF that is
 * gone keeps its record (VFPOOL_PF_F_GONE) with all its slots absent, and comes back to it
 * under the same address. A PF the segment does not have joins it, after the others, in
 * the room the segment reserved (core/model/state_segment.h); one that does not fit is
 * logged (pf_not_managed) and left out.
 * A lease whose VF vanished is kept, visible and counted as lost, never dropped silently.
 */
#ifndef VFPOOL_CORE_HOST_APPLY_H
#define VFPOOL_CORE_HOST_APPLY_H

#include <stdbool.h>

#include "core/model/engine.h"
#include "core/model/host.h"
#include "core/host/host_monitor.h"

struct host_apply_stats {
	unsigned appeared;    /* slots that became present */
	unsigned vanished;    /* slots that became absent */
	unsigned leases_lost; /* of those, slots that were leased */
	unsigned changed;     /* present slots whose netdev, driver or IOMMU verdict changed */
	unsigned pfs_added;   /* PFs that joined the segment (found after start) */
};

/* The devices a burst of udev changes removed: the kernel announces a removal before its
 * sysfs directory goes, so discovery right after the event may still see the device. */
struct host_gone {
	const struct host_change *changes;
	size_t n;
};

/* Applies fresh to the segment behind e (inside its seqlock) and replaces *model with the
 * model of the managed PFs in segment order. gone: NULL, or removals that fresh may not
 * show yet (they win over fresh). pf_busy: NULL, or one flag per (*model) PF;
 * the VFs of a busy PF (a numvfs change in progress) stay absent for the allocator. Takes
 * ownership of fresh. Logs lease_lost for each lease whose VF vanished. */
int host_apply(struct engine *e, struct host **model, struct host *fresh,
	       const struct host_gone *gone, const bool *pf_busy, struct host_apply_stats *ret_stats);

#endif
