/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/base/clock.h"
#include "core/model/client_ring.h"
#include "core/model/req_stats.h"
#include "core/model/pid_check.h"


static size_t line_align(size_t v)
{
	return (v + VFPOOL_CACHELINE - 1) & ~(size_t)(VFPOOL_CACHELINE - 1);
}

size_t client_ring_size(uint32_t sq_entries, uint32_t cq_entries)
{
	size_t sz = sizeof(struct vfpool_ring_hdr);

	sz = line_align(sz + (size_t)sq_entries * sizeof(struct vfpool_sqe));
	sz = line_align(sz + (size_t)cq_entries * sizeof(struct vfpool_cqe));
	return (sz + 4095) & ~(size_t)4095;
}

static bool entries_valid(uint32_t n)
{
	return n >= 8 && n <= VFPOOL_RING_MAX_ENTRIES && (n & (n - 1)) == 0;
}

int client_ring_format(void *mem, size_t size, uint32_t client_id, uint32_t sq_entries,
		       uint32_t cq_entries)
{
	struct vfpool_ring_hdr *h = mem;

	if (!entries_valid(sq_entries) || !entries_valid(cq_entries))
		return -EINVAL;
	if (size < client_ring_size(sq_entries, cq_entries))
		return -ENOSPC;
	memset(mem, 0, size);
	h->magic = VFPOOL_RING_MAGIC;
	h->layout_version = VFPOOL_LAYOUT_VERSION;
	h->hdr_size = sizeof(*h);
	h->segment_size = size;
	h->sq_entries = sq_entries;
	h->cq_entries = cq_entries;
	h->sqe_size = sizeof(struct vfpool_sqe);
	h->cqe_size = sizeof(struct vfpool_cqe);
	h->sq_off = sizeof(*h);
	h->cq_off = line_align(h->sq_off + (size_t)sq_entries * sizeof(struct vfpool_sqe));
	h->client_id = client_id;
	h->summary_slot = VFPOOL_SUMMARY_NONE; /* until the connection gives it its slot */
	return 0;
}

void client_ring_attach(struct client_ring *r, void *mem, size_t size)
{
	struct vfpool_ring_hdr *h = mem;

	/* geometry comes from the daemon's own format call, never re-read from shared memory
	 * after the client has it */
	r->hdr = h;
	r->size = size;
	r->sq_entries = h->sq_entries;
	r->cq_entries = h->cq_entries;
	r->sqes = (struct vfpool_sqe *)((char *)mem + h->sq_off);
	r->cqes = (struct vfpool_cqe *)((char *)mem + h->cq_off);
	ring_cons_init(&r->sq, &h->sq_head.v, &h->sq_tail.v, r->sq_entries, 0);
	ring_prod_init(&r->cq, &h->cq_tail.v, &h->cq_head.v, r->cq_entries, 0);
	r->violated = false;
	r->deferred = 0;
	/* no rights until the daemon says whose ring this is (core/connection.c) */
	r->peer_uid = REQUEST_UID_NONE;
	r->peer_admin = false;
	r->stalled = false;
	r->refused[0] = '\0';
	r->sleep_sq_tail = r->sleep_cq_head = 0;
	r->bell_sq_tail = r->bell_cq_head = 0;
	r->idle_bells = 0;
}

int client_ring_create(uint32_t client_id, uint32_t sq_entries, uint32_t cq_entries,
		       struct client_ring *ret_ring)
{
	char name[32];
	size_t size;
	void *mem;
	int fd, r;

