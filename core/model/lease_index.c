/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/lease_index.h"
#include "shm/layout.h"

struct lease_entry {
	uint64_t hash; /* 0: empty */
	uint32_t slot;
	uint32_t owner_uid;
	char vm_id[VFPOOL_VM_ID_MAX];
	char vnic_id[VFPOOL_VNIC_ID_MAX];
};

struct lease_index {
	struct lease_entry *e;
	uint32_t mask;
	uint32_t count;
	uint32_t max;
};

static uint64_t key_hash(const char *vm_id, const char *vnic_id)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */

	for (const char *p = vm_id; *p; p++)
		h = (h ^ (uint8_t)*p) * UINT64_C(0x100000001b3);
	h = (h ^ 0xff) * UINT64_C(0x100000001b3); /* separator: ("ab","c") != ("a","bc") */
	for (const char *p = vnic_id; *p; p++)
		h = (h ^ (uint8_t)*p) * UINT64_C(0x100000001b3);
	return h ? h : 1;
}

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

static int64_t find_pos(const struct lease_index *idx, uint64_t h, const char *vm_id,
			const char *vnic_id)
{
	for (uint32_t i = (uint32_t)h & idx->mask;; i = (i + 1) & idx->mask) {
		const struct lease_entry *e = &idx->e[i];

		if (e->hash == 0)
			return -ENOENT;
		if (e->hash == h && strcmp(e->vm_id, vm_id) == 0 && strcmp(e->vnic_id, vnic_id) == 0)
			return i;
	}
}

int64_t lease_index_find(const struct lease_index *idx, const char *vm_id, const char *vnic_id)
{
	int64_t pos = find_pos(idx, key_hash(vm_id, vnic_id), vm_id, vnic_id);

	return pos < 0 ? pos : idx->e[pos].slot;
}

int64_t lease_index_owner(const struct lease_index *idx, const char *vm_id, const char *vnic_id)
{
	int64_t pos = find_pos(idx, key_hash(vm_id, vnic_id), vm_id, vnic_id);

	return pos < 0 ? pos : idx->e[pos].owner_uid;
}

int lease_index_insert(struct lease_index *idx, const char *vm_id, const char *vnic_id,
		       uint32_t slot, uint32_t owner_uid)
{
	uint64_t h = key_hash(vm_id, vnic_id);
	uint32_t i;

	if (find_pos(idx, h, vm_id, vnic_id) >= 0)
		return -EEXIST;
	if (idx->count >= idx->max)
		return -ENOSPC;
	for (i = (uint32_t)h & idx->mask; idx->e[i].hash; i = (i + 1) & idx->mask)
		;
	idx->e[i].hash = h;
	idx->e[i].slot = slot;
	idx->e[i].owner_uid = owner_uid;
	strncpy(idx->e[i].vm_id, vm_id, sizeof(idx->e[i].vm_id) - 1);
	strncpy(idx->e[i].vnic_id, vnic_id, sizeof(idx->e[i].vnic_id) - 1);
	idx->count++;
	return 0;
}

int lease_index_remove(struct lease_index *idx, const char *vm_id, const char *vnic_id)
{
	int64_t pos = find_pos(idx, key_hash(vm_id, vnic_id), vm_id, vnic_id);
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

uint32_t lease_index_count(const struct lease_index *idx)
{
	return idx->count;
}
