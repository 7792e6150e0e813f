/* SPDX-License-Identifier: MIT */
/* Client slot admission (core/conn_admit.c) on its own: one test per limit. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/conn_admit.h"

static enum conn_admit_verdict take(struct conn_admit *a, uid_t uid, bool privileged,
				    char *why, size_t len)
{
	bool log;

	return conn_admit_take(a, uid, privileged, why, len, &log);
}

Test(conn_admit, defaults_are_a_quarter_per_uid_and_a_few_reserved_slots)
{
	static const struct { uint32_t max, per_uid, reserved; } want[] = {
		{ 256, 64, 16 }, { 1024, 256, 64 }, { 64, 16, 4 }, { 16, 4, 4 },
		{ 8, 2, 4 }, { 3, 1, 1 }, { 1, 1, 0 }, { 65536, 16384, 4096 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(conn_admit_default_per_uid(want[i].max), want[i].per_uid, "max %u",
			     want[i].max);
		cr_assert_eq(conn_admit_default_reserved(want[i].max), want[i].reserved, "max %u",
			     want[i].max);
	}
}

Test(conn_admit, a_uid_is_refused_at_exactly_its_cap_naming_the_flag)
{
	struct conn_admit a;
	char why[96];

	cr_assert_eq(conn_admit_init(&a, 256, 64, 16), 0);
	for (int i = 0; i < 64; i++)
		cr_assert_eq(take(&a, 1000, false, why, sizeof(why)), CONN_ADMIT_OK, "conn %d", i);
	cr_assert_eq(take(&a, 1000, false, why, sizeof(why)), CONN_ADMIT_UID_CAP);
	cr_assert_str_eq(why, "uid 1000 has 64 connections (--max-clients-per-uid 64)");
	/* another uid is not affected, and a freed slot is the capped uid's again */
	cr_assert_eq(take(&a, 1001, false, why, sizeof(why)), CONN_ADMIT_OK);
	conn_admit_put(&a, 1000);
	cr_assert_eq(conn_admit_held(&a, 1000), 63u);
	cr_assert_eq(take(&a, 1000, false, why, sizeof(why)), CONN_ADMIT_OK);
	conn_admit_fini(&a);
}

Test(conn_admit, root_is_not_capped_per_uid)
{
	struct conn_admit a;
	char why[96];

	cr_assert_eq(conn_admit_init(&a, 16, 2, 4), 0);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(take(&a, 0, true, why, sizeof(why)), CONN_ADMIT_OK, "conn %d", i);
	cr_assert_eq(take(&a, 0, true, why, sizeof(why)), CONN_ADMIT_FULL);
	cr_assert_str_eq(why, "all 16 client slots are taken (--max-clients 16)");
	conn_admit_fini(&a);
}

Test(conn_admit, reserved_slots_are_only_for_privileged_peers)
{
	struct conn_admit a;
	char why[96];

	cr_assert_eq(conn_admit_init(&a, 8, 8, 3), 0);
	for (uid_t u = 0; u < 5; u++)
		cr_assert_eq(take(&a, 2000 + u, false, why, sizeof(why)), CONN_ADMIT_OK);
	cr_assert_eq(take(&a, 2100, false, why, sizeof(why)), CONN_ADMIT_RESERVED);
	cr_assert_str_eq(why, "the last 3 of 8 slots are kept for root and the admin group "
			      "(--reserved-clients 3)");
	/* an admin-group member (not root: still capped per uid) and root get them */
	cr_assert_eq(take(&a, 3000, true, why, sizeof(why)), CONN_ADMIT_OK);
	cr_assert_eq(take(&a, 0, true, why, sizeof(why)), CONN_ADMIT_OK);
	cr_assert_eq(take(&a, 0, true, why, sizeof(why)), CONN_ADMIT_OK);
	cr_assert_eq(take(&a, 0, true, why, sizeof(why)), CONN_ADMIT_FULL);
	conn_admit_fini(&a);
}

