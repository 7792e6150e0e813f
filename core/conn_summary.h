/* SPDX-License-Identifier: MIT */
/*
 * The pending summary (shm/layout.h: one word per 64 client slots, set by clients that
 * post work): the daemon's side. The segment is a sealed memfd shared read-write with every
 * client; the daemon takes each word (conn_summary_take) and adds its own bits for rings it
 * knows still have work (conn_summary_carry: a serve pass cut at its batch, a ring found
 * with work before sleeping), so a turn looks only at rings with something to do. A bit is
 * a hint: every VFPOOL_SUMMARY_SWEEP_TURNS turns the caller looks at every ring anyway
 * (conn_summary_sweep_due), so a peer clearing others' bits delays them, never loses them.
 * Loop thread only.
 */
#ifndef VFPOOL_CORE_CONN_SUMMARY_H
#define VFPOOL_CORE_CONN_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

struct conn_summary {
	struct vfpool_summary_hdr *hdr;
	size_t size;
	int fd; /* sealed memfd, handed to every client in its welcome */
	uint32_t n_words;
	uint64_t *carry; /* daemon-private bits, per word: look again next turn */
	uint32_t turns;
};

/* For n_slots client slots. 0, or a negative errno (memfd, its pages, the mapping). */
int conn_summary_create(uint32_t n_slots, struct conn_summary *ret_s);
void conn_summary_destroy(struct conn_summary *s);

/* Word w's bits: the clients' (taken: the shared word is cleared) and the carried ones. */
uint64_t conn_summary_take(struct conn_summary *s, uint32_t w);
/* Slot's ring is to be looked at next turn whatever its clients' bits say. */
void conn_summary_carry(struct conn_summary *s, uint32_t slot);
/* Counts a turn; true on the turns that look at every ring. */
bool conn_summary_sweep_due(struct conn_summary *s);

#endif
