/* SPDX-License-Identifier: MIT */
/* The daemon serving one client's ring, on malloc'd memory: hostile entries get error
 * completions, good ones in the same batch are served, bad indices are caught. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ring_rig.h"

Test(client_ring, hostile_entries_fail_alone_and_good_ones_are_served)
{
	struct ring_rig g;

	ring_rig_setup(&g, 8);
	put_alloc(client_sqe(&g, 0), 1, "vm1", "nic0");
	put_alloc(client_sqe(&g, 1), 2, "vm1", "nic1");
	client_sqe(&g, 1)->opcode = 0xbeef;                         /* bad opcode */
	put_alloc(client_sqe(&g, 2), 3, "vm1", "nic2");
	memset(client_sqe(&g, 2)->vm_id, 'x', VFPOOL_VM_ID_MAX);    /* unterminated */
	put_alloc(client_sqe(&g, 3), 4, "vm1", "nic3");
	ring_prod_publish(&g.sq, 4);

	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 4);
	cr_assert_eq(ring_cons_avail(&g.cq), 4);
	cr_assert_eq(client_cqe(&g, 0)->user_data, 1u);
	cr_assert_eq(client_cqe(&g, 0)->res, 0);
	cr_assert_eq(client_cqe(&g, 1)->user_data, 2u);
	cr_assert_eq(client_cqe(&g, 1)->res, -EOPNOTSUPP);
	cr_assert_str_eq(client_cqe(&g, 1)->message, "request rejected: unknown opcode");
	cr_assert_eq(client_cqe(&g, 2)->res, -EINVAL);
	cr_assert_str_eq(client_cqe(&g, 2)->message, "request rejected: vm_id not NUL-terminated");
	cr_assert_eq(client_cqe(&g, 3)->res, 0);
	ring_rig_teardown(&g);
}

Test(client_ring, tail_out_of_range_is_a_violation_and_nothing_is_served)
{
	struct ring_rig g;

	ring_rig_setup(&g, 8);
	put_alloc(client_sqe(&g, 0), 1, "vm1", "nic0");
	atomic_store(&((struct vfpool_ring_hdr *)g.ring_mem)->sq_tail.v, 1000);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), -EPROTO);
	cr_assert(g.r.violated);
	cr_assert_eq(lease_index_count(g.e.leases), 0u);
	ring_rig_teardown(&g);
}

Test(client_ring, a_client_that_never_reaps_only_stalls_itself)
{
	struct ring_rig g;

	ring_rig_setup(&g, 8);
	for (uint32_t i = 0; i < 8; i++) {
		char vnic[16];

		snprintf(vnic, sizeof(vnic), "nic%u", i);
		put_alloc(client_sqe(&g, i), i, "vm1", vnic);
	}
	ring_prod_publish(&g.sq, 8);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 8);
	/* 8 more requests, completion ring still full: nothing is served, nothing lost */
	for (uint32_t i = 0; i < 8; i++) {
		char vnic[16];

		snprintf(vnic, sizeof(vnic), "nic%u", 8 + i);
		put_alloc(client_sqe(&g, i), 8 + i, "vm1", vnic);
	}
	ring_prod_publish(&g.sq, 8);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 0);
	cr_assert_eq(client_ring_pending(&g.r), 8);
	ring_cons_consume(&g.cq, 3); /* the client reaps three */
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 3);
	cr_assert_eq(client_ring_pending(&g.r), 5);
	ring_rig_teardown(&g);
}

Test(client_ring, batch_limit_bounds_one_pass)
{
	struct ring_rig g;

	ring_rig_setup(&g, 128);
	for (uint32_t i = 0; i < 100; i++) {
		char vnic[16];

		snprintf(vnic, sizeof(vnic), "nic%u", i);
		put_alloc(client_sqe(&g, i), i, i < 60 ? "vm1" : "vm2", vnic);
	}
	ring_prod_publish(&g.sq, 100);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 64);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 36);
	ring_rig_teardown(&g);
}

Test(client_ring, sleeping_daemon_refuses_to_sleep_when_requests_wait)
{
	struct ring_rig g;

	ring_rig_setup(&g, 8);
	cr_assert_geq(client_ring_prepare_sleep(&g.r), 0);
	cr_assert_eq(atomic_load(&((struct vfpool_ring_hdr *)g.ring_mem)->sq_wakeup.v), 1u);
	client_ring_awake(&g.r);
	put_alloc(client_sqe(&g, 0), 1, "vm1", "nic0");
	ring_prod_publish(&g.sq, 1);
	cr_assert_eq(client_ring_prepare_sleep(&g.r), -EAGAIN);
	cr_assert_eq(atomic_load(&((struct vfpool_ring_hdr *)g.ring_mem)->sq_wakeup.v), 0u);
	ring_rig_teardown(&g);
}

