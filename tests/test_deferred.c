/* SPDX-License-Identifier: MIT */
/* Deferred completions on malloc'd ring memory: requests the engine keeps hold a CQ slot
 * until they complete, and their completions reach the client in the next free slot. The
 * suite "pending" drives one such completion's two gates (core/model/pending_completion.h)
 * from both sides, with a journal the test makes durable when it says so. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

#include "core/lease/lease_durable.h"
#include "core/loop.h"
#include "shm/state.h"
#include "tests/ring_rig.h"
#include "tests/state_dir.h"

#define KEEP_MAX 16

/* An engine hook that keeps every allocation whose vNIC starts with "late" (or that asks
 * for early completion), as VF configuration does, and remembers it so the test decides
 * when it completes. One whose vNIC starts with "fail" fails at once, as a configuration
 * whose PF netdev is gone does: the lease undone, then the gate opened with the error. */
struct keeper {
	struct engine_hooks hooks;
	struct pending_completion *kept[KEEP_MAX];
	char pci[KEEP_MAX][VFPOOL_PCI_ADDR_MAX]; /* the VF each kept lease holds */
	unsigned n;
};

static void keep_late(struct engine_hooks *h, struct engine *e, struct pending_completion *p,
		      const struct request *req)
{
	struct keeper *k = (struct keeper *)h;

	if (strncmp(req->vnic_id, "fail", 4) == 0) {
		engine_undo_lease(e, p->slot, p->generation);
		pending_configured(p, -ENODEV, "ens1f0: PF netdev gone");
		return;
	}
	if (strncmp(req->vnic_id, "late", 4) != 0 && !(req->flags & VFPOOL_REQ_F_EARLY)) {
		pending_configured(p, 0, NULL);
		return;
	}
	k->kept[k->n] = p;
	memcpy(k->pci[k->n++], state_vfs(e->hdr)[p->slot].pci_addr, VFPOOL_PCI_ADDR_MAX);
}

/* The connection's sink: what the daemon does, without the futex. A closing connection
 * only counts its deferred completions down (it is freed once they are all in). */
struct test_sink {
	struct completion_sink sink;
	struct client_ring *ring;
	int posted;
	bool closing;
};

static void test_post(struct completion_sink *sink, const struct vfpool_cqe *cqe)
{
	struct test_sink *t = (struct test_sink *)sink;

	t->posted++;
	if (t->closing) {
		cr_assert_gt(t->ring->deferred, 0u, "a completion nobody counted");
		t->ring->deferred--;
		return;
	}
	cr_assert_eq(client_ring_post_deferred(t->ring, cqe), 0);
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
	pending_configured(keeper.kept[i], 0, NULL);
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
	cr_assert_str_eq(client_cqe(&g, 0)->pci_addr, keeper.pci[0]);
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

/* ---- one completion, two gates ------------------------------------------------------- */

/* The journal's seat, as core/lease/lease_durable.c fills it: changes are staged, and a
 * completion held while anything staged is not yet durable, until journal_flush. */
struct test_journal {
	struct engine_commit commit;
	struct pending_durability durability;
	struct pending_queue held;
	unsigned staged; /* records not yet durable */
	unsigned adds, dels;
};

static struct test_journal journal;

static void journal_stage(struct engine_commit *cm, struct engine *e, const struct request *req,
			  uint32_t slot, bool made, uint64_t generation)
{
	(void)cm;
	(void)e;
	(void)req;
	(void)slot;
	(void)generation;
	journal.staged++;
	if (made)
		journal.adds++;
	else
		journal.dels++;
}

static bool journal_hold(struct pending_durability *d, struct pending_completion *p)
{
	(void)d;
	if (!journal.staged)
		return false;
	pending_queue_push(&journal.held, p);
	return true;
}

static unsigned journal_held(void)
{
	unsigned n = 0;

	for (struct pending_link *l = journal.held.head.next; l != &journal.held.head; l = l->next)
		n++;
	return n;
}

/* The staged records are on disk (res 0), or could not be written (res < 0). */
static void journal_flush(int res)
{
	struct pending_completion *p;

	journal.staged = 0;
	while ((p = pending_queue_pop(&journal.held)))
		pending_durable(p, res, res ? "journal /state/leases: I/O error: refused" : NULL);
}

static void pending_setup(struct ring_rig *g)
{
	rig_setup(g, 8);
	journal.commit.stage = journal_stage;
	journal.durability.hold = journal_hold;
	pending_queue_init(&journal.held);
	g->e.commit = &journal.commit;
	g->e.durability = &journal.durability;
}

static void serve_one(struct ring_rig *g, uint64_t ud, const char *vnic, uint32_t flags)
{
	submit_alloc(g, 0, ud, vnic);
	client_sqe(g, 0)->flags = flags;
	ring_prod_publish(&g->sq, 1);
	cr_assert_eq(client_ring_serve(&g->r, &g->e, &conn.sink, 64), 1);
}

static uint64_t errors(struct ring_rig *g, enum vfpool_err_kind kind)
{
	return atomic_load(&g->e.hdr->errors_by_kind[kind]);
}

Test(pending, configured_then_durable_completes_once_when_the_second_gate_opens)
{
	struct ring_rig g;

	pending_setup(&g);
	serve_one(&g, 1, "late0", 0);
	cr_assert_eq(g.r.deferred, 1u);
	cr_assert_eq(journal_held(), 1u, "the lease is not durable yet");
	complete_kept(0);
	cr_assert_eq(conn.posted, 0, "configured, not durable: the client hears nothing");
	cr_assert_eq(ring_cons_avail(&g.cq), 0);
	journal_flush(0);
	cr_assert_eq(conn.posted, 1);
	cr_assert_eq(ring_cons_avail(&g.cq), 1);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 1u);
	cr_assert_eq(client_cqe(&g, 0)->res, 0, "%s", client_cqe(&g, 0)->message);
	cr_assert_str_eq(client_cqe(&g, 0)->pci_addr, keeper.pci[0]);
	cr_assert_eq(g.r.deferred, 0u);
	ring_rig_teardown(&g);
}

