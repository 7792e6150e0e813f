/* SPDX-License-Identifier: MIT */
#ifndef VFPOOL_CLIENT_INTERNAL_H
#define VFPOOL_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"
#include "shm/ring.h"
#include "vfpool/vfpool.h"

struct vfpool {
	int sock;
	uint32_t client_id;
	struct vfpool_ring_hdr *ring;
	size_t ring_size;
	struct vfpool_sqe *sqes;
	const struct vfpool_cqe *cqes;
	struct ring_prod sq;
	struct ring_cons cq;
	uint32_t queued;   /* written, not yet published */
	uint32_t inflight; /* published, not yet reaped */
	uint32_t linked;   /* queued entries of a chain still open (never published) */
	uint64_t *early_ud; /* early requests whose first completion is owed (early.c) */
	uint32_t n_early;
	unsigned spin_us;
	unsigned timeout_ms; /* for the synchronous calls */
	uint32_t cmd_seq;
	bool dead;
	char run_dir[108];     /* what vfpool_reconnect connects to again */
	uint32_t ring_entries; /* asked of every daemon this handle connects to */
};

/* Opens a connection to h->run_dir (connect.c); h's connection is replaced only on
 * success. */
int vfpool_open_conn(struct vfpool *h);
/* True (and h marked dead) when the daemon's end of the socket hung up. */
bool daemon_hung_up(struct vfpool *h);

__attribute__((format(printf, 2, 3)))
void vfpool_log(enum vfpool_log_level level, const char *fmt, ...);

/* Counts an early request's second completion slot until its first completion arrives.
 * -ENOMEM, or -EAGAIN when as many are owed as the ring holds. */
int early_track(struct vfpool *h, uint64_t user_data);
/* A completion for user_data arrived: an early request waiting for its first one stops
 * counting its extra slot. */
void early_settle(struct vfpool *h, uint64_t user_data);

void lease_from_cqe(const struct vfpool_cqe *c, struct vfpool_lease *ret_lease);

#endif
