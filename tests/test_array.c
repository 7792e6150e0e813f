/* SPDX-License-Identifier: MIT */
/* Growing arrays (core/base/array.h): doubling from the first capacity, contents kept,
 * and a refusal that leaves the array and its capacity as they were. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/base/array.h"

Test(array, grows_by_doubling_from_first_and_keeps_the_contents)
{
	int *a = NULL;
	size_t cap = 0;

	for (int i = 0; i < 100; i++) {
		cr_assert_eq(array_reserve(a, cap, (size_t)i + 1, 8), 0);
		a[i] = i;
		/* 8, 16, 32, 64, 128: the first capacity doubled until i + 1 fits */
		cr_expect_eq(cap, i < 8 ? 8u : i < 16 ? 16u : i < 32 ? 32u : i < 64 ? 64u : 128u,
			     "%d elements: capacity %zu", i + 1, cap);
	}
	for (int i = 0; i < 100; i++)
		cr_expect_eq(a[i], i);
	free(a);
}

Test(array, room_enough_is_left_alone)
{
	uint32_t cap = 0;
	char *a = NULL, *before;

	cr_assert_eq(array_reserve(a, cap, 10, 64), 0);
	cr_expect_eq(cap, 64);
	before = a;
	cr_assert_eq(array_reserve(a, cap, 64, 64), 0);
	cr_expect_eq(a, before);
	cr_expect_eq(cap, 64);
	cr_assert_eq(array_reserve(a, cap, 0, 64), 0);
	cr_expect_eq(cap, 64);
	free(a);
}

Test(array, one_large_need_is_met_at_once)
{
	uint64_t *a = NULL;
	size_t cap = 0;

	cr_assert_eq(array_reserve(a, cap, 1000, 16), 0);
	cr_expect_eq(cap, 1024); /* 16 doubled six times */
	a[999] = 1;
	cr_assert_eq(array_reserve(a, cap, 1025, 16), 0);
	cr_expect_eq(cap, 2048);
	free(a);
}

Test(array, capacity_stops_at_what_its_type_holds)
{
	uint8_t cap = 0;
	short *a = NULL, *before;

	cr_assert_eq(array_reserve(a, cap, 200, 16), 0);
	cr_expect_eq(cap, 255, "16, 32, 64, 128, then UINT8_MAX rather than 256: %u", cap);
	before = a;
	cr_expect_eq(array_reserve(a, cap, 256, 16), -ENOMEM);
	cr_expect_eq(a, before);
	cr_expect_eq(cap, 255);
	free(a);
}

Test(array, a_size_past_size_max_is_refused_untouched)
{
	struct big {
		char page[4096];
	} *a = NULL;
	size_t cap = 0;

	cr_assert_eq(array_reserve(a, cap, 1, 1), 0);
	cr_expect_eq(cap, 1);
	a[0].page[0] = 'x';
	cr_expect_eq(array_reserve(a, cap, SIZE_MAX / 2, 1), -ENOMEM); /* * 4096 overflows */
	cr_expect_eq(cap, 1);
	cr_expect_eq(a[0].page[0], 'x');
	free(a);
}
