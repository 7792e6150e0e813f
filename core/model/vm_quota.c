/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/vm_quota.h"
#include "shm/layout.h"

struct vm_count {
	uint32_t count; /* 0: empty */
	uint32_t len;
	uint64_t hash; /* lease_key.vm_hash */
	char vm_id[VFPOOL_VM_ID_MAX];
};

struct vm_quota {
	struct vm_count *e;
	uint32_t mask;
};

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
static struct vm_count *lookup(const struct vm_quota *q, const struct lease_key *k)
{
	for (uint32_t i = (uint32_t)k->vm_hash & q->mask;; i = (i + 1) & q->mask) {
		struct vm_count *c = &q->e[i];

		if (!c->count || (c->hash == k->vm_hash && c->len == k->vm_len &&
				  memcmp(c->vm_id, k->vm, k->vm_len) == 0))
			return c;
	}
}

uint32_t vm_quota_count_key(const struct vm_quota *q, const struct lease_key *k)
{
	return lookup(q, k)->count;
}

uint32_t vm_quota_count(const struct vm_quota *q, const char *vm_id)
{
	struct lease_key k = lease_key_of(vm_id, "");

	return vm_quota_count_key(q, &k);
}

void vm_quota_add_key(struct vm_quota *q, const struct lease_key *k, int delta)
{
	struct vm_count *c = lookup(q, k);
	uint32_t hole, i;

	if (delta > 0) {
		if (!c->count) {
			/* empty entries are zeroed: the byte after the copy is the NUL */
			c->len = k->vm_len < sizeof(c->vm_id) ? k->vm_len : sizeof(c->vm_id) - 1;
			c->hash = k->vm_hash;
			memcpy(c->vm_id, k->vm, c->len);
		}
		c->count++;
		return;
	}
	if (!c->count || --c->count)
		return;
	/* backward-shift deletion keeps every probe run unbroken */
	hole = (uint32_t)(c - q->e);
	memset(c, 0, sizeof(*c));
	for (i = (hole + 1) & q->mask; q->e[i].count; i = (i + 1) & q->mask) {
		uint32_t home = (uint32_t)q->e[i].hash & q->mask;

		if (((i - home) & q->mask) >= ((i - hole) & q->mask)) {
			q->e[hole] = q->e[i];
			memset(&q->e[i], 0, sizeof(q->e[i]));
			hole = i;
		}
	}
}

void vm_quota_add(struct vm_quota *q, const char *vm_id, int delta)
{
	struct lease_key k = lease_key_of(vm_id, "");

	vm_quota_add_key(q, &k, delta);
}
