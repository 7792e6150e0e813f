/* SPDX-License-Identifier: MIT */
/* SPSC ring cursors: empty, full, wrap-around of the free-running indices, hostile
 * indices. */
#include <criterion/criterion.h>
#include <errno.h>

#include "shm/layout.h"
#include "shm/ring.h"

struct two_lines {
	struct vfpool_ring_index tail, head;
};

static void setup(struct two_lines *l, struct ring_prod *p, struct ring_cons *c, uint32_t n,
		  uint32_t start)
{
	atomic_init(&l->tail.v, start);
	atomic_init(&l->head.v, start);
	ring_prod_init(p, &l->tail.v, &l->head.v, n, start);
	ring_cons_init(c, &l->head.v, &l->tail.v, n, start);
}

Test(ring, empty_ring_has_nothing_to_consume_and_full_space)
{
	struct two_lines l;
	struct ring_prod p;
	struct ring_cons c;

	setup(&l, &p, &c, 8, 0);
	cr_assert_eq(ring_cons_avail(&c), 0);
	cr_assert_eq(ring_prod_space(&p), 8);
}

Test(ring, full_ring_has_no_space_until_consumed)
{
	struct two_lines l;
	struct ring_prod p;
	struct ring_cons c;

	setup(&l, &p, &c, 8, 0);
	ring_prod_publish(&p, 8);
	cr_assert_eq(ring_prod_space(&p), 0);
	cr_assert_eq(ring_cons_avail(&c), 8);
	ring_cons_consume(&c, 3);
	cr_assert_eq(ring_prod_space(&p), 3);
}

Test(ring, indices_wrap_past_uint32_max)
{
	struct two_lines l;
	struct ring_prod p;
	struct ring_cons c;
	uint32_t values[8];

	setup(&l, &p, &c, 8, UINT32_MAX - 2);
	for (uint32_t i = 0; i < 6; i++) {
		values[ring_prod_slot(&p, 0)] = 100 + i;
		ring_prod_publish(&p, 1);
	}
	cr_assert_eq(atomic_load(&l.tail.v), 3u, "tail wrapped to 3");
	cr_assert_eq(ring_cons_avail(&c), 6);
	for (uint32_t i = 0; i < 6; i++) {
		cr_assert_eq(values[ring_cons_slot(&c, 0)], 100 + i);
		ring_cons_consume(&c, 1);
	}
	cr_assert_eq(ring_cons_avail(&c), 0);
	cr_assert_eq(ring_prod_space(&p), 8);
}

Test(ring, producer_tail_beyond_capacity_is_a_protocol_violation)
{
	struct two_lines l;
	struct ring_prod p;
	struct ring_cons c;

	setup(&l, &p, &c, 8, 0);
	atomic_store(&l.tail.v, 9); /* a hostile client claims 9 entries in an 8-entry ring */
	cr_assert_eq(ring_cons_avail(&c), -EPROTO);
	atomic_store(&l.tail.v, UINT32_MAX); /* or moves backwards */
	cr_assert_eq(ring_cons_avail(&c), -EPROTO);
}

Test(ring, consumer_head_beyond_tail_is_a_protocol_violation)
{
	struct two_lines l;
	struct ring_prod p;
	struct ring_cons c;

	setup(&l, &p, &c, 8, 0);
	ring_prod_publish(&p, 2);
	atomic_store(&l.head.v, 5); /* consumer claims to have read entries never written */
	cr_assert_eq(ring_prod_space(&p), -EPROTO);
}
