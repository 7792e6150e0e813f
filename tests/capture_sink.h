/* SPDX-License-Identifier: MIT */
/* A completion sink for tests: counts what was posted and keeps the last completion. */
#ifndef VFPOOL_TESTS_CAPTURE_SINK_H
#define VFPOOL_TESTS_CAPTURE_SINK_H

#include "core/model/pending_completion.h"

struct sink {
	struct completion_sink s;
	int posted;
	struct vfpool_cqe cqe;
};

static inline void on_post(struct completion_sink *s, const struct vfpool_cqe *cqe)
{
	struct sink *k = (struct sink *)s;

	k->posted++;
	k->cqe = *cqe;
}

#endif
