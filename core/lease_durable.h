/* SPDX-License-Identifier: MIT */
/*
 * Durable leases: the engine's commit hook. Every lease change is staged in the journal and
 * its request kept; once per loop iteration the staged records go out as one linked
 * IORING_OP_WRITE + IORING_OP_FSYNC on the loop's ring (a group commit for every client's
 * batch), and only when the fsync completes are the kept completions posted. A failed write
 * or fsync stops the daemon: what is in memory is no longer what is on disk, and the
 * restart rebuilds from the journal (nothing unacknowledged was promised).
 *
 * Memory: one kept completion per request in flight, and each holds a CQ slot of its
 * client's ring, so a client can have no more kept than its ring has entries.
 */
#ifndef VFPOOL_CORE_LEASE_DURABLE_H
#define VFPOOL_CORE_LEASE_DURABLE_H

#include <liburing.h>
#include <stdbool.h>

#include "core/engine.h"
#include "core/journal.h"
#include "core/loop.h"

struct durable_wait {
	struct completion_sink *sink;
	struct vfpool_cqe cqe;
};

struct durable_list {
	struct durable_wait *w;
	uint32_t n, cap;
};

struct lease_durable {
	struct engine_commit commit; /* engine->commit points here */
	struct engine *engine;
	struct journal *journal;
	struct io_uring *ring;
	struct loop_op write_op, fsync_op;
	int write_res, fsync_res;
	size_t write_len;
	unsigned ops_pending;     /* 0: no commit in flight */
	struct durable_list staged, flight;
	int32_t *bound_pid;       /* per VF slot: the process a lease is bound to, 0: none */
	uint32_t n_slots;
	int failed;               /* a commit failed: the daemon must stop (-errno) */
	void (*on_failed)(void *ctx);
	void *ctx;
	uint32_t lost;            /* leases replayed whose VF is gone */
	/* Told whenever a lease's bound process changes: pid > 0 when a lease bound to it
	 * was made, 0 when a bound lease ended (core/pid_watch.h). NULL: nobody watches. */
	void (*bind_changed)(void *ctx, uint32_t slot, int32_t pid, uint64_t generation);
	void *bind_ctx;
};

/* Opens the journal in state_dir, gives its leases back to the engine (those whose VF is
 * gone are logged, counted in hdr->leases_lost and deleted from the journal), and installs
 * the commit hook. on_failed(ctx) is called once if a commit fails. */
int lease_durable_start(struct engine *e, struct io_uring *ring, const char *state_dir,
			void (*on_failed)(void *ctx), void *ctx, struct lease_durable **ret_ld);
void lease_durable_free(struct lease_durable *ld);

/* Submits the staged records (if any and no commit is in flight). Call once per loop turn
 * after serving. */
void lease_durable_flush(struct lease_durable *ld);

/* Builds the journal form of the lease on slot (from the state segment). */
void lease_durable_describe(const struct lease_durable *ld, uint32_t slot,
			    struct journal_lease *ret_lease);

#endif
