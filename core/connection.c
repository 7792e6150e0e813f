/* SPDX-License-Identifier: MIT */
/*
 * Connections: the control socket's accept, handshake and command frames, and each
 * client's doorbell. A connection's slot is reused only once nothing references it: no
 * io_uring request in flight (recv, doorbell wait, sends, timers) and no completion the
 * engine kept for it (conn_free_if_idle).
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/base/container_of.h"
#include "core/conn_admit.h"
#include "core/conn_summary.h"
#include "core/connection.h"
#include "core/control_socket.h"
#include "core/log.h"
#include "core/model/client_ring.h"
#include "core/model/state_segment.h"

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


enum conn_state { CONN_FREE = 0, CONN_HELLO, CONN_ACTIVE, CONN_CLOSING };

struct connections;

struct conn {
	struct connections *cs;
	enum conn_state state;
	uint32_t gen; /* bumped on reuse: replies for an old connection are dropped */
	uint32_t id;
	int fd;
	struct ucred cred;
	bool admin;
	/* inbound bytes: the hello, then command frames */
	uint8_t *in;
	uint32_t in_len, in_cap;
	bool cmd_pending; /* one command at a time; recv resumes after its reply */
	struct client_ring ring;
	struct completion_sink sink; /* deferred completions of this connection's requests */
	struct ctl_reply_sink reply_sink; /* replies to this connection's commands */
	struct loop_op recv_op, futex_op, cancel_op;
	struct loop_op hello_timer_op, hello_cancel_op;
	struct __kernel_timespec hello_ts;
	bool recv_pending, futex_pending, hello_timer_pending;
	/* after a doorbell storm (client_ring_bell_rang) the doorbell rests: no futex wait
	 * until this timer fires */
	struct loop_op bell_rest_op, bell_rest_cancel_op;
	struct __kernel_timespec bell_rest_ts;
	bool bell_resting;
	unsigned bell_storms;
	unsigned sends_pending;
	uint32_t live_idx; /* position in connections.live while ACTIVE */
};

struct send_op;

struct connections {
	struct connections_opts opts;
	struct loop_op accept_op;
	bool accept_armed;
	struct conn *conns;
	uint32_t n_conns; /* capacity */
	uint32_t n_active;
	/* connections past the handshake, densely packed: the polling loop walks only these */
	struct conn **live;
	uint32_t n_live;
	struct send_op *sends; /* replies in flight */
	uint32_t next_client_id;
	gid_t admin_gid; /* (gid_t)-1: root only */
	struct conn_admit admit; /* who may take a slot (core/conn_admit.h); used == n_active */
	/* which rings have work (core/conn_summary.h): bit i is conns[i]'s ring */
	struct conn_summary summary;
	uint64_t ring_bytes, ring_bytes_max; /* all live rings' segments; --ring-memory */
};

static void on_accept(struct loop_op *op, const struct io_uring_cqe *cqe);
static void on_recv(struct loop_op *op, const struct io_uring_cqe *cqe);
static void on_futex(struct loop_op *op, const struct io_uring_cqe *cqe);
static void on_bell_rest(struct loop_op *op, const struct io_uring_cqe *cqe);
static void rest_bell(struct connections *cs, struct conn *c);
static void on_cancel(struct loop_op *op, const struct io_uring_cqe *cqe);
static void conn_post(struct completion_sink *sink, const struct vfpool_cqe *cqe);
static void conn_reply(struct ctl_reply_sink *sink, const struct ctl_request *req, int status,
		       const char *text);
static void conn_close(struct connections *cs, struct conn *c, const char *why);
static int conn_send_reply(struct connections *cs, struct conn *c, const void *buf, size_t len);
static void conn_resume(struct connections *cs, struct conn *c);

static void arm_accept(struct connections *cs)
{
	struct io_uring_sqe *sqe = loop_sqe(cs->opts.ring, &cs->accept_op);

	io_uring_prep_multishot_accept(sqe, cs->opts.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data(sqe, &cs->accept_op);
	cs->accept_armed = true;
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
static void arm_recv(struct connections *cs, struct conn *c)
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
		conn_close(cs, c, "out of memory");
		return;
	}
	sqe = loop_sqe(cs->opts.ring, &c->recv_op);
	io_uring_prep_recv(sqe, c->fd, c->in + c->in_len, want, 0);
	io_uring_sqe_set_data(sqe, &c->recv_op);
	c->recv_pending = true;
}

