/* SPDX-License-Identifier: MIT */
/*
 * Completion-slot accounting for early allocations (VFPOOL_ALLOC_EARLY). Such a request
 * may be answered twice (the lease, with more set, then the configuration's outcome) or
 * once (it failed at once, or there was nothing to configure), and the daemon holds two
 * completion slots for it. The handle must never have more completions owed than the ring
 * holds, so each early request whose first completion has not arrived counts one extra
 * slot, found again by its user_data.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "client/libvfpool/internal.h"

int early_track(struct vfpool *h, uint64_t user_data)
{
	if (!h->early_ud) {
		/* sized once: never more early requests owed than completion slots */
		h->early_ud = calloc(h->cq.mask + 1, sizeof(*h->early_ud));
		if (!h->early_ud)
			return -ENOMEM;
	}
	if (h->n_early > h->cq.mask)
		return -EAGAIN;
	h->early_ud[h->n_early++] = user_data;
	return 0;
}

void early_settle(struct vfpool *h, uint64_t user_data)
{
	/* linear: only early requests in flight are searched, and none when none are */
	for (uint32_t i = 0; i < h->n_early; i++) {
		if (h->early_ud[i] == user_data) {
			h->early_ud[i] = h->early_ud[--h->n_early];
			return;
		}
	}
}
