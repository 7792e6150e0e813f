/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sched.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "client/libvfpool/internal.h"
#include "shm/seqlock.h"

#define SYNC_USER_DATA UINT64_C(0xffffffffffffffff)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The daemon's reason for the caller: NUL-terminated, cut to why_len. */
static void copy_why(char *ret_why, size_t why_len, const char *why)
{
	if (ret_why && why_len)
		snprintf(ret_why, why_len, "%s", why);
}

/* Copies a caller's string into a fixed field; -EINVAL when it does not fit. */
static int put_str(char *dst, size_t n, const char *src, bool required)
{
	size_t len;

	if (!src)
		return required ? -EINVAL : 0;
	len = strnlen(src, n);
	if (len == n || (required && len == 0))
		return -EINVAL;
	memcpy(dst, src, len);
	return 0;
}

/* slots: the completions the new request may need (2 for an early allocation) */
static struct vfpool_sqe *next_sqe(struct vfpool *h, uint32_t slots)
{
	int64_t space;

	if (h->dead)
		return NULL;
	space = ring_prod_space(&h->sq);
	if (space <= (int64_t)h->queued)
		return NULL;
	/* completions must have room too: never have more owed than the CQ holds */
	if (h->inflight + h->queued + h->n_early + slots > h->cq.mask + 1)
		return NULL;
	return &h->sqes[ring_prod_slot(&h->sq, h->queued)];
}

#define ALLOC_FLAGS (VFPOOL_ALLOC_LINK | VFPOOL_ALLOC_EARLY | VFPOOL_ALLOC_BIND_PID | \
		     VFPOOL_ALLOC_NUMA | VFPOOL_ALLOC_NUMA_REQUIRED | VFPOOL_ALLOC_VFIO)

VFPOOL_API int vfpool_submit_alloc(struct vfpool *h, const struct vfpool_alloc_req *caller_req,
				   uint64_t user_data)
{
	struct vfpool_sqe e = { .user_data = user_data, .opcode = VFPOOL_OP_ALLOC, .numa_node = -1 };
	struct vfpool_alloc_req copy, *req = &copy;
	struct vfpool_sqe *slot;
	int r;

	if (!h || !caller_req)
		return -EINVAL;
	/* once: what the caller's struct holds cannot change under the checks below */
	r = opts_in(&copy, sizeof(copy), caller_req, OPTS_SIZE_alloc_req);
	if (r)
		return r;
	if (req->reserved)
		return -EINVAL;
	if (put_str(e.vm_id, sizeof(e.vm_id), req->vm_id, true) ||
	    put_str(e.vnic_id, sizeof(e.vnic_id), req->vnic_id, true) ||
	    put_str(e.network, sizeof(e.network), req->network, !req->profile) ||
	    put_str(e.profile, sizeof(e.profile), req->profile, false) ||
	    put_str(e.pin_pci, sizeof(e.pin_pci), req->pin_pci, false))
		return -EINVAL;
	if (req->flags & ~ALLOC_FLAGS)
		return -EINVAL;
	if (req->flags & VFPOOL_ALLOC_EARLY)
		e.flags |= VFPOOL_REQ_F_EARLY;
	if (req->flags & VFPOOL_ALLOC_VFIO)
		e.flags |= VFPOOL_REQ_F_VFIO;
	if (req->flags & VFPOOL_ALLOC_BIND_PID) {
		if (req->bind_pid < 0)
			return -EINVAL;
		e.flags |= VFPOOL_REQ_F_BIND_PID;
		e.bind_pid = req->bind_pid;
	}
	if (req->profile)
		e.flags |= VFPOOL_REQ_F_PROFILE;
	if (req->flags & VFPOOL_ALLOC_LINK) {
		/* the daemon can only serve a chain whose every entry fits its ring at once */
		if (h->linked + 1 >= VFPOOL_CHAIN_MAX)
			return -E2BIG;
		e.flags |= VFPOOL_REQ_F_LINK;
	}
	if (req->pin_pci)
		e.flags |= VFPOOL_REQ_F_PIN;
	if (req->mac) {
		memcpy(e.mac, req->mac, sizeof(e.mac));
		e.flags |= VFPOOL_REQ_F_MAC;
	}
	/* zero means no preference: a node is named with the flag, and a node without it is
	 * a caller who forgot the flag, not one to ignore */
	if (req->flags & VFPOOL_ALLOC_NUMA) {
		if (req->numa_node < 0)
			return -EINVAL;
		e.numa_node = req->numa_node;
		if (req->flags & VFPOOL_ALLOC_NUMA_REQUIRED)
			e.flags |= VFPOOL_REQ_F_NUMA_REQUIRED;
	} else if ((req->numa_node != 0 && req->numa_node != -1) ||
		   (req->flags & VFPOOL_ALLOC_NUMA_REQUIRED)) {
		return -EINVAL;
	}
	slot = next_sqe(h, (e.flags & VFPOOL_REQ_F_EARLY) ? 2 : 1);
	if (!slot)
		return h->dead ? -ECONNRESET : -EAGAIN;
	if (e.flags & VFPOOL_REQ_F_EARLY) {
		r = early_track(h, user_data);
		if (r)
			return r;
	}
	memcpy(slot, &e, sizeof(e));
	h->queued++;
	h->linked = (e.flags & VFPOOL_REQ_F_LINK) ? h->linked + 1 : 0;
	return 0;
}

