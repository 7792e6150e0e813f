/* SPDX-License-Identifier: MIT */
/*
 * A hostile client: does the handshake itself (shm/control_proto.h) and writes its ring
 * (shm/layout.h) as no library would. Its ring is its own memory: everything it does there
 * is allowed to fail its own requests or cut its own connection, never to touch anyone
 * else's leases or take the daemon down.
 */
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "shm/control_proto.h"
#include "shm/layout.h"
#include "tests/soak/soak.h"

#define HOSTILE_VMS   4
#define HOSTILE_VNICS 4

struct raw_ring {
	int sock;
	struct vfpool_ring_hdr *hdr;
	size_t size;
	struct vfpool_sqe *sqes;
	struct vfpool_cqe *cqes;
	uint32_t sq_n, cq_n;
	uint32_t tail; /* ours: what we published */
	struct vfpool_summary_hdr *summary; /* every client's: bits are only hints */
	size_t summary_size;
};

static struct soak_counts *counts;

static uint32_t rnd(void)
{
	return (uint32_t)rand();
}

static uint32_t pick_entries(void)
{
	static const uint32_t sizes[] = { 8, 16, 64, 256 };

	return sizes[rnd() % 4];
}

static void raw_close(struct raw_ring *r)
{
	if (r->hdr)
		munmap(r->hdr, r->size);
	if (r->summary)
		munmap(r->summary, r->summary_size);
	r->summary = NULL;
	if (r->sock >= 0)
		close(r->sock);
	r->hdr = NULL;
	r->sock = -1;
}

/* The handshake by hand: hello, welcome with the ring's descriptor, map the ring. */
static int raw_connect(const char *run_dir, struct raw_ring *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vfpool_ctl_hello hello = { .magic = VFPOOL_CTL_MAGIC, .version = VFPOOL_CTL_VERSION,
					  .type = VFPOOL_CTL_HELLO };
	struct vfpool_ctl_welcome w;
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct pollfd pfd = { .events = POLLIN };
	struct cmsghdr *c;
	int fds[3] = { -1, -1, -1 };
	struct stat st;
	void *mem;

	r->summary = NULL;

	*r = (struct raw_ring){ .sock = -1 };
	hello.sq_entries = pick_entries();
	hello.cq_entries = pick_entries();
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir, VFPOOL_CTL_SOCKET);
	r->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->sock < 0 || connect(r->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(r->sock, &hello, sizeof(hello), MSG_NOSIGNAL) != (ssize_t)sizeof(hello))
		goto fail;
	pfd.fd = r->sock;
	if (poll(&pfd, 1, 2000) != 1 ||
	    recvmsg(r->sock, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(w))
		goto fail;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(3 * sizeof(int)))
			memcpy(fds, CMSG_DATA(c), sizeof(fds));
	if (w.status != 0 || fds[0] < 0)
		goto fail;
	mem = mmap(NULL, w.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	/* the pending summary every client shares: a hostile one scribbles on it too */
	r->summary = NULL;
	if (fds[2] >= 0 && fstat(fds[2], &st) == 0 && st.st_size > 0) {
		void *sm = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				fds[2], 0);

		if (sm != MAP_FAILED) {
			r->summary = sm;
			r->summary_size = (size_t)st.st_size;
		}
	}
	close(fds[0]);
	close(fds[1]);
	if (fds[2] >= 0)
		close(fds[2]);
	if (mem == MAP_FAILED)
		goto fail;
	r->hdr = mem;
	r->size = w.ring_size;
	r->sq_n = hello.sq_entries;
	r->cq_n = hello.cq_entries;
	r->sqes = (struct vfpool_sqe *)((char *)mem + r->hdr->sq_off);
	r->cqes = (struct vfpool_cqe *)((char *)mem + r->hdr->cq_off);
	atomic_fetch_add(&counts->hostile_connects, 1);
	return 0;
fail:
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	if (fds[2] >= 0)
		close(fds[2]);
	raw_close(r);
	return -1;
}

