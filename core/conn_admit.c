/* SPDX-License-Identifier: MIT */
/* Client slot admission: see core/conn_admit.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/conn_admit.h"

/* One uid holding slots; n == 0: the entry is empty. */
struct conn_admit_uid {
	uint32_t uid;
	uint32_t n;
	bool quiet; /* its refusal by the per-uid cap was logged; cleared when it frees a slot */
};

uint32_t conn_admit_default_per_uid(uint32_t max_clients)
{
	return max_clients / 4 ? max_clients / 4 : 1;
}

uint32_t conn_admit_default_reserved(uint32_t max_clients)
{
	uint32_t r = max_clients / 16 > 4 ? max_clients / 16 : 4;

	/* a small daemon (tests, --max-clients 2) still serves unprivileged peers */
	return r > max_clients / 2 ? max_clients / 2 : r;
}

int conn_admit_init(struct conn_admit *a, uint32_t max_clients, uint32_t per_uid,
		    uint32_t reserved)
{
	uint32_t size = 8;

	*a = (struct conn_admit){ 0 };
	if (max_clients == 0 || per_uid == 0 || reserved > max_clients || max_clients > (1u << 30))
		return -EINVAL;
	/* at most max_clients uids hold slots: twice that keeps the probes short */
	while (size < 2 * max_clients)
		size <<= 1;
	a->tab = calloc(size, sizeof(*a->tab));
	if (!a->tab)
		return -ENOMEM;
	a->tab_mask = size - 1;
	a->max_clients = max_clients;
	a->per_uid = per_uid < max_clients ? per_uid : max_clients;
	a->reserved = reserved;
	return 0;
}

void conn_admit_fini(struct conn_admit *a)
{
	free(a->tab);
	a->tab = NULL;
}

static uint32_t home(const struct conn_admit *a, uint32_t uid)
{
	/* Fibonacci hashing: consecutive uids (a range of service users) spread out */
	return (uint32_t)(uid * UINT32_C(2654435761)) & a->tab_mask;
}

/* The uid's entry, or the empty one where it would go. */
static struct conn_admit_uid *slot_of(const struct conn_admit *a, uint32_t uid)
{
	for (uint32_t i = home(a, uid);; i = (i + 1) & a->tab_mask) {
		struct conn_admit_uid *e = &a->tab[i];

		if (e->n == 0 || e->uid == uid)
			return e;
	}
}

/* Empties entry i, moving later entries of its probe run back so no lookup stops early
 * (backward-shift deletion: no tombstones to accumulate). */
static void remove_at(struct conn_admit *a, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t k;

		j = (j + 1) & a->tab_mask;
		if (a->tab[j].n == 0)
			break;
		k = home(a, a->tab[j].uid);
		/* entry j may move to i only if its home is not in (i, j] (cyclically) */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		a->tab[i] = a->tab[j];
		i = j;
	}
	a->tab[i] = (struct conn_admit_uid){ 0 };
}

uint32_t conn_admit_held(const struct conn_admit *a, uid_t uid)
{
	return slot_of(a, (uint32_t)uid)->n;
}

static enum conn_admit_verdict refuse(struct conn_admit *a, enum conn_admit_verdict v,
				      bool *quiet, bool *ret_log)
{
	a->refused[v]++;
	*ret_log = !*quiet;
	*quiet = true;
	return v;
}

enum conn_admit_verdict conn_admit_take(struct conn_admit *a, uid_t uid, bool privileged,
					char *why, size_t why_len, bool *ret_log)
{
	struct conn_admit_uid *e = slot_of(a, (uint32_t)uid);

	*ret_log = false;
	if (a->used >= a->max_clients) {
		snprintf(why, why_len, "all %u client slots are taken (--max-clients %u)",
			 a->max_clients, a->max_clients);
		return refuse(a, CONN_ADMIT_FULL, &a->quiet[CONN_ADMIT_FULL], ret_log);
	}
	if (!privileged && a->used >= a->max_clients - a->reserved) {
		snprintf(why, why_len,
			 "the last %u of %u slots are kept for root and the admin group "
			 "(--reserved-clients %u)", a->reserved, a->max_clients, a->reserved);
		return refuse(a, CONN_ADMIT_RESERVED, &a->quiet[CONN_ADMIT_RESERVED], ret_log);
	}
	if (uid != 0 && e->n >= a->per_uid) {
		snprintf(why, why_len, "uid %u has %u connections (--max-clients-per-uid %u)",
			 (unsigned)uid, e->n, a->per_uid);
		return refuse(a, CONN_ADMIT_UID_CAP, &e->quiet, ret_log);
	}
	e->uid = (uint32_t)uid;
	e->n++;
	a->used++;
	return CONN_ADMIT_OK;
}

void conn_admit_put(struct conn_admit *a, uid_t uid)
{
	struct conn_admit_uid *e = slot_of(a, (uint32_t)uid);

	if (e->n == 0 || a->used == 0)
		return; /* not ours to free: never taken */
	a->used--;
	a->quiet[CONN_ADMIT_FULL] = a->quiet[CONN_ADMIT_RESERVED] = false;
	e->quiet = false;
	if (--e->n == 0)
		remove_at(a, (uint32_t)(e - a->tab));
}
