/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "core/model/placement.h"

struct solver {
	const struct placement *p;
	int32_t *bin;                          /* per item, -1: not placed */
	uint32_t left[PLACEMENT_MAX_BINS];     /* capacity not yet taken */
	uint32_t here[PLACEMENT_MAX_BINS];     /* the VM's VFs on the bin: held, and placed */
	uint8_t visited[PLACEMENT_MAX_BINS];   /* bins one augmenting search went through */
	uint16_t turn[PLACEMENT_MAX_BINS];     /* how far each bin is from the rotor */
};

static bool eligible(const struct solver *s, unsigned item, unsigned b)
{
	return pf_set_has(&s->p->items[item].eligible, b) && s->p->capacity[b] > 0;
}

static bool on_node(const struct solver *s, unsigned item, unsigned b)
{
	int32_t node = s->p->items[item].numa_node;

	return node < 0 || s->p->numa[b] == node;
}


/* Whether the item would rather have a VF of bin a than of bin b (both with room). */
static bool better(const struct solver *s, unsigned item, unsigned a, unsigned b)
{
	bool na = on_node(s, item, a), nb = on_node(s, item, b);

	if (na != nb)
		return na;
	if (s->p->items[item].mode == PLACEMENT_PACK) {
		if (s->left[a] != s->left[b])
			return s->left[a] < s->left[b];
	} else {
		if (s->here[a] != s->here[b])
			return s->here[a] < s->here[b];
		if (s->left[a] != s->left[b])
			return s->left[a] > s->left[b];
	}
	return s->turn[a] < s->turn[b];
}

static void put(struct solver *s, unsigned item, unsigned b)
{
	s->bin[item] = (int32_t)b;
	s->left[b]--;
	s->here[b]++;
}

/* The greedy step: the bin the item likes best among those with room. */
static bool place_greedy(struct solver *s, unsigned item)
{
	int best = -1;

	for (unsigned b = 0; b < s->p->n_bins; b++)
		if (eligible(s, item, b) && s->left[b] > 0 &&
		    (best < 0 || better(s, item, b, (unsigned)best)))
			best = (int)b;
	if (best < 0)
		return false;
	put(s, item, (unsigned)best);
	return true;
}

/* Kuhn's augmenting path from an unplaced item: a bin with room, or a bin one of whose
 * items can move to another bin (recursively). Items already placed stay placed. Bins on
 * the item's node are tried first, so a move keeps NUMA where it can. */
static bool augment(struct solver *s, unsigned item)
{
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned b = 0; b < s->p->n_bins; b++) {
			if (!eligible(s, item, b) || s->visited[b] || on_node(s, item, b) != !pass)
				continue;
			s->visited[b] = 1;
			if (s->left[b] > 0) {
				put(s, item, b);
				return true;
			}
			for (unsigned j = 0; j < s->p->n_items; j++) {
				if (s->bin[j] != (int32_t)b)
					continue;
				s->bin[j] = -1;
				s->here[b]--;
				if (augment(s, j)) {
					/* j moved on; its place on b is item's */
					s->bin[item] = (int32_t)b;
					s->here[b]++;
					return true;
				}
				s->bin[j] = (int32_t)b;
				s->here[b]++;
			}
		}
	}
	return false;
}

/* How many VFs the item may use at all: the fewer, the earlier it is placed. */
static uint64_t room_for(const struct solver *s, unsigned item)
{
	uint64_t n = 0;

	for (unsigned b = 0; b < s->p->n_bins; b++)
		if (eligible(s, item, b))
			n += s->p->capacity[b];
	return n;
}

/* Mandatory items before optional ones; the most constrained first; then item order. */
static void order_items(const struct solver *s, unsigned *order)
{
	uint64_t room[PLACEMENT_MAX_ITEMS];
	unsigned n = s->p->n_items;

	for (unsigned i = 0; i < n; i++) {
		room[i] = room_for(s, i);
		order[i] = i;
	}
	for (unsigned i = 1; i < n; i++) { /* insertion sort: n <= 32, stable */
		unsigned x = order[i], k = i;

		while (k > 0) {
			unsigned y = order[k - 1];
			bool xo = s->p->items[x].optional, yo = s->p->items[y].optional;

			if (xo > yo || (xo == yo && room[x] >= room[y]))
				break;
			order[k] = y;
			k--;
		}
		order[k] = x;
	}
}

int placement_solve(const struct placement *p, int32_t *ret_bin, unsigned *ret_failed)
{
	struct solver s = { .p = p, .bin = ret_bin };
	unsigned order[PLACEMENT_MAX_ITEMS];
	int augmented = 0;

	if (p->n_items > PLACEMENT_MAX_ITEMS || p->n_bins > PLACEMENT_MAX_BINS ||
	    (p->n_items && !p->n_bins))
		return -EINVAL;
	for (unsigned i = 0; i < p->n_items; i++)
		ret_bin[i] = -1;
	memcpy(s.left, p->capacity, p->n_bins * sizeof(s.left[0]));
	memcpy(s.here, p->held, p->n_bins * sizeof(s.here[0]));
	/* the tie-break: equal PFs take turns across requests, from the rotor's */
	for (unsigned b = 0, r = p->n_bins ? p->rotor % p->n_bins : 0; b < p->n_bins; b++)
		s.turn[b] = (uint16_t)((b + p->n_bins - r) % p->n_bins);
	order_items(&s, order);
	/* greedy, then augmenting for what greedy left: mandatory items first, so that an
	 * optional one only takes what no mandatory one needs */
	for (int optional = 0; optional < 2; optional++) {
		for (unsigned k = 0; k < p->n_items; k++) {
			unsigned i = order[k];

			if (p->items[i].optional == (bool)optional)
				place_greedy(&s, i);
		}
		for (unsigned k = 0; k < p->n_items; k++) {
			unsigned i = order[k];

			if (p->items[i].optional != (bool)optional || ret_bin[i] >= 0)
				continue;
			memset(s.visited, 0, p->n_bins);
			augmented += augment(&s, i);
		}
		if (optional)
			break;
		for (unsigned i = 0; i < p->n_items; i++) {
			if (!p->items[i].optional && ret_bin[i] < 0) {
				*ret_failed = i;
				return -ENOSPC;
			}
		}
	}
	return augmented;
}

static const char *const mode_names[] = {
	[PLACEMENT_SPREAD] = "spread",
	[PLACEMENT_PACK] = "pack",
};

int placement_parse_mode(const char *s, enum placement_mode *ret_mode)
{
	for (unsigned i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*ret_mode = (enum placement_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *placement_mode_name(enum placement_mode m)
{
	return (unsigned)m < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[m] : "?";
}