VFPOOL_API int vfpool_submit_release(struct vfpool *h, const char *vm_id, const char *vnic_id,
				     uint64_t generation, uint64_t user_data)
{
	struct vfpool_sqe e = { .user_data = user_data, .opcode = VFPOOL_OP_RELEASE,
				.generation = generation };
	struct vfpool_sqe *slot;

	if (!h)
		return -EINVAL;
	if (put_str(e.vm_id, sizeof(e.vm_id), vm_id, true) ||
	    put_str(e.vnic_id, sizeof(e.vnic_id), vnic_id, true))
		return -EINVAL;
	if (generation)
		e.flags |= VFPOOL_REQ_F_GEN;
	if (h->linked)
		return -EINVAL; /* a chain holds allocations only; end it first */
	slot = next_sqe(h, 1);
	if (!slot)
		return h->dead ? -ECONNRESET : -EAGAIN;
	memcpy(slot, &e, sizeof(e));
	h->queued++;
	return 0;
}

/* Doorbells in a row that found the daemon awake before its clients stop treating it as
 * one that sleeps between requests (struct vfpool.sleepy_daemon). */
#define SLEEPY_STREAK 64u

/* Wakes the daemon if it announced it sleeps. Call after a store it must see (a new
 * sq_tail, or a cq_head that makes room): the seq_cst fence orders that store before the
 * sq_wakeup load and pairs with the daemon's fence between setting sq_wakeup and
 * re-reading the rings in client_ring_prepare_sleep, so one of the two sees the other. */
static void ring_doorbell(struct vfpool *h)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&h->ring->sq_wakeup.v, memory_order_relaxed)) {
		/* release: pairs with the daemon's acquire load of sq_bell before it arms its
		 * futex wait; a bump it did not see makes that wait return at once */
		atomic_fetch_add_explicit(&h->ring->sq_bell.v, 1, memory_order_release);
		syscall(SYS_futex, &h->ring->sq_bell.v, FUTEX_WAKE, 1, NULL, NULL, 0);
		h->woke_daemon = true;
		h->sleepy_daemon = true;
		h->awake_streak = 0;
	} else if (h->sleepy_daemon && ++h->awake_streak >= SLEEPY_STREAK) {
		h->sleepy_daemon = false;
	}
}

VFPOOL_API int vfpool_flush(struct vfpool *h)
{
	/* an open chain stays queued: the daemon must never see half of it */
	uint32_t n = h->queued - h->linked;

	if (n == 0)
		return 0;
	ring_prod_publish(&h->sq, n);
	h->queued -= n;
	h->inflight += n;
	summary_mark(h);
	ring_doorbell(h);
	return (int)n;
}