	if (!entries_valid(sq_entries) || !entries_valid(cq_entries))
		return -EINVAL;
	size = client_ring_size(sq_entries, cq_entries);
	snprintf(name, sizeof(name), "vfpool-client-%u", client_id);
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* the pages are taken now: a memfd is shmem, and shmem short of memory (a memory
	 * cgroup, strict overcommit, huge=) answers a fault in a hole with SIGBUS, which would
	 * kill the daemon at the first completion it writes; here it is an error */
	if (ftruncate(fd, (off_t)size) < 0 || fallocate(fd, 0, 0, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	r = client_ring_format(mem, size, client_id, sq_entries, cq_entries);
	if (r) {
		munmap(mem, size);
		close(fd);
		return r;
	}
	client_ring_attach(ret_ring, mem, size);
	ret_ring->fd = fd;
	return 0;
}

void client_ring_destroy(struct client_ring *r)
{
	if (r->hdr)
		munmap(r->hdr, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->hdr = NULL;
	r->fd = -1;
}

int64_t client_ring_pending(const struct client_ring *r)
{
	return ring_cons_avail(&r->sq);
}

/* Entries of the chain starting at entry i: up to and including the first without the link
 * flag. 0 when its last entry is not published yet. *ret_early: bit k for each entry that
 * asks for early completion (two completions, two CQ slots). */
static uint32_t chain_len(const struct client_ring *r, uint32_t i, uint32_t avail,
			  uint32_t *ret_early)
{
	uint32_t k = 0;

	_Static_assert(VFPOOL_CHAIN_MAX <= 32, "one early bit per chain entry");
	*ret_early = 0;
	while (i + k < avail) {
		/* relaxed read of the client's memory: only decides how many to copy and how
		 * many slots to hold; the copies are what gets validated (a flag changed since
		 * fails their decode) */
		const struct vfpool_sqe *q = &r->sqes[ring_cons_slot(&r->sq, i + k)];
		uint32_t flags = q->flags;

		/* only an entry that can decode as an early alloc holds a second slot: garbage
		 * with that bit set is rejected with one completion, and must not stall the
		 * ring waiting for room it will never use */
		if ((flags & VFPOOL_REQ_F_EARLY) && !(flags & ~VFPOOL_REQ_F_ALL) &&
		    q->opcode == VFPOOL_OP_ALLOC)
			*ret_early |= 1u << k;
		k++;
		if (!(flags & VFPOOL_REQ_F_LINK) || k == VFPOOL_CHAIN_MAX)
			return k;
	}
	return 0;
}

/* Serves the n entries from request i (one request, or one chain). Completions ready now go
 * to the completion slots from w; kept ones come later through sink and hold a slot each.
 * early: the entries two slots were counted for (chain_len). refuse: not NULL, every entry
 * is rejected with -E2BIG for that reason (a chain the completion ring cannot hold).
 * Returns how many were written now. */
static uint32_t serve_entries(struct client_ring *r, struct engine *e, struct completion_sink *sink,
			      uint32_t i, uint32_t w, uint32_t n, uint32_t early, const char *refuse)
{
	struct engine_served served[VFPOOL_CHAIN_MAX] = { 0 };
	uint32_t written = 0;
	struct request reqs[VFPOOL_CHAIN_MAX];
	struct vfpool_cqe done[VFPOOL_CHAIN_MAX];
	uint32_t bad = n;
	const char *bad_why = NULL;
	int bad_err = 0;
	char bind_why[144];

	if (n == 0 || n > VFPOOL_CHAIN_MAX)
		return 0; /* chain_len never says so */
	for (uint32_t k = 0; k < n; k++) {
		struct vfpool_sqe copy;
		const char *why = NULL;
		int err;

		/* the one read of client memory for this request: everything after works on
		 * the copy, so a client rewriting the entry now cannot change what we check */
		memcpy(&copy, &r->sqes[ring_cons_slot(&r->sq, i + k)], sizeof(copy));
		err = request_decode(&copy, &reqs[k], &why);
		if (err)
			memset(&reqs[k], 0, sizeof(reqs[k])); /* only user_data is used */
		/* who asks comes from the connection, never from the entry */
		reqs[k].uid = r->peer_uid;
		reqs[k].admin = r->peer_admin;
		/* the chain's shape is judged on the copies too */
		if (!err && n > 1 && (k + 1 < n) != !!(reqs[k].flags & VFPOOL_REQ_F_LINK)) {
			err = -EINVAL;
			why = k + 1 < n ? "link flag cleared while read" : "chain longer than 32 entries";
		}
		/* its second completion needs the slot counted for it before the copy */
		if (!err && (reqs[k].flags & VFPOOL_REQ_F_EARLY) && !(early & (1u << k))) {
			err = -EINVAL;
			why = "early flag set while read";
		}
		if (!err && (reqs[k].flags & VFPOOL_REQ_F_BIND_PID)) {
			if (reqs[k].bind_pid == 0)
				reqs[k].bind_pid = r->peer_pid;
			if (pid_watch_check(reqs[k].bind_pid) < 0) {
				if (bad == n) /* only the first failure's reason is kept */
					snprintf(bind_why, sizeof(bind_why), "%.63s/%.31s: process %d does not exist",
					 reqs[k].vm_id, reqs[k].vnic_id, (int)reqs[k].bind_pid);
				err = -ESRCH;
				why = bind_why;
			}
		}
		if (err && bad == n) {
			bad = k;
			bad_err = err;
			bad_why = why;
		}
		reqs[k].user_data = copy.user_data;
	}
	if (refuse && bad == n) {
		bad = 0;
		bad_err = -E2BIG;
		bad_why = refuse;
	}
	if (bad < n) {
		char why[176]; /* the longest reason, bind_why, after "linked entry N: " */

		for (uint32_t k = 0; k < n; k++) {
			if (k == bad)
				snprintf(why, sizeof(why), "%s", bad_why);
			else
				snprintf(why, sizeof(why), "linked entry %u: %s", bad, bad_why);
			engine_reject(e, reqs[k].user_data, bad_err, why, &done[k]);
			served[k] = (struct engine_served){ .now = 1, .later = 0 };
			if (k != bad)
				done[k].flags |= VFPOOL_CQE_F_CHAIN;
		}
		/* a bind to a dead process is no malformed request: its reason stands alone */
		if (bad_why == bind_why)
			snprintf(done[bad].message, sizeof(done[bad].message), "%s", bind_why);
	} else if (n == 1 && !(reqs[0].flags & VFPOOL_REQ_F_LINK)) {
		served[0] = engine_serve(e, &reqs[0], sink, &done[0]);
	} else {
		engine_serve_chain(e, reqs, n, sink, done, served);
	}
	for (uint32_t k = 0; k < n; k++) {
		/* each slot stays reserved until client_ring_post_deferred */
		r->deferred += served[k].later;
		if (!served[k].now)
			continue;
		/* a success fills the fields before the message: copy just those, so one
		 * completion moves two cache lines to the client instead of four */
		memcpy(&r->cqes[ring_prod_slot(&r->cq, w + written)], &done[k],
		       done[k].res ? sizeof(done[k]) : offsetof(struct vfpool_cqe, message));
		written++;
	}
	return written;
}

/* Whether the n requests about to be served hold the every-VFPOOL_LAT_SAMPLE-th one
 * (n <= VFPOOL_CHAIN_MAX < VFPOOL_LAT_SAMPLE: at most one does). The hot path pays this
 * add and one branch; only the sampled request pays for the clock. */
static bool sample_due(struct engine *e, uint32_t n)
{
	e->lat_tick += n;
	if (e->lat_tick < VFPOOL_LAT_SAMPLE)
		return false;
	e->lat_tick -= VFPOOL_LAT_SAMPLE;
	return true;
}

/* serve_entries, with its service time sampled when due (a chain's is the whole chain's) */
static uint32_t serve_sampled(struct client_ring *r, struct engine *e,
			      struct completion_sink *sink, uint32_t i, uint32_t w, uint32_t n,
			      uint32_t early, const char *refuse)
{
	uint64_t t0;
	uint32_t written;

	if (!sample_due(e, n))
		return serve_entries(r, e, sink, i, w, n, early, refuse);
	t0 = clock_ns(CLOCK_MONOTONIC);
	written = serve_entries(r, e, sink, i, w, n, early, refuse);
	req_stats_latency(e->hdr, clock_ns(CLOCK_MONOTONIC) - t0);
	return written;
}

__attribute__((format(printf, 3, 4)))
static int refuse_client(struct client_ring *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->refused, sizeof(r->refused), fmt, ap);
	va_end(ap);
	return err;
}

int client_ring_serve(struct client_ring *r, struct engine *e, struct completion_sink *sink,
		      unsigned max)
{
	int64_t avail = ring_cons_avail(&r->sq);
	int64_t space;
	uint32_t i = 0, written = 0, held = 0, room, sq_tail, cq_head;
	char too_long[96];

	r->stalled = false;
	if (avail == 0)
		return 0; /* the polling loop's common case: one load of the client's tail */
	space = ring_prod_space(&r->cq);
	if (avail < 0 || space < 0) {
		r->violated = true;
		return refuse_client(r, -EPROTO, "ring indices out of range");
	}
	/* the indices this pass decides on, for client_ring_prepare_sleep */
	sq_tail = r->sq.priv_head + (uint32_t)avail;
	cq_head = r->cq.priv_tail - (r->cq_entries - (uint32_t)space);
	/* slots held for deferred completions are not ours to fill: a kept request must
	 * always find room when it completes, whatever the client does meanwhile */
	room = (uint32_t)space > r->deferred ? (uint32_t)space - r->deferred : 0;
	/* the pass is one group commit: its changes become durable together, before any of
	 * its completions is published */
	engine_batch_begin(e);
	while (i < (uint32_t)avail && i < max) {
		uint32_t early, n = chain_len(r, i, (uint32_t)avail, &early), slots;
		const char *refuse = NULL;

		if (n == 0) {
			/* a chain that fills the request ring can never be ended */
			if (i == 0 && (uint32_t)avail == r->sq_entries) {
				engine_batch_end(e); /* nothing served */
				return refuse_client(r, -EMSGSIZE, "chain longer than the request "
						     "ring (%u entries)", r->sq_entries);
			}
			/* the chain's end is not published: wait for it, without spinning on it */
			r->stalled = true;
			break;
		}
		/* early completions are rare, and without -mpopcnt the builtin is a call */
		slots = n + (early ? (uint32_t)__builtin_popcount(early) : 0);
		if (slots > r->cq_entries) {
			/* its completions never fit, whatever the client reaps */
			if (i > 0)
				break; /* what came before it is served first */
			if (n > r->cq_entries) {
				engine_batch_end(e); /* nothing served */
				return refuse_client(r, -EMSGSIZE, "chain of %u entries longer "
						     "than the completion ring (%u)", n,
						     r->cq_entries);
			}
			/* one error completion each does fit */
			snprintf(too_long, sizeof(too_long),
				 "chain of %u entries needs %u completion slots, the ring has %u", n,
				 slots, r->cq_entries);
			refuse = too_long;
			slots = n;
		}
		if (held + slots > room) {
			/* its completions must all fit: the client reaps first. Only a pass that
			 * served nothing knows: what it served may have held more slots than it
			 * wrote (an early allocation that completed at once) */
			r->stalled = i == 0;
			break;
		}
		written += serve_sampled(r, e, sink, i, written, n, early, refuse);
		held += slots;
		i += n;
	}
	if (r->stalled) {
		r->stall_sq_tail = sq_tail;
		r->stall_cq_head = cq_head;
	}
	/* durable before told: a batch that could not be made durable is never answered (the
	 * journal's failure stops the daemon) */
	if (engine_batch_end(e) < 0)
		written = 0;
	if (i)
		ring_cons_consume(&r->sq, i);
	if (written)
		ring_prod_publish(&r->cq, written);
	return (int)i;
}

bool client_ring_client_sleeps(struct client_ring *r)
{
	/* seq_cst fence: our cq_tail store (ring_prod_publish) is ordered before the load of
	 * cq_wakeup; pairs with the fence in the client's wait between setting cq_wakeup and
	 * re-reading cq_tail, so one of us always sees the other */
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&r->hdr->cq_wakeup.v, memory_order_relaxed))
		return false;
	/* relaxed: the futex wake is the synchronization; the bump only breaks a wait whose
	 * expected value was read before it */
	atomic_fetch_add_explicit(&r->hdr->cq_bell.v, 1, memory_order_relaxed);
	return true;
}

