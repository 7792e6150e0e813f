/* SPDX-License-Identifier: MIT */
/*
 * A completion waiting on its VF's configuration and on durability, modelled on
 * io_uring's own request: the engine takes one from its cache for a request that changes a
 * lease, and the request completes when the last of its gates opens, through one call
 * (sink->post) from whichever side opened it.
 *
 * The gates, each closed by the side that will open it:
 *   PENDING_ISSUE       the engine is still serving the request (engine_serve). A gate
 *                       opened meanwhile (a configuration that failed at once) completes
 *                       the request inline, in the cqe engine_serve returns: nothing is
 *                       ever posted into a completion ring the engine is writing.
 *   PENDING_CONFIGURED  the new lease's VF is being configured (engine_hooks.lease_made);
 *                       opened by pending_configured, exactly once.
 *   PENDING_DURABLE     the lease change is staged for the journal (pending_durability.hold);
 *                       opened by pending_durable once everything staged before is on disk.
 *
 * Early allocations (VFPOOL_REQ_F_EARLY) have two completions: the first, with
 * VFPOOL_CQE_F_MORE, once the lease is durable (inline when it already is); the final
 * once the VF is configured too. A request that completes later holds one completion slot
 * of its client's ring per completion still to come (engine_served.later); the sink is
 * posted exactly that many times, whatever happens meanwhile (a failure, the client
 * disconnecting: the sink's business), so the connection can count on it to outlive them.
 *
 * Failures: the first one is the one the client hears. A configuration that failed has
 * undone the lease already (engine_undo_lease: the configuration side knows what to do with
 * the VF); its completion then waits for that undo to be durable too. A change the journal
 * could not make durable is refused (the lease was forgotten). Each failed request is
 * counted once in the error statistics, when its final completion goes out: a configuration
 * failure as VFPOOL_ERR_CONFIG, a refused change as VFPOOL_ERR_OTHER.
 *
 * Only the daemon's loop thread touches any of it.
 */
#ifndef VFPOOL_CORE_PENDING_COMPLETION_H
#define VFPOOL_CORE_PENDING_COMPLETION_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/layout.h"

/* Where a completion goes once it is ready: the connection that sent the request (or the
 * control command, the sweep, ... that served one). post is called from the loop thread,
 * once per completion engine_served.later announced. */
struct completion_sink {
	void (*post)(struct completion_sink *sink, const struct vfpool_cqe *cqe);
};

enum pending_gate {
	PENDING_ISSUE = 1u << 0,
	PENDING_CONFIGURED = 1u << 1,
	PENDING_DURABLE = 1u << 2,
};

struct pending_completion;
struct pending_cache;

/* The durability side (core/lease/lease_durable.c). */
struct pending_durability {
	/* Closes p's durable gate until every lease change staged so far is durable (p may be
	 * held already: it then waits for the later changes too). false: nothing is waiting
	 * to be, the gate stays open. */
	bool (*hold)(struct pending_durability *d, struct pending_completion *p);
};

/* A link of a circular list, and a queue: completions the durability side holds, oldest
 * first (pending_queue_init before use). */
struct pending_link {
	struct pending_link *prev, *next; /* NULL while on no queue */
};

struct pending_queue {
	struct pending_link head;
};

struct pending_completion {
	/* the request, as the engine served it */
	struct completion_sink *sink;
	struct vfpool_state_hdr *hdr;           /* error statistics */
	struct pending_durability *durability;  /* NULL: changes are durable once staged */
	uint32_t slot;                          /* the VF slot whose lease changed */
	uint64_t generation;                    /* that lease's */
	uint8_t op;                             /* VFPOOL_OP_ALLOC or VFPOOL_OP_RELEASE */
	uint8_t gates;                          /* enum pending_gate: still closed */
	bool early;                             /* VFPOOL_REQ_F_EARLY */
	bool first_owed;                        /* its first completion is still to be posted */
	bool refused;                           /* the change was not made durable */
	int err;                                /* the first failure, or 0 */
	enum vfpool_err_kind err_kind;
	struct vfpool_cqe cqe;                  /* the completion as served (a success) */
	char why[sizeof(((struct vfpool_cqe *)0)->message)]; /* the first failure's reason */
	/* on the durability side's queue while it holds the gate */
	struct pending_link link;
	/* the engine's cache */
	struct pending_cache *cache;
	struct pending_completion *free_next, *all_next;
};

/* ---- the two sides -------------------------------------------------------------------- */

/* The VF configuration is done: res 0, or a negative errno with why (the lease must be
 * undone already). Called exactly once for each lease_made, possibly before it returns. */
void pending_configured(struct pending_completion *p, int res, const char *why);

/* Everything staged when p was held is durable (res 0), or could not be made so (res a
 * negative errno, why the journal's reason): the change was refused. */
void pending_durable(struct pending_completion *p, int res, const char *why);

void pending_queue_init(struct pending_queue *q);
/* To the tail of q, off the queue p was on (if any). */
void pending_queue_push(struct pending_queue *q, struct pending_completion *p);
/* Takes p off the queue it is on (no-op when none). */
void pending_queue_remove(struct pending_completion *p);
/* The oldest, taken off; NULL when empty. */
struct pending_completion *pending_queue_pop(struct pending_queue *q);
/* Everything on from goes to the tail of to, in order; from is left empty. */
void pending_queue_splice(struct pending_queue *to, struct pending_queue *from);

/* ---- the engine's --------------------------------------------------------------------- */

/* Completions the engine hands out, reused (the steady state allocates nothing). Every one
 * ever allocated is on all, so pending_cache_fini frees those still pending at teardown. */
struct pending_cache {
	struct pending_completion *free, *all;
};

/* What serving one request left to do. */
struct engine_served {
	uint8_t now;   /* 1: the cqe engine_serve filled goes to the client now */
	uint8_t later; /* completions still to come through the sink, each holding a CQ slot */
};

/* A completion for a request of op (VFPOOL_OP_*) to be served, PENDING_ISSUE closed; NULL
 * when out of memory. */
struct pending_completion *pending_get(struct pending_cache *c, struct completion_sink *sink,
				       struct vfpool_state_hdr *hdr,
				       struct pending_durability *durability, uint8_t op,
				       bool early);
/* Back to the cache, unused: the request changed nothing. */
void pending_put(struct pending_completion *p);
/* The engine is done serving: opens PENDING_ISSUE. cqe is the request's completion as
 * served; it is completed now (a failure applied, counted) when no gate is left, else kept
 * (and, for an early allocation whose lease is durable, turned into its first completion). */
struct engine_served pending_issued(struct pending_completion *p, struct vfpool_cqe *cqe);
void pending_cache_fini(struct pending_cache *c);

#endif
