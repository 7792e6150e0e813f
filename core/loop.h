/* SPDX-License-Identifier: MIT */
/*
 * One io_uring, many owners. Every request carries a pointer to the loop_op of the part
 * that submitted it (control socket, a client doorbell, the udev monitor, the event probe,
 * a timer, ...); the loop calls op->complete with the CQE. An op must stay alive until its
 * completion arrives, which its owner tracks.
 */
#ifndef VFPOOL_CORE_LOOP_H
#define VFPOOL_CORE_LOOP_H

#include <liburing.h>

struct loop_op;
typedef void (*loop_complete_fn)(struct loop_op *op, const struct io_uring_cqe *cqe);

struct loop_op {
	loop_complete_fn complete;
};

/* An SQE whose completion goes to op. Never NULL: submits first when the ring is full. */
struct io_uring_sqe *loop_sqe(struct io_uring *ring, struct loop_op *op);

/* Arms a one-shot timer: op completes with -ETIME after ms (or -ECANCELED). ts must live
 * until then. */
void loop_timer(struct io_uring *ring, struct loop_op *op, struct __kernel_timespec *ts,
		unsigned ms);

#endif