static void arm_futex(struct connections *cs, struct conn *c, uint32_t expected)
{
	struct io_uring_sqe *sqe = loop_sqe(cs->opts.ring, &c->futex_op);

	io_uring_prep_rw(IORING_OP_FUTEX_WAIT, sqe, FUTEX2_SIZE_U32_FLAG,
			 (const void *)&c->ring.hdr->sq_bell.v, 0, expected);
	sqe->addr3 = FUTEX_BITSET_MATCH_ANY;
	io_uring_sqe_set_data(sqe, &c->futex_op);
	c->futex_pending = true;
	client_ring_bell_armed(&c->ring);
}

static void conn_free_if_idle(struct connections *cs, struct conn *c)
{
	if (c->state != CONN_CLOSING || c->recv_pending || c->futex_pending || c->sends_pending ||
	    c->ring.deferred > 0 || c->hello_timer_pending || c->bell_resting)
		return;
	/* no io_uring request references the ring, the socket or the buffers any more */
	if (c->ring.hdr)
		cs->ring_bytes -= c->ring.size;
	client_ring_destroy(&c->ring);
	close(c->fd);
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	c->state = CONN_FREE;
	c->gen++;
	cs->n_active--;
	conn_admit_put(&cs->admit, c->cred.uid);
}

static void live_add(struct connections *cs, struct conn *c)
{
	c->live_idx = cs->n_live;
	cs->live[cs->n_live++] = c;
}

static void live_remove(struct connections *cs, struct conn *c)
{
	struct conn *last = cs->live[--cs->n_live];

	cs->live[c->live_idx] = last;
	last->live_idx = c->live_idx;
}

/* The hello arrived, or the connection ends: the deadline no longer applies. */
static void cancel_hello_timer(struct connections *cs, struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (!c->hello_timer_pending)
		return;
	sqe = loop_sqe(cs->opts.ring, &c->hello_cancel_op);
	io_uring_prep_timeout_remove(sqe, (uint64_t)(uintptr_t)&c->hello_timer_op, 0);
	io_uring_sqe_set_data(sqe, &c->hello_cancel_op);
}

static void on_hello_timer(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct conn *c = container_of(op, struct conn, hello_timer_op);

	c->hello_timer_pending = false;
	/* -ETIME: the deadline passed; -ECANCELED: the hello came, or the connection went */
	if (cqe->res == -ETIME && c->state == CONN_HELLO)
		conn_close(c->cs, c, "no hello before the handshake deadline");
	else
		conn_free_if_idle(c->cs, c);
}

/* Closes a connection (logs why once); its memory is reclaimed when no request is left. */
static void conn_close(struct connections *cs, struct conn *c, const char *why)
{
	if (c->state == CONN_CLOSING || c->state == CONN_FREE)
		return;
	if (c->state == CONN_ACTIVE)
		live_remove(cs, c);
	log_info("client_disconnected", "client=%u pid=%d uid=%u reason=\"%s\"", c->id,
		 (int)c->cred.pid, (unsigned)c->cred.uid, why);
	c->state = CONN_CLOSING;
	cancel_hello_timer(cs, c);
	/* the pending recv returns once the socket is shut down; the futex wait needs a cancel */
	shutdown(c->fd, SHUT_RDWR);
	if (c->futex_pending) {
		struct io_uring_sqe *sqe = loop_sqe(cs->opts.ring, &c->cancel_op);

		io_uring_prep_cancel(sqe, &c->futex_op, 0);
		io_uring_sqe_set_data(sqe, &c->cancel_op);
	}
	if (c->bell_resting) {
		struct io_uring_sqe *sqe = loop_sqe(cs->opts.ring, &c->bell_rest_cancel_op);

		io_uring_prep_timeout_remove(sqe, (uint64_t)(uintptr_t)&c->bell_rest_op, 0);
		io_uring_sqe_set_data(sqe, &c->bell_rest_cancel_op);
	}
	conn_free_if_idle(cs, c);
}