Test(pending, durable_then_configured_completes_once_when_the_second_gate_opens)
{
	struct ring_rig g;

	pending_setup(&g);
	serve_one(&g, 2, "late0", 0);
	journal_flush(0);
	cr_assert_eq(conn.posted, 0, "durable, not configured: the client hears nothing");
	complete_kept(0);
	cr_assert_eq(conn.posted, 1);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 2u);
	cr_assert_eq(client_cqe(&g, 0)->res, 0);
	cr_assert_not(client_cqe(&g, 0)->flags & VFPOOL_CQE_F_MORE);
	cr_assert_eq(g.r.deferred, 0u);
	ring_rig_teardown(&g);
}

Test(pending, an_early_first_completion_waits_for_durability_and_the_final_for_both)
{
	struct ring_rig g;
	uint32_t slot;

	pending_setup(&g);
	serve_one(&g, 3, "nic0", VFPOOL_REQ_F_EARLY);
	cr_assert_eq(ring_cons_avail(&g.cq), 0, "not even the reservation before it is durable");
	cr_assert_eq(g.r.deferred, 2u, "two completions to come");
	journal_flush(0);
	cr_assert_eq(ring_cons_avail(&g.cq), 1);
	cr_assert_eq(client_cqe(&g, 0)->res, 0);
	cr_assert(client_cqe(&g, 0)->flags & VFPOOL_CQE_F_MORE);
	slot = client_cqe(&g, 0)->vf_slot;
	ring_cons_consume(&g.cq, 1);
	cr_assert_eq(g.r.deferred, 1u);
	complete_kept(0);
	cr_assert_eq(ring_cons_avail(&g.cq), 1);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 3u);
	cr_assert_eq(client_cqe(&g, 0)->res, 0);
	cr_assert_eq(client_cqe(&g, 0)->vf_slot, slot);
	cr_assert_not(client_cqe(&g, 0)->flags & VFPOOL_CQE_F_MORE, "the final one ends it");
	cr_assert_eq(g.r.deferred, 0u);
	ring_rig_teardown(&g);
}

Test(pending, an_early_allocation_configured_before_it_is_durable_gets_both_in_order)
{
	struct ring_rig g;

	pending_setup(&g);
	serve_one(&g, 4, "nic0", VFPOOL_REQ_F_EARLY);
	complete_kept(0);
	cr_assert_eq(conn.posted, 0);
	journal_flush(0);
	cr_assert_eq(conn.posted, 2);
	cr_assert_eq(ring_cons_avail(&g.cq), 2);
	cr_assert(client_cqe(&g, 0)->flags & VFPOOL_CQE_F_MORE, "the first comes first");
	cr_assert_not(client_cqe(&g, 1)->flags & VFPOOL_CQE_F_MORE);
	cr_assert_eq(client_cqe(&g, 1)->user_data, 4u);
	cr_assert_eq(g.r.deferred, 0u);
	ring_rig_teardown(&g);
}

