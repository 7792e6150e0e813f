/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/libvfpool/internal.h"
#include "shm/control_proto.h"

static uint32_t round_pow2(unsigned n)
{
	uint32_t v = 8;

	if (n == 0)
		return VFPOOL_RING_DEFAULT_ENTRIES;
	while (v < n && v < VFPOOL_RING_MAX_ENTRIES)
		v <<= 1;
	return v;
}

/* Waits for the welcome: a bounded wait, so a wedged daemon cannot hang a launcher. */
static int recv_welcome(int sock, struct vfpool_ctl_welcome *w, int fds[3])
{
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = w, .iov_len = sizeof(*w) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t n;
	int r;

	do {
		r = poll(&pfd, 1, 5000);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	fds[0] = fds[1] = fds[2] = -1;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		/* ring and state, and the pending summary from a daemon that has one */
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    (c->cmsg_len == CMSG_LEN(2 * sizeof(int)) ||
		     c->cmsg_len == CMSG_LEN(3 * sizeof(int))))
			memcpy(fds, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
	}
	if (n != (ssize_t)sizeof(*w) || w->magic != VFPOOL_CTL_MAGIC ||
	    w->type != VFPOOL_CTL_WELCOME || (msg.msg_flags & MSG_CTRUNC)) {
		for (int i = 0; i < 3; i++) {
			if (fds[i] >= 0)
				close(fds[i]);
			fds[i] = -1; /* the caller's error path closes what is left: nothing */
		}
		return -EPROTO;
	}
	return 0;
}

static int map_ring(struct vfpool *h, int fd, uint64_t size, uint32_t sq_n, uint32_t cq_n)
{
	struct stat st;
	void *mem;
	struct vfpool_ring_hdr *hdr;

	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != size || size < sizeof(*hdr))
		return -EPROTO;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	hdr = mem;
	if (hdr->magic != VFPOOL_RING_MAGIC || hdr->layout_version != VFPOOL_LAYOUT_VERSION ||
	    hdr->sq_entries != sq_n || hdr->cq_entries != cq_n ||
	    hdr->sqe_size != sizeof(struct vfpool_sqe) || hdr->cqe_size != sizeof(struct vfpool_cqe) ||
	    hdr->sq_off + (uint64_t)sq_n * sizeof(struct vfpool_sqe) > size ||
	    hdr->cq_off + (uint64_t)cq_n * sizeof(struct vfpool_cqe) > size) {
		munmap(mem, size);
		return -EPROTO;
	}
	h->ring = hdr;
	h->ring_size = size;
	h->sqes = (struct vfpool_sqe *)((char *)mem + hdr->sq_off);
	h->cqes = (const struct vfpool_cqe *)((char *)mem + hdr->cq_off);
	ring_prod_init(&h->sq, &hdr->sq_tail.v, &hdr->sq_head.v, sq_n, 0);
	ring_cons_init(&h->cq, &hdr->cq_head.v, &hdr->cq_tail.v, cq_n, 0);
	return 0;
}

/* The pending summary: the word and bit of this ring's slot, within the segment's size.
 * Its header is not trusted (every client may write the segment): only the fd's size. A
 * summary that cannot be used is not (the daemon still serves the ring: a bit is a hint). */
static void map_summary(struct vfpool *h, int fd)
{
	struct stat st;
	struct vfpool_summary_hdr *s;
	uint32_t slot = h->ring->summary_slot;
	void *mem;

	h->summary = NULL;
	h->summary_word = NULL;
	if (fd < 0 || slot == VFPOOL_SUMMARY_NONE || fstat(fd, &st) < 0 ||
	    (size_t)st.st_size < sizeof(*s))
		return;
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return;
	s = mem;
	if (sizeof(*s) + (size_t)(slot / 64 + 1) * sizeof(s->words[0]) > (size_t)st.st_size) {
		munmap(mem, (size_t)st.st_size);
		return;
	}
	h->summary = s;
	h->summary_size = (size_t)st.st_size;
	h->summary_word = &s->words[slot / 64].bits;
	h->summary_bit = UINT64_C(1) << (slot % 64);
}

void unmap_summary(struct vfpool *h)
{
	if (h->summary)
		munmap(h->summary, h->summary_size);
	h->summary = NULL;
	h->summary_word = NULL;
}

bool daemon_hung_up(struct vfpool *h)
{
	struct pollfd pfd = { .fd = h->sock, .events = POLLRDHUP };

	/* hang-up only: a command reply left unread makes the socket readable, not dead */
	if (h->sock < 0 || (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))))
		h->dead = true;
	return h->dead;
}

/* Opens a connection to h->run_dir's daemon and maps its ring into h (sock, ring fields,
 * client_id). On failure h's connection fields are untouched. */
