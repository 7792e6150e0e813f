/* SPDX-License-Identifier: MIT */
/*
 * A map from a netdev ifindex (> 0) to a 32-bit value: the userspace twin of the BPF
 * `tracked` map, and link_watch's index of VFs. Open addressing with linear probing and
 * backward-shift deletion (no tombstones), so lookups on the hot path stay short however
 * often VFs are tracked and untracked. Not thread-safe: one owner.
 */
#ifndef VFPOOL_CORE_IFINDEX_MAP_H
#define VFPOOL_CORE_IFINDEX_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ifindex_map_entry {
	int32_t ifindex; /* 0: empty */
	uint32_t value;
};

struct ifindex_map {
	struct ifindex_map_entry *entries;
	size_t cap; /* a power of two, or 0 before the first insert */
	size_t n;
};

/* Inserts or replaces. 0, -EINVAL (ifindex <= 0) or -ENOMEM. */
int ifindex_map_put(struct ifindex_map *m, int ifindex, uint32_t value);
/* 0, or -ENOENT when absent. */
int ifindex_map_del(struct ifindex_map *m, int ifindex);
bool ifindex_map_get(const struct ifindex_map *m, int ifindex, uint32_t *ret_value);
void ifindex_map_clear(struct ifindex_map *m);
void ifindex_map_free(struct ifindex_map *m);

#endif
