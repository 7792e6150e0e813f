/* SPDX-License-Identifier: MIT */
/* Deferred completions on malloc'd ring memory: requests the engine keeps hold a CQ slot
 * until they complete, and their completions reach the client in the next free slot. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ring_rig.h"

#define KEEP_MAX 16

/* An engine hook that keeps every allocation whose vNIC starts with "late", as VF
 * configuration will, and remembers it so the test decides when it completes. */
struct keeper {
	struct engine_hooks hooks;
	struct completion_sink *sink[KEEP_MAX];
	struct vfpool_cqe cqe[KEEP_MAX];
	unsigned n;
};

static int keep_late(struct engine_hooks *h, struct engine *e, uint32_t slot,
		     const struct request *req, struct completion_sink *sink,
		     struct vfpool_cqe *cqe)
{
	struct keeper *k = (struct keeper *)h;

	(void)e;
	(void)slot;
	if (strncmp(req->vnic_id, "late", 4) != 0 && !(req->flags & VFPOOL_REQ_F_EARLY))
		return 0;
	k->sink[k->n] = sink;
	k->cqe[k->n++] = *cqe;
	if (req->flags & VFPOOL_REQ_F_EARLY) {
		cqe->flags |= VFPOOL_CQE_F_MORE;
		return ENGINE_HOOK_EARLY;
	}
	return 1;
}

/* The connection's sink: what the daemon does, without the futex. */
struct test_sink {
	struct completion_sink sink;
	struct client_ring *ring;
	int posted;
};

static void test_post(struct completion_sink *sink, const struct vfpool_cqe *cqe)
{
	struct test_sink *t = (struct test_sink *)sink;

	cr_assert_eq(client_ring_post_deferred(t->ring, cqe), 0);
	t->posted++;
}

/* The shared ring rig's engine keeps late allocations in keeper; conn is the sink. */
static struct keeper keeper;
static struct test_sink conn;

static void rig_setup(struct ring_rig *g, uint32_t entries)
{
	ring_rig_setup(g, entries);
	keeper.hooks.lease_made = keep_late;
	g->e.hooks = &keeper.hooks;
	conn.sink.post = test_post;
	conn.ring = &g->r;
}

static void submit_alloc(struct ring_rig *g, uint32_t n, uint64_t ud, const char *vnic)
{
	put_alloc(client_sqe(g, n), ud, "vm1", vnic);
}

static void complete_kept(unsigned i)
{
	keeper.sink[i]->post(keeper.sink[i], &keeper.cqe[i]);
}

Test(deferred, cq_room_is_held_for_deferred_completions)
{
	struct ring_rig g;

	rig_setup(&g, 8);
	for (uint32_t i = 0; i < 3; i++) {
		char vnic[16];

		snprintf(vnic, sizeof(vnic), "late%u", i);
		submit_alloc(&g, i, 100 + i, vnic);
	}
	ring_prod_publish(&g.sq, 3);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, &conn.sink, 64), 3);
	cr_assert_eq(g.r.deferred, 3u);
	cr_assert_eq(ring_cons_avail(&g.cq), 0, "nothing completes before the engine posts");
	/* 8 immediate requests: only 8 - 3 fit, the rest wait in the SQ */
	for (uint32_t i = 0; i < 8; i++) {
		char vnic[16];

		snprintf(vnic, sizeof(vnic), "now%u", i);
		submit_alloc(&g, i, i, vnic);
	}
	ring_prod_publish(&g.sq, 8);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, &conn.sink, 64), 5);
	cr_assert_eq(client_ring_pending(&g.r), 3);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, &conn.sink, 64), 0,
		     "the held slots are not handed to new requests");
	for (unsigned i = 0; i < 3; i++)
		complete_kept(i);
	cr_assert_eq(conn.posted, 3);
	cr_assert_eq(g.r.deferred, 0u);
	cr_assert_eq(ring_cons_avail(&g.cq), 8);
	ring_rig_teardown(&g);
}

Test(deferred, a_deferred_completion_reaches_the_client_in_the_next_slot)
{
	struct ring_rig g;

	rig_setup(&g, 8);
	submit_alloc(&g, 0, 7, "late0");
	submit_alloc(&g, 1, 8, "now0");
	ring_prod_publish(&g.sq, 2);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, &conn.sink, 64), 2);
	cr_assert_eq(ring_cons_avail(&g.cq), 1);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 8u);
	ring_cons_consume(&g.cq, 1); /* the client reaps it */

	complete_kept(0);
	cr_assert_eq(ring_cons_avail(&g.cq), 1);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 7u);
	cr_assert_eq(client_cqe(&g, 0)->res, 0);
	cr_assert_str_eq(client_cqe(&g, 0)->pci_addr, keeper.cqe[0].pci_addr);
	ring_rig_teardown(&g);
}

