/* SPDX-License-Identifier: MIT */
/*
 * The loop: io_uring carries the control socket (multishot accept, recv), each client's
 * doorbell (IORING_OP_FUTEX_WAIT on the client's sq_bell) and the signalfd. Client rings
 * are polled directly from user space while there is work, for spin_us after the last
 * work, then the loop announces it sleeps (sq_wakeup) and blocks in io_uring_enter until a
 * doorbell, a connection or a signal arrives.
 */
#include <errno.h>
#include <linux/futex.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/client_ring.h"
#include "core/control_socket.h"
#include "core/daemon.h"
#include "core/engine.h"
#include "core/log.h"
#include "core/state_segment.h"
#include "shm/seqlock.h"

/* liburing 2.3 predates the futex opcodes (kernel 6.7); the SQE layout is the kernel's:
 * fd = futex2 flags, addr = futex address, addr2 = expected value, addr3 = mask. */
#ifndef IORING_OP_FUTEX_WAIT
#define IORING_OP_FUTEX_WAIT 51
#endif
#define FUTEX2_SIZE_U32_FLAG 0x02 /* shared (not FUTEX2_PRIVATE): the word is in a memfd */

#define SERVE_BATCH 64

enum ud_kind { UD_ACCEPT = 1, UD_RECV, UD_FUTEX, UD_SIGNAL, UD_CANCEL };

enum conn_state { CONN_FREE = 0, CONN_HELLO, CONN_ACTIVE, CONN_CLOSING };

struct conn {
	enum conn_state state;
	uint32_t gen; /* bumped on reuse: completions for an old connection are ignored */
	uint32_t id;
	int fd;
	struct ucred cred;
	struct vfpool_ctl_hello hello;
	size_t hello_len;
	uint8_t scratch[64];
	struct client_ring ring;
	bool recv_pending;
	bool futex_pending;
};

struct daemon {
	struct daemon_opts opts;
	struct host *host;
	struct state_seg *seg;
	struct engine engine;
	struct io_uring ring;
	int listen_fd;
	int signal_fd;
	struct signalfd_siginfo siginfo;
	struct conn *conns;
	uint32_t n_conns;     /* capacity */
	uint32_t n_active;
	uint32_t next_client_id;
	bool stop;
	bool accept_armed;
	bool ring_ready;
};

static uint64_t ud_make(enum ud_kind kind, uint32_t idx, uint32_t gen)
{
	return ((uint64_t)kind << 56) | ((uint64_t)(idx & 0xffffff) << 32) | gen;
}
static enum ud_kind ud_kind(uint64_t ud) { return (enum ud_kind)(ud >> 56); }
static uint32_t ud_idx(uint64_t ud) { return (uint32_t)(ud >> 32) & 0xffffff; }
static uint32_t ud_gen(uint64_t ud) { return (uint32_t)ud; }

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct io_uring_sqe *get_sqe(struct daemon *d)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&d->ring);

	if (!sqe) {
		io_uring_submit(&d->ring);
		sqe = io_uring_get_sqe(&d->ring);
	}
	return sqe; /* never NULL right after a submit: the SQ ring was just emptied */
}

static void arm_accept(struct daemon *d)
{
	struct io_uring_sqe *sqe = get_sqe(d);

	io_uring_prep_multishot_accept(sqe, d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, ud_make(UD_ACCEPT, 0, 0));
	d->accept_armed = true;
}

static void arm_signal(struct daemon *d)
{
	struct io_uring_sqe *sqe = get_sqe(d);

	io_uring_prep_read(sqe, d->signal_fd, &d->siginfo, sizeof(d->siginfo), 0);
	io_uring_sqe_set_data64(sqe, ud_make(UD_SIGNAL, 0, 0));
}

static void arm_recv(struct daemon *d, struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(d);
	uint32_t idx = (uint32_t)(c - d->conns);

	if (c->state == CONN_HELLO)
		io_uring_prep_recv(sqe, c->fd, (uint8_t *)&c->hello + c->hello_len,
				   sizeof(c->hello) - c->hello_len, 0);
	else
		io_uring_prep_recv(sqe, c->fd, c->scratch, sizeof(c->scratch), 0);
	io_uring_sqe_set_data64(sqe, ud_make(UD_RECV, idx, c->gen));
	c->recv_pending = true;
}

