/* SPDX-License-Identifier: MIT */
/*
 * The loop: io_uring carries the control socket (multishot accept, recv, send), each
 * client's doorbell (IORING_OP_FUTEX_WAIT on the client's sq_bell), the signalfd, and
 * whatever other parts register (core/loop.h). Client rings are polled directly from user
 * space while there is work, and for spin_us after the last work; then the loop announces
 * it sleeps (sq_wakeup) and blocks in io_uring_enter until a doorbell, a connection, a
 * signal or another event arrives.
 */
#include <errno.h>
#include <grp.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/control_socket.h"
#include "core/ctl_command.h"
#include "core/heartbeat.h"
#include "core/daemon_internal.h"
#include "core/host/host_watch.h"
#include "core/lease/lease_durable.h"
#include "core/lease/lease_sweep.h"
#include "core/lease/pid_watch.h"
#include "core/log.h"
#include "core/numvfs/numvfs_cmd.h"
#include "core/policy/policy_cmd.h"
#include "core/safe_dir.h"
#include "core/vfconfig/vf_config.h"
#include "shm/seqlock.h"

/* liburing 2.3 predates the futex opcodes (kernel 6.7); the SQE layout is the kernel's:
 * fd = futex2 flags, addr = futex address, addr2 = expected value, addr3 = mask. */
#ifndef IORING_OP_FUTEX_WAIT
#define IORING_OP_FUTEX_WAIT 51
#endif
#define FUTEX2_SIZE_U32_FLAG 0x02 /* shared (not FUTEX2_PRIVATE): the word is in a memfd */

/* Requests served per client per loop turn (a chain may finish past it), so one busy
 * client cannot starve the others nor make a turn unbounded. */
#define SERVE_BATCH 64
/* How long a doorbell rings into the void after a storm (client_ring_bell_rang). */
#define BELL_REST_MS 10
#define CONN_IN_INITIAL 256

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_accept(struct loop_op *op, const struct io_uring_cqe *cqe);
static void on_signal(struct loop_op *op, const struct io_uring_cqe *cqe);
static void on_recv(struct loop_op *op, const struct io_uring_cqe *cqe);
static void on_futex(struct loop_op *op, const struct io_uring_cqe *cqe);
static void on_bell_rest(struct loop_op *op, const struct io_uring_cqe *cqe);
static void rest_bell(struct daemon *d, struct conn *c);
static void on_cancel(struct loop_op *op, const struct io_uring_cqe *cqe);
static void conn_post(struct completion_sink *sink, const struct vfpool_cqe *cqe);

