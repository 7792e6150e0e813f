/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/lease_durable.h"
#include "core/log.h"
#include "shm/state.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static int list_push(struct durable_list *l, struct completion_sink *sink,
		     const struct vfpool_cqe *cqe)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 64;
		struct durable_wait *n = realloc(l->w, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->w = n;
		l->cap = cap;
	}
	l->w[l->n].sink = sink;
	l->w[l->n].cqe = *cqe;
	l->n++;
	return 0;
}

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

void lease_durable_describe(const struct lease_durable *ld, uint32_t slot,
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
}

static void compact_if_due(struct lease_durable *ld);

static int on_changed(struct engine_commit *cm, struct engine *e, const struct request *req,
		      uint32_t slot, bool made, struct completion_sink *sink,
		      struct vfpool_cqe *cqe)
{
	struct lease_durable *ld = container_of(cm, struct lease_durable, commit);
	int r;

	(void)e;
	if (made) {
		struct journal_lease l;

		if (slot < ld->n_slots)
			ld->bound_pid[slot] = req->bind_pid;
		lease_durable_describe(ld, slot, &l);
		r = journal_stage_add(ld->journal, &l);
		if (req->bind_pid > 0 && slot < ld->n_slots && ld->bind_changed)
			ld->bind_changed(ld->bind_ctx, slot, req->bind_pid, l.generation);
	} else {
		int32_t was = slot < ld->n_slots ? ld->bound_pid[slot] : 0;

		if (slot < ld->n_slots)
			ld->bound_pid[slot] = 0;
		r = journal_stage_del(ld->journal, slot, cqe->generation);
		if (was > 0 && ld->bind_changed)
			ld->bind_changed(ld->bind_ctx, slot, 0, cqe->generation);
	}
	/* on tmpfs the append is a memcpy into the mapping: do it now and let the completion
	 * go out with the others, instead of holding it for the end of the loop turn */
	if (!r && ld->journal->in_memory) {
		r = journal_append_mapped(ld->journal);
		if (!r) {
			compact_if_due(ld);
			return 0;
		}
	}
	if (!r && sink)
		r = list_push(&ld->staged, sink, cqe);
	if (r) {
		/* the change is in memory but cannot be made durable: never acknowledge it */
		fail(ld, r, "stage");
		return sink ? 1 : 0;
	}
	return sink ? 1 : 0;
}

/* A completion a hook kept (VF configuration) waits for whatever the journal has not yet
 * made durable: the staged records' commit, or the one in flight. */
static void on_post(struct engine_commit *cm, struct completion_sink *sink,
		    const struct vfpool_cqe *cqe)
{
	struct lease_durable *ld = container_of(cm, struct lease_durable, commit);
	struct durable_list *l = journal_has_pending(ld->journal) ? &ld->staged
				 : ld->ops_pending ? &ld->flight : NULL;

	if (!l || ld->failed) {
		sink->post(sink, cqe);
		return;
	}
	if (list_push(l, sink, cqe) < 0) {
		fail(ld, -ENOMEM, "post");
		sink->post(sink, cqe);
	}
}

static void compact_if_due(struct lease_durable *ld)
{
	struct engine *e = ld->engine;
	uint32_t n_live = lease_index_count(e->leases), n = 0;
	struct journal_lease *live;
	int r;

	if (!journal_wants_compaction(ld->journal, n_live) || journal_has_pending(ld->journal))
		return;
	live = calloc(n_live ? n_live : 1, sizeof(*live));
	if (!live)
		return; /* try again after the next commit */
	for (uint32_t s = 0; s < e->hdr->n_vfs && n < n_live; s++)
		if (state_vfs(e->hdr)[s].state == VFPOOL_VF_LEASED)
			lease_durable_describe(ld, s, &live[n++]);
	r = journal_compact(ld->journal, live, n);
	free(live);
	if (r)
		log_warn("journal_compaction_failed", "journal=%s error=\"%s\"", ld->journal->path,
			 strerror(-r));
	else
		log_debug("journal_compacted", "journal=%s leases=%u bytes=%llu", ld->journal->path, n,
			 (unsigned long long)ld->journal->size);
}

