/* SPDX-License-Identifier: MIT */
/* Placement of a VM's vNICs on PFs (core/model/placement.h): cases as data, then every
 * small problem solved both by the matcher and by brute force. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/model/placement.h"

#define NODE_NONE -1

/* A case: items as strings of eligible bins ("01": bins 0 and 1), '?' first: optional. */
struct placement_case {
	const char *name;
	unsigned n_bins;
	uint32_t capacity[4];
	int32_t numa[4];
	const char *items[6];
	int32_t item_numa[6]; /* 0: none (the table's zero), else node + 1 */
	enum placement_mode mode;
	int want_res;
	int32_t want_bin[6]; /* -2: any valid bin; -1: unplaced */
	unsigned want_failed;
};

static void build(const struct placement_case *c, struct placement *p)
{
	memset(p, 0, sizeof(*p));
	p->n_bins = c->n_bins;
	for (unsigned b = 0; b < c->n_bins; b++) {
		p->capacity[b] = c->capacity[b];
		p->numa[b] = c->numa[b];
	}
	for (unsigned i = 0; i < 6 && c->items[i]; i++) {
		struct placement_item *it = &p->items[p->n_items++];
		const char *s = c->items[i];

		it->numa_node = c->item_numa[i] ? c->item_numa[i] - 1 : NODE_NONE;
		it->mode = c->mode;
		if (*s == '?') {
			it->optional = true;
			s++;
		}
		for (; *s; s++)
			pf_set_add(&it->eligible, (uint32_t)(*s - '0'));
	}
}

static const struct placement_case table[] = {
	{ .name = "a vNIC listed first does not take the only VF another can use",
	  .n_bins = 2, .capacity = { 1, 1 }, .items = { "01", "0" },
	  .want_bin = { 1, 0 } },
	{ .name = "greedy's NUMA choice is undone when it strands another vNIC",
	  .n_bins = 3, .capacity = { 1, 1, 1 }, .numa = { 0, 1, 0 }, .items = { "01", "12", "12" },
	  .item_numa = { 2, 0, 0 }, .want_bin = { 0, -2, -2 } },
	{ .name = "spread puts a VM's vNICs on different PFs",
	  .n_bins = 2, .capacity = { 4, 4 }, .items = { "01", "01" }, .want_bin = { -2, -2 } },
	{ .name = "pack fills the PF with fewest free VFs first",
	  .n_bins = 2, .capacity = { 4, 2 }, .items = { "01", "01" }, .mode = PLACEMENT_PACK,
	  .want_bin = { 1, 1 } },
	{ .name = "spread takes the PF with most free VFs",
	  .n_bins = 2, .capacity = { 2, 5 }, .items = { "01" }, .want_bin = { 1 } },
	{ .name = "NUMA node preferred over spread",
	  .n_bins = 2, .capacity = { 1, 5 }, .numa = { 1, 0 }, .items = { "01" },
	  .item_numa = { 2 }, .want_bin = { 0 } },
	{ .name = "no placement names the first vNIC that cannot have a VF",
	  .n_bins = 2, .capacity = { 1, 0 }, .items = { "01", "0", "1" }, .want_res = -ENOSPC,
	  .want_failed = 1 },
	{ .name = "an optional vNIC never costs a mandatory one its VF",
	  .n_bins = 1, .capacity = { 1 }, .items = { "?0", "0" }, .want_bin = { -1, 0 } },
	{ .name = "an optional vNIC takes what is left",
	  .n_bins = 2, .capacity = { 1, 1 }, .items = { "?01", "0" }, .want_bin = { 1, 0 } },
	{ .name = "nothing to place is a placement",
	  .n_bins = 1, .capacity = { 0 }, .items = { NULL } },
	{ .name = "a vNIC allowed nowhere fails even with VFs free",
	  .n_bins = 2, .capacity = { 3, 3 }, .items = { "" }, .want_res = -ENOSPC },
};

