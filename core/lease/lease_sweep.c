/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lease/lease_durable.h"
#include "core/lease/lease_sweep.h"
#include "core/lease/pid_watch.h"
#include "core/log.h"
#include "core/loop.h"
#include "shm/state.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define SWEEP_DEFAULT_S 60

struct lease_sweep {
	struct lease_sweep_opts opts;
	struct loop_op timer_op;
	struct __kernel_timespec ts;
	struct completion_sink sink; /* its releases: nobody waits for them */
	unsigned interval_ms;
};

static void release_posted(struct completion_sink *sink, const struct vfpool_cqe *cqe)
{
	(void)sink;
	if (cqe->res < 0)
		log_warn("sweep_release_failed", "generation=%llu error=\"%s\"",
			 (unsigned long long)cqe->generation, cqe->message);
}

/* Why the lease on slot should not exist any more, or NULL. */
static const char *stale_reason(const struct lease_sweep *s, uint32_t slot, char *buf,
				size_t len)
{
	const struct engine *e = s->opts.engine;
	const struct lease_durable *ld = s->opts.durable;
	const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];
	const struct vfpool_shm_pf *pf = &state_pfs(e->hdr)[vf->pf_index];
	int32_t pid = slot < ld->n_slots ? ld->bound_pid[slot] : 0;

	if (vf->pf_index < e->pool.n_pfs &&
	    pool_is_blocked(&e->pool.pfs[vf->pf_index], slot - pf->vf_first, VFPOOL_BLOCK_ABSENT))
		return "VF vanished";
	if (pid > 0 && pid_watch_check(pid) == -ESRCH) {
		snprintf(buf, len, "bound process %d is gone", (int)pid);
		return buf;
	}
	return NULL;
}

static void sweep_once(struct lease_sweep *s)
{
	struct engine *e = s->opts.engine;

	for (uint32_t slot = 0; slot < e->hdr->n_vfs; slot++) {
		const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];
		char buf[64];
		const char *why;

		if (vf->state != VFPOOL_VF_LEASED)
			continue;
		why = stale_reason(s, slot, buf, sizeof(buf));
		if (!why)
			continue;
		if (s->opts.release) {
			pid_watch_release_lease(e, &s->sink, slot, vf->lease_gen,
						"sweep_lease_released", why);
			continue;
		}
		log_warn("sweep_stale_lease", "vm=%s vnic=%s pci=%s generation=%llu reason=\"%s\" action=report",
			 vf->vm_id, vf->vnic_id, vf->pci_addr, (unsigned long long)vf->lease_gen, why);
	}
}

static void on_timer(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct lease_sweep *s = container_of(op, struct lease_sweep, timer_op);

	if (cqe->res == -ECANCELED || *s->opts.stop)
		return;
	sweep_once(s);
	loop_timer(s->opts.ring, &s->timer_op, &s->ts, s->interval_ms);
}

int lease_sweep_start(const struct lease_sweep_opts *opts, struct lease_sweep **ret_sweep)
{
	struct lease_sweep *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->opts = *opts;
	s->timer_op.complete = on_timer;
	s->sink.post = release_posted;
	s->interval_ms = (opts->interval_s ? opts->interval_s : SWEEP_DEFAULT_S) * 1000u;
	loop_timer(opts->ring, &s->timer_op, &s->ts, s->interval_ms);
	*ret_sweep = s;
	return 0;
}

void lease_sweep_free(struct lease_sweep *s)
{
	free(s);
}
