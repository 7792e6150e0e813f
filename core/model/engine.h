/* SPDX-License-Identifier: MIT */
/*
 * The allocation engine: turns validated requests into pool claims and lease records.
 * It owns the lease index and writes the state segment inside its seqlock, so every
 * reader sees a bitmap change and the record that explains it together.
 * Single-threaded by design: the daemon's loop thread is the only caller.
 */
#ifndef VFPOOL_CORE_ENGINE_H
#define VFPOOL_CORE_ENGINE_H

#include "core/model/lease_index.h"
#include "core/model/pending_completion.h"
#include "core/model/placement.h"
#include "core/model/policy.h"
#include "core/model/pool.h"
#include "core/model/request.h"
#include "shm/layout.h"

struct engine;

/* Work that finishes a lease after the pool claim (VF configuration). */
struct engine_hooks {
	/* A new lease is recorded (p->slot, p->generation): its VF is configured, and the
	 * request completes once it is. The engine closed p's PENDING_CONFIGURED gate; the hook
	 * opens it with pending_configured exactly once: now (nothing to configure, or a
	 * failure at once), or later from the loop. A failure undoes the lease first. */
	void (*lease_made)(struct engine_hooks *h, struct engine *e, struct pending_completion *p,
			   const struct request *req);
	/* Runs when a lease is released, just before its record is cleared (in the same
	 * seqlock section as the VF's return, so readers never see one without the other):
	 * true keeps the VF claimed until the hook calls engine_return_vf (after its reset),
	 * false lets it return to the pool now. It may only queue work. */
	bool (*lease_ended)(struct engine_hooks *h, struct engine *e, uint32_t slot,
			    uint64_t generation);
};

/* Makes lease changes durable before anyone hears of them (core/lease/lease_durable.h),
 * with engine.durability holding the completions until they are. */
struct engine_commit {
	/* Stages a change for the next group commit: a lease made on slot (its record as it is
	 * now), or the end of lease generation on slot. A change that cannot be staged stops
	 * the daemon (the journal's business): nothing waiting for it is ever told. */
	void (*stage)(struct engine_commit *cm, struct engine *e, const struct request *req,
		      uint32_t slot, bool made, uint64_t generation);
	/* Asked before a new lease is made: 0 when it can be made durable, else a negative
	 * errno with the refusal written into cqe (res and message): the lease is not made
	 * and nothing changes. NULL: always. */
	int (*room)(struct engine_commit *cm, struct engine *e, struct vfpool_cqe *cqe);
	/* Brackets a batch of requests whose completions the caller publishes together, after
	 * batch_end (a client ring's serve pass): inside it, a change whose journal can make it
	 * durable at once (a mapped journal) is made durable once for the whole batch, by
	 * batch_end, and its completion is not held. batch_end: 0, or a negative errno: nothing
	 * of the batch is durable and none of its completions may be published (the daemon is
	 * stopping). NULL: no batching. */
	void (*batch_begin)(struct engine_commit *cm, struct engine *e);
	int (*batch_end)(struct engine_commit *cm, struct engine *e);
};

struct vm_quota;

struct engine {
	struct vfpool_state_hdr *hdr; /* the state segment, writable */
	struct engine_hooks *hooks;   /* NULL: nothing to do after a lease is made or ended */
	struct engine_commit *commit; /* NULL: changes are not journaled */
	struct pending_durability *durability; /* NULL: a change is durable once staged */
	struct pending_cache pending; /* completions of requests that complete later */
	struct vm_quota *quota;       /* leases per VM */
	uint32_t max_leases_per_vm;   /* 0: no limit */
	enum placement_mode placement; /* where VFs go unless a profile says (--placement) */
	struct pool pool;
	struct lease_index *leases;
	uint32_t *pci_sorted; /* VF slots sorted by PCI address, for pinning */
	uint32_t n_pci_sorted;
	uint64_t next_generation;
	/* NULL, or a policy with no network defined: policy off, every PF serves every
	 * network (a host nobody configured yet). Owned by the caller; read on every alloc,
	 * so a change is seen by the next request. */
	const struct policy *policy;
	char (*slot_profile)[VFPOOL_NETWORK_MAX]; /* per VF slot: the lease's profile, or "" */
	/* requests served from client rings, modulo VFPOOL_LAT_SAMPLE: the one that reaches
	 * it has its service time sampled (core/model/client_ring.c) */
	uint32_t lat_tick;
};

/* Attaches to a formatted state segment (core/model/state_segment.h). */
int engine_init(struct engine *e, struct vfpool_state_hdr *hdr);
void engine_fini(struct engine *e);

