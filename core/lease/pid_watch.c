/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/base/container_of.h"
#include "core/log.h"
#include "core/lease/pid_watch.h"
#include "shm/state.h"

/* One bound lease being watched. Lives until every request naming it has completed (the
 * poll, and the cancel that ends it early), which may be after the lease itself ended. */
struct pid_bind {
	struct loop_op poll_op, cancel_op;
	struct pid_watch *w;
	struct pid_bind *prev, *next;
	int pidfd;       /* -1: the process was gone when the lease was bound */
	int32_t pid;
	uint32_t slot;
	uint64_t gen;
	unsigned pending; /* requests in flight naming this bind */
	bool live;        /* still the slot's watch (false once the lease ended or fired) */
};

struct pid_watch {
	struct engine *e;
	struct lease_durable *ld;
	struct io_uring *ring;
	struct completion_sink sink; /* our own releases: nobody waits for them */
	struct pid_bind **by_slot;
	uint32_t n_slots;
	struct pid_bind *all;
	uint64_t released;
};

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void released_posted(struct completion_sink *sink, const struct vfpool_cqe *cqe)
{
	(void)sink;
	if (cqe->res < 0)
		log_warn("lease_release_failed", "generation=%llu error=\"%s\"",
			 (unsigned long long)cqe->generation, cqe->message);
}

int pid_watch_release_lease(struct engine *e, struct completion_sink *sink, uint32_t slot,
			    uint64_t gen, const char *event, const char *why)
{
	const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];
	struct request r;
	struct vfpool_cqe c;

	if (vf->state != VFPOOL_VF_LEASED || vf->lease_gen != gen)
		return -ENOENT;
	memset(&r, 0, sizeof(r));
	r.op = VFPOOL_OP_RELEASE;
	r.flags = VFPOOL_REQ_F_GEN;
	r.generation = gen;
	memcpy(r.vm_id, vf->vm_id, sizeof(r.vm_id));
	memcpy(r.vnic_id, vf->vnic_id, sizeof(r.vnic_id));
	log_info(event, "vm=%s vnic=%s pci=%s generation=%llu reason=\"%s\"", r.vm_id, r.vnic_id,
		 vf->pci_addr, (unsigned long long)gen, why);
	if (engine_serve(e, &r, sink, &c).now && c.res < 0)
		log_warn("lease_release_failed", "vm=%s vnic=%s error=\"%s\"", r.vm_id, r.vnic_id,
			 c.message);
	return 0;
}

static void bind_put(struct pid_bind *b)
{
	if (b->pending)
		return;
	if (b->pidfd >= 0)
		close(b->pidfd);
	if (b->prev)
		b->prev->next = b->next;
	else
		b->w->all = b->next;
	if (b->next)
		b->next->prev = b->prev;
	free(b);
}

static void on_exit_seen(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct pid_bind *b = container_of(op, struct pid_bind, poll_op);
	struct pid_watch *w = b->w;

	b->pending--;
	if (b->live) {
		b->live = false;
		w->by_slot[b->slot] = NULL;
		if (cqe->res < 0 && b->pidfd >= 0) {
			/* the watch itself failed: keep the lease (the sweep still sees it) */
			log_warn("pid_watch_failed", "pid=%d slot=%u error=\"%s\"", (int)b->pid,
				 b->slot, strerror(-cqe->res));
		} else {
			char why[64];

			snprintf(why, sizeof(why), "bound process %d exited", (int)b->pid);
			if (pid_watch_release_lease(w->e, &w->sink, b->slot, b->gen,
						    "lease_released_process_exited", why) == 0)
				w->released++;
		}
	}
	bind_put(b);
}

static void on_cancelled(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct pid_bind *b = container_of(op, struct pid_bind, cancel_op);

	(void)cqe;
	b->pending--;
	bind_put(b);
}

/* The lease on the slot ended (released, or bound anew): stop watching for it. */
static void unbind_slot(struct pid_watch *w, uint32_t slot)
{
	struct pid_bind *b = w->by_slot[slot];
	struct io_uring_sqe *sqe;

	if (!b)
		return;
	w->by_slot[slot] = NULL;
	b->live = false;
	if (b->pidfd < 0)
		return; /* its NOP completes on its own */
	sqe = loop_sqe(w->ring, &b->cancel_op);
	io_uring_prep_cancel(sqe, &b->poll_op, 0);
	io_uring_sqe_set_data(sqe, &b->cancel_op);
	b->pending++;
}

static void bind_slot(struct pid_watch *w, uint32_t slot, int32_t pid, uint64_t gen)
{
	struct pid_bind *b = calloc(1, sizeof(*b));
	struct io_uring_sqe *sqe;

	if (!b) {
		log_warn("pid_watch_failed", "pid=%d slot=%u error=\"%s\"", (int)pid, slot,
			 strerror(ENOMEM));
		return;
	}
	b->w = w;
	b->poll_op.complete = on_exit_seen;
	b->cancel_op.complete = on_cancelled;
	b->pid = pid;
	b->slot = slot;
	b->gen = gen;
	b->live = true;
	b->next = w->all;
	if (w->all)
		w->all->prev = b;
	w->all = b;
	w->by_slot[slot] = b;
	b->pidfd = pidfd_open_(pid);
	sqe = loop_sqe(w->ring, &b->poll_op);
	if (b->pidfd < 0) {
		/* gone already: release on the next loop turn, never from inside the engine
		 * call that is telling us about the lease */
		io_uring_prep_nop(sqe);
	} else {
		/* a pidfd polls readable once its process has exited */
		io_uring_prep_poll_add(sqe, b->pidfd, POLLIN);
	}
	io_uring_sqe_set_data(sqe, &b->poll_op);
	b->pending++;
}

static void on_bind_changed(void *ctx, uint32_t slot, int32_t pid, uint64_t gen)
{
	struct pid_watch *w = ctx;

	if (slot >= w->n_slots)
		return;
	unbind_slot(w, slot);
	if (pid > 0)
		bind_slot(w, slot, pid, gen);
}

int pid_watch_start(struct engine *e, struct lease_durable *ld, struct io_uring *ring,
		    struct pid_watch **ret_watch)
{
	struct pid_watch *w = calloc(1, sizeof(*w));
	unsigned restored = 0;

	if (!w)
		return -ENOMEM;
	w->e = e;
	w->ld = ld;
	w->ring = ring;
	w->sink.post = released_posted;
	w->n_slots = ld->n_slots;
	w->by_slot = calloc(w->n_slots ? w->n_slots : 1, sizeof(*w->by_slot));
	if (!w->by_slot) {
		free(w);
		return -ENOMEM;
	}
	for (uint32_t s = 0; s < w->n_slots; s++) {
		const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[s];

		if (ld->bound_pid[s] > 0 && vf->state == VFPOOL_VF_LEASED) {
			bind_slot(w, s, ld->bound_pid[s], vf->lease_gen);
			restored++;
		}
	}
	ld->bind_ctx = w;
	ld->bind_changed = on_bind_changed;
	if (restored)
		log_info("bound_leases_watched", "leases=%u", restored);
	*ret_watch = w;
	return 0;
}

void pid_watch_free(struct pid_watch *w)
{
	if (!w)
		return;
	if (w->ld && w->ld->bind_ctx == w) {
		w->ld->bind_changed = NULL;
		w->ld->bind_ctx = NULL;
	}
	while (w->all) {
		w->all->pending = 0; /* the ring is gone: nothing more completes */
		bind_put(w->all);
	}
	free(w->by_slot);
	free(w);
}

uint64_t pid_watch_released(const struct pid_watch *w)
{
	return w ? w->released : 0;
}
