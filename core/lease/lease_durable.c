/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/container_of.h"
#include "core/lease/lease_durable.h"
#include "core/log.h"
#include "shm/state.h"


static void fail(struct lease_durable *ld, int err, const char *what)
{
	if (ld->failed)
		return;
	ld->failed = err;
	log_err("journal_failed", "journal=%s step=%s error=\"%s\" action=stop", ld->journal->path,
		what, strerror(-err));
	if (ld->on_failed)
		ld->on_failed(ld->ctx);
}

/* owner: the uid that made the lease (the serve path knows it: the request's) */
static void describe(const struct lease_durable *ld, uint32_t slot, uint32_t owner,
		     struct journal_lease *l)
{
	const struct vfpool_shm_vf *vf = &state_vfs(ld->engine->hdr)[slot];

	memset(l, 0, sizeof(*l));
	l->slot = slot;
	l->generation = vf->lease_gen;
	l->bound_pid = slot < ld->n_slots ? ld->bound_pid[slot] : 0;
	l->flags = vf->lease_flags;
	memcpy(l->pci, vf->pci_addr, sizeof(l->pci));
	memcpy(l->vm, vf->vm_id, sizeof(l->vm));
	memcpy(l->vnic, vf->vnic_id, sizeof(l->vnic));
	memcpy(l->network, vf->network, sizeof(l->network));
	memcpy(l->mac, vf->mac, sizeof(l->mac));
	memcpy(l->profile, ld->engine->slot_profile[slot], sizeof(l->profile));
	l->owner_uid = owner;
}

void lease_durable_describe(const struct lease_durable *ld, uint32_t slot,
			    struct journal_lease *l)
{
	int64_t owner = engine_lease_owner(ld->engine, slot);

	describe(ld, slot, owner >= 0 ? (uint32_t)owner : JOURNAL_OWNER_UNKNOWN, l);
}

static void compact_if_due(struct lease_durable *ld);

static void on_stage(struct engine_commit *cm, struct engine *e, const struct request *req,
		     uint32_t slot, bool made, uint64_t generation)
{
	struct lease_durable *ld = container_of(cm, struct lease_durable, commit);
	int r;

	(void)e;
	if (made) {
		struct journal_lease l;

		if (slot < ld->n_slots)
			ld->bound_pid[slot] = req->bind_pid;
		/* a lease just made is its request's uid's (the lease index says the same,
		 * at the cost of a lookup) */
		describe(ld, slot, req->uid, &l);
		r = 0;
		/* the mark goes ahead of the lease, in the same write: no generation reaches
		 * a client before a mark covering it is durable */
		if (l.generation > ld->gen_reserved) {
			r = journal_stage_gen(ld->journal, l.generation + JOURNAL_GEN_BLOCK);
			if (!r)
				ld->gen_reserved = l.generation + JOURNAL_GEN_BLOCK;
		}
		if (!r)
			r = journal_stage_add(ld->journal, &l);
		if (req->bind_pid > 0 && slot < ld->n_slots && ld->bind_changed)
			ld->bind_changed(ld->bind_ctx, slot, req->bind_pid, l.generation);
	} else {
		int32_t was = slot < ld->n_slots ? ld->bound_pid[slot] : 0;

		if (slot < ld->n_slots)
			ld->bound_pid[slot] = 0;
		r = journal_stage_del(ld->journal, slot, generation);
		if (was > 0 && ld->bind_changed)
			ld->bind_changed(ld->bind_ctx, slot, 0, generation);
	}
	/* on tmpfs the record is in the mapping already: outside a batch it is appended now,
	 * so the completion goes out with the others instead of waiting for the end of the
	 * loop turn; inside one, batch_end appends the whole batch once */
	if (!r && ld->journal->in_memory && !ld->in_batch) {
		r = journal_append_mapped(ld->journal);
		if (!r)
			compact_if_due(ld);
	}
	/* the change is in memory but cannot be made durable: never acknowledged (on_hold) */
	if (r)
		fail(ld, r, "stage");
}

static void on_batch_begin(struct engine_commit *cm, struct engine *e)
{
	struct lease_durable *ld = container_of(cm, struct lease_durable, commit);

	(void)e;
	ld->in_batch = true;
}

/* The batch's one group commit on a mapped journal (its records are in place already):
 * one append, then its completions may be published. A disk journal's commit is the
 * loop turn's (lease_durable_flush): its completions were held. */
