/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/state_segment.h"
#include "tests/ring_rig.h"

void ring_rig_setup_rings(struct ring_rig *g, uint32_t sq_entries, uint32_t cq_entries)
{
	size_t size;
	struct vfpool_ring_hdr *h;

	memset(g, 0, sizeof(*g));
	cr_assert_eq(host_simulate(1, 64, &g->host), 0);
	cr_assert_eq(state_seg_size(g->host, &size), 0);
	g->state = aligned_alloc(64, size);
	cr_assert_eq(state_seg_format(g->state, size, g->host), 0);
	cr_assert_eq(engine_init(&g->e, g->state), 0);
	g->ring_size = client_ring_size(sq_entries, cq_entries);
	g->ring_mem = aligned_alloc(4096, g->ring_size);
	cr_assert_eq(client_ring_format(g->ring_mem, g->ring_size, 1, sq_entries, cq_entries), 0);
	client_ring_attach(&g->r, g->ring_mem, g->ring_size);
	g->r.fd = -1;
	h = g->ring_mem;
	ring_prod_init(&g->sq, &h->sq_tail.v, &h->sq_head.v, sq_entries, 0);
	ring_cons_init(&g->cq, &h->cq_head.v, &h->cq_tail.v, cq_entries, 0);
}

void ring_rig_setup(struct ring_rig *g, uint32_t entries)
{
	ring_rig_setup_rings(g, entries, entries);
}

void ring_rig_teardown(struct ring_rig *g)
{
	engine_fini(&g->e);
	free(g->ring_mem);
	free(g->state);
	host_free(g->host);
}

struct vfpool_sqe *client_sqe(struct ring_rig *g, uint32_t n)
{
	return &g->r.sqes[ring_prod_slot(&g->sq, n)];
}

const struct vfpool_cqe *client_cqe(struct ring_rig *g, uint32_t n)
{
	return &g->r.cqes[ring_cons_slot(&g->cq, n)];
}

void put_alloc(struct vfpool_sqe *e, uint64_t user_data, const char *vm, const char *vnic)
{
	memset(e, 0, sizeof(*e));
	e->user_data = user_data;
	e->opcode = VFPOOL_OP_ALLOC;
	e->numa_node = -1;
	snprintf(e->vm_id, sizeof(e->vm_id), "%s", vm);
	snprintf(e->vnic_id, sizeof(e->vnic_id), "%s", vnic);
	strcpy(e->network, "red");
}