struct send_op {
	struct loop_op op;
	struct send_op *prev, *next; /* connections.sends: freed at shutdown if still in flight */
	struct conn *c;
	size_t len;
	bool resume; /* a command's reply: read the next command once it is out */
	uint8_t buf[];
};

static void send_unlink(struct connections *cs, struct send_op *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		cs->sends = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

static void on_send(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct send_op *s = container_of(op, struct send_op, op);
	struct conn *c = s->c;

	c->sends_pending--;
	send_unlink(c->cs, s);
	if (cqe->res < 0 || (size_t)cqe->res != s->len)
		conn_close(c->cs, c, "reply not delivered");
	else if (s->resume)
		conn_resume(c->cs, c); /* one command at a time, its reply fully out first */
	free(s);
	conn_free_if_idle(c->cs, c);
}

static int send_op_queue(struct connections *cs, struct conn *c, const void *buf, size_t len,
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
	s->next = cs->sends;
	if (cs->sends)
		cs->sends->prev = s;
	cs->sends = s;
	memcpy(s->buf, buf, len);
	sqe = loop_sqe(cs->opts.ring, &s->op);
	/* MSG_WAITALL: a stream socket may take a large reply in pieces */
	io_uring_prep_send(sqe, c->fd, s->buf, len, MSG_NOSIGNAL | MSG_WAITALL);
	io_uring_sqe_set_data(sqe, &s->op);
	c->sends_pending++;
	return 0;
}

/* Queues a command's reply; reading resumes once it is fully sent (backpressure: a
 * client that never reads replies gets no more commands read, and costs one buffer). */
static int conn_send_reply(struct connections *cs, struct conn *c, const void *buf, size_t len)
{
	return send_op_queue(cs, c, buf, len, true);
}

/* Resumes reading a connection after a command's reply. */
static void conn_resume(struct connections *cs, struct conn *c)
{
	c->cmd_pending = false;
	c->in_len = 0;
	if (c->state == CONN_ACTIVE && !c->recv_pending)
		arm_recv(cs, c);
}

/* A command's answer, framed. Dropped when the asker is gone (the connection closed, or
 * its slot now serves another client): the command's effect stands. */
static void conn_reply(struct ctl_reply_sink *sink, const struct ctl_request *req, int status,
		       const char *text)
{
	struct conn *c = container_of(sink, struct conn, reply_sink);
	size_t tlen = strlen(text) + 1;
	struct vfpool_ctl_frame f = { .magic = VFPOOL_CTL_MAGIC, .version = VFPOOL_CTL_VERSION,
				      .type = VFPOOL_CTL_REPLY, .seq = req->seq, .status = status };
	uint8_t *buf;

	if (c->gen != req->sink_gen || c->state != CONN_ACTIVE)
		return;
	if (tlen > VFPOOL_CTL_MAX_REPLY) {
		text = "reply too large";
		tlen = strlen(text) + 1;
		f.status = -E2BIG;
	}
	f.len = (uint32_t)tlen;
	buf = malloc(sizeof(f) + tlen);
	if (!buf) {
		conn_close(c->cs, c, "out of memory for a reply");
		return;
	}
	memcpy(buf, &f, sizeof(f));
	memcpy(buf + sizeof(f), text, tlen);
	if (conn_send_reply(c->cs, c, buf, sizeof(f) + tlen) < 0)
		conn_close(c->cs, c, "reply not queued");
	free(buf);
}

static bool peer_is_admin(const struct connections *cs, int fd, const struct ucred *cred)
{
	gid_t local[64], *groups = local;
	socklen_t len = sizeof(local);
	bool found = false;

	if (cred->uid == 0)
		return true;
	if (cs->admin_gid == (gid_t)-1)
		return false;
	if (cred->gid == cs->admin_gid)
		return true;
	/* the peer's supplementary groups as they were at connect(); a member of many groups
	 * (up to NGROUPS_MAX) is asked again with room for all of them */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE || !(groups = malloc(len)) ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = groups[i] == cs->admin_gid;
	if (groups != local)
		free(groups);
	return found;
}

/* Refused before it holds anything: the peer reads why in the welcome, the log says it once
 * per run of refusals (a peer retrying in a loop is one line). */
static void refuse_peer(struct connections *cs, int fd, const struct ucred *cred,
			const char *why, enum conn_admit_verdict v, bool log)
{
	control_send_welcome(fd, -EUSERS, 0, 0, 0, -1, -1, -1, why);
	if (log)
		log_warn("client_refused",
			 "pid=%d uid=%u reason=\"%s\" refused_so_far=%llu (more refusals for "
			 "the same reason are not logged until a slot frees up)",
			 (int)cred->pid, (unsigned)cred->uid, why,
			 (unsigned long long)cs->admit.refused[v]);
	close(fd);
}

static void on_accept(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct connections *cs = container_of(op, struct connections, accept_op);
	struct conn *c = NULL;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	enum conn_admit_verdict v;
	char why[sizeof(((struct vfpool_ctl_welcome *)0)->message)];
	bool admin, log;
	int fd = cqe->res;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		cs->accept_armed = false;
	if (fd < 0) {
		if (fd != -ECANCELED)
			log_warn("accept_failed", "socket=%s/%s error=\"%s\"", cs->opts.run_dir,
				 VFPOOL_CTL_SOCKET, strerror(-fd));
		return;
	}
	/* no credentials, no service: a zeroed ucred would read as root */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred)) {
		log_warn("client_refused", "reason=\"no peer credentials: %s\"", strerror(errno));
		close(fd);
		return;
	}
	/* who the peer is decides which slots it may take (root and the admin group keep a
	 * few for themselves) and how many (a cap per uid) */
	admin = peer_is_admin(cs, fd, &cred);
	v = conn_admit_take(&cs->admit, cred.uid, admin, why, sizeof(why), &log);
	if (v != CONN_ADMIT_OK) {
		refuse_peer(cs, fd, &cred, why, v, log);
		return;
	}
	for (uint32_t i = 0; i < cs->n_conns; i++) {
		if (cs->conns[i].state == CONN_FREE) {
			c = &cs->conns[i];
			break;
		}
	}
	if (!c) { /* cannot be: admission counts exactly the slots in use */
		conn_admit_put(&cs->admit, cred.uid);
		refuse_peer(cs, fd, &cred, "no free client slot", CONN_ADMIT_FULL, true);
		return;
	}
	c->cred = cred;
	c->cs = cs;
	c->state = CONN_HELLO;
	c->fd = fd;
	c->id = ++cs->next_client_id;
	c->admin = admin;
	c->in_len = 0;
	c->cmd_pending = false;
	c->ring.fd = -1;
	c->ring.hdr = NULL;
	c->recv_op.complete = on_recv;
	c->futex_op.complete = on_futex;
	c->cancel_op.complete = on_cancel;
	c->sink.post = conn_post;
	c->reply_sink.reply = conn_reply;
	c->ring.deferred = 0;
	c->hello_timer_op.complete = on_hello_timer;
	c->hello_cancel_op.complete = on_cancel;
	cs->n_active++;
	arm_recv(cs, c);
	/* a slot is held only by a connection that speaks: silent ones are cut off */
	loop_timer(cs->opts.ring, &c->hello_timer_op, &c->hello_ts,
		   cs->opts.handshake_timeout_ms ? cs->opts.handshake_timeout_ms : 2000);
	c->hello_timer_pending = true;
}

