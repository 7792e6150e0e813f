/* SPDX-License-Identifier: MIT */
/* The daemon's state, for the parts of core/ that plug into its loop (control commands,
 * host monitor, event probe, ...). Only the loop thread touches any of it. */
#ifndef VFPOOL_CORE_DAEMON_INTERNAL_H
#define VFPOOL_CORE_DAEMON_INTERNAL_H

#include <liburing.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "core/model/client_ring.h"
#include "core/daemon.h"
#include "core/model/engine.h"
#include "core/loop.h"
#include "core/probe/probe_source.h"
#include "core/model/policy.h"
#include "core/model/state_segment.h"
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
	/* after a doorbell storm (client_ring_bell_rang) the doorbell rests: no futex wait
	 * until this timer fires */
	struct loop_op bell_rest_op, bell_rest_cancel_op;
	struct __kernel_timespec bell_rest_ts;
	bool bell_resting;
	unsigned bell_storms;
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
	struct policy policy; /* core/policy/policy_cmd.h */
	struct io_uring ring;
	bool ring_ready;
	int listen_fd;
	int run_dir_fd;  /* the verified run dir (core/safe_dir.h); its files are opened at it */
	int lock_fd;     /* <run-dir>/vfpoold.lock, held for the daemon's life */
	/* the resolved, verified paths opts.run_dir and opts.state_dir point at */
	char run_dir_real[4096];
	char state_dir_real[4096];
	int signal_fd;
	struct signalfd_siginfo siginfo;
	struct loop_op accept_op, signal_op;
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
	struct probe_source *probe; /* NULL with --probe=off */
	struct vf_config *vfc;
	struct lease_durable *durable; /* the lease journal (core/lease/lease_durable.h) */
	int failed;      /* nonzero: stopped because leases can no longer be made durable */
	bool stop;
	struct host_watch *host_watch;   /* NULL for a simulated host (core/host/host_watch.h) */
	struct numvfs_run *numvfs_runs;  /* numvfs changes in progress (core/numvfs/numvfs_cmd.h) */
	struct pid_watch *pid_watch;     /* process-bound leases (core/lease/pid_watch.h) */
	struct lease_sweep *sweep;       /* periodic lease sweep (core/lease/lease_sweep.h) */
	struct heartbeat *heartbeat;     /* the state segment's heartbeat (core/heartbeat.h) */
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
