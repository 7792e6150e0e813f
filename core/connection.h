/* SPDX-License-Identifier: MIT */
/*
 * The control socket's connections, on the loop's io_uring: the multishot accept (peer
 * credentials, the admin check), the hello and its deadline, the welcome that hands the
 * client its ring and the state segment, command frames (handed to a callback, answered
 * through the request's reply sink), the send queue, close; and each client ring's
 * doorbell, an IORING_OP_FUTEX_WAIT on its sq_bell, rested after a storm.
 *
 * The loop calls connections_serve while it is awake (it serves every live client's ring),
 * connections_prepare_sleep before it blocks (every client is told the daemon sleeps and
 * gets its doorbell armed) and connections_awake after. Loop thread only.
 */
#ifndef VFPOOL_CORE_CONNECTION_H
#define VFPOOL_CORE_CONNECTION_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/ctl_command.h"
#include "core/loop.h"

struct engine;
struct state_seg;

struct connections_opts {
	struct io_uring *ring;
	struct engine *engine;        /* serves the client rings */
	const struct state_seg *seg;  /* its read-only fd goes to every client in the welcome */
	int listen_fd;                /* the control socket (core/control_socket.h); not owned */
	const char *run_dir;          /* where the socket is, for messages */
	uint32_t max_clients;         /* connections at once, handshaking ones included; >= 1 */
	uint32_t max_clients_per_uid; /* root exempt; 0: a quarter of max_clients */
	int reserved_clients;         /* the last slots, for root and the admin group; -1: default */
	unsigned handshake_timeout_ms; /* a connection must say hello by then; 0: 2000 */
	/* bytes all client rings may take together (vfpoold --ring-memory): a hello asking
	 * for rings past it is refused, naming the flag; 0: CONNECTIONS_RING_MEMORY_DEFAULT */
	uint64_t ring_memory_max;
	gid_t admin_gid;              /* may change configuration; (gid_t)-1: root only */
	const bool *stop;             /* the loop's flag: once set, accept is not re-armed */
	/* A complete command frame. payload[0..len) is the peer's and lives until the call
	 * returns. The reply goes to peer->sink, at once or later; the connection reads no
	 * further command until it is sent. 0, or a negative errno: nothing will answer, the
	 * connection is closed. */
	int (*command)(void *ctx, const struct ctl_peer *peer, uint32_t seq, const char *payload,
		       uint32_t len);
	void *command_ctx;
};

struct connections;

/* 64 MiB: the default 256 clients on default rings (256 entries each way, 132 KiB) take
 * 33 MiB; 32 clients may ask for the largest rings (4096 entries, 2 MiB each). */
#define CONNECTIONS_RING_MEMORY_DEFAULT (UINT64_C(64) << 20)

/* The doorbells are futex waits in the ring: false when its kernel lacks
 * IORING_OP_FUTEX_WAIT (Linux 6.7). */
bool connections_ring_supported(struct io_uring *ring);

int connections_new(const struct connections_opts *opts, struct connections **ret_conns);
/* Starts accepting. */
void connections_start(struct connections *cs);
/* Re-arms the accept if its multishot ended, then serves every live client's ring (a
 * bounded batch each). Returns the requests served. */
unsigned connections_serve(struct connections *cs);
/* Tells every live client the daemon is about to sleep and arms each doorbell; false when
 * one has work (then the caller must not sleep, and calls connections_awake). */
bool connections_prepare_sleep(struct connections *cs);
/* The loop is awake again (it returned from its wait, or did not sleep). */
void connections_awake(struct connections *cs);
/* A doorbell is no work by itself: the requests it announces count once served. */
bool connections_op_is_doorbell(const struct loop_op *op);
/* Connections that completed the handshake (clients served now). */
uint32_t connections_count(const struct connections *cs);
/* Only after the ring is gone (io_uring_queue_exit): its requests point into the table. */
void connections_free(struct connections *cs);

#endif
