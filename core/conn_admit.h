/* SPDX-License-Identifier: MIT */
/*
 * Who may take a client slot. Three limits, checked in this order on every accepted
 * connection, before it holds anything:
 *  - --max-clients: the slots;
 *  - --reserved-clients: the last slots are only for root and the admin group, so the
 *    operator's own commands always get in, however many connections others hold;
 *  - --max-clients-per-uid: one uid's connections (root is exempt, as PostgreSQL exempts
 *    superusers from a role's connection limit), so one local user cannot take every slot.
 * A refusal carries its reason, naming the limit and the flag that sets it.
 */
#ifndef VFPOOL_CORE_CONN_ADMIT_H
#define VFPOOL_CORE_CONN_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum conn_admit_verdict {
	CONN_ADMIT_OK = 0,
	CONN_ADMIT_FULL,     /* every slot is held */
	CONN_ADMIT_RESERVED, /* only reserved slots are left, and the peer is not privileged */
	CONN_ADMIT_UID_CAP,  /* the peer's uid holds its maximum */
	CONN_ADMIT_NR,
};

struct conn_admit_uid; /* conn_admit.c */

struct conn_admit {
	uint32_t max_clients;
	uint32_t per_uid;
	uint32_t reserved;
	uint32_t used; /* slots held */
	/* the uids holding slots: open addressing, at most half full */
	struct conn_admit_uid *tab;
	uint32_t tab_mask;
	/* refusals since start, by verdict (each logged line carries its total) */
	uint64_t refused[CONN_ADMIT_NR];
	/* a run of refusals by a global limit was logged: the rest of the run is not, until
	 * a slot frees up (a peer retrying in a loop costs one line, not one per attempt) */
	bool quiet[CONN_ADMIT_NR];
};

/* The defaults the flags stand for: a quarter of the slots per uid (at least 1), and
 * max(4, max_clients / 16) reserved, but never more than half the slots. */
uint32_t conn_admit_default_per_uid(uint32_t max_clients);
uint32_t conn_admit_default_reserved(uint32_t max_clients);

/* per_uid in 1..max_clients (larger is clamped), reserved in 0..max_clients. -ENOMEM. */
int conn_admit_init(struct conn_admit *a, uint32_t max_clients, uint32_t per_uid,
		    uint32_t reserved);
void conn_admit_fini(struct conn_admit *a);

/*
 * Takes a slot for a peer, or says why not. privileged: root or the admin group. On a
 * refusal, why (for the peer and the log) names the limit and its flag, e.g.
 * "uid 1000 has 64 connections (--max-clients-per-uid 64)", and *ret_log says whether this
 * refusal starts a run that should be logged (false while the same limit keeps refusing
 * the same peer; the run ends when a slot of that kind frees up).
 */
enum conn_admit_verdict conn_admit_take(struct conn_admit *a, uid_t uid, bool privileged,
					char *why, size_t why_len, bool *ret_log);
/* The slot taken for uid is free again: the runs of refusals it ends are logged anew. */
void conn_admit_put(struct conn_admit *a, uid_t uid);

/* Slots uid holds now. */
uint32_t conn_admit_held(const struct conn_admit *a, uid_t uid);

#endif
