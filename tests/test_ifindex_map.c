/* SPDX-License-Identifier: MIT */
/* ifindex_map against a plain array model: inserts, replaces and backward-shift deletes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "bpf/ifindex_map.h"

Test(ifindex_map, matches_a_model_under_random_puts_and_deletes)
{
	enum { N = 3000 };
	static uint32_t model[N]; /* 0: absent, else value + 1 */
	struct ifindex_map m = { 0 };
	unsigned seed = 12345;

	for (int step = 0; step < 200000; step++) {
		int k = 1 + (int)(rand_r(&seed) % (N - 1));
		uint32_t v;

		if (rand_r(&seed) % 3) {
			v = (uint32_t)rand_r(&seed);
			cr_assert_eq(ifindex_map_put(&m, k, v), 0);
			model[k] = v + 1;
		} else {
			int r = ifindex_map_del(&m, k);

			cr_assert_eq(r, model[k] ? 0 : -ENOENT, "delete %d", k);
			model[k] = 0;
		}
	}
	size_t n = 0;
	for (int k = 1; k < N; k++) {
		uint32_t v = 0;
		bool has = ifindex_map_get(&m, k, &v);

		cr_assert_eq(has, model[k] != 0, "key %d", k);
		if (has)
			cr_assert_eq(v + 1, model[k], "value of %d", k);
		n += has;
	}
	cr_assert_eq(m.n, n);
	ifindex_map_free(&m);
}

Test(ifindex_map, refuses_non_positive_ifindex)
{
	struct ifindex_map m = { 0 };

	cr_assert_eq(ifindex_map_put(&m, 0, 1), -EINVAL);
	cr_assert_eq(ifindex_map_put(&m, -4, 1), -EINVAL);
	cr_assert(!ifindex_map_get(&m, 0, NULL));
	cr_assert_eq(ifindex_map_del(&m, 5), -ENOENT);
	ifindex_map_free(&m);
}
