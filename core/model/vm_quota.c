/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/vm_quota.h"
#include "shm/layout.h"

struct vm_count {
	uint32_t count; /* 0: empty */
	char vm_id[VFPOOL_VM_ID_MAX];
};

struct vm_quota {
	struct vm_count *e;
	uint32_t mask;
};

static uint32_t vm_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

int vm_quota_new(uint32_t max_vms, struct vm_quota **ret_quota)
{
	struct vm_quota *q = calloc(1, sizeof(*q));
	uint32_t cap = 16;

	if (!q)
		return -ENOMEM;
	while (cap < 2 * (uint64_t)max_vms && cap < (1u << 30))
		cap <<= 1;
	q->e = calloc(cap, sizeof(*q->e));
	if (!q->e) {
		free(q);
		return -ENOMEM;
	}
	q->mask = cap - 1;
	*ret_quota = q;
	return 0;
}

void vm_quota_free(struct vm_quota *q)
{
	if (!q)
		return;
	free(q->e);
	free(q);
}

/* The VM's entry, or the empty one where it would go. */
static struct vm_count *lookup(const struct vm_quota *q, const char *vm_id)
{
	for (uint32_t i = vm_hash(vm_id) & q->mask;; i = (i + 1) & q->mask)
		if (!q->e[i].count || strcmp(q->e[i].vm_id, vm_id) == 0)
			return &q->e[i];
}

uint32_t vm_quota_count(const struct vm_quota *q, const char *vm_id)
{
	return lookup(q, vm_id)->count;
}

void vm_quota_add(struct vm_quota *q, const char *vm_id, int delta)
{
	struct vm_count *c = lookup(q, vm_id);
	uint32_t hole, i;

	if (delta > 0) {
		if (!c->count)
			memcpy(c->vm_id, vm_id, strnlen(vm_id, sizeof(c->vm_id) - 1) + 1);
		c->count++;
		return;
	}
	if (!c->count || --c->count)
		return;
	/* backward-shift deletion keeps every probe run unbroken */
	hole = (uint32_t)(c - q->e);
	memset(c, 0, sizeof(*c));
	for (i = (hole + 1) & q->mask; q->e[i].count; i = (i + 1) & q->mask) {
		uint32_t home = vm_hash(q->e[i].vm_id) & q->mask;

		if (((i - home) & q->mask) >= ((i - hole) & q->mask)) {
			q->e[hole] = q->e[i];
			memset(&q->e[i], 0, sizeof(q->e[i]));
			hole = i;
		}
	}
}
