/* SPDX-License-Identifier: MIT */
/*
 * The periodic lease sweep (what OpenStack Nova's clean_usage does for its claims): every
 * --sweep-interval-s, each lease whose bound process is gone or whose VF vanished (ABSENT)
 * gets one log line; with --sweep=release it is also released through the engine
 * (journaled, VF reset). The pidfd watch (core/lease/pid_watch.h) normally releases a bound
 * lease at once; the sweep is the safety net for what a watch cannot see (a watch that
 * failed, a VF removed under a lease).
 */
#ifndef VFPOOL_CORE_LEASE_SWEEP_H
#define VFPOOL_CORE_LEASE_SWEEP_H

#include <liburing.h>
#include <stdbool.h>

#include "core/lease/lease_durable.h"
#include "core/model/engine.h"

struct lease_sweep_opts {
	struct io_uring *ring;
	struct engine *engine;               /* the leases, and the releases */
	const struct lease_durable *durable; /* each lease's bound process */
	const bool *stop;                    /* the loop's flag: once set, no more sweeps */
	unsigned interval_s;                 /* 0: the default (60 s) */
	bool release;                        /* release what it finds (else: report it) */
};

struct lease_sweep;

int lease_sweep_start(const struct lease_sweep_opts *opts, struct lease_sweep **ret_sweep);
/* After the ring is gone (its timer points into the sweep). */
void lease_sweep_free(struct lease_sweep *s);

#endif