/* The daemon cut us off (we earned it), or went away. */
static bool hung_up(const struct raw_ring *r)
{
	struct pollfd pfd = { .fd = r->sock, .events = POLLRDHUP };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void doorbell(struct raw_ring *r)
{
	atomic_fetch_add_explicit(&r->hdr->sq_bell.v, 1, memory_order_seq_cst);
	syscall(SYS_futex, &r->hdr->sq_bell.v, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Completions are read and dropped (most of the time: a full CQ is hostile too). */
static void reap(struct raw_ring *r)
{
	atomic_store_explicit(&r->hdr->cq_head.v,
			      atomic_load_explicit(&r->hdr->cq_tail.v, memory_order_acquire),
			      memory_order_release);
}

static uint32_t space(const struct raw_ring *r)
{
	uint32_t used = r->tail - atomic_load_explicit(&r->hdr->sq_head.v, memory_order_acquire);

	return used > r->sq_n ? 0 : r->sq_n - used;
}

static void entry(struct vfpool_sqe *e, uint16_t op, uint32_t flags)
{
	memset(e, 0, sizeof(*e));
	e->user_data = ((uint64_t)rnd() << 32) | rnd();
	e->opcode = op;
	e->flags = flags;
	e->numa_node = -1;
	snprintf(e->vm_id, sizeof(e->vm_id), "hostile%u", rnd() % HOSTILE_VMS);
	snprintf(e->vnic_id, sizeof(e->vnic_id), "h%u", rnd() % HOSTILE_VNICS);
	if (op == VFPOOL_OP_ALLOC)
		snprintf(e->network, sizeof(e->network), "red");
}

/* Writes n entries after the tail without publishing them. */
static void put(struct raw_ring *r, uint32_t k, const struct vfpool_sqe *e)
{
	memcpy(&r->sqes[(r->tail + k) & (r->sq_n - 1)], e, sizeof(*e));
}

static void publish(struct raw_ring *r, uint32_t n)
{
	r->tail += n;
	atomic_store_explicit(&r->hdr->sq_tail.v, r->tail, memory_order_release);
	atomic_fetch_add(&counts->hostile_entries, n);
	doorbell(r);
}

/* Chains the daemon must refuse whole (or, for the last shapes, serve as it documents):
 * each entry is an opcode, LINK set on all but the last unless the shape says otherwise. */
static void malformed_chain(struct raw_ring *r)
{
	enum { A = VFPOOL_OP_ALLOC, R = VFPOOL_OP_RELEASE, N = VFPOOL_OP_NOP, X = 77 };
	static const struct {
		uint16_t ops[4];
		uint32_t n;
		bool link_last; /* the chain's end is never marked: it runs into what follows */
	} shapes[] = {
		{ { A, A, R }, 3, false }, /* the undo of other VMs' leases (issue 12, defect 1) */
		{ { A, R }, 2, false },
		{ { A, R, A }, 3, false },
		{ { R, A }, 2, false },
		{ { A, N, A }, 3, false },
		{ { A, A, X }, 3, false },
		{ { A, A, A, R }, 4, false },
		{ { A, A }, 2, true },
	};
	uint32_t s = rnd() % (sizeof(shapes) / sizeof(shapes[0]));
	struct vfpool_sqe e;

	if (space(r) < shapes[s].n)
		return;
	for (uint32_t k = 0; k < shapes[s].n; k++) {
		bool link = k + 1 < shapes[s].n || shapes[s].link_last;

		entry(&e, shapes[s].ops[k], link ? VFPOOL_REQ_F_LINK : 0);
		if (rnd() % 8 == 0)
			e.flags |= rnd() & ~VFPOOL_REQ_F_LINK; /* and sometimes other bad flags */
		put(r, k, &e);
	}
	publish(r, shapes[s].n);
	atomic_fetch_add(&counts->malformed_chains, 1);
}

/* A chain of allocations longer than allowed (32) or than the completion ring. */
static void long_chain(struct raw_ring *r)
{
	uint32_t n = 9 + rnd() % 40;
	struct vfpool_sqe e;

	if (space(r) < n)
		return;
	for (uint32_t k = 0; k < n; k++) {
		entry(&e, VFPOOL_OP_ALLOC, k + 1 < n ? VFPOOL_REQ_F_LINK : 0);
		put(r, k, &e);
	}
	publish(r, n);
	atomic_fetch_add(&counts->malformed_chains, 1);
}

/* Well-formed requests for its own VMs: leases it makes (and undoes) share the pool. */
static void own_requests(struct raw_ring *r)
{
	uint32_t n = 1 + rnd() % 3;
	struct vfpool_sqe e;

	if (space(r) < n)
		return;
	if (rnd() % 3 == 0) {
		entry(&e, VFPOOL_OP_RELEASE, 0);
		put(r, 0, &e);
		publish(r, 1);
		return;
	}
	for (uint32_t k = 0; k < n; k++) {
		entry(&e, VFPOOL_OP_ALLOC, k + 1 < n ? VFPOOL_REQ_F_LINK : 0);
		put(r, k, &e);
	}
	publish(r, n);
}

static void random_bytes(void *p, size_t n)
{
	unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)rnd();
}

/* Random bytes as request entries, published. */
static void garbage_entries(struct raw_ring *r)
{
	uint32_t n = 1 + rnd() % 8;
	struct vfpool_sqe e;

	if (space(r) < n)
		return;
	for (uint32_t k = 0; k < n; k++) {
		random_bytes(&e, sizeof(e));
		if (rnd() % 2) /* near misses decode further than pure noise */
			e.opcode = (uint16_t)(rnd() % VFPOOL_OP_NR);
		put(r, k, &e);
	}
	publish(r, n);
}

/* The pending summary, wrongly: every bit cleared (others' requests are then only found by
 * the daemon's periodic look at every ring), set, or random, and its header scribbled. */
static void scribble_summary(struct raw_ring *r)
{
	size_t n_words;

	if (!r->summary)
		return;
	n_words = (r->summary_size - sizeof(*r->summary)) / sizeof(r->summary->words[0]);
	atomic_fetch_add(&counts->summary_scribbles, 1);
	for (int round = 0; round < 200; round++) {
		uint32_t how = rnd() % 4;

		for (size_t w = 0; w < n_words; w++) {
			uint64_t v = how == 0 ? 0 : how == 1 ? ~UINT64_C(0)
				   : ((uint64_t)rnd() << 32 | rnd());

			atomic_store(&r->summary->words[w].bits, v);
		}
		if (how == 3)
			random_bytes(r->summary, 16); /* magic, version, n_words */
	}
}

/* Random values in the indices and the header: the daemon's own (which it must never read
 * back), ours (which it must check), the wakeup flags and doorbells. Returns false when
 * the connection is beyond use (our tail is no longer ours to know). */
static bool scribble_indices(struct raw_ring *r)
{
	struct vfpool_ring_index *idx[] = { &r->hdr->sq_tail, &r->hdr->sq_head, &r->hdr->cq_tail,
					    &r->hdr->cq_head, &r->hdr->sq_wakeup, &r->hdr->sq_bell,
					    &r->hdr->cq_wakeup, &r->hdr->cq_bell };
	uint32_t which = rnd() % 10;

	atomic_fetch_add(&counts->scribbles, 1);
	if (which == 8) {
		random_bytes(r->hdr, VFPOOL_CACHELINE); /* the immutable line */
		doorbell(r);
		return true;
	}
	if (which == 9) {
		/* a tail just past what the ring holds: entries that were never written */
		atomic_store(&r->hdr->sq_tail.v, r->tail + r->sq_n + 1 + rnd() % 64);
		doorbell(r);
		return false;
	}
	atomic_store(&idx[which]->v, rnd());
	doorbell(r);
	return which != 0;
}

/* Publishes the first entries of a chain (all linked, its end never written) and dies. */
static void die_mid_chain(struct raw_ring *r)
{
	uint32_t n = 1 + rnd() % 4;
	struct vfpool_sqe e;

	if (space(r) < n)
		return;
	for (uint32_t k = 0; k < n; k++) {
		entry(&e, VFPOOL_OP_ALLOC, VFPOOL_REQ_F_LINK);
		put(r, k, &e);
	}
	publish(r, n);
	atomic_fetch_add(&counts->midchain_deaths, 1);
	if (rnd() % 2)
		usleep(rnd() % 2000); /* sometimes the daemon has looked at it first */
	raise(SIGKILL);
}

static void doorbell_storm(struct raw_ring *r)
{
	for (int i = 0; i < 200; i++)
		doorbell(r);
}

void soak_hostile_main(const char *run_dir, unsigned seed, uint64_t deadline_ns,
		       struct soak_counts *shared)
{
	struct raw_ring r = { .sock = -1 };

	counts = shared;
	srand(seed);
	while (soak_now_ns() < deadline_ns) {
		uint32_t what = rnd() % 100;
		bool keep = true;

		if (!r.hdr && raw_connect(run_dir, &r) < 0) {
			usleep(20000); /* the daemon is restarting */
			continue;
		}
		if (hung_up(&r)) {
			raw_close(&r);
			continue;
		}
		usleep(300); /* the host's cores are shared */
		if (rnd() % 8)
			reap(&r);
		if (what < 30)
			malformed_chain(&r);
		else if (what < 35)
			long_chain(&r);
		else if (what < 55)
			own_requests(&r);
		else if (what < 75)
			garbage_entries(&r);
		else if (what < 80)
			keep = scribble_indices(&r);
		else if (what < 85)
			scribble_summary(&r);
		else if (what < 88)
			doorbell_storm(&r);
		else if (what < 90)
			die_mid_chain(&r);
		else if (rnd() % 4 == 0)
			keep = false; /* just go, with whatever is in flight */
		if (!keep)
			raw_close(&r);
	}
	_exit(0);
}
