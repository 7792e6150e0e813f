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