void lease_from_cqe(const struct vfpool_cqe *c, struct vfpool_lease *l)
{
	memset(l, 0, sizeof(*l));
	l->sz = sizeof(*l);
	memcpy(l->pci_addr, c->pci_addr, sizeof(l->pci_addr));
	memcpy(l->netdev, c->netdev, sizeof(l->netdev));
	memcpy(l->pf_netdev, c->pf_netdev, sizeof(l->pf_netdev));
	l->pci_addr[sizeof(l->pci_addr) - 1] = '\0';
	l->netdev[sizeof(l->netdev) - 1] = '\0';
	l->pf_netdev[sizeof(l->pf_netdev) - 1] = '\0';
	l->pf_index = c->pf_index;
	l->vf_index = c->vf_index;
	l->iommu_group = c->iommu_group;
	l->numa_node = c->numa_node;
	l->generation = c->generation;
	if (c->flags & VFPOOL_CQE_F_EXISTING)
		l->flags |= VFPOOL_LEASE_EXISTING;
	if (c->flags & VFPOOL_CQE_F_NUMA_MISS)
		l->flags |= VFPOOL_LEASE_NUMA_MISS;
	if (c->flags & VFPOOL_CQE_F_CHAIN)
		l->flags |= VFPOOL_LEASE_CHAIN_ABORTED;
	if ((c->flags & VFPOOL_CQE_F_VFIO) && c->iommu_group >= 0) {
		l->flags |= VFPOOL_LEASE_VFIO;
		snprintf(l->vfio_group, sizeof(l->vfio_group), "/dev/vfio/%d", (int)c->iommu_group);
	}
	if (c->res == VFPOOL_CQE_USE_BRIDGE) {
		memset(l, 0, sizeof(*l));
		l->sz = sizeof(*l);
		l->flags = VFPOOL_LEASE_USE_BRIDGE;
	}
}

/* out: the caller's array, stride bytes apart (its first element's sz, checked) */
static unsigned take_completions(struct vfpool *h, char *out, size_t stride, unsigned max,
				 uint32_t avail)
{
	unsigned n = avail < max ? avail : max;

	for (unsigned i = 0; i < n; i++) {
		const struct vfpool_cqe *shared = &h->cqes[ring_cons_slot(&h->cq, i)];
		struct vfpool_completion done = { .sz = sizeof(done) };
		struct vfpool_completion *dst = (struct vfpool_completion *)(out + i * stride);
		struct vfpool_cqe c;

		/* the daemon writes the message only with an error: read it only then */
		memcpy(&c, shared, offsetof(struct vfpool_cqe, message));
		done.user_data = c.user_data;
		_Static_assert(VFPOOL_CQE_USE_BRIDGE == VFPOOL_USE_BRIDGE, "use-the-bridge result");
		done.res = c.res > 0 && c.res != VFPOOL_CQE_USE_BRIDGE ? -EPROTO : c.res;
		done.more = (c.flags & VFPOOL_CQE_F_MORE) != 0;
		if (h->n_early)
			early_settle(h, c.user_data);
		/* a request answered with more is still in flight: its last word is owed */
		if (!done.more && h->inflight)
			h->inflight--;
		lease_from_cqe(&c, &done.lease);
		if (c.res) {
			memcpy(done.why, shared->message, sizeof(done.why));
			done.why[sizeof(done.why) - 1] = '\0';
		}
		opts_out_sized(dst, stride, &done, sizeof(done));
		/* the lease holds what the caller's completion has room for */
		dst->lease.sz = stride - offsetof(struct vfpool_completion, lease);
	}
	if (n) {
		ring_cons_consume(&h->cq, n);
		h->woke_daemon = false;
	}
	/* requests still waiting may have been held back by a full completion ring: the
	 * daemon sleeps on them until told there is room */
	if (n && h->inflight) {
		summary_mark(h);
		ring_doorbell(h);
	}
	return n;
}

/* Sleeps until completions may have arrived, up to slice_ms. */
static void sleep_for_completions(struct vfpool *h, int slice_ms)
{
	struct timespec ts = { .tv_sec = slice_ms / 1000, .tv_nsec = (slice_ms % 1000) * 1000000L };
	/* acquire: pairs with the daemon's bump of cq_bell after it publishes completions */
	uint32_t bell = atomic_load_explicit(&h->ring->cq_bell.v, memory_order_acquire);

	atomic_store_explicit(&h->ring->cq_wakeup.v, 1, memory_order_relaxed);
	/* seq_cst fence: cq_wakeup store before re-reading cq_tail; pairs with the daemon's
	 * fence between publishing cq_tail and reading cq_wakeup */
	atomic_thread_fence(memory_order_seq_cst);
	if (ring_cons_avail(&h->cq) == 0)
		syscall(SYS_futex, &h->ring->cq_bell.v, FUTEX_WAIT, bell, &ts, NULL, 0);
	atomic_store_explicit(&h->ring->cq_wakeup.v, 0, memory_order_relaxed);
}

