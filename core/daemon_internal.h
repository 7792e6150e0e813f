/* SPDX-License-Identifier: MIT */
/* The daemon's state, for the parts of core/ that plug into its loop (control commands,
 * host monitor, event probe, ...). Only the loop thread touches any of it. */
#ifndef VFPOOL_CORE_DAEMON_INTERNAL_H
#define VFPOOL_CORE_DAEMON_INTERNAL_H

#include <liburing.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "core/client_ring.h"
#include "core/conn_admit.h"
#include "core/daemon.h"
#include "core/engine.h"
#include "core/loop.h"
#include "core/probe_source.h"
#include "core/policy.h"
#include "core/state_segment.h"
#include "shm/control_proto.h"

enum conn_state { CONN_FREE = 0, CONN_HELLO, CONN_ACTIVE, CONN_CLOSING };

struct conn {
	struct daemon *d;
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
	struct loop_op recv_op, futex_op, cancel_op;
	struct loop_op hello_timer_op, hello_cancel_op;
	struct __kernel_timespec hello_ts;
	bool recv_pending, futex_pending, hello_timer_pending;
	unsigned sends_pending;
	uint32_t live_idx; /* position in daemon.live while ACTIVE */
};

struct send_op;
struct pid_watch;
struct lease_sweep;

struct daemon {
	struct daemon_opts opts;
	struct host *host;
	struct state_seg *seg;
	struct engine engine;
	struct policy policy; /* core/policy_cmd.h */
	struct io_uring ring;
	bool ring_ready;
	int listen_fd;
	int lock_fd;     /* <run-dir>/vfpoold.lock, held for the daemon's life */
	int signal_fd;
	struct signalfd_siginfo siginfo;
	struct loop_op accept_op, signal_op;
	bool accept_armed;
	struct conn *conns;
	uint32_t n_conns; /* capacity */
	uint32_t n_active;
	struct conn_admit admit; /* who may take a slot (core/conn_admit.h); used == n_active */
	/* connections past the handshake, densely packed: the polling loop walks only these */
	struct conn **live;
	uint32_t n_live;
	struct send_op *sends; /* replies in flight */
	uint32_t next_client_id;
	gid_t admin_gid; /* (gid_t)-1: root only */
	struct probe_source *probe; /* NULL with --probe=off */
	struct vf_config *vfc;
	struct lease_durable *durable; /* the lease journal (core/lease_durable.h) */
	int failed;      /* nonzero: stopped because leases can no longer be made durable */
	bool stop;
	struct host_watch *host_watch;   /* NULL for a simulated host (core/host_watch.h) */
	struct numvfs_run *numvfs_runs;  /* numvfs changes in progress (core/numvfs_cmd.h) */
	struct pid_watch *pid_watch;     /* process-bound leases (core/pid_watch.h) */
	struct lease_sweep *sweep;       /* periodic lease sweep (core/lease_sweep.h) */
};

/* Closes a connection (logs why once); its memory is reclaimed when no request is left. */
void conn_close(struct daemon *d, struct conn *c, const char *why);
/* Queues bytes to send on a connection (the buffer is copied). */
int conn_send(struct daemon *d, struct conn *c, const void *buf, size_t len);
/* Queues a command's reply; reading resumes once it is fully sent (backpressure: a
 * client that never reads replies gets no more commands read, and costs one buffer). */
int conn_send_reply(struct daemon *d, struct conn *c, const void *buf, size_t len);
/* Resumes reading a connection after a command's reply. */
void conn_resume(struct daemon *d, struct conn *c);

#endif
