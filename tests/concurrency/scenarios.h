/* SPDX-License-Identifier: MIT */
#ifndef VFPOOL_TESTS_CONCURRENCY_SCENARIOS_H
#define VFPOOL_TESTS_CONCURRENCY_SCENARIOS_H

#include <stddef.h>

/* Each returns 0 when its invariant held, or -1 with why filled in. */
int conc_no_vf_handed_out_twice(char *why, size_t why_len);
int conc_blocked_slot_never_returned(char *why, size_t why_len);
int conc_snapshot_consistent(char *why, size_t why_len);

struct conc_scenario {
	const char *name;
	int (*run)(char *why, size_t why_len);
};

static const struct conc_scenario conc_scenarios[] = {
	{ "no_vf_handed_out_twice", conc_no_vf_handed_out_twice },
	{ "blocked_slot_never_returned", conc_blocked_slot_never_returned },
	{ "snapshot_consistent", conc_snapshot_consistent },
};

#endif