static void arm_futex(struct daemon *d, struct conn *c, uint32_t expected)
{
	struct io_uring_sqe *sqe = get_sqe(d);
	uint32_t idx = (uint32_t)(c - d->conns);

	io_uring_prep_rw(IORING_OP_FUTEX_WAIT, sqe, FUTEX2_SIZE_U32_FLAG,
			 (const void *)&c->ring.hdr->sq_bell.v, 0, expected);
	sqe->addr3 = FUTEX_BITSET_MATCH_ANY;
	io_uring_sqe_set_data64(sqe, ud_make(UD_FUTEX, idx, c->gen));
	c->futex_pending = true;
}

static void conn_free_if_idle(struct daemon *d, struct conn *c)
{
	if (c->state != CONN_CLOSING || c->recv_pending || c->futex_pending)
		return;
	/* no io_uring request references the ring or the socket any more */
	client_ring_destroy(&c->ring);
	close(c->fd);
	c->state = CONN_FREE;
	c->gen++;
	d->n_active--;
}

static void conn_close(struct daemon *d, struct conn *c, const char *why)
{
	uint32_t idx = (uint32_t)(c - d->conns);

	if (c->state == CONN_CLOSING || c->state == CONN_FREE)
		return;
	log_info("client_disconnected", "client=%u pid=%d uid=%u reason=\"%s\"", c->id,
		 (int)c->cred.pid, (unsigned)c->cred.uid, why);
	c->state = CONN_CLOSING;
	/* the pending recv returns once the socket is shut down; the futex wait needs a cancel */
	shutdown(c->fd, SHUT_RDWR);
	if (c->futex_pending) {
		struct io_uring_sqe *sqe = get_sqe(d);

		io_uring_prep_cancel64(sqe, ud_make(UD_FUTEX, idx, c->gen), 0);
		io_uring_sqe_set_data64(sqe, ud_make(UD_CANCEL, idx, c->gen));
	}
	conn_free_if_idle(d, c);
}

static void on_accept(struct daemon *d, struct io_uring_cqe *cqe)
{
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
	memset(&c->cred, 0, sizeof(c->cred));
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len);
	c->state = CONN_HELLO;
	c->fd = fd;
	c->id = ++d->next_client_id;
	c->hello_len = 0;
	c->ring.fd = -1;
	c->ring.hdr = NULL;
	d->n_active++;
	arm_recv(d, c);
}