static uint64_t latency_samples(const struct ring_rig *g)
{
	uint64_t n = 0;

	for (unsigned b = 0; b < VFPOOL_LAT_BUCKETS; b++)
		n += atomic_load(&g->e.hdr->latency_buckets[b]);
	return n;
}

/* Publishes n releases of leases nobody holds, serves them, reaps their completions. */
static void serve_releases(struct ring_rig *g, uint32_t n)
{
	while (n) {
		uint32_t k = n < 8 ? n : 8;

		for (uint32_t i = 0; i < k; i++) {
			put_alloc(client_sqe(g, i), i, "vm9", "nic0");
			client_sqe(g, i)->opcode = VFPOOL_OP_RELEASE;
		}
		ring_prod_publish(&g->sq, k);
		cr_assert_eq(client_ring_serve(&g->r, &g->e, NULL, 64), (int)k);
		cr_assert_eq(ring_cons_avail(&g->cq), (int64_t)k);
		ring_cons_consume(&g->cq, k);
		n -= k;
	}
}

Test(client_ring, every_64th_request_is_timed_and_a_chain_counts_its_entries)
{
	struct ring_rig g;

	ring_rig_setup(&g, 8);
	serve_releases(&g, 63);
	cr_assert_eq(latency_samples(&g), 0u, "63 requests: none is the 64th");
	/* a chain of two: its second entry is the 64th request */
	put_alloc(client_sqe(&g, 0), 1, "vm1", "nic0");
	client_sqe(&g, 0)->flags = VFPOOL_REQ_F_LINK;
	put_alloc(client_sqe(&g, 1), 2, "vm1", "nic1");
	ring_prod_publish(&g.sq, 2);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 2);
	ring_cons_consume(&g.cq, 2);
	cr_assert_eq(latency_samples(&g), 1u);
	serve_releases(&g, 63);
	cr_assert_eq(latency_samples(&g), 2u, "128 requests: two samples");
	cr_assert_eq(atomic_load(&g.e.hdr->requests), 128u);
	ring_rig_teardown(&g);
}

/* n allocs of one VM from entry 0 on, linked into one chain (link on all but the last, or on
 * every one with open_end: its end not written yet); early: each asks for two completions. */
static void put_chain(struct ring_rig *g, uint32_t n, bool early, bool open_end)
{
	for (uint32_t i = 0; i < n; i++) {
		char vnic[16];

		snprintf(vnic, sizeof(vnic), "nic%u", i);
		put_alloc(client_sqe(g, i), 100 + i, "vm1", vnic);
		if (i + 1 < n || open_end)
			client_sqe(g, i)->flags |= VFPOOL_REQ_F_LINK;
		if (early)
			client_sqe(g, i)->flags |= VFPOOL_REQ_F_EARLY;
	}
	ring_prod_publish(&g->sq, n);
}

static uint32_t sq_wakeup(const struct ring_rig *g)
{
	return atomic_load(&((struct vfpool_ring_hdr *)g->ring_mem)->sq_wakeup.v);
}

/* Regression (issue 12, defect 7): a chain longer than the completion ring never fitted,
 * was never served, and counted as work, so the loop never slept (one full CPU for as
 * long as the client stayed). Now the client is refused, with the reason to log. */
Test(client_ring, chain_longer_than_the_completion_ring_is_refused)
{
	struct ring_rig g;

	ring_rig_setup_rings(&g, 16, 8);
	put_chain(&g, 9, false, false);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), -EMSGSIZE);
	cr_assert_str_eq(g.r.refused, "chain of 9 entries longer than the completion ring (8)");
	cr_assert_eq(lease_index_count(g.e.leases), 0u);
	cr_assert_eq(ring_cons_avail(&g.cq), 0);
	ring_rig_teardown(&g);
}

/* Early allocations need two completion slots each: five of them (ten slots) can never fit
 * an 8-entry completion ring, but one error completion each does. */