/* Each item on a bin it may use; no bin over capacity. */
static void assert_valid(const struct placement *p, const int32_t *bin, const char *name)
{
	uint32_t used[PLACEMENT_MAX_BINS] = { 0 };

	for (unsigned i = 0; i < p->n_items; i++) {
		if (bin[i] < 0) {
			cr_assert(p->items[i].optional, "%s: mandatory item %u unplaced", name, i);
			continue;
		}
		cr_assert(pf_set_has(&p->items[i].eligible, (uint32_t)bin[i]),
			  "%s: item %u on bin %d it may not use", name, i, bin[i]);
		used[bin[i]]++;
	}
	for (unsigned b = 0; b < p->n_bins; b++)
		cr_assert_leq(used[b], p->capacity[b], "%s: bin %u over capacity", name, b);
}

Test(placement, cases_from_the_table)
{
	for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
		const struct placement_case *c = &table[k];
		struct placement p;
		int32_t bin[PLACEMENT_MAX_ITEMS];
		unsigned failed = 99;
		int r;

		build(c, &p);
		r = placement_solve(&p, bin, &failed);
		if (r > 0)
			r = 0; /* placed, some through an augmenting path */
		cr_assert_eq(r, c->want_res, "%s: %d", c->name, r);
		if (r) {
			cr_assert_eq(failed, c->want_failed, "%s: failed %u", c->name, failed);
			continue;
		}
		assert_valid(&p, bin, c->name);
		for (unsigned i = 0; i < p.n_items; i++)
			if (c->want_bin[i] != -2)
				cr_assert_eq(bin[i], c->want_bin[i], "%s: item %u on %d", c->name, i,
					     bin[i]);
		if (strstr(c->name, "different PFs"))
			cr_assert_neq(bin[0], bin[1], "%s", c->name);
	}
}

Test(placement, rotor_takes_turns_among_equal_pfs)
{
	struct placement p = { .n_items = 1, .n_bins = 3, .capacity = { 2, 2, 2 } };
	int32_t bin[1];
	unsigned failed;

	p.items[0].numa_node = NODE_NONE;
	pf_set_fill(&p.items[0].eligible, 3);
	for (uint32_t r = 0; r < 6; r++) {
		p.rotor = r;
		cr_assert_eq(placement_solve(&p, bin, &failed), 0);
		cr_assert_eq(bin[0], (int32_t)(r % 3));
	}
}

Test(placement, counts_out_of_range_are_einval)
{
	struct placement p = { .n_items = PLACEMENT_MAX_ITEMS + 1, .n_bins = 1 };
	int32_t bin[PLACEMENT_MAX_ITEMS + 1];
	unsigned failed;

	cr_assert_eq(placement_solve(&p, bin, &failed), -EINVAL);
	p = (struct placement){ .n_items = 1, .n_bins = 0 };
	cr_assert_eq(placement_solve(&p, bin, &failed), -EINVAL);
}

Test(placement, mode_names_parse_back)
{
	enum placement_mode m;

	cr_assert_eq(placement_parse_mode("spread", &m), 0);
	cr_assert_eq(m, PLACEMENT_SPREAD);
	cr_assert_eq(placement_parse_mode("pack", &m), 0);
	cr_assert_eq(m, PLACEMENT_PACK);
	cr_assert_str_eq(placement_mode_name(PLACEMENT_PACK), "pack");
	cr_assert_eq(placement_parse_mode("fill", &m), -EINVAL);
}

/* ---- brute force: every small problem ------------------------------------------------ */

/* The most optional items any valid assignment with every mandatory item placed has,
 * or -1 when no assignment places every mandatory item. */