static void finish_handshake(struct daemon *d, struct conn *c)
{
	const char *why = NULL;
	int r = control_check_hello(&c->hello, &why);

	if (r) {
		control_send_welcome(c->fd, r, 0, 0, 0, -1, -1, why);
		conn_close(d, c, why);
		return;
	}
	r = client_ring_create(c->id, c->hello.sq_entries, c->hello.cq_entries, &c->ring);
	if (r) {
		control_send_welcome(c->fd, r, 0, 0, 0, -1, -1, "cannot create ring segment");
		conn_close(d, c, strerror(-r));
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
	c->state = CONN_ACTIVE;
	log_info("client_connected", "client=%u pid=%d uid=%u gid=%u sq=%u cq=%u", c->id,
		 (int)c->cred.pid, (unsigned)c->cred.uid, (unsigned)c->cred.gid,
		 c->hello.sq_entries, c->hello.cq_entries);
	arm_recv(d, c);
	arm_futex(d, c, atomic_load_explicit(&c->ring.hdr->sq_bell.v, memory_order_relaxed));
}

static void on_recv(struct daemon *d, struct conn *c, int res)
{
	c->recv_pending = false;
	if (c->state == CONN_CLOSING) {
		conn_free_if_idle(d, c);
		return;
	}
	if (res <= 0) {
		conn_close(d, c, res == 0 ? "connection closed" : strerror(-res));
		return;
	}
	if (c->state == CONN_HELLO) {
		c->hello_len += (size_t)res;
		if (c->hello_len < sizeof(c->hello)) {
			arm_recv(d, c);
			return;
		}
		finish_handshake(d, c);
		return;
	}
	conn_close(d, c, "unexpected bytes after the handshake");
}

static void on_futex(struct daemon *d, struct conn *c, int res)
{
	c->futex_pending = false;
	if (c->state != CONN_ACTIVE) {
		conn_free_if_idle(d, c);
		return;
	}
	/* woken (0) or the bell moved before we slept (-EAGAIN): either way, wait again; the
	 * ring itself is polled by the loop */
	(void)res;
	arm_futex(d, c, atomic_load_explicit(&c->ring.hdr->sq_bell.v, memory_order_acquire));
}

static unsigned reap_completions(struct daemon *d)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;

	while (io_uring_peek_cqe(&d->ring, &cqe) == 0) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		uint32_t idx = ud_idx(ud);
		struct conn *c = idx < d->n_conns ? &d->conns[idx] : NULL;

		switch (ud_kind(ud)) {
		case UD_ACCEPT:
			on_accept(d, cqe);
			break;
		case UD_SIGNAL:
			if (cqe->res == (int)sizeof(d->siginfo)) {
				log_info("shutdown", "signal=%s", strsignal((int)d->siginfo.ssi_signo));
				d->stop = true;
			} else {
				arm_signal(d);
			}
			break;
		case UD_RECV:
			if (c && c->gen == ud_gen(ud))
				on_recv(d, c, cqe->res);
			break;
		case UD_FUTEX:
			if (c && c->gen == ud_gen(ud))
				on_futex(d, c, cqe->res);
			break;
		default:
			break; /* cancels: their target's own completion does the work */
		}
		io_uring_cqe_seen(&d->ring, cqe);
		n++;
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

static unsigned serve_clients(struct daemon *d)
{
	unsigned total = 0;

	for (uint32_t i = 0; i < d->n_conns; i++) {
		struct conn *c = &d->conns[i];
		int n;

		if (c->state != CONN_ACTIVE)
			continue;
		n = client_ring_serve(&c->ring, &d->engine, SERVE_BATCH);
		if (n < 0) {
			conn_close(d, c, "ring indices out of range");
			continue;
		}
		if (n > 0 && client_ring_client_sleeps(&c->ring))
			wake_client(c);
		total += (unsigned)n;
	}
	return total;
}

/* Announces sleep to every client; false if one has work (then nobody sleeps). */
static bool prepare_sleep(struct daemon *d)
{
	for (uint32_t i = 0; i < d->n_conns; i++) {
		struct conn *c = &d->conns[i];

		if (c->state != CONN_ACTIVE)
			continue;
		if (client_ring_prepare_sleep(&c->ring) < 0)
			return false;
		if (!c->futex_pending)
			arm_futex(d, c, atomic_load_explicit(&c->ring.hdr->sq_bell.v,
							     memory_order_acquire));
	}
	return true;
}

static void awake(struct daemon *d)
{
	for (uint32_t i = 0; i < d->n_conns; i++)
		if (d->conns[i].state == CONN_ACTIVE)
			client_ring_awake(&d->conns[i].ring);
}

int daemon_run(struct daemon *d)
{
	uint64_t spin_ns = (uint64_t)d->opts.spin_us * 1000u, idle_since = 0;

	arm_accept(d);
	arm_signal(d);
	log_info("ready", "run_dir=%s pfs=%zu vfs=%zu spin_us=%u max_clients=%u",
		 d->opts.run_dir, d->host->n_pfs, d->host->n_vfs, d->opts.spin_us, d->n_conns);
	while (!d->stop) {
		unsigned did = reap_completions(d) + serve_clients(d);

		if (io_uring_sq_ready(&d->ring))
			io_uring_submit(&d->ring);
		if (did) {
			idle_since = 0;
			continue;
		}
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
		idle_since = 0;
	}
	return 0;
}

int daemon_new(const struct daemon_opts *opts, struct host *host, struct daemon **ret_daemon)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct io_uring_params p = { 0 };
	sigset_t mask;
	int r;

	if (!d)
		return -ENOMEM;
	d->opts = *opts;
	d->host = host;
	d->listen_fd = -1;
	d->signal_fd = -1;
	d->n_conns = opts->max_clients ? opts->max_clients : 256;
	d->conns = calloc(d->n_conns, sizeof(*d->conns));
	if (!d->conns) {
		r = -ENOMEM;
		goto fail;
	}
	if (mkdir(opts->run_dir, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		log_err("start_failed", "run_dir=%s error=\"%s\"", opts->run_dir, strerror(errno));
		goto fail;
	}
	r = state_seg_create(opts->run_dir, host, &d->seg);
	if (r) {
		log_err("start_failed", "state=%s/state error=\"%s\"", opts->run_dir, strerror(-r));
		goto fail;
	}
	r = engine_init(&d->engine, d->seg->hdr);
	if (r)
		goto fail;
	r = control_listen(opts->run_dir, opts->socket_gid, &d->listen_fd);
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
	for (uint32_t i = 0; d->conns && i < d->n_conns; i++) {
		struct conn *c = &d->conns[i];

		if (c->state == CONN_FREE)
			continue;
		client_ring_destroy(&c->ring);
		close(c->fd);
	}
	free(d->conns);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		control_unlink(d->opts.run_dir);
	}
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	engine_fini(&d->engine);
	state_seg_destroy(d->seg);
	host_free(d->host);
	free(d);
}