int vfpool_open_conn(struct vfpool *h)
{
	struct vfpool_ctl_hello hello = { .magic = VFPOOL_CTL_MAGIC, .version = VFPOOL_CTL_VERSION,
					  .type = VFPOOL_CTL_HELLO };
	struct vfpool_ctl_welcome w;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vfpool tmp = *h;
	int fds[3] = { -1, -1, -1 }, r, sock;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", h->run_dir, VFPOOL_CTL_SOCKET) >=
	    (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	hello.sq_entries = hello.cq_entries = h->ring_entries;
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* no socket file is no daemon, as a socket nobody accepts on: one answer for
		 * both, never ENOENT, which callers read as "no such lease" */
		r = errno == ENOENT ? -ECONNREFUSED : -errno;
		vfpool_log(VFPOOL_LOG_ERR, "%s: connect: %s", sa.sun_path, strerror(errno));
		goto fail;
	}
	if (send(sock, &hello, sizeof(hello), MSG_NOSIGNAL) != (ssize_t)sizeof(hello)) {
		int send_err = errno ? -errno : -EIO;

		/* a daemon that refuses (too many clients) answers and closes without waiting for
		 * the hello: its welcome says why, and is still there to read */
		r = recv_welcome(sock, &w, fds);
		if (r || w.status == 0) {
			r = send_err;
			goto fail;
		}
	} else {
		r = recv_welcome(sock, &w, fds);
	}
	if (r) {
		vfpool_log(VFPOOL_LOG_ERR, "%s: handshake: %s", sa.sun_path, strerror(-r));
		goto fail;
	}
	if (w.status != 0) {
		r = w.status < 0 ? w.status : -EPROTO;
		w.message[sizeof(w.message) - 1] = '\0';
		vfpool_log(VFPOOL_LOG_ERR, "%s: refused: %s", sa.sun_path, w.message);
		goto fail;
	}
	if (fds[0] < 0 || fds[1] < 0) {
		r = -EPROTO;
		goto fail;
	}
	r = map_ring(&tmp, fds[0], w.ring_size, hello.sq_entries, hello.cq_entries);
	if (r)
		goto fail;
	/* the state segment is read through vfpool_snapshot_*; the ring and the summary are
	 * what we map */
	unmap_summary(h);
	map_summary(&tmp, fds[2]);
	h->summary = tmp.summary;
	h->summary_size = tmp.summary_size;
	h->summary_word = tmp.summary_word;
	h->summary_bit = tmp.summary_bit;
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	h->sock = sock;
	h->ring = tmp.ring;
	h->ring_size = tmp.ring_size;
	h->sqes = tmp.sqes;
	h->cqes = tmp.cqes;
	h->sq = tmp.sq;
	h->cq = tmp.cq;
	h->client_id = w.client_id;
	h->queued = h->inflight = h->linked = 0;
	h->dead = false;
	return 0;
fail:
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(sock);
	return r;
}

const char *vfpool_run_dir(const char *run_dir)
{
	const char *env;

	if (run_dir)
		return run_dir;
	/* like vfpoolctl: a launcher in a test or a second instance finds its daemon the
	 * same way the operator's tool does */
	env = getenv(VFPOOL_RUN_DIR_ENV);
	return env && *env ? env : VFPOOL_DEFAULT_RUN_DIR;
}

VFPOOL_API int vfpool_connect(const char *run_dir, const struct vfpool_opts *opts,
			      struct vfpool **ret_handle)
{
	struct vfpool_opts o = { 0 };
	struct vfpool *h;
	int r;

	if (!ret_handle)
		return -EINVAL;
	if (opts) {
		r = opts_in(&o, sizeof(o), opts, OPTS_SIZE_opts);
		if (r)
			return r;
		if (o.reserved)
			return -EINVAL;
	}
	run_dir = vfpool_run_dir(run_dir);
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (snprintf(h->run_dir, sizeof(h->run_dir), "%s", run_dir) >= (int)sizeof(h->run_dir)) {
		free(h);
		return -ENAMETOOLONG;
	}
	h->sock = -1;
	h->ring_entries = round_pow2(o.ring_entries);
	h->spin_us = o.spin_us ? o.spin_us : 20;
	h->timeout_ms = o.timeout_ms ? o.timeout_ms : 60000;
	r = vfpool_open_conn(h);
	if (r) {
		free(h);
		return r;
	}
	*ret_handle = h;
	return 0;
}

VFPOOL_API int vfpool_reconnect(struct vfpool *h)
{
	int r;

	if (!h)
		return -EINVAL;
	if (!h->dead && !daemon_hung_up(h))
		return 0; /* still connected: nothing to do */
	/* the old ring's requests are lost with its daemon (their outcome unknown) */
	if (h->ring)
		munmap(h->ring, h->ring_size);
	h->ring = NULL;
	unmap_summary(h);
	if (h->sock >= 0)
		close(h->sock);
	h->sock = -1;
	h->dead = true;
	r = vfpool_open_conn(h);
	return r;
}

VFPOOL_API void vfpool_close(struct vfpool *h)
{
	if (!h)
		return;
	if (h->ring)
		munmap(h->ring, h->ring_size);
	unmap_summary(h);
	if (h->sock >= 0)
		close(h->sock);
	free(h->early_ud);
	free(h);
}