static int brute_force(const struct placement *p, unsigned item, uint32_t *left)
{
	int best = -1;

	if (item == p->n_items)
		return 0;
	if (p->items[item].optional) {
		int r = brute_force(p, item + 1, left);

		best = r;
	}
	for (unsigned b = 0; b < p->n_bins; b++) {
		int r;

		if (!pf_set_has(&p->items[item].eligible, b) || !left[b])
			continue;
		left[b]--;
		r = brute_force(p, item + 1, left);
		left[b]++;
		if (r >= 0 && r + (int)p->items[item].optional > best)
			best = r + (int)p->items[item].optional;
	}
	return best;
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* Problem number x of n items on n_bins bins: capacities 0..2 (base 3), then per item its
 * eligible set, optional flag and mode (bits); NUMA preferences by item number. */
static void small_case(struct placement *p, unsigned n, unsigned n_bins, uint32_t x)
{
	memset(p, 0, sizeof(*p));
	p->n_items = n;
	p->n_bins = n_bins;
	for (unsigned b = 0; b < n_bins; b++) {
		p->capacity[b] = x % 3;
		x /= 3;
		p->numa[b] = (int32_t)(b % 2);
	}
	for (unsigned i = 0; i < n; i++) {
		p->items[i].eligible.bits[0] = x % (1u << n_bins);
		x >>= n_bins;
		p->items[i].optional = x & 1;
		x >>= 1;
		p->items[i].numa_node = (int32_t)(i % 3) - 1;
		p->items[i].mode = (enum placement_mode)(x & 1);
		x >>= 1;
	}
	p->rotor = x;
}

static void check_against_brute_force(const struct placement *p, unsigned *ret_augmented)
{
	uint32_t left[PLACEMENT_MAX_BINS];
	int32_t bin[PLACEMENT_MAX_ITEMS];
	unsigned failed = 99;
	int want, r, placed = 0;

	memcpy(left, p->capacity, sizeof(left));
	want = brute_force(p, 0, left);
	r = placement_solve(p, bin, &failed);
	if (want < 0) {
		cr_assert_eq(r, -ENOSPC, "matcher placed what brute force cannot");
		cr_assert(failed < p->n_items && !p->items[failed].optional);
		cr_assert_eq(bin[failed], -1);
		for (unsigned i = 0; i < p->n_items; i++) {
			if (bin[i] < 0)
				continue;
			cr_assert(pf_set_has(&p->items[i].eligible, (uint32_t)bin[i]));
			left[bin[i]]++; /* brute force gave back what it took: count use */
		}
		for (unsigned b = 0; b < p->n_bins; b++)
			cr_assert_leq(left[b], 2 * p->capacity[b], "bin %u over capacity", b);
		return;
	}
	cr_assert_geq(r, 0, "a placement exists; matcher failed on item %u", failed);
	assert_valid(p, bin, "brute force case");
	for (unsigned i = 0; i < p->n_items; i++)
		placed += p->items[i].optional && bin[i] >= 0;
	cr_assert_eq(placed, want, "optional items placed: %d, possible: %d", placed, want);
	if (r > 0)
		(*ret_augmented)++;
}

Test(placement, every_small_problem_solved_as_brute_force_does, .timeout = 120)
{
	unsigned cases = 0, feasible = 0, moved = 0;

	/* every problem of up to 3 items on up to 3 bins */
	for (unsigned n = 1; n <= 3; n++) {
		for (unsigned n_bins = 1; n_bins <= 3; n_bins++) {
			uint32_t caps = 1;
			uint64_t all;

			for (unsigned b = 0; b < n_bins; b++)
				caps *= 3;
			all = (uint64_t)caps << (n * (n_bins + 2));
			for (uint64_t x = 0; x < all; x++) {
				struct placement p;

				small_case(&p, n, n_bins, (uint32_t)x);
				check_against_brute_force(&p, &moved);
				cases++;
			}
		}
	}
	/* and a sample of bigger ones: 4..6 items on 4 bins */
	uint32_t seed = 14;

	for (unsigned k = 0; k < 30000; k++) {
		struct placement p;
		unsigned n = 4 + lcg(&seed) % 3;

		memset(&p, 0, sizeof(p));
		p.n_items = n;
		p.n_bins = 4;
		for (unsigned b = 0; b < 4; b++) {
			p.capacity[b] = lcg(&seed) % 3;
			p.numa[b] = (int32_t)(b % 2);
		}
		for (unsigned i = 0; i < n; i++) {
			p.items[i].eligible.bits[0] = lcg(&seed) % 16;
			p.items[i].optional = lcg(&seed) % 4 == 0;
			p.items[i].numa_node = (int32_t)(lcg(&seed) % 3) - 1;
			p.items[i].mode = (enum placement_mode)(lcg(&seed) % 2);
		}
		p.rotor = lcg(&seed);
		{
			uint32_t left[PLACEMENT_MAX_BINS];

			memcpy(left, p.capacity, sizeof(left));
			feasible += brute_force(&p, 0, left) >= 0;
		}
		check_against_brute_force(&p, &moved);
		cases++;
	}
	cr_assert_gt(feasible, 1000u, "the sample has feasible problems (%u)", feasible);
	cr_assert_gt(moved, 0u, "some problems needed an augmenting path");
	cr_log_info("%u problems, %u needed an augmenting path", cases, moved);
}
