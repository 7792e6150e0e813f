/* SPDX-License-Identifier: MIT */
/*
 * Applying the PF selectors (core/host/pf_selector.h) to a discovered host: what is left is
 * what vfpool manages. A PF outside them is dropped with its VFs (never in the pool, never
 * written to); a VF outside them is dropped from its PF (its slot stays absent). Pure.
 */
#ifndef VFPOOL_CORE_HOST_HOST_SELECT_H
#define VFPOOL_CORE_HOST_HOST_SELECT_H

#include "core/host/pf_selector.h"
#include "core/model/host.h"

/* The matcher's view of a PF of the model. */
struct pf_sel_device host_select_device(const struct host_pf *pf);

/* Filters host in place (PF indexes of the VFs follow); the IOMMU groups are kept whole,
 * so a group shared with an unmanaged device still counts it. ret_dropped_pfs (may be
 * NULL): how many PFs were left out. -ENOMEM leaves host as it was. */
int host_select(struct host *host, const struct pf_selectors *sel, unsigned *ret_dropped_pfs);

#endif
