/* SPDX-License-Identifier: MIT */
/* The concurrency scenarios (tests/concurrency/) in the Criterion runs; under TSan the same
 * scenarios run in vfpool-stress. */
#include <criterion/criterion.h>

#include "tests/concurrency/scenarios.h"

#define SCENARIO_TEST(fn) \
	Test(concurrency, fn) \
	{ \
		char why[256] = ""; \
		cr_assert_eq(conc_##fn(why, sizeof(why)), 0, "%s", why); \
	}

SCENARIO_TEST(no_vf_handed_out_twice)
SCENARIO_TEST(blocked_slot_never_returned)
SCENARIO_TEST(snapshot_consistent)