static void finish_handshake(struct connections *cs, struct conn *c)
{
	struct vfpool_ctl_hello hello;
	const char *why = NULL;
	int r;

	memcpy(&hello, c->in, sizeof(hello));
	c->in_len = 0;
	cancel_hello_timer(cs, c);
	r = control_check_hello(&hello, &why);
	if (r) {
		control_send_welcome(c->fd, r, 0, 0, 0, -1, -1, -1, why);
		conn_close(cs, c, why);
		return;
	}
	/* the daemon's shared memory is bounded: every ring counts against --ring-memory */
	if (cs->ring_bytes + client_ring_size(hello.sq_entries, hello.cq_entries) >
	    cs->ring_bytes_max) {
		char msg[96];

		snprintf(msg, sizeof(msg), "--ring-memory %llu MiB: %zu more bytes do not fit "
			 "(%llu in use)", (unsigned long long)(cs->ring_bytes_max >> 20),
			 client_ring_size(hello.sq_entries, hello.cq_entries),
			 (unsigned long long)cs->ring_bytes);
		control_send_welcome(c->fd, -ENOSPC, 0, 0, 0, -1, -1, -1, msg);
		conn_close(cs, c, msg);
		return;
	}
	r = client_ring_create(c->id, hello.sq_entries, hello.cq_entries, &c->ring);
	if (r) {
		char msg[128];

		/* -ENOSPC / -ENOMEM: its memory could not be reserved; the client is told why */
		snprintf(msg, sizeof(msg), "cannot create the ring segment (%zu bytes): %s",
			 client_ring_size(hello.sq_entries, hello.cq_entries), strerror(-r));
		control_send_welcome(c->fd, r, 0, 0, 0, -1, -1, -1, msg);
		conn_close(cs, c, msg);
		return;
	}
	/* the ring's bit in the pending summary is its slot's: written before the client can
	 * map the ring (the welcome hands it over) */
	c->ring.hdr->summary_slot = (uint32_t)(c - cs->conns);
	cs->ring_bytes += c->ring.size;
	r = control_send_welcome(c->fd, 0, c->id, c->ring.size, cs->opts.seg->size, c->ring.fd,
				 cs->opts.seg->ro_fd, cs->summary.fd, NULL);
	/* the client has its own descriptor now; the mapping keeps the memory alive for us */
	close(c->ring.fd);
	c->ring.fd = -1;
	if (r) {
		conn_close(cs, c, "welcome not delivered");
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
	live_add(cs, c);
	log_info("client_connected", "client=%u pid=%d uid=%u gid=%u admin=%s sq=%u cq=%u", c->id,
		 (int)c->cred.pid, (unsigned)c->cred.uid, (unsigned)c->cred.gid,
		 c->admin ? "yes" : "no", hello.sq_entries, hello.cq_entries);
	arm_recv(cs, c);
	/* relaxed: the value orders nothing here, it is only the wait's expected value, which
	 * the kernel compares when it queues the wait (a bump since fails the wait at once).
	 * The load the sleep decision rests on is client_ring_prepare_sleep's acquire, paired
	 * with the client's release bump in ring_doorbell (libvfpool). */
	arm_futex(cs, c, atomic_load_explicit(&c->ring.hdr->sq_bell.v, memory_order_relaxed));
}

/* A complete command frame is in c->in. */
static void take_frame(struct connections *cs, struct conn *c)
{
	struct vfpool_ctl_frame f;
	struct ctl_peer peer = { .sink = &c->reply_sink, .sink_gen = c->gen, .client_id = c->id,
				 .cred = c->cred, .admin = c->admin };

	memcpy(&f, c->in, sizeof(f));
	c->cmd_pending = true;
	if (cs->opts.command(cs->opts.command_ctx, &peer, f.seq, (char *)c->in + sizeof(f),
			     f.len) < 0)
		conn_close(cs, c, "out of memory for a command");
}

static void on_recv(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct conn *c = container_of(op, struct conn, recv_op);
	struct connections *cs = c->cs;
	int res = cqe->res;

	c->recv_pending = false;
	if (c->state == CONN_CLOSING) {
		conn_free_if_idle(cs, c);
		return;
	}
	if (res <= 0) {
		conn_close(cs, c, res == 0 ? "connection closed" : strerror(-res));
		return;
	}
	c->in_len += (uint32_t)res;
	if (c->state == CONN_HELLO) {
		if (c->in_len == sizeof(struct vfpool_ctl_hello))
			finish_handshake(cs, c);
		else
			arm_recv(cs, c);
		return;
	}
	if (c->in_len == sizeof(struct vfpool_ctl_frame)) {
		struct vfpool_ctl_frame f;

		memcpy(&f, c->in, sizeof(f));
		if (f.magic != VFPOOL_CTL_MAGIC || f.version != VFPOOL_CTL_VERSION ||
		    f.type != VFPOOL_CTL_COMMAND || f.len > VFPOOL_CTL_MAX_COMMAND ||
		    f.status != 0 || f.reserved != 0) {
			conn_close(cs, c, "malformed command frame");
			return;
		}
		if (f.len == 0) {
			take_frame(cs, c);
			return;
		}
		arm_recv(cs, c);
		return;
	}
	{
		const struct vfpool_ctl_frame *f = (const void *)c->in;

		if (c->in_len == sizeof(*f) + f->len)
			take_frame(cs, c);
		else
			arm_recv(cs, c);
	}
}

static void on_futex(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct conn *c = container_of(op, struct conn, futex_op);
	struct connections *cs = c->cs;

	c->futex_pending = false;
	if (c->state != CONN_ACTIVE) {
		conn_free_if_idle(cs, c);
		return;
	}
	/* woken (0) or the bell moved before we slept (-EAGAIN). Anything else would fail
	 * again at once: a spin */
	if (cqe->res != 0 && cqe->res != -EAGAIN && cqe->res != -EINTR) {
		conn_close(cs, c, "doorbell wait failed");
		return;
	}
	/* the ring is polled while the loop is awake: the wait is armed again only when it
	 * goes to sleep (prepare_sleep), so ringing an awake daemon costs it nothing */
	if (client_ring_bell_rang(&c->ring))
		rest_bell(cs, c);
}

/* A doorbell storm: the client rang again and again without publishing or reaping. Its
 * doorbell rests for BELL_REST_MS (its ring is still served whenever the loop is awake):
 * a storm costs the daemon a few wakes per rest instead of a CPU. */
static void rest_bell(struct connections *cs, struct conn *c)
{
	if (c->bell_resting)
		return;
	/* once per connection: the storm itself must not flood the log */
	if (c->bell_storms++ == 0)
		log_warn("client_doorbell_storm", "client=%u pid=%d uid=%u reason=\"%u doorbells "
			 "without a request or a reap; the doorbell rests %u ms each time\"",
			 c->id, (int)c->cred.pid, (unsigned)c->cred.uid, CLIENT_RING_IDLE_BELLS,
			 BELL_REST_MS);
	c->bell_resting = true;
	loop_timer(cs->opts.ring, &c->bell_rest_op, &c->bell_rest_ts, BELL_REST_MS);
}

static void on_bell_rest(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct conn *c = container_of(op, struct conn, bell_rest_op);

	(void)cqe; /* -ETIME, or -ECANCELED when the connection went */
	c->bell_resting = false;
	conn_free_if_idle(c->cs, c); /* if it is closing; else prepare_sleep arms the wait */
}

static void on_cancel(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	/* the cancelled request's own completion does the bookkeeping */
	(void)op;
	(void)cqe;
}

bool connections_op_is_doorbell(const struct loop_op *op)
{
	return op && op->complete == on_futex;
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
		conn_free_if_idle(c->cs, c);
		return;
	}
	if (client_ring_post_deferred(&c->ring, cqe) < 0) {
		conn_close(c->cs, c, "ring indices out of range");
		return;
	}
	if (client_ring_client_sleeps(&c->ring))
		wake_client(c);
}