static int on_batch_end(struct engine_commit *cm, struct engine *e)
{
	struct lease_durable *ld = container_of(cm, struct lease_durable, commit);
	int r;

	(void)e;
	ld->in_batch = false;
	if (ld->failed)
		return ld->failed;
	if (!ld->journal->in_memory || !journal_has_pending(ld->journal))
		return 0;
	r = journal_append_mapped(ld->journal);
	if (r) {
		fail(ld, r, "append");
		return r;
	}
	compact_if_due(ld);
	return 0;
}

/* A completion waits for whatever the journal has not yet made durable: the staged
 * records' commit, or the one in flight. */
static bool on_hold(struct pending_durability *d, struct pending_completion *p)
{
	struct lease_durable *ld = container_of(d, struct lease_durable, durability);

	/* inside a batch a mapped journal appends before the batch's completions are published
	 * (batch_end): nothing to hold */
	if (ld->in_batch && ld->journal->in_memory && !ld->failed)
		return false;
	/* after a failure nothing is made durable any more: what waits is never told */
	if (ld->failed || journal_has_pending(ld->journal)) {
		pending_queue_push(&ld->staged, p);
		return true;
	}
	if (ld->ops_pending) {
		pending_queue_push(&ld->flight, p);
		return true;
	}
	return false;
}

static bool was_forgotten(const struct lease_durable *ld, uint64_t generation)
{
	/* generations are never handed out twice: the generation alone names the lease */
	for (uint32_t i = 0; i < ld->n_forgotten; i++)
		if (ld->forgotten[i] == generation)
			return true;
	return false;
}

static void remember_forgotten(struct lease_durable *ld, uint64_t generation)
{
	ld->forgotten[ld->forgotten_next] = generation;
	ld->forgotten_next = (ld->forgotten_next + 1) % ld->forgotten_cap;
	if (ld->n_forgotten < ld->forgotten_cap)
		ld->n_forgotten++;
}

/* The change p waited for could not be made durable: its completion is the refusal */
static void refuse(const struct lease_durable *ld, struct pending_completion *p, int err)
{
	char why[sizeof(((struct vfpool_cqe *)0)->message)];

	snprintf(why, sizeof(why), "journal %.96s: %s: the lease was not made durable",
		 ld->journal->path, strerror(-err));
	pending_durable(p, -EIO, why);
}

static int on_room(struct engine_commit *cm, struct engine *e, struct vfpool_cqe *cqe)
{
	struct lease_durable *ld = container_of(cm, struct lease_durable, commit);
	int r = journal_room(ld->journal, lease_index_count(e->leases));

	if (r == 0) {
		if (ld->full)
			log_info("journal_space_available",
				 "journal=%s action=\"new leases resume\"", ld->journal->path);
		ld->full = false;
		return 0;
	}
	if (!ld->full)
		log_err("journal_full", "journal=%s error=\"%s\" action=\"new leases refused; "
			"releases and reads go on\"", ld->journal->path, strerror(-r));
	ld->full = true;
	cqe->res = -EIO;
	snprintf(cqe->message, sizeof(cqe->message),
		 "journal %.96s: %s: a new lease cannot be made durable", ld->journal->path,
		 strerror(-r));
	return r;
}

static void compact_if_due(struct lease_durable *ld)
{
	struct engine *e = ld->engine;
	uint32_t n_live = lease_index_count(e->leases), n = 0;
	struct journal_lease *live;
	int r;

	if (!journal_wants_compaction(ld->journal, n_live) || journal_has_pending(ld->journal) ||
	    ld->journal->size < ld->compact_retry_at)
		return;
	live = calloc(n_live ? n_live : 1, sizeof(*live));
	if (!live)
		return; /* try again after the next commit */
	for (uint32_t s = 0; s < e->hdr->n_vfs && n < n_live; s++)
		if (state_vfs(e->hdr)[s].state == VFPOOL_VF_LEASED)
			lease_durable_describe(ld, s, &live[n++]);
	r = journal_compact(ld->journal, live, n, ld->gen_reserved);
	free(live);
	if (r && !ld->compact_retry_at)
		log_warn("journal_compaction_failed", "journal=%s error=\"%s\" action=\"retried "
			 "as the journal grows\"", ld->journal->path, strerror(-r));
	if (r) {
		/* not once per request while the disk is full: after the next stretch of it */
		ld->compact_retry_at = ld->journal->size + JOURNAL_COMPACT_MIN;
		return;
	}
	ld->compact_retry_at = 0;
	log_debug("journal_compacted", "journal=%s leases=%u bytes=%llu", ld->journal->path, n,
			 (unsigned long long)ld->journal->size);
}

