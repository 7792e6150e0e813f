/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/ifindex_map.h"

static size_t home(const struct ifindex_map *m, int32_t ifindex)
{
	/* Fibonacci hashing: ifindexes are small and dense, so spread them. */
	return (size_t)(((uint32_t)ifindex * UINT32_C(2654435769)) & (uint32_t)(m->cap - 1));
}

static struct ifindex_map_entry *find(const struct ifindex_map *m, int32_t ifindex)
{
	if (m->cap == 0 || ifindex <= 0)
		return NULL;
	for (size_t i = home(m, ifindex);; i = (i + 1) & (m->cap - 1)) {
		if (m->entries[i].ifindex == ifindex)
			return &m->entries[i];
		if (m->entries[i].ifindex == 0)
			return NULL;
	}
}

static int grow(struct ifindex_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct ifindex_map_entry *old = m->entries;
	size_t old_cap = m->cap;

	m->entries = calloc(cap, sizeof(*m->entries));
	if (!m->entries) {
		m->entries = old;
		return -ENOMEM;
	}
	m->cap = cap;
	m->n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].ifindex)
			ifindex_map_put(m, old[i].ifindex, old[i].value); /* cannot fail: room */
	free(old);
	return 0;
}

int ifindex_map_put(struct ifindex_map *m, int ifindex, uint32_t value)
{
	struct ifindex_map_entry *e;
	size_t i;

	if (ifindex <= 0)
		return -EINVAL;
	e = find(m, ifindex);
	if (e) {
		e->value = value;
		return 0;
	}
	/* Keep the load at or below 1/2 so probe chains stay short. */
	if ((m->n + 1) * 2 > m->cap) {
		int r = grow(m);

		if (r < 0)
			return r;
	}
	for (i = home(m, ifindex); m->entries[i].ifindex; i = (i + 1) & (m->cap - 1))
		;
	m->entries[i] = (struct ifindex_map_entry){ .ifindex = ifindex, .value = value };
	m->n++;
	return 0;
}

int ifindex_map_del(struct ifindex_map *m, int ifindex)
{
	struct ifindex_map_entry *e = find(m, ifindex);
	size_t hole, i, mask = m->cap - 1;

	if (!e)
		return -ENOENT;
	hole = (size_t)(e - m->entries);
	m->entries[hole].ifindex = 0;
	m->n--;
	/* Backward shift: pull later members of the chain into the hole when their home
	 * position does not lie (cyclically) between the hole and where they sit. */
	for (i = (hole + 1) & mask; m->entries[i].ifindex; i = (i + 1) & mask) {
		size_t h = home(m, m->entries[i].ifindex);

		if (((i - h) & mask) >= ((i - hole) & mask)) {
			m->entries[hole] = m->entries[i];
			m->entries[i].ifindex = 0;
			hole = i;
		}
	}
	return 0;
}

bool ifindex_map_get(const struct ifindex_map *m, int ifindex, uint32_t *ret_value)
{
	const struct ifindex_map_entry *e = find(m, ifindex);

	if (!e)
		return false;
	if (ret_value)
		*ret_value = e->value;
	return true;
}

void ifindex_map_clear(struct ifindex_map *m)
{
	if (m->entries)
		memset(m->entries, 0, m->cap * sizeof(*m->entries));
	m->n = 0;
}

void ifindex_map_free(struct ifindex_map *m)
{
	free(m->entries);
	*m = (struct ifindex_map){ 0 };
}
