/* SPDX-License-Identifier: MIT */
/*
 * Placement of a VM's vNICs on PFs: which PF gives each vNIC its VF, all of them at once.
 * A bipartite b-matching: vNICs on one side, PFs with their free VFs (capacity) on the
 * other, an edge where the vNIC may use the PF (its network allowed there, its NUMA node
 * when required). A VF on one PF is as good as another for a vNIC, so matching on PFs with
 * capacities is the same problem as matching on VFs, with far fewer vertices.
 *
 * Found whenever one exists, whatever the order of the vNICs: the most constrained vNICs
 * (fewest VFs they may use) go first, each to the PF the policy likes best (its NUMA node,
 * then spread or pack); a vNIC left without a VF then gets one through an augmenting path
 * (Kuhn's algorithm: other vNICs move to PFs they may also use). Augmenting never unplaces
 * a placed vNIC, so mandatory vNICs are placed before optional ones (a "preferred" profile:
 * without a VF it uses the bridge) and an optional one never costs a mandatory one its VF.
 *
 * Pinned vNICs are the caller's: their VF is claimed first and is not in any capacity.
 * Pure: no I/O, no pool, no allocation.
 */
#ifndef VFPOOL_CORE_PLACEMENT_H
#define VFPOOL_CORE_PLACEMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model/pool.h"
#include "shm/layout.h"

#define PLACEMENT_MAX_ITEMS VFPOOL_CHAIN_MAX
#define PLACEMENT_MAX_BINS  POOL_MAX_PFS

enum placement_mode {
	PLACEMENT_SPREAD = 0, /* a VM's vNICs on different PFs (those it holds VFs on counted),
			       * then the PF with most free VFs */
	PLACEMENT_PACK = 1,   /* the PF with fewest free VFs that has one: whole PFs stay free */
};

struct placement_item {
	struct pf_set eligible; /* the PFs it may use */
	int32_t numa_node;      /* preferred node, -1: none (a required node: eligible says) */
	enum placement_mode mode;
	bool optional;          /* may stay unplaced (the bridge) */
};

struct placement {
	unsigned n_items, n_bins;
	struct placement_item items[PLACEMENT_MAX_ITEMS];
	uint32_t capacity[PLACEMENT_MAX_BINS]; /* free VFs per PF */
	uint32_t held[PLACEMENT_MAX_BINS];     /* the VM's VFs on each PF already: spread
						* places its new vNICs elsewhere first */
	int32_t numa[PLACEMENT_MAX_BINS];      /* each PF's node, -1 unknown */
	uint32_t rotor;                        /* ties start at this PF: load spreads */
};

/* Places every item: ret_bin[i] is item i's PF, or -1 for an optional item that could not
 * be placed. Returns how many items only an augmenting path placed (>= 0), or -ENOSPC when
 * a mandatory item cannot be placed together with the others: *ret_failed is the first
 * such item (in item order) and ret_bin holds the most mandatory items that can be placed
 * at once (-1 for the rest). -EINVAL for counts out of range. */
int placement_solve(const struct placement *p, int32_t *ret_bin, unsigned *ret_failed);

/* The parse and name of a mode: "spread", "pack". */
int placement_parse_mode(const char *s, enum placement_mode *ret_mode);
const char *placement_mode_name(enum placement_mode m);

#endif