Test(pending, a_failed_configuration_is_told_once_its_undo_is_durable)
{
	struct ring_rig g;
	struct pending_completion *p;
	struct pf_block_counts before, after;

	pending_setup(&g);
	pool_pf_count(&g.e.pool.pfs[0], &before);
	serve_one(&g, 5, "late0", 0);
	journal_flush(0); /* the lease is on disk */
	p = keeper.kept[0];
	/* what VF configuration does when the kernel refuses: undo, then open the gate */
	engine_undo_lease(&g.e, p->slot, p->generation);
	pending_configured(p, -EOPNOTSUPP, "ens1f0 vf 0: kernel refused: Operation not supported");
	cr_assert_eq(journal.dels, 1u, "the undo is journaled");
	cr_assert_eq(conn.posted, 0, "told only once the undo is durable too");
	journal_flush(0);
	cr_assert_eq(conn.posted, 1);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 5u);
	cr_assert_eq(client_cqe(&g, 0)->res, -EOPNOTSUPP);
	cr_assert_str_eq(client_cqe(&g, 0)->message,
			 "ens1f0 vf 0: kernel refused: Operation not supported");
	cr_assert_eq(lease_index_count(g.e.leases), 0u);
	pool_pf_count(&g.e.pool.pfs[0], &after);
	cr_assert_eq(after.allocatable, before.allocatable, "the VF is back in the pool");
	cr_assert_eq(errors(&g, VFPOOL_ERR_CONFIG), 1u);
	cr_assert_eq(atomic_load(&g.e.hdr->errors), 1u, "counted once");
	cr_assert_eq(g.r.deferred, 0u);
	ring_rig_teardown(&g);
}

Test(pending, a_change_the_journal_refused_fails_the_request_whatever_configuration_says)
{
	struct ring_rig g;

	pending_setup(&g);
	serve_one(&g, 6, "nic0", VFPOOL_REQ_F_EARLY);
	journal_flush(-EIO);
	cr_assert_eq(ring_cons_avail(&g.cq), 1);
	cr_assert_eq(client_cqe(&g, 0)->res, -EIO, "the first completion is the refusal");
	cr_assert(client_cqe(&g, 0)->flags & VFPOOL_CQE_F_MORE, "and still announces the final");
	ring_cons_consume(&g.cq, 1);
	complete_kept(0); /* the configuration itself went well */
	cr_assert_eq(ring_cons_avail(&g.cq), 1);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 6u);
	cr_assert_eq(client_cqe(&g, 0)->res, -EIO);
	cr_assert_str_eq(client_cqe(&g, 0)->message, "journal /state/leases: I/O error: refused");
	cr_assert_not(client_cqe(&g, 0)->flags & VFPOOL_CQE_F_MORE);
	cr_assert_eq(errors(&g, VFPOOL_ERR_OTHER), 1u);
	cr_assert_eq(errors(&g, VFPOOL_ERR_CONFIG), 0u);
	cr_assert_eq(atomic_load(&g.e.hdr->errors), 1u, "counted once, not per completion");
	ring_rig_teardown(&g);
}

Test(pending, a_configuration_that_fails_at_once_completes_inline)
{
	struct ring_rig g;

	pending_setup(&g);
	serve_one(&g, 7, "fail0", VFPOOL_REQ_F_EARLY);
	cr_assert_eq(ring_cons_avail(&g.cq), 1, "answered in the serve, not posted into the ring");
	cr_assert_eq(client_cqe(&g, 0)->res, -ENODEV);
	cr_assert_str_eq(client_cqe(&g, 0)->message, "ens1f0: PF netdev gone");
	cr_assert_not(client_cqe(&g, 0)->flags & VFPOOL_CQE_F_MORE, "one completion, the last");
	cr_assert_eq(g.r.deferred, 0u);
	cr_assert_eq(conn.posted, 0);
	cr_assert_eq(journal.adds, 0u, "a lease that never was is not journaled");
	cr_assert_eq(journal_held(), 0u);
	cr_assert_eq(lease_index_count(g.e.leases), 0u);
	cr_assert_eq(errors(&g, VFPOOL_ERR_CONFIG), 1u);
	cr_assert_eq(atomic_load(&g.e.hdr->errors), 1u);
	ring_rig_teardown(&g);
}