/* How long a wait spins before it starts yielding (vfpool_reap). */
#define YIELD_AFTER_NS 500u

VFPOOL_API int vfpool_reap(struct vfpool *h, struct vfpool_completion *out, unsigned max,
			   unsigned min_complete, int timeout_ms)
{
	uint64_t start = 0, spin_ns;
	unsigned got = 0, polls = 0;
	size_t stride = 0;

	if (!h || (!out && max))
		return -EINVAL;
	if (max) {
		stride = out->sz;
		if (opts_size_ok(stride, OPTS_SIZE_completion))
			return -EINVAL;
	}
	spin_ns = (uint64_t)h->spin_us * 1000u;
	if (!h->ring)
		return -ECONNRESET; /* a reconnection failed: vfpool_reconnect again */
	if (min_complete > max)
		min_complete = max;
	for (;;) {
		int64_t avail = ring_cons_avail(&h->cq);
		uint64_t now;

		if (avail < 0) {
			h->dead = true;
			return -EPROTO;
		}
		got += take_completions(h, (char *)out + got * stride, stride, max - got,
					(uint32_t)avail);
		if (got >= min_complete || got == max)
			return (int)got;
		/* the clock only every 64 polls: the answer usually comes sooner than a clock read */
		if (start && (++polls & 63) != 0) {
			if (h->woke_daemon)
				sched_yield();
			continue;
		}
		now = now_ns();
		if (!start)
			start = now;
		if (timeout_ms >= 0 && now - start >= (uint64_t)timeout_ms * 1000000u)
			return got ? (int)got : -ETIMEDOUT;
		if (now - start < spin_ns) {
			/* the daemon may be queued behind us on this CPU (just woken, or awake
			 * and preempted): spinning would delay its answer to the end of our time
			 * slice, a yield lets it run at once and returns at once when nothing
			 * else waits. At once after waking it; else, with a daemon that sleeps
			 * between requests, once per clock read past the first YIELD_AFTER_NS.
			 * A polling daemon's clients only spin: on a busy host a yield can cost
			 * them the CPU for a whole time slice */
			if (h->woke_daemon || (h->sleepy_daemon && now - start >= YIELD_AFTER_NS))
				sched_yield();
			else
				seqlock_cpu_relax();
			continue;
		}
		if (daemon_hung_up(h))
			return got ? (int)got : -ECONNRESET;
		{
			/* at most 100 ms at a time (to notice a dead daemon), never past the
			 * caller's deadline */
			int slice = 100;

			if (timeout_ms >= 0) {
				uint64_t left = (uint64_t)timeout_ms * 1000000u - (now - start);

				slice = (int)(left / 1000000u) + 1;
				if (slice > 100)
					slice = 100;
			}
			sleep_for_completions(h, slice);
		}
	}
}

static int alloc_once(struct vfpool *h, const struct vfpool_alloc_req *req,
		      struct vfpool_lease *ret_lease, char *ret_why, size_t why_len, int timeout_ms)
{
	struct vfpool_completion c = { .sz = sizeof(c) };
	int r;

	if (h->inflight || h->queued)
		return -EBUSY; /* a sync call would steal an async completion */
	r = vfpool_submit_alloc(h, req, SYNC_USER_DATA);
	if (r)
		return r;
	vfpool_flush(h);
	r = vfpool_reap(h, &c, 1, 1, timeout_ms);
	if (r < 0)
		return r;
	if (c.res) {
		copy_why(ret_why, why_len, c.why);
		return c.res;
	}
	opts_out_sized(ret_lease, ret_lease->sz, &c.lease, sizeof(c.lease));
	return 0;
}