/* A new lease of a failed write: forgotten, as if never made (a visitor for
 * journal_commit_refused; the other records are staged again by the journal) */
static int forget_add(void *ctx, const struct journal_rec *rec)
{
	struct lease_durable *ld = ctx;
	const struct vfpool_shm_vf *vf;
	uint32_t slot = rec->lease.slot;

	if (rec->type != JOURNAL_LEASE_ADD || slot >= ld->n_slots)
		return 0;
	remember_forgotten(ld, rec->lease.generation);
	vf = &state_vfs(ld->engine->hdr)[slot];
	if (vf->state == VFPOOL_VF_LEASED && vf->lease_gen == rec->lease.generation) {
		int32_t was = ld->bound_pid[slot];

		ld->bound_pid[slot] = 0;
		if (was > 0 && ld->bind_changed)
			ld->bind_changed(ld->bind_ctx, slot, 0, rec->lease.generation);
		engine_forget_lease(ld->engine, slot, rec->lease.generation);
	}
	return 0;
}

static void on_retry(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct lease_durable *ld = container_of(op, struct lease_durable, retry_op);

	(void)cqe;
	ld->backoff = false; /* the loop's next flush writes again */
}

/* The write failed: nothing of it is on disk. Its new leases are forgotten and answered
 * with the error; its releases stay done, their completions wait for the retry. */
static void commit_refused(struct lease_durable *ld, int err)
{
	struct pending_completion *p;
	struct pending_queue again;
	int r = journal_commit_refused(ld->journal, forget_add, ld);

	if (r) {
		fail(ld, r, "rollback");
		return;
	}
	if (ld->write_failing != err)
		log_err("journal_write_failed", "journal=%s error=\"%s\" action=\"its new leases "
			"refused, its releases written again\"", ld->journal->path, strerror(-err));
	ld->write_failing = err;
	/* what waited for the write's new leases is refused (unless it failed already: the
	 * first failure stands); the rest waits for the write again, ahead of what was staged
	 * since */
	pending_queue_init(&again);
	while ((p = pending_queue_pop(&ld->flight))) {
		if (!p->err && was_forgotten(ld, p->generation))
			refuse(ld, p, err);
		else
			pending_queue_push(&again, p);
	}
	pending_queue_splice(&again, &ld->staged);
	pending_queue_splice(&ld->staged, &again);
	/* the retry waits: a failing file system is not hammered once per loop turn */
	ld->backoff = true;
	loop_timer(ld->ring, &ld->retry_op, &ld->retry_ts, 1000);
}

static void commit_done(struct lease_durable *ld)
{
	struct pending_completion *p;
	bool write_ok = ld->write_res >= 0 && (size_t)ld->write_res == ld->write_len;
	int res = write_ok ? ld->fsync_res
		  : ld->write_res < 0 ? ld->write_res
		  : journal_short_write_error(ld->journal, (size_t)ld->write_res);

	journal_commit_end(ld->journal, res);
	if (!write_ok) {
		commit_refused(ld, res);
		return;
	}
	if (res) {
		fail(ld, res, "fsync");
		return;
	}
	if (ld->write_failing)
		log_info("journal_write_recovered", "journal=%s", ld->journal->path);
	ld->write_failing = 0;
	/* durable: now, and only now, the clients may hear of it */
	while ((p = pending_queue_pop(&ld->flight)))
		pending_durable(p, 0, NULL);
	compact_if_due(ld);
}

static void on_write(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct lease_durable *ld = container_of(op, struct lease_durable, write_op);

	ld->write_res = cqe->res;
	if (--ld->ops_pending == 0)
		commit_done(ld);
}

static void on_fsync(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct lease_durable *ld = container_of(op, struct lease_durable, fsync_op);

	ld->fsync_res = cqe->res;
	if (--ld->ops_pending == 0)
		commit_done(ld);
}