Test(pending, a_connection_gone_meanwhile_still_gets_every_completion_it_counted)
{
	struct ring_rig g;

	pending_setup(&g);
	serve_one(&g, 8, "nic0", VFPOOL_REQ_F_EARLY);
	serve_one(&g, 9, "late1", 0);
	cr_assert_eq(g.r.deferred, 3u);
	conn.closing = true; /* the client hung up: nobody reads the ring any more */
	journal_flush(0);
	complete_kept(1);
	cr_assert_eq(g.r.deferred, 1u, "the early allocation's final one is still owed");
	complete_kept(0);
	cr_assert_eq(conn.posted, 3);
	cr_assert_eq(g.r.deferred, 0u, "every slot counted is given back: the connection may go");
	cr_assert_eq(ring_cons_avail(&g.cq), 0, "nothing written for a closed connection");
	ring_rig_teardown(&g);
}

/* ---- the journal's own durability side ----------------------------------------------- */

/* One turn of the daemon's loop on ring: wait for a completion, hand each to its op. */
static void loop_turn(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;

	cr_assert_geq(io_uring_submit_and_wait(ring, 1), 0);
	while (io_uring_peek_cqe(ring, &cqe) == 0) {
		struct loop_op *op = io_uring_cqe_get_data(cqe);
		struct io_uring_cqe copy = *cqe;

		io_uring_cqe_seen(ring, cqe);
		if (op)
			op->complete(op, &copy);
	}
}

/* The group commit in flight (a write and an fsync) completes. */
static void commit_lands(struct io_uring *ring, struct lease_durable *ld)
{
	for (int i = 0; i < 100 && ld->ops_pending; i++)
		loop_turn(ring);
	cr_assert_eq(ld->ops_pending, 0u, "the commit completed");
}

Test(pending, the_journal_lets_a_completion_go_only_once_its_commit_is_on_disk)
{
	struct lease_durable *ld;
	struct io_uring ring;
	struct ring_rig g;
	char dir[64];

	rig_setup(&g, 8);
	state_dir_make(dir, sizeof(dir));
	cr_assert_eq(io_uring_queue_init(8, &ring, 0), 0);
	cr_assert_eq(lease_durable_start(&g.e, &ring, dir, NULL, NULL, &ld), 0);
	cr_assert(!ld->journal->in_memory, "a journal on a disk: %s", dir);

	serve_one(&g, 10, "late0", 0);
	complete_kept(0);
	cr_assert_eq(conn.posted, 0, "configured, but only staged");
	lease_durable_flush(ld);
	cr_assert_eq(conn.posted, 0, "written, not yet synced");
	commit_lands(&ring, ld);
	cr_assert_eq(conn.posted, 1);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 10u);
	cr_assert_eq(client_cqe(&g, 0)->res, 0, "%s", client_cqe(&g, 0)->message);
	ring_cons_consume(&g.cq, 1);

	/* a lease on disk whose configuration then fails: told once its undo is on disk */
	serve_one(&g, 11, "late1", 0);
	lease_durable_flush(ld);
	commit_lands(&ring, ld);
	cr_assert_eq(conn.posted, 1, "durable, not configured");
	engine_undo_lease(&g.e, keeper.kept[1]->slot, keeper.kept[1]->generation);
	pending_configured(keeper.kept[1], -EOPNOTSUPP, "ens1f0 vf 1: kernel refused");
	cr_assert_eq(conn.posted, 1, "the undo is staged, not durable");
	lease_durable_flush(ld);
	commit_lands(&ring, ld);
	cr_assert_eq(conn.posted, 2);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 11u);
	cr_assert_eq(client_cqe(&g, 0)->res, -EOPNOTSUPP);
	cr_assert_eq(g.r.deferred, 0u);

	lease_durable_free(ld);
	io_uring_queue_exit(&ring);
	state_dir_remove(dir);
	ring_rig_teardown(&g);
}

/* ---- group commit on a mapped journal ------------------------------------------------ */

/* A journal on tmpfs (the run dir of a real host): appended through its mapping. */
static void tmpfs_dir(char *dir, size_t len)
{
	snprintf(dir, len, "/dev/shm/vfpool-group.XXXXXX");
	if (!mkdtemp(dir))
		cr_skip_test("no writable tmpfs at /dev/shm: a mapped journal needs one");
}