static void arm_accept(struct daemon *d)
{
	struct io_uring_sqe *sqe = loop_sqe(&d->ring, &d->accept_op);

	io_uring_prep_multishot_accept(sqe, d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data(sqe, &d->accept_op);
	d->accept_armed = true;
}

static void arm_signal(struct daemon *d)
{
	struct io_uring_sqe *sqe = loop_sqe(&d->ring, &d->signal_op);

	io_uring_prep_read(sqe, d->signal_fd, &d->siginfo, sizeof(d->siginfo), 0);
	io_uring_sqe_set_data(sqe, &d->signal_op);
}

static int conn_reserve(struct conn *c, uint32_t need)
{
	uint8_t *n;
	uint32_t cap = c->in_cap ? c->in_cap : CONN_IN_INITIAL;

	if (need <= c->in_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	n = realloc(c->in, cap);
	if (!n)
		return -ENOMEM;
	c->in = n;
	c->in_cap = cap;
	return 0;
}

/* Reads at most what the current message still needs, so frames never run together. */
static void arm_recv(struct daemon *d, struct conn *c)
{
	uint32_t want;
	struct io_uring_sqe *sqe;

	if (c->state == CONN_HELLO) {
		want = sizeof(struct vfpool_ctl_hello) - c->in_len;
	} else if (c->in_len < sizeof(struct vfpool_ctl_frame)) {
		want = sizeof(struct vfpool_ctl_frame) - c->in_len;
	} else {
		const struct vfpool_ctl_frame *f = (const void *)c->in;
		want = (uint32_t)sizeof(*f) + f->len - c->in_len;
	}
	if (conn_reserve(c, c->in_len + want) < 0) {
		conn_close(d, c, "out of memory");
		return;
	}
	sqe = loop_sqe(&d->ring, &c->recv_op);
	io_uring_prep_recv(sqe, c->fd, c->in + c->in_len, want, 0);
	io_uring_sqe_set_data(sqe, &c->recv_op);
	c->recv_pending = true;
}

static void arm_futex(struct daemon *d, struct conn *c, uint32_t expected)
{
	struct io_uring_sqe *sqe = loop_sqe(&d->ring, &c->futex_op);

	io_uring_prep_rw(IORING_OP_FUTEX_WAIT, sqe, FUTEX2_SIZE_U32_FLAG,
			 (const void *)&c->ring.hdr->sq_bell.v, 0, expected);
	sqe->addr3 = FUTEX_BITSET_MATCH_ANY;
	io_uring_sqe_set_data(sqe, &c->futex_op);
	c->futex_pending = true;
	client_ring_bell_armed(&c->ring);
}

static void conn_free_if_idle(struct daemon *d, struct conn *c)
{
	if (c->state != CONN_CLOSING || c->recv_pending || c->futex_pending || c->sends_pending ||
	    c->ring.deferred > 0 || c->hello_timer_pending || c->bell_resting)
		return;
	/* no io_uring request references the ring, the socket or the buffers any more */
	client_ring_destroy(&c->ring);
	close(c->fd);
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	c->state = CONN_FREE;
	c->gen++;
	d->n_active--;
}

static void live_add(struct daemon *d, struct conn *c)
{
	c->live_idx = d->n_live;
	d->live[d->n_live++] = c;
}

static void live_remove(struct daemon *d, struct conn *c)
{
	struct conn *last = d->live[--d->n_live];

	d->live[c->live_idx] = last;
	last->live_idx = c->live_idx;
}

/* The hello arrived, or the connection ends: the deadline no longer applies. */
static void cancel_hello_timer(struct daemon *d, struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (!c->hello_timer_pending)
		return;
	sqe = loop_sqe(&d->ring, &c->hello_cancel_op);
	io_uring_prep_timeout_remove(sqe, (uint64_t)(uintptr_t)&c->hello_timer_op, 0);
	io_uring_sqe_set_data(sqe, &c->hello_cancel_op);
}

static void on_hello_timer(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct conn *c = container_of(op, struct conn, hello_timer_op);

	c->hello_timer_pending = false;
	/* -ETIME: the deadline passed; -ECANCELED: the hello came, or the connection went */
	if (cqe->res == -ETIME && c->state == CONN_HELLO)
		conn_close(c->d, c, "no hello before the handshake deadline");
	else
		conn_free_if_idle(c->d, c);
}

void conn_close(struct daemon *d, struct conn *c, const char *why)
{
	if (c->state == CONN_CLOSING || c->state == CONN_FREE)
		return;
	if (c->state == CONN_ACTIVE)
		live_remove(d, c);
	log_info("client_disconnected", "client=%u pid=%d uid=%u reason=\"%s\"", c->id,
		 (int)c->cred.pid, (unsigned)c->cred.uid, why);
	c->state = CONN_CLOSING;
	cancel_hello_timer(d, c);
	/* the pending recv returns once the socket is shut down; the futex wait needs a cancel */
	shutdown(c->fd, SHUT_RDWR);
	if (c->futex_pending) {
		struct io_uring_sqe *sqe = loop_sqe(&d->ring, &c->cancel_op);

		io_uring_prep_cancel(sqe, &c->futex_op, 0);
		io_uring_sqe_set_data(sqe, &c->cancel_op);
	}
	if (c->bell_resting) {
		struct io_uring_sqe *sqe = loop_sqe(&d->ring, &c->bell_rest_cancel_op);

		io_uring_prep_timeout_remove(sqe, (uint64_t)(uintptr_t)&c->bell_rest_op, 0);
		io_uring_sqe_set_data(sqe, &c->bell_rest_cancel_op);
	}
	conn_free_if_idle(d, c);
}

struct send_op {
	struct loop_op op;
	struct send_op *prev, *next; /* daemon.sends: freed at shutdown if still in flight */
	struct conn *c;
	size_t len;
	bool resume; /* a command's reply: read the next command once it is out */
	uint8_t buf[];
};

static void send_unlink(struct daemon *d, struct send_op *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		d->sends = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

static void on_send(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct send_op *s = container_of(op, struct send_op, op);
	struct conn *c = s->c;

	c->sends_pending--;
	send_unlink(c->d, s);
	if (cqe->res < 0 || (size_t)cqe->res != s->len)
		conn_close(c->d, c, "reply not delivered");
	else if (s->resume)
		conn_resume(c->d, c); /* one command at a time, its reply fully out first */
	free(s);
	conn_free_if_idle(c->d, c);
}

static int send_op_queue(struct daemon *d, struct conn *c, const void *buf, size_t len,
			 bool resume);

int conn_send(struct daemon *d, struct conn *c, const void *buf, size_t len)
{
	return send_op_queue(d, c, buf, len, false);
}

int conn_send_reply(struct daemon *d, struct conn *c, const void *buf, size_t len)
{
	return send_op_queue(d, c, buf, len, true);
}

static int send_op_queue(struct daemon *d, struct conn *c, const void *buf, size_t len,
			 bool resume)
{
	struct send_op *s;
	struct io_uring_sqe *sqe;

	if (c->state != CONN_ACTIVE)
		return -ENOTCONN;
	s = malloc(sizeof(*s) + len);
	if (!s)
		return -ENOMEM;
	s->op.complete = on_send;
	s->c = c;
	s->len = len;
	s->resume = resume;
	s->prev = NULL;
	s->next = d->sends;
	if (d->sends)
		d->sends->prev = s;
	d->sends = s;
	memcpy(s->buf, buf, len);
	sqe = loop_sqe(&d->ring, &s->op);
	/* MSG_WAITALL: a stream socket may take a large reply in pieces */
	io_uring_prep_send(sqe, c->fd, s->buf, len, MSG_NOSIGNAL | MSG_WAITALL);
	io_uring_sqe_set_data(sqe, &s->op);
	c->sends_pending++;
	return 0;
}

void conn_resume(struct daemon *d, struct conn *c)
{
	c->cmd_pending = false;
	c->in_len = 0;
	if (c->state == CONN_ACTIVE && !c->recv_pending)
		arm_recv(d, c);
}

static bool peer_is_admin(const struct daemon *d, int fd, const struct ucred *cred)
{
	gid_t groups[64];
	socklen_t len = sizeof(groups);

	if (cred->uid == 0)
		return true;
	if (d->admin_gid == (gid_t)-1)
		return false;
	if (cred->gid == d->admin_gid)
		return true;
	/* the peer's supplementary groups as they were at connect() */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == d->admin_gid)
			return true;
	return false;
}

static void on_accept(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct daemon *d = container_of(op, struct daemon, accept_op);
	struct conn *c = NULL;
	socklen_t len = sizeof(struct ucred);
	int fd = cqe->res;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		d->accept_armed = false;
	if (fd < 0) {
		if (fd != -ECANCELED)
			log_warn("accept_failed", "socket=%s/%s error=\"%s\"", d->opts.run_dir,
				 VFPOOL_CTL_SOCKET, strerror(-fd));
		return;
	}
	for (uint32_t i = 0; i < d->n_conns; i++) {
		if (d->conns[i].state == CONN_FREE) {
			c = &d->conns[i];
			break;
		}
	}
	if (!c) {
		control_send_welcome(fd, -EUSERS, 0, 0, 0, -1, -1, "too many clients");
		log_warn("client_refused", "reason=\"max clients (%u) reached\"", d->n_conns);
		close(fd);
		return;
	}
	/* no credentials, no service: a zeroed ucred would read as root */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0 ||
	    len != sizeof(struct ucred)) {
		log_warn("client_refused", "reason=\"no peer credentials: %s\"", strerror(errno));
		close(fd);
		return;
	}
	c->d = d;
	c->state = CONN_HELLO;
	c->fd = fd;
	c->id = ++d->next_client_id;
	c->admin = peer_is_admin(d, fd, &c->cred);
	c->in_len = 0;
	c->cmd_pending = false;
	c->ring.fd = -1;
	c->ring.hdr = NULL;
	c->recv_op.complete = on_recv;
	c->futex_op.complete = on_futex;
	c->cancel_op.complete = on_cancel;
	c->sink.post = conn_post;
	c->ring.deferred = 0;
	c->hello_timer_op.complete = on_hello_timer;
	c->hello_cancel_op.complete = on_cancel;
	d->n_active++;
	arm_recv(d, c);
	/* a slot is held only by a connection that speaks: silent ones are cut off */
	loop_timer(&d->ring, &c->hello_timer_op, &c->hello_ts,
		   d->opts.handshake_timeout_ms ? d->opts.handshake_timeout_ms : 2000);
	c->hello_timer_pending = true;
}

static void finish_handshake(struct daemon *d, struct conn *c)
{
	struct vfpool_ctl_hello hello;
	const char *why = NULL;
	int r;

	memcpy(&hello, c->in, sizeof(hello));
	c->in_len = 0;
	cancel_hello_timer(d, c);
	r = control_check_hello(&hello, &why);
	if (r) {
		control_send_welcome(c->fd, r, 0, 0, 0, -1, -1, why);
		conn_close(d, c, why);
		return;
	}
	r = client_ring_create(c->id, hello.sq_entries, hello.cq_entries, &c->ring);
	if (r) {
		char msg[128];

		/* -ENOSPC / -ENOMEM: its memory could not be reserved; the client is told why */
		snprintf(msg, sizeof(msg), "cannot create the ring segment (%zu bytes): %s",
			 client_ring_size(hello.sq_entries, hello.cq_entries), strerror(-r));
		control_send_welcome(c->fd, r, 0, 0, 0, -1, -1, msg);
		conn_close(d, c, msg);
		return;
	}
	r = control_send_welcome(c->fd, 0, c->id, c->ring.size, d->seg->size, c->ring.fd,
				 d->seg->ro_fd, NULL);
	/* the client has its own descriptor now; the mapping keeps the memory alive for us */
	close(c->ring.fd);
	c->ring.fd = -1;
	if (r) {
		conn_close(d, c, "welcome not delivered");
		return;
	}
	c->ring.peer_pid = c->cred.pid; /* what a bind to pid 0 means */
	c->ring.peer_uid = c->cred.uid; /* whose leases its requests may change */
	c->ring.peer_admin = c->admin;
	c->bell_rest_op.complete = on_bell_rest;
	c->bell_rest_cancel_op.complete = on_cancel;
	c->bell_resting = false;
	c->bell_storms = 0;
	c->state = CONN_ACTIVE;
	live_add(d, c);
	log_info("client_connected", "client=%u pid=%d uid=%u gid=%u admin=%s sq=%u cq=%u", c->id,
		 (int)c->cred.pid, (unsigned)c->cred.uid, (unsigned)c->cred.gid,
		 c->admin ? "yes" : "no", hello.sq_entries, hello.cq_entries);
	arm_recv(d, c);
	arm_futex(d, c, atomic_load_explicit(&c->ring.hdr->sq_bell.v, memory_order_relaxed));
}

/* A complete command frame is in c->in. */
static void take_frame(struct daemon *d, struct conn *c)
{
	struct vfpool_ctl_frame f;

	memcpy(&f, c->in, sizeof(f));
	c->cmd_pending = true;
	ctl_dispatch(d, c, f.seq, (char *)c->in + sizeof(f), f.len);
}

static void on_recv(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct conn *c = container_of(op, struct conn, recv_op);
	struct daemon *d = c->d;
	int res = cqe->res;

	c->recv_pending = false;
	if (c->state == CONN_CLOSING) {
		conn_free_if_idle(d, c);
		return;
	}
	if (res <= 0) {
		conn_close(d, c, res == 0 ? "connection closed" : strerror(-res));
		return;
	}
	c->in_len += (uint32_t)res;
	if (c->state == CONN_HELLO) {
		if (c->in_len == sizeof(struct vfpool_ctl_hello))
			finish_handshake(d, c);
		else
			arm_recv(d, c);
		return;
	}
	if (c->in_len == sizeof(struct vfpool_ctl_frame)) {
		struct vfpool_ctl_frame f;

		memcpy(&f, c->in, sizeof(f));
		if (f.magic != VFPOOL_CTL_MAGIC || f.version != VFPOOL_CTL_VERSION ||
		    f.type != VFPOOL_CTL_COMMAND || f.len > VFPOOL_CTL_MAX_COMMAND ||
		    f.status != 0 || f.reserved != 0) {
			conn_close(d, c, "malformed command frame");
			return;
		}
		if (f.len == 0) {
			take_frame(d, c);
			return;
		}
		arm_recv(d, c);
		return;
	}
	{
		const struct vfpool_ctl_frame *f = (const void *)c->in;

		if (c->in_len == sizeof(*f) + f->len)
			take_frame(d, c);
		else
			arm_recv(d, c);
	}
}

static void on_futex(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct conn *c = container_of(op, struct conn, futex_op);
	struct daemon *d = c->d;

	c->futex_pending = false;
	if (c->state != CONN_ACTIVE) {
		conn_free_if_idle(d, c);
		return;
	}
	/* woken (0) or the bell moved before we slept (-EAGAIN). Anything else would fail
	 * again at once: a spin */
	if (cqe->res != 0 && cqe->res != -EAGAIN && cqe->res != -EINTR) {
		conn_close(d, c, "doorbell wait failed");
		return;
	}
	/* the ring is polled while the loop is awake: the wait is armed again only when it
	 * goes to sleep (prepare_sleep), so ringing an awake daemon costs it nothing */
	if (client_ring_bell_rang(&c->ring))
		rest_bell(d, c);
}

/* A doorbell storm: the client rang again and again without publishing or reaping. Its
 * doorbell rests for BELL_REST_MS (its ring is still served whenever the loop is awake):
 * a storm costs the daemon a few wakes per rest instead of a CPU. */
static void rest_bell(struct daemon *d, struct conn *c)
{
	if (c->bell_resting)
		return;
	if (c->bell_storms++ == 0) /* once per connection: the storm itself must not flood the log */
		log_warn("client_doorbell_storm", "client=%u pid=%d uid=%u reason=\"%u doorbells "
			 "without a request or a reap; the doorbell rests %u ms each time\"",
			 c->id, (int)c->cred.pid, (unsigned)c->cred.uid, CLIENT_RING_IDLE_BELLS,
			 BELL_REST_MS);
	c->bell_resting = true;
	loop_timer(&d->ring, &c->bell_rest_op, &c->bell_rest_ts, BELL_REST_MS);
}

static void on_bell_rest(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct conn *c = container_of(op, struct conn, bell_rest_op);

	(void)cqe; /* -ETIME, or -ECANCELED when the connection went */
	c->bell_resting = false;
	conn_free_if_idle(c->d, c); /* if it is closing; else prepare_sleep arms the wait */
}

static void on_cancel(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	/* the cancelled request's own completion does the bookkeeping */
	(void)op;
	(void)cqe;
}

static void on_signal(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct daemon *d = container_of(op, struct daemon, signal_op);

	if (cqe->res == (int)sizeof(d->siginfo)) {
		log_info("shutdown", "signal=%s", strsignal((int)d->siginfo.ssi_signo));
		d->stop = true;
	} else {
		arm_signal(d);
	}
}

static unsigned reap_completions(struct daemon *d)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;

	while (io_uring_peek_cqe(&d->ring, &cqe) == 0) {
		struct loop_op *op = io_uring_cqe_get_data(cqe);
		struct io_uring_cqe copy = *cqe;
		/* a doorbell is no work by itself: the requests it announces count when they are
		 * served, so ringing without publishing cannot keep the loop polling */
		bool bell = op && op->complete == on_futex;

		/* mark it seen first: the handler may queue new requests that need CQ room */
		io_uring_cqe_seen(&d->ring, cqe);
		if (op)
			op->complete(op, &copy);
		n += !bell;
	}
	if (!d->accept_armed && !d->stop)
		arm_accept(d);
	return n;
}