void lease_durable_flush(struct lease_durable *ld)
{
	struct pending_completion *p;
	struct io_uring_sqe *sqe;
	const uint8_t *buf;
	uint64_t off;
	size_t len;

	if (ld->ops_pending || ld->failed || ld->backoff || !journal_has_pending(ld->journal))
		return;
	if (ld->journal->in_memory) {
		int r = journal_append_mapped(ld->journal);

		if (r) {
			fail(ld, r, "append");
			return;
		}
		/* on the page cache of a tmpfs: durable for as long as anything can be */
		while ((p = pending_queue_pop(&ld->staged)))
			pending_durable(p, 0, NULL);
		compact_if_due(ld);
		return;
	}
	if (journal_commit_begin(ld->journal, &buf, &len, &off))
		return;
	pending_queue_splice(&ld->flight, &ld->staged);
	ld->write_len = len;
	ld->write_res = ld->fsync_res = -ECANCELED;
	ld->ops_pending = 2;
	/* both SQEs must be in the same submission for the link: loop_sqe submits when the SQ
	 * is full, which would split them, so make room for two before taking the first */
	if (io_uring_sq_space_left(ld->ring) < 2)
		io_uring_submit(ld->ring);
	sqe = loop_sqe(ld->ring, &ld->write_op);
	io_uring_prep_write(sqe, ld->journal->fd, buf, (unsigned)len, off);
	io_uring_sqe_set_data(sqe, &ld->write_op);
	sqe->flags |= IOSQE_IO_LINK; /* the fsync runs only after the whole write succeeded */
	sqe = loop_sqe(ld->ring, &ld->fsync_op);
	io_uring_prep_fsync(sqe, ld->journal->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, &ld->fsync_op);
}

/* a record's owner goes to the model as it is, "unknown" included */
_Static_assert(JOURNAL_OWNER_UNKNOWN == LEASE_OWNER_UNKNOWN, "one value for an unknown owner");

static int restore(struct lease_durable *ld, const struct journal_live *live, uint64_t damaged)
{
	struct engine *e = ld->engine;
	uint32_t restored = 0, moved = 0;
	struct journal_lease *kept;
	int r;

	/* what comes back, at the slots it comes back to (for the rewrite when any moved) */
	kept = calloc(live->n ? live->n : 1, sizeof(*kept));
	if (!kept)
		return -ENOMEM;

	for (uint32_t i = 0; i < live->n; i++) {
		const struct journal_lease *l = &live->leases[i];
		struct engine_lease el = { .slot = l->slot, .generation = l->generation,
					   .owner_uid = l->owner_uid, .flags = l->flags,
					   .pci = l->pci, .vm = l->vm, .vnic = l->vnic,
					   .network = l->network, .profile = l->profile };

		memcpy(el.mac, l->mac, sizeof(el.mac));
		/* slots are laid out anew at each start: a PF that came or went since moved
		 * this VF to another slot, where its lease follows it (found by address) */
		int64_t now_at = engine_find_pci(e, l->pci);

		if (now_at >= 0)
			el.slot = (uint32_t)now_at;
		r = engine_restore_lease(e, &el);
		if (r == 0) {
			if (el.slot < ld->n_slots)
				ld->bound_pid[el.slot] = l->bound_pid;
			kept[restored] = *l;
			kept[restored++].slot = el.slot;
			if (el.slot != l->slot) {
				log_info("lease_moved", "vm=%s vnic=%s pci=%s slot=%u old_slot=%u",
					 l->vm, l->vnic, l->pci, el.slot, l->slot);
				moved++;
			}
			continue;
		}
		/* the VF vanished (or the journal contradicts itself): the lease is lost, and
		 * said so, rather than handed to a VM that would not find its device */
		log_warn("lease_lost", "vm=%s vnic=%s pci=%s generation=%llu reason=\"%s\"", l->vm,
			 l->vnic, l->pci, (unsigned long long)l->generation,
			 r == -ENODEV ? "VF no longer exists" : strerror(-r));
		ld->lost++;
		/* relaxed: a statistic for ops tools */
		atomic_fetch_add_explicit(&e->hdr->leases_lost, 1, memory_order_relaxed);
		r = journal_stage_del(ld->journal, l->slot, l->generation);
		if (r)
			goto out;
	}
	r = journal_commit(ld->journal);
	/* The journal names a lease by its slot: once any moved, it is rewritten as the
	 * leases at their new slots, in one atomic replacement (appending a record at the new
	 * slot and a delete at the old one could be torn between the two, and an add at a slot
	 * an unmoved record still names replaces it in a replay). */
	if (r == 0 && moved)
		r = journal_compact(ld->journal, kept, restored, live->gen_high);
	if (r)
		goto out;
	/* two ways a lease does not come back: its VF is gone, or its record was damaged (each
	 * one said above, by journal_damaged and the lines after it) */
	log_info("leases_restored", "journal=%s restored=%u moved=%u vf_gone=%u "
		 "damaged_records=%llu", ld->journal->path, restored, moved, ld->lost,
		 (unsigned long long)damaged);
out:
	free(kept);
	return r;
}

