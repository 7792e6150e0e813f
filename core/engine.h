/* SPDX-License-Identifier: MIT */
/*
 * The allocation engine: turns validated requests into pool claims and lease records.
 * It owns the lease index and writes the state segment inside its seqlock, so every
 * reader sees a bitmap change and the record that explains it together.
 * Single-threaded by design: the daemon's loop thread is the only caller.
 */
#ifndef VFPOOL_CORE_ENGINE_H
#define VFPOOL_CORE_ENGINE_H

#include "core/lease_index.h"
#include "core/pool.h"
#include "core/request.h"
#include "shm/layout.h"

struct engine {
	struct vfpool_state_hdr *hdr; /* the state segment, writable */
	struct pool pool;
	struct lease_index *leases;
	uint32_t *pci_sorted; /* VF slots sorted by PCI address, for pinning */
	uint32_t n_pci_sorted;
	uint64_t next_generation;
};

/* Attaches to a formatted state segment (core/state_segment.h). */
int engine_init(struct engine *e, struct vfpool_state_hdr *hdr);
void engine_fini(struct engine *e);

/* Serves one request; writes the whole completion. Never fails as a function: errors are
 * completions. */
void engine_serve(struct engine *e, const struct request *req, struct vfpool_cqe *ret_cqe);

/* Completes a request that failed to decode. */
void engine_reject(struct engine *e, uint64_t user_data, int err, const char *why,
		   struct vfpool_cqe *ret_cqe);

/* Rebuilds the PCI-address index after VF records gained or changed addresses (VFs that
 * appeared after start). */
void engine_reindex_pci(struct engine *e);

/* VF slot by PCI address, or -ENOENT. */
int64_t engine_find_pci(const struct engine *e, const char *pci);

#endif