int64_t client_ring_prepare_sleep(struct client_ring *r)
{
	/* acquire: pairs with the client's bump of sq_bell, so a doorbell rung before we read
	 * it makes the futex wait below fail with -EAGAIN instead of sleeping */
	uint32_t bell = atomic_load_explicit(&r->hdr->sq_bell.v, memory_order_acquire);
	uint32_t sq_tail, cq_head;
	int64_t pending, space;

	atomic_store_explicit(&r->hdr->sq_wakeup.v, 1, memory_order_relaxed);
	/* seq_cst fence: the wakeup flag store is ordered before the re-read of sq_tail and
	 * cq_head; pairs with the client's fence between publishing either and reading
	 * sq_wakeup (libvfpool: ring_doorbell) */
	atomic_thread_fence(memory_order_seq_cst);
	pending = ring_cons_avail(&r->sq);
	if (pending == 0) {
		/* nothing to serve, whatever the client did to its cq_head (the serve that finds
		 * a request checks it) */
		r->sleep_sq_tail = r->sq.priv_head;
		/* relaxed: only compared with a later relaxed read in client_ring_bell_rang;
		 * nothing is read on its strength */
		r->sleep_cq_head = atomic_load_explicit(&r->hdr->cq_head.v, memory_order_relaxed);
		return bell;
	}
	space = ring_prod_space(&r->cq);
	if (pending < 0 || space < 0)
		goto work; /* the serve that follows disconnects the client */
	sq_tail = r->sq.priv_head + (uint32_t)pending;
	cq_head = r->cq.priv_tail - (r->cq_entries - (uint32_t)space);
	/* requests the last serve stopped on (an unfinished chain, completions without room)
	 * are no work until the client publishes or reaps: it rings then. Judged on the
	 * indices alone, never on the entries, so a client rewriting its entries cannot keep
	 * the loop awake; spinning on them would burn a CPU for a client that may never reap */
	if (!r->stalled || sq_tail != r->stall_sq_tail || cq_head != r->stall_cq_head)
		goto work;
	r->sleep_sq_tail = sq_tail;
	r->sleep_cq_head = cq_head;
	return bell;
work:
	/* relaxed: as in client_ring_awake, a stale 1 costs the client one spare wake */
	atomic_store_explicit(&r->hdr->sq_wakeup.v, 0, memory_order_relaxed);
	return -EAGAIN;
}

