/* SPDX-License-Identifier: MIT */
/*
 * Durable leases: the engine's commit and its durability side. Every lease change is staged
 * in the journal and its completion held (struct pending_completion, PENDING_DURABLE); once
 * per loop iteration the staged records go out as one linked IORING_OP_WRITE +
 * IORING_OP_FSYNC on the loop's ring (a group commit for every client's batch), and only
 * when the fsync completes are the held completions let go.
 *
 * A lease that cannot be made durable is never made: before each new lease the journal
 * must have the space for it reserved (core/lease/journal.h), else the request fails with the
 * journal named and the reason, and the daemon goes on serving. A write that fails anyway
 * (a file system without fallocate, an I/O error) refuses what it carried: its new leases
 * are forgotten and their completions are errors; its releases stay done and their records
 * are written again (after a pause, or with the next change). A failed fsync stops the
 * daemon: after it the kernel may have dropped the pages, and nothing on disk is known
 * (PostgreSQL's lesson); the restart rebuilds from the journal. Nothing held is told after
 * that.
 *
 * Generations never repeat for the life of the journal: a generation mark is staged ahead
 * of the first lease past the last one (JOURNAL_GEN_BLOCK at a time), and a restart starts
 * above the highest mark or generation it reads.
 *
 * Memory: none per held completion (the queues are intrusive); each holds a CQ slot of its
 * client's ring, so a client can have no more held than its ring has entries.
 */
#ifndef VFPOOL_CORE_LEASE_DURABLE_H
#define VFPOOL_CORE_LEASE_DURABLE_H

#include <liburing.h>
#include <stdbool.h>

#include "core/model/engine.h"
#include "core/lease/journal.h"
#include "core/loop.h"

struct lease_durable {
	struct engine_commit commit; /* engine->commit points here */
	struct pending_durability durability; /* engine->durability points here */
	struct engine *engine;
	struct journal *journal;
	struct io_uring *ring;
	struct loop_op write_op, fsync_op;
	int write_res, fsync_res;
	size_t write_len;
	unsigned ops_pending;     /* 0: no commit in flight */
	/* completions held for the staged records, and for those being written */
	struct pending_queue staged, flight;
	int32_t *bound_pid;       /* per VF slot: the process a lease is bound to, 0: none */
	uint32_t n_slots;
	int failed;               /* an fsync failed: the daemon must stop (-errno) */
	void (*on_failed)(void *ctx);
	void *ctx;
	uint32_t lost;            /* leases replayed whose VF is gone */
	uint64_t gen_reserved;    /* generations up to this one are covered by a mark */
	bool full;                /* the last reservation failed (logged once per episode) */
	uint64_t compact_retry_at; /* after a failed compaction: no retry below this size */
	int write_failing;        /* the last write failed with this error (logged once) */
	bool backoff;             /* after a failed write: the retry waits for retry_op */
	bool in_batch;            /* inside engine_commit's batch bracket (a ring's serve pass) */
	struct loop_op retry_op;
	struct __kernel_timespec retry_ts;
	/* generations of leases forgotten after a failed write, oldest overwritten first:
	 * the completions held for them become the error. Room for n_slots + 64: a write
	 * carries at most one new lease per VF slot. */
	uint64_t *forgotten;
	uint32_t n_forgotten, forgotten_cap, forgotten_next;
	/* Told whenever a lease's bound process changes: pid > 0 when a lease bound to it
	 * was made, 0 when a bound lease ended (core/lease/pid_watch.h). NULL: nobody watches. */
	void (*bind_changed)(void *ctx, uint32_t slot, int32_t pid, uint64_t generation);
	void *bind_ctx;
};

/* Opens the journal in dir (the daemon gives its run dir: a lease is a VM's and must not
 * outlive a reboot), gives its leases back to the engine (those whose VF is gone are
 * logged, counted in hdr->leases_lost and deleted from the journal; damaged records are
 * logged one by one and counted in hdr->journal_records_lost), and installs itself as the
 * engine's commit and durability. ring is kept for the writes, which start with the first
 * lease_durable_flush. on_failed(ctx) is called once if an fsync fails. */
int lease_durable_start(struct engine *e, struct io_uring *ring, const char *dir,
			void (*on_failed)(void *ctx), void *ctx, struct lease_durable **ret_ld);
void lease_durable_free(struct lease_durable *ld);

/* Submits the staged records (if any and no commit is in flight). Call once per loop turn
 * after serving. */
void lease_durable_flush(struct lease_durable *ld);

/* Builds the journal form of the lease on slot (from the state segment). */
void lease_durable_describe(const struct lease_durable *ld, uint32_t slot,
			    struct journal_lease *ret_lease);

#endif