static const char *rec_type_name(uint16_t type)
{
	switch (type) {
	case JOURNAL_LEASE_ADD: return "add";
	case JOURNAL_LEASE_DEL: return "del";
	case JOURNAL_GEN_MARK: return "gen";
	case 0: return "unreadable";
	default: return "unknown";
	}
}

/* One line per damaged record, saying what can be known about it and what it cost */
static void report_damage(const struct lease_durable *ld, const struct journal_damage *d,
			  const struct journal_live *live)
{
	const char *path = ld->journal->path;
	unsigned long long off = d->offset, gen = d->generation;
	const struct journal_lease *now;

	if (d->named && d->type == JOURNAL_LEASE_ADD && d->superseded) {
		log_warn("journal_record_lost", "journal=%s offset=%llu type=add vm=%s vnic=%s "
			 "generation=%llu names=unverified outcome=\"nothing lost: a later record "
			 "ended or replaced that lease\"", path, off, d->vm, d->vnic, gen);
	} else if (d->named && d->type == JOURNAL_LEASE_ADD) {
		log_err("lease_lost", "journal=%s offset=%llu vm=%s vnic=%s generation=%llu "
			"names=unverified reason=\"its journal record is damaged\"", path, off,
			d->vm, d->vnic, gen);
	} else if (d->named && d->type == JOURNAL_LEASE_DEL) {
		now = journal_live_find(live, d->slot);
		if (now && now->generation == d->generation)
			log_warn("journal_record_lost", "journal=%s offset=%llu type=del vm=%s "
				 "vnic=%s generation=%llu outcome=\"its release may be undone: the "
				 "lease is restored\"", path, off, now->vm, now->vnic, gen);
		else
			log_warn("journal_record_lost", "journal=%s offset=%llu type=del slot=%u "
				 "generation=%llu outcome=\"nothing lost: that lease is not in the "
				 "journal\"", path, off, d->slot, gen);
	} else if (d->type == JOURNAL_GEN_MARK) {
		log_warn("journal_record_lost", "journal=%s offset=%llu type=gen outcome=\"nothing "
			 "lost: generations restart a block higher\"", path, off);
	} else {
		log_err("journal_record_lost", "journal=%s offset=%llu bytes=%llu type=%s "
			"outcome=\"unknown: the record cannot be read; if it made a lease, that "
			"lease is lost\"", path, off, (unsigned long long)d->bytes,
			rec_type_name(d->type));
	}
}

static void report_scan(struct lease_durable *ld, const struct journal_scan_result *scan,
			const struct journal_live *live)
{
	struct journal *j = ld->journal;
	uint32_t unowned = 0;

	if (scan->torn)
		log_info("journal_torn_tail", "journal=%s offset=%llu reason=\"a write the daemon "
			 "did not finish: never acknowledged, nothing lost\"", j->path,
			 (unsigned long long)scan->good_bytes);
	if (scan->version == JOURNAL_VERSION_1) {
		for (uint32_t i = 0; i < live->n; i++)
			unowned += live->leases[i].owner_uid == JOURNAL_OWNER_UNKNOWN;
		log_info("journal_upgraded", "journal=%s from=1 to=%u leases_without_owner=%u "
			 "note=\"any client may release those, as before\"", j->path,
			 JOURNAL_VERSION, unowned);
	}
	if (j->compact_err)
		log_warn("journal_not_rewritten", "journal=%s error=\"%s\" action=\"appending "
			 "after its last intact record\"", j->path, strerror(-j->compact_err));
	if (scan->unknown)
		log_warn("journal_records_unknown", "journal=%s records=%llu reason=\"written by "
			 "a newer vfpoold: kept until the next compaction, not applied\"", j->path,
			 (unsigned long long)scan->unknown);
	if (!scan->lost && !scan->header_damaged)
		return;
	log_err("journal_damaged", "journal=%s records_lost=%llu bytes_skipped=%llu "
		"records_read=%llu header=%s first=\"%s\" kept_aside=%s", j->path,
		(unsigned long long)scan->lost, (unsigned long long)scan->lost_bytes,
		(unsigned long long)scan->records, scan->header_damaged ? "damaged" : "intact",
		scan->why ? scan->why : "", j->aside[0] ? j->aside : "no");
	if (j->aside_err)
		log_err("journal_not_kept_aside", "journal=%s error=\"%s\" action=\"the "
			"damaged journal stays in place, not rewritten\"", j->path,
			strerror(-j->aside_err));
	for (uint32_t i = 0; i < scan->n_damage; i++)
		report_damage(ld, &scan->damage[i], live);
	if (scan->lost > scan->n_damage)
		log_err("journal_record_lost", "journal=%s more=%llu note=\"not listed one by "
			"one\"", j->path, (unsigned long long)(scan->lost - scan->n_damage));
	/* relaxed: a statistic for ops tools */
	atomic_fetch_add_explicit(&ld->engine->hdr->journal_records_lost, scan->lost,
				  memory_order_relaxed);
}

