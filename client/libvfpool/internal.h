/* SPDX-License-Identifier: MIT */
#ifndef VFPOOL_CLIENT_INTERNAL_H
#define VFPOOL_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"
#include "shm/ring.h"
#include "vfpool/vfpool.h"

struct vfpool {
	int sock;
	uint32_t client_id;
	struct vfpool_ring_hdr *ring;
	size_t ring_size;
	struct vfpool_sqe *sqes;
	const struct vfpool_cqe *cqes;
	struct ring_prod sq;
	struct ring_cons cq;
	uint32_t queued;   /* written, not yet published */
	uint32_t inflight; /* published, not yet reaped */
	uint32_t linked;   /* queued entries of a chain still open (never published) */
	uint64_t *early_ud; /* early requests whose first completion is owed (early.c) */
	uint32_t n_early;
	unsigned spin_us;
	unsigned timeout_ms; /* for the synchronous calls */
	uint32_t cmd_seq;
	bool dead;
	char run_dir[108];     /* what vfpool_reconnect connects to again */
	uint32_t ring_entries; /* asked of every daemon this handle connects to */
	/* the last doorbell woke a sleeping daemon: until its answer comes, the wait yields
	 * the CPU instead of spinning on it (on a shared CPU the daemon needs it to answer) */
	bool woke_daemon;
	/* a daemon that sleeps between requests (a doorbell had to wake it, and fewer than
	 * SLEEPY_STREAK doorbells since found it awake): a wait past YIELD_AFTER_NS yields
	 * too. A polling daemon never needs a doorbell: its clients never yield. */
	bool sleepy_daemon;
	uint32_t awake_streak;
	/* the daemon's pending summary (shm/layout.h), NULL from a daemon without one: the
	 * word holding this ring's bit, and the bit */
	struct vfpool_summary_hdr *summary;
	size_t summary_size;
	_Atomic uint64_t *summary_word;
	uint64_t summary_bit;
};

/* Tells the polling daemon this ring has work (shm/layout.h, pending summary). Call after
 * the store it must see (a new sq_tail, or a cq_head that makes room). */
static inline void summary_mark(struct vfpool *h)
{
	/* release: pairs with the daemon's acquire exchange of the word (conn_summary_take),
	 * so the store before it is visible to the serve the bit triggers. A load first: the
	 * bit is usually still set from the last post, and a read leaves the line shared */
	if (h->summary_word &&
	    !(atomic_load_explicit(h->summary_word, memory_order_relaxed) & h->summary_bit))
		atomic_fetch_or_explicit(h->summary_word, h->summary_bit, memory_order_release);
}

/* Opens a connection to h->run_dir (connect.c); h's connection is replaced only on
 * success. */
int vfpool_open_conn(struct vfpool *h);
/* True (and h marked dead) when the daemon's end of the socket hung up. */
bool daemon_hung_up(struct vfpool *h);
/* Unmaps the pending summary, if mapped. */
void unmap_summary(struct vfpool *h);

__attribute__((format(printf, 2, 3)))
void vfpool_log(enum vfpool_log_level level, const char *fmt, ...);

/* Counts an early request's second completion slot until its first completion arrives.
 * -ENOMEM, or -EAGAIN when as many are owed as the ring holds. */
int early_track(struct vfpool *h, uint64_t user_data);
/* A completion for user_data arrived: an early request waiting for its first one stops
 * counting its extra slot. */
void early_settle(struct vfpool *h, uint64_t user_data);

void lease_from_cqe(const struct vfpool_cqe *c, struct vfpool_lease *ret_lease);

/* run_dir, or when NULL $VFPOOL_RUN_DIR (if set and not empty), or the default. */
const char *vfpool_run_dir(const char *run_dir);

/* ---- sized structs (opts.c) ------------------------------------------------------------ */
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
/* The size each struct had in the first release (LIBVFPOOL_1.0): no caller knows less.
 * When a field is appended, these stay where 1.0 ended. */
#define OPTS_1_0_SIZE(type, last) offsetofend(struct type, last)
#define OPTS_SIZE_opts           OPTS_1_0_SIZE(vfpool_opts, reserved)
#define OPTS_SIZE_alloc_req      OPTS_1_0_SIZE(vfpool_alloc_req, reserved)
#define OPTS_SIZE_vnic_req       OPTS_1_0_SIZE(vfpool_vnic_req, flags)
#define OPTS_SIZE_lease          OPTS_1_0_SIZE(vfpool_lease, reserved)
#define OPTS_SIZE_completion     OPTS_1_0_SIZE(vfpool_completion, lease)
#define OPTS_SIZE_pf_info        OPTS_1_0_SIZE(vfpool_pf_info, flags)
#define OPTS_SIZE_vf_info        OPTS_1_0_SIZE(vfpool_vf_info, vlan_qos)
#define OPTS_SIZE_daemon_info    OPTS_1_0_SIZE(vfpool_daemon_info, probe_reason)
#define OPTS_SIZE_request_stats  OPTS_1_0_SIZE(vfpool_request_stats, latency)
#define OPTS_SIZE_vf_config      OPTS_1_0_SIZE(vfpool_vf_config, mtu)
#define OPTS_SIZE_network_info   OPTS_1_0_SIZE(vfpool_network_info, pf_allowed)
#define OPTS_SIZE_liveness       OPTS_1_0_SIZE(vfpool_liveness, why)

/* 0 when sz is a size a caller may pass: -EINVAL below min_size, -E2BIG past a page. */
int opts_size_ok(size_t sz, size_t min_size);
/* Copies the caller's struct src into dst (this library's, dst_size bytes, zeroed first):
 * what src->sz covers. -EINVAL: sz too small; -E2BIG: a byte past dst_size is set. */
int opts_in(void *dst, size_t dst_size, const void *src, size_t min_size);
/* Copies this library's filled struct src (src_size bytes) to the caller's dst: what
 * dst->sz covers, zeros past src_size; dst->sz is kept. -EINVAL: sz too small. */
int opts_out(void *dst, const void *src, size_t src_size, size_t min_size);
/* The same into an array element whose size (the stride) is already checked. */
void opts_out_sized(void *dst, size_t sz, const void *src, size_t src_size);

#endif