static void wake_client(struct conn *c)
{
	/* FUTEX_WAKE without FUTEX_PRIVATE_FLAG: the word lives in a shared memfd */
	syscall(SYS_futex, &c->ring.hdr->cq_bell.v, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* A kept request completed. The connection outlives its deferred requests
 * (conn_free_if_idle), so c is valid; if it is closing, nobody reads the ring any more. */
static void conn_post(struct completion_sink *sink, const struct vfpool_cqe *cqe)
{
	struct conn *c = container_of(sink, struct conn, sink);

	if (c->state != CONN_ACTIVE) {
		c->ring.deferred--;
		conn_free_if_idle(c->d, c);
		return;
	}
	if (client_ring_post_deferred(&c->ring, cqe) < 0) {
		conn_close(c->d, c, "ring indices out of range");
		return;
	}
	if (client_ring_client_sleeps(&c->ring))
		wake_client(c);
}

static unsigned serve_clients(struct daemon *d)
{
	unsigned total = 0;

	/* backwards: conn_close swaps the last live connection into a closed one's place */
	for (uint32_t i = d->n_live; i-- > 0;) {
		struct conn *c = d->live[i];
		int n;

		n = client_ring_serve(&c->ring, &d->engine, &c->sink, SERVE_BATCH);
		if (n < 0) {
			conn_close(d, c, c->ring.refused);
			continue;
		}
		if (n > 0 && client_ring_client_sleeps(&c->ring))
			wake_client(c);
		total += (unsigned)n;
	}
	return total;
}

/* Announces sleep to every client; false if one has work (then nobody sleeps). Work is
 * what a serve would move on: requests waiting on their own client (an unfinished chain,
 * completions without room) are not, so no client keeps the loop awake with them. */
static bool prepare_sleep(struct daemon *d)
{
	for (uint32_t i = 0; i < d->n_live; i++) {
		struct conn *c = d->live[i];

		int64_t bell = client_ring_prepare_sleep(&c->ring);

		if (bell < 0)
			return false;
		/* the value read before the re-check: a doorbell rung since fails the wait */
		if (!c->futex_pending && !c->bell_resting)
			arm_futex(d, c, (uint32_t)bell);
	}
	return true;
}

static void awake(struct daemon *d)
{
	for (uint32_t i = 0; i < d->n_live; i++)
		client_ring_awake(&d->live[i]->ring);
}

int daemon_run(struct daemon *d)
{
	uint64_t spin_ns = (uint64_t)d->opts.spin_us * 1000u, idle_since = 0;
	unsigned idle_polls = 0;

	arm_accept(d);
	arm_signal(d);
	probe_source_arm(d->probe, &d->ring);
	vf_config_scan(d->vfc);
	log_info("ready", "run_dir=%s pfs=%zu vfs=%zu spin_us=%u max_clients=%u",
		 d->opts.run_dir, d->host->n_pfs, d->host->n_vfs, d->opts.spin_us, d->n_conns);
	while (!d->stop) {
		unsigned did = reap_completions(d) + serve_clients(d);

		/* one group commit for everything this turn changed; completions follow it */
		lease_durable_flush(d->durable);

		if (io_uring_sq_ready(&d->ring))
			io_uring_submit(&d->ring);
		if (did) {
			idle_since = 0;
			idle_polls = 0;
			continue;
		}
		/* the clock is read every 64 idle polls: a poll pass is a few ns, the clock ~20 */
		if (spin_ns && (++idle_polls & 63) != 0)
			continue;
		if (spin_ns) {
			uint64_t now = now_ns();

			if (!idle_since)
				idle_since = now;
			if (now - idle_since < spin_ns) {
				seqlock_cpu_relax();
				continue;
			}
		}
		if (!prepare_sleep(d)) {
			awake(d);
			idle_since = 0;
			continue;
		}
		io_uring_submit_and_wait(&d->ring, 1);
		awake(d);
		/* the spin window restarts only with work: a wake that brings none (a doorbell
		 * rung for nothing) goes back to sleep without spinning spin_us first */
		idle_polls = 0;
	}
	return d->failed ? -EIO : 0;
}

/* The run dir and the state dir, trusted as systemd trusts its own (core/safe_dir.h):
 * created when missing (the run dir 0750 with the socket group, so its members reach the
 * socket and the state segment; the state dir 0750), refused when another user controls
 * them. From here on the daemon uses their resolved paths. */
static int daemon_open_dirs(struct daemon *d)
{
	char why[512];
	int fd;

	fd = safe_dir_open(d->opts.run_dir, "run dir", 0750, d->opts.socket_gid, d->run_dir_real,
			   sizeof(d->run_dir_real), why, sizeof(why));
	if (fd < 0) {
		log_err("start_failed", "error=\"%s\"", why);
		return fd;
	}
	d->run_dir_fd = fd;
	fd = safe_dir_open(d->opts.state_dir, "state dir", 0750, (gid_t)-1, d->state_dir_real,
			   sizeof(d->state_dir_real), why, sizeof(why));
	if (fd < 0) {
		log_err("start_failed", "error=\"%s\"", why);
		return fd;
	}
	close(fd); /* its stores open it by path (the resolved one) when they write */
	d->opts.run_dir = d->run_dir_real;
	d->opts.state_dir = d->state_dir_real;
	return 0;
}

static void on_durability_lost(void *ctx)
{
	struct daemon *d = ctx;

	d->failed = 1;
	d->stop = true;
}

int daemon_new(const struct daemon_opts *opts, struct host *host, struct daemon **ret_daemon)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct io_uring_params p = { 0 };
	sigset_t mask;
	int r;

	if (!d) {
		host_free(host);
		return -ENOMEM;
	}
	d->opts = *opts;
	d->host = host;
	d->listen_fd = -1;
	d->run_dir_fd = -1;
	d->lock_fd = -1;
	d->signal_fd = -1;
	d->admin_gid = opts->admin_gid;
	d->accept_op.complete = on_accept;
	d->signal_op.complete = on_signal;
	d->n_conns = opts->max_clients ? opts->max_clients : 256;
	d->conns = calloc(d->n_conns, sizeof(*d->conns));
	d->live = calloc(d->n_conns, sizeof(*d->live));
	if (!d->conns || !d->live) {
		r = -ENOMEM;
		goto fail;
	}
	r = daemon_open_dirs(d);
	if (r)
		goto fail;
	opts = &d->opts; /* the verified paths from here on */
	/* before anything in the run dir is touched: the journal has one writer */
	r = control_lock_run_dir(d->run_dir_fd, &d->lock_fd);
	if (r) {
		log_err("start_failed", "run_dir=%s lock=%s error=\"%s\"", opts->run_dir,
			VFPOOL_LOCK_FILE,
			r == -EADDRINUSE ? "another vfpoold runs on this run dir" :
			r == -ELOOP ? "a symlink, not followed" :
			r == -EINVAL ? "not a regular file" : strerror(-r));
		goto fail;
	}
	{
		char why[256];

		r = state_seg_create(d->run_dir_fd, opts->socket_gid, host, &d->seg, why,
				     sizeof(why));
		if (r) {
			log_err("start_failed", "file=%s/state error=\"%s\"", opts->run_dir, why);
			goto fail;
		}
	}
	/* before anyone can connect: the kernel accepts into the backlog as soon as the socket
	 * listens, so a reader may look before the loop runs */
	d->seg->hdr->host_kind = opts->host_kind;
	r = engine_init(&d->engine, d->seg->hdr);
	if (r)
		goto fail;
	d->engine.max_leases_per_vm = opts->max_leases_per_vm;
	r = policy_daemon_start(d);
	if (r)
		goto fail;
	/* leases come back from the journal before the socket exists: a client (or a test)
	 * that can connect sees every lease (the ring is only used once the loop runs).
	 * The journal lives in the run dir: a lease is a VM's, and VMs do not outlive the
	 * host, so it must survive daemon crashes and restarts (tmpfs does) but not a reboot
	 * (after which a stale lease would pin a VF nobody uses). Policy and numvfs, which
	 * must survive reboots, stay in the state dir. */
	r = lease_durable_start(&d->engine, &d->ring, opts->run_dir, on_durability_lost, d,
				&d->durable);
	if (r)
		goto fail;
	/* before the socket listens: a client's first snapshot already has the probe's view */
	r = probe_source_new(&d->engine, opts->probe_mode, opts->busy_when_up, &d->probe);
	if (r)
		goto fail;
	r = control_listen(d->run_dir_fd, opts->run_dir, opts->socket_gid, &d->listen_fd);
	if (r) {
		log_err("start_failed", "socket=%s/%s error=\"%s\"", opts->run_dir,
			VFPOOL_CTL_SOCKET, strerror(-r));
		goto fail;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (d->signal_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = io_uring_queue_init_params(2 * d->n_conns + 64, &d->ring, &p);
	if (r) {
		log_err("start_failed", "io_uring error=\"%s\"", strerror(-r));
		goto fail;
	}
	d->ring_ready = true;
	{
		/* the doorbells are futex waits in the ring (Linux 6.7+): without them the loop
		 * would spin on failed waits, so refuse to start instead */
		struct io_uring_probe *probe = io_uring_get_probe_ring(&d->ring);
		bool ok = probe && io_uring_opcode_supported(probe, IORING_OP_FUTEX_WAIT);

		io_uring_free_probe(probe);
		if (!ok) {
			log_err("start_failed", "reason=\"the kernel lacks IORING_OP_FUTEX_WAIT (needs Linux 6.7 or later)\"");
			r = -EOPNOTSUPP;
			goto fail;
		}
	}
	{
		struct vf_config_opts vo = { .mode = (enum vf_config_mode)opts->vf_config_mode,
					     .timeout_ms = opts->vf_config_timeout_ms, .nl_fd = -1 };

		r = vf_config_new(&d->ring, &d->engine, &vo, &d->vfc);
		if (r) {
			log_err("start_failed", "vf_config error=\"%s\"", strerror(-r));
			goto fail;
		}
	}
	r = pid_watch_start(&d->engine, d->durable, &d->ring, &d->pid_watch);
	if (r)
		goto fail;
	r = lease_sweep_start(d, &d->sweep);
	if (r)
		goto fail;
	r = heartbeat_start(&d->ring, d->seg->hdr, &d->stop, &d->heartbeat);
	if (r)
		goto fail;
	*ret_daemon = d;
	return 0;
fail:
	daemon_free(d);
	return r;
}

void daemon_free(struct daemon *d)
{
	if (!d)
		return;
	if (d->ring_ready)
		io_uring_queue_exit(&d->ring); /* cancels everything still in flight */
	probe_source_free(d->probe); /* after the ring: its requests pointed into it */
	pid_watch_free(d->pid_watch);
	lease_sweep_free(d->sweep);
	heartbeat_free(d->heartbeat);
	numvfs_cmd_free_all(d);
	host_watch_free(d->host_watch);
	for (uint32_t i = 0; d->conns && i < d->n_conns; i++) {
		struct conn *c = &d->conns[i];

		if (c->state == CONN_FREE)
			continue;
		client_ring_destroy(&c->ring);
		close(c->fd);
		free(c->in);
	}
	vf_config_free(d->vfc); /* posts nothing: the connections go with it */
	/* replies still in flight when the ring went: their completions never come */
	while (d->sends) {
		struct send_op *next = d->sends->next;

		free(d->sends);
		d->sends = next;
	}
	free(d->conns);
	free(d->live);
	lease_durable_free(d->durable);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		control_unlink(d->run_dir_fd);
	}
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	if (d->run_dir_fd >= 0)
		close(d->run_dir_fd);
	policy_daemon_stop(d);
	engine_fini(&d->engine);
	state_seg_destroy(d->seg);
	host_free(d->host);
	free(d);
}