/* engine_commit's batch bracket, or nothing without one. */
static inline void engine_batch_begin(struct engine *e)
{
	if (e->commit && e->commit->batch_begin)
		e->commit->batch_begin(e->commit, e);
}

static inline int engine_batch_end(struct engine *e)
{
	return e->commit && e->commit->batch_end ? e->commit->batch_end(e->commit, e) : 0;
}

/* Serves one request. Never fails as a function: errors are completions. The request's
 * completion is in *ret_cqe when .now says so (its only one, or an early allocation's
 * first); .later more come through sink (struct pending_completion). sink may be NULL when
 * nothing keeps requests (no hooks, no durability). */
struct engine_served engine_serve(struct engine *e, const struct request *req,
				  struct completion_sink *sink, struct vfpool_cqe *ret_cqe);

/* Serves an all-or-nothing chain of n alloc requests (VFPOOL_REQ_F_LINK): every entry is
 * leased, or none is and every completion carries the failure (the failing entry's own
 * message names it; the others carry VFPOOL_CQE_F_CHAIN). Readers never see part of a
 * chain: one seqlock write section. ret_served[i] is entry i's, as engine_serve returns
 * it; returns the sum of their later completions. */
unsigned engine_serve_chain(struct engine *e, const struct request *reqs, unsigned n,
			    struct completion_sink *sink, struct vfpool_cqe *cqes,
			    struct engine_served *ret_served);

/* Leases that were made with this profile. */
unsigned engine_profile_leases(const struct engine *e, const char *profile);

/* A kept allocation that failed: the lease is removed and the VF returned to the pool,
 * unless the lease generation moved on meanwhile (then nothing is touched). */
void engine_undo_lease(struct engine *e, uint32_t slot, uint64_t generation);
/* A VF a hook kept claimed (lease_ended, or a start-up reset) goes back to the pool. */
void engine_return_vf(struct engine *e, uint32_t slot);
/* Keeps a VF from the pool (VFPOOL_BLOCK_DIRTY) with the reason in its record, then drops
 * the hook's claim: the blocked bit keeps it out until repaired. */
void engine_quarantine(struct engine *e, uint32_t slot, const char *reason);
/* Claims a free VF for a hook's own work (start-up reset); -EBUSY when leased. */
int engine_hold_vf(struct engine *e, uint32_t slot);

/* Completes a request that failed to decode. */
void engine_reject(struct engine *e, uint64_t user_data, int err, const char *why,
		   struct vfpool_cqe *ret_cqe);

/* A lease given back at start: what the model needs of a journal record (the journal's
 * format stays the journal's, core/lease/journal_format.h). The strings are the caller's,
 * NUL-terminated, read during the call only. */
struct engine_lease {
	uint32_t slot;       /* VF record index in the state segment */
	uint64_t generation;
	uint32_t owner_uid;  /* who made it; LEASE_OWNER_UNKNOWN: before owners were kept */
	uint16_t flags;      /* VFPOOL_LEASE_F_* */
	uint8_t mac[6];
	const char *pci;     /* the VF it named: the slot may hold another VF now */
	const char *vm, *vnic, *network;
	const char *profile; /* the vNIC profile it was made through, or "" */
};

/* Gives back a lease read from the journal at start: claims its slot, writes its record,
 * indexes it with its owner and remembers its profile. -ENODEV when the slot no longer
 * holds that VF (the lease is lost), -EBUSY when the slot is already leased, -EEXIST when
 * the (VM, vNIC) already holds one. */
int engine_restore_lease(struct engine *e, const struct engine_lease *l);

/* A new lease whose journal record could not be written: gone from memory as if it was
 * never made (no journal record either: there is none to undo). Nothing happens when the
 * slot's lease generation moved on. */
void engine_forget_lease(struct engine *e, uint32_t slot, uint64_t generation);

/* The uid that made the lease on slot (LEASE_OWNER_UNKNOWN: before owners were kept), or
 * -ENOENT when the slot holds none. */
int64_t engine_lease_owner(const struct engine *e, uint32_t slot);

/* Whether req may change (release, or allocate again) a lease made by owner_uid: its
 * owner, root, the admin group; anyone for a lease whose owner is unknown. */
bool engine_may_change(const struct request *req, uint32_t owner_uid);
/* Rebuilds the PCI-address index after VF records gained or changed addresses (VFs that
 * appeared after start). */
void engine_reindex_pci(struct engine *e);

/* VF slot by PCI address, or -ENOENT. */
int64_t engine_find_pci(const struct engine *e, const char *pci);

#endif