/* Serves one live connection's ring (a bounded batch); a ring left with requests it could
 * serve is looked at again next turn. Returns the requests served. */
static unsigned serve_conn(struct connections *cs, struct conn *c)
{
	int n = client_ring_serve(&c->ring, cs->opts.engine, &c->sink, SERVE_BATCH);

	if (n < 0) {
		conn_close(cs, c, c->ring.refused);
		return 0;
	}
	if (n > 0 && client_ring_client_sleeps(&c->ring))
		wake_client(c);
	/* cut at its batch: the client set its bit once for all of them */
	if (n >= SERVE_BATCH && !c->ring.stalled && client_ring_pending(&c->ring) > 0)
		conn_summary_carry(&cs->summary, (uint32_t)(c - cs->conns));
	return (unsigned)n;
}

unsigned connections_serve(struct connections *cs)
{
	unsigned total = 0;

	if (!cs->accept_armed && !*cs->opts.stop)
		arm_accept(cs);
	if (conn_summary_sweep_due(&cs->summary)) {
		/* every ring, whatever the summary says: a bit is only a hint (a peer may clear
		 * others'); backwards, as conn_close swaps the last live connection into a
		 * closed one's place */
		for (uint32_t i = cs->n_live; i-- > 0;)
			total += serve_conn(cs, cs->live[i]);
		return total;
	}
	/* only the rings whose clients posted work, or that the daemon knows have some: a
	 * turn costs a look at n_conns / 64 words, not at every idle client's ring */
	for (uint32_t w = 0; w < cs->summary.n_words; w++) {
		uint64_t bits = conn_summary_take(&cs->summary, w);

		while (bits) {
			uint32_t slot = w * 64 + (uint32_t)__builtin_ctzll(bits);
			struct conn *c;

			bits &= bits - 1;
			/* a bit for a slot without a live ring (wrong, or stale): nothing to do */
			if (slot >= cs->n_conns || cs->conns[slot].state != CONN_ACTIVE)
				continue;
			c = &cs->conns[slot];
			total += serve_conn(cs, c);
		}
	}
	return total;
}