Test(conn_admit, an_admin_group_member_is_still_capped_per_uid)
{
	struct conn_admit a;
	char why[96];

	cr_assert_eq(conn_admit_init(&a, 16, 2, 4), 0);
	cr_assert_eq(take(&a, 3000, true, why, sizeof(why)), CONN_ADMIT_OK);
	cr_assert_eq(take(&a, 3000, true, why, sizeof(why)), CONN_ADMIT_OK);
	cr_assert_eq(take(&a, 3000, true, why, sizeof(why)), CONN_ADMIT_UID_CAP);
	conn_admit_fini(&a);
}

Test(conn_admit, a_run_of_refusals_is_logged_once_and_counted_whole)
{
	struct conn_admit a;
	char why[96];
	bool log;

	cr_assert_eq(conn_admit_init(&a, 16, 1, 4), 0);
	cr_assert_eq(conn_admit_take(&a, 1000, false, why, sizeof(why), &log), CONN_ADMIT_OK);
	cr_assert_eq(conn_admit_take(&a, 1000, false, why, sizeof(why), &log), CONN_ADMIT_UID_CAP);
	cr_assert(log, "the first refusal of a run is logged");
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(conn_admit_take(&a, 1000, false, why, sizeof(why), &log),
			     CONN_ADMIT_UID_CAP);
		cr_assert_not(log, "refusal %d of the same run logged again", i);
	}
	/* another uid's run is its own */
	cr_assert_eq(conn_admit_take(&a, 1001, false, why, sizeof(why), &log), CONN_ADMIT_OK);
	cr_assert_eq(conn_admit_take(&a, 1001, false, why, sizeof(why), &log), CONN_ADMIT_UID_CAP);
	cr_assert(log);
	cr_assert_eq(a.refused[CONN_ADMIT_UID_CAP], 7u);
	/* the uid frees a slot: the run is over, the next refusal is news */
	conn_admit_put(&a, 1000);
	cr_assert_eq(conn_admit_take(&a, 1000, false, why, sizeof(why), &log), CONN_ADMIT_OK);
	cr_assert_eq(conn_admit_take(&a, 1000, false, why, sizeof(why), &log), CONN_ADMIT_UID_CAP);
	cr_assert(log);
	conn_admit_fini(&a);
}

Test(conn_admit, bad_limits_are_refused)
{
	struct conn_admit a;

	cr_assert_eq(conn_admit_init(&a, 0, 1, 0), -EINVAL);
	cr_assert_eq(conn_admit_init(&a, 8, 0, 0), -EINVAL);
	cr_assert_eq(conn_admit_init(&a, 8, 1, 9), -EINVAL);
	/* a cap above the slots is the slots */
	cr_assert_eq(conn_admit_init(&a, 8, 100, 8), 0);
	cr_assert_eq(a.per_uid, 8u);
	conn_admit_fini(&a);
}

/* The per-uid counts against a plain array under a long random mix of takes and puts by
 * many uids that collide in the table: deletions must never hide another uid's count. */
Test(conn_admit, per_uid_counts_match_a_reference_model_through_churn)
{
	enum { UIDS = 300, MAX = 256 };
	static uint32_t model[UIDS];
	struct conn_admit a;
	uint32_t used = 0, x = 12345;
	char why[96];

	cr_assert_eq(conn_admit_init(&a, MAX, 3, 0), 0);
	for (int step = 0; step < 200000; step++) {
		uint32_t u;

		x = x * 1103515245u + 12345u;
		u = (x >> 8) % UIDS;
		if ((x >> 24) & 1) {
			enum conn_admit_verdict want = CONN_ADMIT_OK;

			if (used >= MAX)
				want = CONN_ADMIT_FULL;
			else if (model[u] >= 3 && u != 0)
				want = CONN_ADMIT_UID_CAP;

			cr_assert_eq(take(&a, (uid_t)u, u == 0, why, sizeof(why)), want,
				     "step %d uid %u", step, u);
			if (want == CONN_ADMIT_OK) {
				model[u]++;
				used++;
			}
		} else if (model[u]) {
			conn_admit_put(&a, (uid_t)u);
			model[u]--;
			used--;
		}
		if (step % 997 == 0)
			for (uint32_t k = 0; k < UIDS; k++)
				cr_assert_eq(conn_admit_held(&a, (uid_t)k), model[k],
					     "step %d uid %u", step, k);
	}
	cr_assert_eq(a.used, used);
	conn_admit_fini(&a);
}