Test(group_commit, a_serve_pass_is_one_append_and_its_completions_follow_it)
{
	struct lease_durable *ld;
	struct io_uring ring;
	struct ring_rig g;
	uint64_t appends, size;
	char dir[64];

	ring_rig_setup(&g, 16);
	tmpfs_dir(dir, sizeof(dir));
	cr_assert_eq(io_uring_queue_init(8, &ring, 0), 0);
	cr_assert_eq(lease_durable_start(&g.e, &ring, dir, NULL, NULL, &ld), 0);
	cr_assert(ld->journal->in_memory, "a tmpfs journal is mapped: %s", dir);
	appends = ld->journal->appends;
	size = ld->journal->size;

	for (uint32_t i = 0; i < 8; i++) {
		char vnic[16];

		snprintf(vnic, sizeof(vnic), "nic%u", i);
		put_alloc(client_sqe(&g, i), 100 + i, "vm-group", vnic);
	}
	ring_prod_publish(&g.sq, 8);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 8);
	cr_assert_eq(ring_cons_avail(&g.cq), 8, "every completion published at the end of the pass");
	for (uint32_t i = 0; i < 8; i++)
		cr_assert_eq(client_cqe(&g, i)->res, 0, "%s", client_cqe(&g, i)->message);
	cr_assert_eq(ld->journal->appends, appends + 1, "one append for the pass, not one per "
		     "record (%llu)", (unsigned long long)(ld->journal->appends - appends));
	cr_assert_eq(ld->journal->size, size + JOURNAL_GEN_SIZE + 8 * JOURNAL_ADD_SIZE,
		     "the pass's generation mark and its 8 leases are durable");
	cr_assert(!journal_has_pending(ld->journal));
	ring_cons_consume(&g.cq, 8);

	/* the releases: one more append for their pass */
	for (uint32_t i = 0; i < 8; i++) {
		struct vfpool_sqe *q = client_sqe(&g, i);
		char vnic[16];

		snprintf(vnic, sizeof(vnic), "nic%u", i);
		memset(q, 0, sizeof(*q));
		q->opcode = VFPOOL_OP_RELEASE;
		q->user_data = 200 + i;
		strcpy(q->vm_id, "vm-group");
		strcpy(q->vnic_id, vnic);
	}
	ring_prod_publish(&g.sq, 8);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 8);
	cr_assert_eq(ld->journal->appends, appends + 2);
	cr_assert_eq(ld->journal->size,
		     size + JOURNAL_GEN_SIZE + 8 * JOURNAL_ADD_SIZE + 8 * JOURNAL_DEL_SIZE);
	for (uint32_t i = 0; i < 8; i++)
		cr_assert_eq(client_cqe(&g, i)->res, 0, "%s", client_cqe(&g, i)->message);

	lease_durable_free(ld);
	io_uring_queue_exit(&ring);
	state_dir_remove(dir);
	ring_rig_teardown(&g);
}

/* What a pass staged is in the file before the pass ends: a daemon killed between the
 * records and the completions restores the leases (never acknowledged, so a retry of the
 * request finds its lease), and nothing the clients heard of is missing. */
Test(group_commit, records_staged_in_a_pass_survive_a_kill_before_its_end)
{
	struct journal_scan_result scan;
	struct journal_live live;
	struct journal *j;
	struct journal_lease l = { .slot = 3, .generation = 7, .owner_uid = 0 };
	char dir[64];

	tmpfs_dir(dir, sizeof(dir));
	cr_assert_eq(journal_open(dir, &live, &scan, &j), 0);
	journal_live_fini(&live);
	cr_assert(j->in_memory);
	cr_assert_eq(journal_room(j, 0), 0);
	strcpy(l.vm, "vm-kill");
	strcpy(l.vnic, "nic0");
	strcpy(l.network, "red");
	strcpy(l.pci, "0000:03:00.1");
	cr_assert_eq(journal_stage_gen(j, 1024), 0);
	cr_assert_eq(journal_stage_add(j, &l), 0);
	/* the daemon dies here: no append, no close (the mapping's pages are the file's) */
	{
		struct journal *again;

		cr_assert_eq(journal_open(dir, &live, &scan, &again), 0);
		cr_assert_eq(live.n, 1u, "the staged lease is in the file");
		cr_assert_str_eq(live.leases[0].vm, "vm-kill");
		journal_live_fini(&live);
		journal_close(again);
	}
	journal_close(j);
	state_dir_remove(dir);
}