/* Work is what a serve would move on: requests waiting on their own client (an unfinished
 * chain, completions without room) are not, so no client keeps the loop awake with them. */
bool connections_prepare_sleep(struct connections *cs)
{
	for (uint32_t i = 0; i < cs->n_live; i++) {
		struct conn *c = cs->live[i];

		int64_t bell = client_ring_prepare_sleep(&c->ring);

		if (bell < 0) {
			/* served next turn whether or not its client's bit is still set */
			conn_summary_carry(&cs->summary, (uint32_t)(c - cs->conns));
			return false;
		}
		/* the value read before the re-check: a doorbell rung since fails the wait */
		if (!c->futex_pending && !c->bell_resting)
			arm_futex(cs, c, (uint32_t)bell);
	}
	return true;
}

void connections_awake(struct connections *cs)
{
	for (uint32_t i = 0; i < cs->n_live; i++)
		client_ring_awake(&cs->live[i]->ring);
}

bool connections_ring_supported(struct io_uring *ring)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
	bool ok = probe && io_uring_opcode_supported(probe, IORING_OP_FUTEX_WAIT);

	io_uring_free_probe(probe);
	return ok;
}

int connections_new(const struct connections_opts *opts, struct connections **ret_conns)
{
	struct connections *cs = calloc(1, sizeof(*cs));
	int r;

	if (!cs)
		return -ENOMEM;
	cs->summary.fd = -1;
	cs->opts = *opts;
	cs->admin_gid = opts->admin_gid;
	cs->accept_op.complete = on_accept;
	cs->n_conns = opts->max_clients;
	cs->ring_bytes_max = opts->ring_memory_max ? opts->ring_memory_max
						   : CONNECTIONS_RING_MEMORY_DEFAULT;
	cs->conns = calloc(cs->n_conns, sizeof(*cs->conns));
	cs->live = calloc(cs->n_conns, sizeof(*cs->live));
	if (!cs->conns || !cs->live) {
		connections_free(cs);
		return -ENOMEM;
	}
	r = conn_summary_create(cs->n_conns, &cs->summary);
	if (r) {
		connections_free(cs);
		return r;
	}
	r = conn_admit_init(&cs->admit, cs->n_conns,
			    opts->max_clients_per_uid ? opts->max_clients_per_uid
						      : conn_admit_default_per_uid(cs->n_conns),
			    opts->reserved_clients >= 0 ? (uint32_t)opts->reserved_clients
							: conn_admit_default_reserved(cs->n_conns));
	if (r) {
		connections_free(cs);
		return r;
	}
	log_info("client_limits", "max_clients=%u max_clients_per_uid=%u reserved_clients=%u "
		 "ring_memory_mib=%llu", cs->n_conns, cs->admit.per_uid, cs->admit.reserved,
		 (unsigned long long)(cs->ring_bytes_max >> 20));
	*ret_conns = cs;
	return 0;
}

void connections_start(struct connections *cs)
{
	arm_accept(cs);
}

void connections_free(struct connections *cs)
{
	if (!cs)
		return;
	for (uint32_t i = 0; cs->conns && i < cs->n_conns; i++) {
		struct conn *c = &cs->conns[i];

		if (c->state == CONN_FREE)
			continue;
		client_ring_destroy(&c->ring);
		close(c->fd);
		free(c->in);
	}
	/* replies still in flight when the ring went: their completions never come */
	while (cs->sends) {
		struct send_op *next = cs->sends->next;

		free(cs->sends);
		cs->sends = next;
	}
	conn_admit_fini(&cs->admit);
	conn_summary_destroy(&cs->summary);
	free(cs->conns);
	free(cs->live);
	free(cs);
}

uint32_t connections_count(const struct connections *cs)
{
	return cs->n_live;
}