int lease_durable_start(struct engine *e, struct io_uring *ring, const char *dir,
			void (*on_failed)(void *ctx), void *ctx, struct lease_durable **ret_ld)
{
	struct lease_durable *ld = calloc(1, sizeof(*ld));
	struct journal_scan_result scan;
	struct journal_live live;
	int r;

	if (!ld)
		return -ENOMEM;
	ld->engine = e;
	ld->ring = ring;
	ld->on_failed = on_failed;
	ld->ctx = ctx;
	ld->commit.stage = on_stage;
	ld->durability.hold = on_hold;
	pending_queue_init(&ld->staged);
	pending_queue_init(&ld->flight);
	ld->write_op.complete = on_write;
	ld->fsync_op.complete = on_fsync;
	ld->n_slots = e->hdr->vf_capacity; /* PFs that come after start add slots */
	ld->bound_pid = calloc(ld->n_slots ? ld->n_slots : 1, sizeof(*ld->bound_pid));
	ld->forgotten_cap = ld->n_slots + 64;
	ld->forgotten = calloc(ld->forgotten_cap, sizeof(*ld->forgotten));
	if (!ld->bound_pid || !ld->forgotten) {
		free(ld->bound_pid);
		free(ld->forgotten);
		free(ld);
		return -ENOMEM;
	}
	ld->commit.room = on_room;
	ld->commit.batch_begin = on_batch_begin;
	ld->commit.batch_end = on_batch_end;
	ld->retry_op.complete = on_retry;
	r = journal_open(dir, &live, &scan, &ld->journal);
	if (r) {
		log_err("start_failed", "journal=%s/%s error=\"%s\"", dir, JOURNAL_FILE,
			r == -EPROTONOSUPPORT ? "written by a newer vfpoold (left untouched)"
			: r == -EINVAL ? "not a regular file" : strerror(-r));
		lease_durable_free(ld);
		return r;
	}
	report_scan(ld, &scan, &live);
	r = restore(ld, &live, scan.lost);
	/* start above every generation the journal says may have been handed out */
	if (live.gen_high >= e->next_generation)
		e->next_generation = live.gen_high + 1;
	ld->gen_reserved = live.gen_high;
	journal_live_fini(&live);
	if (r) {
		log_err("start_failed", "journal=%s error=\"%s\"", ld->journal->path, strerror(-r));
		lease_durable_free(ld);
		return r;
	}
	journal_set_stat(ld->journal, &e->hdr->journal_bytes);
	compact_if_due(ld);
	e->commit = &ld->commit;
	e->durability = &ld->durability;
	*ret_ld = ld;
	return 0;
}

void lease_durable_free(struct lease_durable *ld)
{
	if (!ld)
		return;
	if (ld->engine && ld->engine->commit == &ld->commit)
		ld->engine->commit = NULL;
	if (ld->engine && ld->engine->durability == &ld->durability)
		ld->engine->durability = NULL;
	/* the completions still held are the engine's (freed with it): let go of them */
	while (pending_queue_pop(&ld->staged))
		;
	while (pending_queue_pop(&ld->flight))
		;
	journal_close(ld->journal);
	free(ld->bound_pid);
	free(ld->forgotten);
	free(ld);
}
