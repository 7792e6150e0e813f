/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/lease_index.h"
#include "shm/layout.h"

struct lease_key lease_key_of(const char *vm, const char *vnic)
{
	return lease_key_make(vm, (uint32_t)strnlen(vm, VFPOOL_VM_ID_MAX - 1), vnic,
			      (uint32_t)strnlen(vnic, VFPOOL_VNIC_ID_MAX - 1));
}

struct lease_entry {
	uint64_t hash; /* 0: empty */
	uint32_t slot;
	uint32_t owner_uid;
	uint8_t vm_len, vnic_len;
	char vm_id[VFPOOL_VM_ID_MAX];
	char vnic_id[VFPOOL_VNIC_ID_MAX];
};

struct lease_index {
	struct lease_entry *e;
	uint32_t mask;
	uint32_t count;
	uint32_t max;
};

int lease_index_new(uint32_t max_leases, struct lease_index **ret_index)
{
	struct lease_index *idx = calloc(1, sizeof(*idx));
	uint32_t cap = 16;

	if (!idx)
		return -ENOMEM;
	while (cap < 2 * (uint64_t)max_leases && cap < (1u << 30))
		cap <<= 1;
	idx->e = calloc(cap, sizeof(*idx->e));
	if (!idx->e) {
		free(idx);
		return -ENOMEM;
	}
	idx->mask = cap - 1;
	idx->max = max_leases;
	*ret_index = idx;
	return 0;
}

void lease_index_free(struct lease_index *idx)
{
	if (!idx)
		return;
	free(idx->e);
	free(idx);
}

static inline bool entry_is(const struct lease_entry *e, const struct lease_key *k)
{
	/* lengths first: most mismatches end before a byte is compared */
	return e->hash == k->hash && e->vm_len == k->vm_len && e->vnic_len == k->vnic_len &&
	       memcmp(e->vm_id, k->vm, k->vm_len) == 0 &&
	       memcmp(e->vnic_id, k->vnic, k->vnic_len) == 0;
}

static int64_t find_pos(const struct lease_index *idx, const struct lease_key *k)
{
	for (uint32_t i = (uint32_t)k->hash & idx->mask;; i = (i + 1) & idx->mask) {
		const struct lease_entry *e = &idx->e[i];

		if (e->hash == 0)
			return -ENOENT;
		if (entry_is(e, k))
			return i;
	}
}

int lease_index_lookup(const struct lease_index *idx, const struct lease_key *k,
		       uint32_t *ret_slot, uint32_t *ret_owner)
{
	int64_t pos = find_pos(idx, k);

	if (pos < 0)
		return (int)pos;
	*ret_slot = idx->e[pos].slot;
	*ret_owner = idx->e[pos].owner_uid;
	return 0;
}

int64_t lease_index_find(const struct lease_index *idx, const char *vm_id, const char *vnic_id)
{
	struct lease_key k = lease_key_of(vm_id, vnic_id);
	int64_t pos = find_pos(idx, &k);

	return pos < 0 ? pos : idx->e[pos].slot;
}

int64_t lease_index_owner(const struct lease_index *idx, const char *vm_id, const char *vnic_id)
{
	struct lease_key k = lease_key_of(vm_id, vnic_id);
	int64_t pos = find_pos(idx, &k);

	return pos < 0 ? pos : idx->e[pos].owner_uid;
}

int lease_index_insert_key(struct lease_index *idx, const struct lease_key *k, uint32_t slot,
			   uint32_t owner_uid)
{
	struct lease_entry *e;
	uint32_t i;

	if (k->vm_len >= VFPOOL_VM_ID_MAX || k->vnic_len >= VFPOOL_VNIC_ID_MAX)
		return -ENAMETOOLONG;
	/* one probe run: it ends at the pair's entry (taken) or at the first empty entry,
	 * where find_pos would have stopped and where the pair goes */
	for (i = (uint32_t)k->hash & idx->mask; idx->e[i].hash; i = (i + 1) & idx->mask)
		if (entry_is(&idx->e[i], k))
			return -EEXIST;
	if (idx->count >= idx->max)
		return -ENOSPC;
	e = &idx->e[i];
	e->hash = k->hash;
	e->slot = slot;
	e->owner_uid = owner_uid;
	e->vm_len = (uint8_t)k->vm_len;
	e->vnic_len = (uint8_t)k->vnic_len;
	/* the entry is zeroed while empty: the bytes after the copies are the NULs */
	memcpy(e->vm_id, k->vm, k->vm_len);
	memcpy(e->vnic_id, k->vnic, k->vnic_len);
	idx->count++;
	return 0;
}

int lease_index_insert(struct lease_index *idx, const char *vm_id, const char *vnic_id,
		       uint32_t slot, uint32_t owner_uid)
{
	struct lease_key k = lease_key_of(vm_id, vnic_id);

	return lease_index_insert_key(idx, &k, slot, owner_uid);
}

int lease_index_remove_key(struct lease_index *idx, const struct lease_key *k)
{
	int64_t pos = find_pos(idx, k);
	uint32_t hole, i;

	if (pos < 0)
		return (int)pos;
	hole = (uint32_t)pos;
	memset(&idx->e[hole], 0, sizeof(idx->e[hole]));
	/* backward shift: pull later entries of the probe run into the hole so lookups never
	 * stop early at it */
	for (i = (hole + 1) & idx->mask; idx->e[i].hash; i = (i + 1) & idx->mask) {
		uint32_t home = (uint32_t)idx->e[i].hash & idx->mask;

		if (((i - home) & idx->mask) >= ((i - hole) & idx->mask)) {
			idx->e[hole] = idx->e[i];
			memset(&idx->e[i], 0, sizeof(idx->e[i]));
			hole = i;
		}
	}
	idx->count--;
	return 0;
}

int lease_index_remove(struct lease_index *idx, const char *vm_id, const char *vnic_id)
{
	struct lease_key k = lease_key_of(vm_id, vnic_id);

	return lease_index_remove_key(idx, &k);
}

uint32_t lease_index_count(const struct lease_index *idx)
{
	return idx->count;
}
