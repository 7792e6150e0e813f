/* SPDX-License-Identifier: MIT */
#include "core/loop.h"

struct io_uring_sqe *loop_sqe(struct io_uring *ring, struct loop_op *op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	io_uring_sqe_set_data(sqe, op);
	return sqe;
}

void loop_timer(struct io_uring *ring, struct loop_op *op, struct __kernel_timespec *ts,
		unsigned ms)
{
	struct io_uring_sqe *sqe;

	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long long)(ms % 1000) * 1000000;
	sqe = loop_sqe(ring, op);
	io_uring_prep_timeout(sqe, ts, 0, 0);
	io_uring_sqe_set_data(sqe, op);
}