#define VNIC_FLAGS (VFPOOL_ALLOC_NUMA | VFPOOL_ALLOC_NUMA_REQUIRED | VFPOOL_ALLOC_VFIO)

/* vnics and ret_leases are the caller's arrays, strided by their first element's sz */
static int alloc_vm_once(struct vfpool *h, const char *vm_id, const char *vnics,
			 size_t vnic_stride, unsigned n, char *ret_leases, size_t lease_stride,
			 char *ret_why, size_t why_len, int timeout_ms)
{
	struct vfpool_completion c[VFPOOL_CHAIN_MAX];
	int r = 0;

	if (h->inflight || h->queued)
		return -EBUSY;
	for (unsigned i = 0; i < n; i++) {
		struct vfpool_vnic_req v;
		struct vfpool_alloc_req req;

		r = opts_in(&v, sizeof(v), vnics + i * vnic_stride, OPTS_SIZE_vnic_req);
		if (r == 0 && (v.sz != vnic_stride || (v.flags & ~VNIC_FLAGS)))
			r = -EINVAL;
		if (r == 0) {
			req = (struct vfpool_alloc_req){
				.sz = sizeof(req), .vm_id = vm_id, .vnic_id = v.vnic_id,
				.network = v.network, .profile = v.profile, .mac = v.mac,
				.pin_pci = v.pin_pci, .numa_node = v.numa_node,
				.flags = v.flags | (i + 1 < n ? VFPOOL_ALLOC_LINK : 0),
			};
			r = vfpool_submit_alloc(h, &req, i);
		}
		if (r) {
			/* nothing was published: forget the queued part of the chain */
			h->queued = 0;
			h->linked = 0;
			return r;
		}
	}
	vfpool_flush(h);
	for (unsigned i = 0; i < n; i++)
		c[i].sz = sizeof(c[i]);
	for (unsigned got = 0; got < n; ) {
		r = vfpool_reap(h, c + got, n - got, n - got, timeout_ms);
		if (r < 0)
			return r;
		got += (unsigned)r;
	}
	for (unsigned i = 0; i < n; i++) {
		if (c[i].res >= 0)
			continue;
		/* every entry carries the failure; the one that failed is not marked aborted */
		for (unsigned k = 0; k < n; k++) {
			if (c[k].res < 0 && !(c[k].lease.flags & VFPOOL_LEASE_CHAIN_ABORTED)) {
				i = k;
				break;
			}
		}
		copy_why(ret_why, why_len, c[i].why);
		return c[i].res;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned at = c[i].user_data < n ? (unsigned)c[i].user_data : i;

		opts_out_sized(ret_leases + at * lease_stride, lease_stride, &c[i].lease,
			       sizeof(c[i].lease));
	}
	return 0;
}

static int release_once(struct vfpool *h, const char *vm_id, const char *vnic_id,
			uint64_t generation, int timeout_ms, bool *ret_published, char *ret_why,
			size_t why_len)
{
	struct vfpool_completion c = { .sz = sizeof(c) };
	int r;

	*ret_published = false;
	if (h->inflight || h->queued)
		return -EBUSY;
	r = vfpool_submit_release(h, vm_id, vnic_id, generation, SYNC_USER_DATA);
	if (r)
		return r;
	vfpool_flush(h);
	*ret_published = true;
	r = vfpool_reap(h, &c, 1, 1, timeout_ms);
	if (r < 0)
		return r;
	if (c.res)
		copy_why(ret_why, why_len, c.why);
	return c.res;
}

/* ---- the synchronous calls survive a daemon restart -----------------------------------
 * On -ECONNRESET they reconnect (RECONNECT_TRIES tries in all, the first at once, then
 * waiting RECONNECT_FIRST_MS doubling to RECONNECT_MAX_MS, never past the handle's
 * timeout_ms counted from the call's start) and submit the request again:
 *  - alloc is idempotent for a (VM, vNIC): if the first attempt was served, the retry gets
 *    the same lease back (VFPOOL_LEASE_EXISTING);
 *  - release: if the first attempt was published, its outcome is unknown (the daemon may
 *    have journaled it before dying), so -ENOENT from a retry means "released" and is 0;
 *    if it was never published, -ENOENT is the daemon's real answer. */