static void commit_done(struct lease_durable *ld)
{
	int fsync_res = ld->fsync_res;
	int res = ld->write_res < 0 ? ld->write_res
		  : (size_t)ld->write_res != ld->write_len ? -EIO : fsync_res;

	journal_commit_end(ld->journal, res);
	if (res) {
		fail(ld, res, ld->write_res < 0 || (size_t)ld->write_res != ld->write_len ? "write"
											  : "fsync");
		return;
	}
	/* durable: now, and only now, the clients may hear of it */
	for (uint32_t i = 0; i < ld->flight.n; i++)
		ld->flight.w[i].sink->post(ld->flight.w[i].sink, &ld->flight.w[i].cqe);
	ld->flight.n = 0;
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
	struct durable_list tmp;
	struct io_uring_sqe *sqe;
	const uint8_t *buf;
	uint64_t off;
	size_t len;

	if (ld->ops_pending || ld->failed || !journal_has_pending(ld->journal))
		return;
	if (ld->journal->in_memory) {
		int r = journal_append_mapped(ld->journal);

		if (r) {
			fail(ld, r, "append");
			return;
		}
		/* on the page cache of a tmpfs: durable for as long as anything can be */
		for (uint32_t i = 0; i < ld->staged.n; i++)
			ld->staged.w[i].sink->post(ld->staged.w[i].sink, &ld->staged.w[i].cqe);
		ld->staged.n = 0;
		compact_if_due(ld);
		return;
	}
	if (journal_commit_begin(ld->journal, &buf, &len, &off))
		return;
	tmp = ld->flight;
	ld->flight = ld->staged;
	ld->staged = tmp;
	ld->staged.n = 0;
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

static int restore(struct lease_durable *ld, const struct journal_live *live)
{
	struct engine *e = ld->engine;
	uint32_t restored = 0;
	int r;

	for (uint32_t i = 0; i < live->n; i++) {
		const struct journal_lease *l = &live->leases[i];

		r = engine_restore_lease(e, l->slot, l->pci, l->vm, l->vnic, l->network, l->mac,
					 l->generation, l->flags);
		if (r == 0) {
			if (l->slot < ld->n_slots)
				ld->bound_pid[l->slot] = l->bound_pid;
			restored++;
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
			return r;
	}
	r = journal_commit(ld->journal);
	if (r)
		return r;
	log_info("leases_restored", "journal=%s restored=%u lost=%u", ld->journal->path, restored,
		 ld->lost);
	return 0;
}

int lease_durable_start(struct engine *e, struct io_uring *ring, const char *state_dir,
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
	ld->commit.changed = on_changed;
	ld->commit.post = on_post;
	ld->write_op.complete = on_write;
	ld->fsync_op.complete = on_fsync;
	ld->n_slots = e->hdr->n_vfs;
	ld->bound_pid = calloc(ld->n_slots ? ld->n_slots : 1, sizeof(*ld->bound_pid));
	if (!ld->bound_pid) {
		free(ld);
		return -ENOMEM;
	}
	r = journal_open(state_dir, &live, &scan, &ld->journal);
	if (r) {
		log_err("start_failed", "journal=%s/%s error=\"%s\"", state_dir, JOURNAL_FILE,
			strerror(-r));
		lease_durable_free(ld);
		return r;
	}
	if (scan.stop)
		log_warn("journal_tail_ignored", "journal=%s offset=%llu records=%llu reason=\"%s\"",
			 ld->journal->path, (unsigned long long)scan.good_bytes,
			 (unsigned long long)scan.records, scan.why);
	r = restore(ld, &live);
	journal_live_fini(&live);
	if (r) {
		log_err("start_failed", "journal=%s error=\"%s\"", ld->journal->path, strerror(-r));
		lease_durable_free(ld);
		return r;
	}
	journal_set_stat(ld->journal, &e->hdr->journal_bytes);
	compact_if_due(ld);
	e->commit = &ld->commit;
	*ret_ld = ld;
	return 0;
}

void lease_durable_free(struct lease_durable *ld)
{
	if (!ld)
		return;
	if (ld->engine && ld->engine->commit == &ld->commit)
		ld->engine->commit = NULL;
	journal_close(ld->journal);
	free(ld->staged.w);
	free(ld->flight.w);
	free(ld->bound_pid);
	free(ld);
}
