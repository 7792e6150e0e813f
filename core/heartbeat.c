/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "core/base/container_of.h"
#include "core/heartbeat.h"
#include "shm/liveness.h"

struct heartbeat {
	struct io_uring *ring;
	struct vfpool_state_hdr *hdr;
	const bool *stop;
	struct loop_op timer_op;
	struct __kernel_timespec ts;
};

static void on_timer(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct heartbeat *hb = container_of(op, struct heartbeat, timer_op);

	if (cqe->res == -ECANCELED || *hb->stop)
		return;
	state_heartbeat(hb->hdr);
	loop_timer(hb->ring, &hb->timer_op, &hb->ts, VFPOOL_HEARTBEAT_MS);
}

int heartbeat_start(struct io_uring *ring, struct vfpool_state_hdr *hdr, const bool *stop,
		    struct heartbeat **ret_hb)
{
	struct heartbeat *hb = calloc(1, sizeof(*hb));

	if (!hb)
		return -ENOMEM;
	hb->ring = ring;
	hb->hdr = hdr;
	hb->stop = stop;
	hb->timer_op.complete = on_timer;
	state_heartbeat(hdr);
	loop_timer(ring, &hb->timer_op, &hb->ts, VFPOOL_HEARTBEAT_MS);
	*ret_hb = hb;
	return 0;
}

void heartbeat_free(struct heartbeat *hb)
{
	free(hb);
}