void client_ring_bell_armed(struct client_ring *r)
{
	r->bell_sq_tail = r->sleep_sq_tail;
	r->bell_cq_head = r->sleep_cq_head;
}

bool client_ring_bell_rang(struct client_ring *r)
{
	/* relaxed: the indices only tell whether the doorbell announced anything; serving
	 * reads them again with the ring's own ordering */
	uint32_t sq_tail = atomic_load_explicit(&r->hdr->sq_tail.v, memory_order_relaxed);
	uint32_t cq_head = atomic_load_explicit(&r->hdr->cq_head.v, memory_order_relaxed);

	if (sq_tail != r->bell_sq_tail || cq_head != r->bell_cq_head) {
		r->idle_bells = 0;
		return false;
	}
	if (++r->idle_bells < CLIENT_RING_IDLE_BELLS)
		return false;
	r->idle_bells = 0; /* the rest starts now: after it, another CLIENT_RING_IDLE_BELLS */
	return true;
}

void client_ring_awake(struct client_ring *r)
{
	/* relaxed: only saves the client a futex syscall; a stale 1 costs one spare wake */
	atomic_store_explicit(&r->hdr->sq_wakeup.v, 0, memory_order_relaxed);
}

int client_ring_post_deferred(struct client_ring *r, const struct vfpool_cqe *cqe)
{
	int64_t space = ring_prod_space(&r->cq);

	r->deferred--;
	if (space <= 0) {
		/* the held slot is gone only if the client moved cq_head backwards */
		r->violated = true;
		return -EPROTO;
	}
	memcpy(&r->cqes[ring_prod_slot(&r->cq, 0)], cqe, sizeof(*cqe));
	/* ring_prod_publish's release store of cq_tail pairs with the client's acquire load
	 * in ring_cons_avail: the entry written above is visible once the tail is */
	ring_prod_publish(&r->cq, 1);
	return 0;
}
