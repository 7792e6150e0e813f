/* SPDX-License-Identifier: MIT */
/*
 * The link-event probe as an event source of the daemon's loop: it resolves the VF records'
 * netdevs in the daemon's network namespace, tracks them in the probe (bpf/probe.h) and in
 * link_watch, learns what is already stacked on them, then receives link events through the
 * io_uring loop and turns link_watch's verdicts into the HOST_BUSY blocked bit, the VF's
 * host-use word and the VF record's reason. Status for readers (mode, reason, filter
 * counters, --busy-when-up) goes to the state segment's header.
 */
#ifndef VFPOOL_CORE_PROBE_SOURCE_H
#define VFPOOL_CORE_PROBE_SOURCE_H

#include <liburing.h>
#include <stdbool.h>

#include "core/model/engine.h"
#include "shm/layout.h"

struct probe_source;

/* Starts watching in mode VFPOOL_PROBE_BPF (falls back on its own when the filter cannot
 * load) or VFPOOL_PROBE_FALLBACK (forced): tracks the VF netdevs, learns what is already
 * stacked on them and publishes mode and reason, so all of it is in the segment before the
 * daemon serves anyone. VFPOOL_PROBE_OFF only publishes that and returns a NULL source.
 * busy_when_up: a VF netdev that is up with nothing else on it is host-busy (LXD's rule),
 * not only reported. The engine (pool and segment) must outlive the source. Logs why when
 * it fails. */
int probe_source_new(struct engine *engine, enum vfpool_probe_mode mode, bool busy_when_up,
		     struct probe_source **ret_source);

/* Starts receiving through the loop's ring (events queued since probe_source_new wait in
 * the socket). NULL source: nothing to do. */
void probe_source_arm(struct probe_source *ps, struct io_uring *ring);

/* The host changed (VFs appeared, netdevs renamed or gone): re-resolves every VF record's
 * netdev, tracks what came, untracks what went, and learns what is already stacked on the
 * new ones. NULL source: nothing to do. */
int probe_source_retrack(struct probe_source *ps);

/* Frees the source. Only after the ring is gone (io_uring_queue_exit): its requests point
 * into it. NULL is fine. */
void probe_source_free(struct probe_source *ps);

/* Parses "bpf", "fallback" or "off". */
int probe_source_parse_mode(const char *s, enum vfpool_probe_mode *ret_mode);

#endif