Test(deferred, completions_are_matched_by_user_data_not_position)
{
	struct ring_rig g;

	rig_setup(&g, 8);
	submit_alloc(&g, 0, 1, "late0");
	submit_alloc(&g, 1, 2, "late1");
	submit_alloc(&g, 2, 3, "now0");
	ring_prod_publish(&g.sq, 3);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, &conn.sink, 64), 3);
	complete_kept(1); /* the second kept request finishes first */
	complete_kept(0);
	cr_assert_eq(ring_cons_avail(&g.cq), 3);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 3u);
	cr_assert_eq(client_cqe(&g, 1)->user_data, 2u);
	cr_assert_eq(client_cqe(&g, 2)->user_data, 1u);
	cr_assert_neq(client_cqe(&g, 1)->vf_slot, client_cqe(&g, 2)->vf_slot);
	ring_rig_teardown(&g);
}

Test(deferred, an_early_allocation_completes_at_once_with_more_then_again)
{
	struct ring_rig g;

	rig_setup(&g, 8);
	submit_alloc(&g, 0, 5, "nic0");
	g.r.sqes[ring_prod_slot(&g.sq, 0)].flags = VFPOOL_REQ_F_EARLY;
	ring_prod_publish(&g.sq, 1);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, &conn.sink, 64), 1);
	cr_assert_eq(ring_cons_avail(&g.cq), 1, "the reservation is told at once");
	cr_assert_eq(client_cqe(&g, 0)->user_data, 5u);
	cr_assert_eq(client_cqe(&g, 0)->res, 0);
	cr_assert(client_cqe(&g, 0)->flags & VFPOOL_CQE_F_MORE);
	cr_assert_eq(g.r.deferred, 1u, "one slot held for the final completion");
	ring_cons_consume(&g.cq, 1);

	complete_kept(0);
	cr_assert_eq(ring_cons_avail(&g.cq), 1);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 5u);
	cr_assert_eq(client_cqe(&g, 0)->res, 0);
	cr_assert_not(client_cqe(&g, 0)->flags & VFPOOL_CQE_F_MORE, "the final one ends it");
	cr_assert_eq(g.r.deferred, 0u);
	ring_rig_teardown(&g);
}

Test(deferred, an_early_allocation_needs_two_free_completion_slots)
{
	struct ring_rig g;

	rig_setup(&g, 8);
	/* 7 immediate completions the client does not reap: one slot left */
	for (uint32_t i = 0; i < 7; i++) {
		char vnic[16];

		snprintf(vnic, sizeof(vnic), "now%u", i);
		submit_alloc(&g, i, i, vnic);
	}
	ring_prod_publish(&g.sq, 7);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, &conn.sink, 64), 7);
	submit_alloc(&g, 0, 50, "nic0");
	g.r.sqes[ring_prod_slot(&g.sq, 0)].flags = VFPOOL_REQ_F_EARLY;
	ring_prod_publish(&g.sq, 1);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, &conn.sink, 64), 0,
		     "one free slot is not enough for two completions");
	ring_cons_consume(&g.cq, 1);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, &conn.sink, 64), 1);
	cr_assert_eq(g.r.deferred, 1u);
	ring_rig_teardown(&g);
}

Test(deferred, an_early_flag_on_a_release_is_refused)
{
	struct ring_rig g;

	rig_setup(&g, 8);
	submit_alloc(&g, 0, 6, "nic0");
	g.r.sqes[ring_prod_slot(&g.sq, 0)].opcode = VFPOOL_OP_RELEASE;
	g.r.sqes[ring_prod_slot(&g.sq, 0)].flags = VFPOOL_REQ_F_EARLY;
	memset(g.r.sqes[ring_prod_slot(&g.sq, 0)].network, 0, VFPOOL_NETWORK_MAX);
	ring_prod_publish(&g.sq, 1);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, &conn.sink, 64), 1);
	cr_assert_eq(client_cqe(&g, 0)->res, -EINVAL);
	cr_assert(strstr(client_cqe(&g, 0)->message, "early completion on a request other than alloc"),
		  "%s", client_cqe(&g, 0)->message);
	cr_assert_eq(g.r.deferred, 0u);
	ring_rig_teardown(&g);
}