#define RECONNECT_TRIES 10
#define RECONNECT_FIRST_MS 10
#define RECONNECT_MAX_MS 1000

static int ms_left(const struct vfpool *h, uint64_t start)
{
	uint64_t spent = (now_ns() - start) / 1000000u;

	return spent >= h->timeout_ms ? 0 : (int)(h->timeout_ms - spent);
}

/* 0 once connected again; -ECONNRESET when the tries or the time ran out. */
static int reconnect_within(struct vfpool *h, uint64_t start, unsigned *tries)
{
	unsigned delay = RECONNECT_FIRST_MS;

	for (unsigned i = 0; *tries < RECONNECT_TRIES; i++) {
		int left = ms_left(h, start);

		if (left == 0)
			break;
		if (i) {
			unsigned wait = delay < (unsigned)left ? delay : (unsigned)left;
			struct timespec ts = { .tv_sec = wait / 1000,
					       .tv_nsec = (long)(wait % 1000) * 1000000L };

			nanosleep(&ts, NULL);
			delay = delay * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : delay * 2;
		}
		(*tries)++;
		if (vfpool_reconnect(h) == 0)
			return 0;
	}
	return -ECONNRESET;
}

VFPOOL_API int vfpool_alloc(struct vfpool *h, const struct vfpool_alloc_req *req,
			    struct vfpool_lease *ret_lease, char *ret_why, size_t why_len)
{
	uint64_t start = now_ns();
	unsigned tries = 0;
	int r;

	if (ret_why && why_len)
		ret_why[0] = '\0';
	if (!h || !req || !ret_lease)
		return -EINVAL;
	r = opts_size_ok(ret_lease->sz, OPTS_SIZE_lease);
	if (r)
		return -EINVAL;
	/* an early allocation is answered twice: submit and reap it (the flags are read
	 * again, once, by vfpool_submit_alloc; this is only the early refusal) */
	if (opts_size_ok(req->sz, OPTS_SIZE_alloc_req) == 0 &&
	    (req->flags & (VFPOOL_ALLOC_LINK | VFPOOL_ALLOC_EARLY)))
		return -EINVAL;
	for (;;) {
		r = alloc_once(h, req, ret_lease, ret_why, why_len, ms_left(h, start));
		if (r != -ECONNRESET || reconnect_within(h, start, &tries))
			return r;
	}
}

VFPOOL_API int vfpool_alloc_vm(struct vfpool *h, const char *vm_id,
			       const struct vfpool_vnic_req *vnics, unsigned n,
			       struct vfpool_lease *ret_leases, char *ret_why, size_t why_len)
{
	uint64_t start = now_ns();
	unsigned tries = 0;
	int r;

	if (ret_why && why_len)
		ret_why[0] = '\0';
	if (!h || !vm_id || !vnics || !ret_leases || n == 0 || n > VFPOOL_CHAIN_MAX ||
	    opts_size_ok(vnics->sz, OPTS_SIZE_vnic_req) ||
	    opts_size_ok(ret_leases->sz, OPTS_SIZE_lease))
		return -EINVAL;
	for (;;) {
		r = alloc_vm_once(h, vm_id, (const char *)vnics, vnics->sz, n, (char *)ret_leases,
				  ret_leases->sz, ret_why, why_len, ms_left(h, start));
		if (r != -ECONNRESET || reconnect_within(h, start, &tries))
			return r;
	}
}

VFPOOL_API int vfpool_release(struct vfpool *h, const char *vm_id, const char *vnic_id,
			      uint64_t generation, char *ret_why, size_t why_len)
{
	uint64_t start = now_ns();
	unsigned tries = 0;
	bool published, unknown = false;
	int r;

	if (ret_why && why_len)
		ret_why[0] = '\0';
	if (!h)
		return -EINVAL;
	for (;;) {
		r = release_once(h, vm_id, vnic_id, generation, ms_left(h, start), &published,
				 ret_why, why_len);
		if (r == -ENOENT && unknown) {
			if (ret_why && why_len)
				ret_why[0] = '\0';
			return 0; /* the lost attempt released it */
		}
		if (r != -ECONNRESET)
			return r;
		unknown = unknown || published;
		if (reconnect_within(h, start, &tries))
			return r;
	}
}