Test(client_ring, early_chain_that_can_never_fit_gets_an_error_completion_each)
{
	struct ring_rig g;

	ring_rig_setup(&g, 8);
	put_chain(&g, 5, true, false);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 5);
	cr_assert_eq(ring_cons_avail(&g.cq), 5);
	for (uint32_t i = 0; i < 5; i++) {
		cr_assert_eq(client_cqe(&g, i)->user_data, 100 + i);
		cr_assert_eq(client_cqe(&g, i)->res, -E2BIG, "%s", client_cqe(&g, i)->message);
		cr_assert_eq(client_cqe(&g, i)->flags, i ? VFPOOL_CQE_F_CHAIN : 0u);
	}
	cr_assert_str_eq(client_cqe(&g, 0)->message, "request rejected: chain of 5 entries needs "
			 "10 completion slots, the ring has 8");
	cr_assert_eq(lease_index_count(g.e.leases), 0u);
	cr_assert_geq(client_ring_prepare_sleep(&g.r), 0, "nothing left to serve");
	ring_rig_teardown(&g);
}

/* Regression (issue 12, defect 7): a chain that fits the completion ring, but not the room
 * the client left in it, counted as work while the client did not reap: a spin. It waits
 * for the client now, and is served once the client reaps. */
Test(client_ring, chain_waiting_for_completion_room_lets_the_loop_sleep)
{
	struct ring_rig g;

	ring_rig_setup(&g, 8);
	for (uint32_t i = 0; i < 4; i++) {
		memset(client_sqe(&g, i), 0, sizeof(struct vfpool_sqe)); /* NOPs */
		client_sqe(&g, i)->user_data = i;
	}
	ring_prod_publish(&g.sq, 4);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 4);
	put_chain(&g, 6, false, false); /* 6 completions, room for 4 */
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 0);
	cr_assert_geq(client_ring_prepare_sleep(&g.r), 0, "the chain waits on the client: no work");
	cr_assert_eq(sq_wakeup(&g), 1u);
	client_ring_awake(&g.r);
	ring_cons_consume(&g.cq, 4); /* the client reaps: now it is work */
	cr_assert_eq(client_ring_prepare_sleep(&g.r), -EAGAIN);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 6);
	cr_assert_eq(lease_index_count(g.e.leases), 6u);
	ring_rig_teardown(&g);
}

/* An unfinished chain that fills the whole request ring can never be ended by its client:
 * refused rather than left waiting forever. */
Test(client_ring, unfinished_chain_filling_the_request_ring_is_refused)
{
	struct ring_rig g;

	ring_rig_setup(&g, 8);
	put_chain(&g, 7, false, true);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 0, "its end may still come");
	cr_assert_geq(client_ring_prepare_sleep(&g.r), 0);
	client_ring_awake(&g.r);
	put_alloc(client_sqe(&g, 0), 107, "vm1", "nic7");
	client_sqe(&g, 0)->flags |= VFPOOL_REQ_F_LINK;
	ring_prod_publish(&g.sq, 1);
	cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), -EMSGSIZE);
	cr_assert_str_eq(g.r.refused, "chain longer than the request ring (8 entries)");
	ring_rig_teardown(&g);
}

/* A doorbell that tells nothing (no request published, nothing reaped since the wait was
 * armed) CLIENT_RING_IDLE_BELLS times in a row is a storm; one rung after publishing is
 * never counted. */
Test(client_ring, doorbell_rung_without_publishing_or_reaping_is_a_storm)
{
	struct ring_rig g;

	ring_rig_setup(&g, 8);
	for (int round = 0; round < 3; round++) {
		/* the loop's way: may it sleep, then arm the doorbell's wait */
		cr_assert_geq(client_ring_prepare_sleep(&g.r), 0);
		client_ring_bell_armed(&g.r);
		put_alloc(client_sqe(&g, 0), 1, "vm1", "nic0");
		ring_prod_publish(&g.sq, 1);
		cr_assert_not(client_ring_bell_rang(&g.r), "a doorbell after publishing");
		cr_assert_eq(client_ring_serve(&g.r, &g.e, NULL, 64), 1);
		ring_cons_consume(&g.cq, 1);
	}
	cr_assert_geq(client_ring_prepare_sleep(&g.r), 0);
	client_ring_bell_armed(&g.r);
	for (int i = 1; i < CLIENT_RING_IDLE_BELLS; i++)
		cr_assert_not(client_ring_bell_rang(&g.r), "ring %d of a storm", i);
	cr_assert(client_ring_bell_rang(&g.r), "the storm is not noticed");
	cr_assert_not(client_ring_bell_rang(&g.r), "after a rest the count starts again");
	ring_rig_teardown(&g);
}
