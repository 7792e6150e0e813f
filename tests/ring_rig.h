/* SPDX-License-Identifier: MIT */
/* One client's ring served in-process on malloc'd memory: a simulated host (1 PF x 64 VFs),
 * its state segment and engine, the daemon's client_ring and the client's view of the two
 * rings. No socket, no futex: the test plays the client and calls client_ring_serve. */
#ifndef VFPOOL_TESTS_RING_RIG_H
#define VFPOOL_TESTS_RING_RIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/model/client_ring.h"
#include "core/model/engine.h"
#include "core/model/host.h"

struct ring_rig {
	struct host *host;
	void *state;
	void *ring_mem;
	size_t ring_size;
	struct engine e;
	struct client_ring r;
	struct ring_prod sq; /* the client's view */
	struct ring_cons cq;
};

/* entries in each ring (a power of two). Aborts the test on failure. */
void ring_rig_setup(struct ring_rig *g, uint32_t entries);
/* The same with rings of different sizes (the request ring sq_entries, completions cq_entries). */
void ring_rig_setup_rings(struct ring_rig *g, uint32_t sq_entries, uint32_t cq_entries);
void ring_rig_teardown(struct ring_rig *g);

/* The client's n-th entry past its tail, and n-th completion past its head. */
struct vfpool_sqe *client_sqe(struct ring_rig *g, uint32_t n);
const struct vfpool_cqe *client_cqe(struct ring_rig *g, uint32_t n);

/* Writes an alloc of vm's vnic on network "red" into e. */
void put_alloc(struct vfpool_sqe *e, uint64_t user_data, const char *vm, const char *vnic);

#endif
